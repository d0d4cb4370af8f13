import { join, resolve } from 'path';
import { createRuntime } from '../runtime';
import { ModelFetchBoard } from '../runtime/models/fetch-board';
import { PACKAGE_ROOT } from '../runtime/models/manifest';
import { ModelCache } from '../runtime/models/model-cache';
import type { Node, NodeDef, Red } from './lib/red';
import type { ConfigNode, ConfigUser, RuntimeState } from './lib/config-types';
import { messageOf } from './lib/messages';

interface ConfigDef extends NodeDef {
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number | string;
  spinWait?: boolean;
  modelsDir?: string;
  frameBudgetMB?: number | string;
  tokenTtl?: number | string;
  /** Accept SVG images (rendered within 4 MP / 5 s); off by default. */
  allowSvg?: boolean | string;
  /** Seconds a new frame may wait for room in the frame store before E_STORE_FULL (default 10). */
  storeWait?: number | string;
}

/**
 * The shared config node: owns ONE runtime (session pool, frame store, TTL sweeper) for every
 * node that points at it, warms its models at deploy and closes everything on redeploy/stop.
 */
export = function (RED: Red): void {
  /** Deployed config nodes: their models folders are the only ones besides the defaults the admin endpoints touch. */
  const live = new Set<ConfigNode>();
  /** Caches for the default folders (shared so concurrent fetches join). */
  const caches = new Map<string, ModelCache>();
  const board = new ModelFetchBoard();

  function FacefusionConfig(this: Node, nodeDef: NodeDef): void {
    RED.nodes.createNode(this, nodeDef);
    const def = nodeDef as ConfigDef;
    const node = this as ConfigNode;
    live.add(node);
    const users = new Set<ConfigUser>();
    node.runtime = createRuntime({
      device: def.device ?? 'auto',
      threads: toNumber(def.threads, 0),
      spinWait: def.spinWait === true,
      modelsDir: def.modelsDir || undefined,
      frameBudgetBytes: toNumber(def.frameBudgetMB, 512) * 1024 * 1024,
      tokenTtlMs: toNumber(def.tokenTtl, 300) * 1000,
      allowSvg: def.allowSvg === true || def.allowSvg === 'true',
      storeWaitMs: toNumber(def.storeWait, 10) * 1000,
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
      live.delete(node);
      publish({ phase: 'closed' });
      users.clear();
      node.runtime.close().then(done, (err: unknown) => {
        node.error(`closing the face runtime: ${messageOf(err)}`);
        done();
      });
    });
  }

  RED.nodes.registerType('facefusion-config', FacefusionConfig);

  /**
   * The cache an admin request may use: the named deployed config node's, else the folder it
   * names if that folder is one the runtime knows (the package's models/, FACEFUSION_MODELS_DIR,
   * or the folder of a deployed config node), else the default. Any other folder is refused.
   */
  function cacheFor(configId: unknown, dir: unknown): ModelCache | { refused: string } {
    const config = typeof configId === 'string' && configId ? (RED.nodes.getNode(configId) as ConfigNode | null) : null;
    if (config?.runtime?.models && live.has(config)) return config.runtime.models;
    const defaults = [process.env.FACEFUSION_MODELS_DIR, join(PACKAGE_ROOT, 'models')].filter((d): d is string => !!d).map((d) => resolve(d));
    const wanted = typeof dir === 'string' && dir.trim() ? resolve(dir.trim()) : defaults[0];
    for (const c of live) if (c.runtime?.models?.dir === wanted) return c.runtime.models;
    if (!defaults.includes(wanted)) {
      return { refused: `${wanted} is not a models folder known to the runtime (deploy the config node that names it first)` };
    }
    let cache = caches.get(wanted);
    if (!cache) {
      cache = new ModelCache({ dir: wanted });
      caches.set(wanted, cache);
    }
    return cache;
  }

  RED.httpAdmin.get('/facefusion/models', RED.auth.needsPermission('facefusion.read'), (req, res) => {
    const cache = cacheFor(req.query.config, req.query.dir);
    if (!(cache instanceof ModelCache)) {
      res.status(403).json({ ok: false, error: cache.refused });
      return;
    }
    res.json({ dir: cache.dir, models: cache.list(), fetching: board.states(cache.dir) });
  });

  /**
   * Starts fetching the model `id` (or the default models) and answers when they are in place,
   * or after `FETCH_WAIT_MS` with 202 while large downloads go on; the dialog then polls the list.
   */
  RED.httpAdmin.post('/facefusion/models/fetch', RED.auth.needsPermission('facefusion.write'), (req, res) => {
    const body = (req.body ?? {}) as { config?: unknown; dir?: unknown; id?: unknown };
    const cache = cacheFor(body.config, body.dir);
    if (!(cache instanceof ModelCache)) {
      res.status(403).json({ ok: false, error: cache.refused });
      return;
    }
    let ids: string[];
    try {
      ids = typeof body.id === 'string' && body.id ? [cache.entry(body.id).id] : cache.entries().filter((m) => m.default === true).map((m) => m.id);
    } catch (err) {
      res.status(400).json({ ok: false, error: messageOf(err) });
      return;
    }
    const all = Promise.all(ids.map((id) => board.start(cache, id)));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'pending'>((resolveWait) => {
      timer = setTimeout(() => resolveWait('pending'), FETCH_WAIT_MS);
    });
    Promise.race([all.then(() => 'done' as const), waited]).then(
      (outcome) => {
        clearTimeout(timer);
        if (outcome === 'done') res.json({ ok: true, models: cache.list() });
        else res.status(202).json({ ok: true, pending: true, models: cache.list(), fetching: board.states(cache.dir) });
      },
      (err: unknown) => {
        clearTimeout(timer);
        res.status(500).json({ ok: false, error: messageOf(err) });
      },
    );
  });
};

/** How long a fetch request waits for the download before answering 202 and letting the dialog poll. */
const FETCH_WAIT_MS = 15_000;

function toNumber(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}
