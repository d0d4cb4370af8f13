import { createRuntime } from '../runtime';
import type { Node, NodeDef, Red } from './lib/red';
import type { ConfigNode, ConfigUser, RuntimeState } from './lib/config-types';
import { messageOf } from './lib/messages';

interface ConfigDef extends NodeDef {
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number | string;
  modelsDir?: string;
  frameBudgetMB?: number | string;
  tokenTtl?: number | string;
}

/**
 * The shared config node: owns ONE runtime (session pool, frame store, TTL sweeper) for every
 * node that points at it, warms its models at deploy and closes everything on redeploy/stop.
 */
export = function (RED: Red): void {
  function FacefusionConfig(this: Node, nodeDef: NodeDef): void {
    RED.nodes.createNode(this, nodeDef);
    const def = nodeDef as ConfigDef;
    const node = this as ConfigNode;
    const users = new Set<ConfigUser>();
    node.runtime = createRuntime({
      device: def.device ?? 'auto',
      threads: toNumber(def.threads, 0),
      modelsDir: def.modelsDir || undefined,
      frameBudgetBytes: toNumber(def.frameBudgetMB, 512) * 1024 * 1024,
      tokenTtlMs: toNumber(def.tokenTtl, 300) * 1000,
      logger: (level, message) => (level === 'error' ? node.error(message) : level === 'warn' ? node.warn(message) : node.log(message)),
    });
    const publish = (state: RuntimeState): void => {
      node.state = state;
      for (const user of users) user.showRuntimeState(state);
    };
    node.state = { phase: 'loading' };
    node.register = (user) => {
      users.add(user);
      user.showRuntimeState(node.state);
    };
    node.deregister = (user) => users.delete(user);
    node.ready = node.runtime.warmup().then(
      ({ provider }) => publish({ phase: 'ready', provider }),
      (err: unknown) => {
        const message = messageOf(err);
        node.error(`face models could not be loaded: ${message}`);
        publish({ phase: 'error', message });
        throw err;
      },
    );
    node.ready.catch(() => undefined); // reported above; users see it on their status

    node.on('close', (_removed, done) => {
      publish({ phase: 'closed' });
      users.clear();
      node.runtime.close().then(done, (err: unknown) => {
        node.error(`closing the face runtime: ${messageOf(err)}`);
        done();
      });
    });
  }

  RED.nodes.registerType('facefusion-config', FacefusionConfig);

  RED.httpAdmin.get('/facefusion/models', RED.auth.needsPermission('facefusion.read'), (req, res) => {
    const config = req.query.config ? (RED.nodes.getNode(req.query.config) as ConfigNode | null) : null;
    const { ModelCache } = require('../runtime') as typeof import('../runtime');
    const cache = config?.runtime?.models ?? new ModelCache({ dir: req.query.dir || undefined });
    res.json({ dir: cache.dir, models: cache.list() });
  });

  RED.httpAdmin.post('/facefusion/models/fetch', RED.auth.needsPermission('facefusion.write'), (req, res) => {
    const { ModelCache } = require('../runtime') as typeof import('../runtime');
    const body = (req.body ?? {}) as { dir?: string };
    const cache = new ModelCache({ dir: body.dir || undefined });
    cache.ensureDefaults().then(
      () => res.json({ ok: true, models: cache.list() }),
      (err: unknown) => res.status(500).json({ ok: false, error: messageOf(err) }),
    );
  });
};

function toNumber(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}
