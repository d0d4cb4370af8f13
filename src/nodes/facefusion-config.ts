import { lstatSync, mkdirSync } from 'fs';
import { homedir } from 'os';
import { join, resolve } from 'path';
import { createRuntime, isFaceError } from '../runtime';
import { HostPolicy, hostsFromText } from '../runtime/policy/host-policy';
import { foldersFromText } from '../runtime/policy/path-policy';
import { SAMPLES_DIR } from '../runtime/samples';
import { tokenKeyFrom } from '../runtime/token';
import { StreamFailures } from './lib/stream-failures';
import { ModelFetchBoard } from '../runtime/models/fetch-board';
import { chooseModelsDir, describeModelsDir } from '../runtime/models/models-dir';
import { isPermissiveLicense } from '../runtime/models/manifest';
import { nodeDefaults, withDefaults } from './lib/node-defaults';
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
  /** Folders that paths arriving in messages may use, one per line; blank → <userDir>/facefusion/files (0700). */
  allowedFolders?: string;
  /** Hosts URLs from messages may reach although loopback/private/link-local/multicast: one per line (cameras on the LAN). */
  allowedHosts?: string;
  /** Accept SVG images (rendered within 4 MP / 5 s); off by default. */
  allowSvg?: boolean | string;
  /** Largest picture accepted, in megapixels (default 64); more is refused from its header. */
  maxImageMP?: number | string;
  /** Seconds a new frame may wait for room in the frame store before E_STORE_FULL (default 10). */
  storeWait?: number | string;
  /** When overloaded: 'keep' all work, or 'downgrade' (drop enhance, masks, pixel boost under pressure). */
  overload?: 'keep' | 'downgrade';
  /** Time a frame may take with downgrade, ms; blank = the live source's frame interval. */
  frameBudgetMs?: number | string;
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
  /** The models folder when a config node names none: FACEFUSION_MODELS_DIR, the checkout's models/, else <userDir>/facefusion/models. */
  const defaultDir = (): ReturnType<typeof chooseModelsDir> => chooseModelsDir({ nodeRedUserDir: RED.settings?.userDir });

  function FacefusionConfig(this: Node, nodeDef: NodeDef): void {
    RED.nodes.createNode(this, nodeDef);
    const def = withDefaults('facefusion-config', nodeDef as ConfigDef);
    const defaults = nodeDefaults('facefusion-config');
    const node = this as ConfigNode;
    live.add(node);
    const users = new Set<ConfigUser>();
    const allowedFolders = allowedFoldersOf(def, RED.settings?.userDir, (text) => node.warn(text));
    const models = chooseModelsDir({ dir: def.modelsDir, nodeRedUserDir: RED.settings?.userDir });
    node.log(describeModelsDir(models));
    node.runtime = createRuntime({
      allowedFolders,
      allowedHosts: validHosts(hostsFromText(def.allowedHosts), (text) => node.warn(text)),
      readOnlyFolders: [SAMPLES_DIR],
      // Model files named in messages, packed tokens and queued jobs stay in the models folder or the allowed folders.
      confineModels: true,
      device: def.device || (defaults.device as 'auto'),
      threads: toNumber(def.threads, Number(defaults.threads)),
      spinWait: def.spinWait === true,
      modelsDir: models.dir,
      frameBudgetBytes: toNumber(def.frameBudgetMB, Number(defaults.frameBudgetMB)) * 1024 * 1024,
      tokenTtlMs: toNumber(def.tokenTtl, Number(defaults.tokenTtl)) * 1000,
      allowSvg: def.allowSvg === true || def.allowSvg === 'true',
      storeWaitMs: toNumber(def.storeWait, Number(defaults.storeWait)) * 1000,
      maxImagePixels: Math.max(1, Math.round((toNumber(def.maxImageMP, Number(defaults.maxImageMP)) || Number(defaults.maxImageMP)) * 1e6)),
      ...(def.overload === 'downgrade' ? { downgrade: frameBudgetOf(def.frameBudgetMs) } : {}),
      logger: (level, message) => (level === 'error' ? node.error(message) : level === 'warn' ? node.warn(message) : node.log(message)),
    });
    try {
      node.tokenKey = tokenKeyFrom(node.credentials?.tokenKey || process.env.FACEFUSION_TOKEN_KEY);
    } catch (err) {
      node.tokenKeyError = messageOf(err);
      node.error(`token key: ${node.tokenKeyError}`);
    }
    const publish = (state: RuntimeState): void => {
      node.state = state;
      for (const user of users) user.showRuntimeState(state);
    };
    node.streams = new StreamFailures();
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
        publish({ phase: 'error', code: isFaceError(err) ? err.code : 'E_INTERNAL', message });
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

  /**
   * The folders message paths may use: the dialog's list, else one folder that holds nothing of
   * Node-RED's own, <userDir>/facefusion/files, created private (0700) so users find it. Nothing
   * in a world-writable /tmp: another local user could create (or link) such a folder first.
   */
  function allowedFoldersOf(def: ConfigDef, userDir: string | undefined, warn: (text: string) => void): string[] {
    const listed = foldersFromText(def.allowedFolders);
    if (listed.length) return listed.map((f) => resolve(f.replace(/^~(?=$|\/)/, homedir())));
    const folder = join(userDir || join(homedir(), '.node-red'), 'facefusion', 'files');
    try {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      const st = lstatSync(folder);
      if (!st.isDirectory()) {
        warn(`${folder} is not a folder (a link?): paths in messages are refused until it is one, or Allowed folders names others`);
        return [];
      }
      if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
        warn(`${folder} belongs to another user: paths in messages are refused until Allowed folders names a folder of yours`);
        return [];
      }
      if ((st.mode & 0o022) !== 0) warn(`${folder} can be written by other users (mode ${(st.mode & 0o777).toString(8)}): chmod 700 it`);
    } catch {
      // a read-only location: that folder simply allows nothing
    }
    return [folder];
  }

  /** Downgrade options from the dialog's frame budget ('' = the live source's interval). */
  function frameBudgetOf(value: unknown): { frameBudgetMs?: number } {
    const ms = value === '' || value === undefined || value === null ? NaN : Number(value);
    return Number.isFinite(ms) && ms > 0 ? { frameBudgetMs: ms } : {};
  }

  RED.nodes.registerType('facefusion-config', FacefusionConfig, { credentials: { tokenKey: { type: 'password' } } });

  /**
   * The cache an admin request may use: the named deployed config node's, else the folder it
   * names if that folder is one the runtime knows (the default folder — FACEFUSION_MODELS_DIR, the
   * checkout's models/ or <userDir>/facefusion/models — or the folder of a deployed config node),
   * else the default. Any other folder is refused.
   */
  function cacheFor(configId: unknown, dir: unknown): ModelCache | { refused: string } {
    const config = typeof configId === 'string' && configId ? (RED.nodes.getNode(configId) as ConfigNode | null) : null;
    if (config?.runtime?.models && live.has(config)) return config.runtime.models;
    const defaults = [defaultDir().dir];
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
    const body = (req.body ?? {}) as { config?: unknown; dir?: unknown; id?: unknown; acceptLicense?: unknown };
    const cache = cacheFor(body.config, body.dir);
    if (!(cache instanceof ModelCache)) {
      res.status(403).json({ ok: false, error: cache.refused });
      return;
    }
    let ids: string[];
    try {
      ids =
        typeof body.id === 'string' && body.id
          ? [cache.entry(body.id).id]
          : cache
              .entries()
              .filter((m) => m.default === true)
              .map((m) => m.id);
    } catch (err) {
      res.status(400).json({ ok: false, error: messageOf(err) });
      return;
    }
    // A model under a non-permissive licence is fetched only once the user accepted that very
    // licence (the dialog asks, naming it): `acceptLicense` must repeat it.
    const unaccepted = ids.map((id) => cache.entry(id)).filter((m) => !isPermissiveLicense(m.license) && body.acceptLicense !== m.license);
    if (unaccepted.length) {
      const m = unaccepted[0];
      res
        .status(409)
        .json({ ok: false, id: m.id, license: m.license, error: `${m.id} is under the licence "${m.license}", not a permissive one: accept it first (send acceptLicense: "${m.license}")` });
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

/** The Allowed hosts lines that parse; each other one is reported and left out (it allows nothing). */
function validHosts(lines: string[], warn: (text: string) => void): string[] {
  return lines.filter((line) => {
    try {
      new HostPolicy({ allowed: [line] });
      return true;
    } catch (err) {
      warn(`Allowed hosts: ${messageOf(err)}; that line is ignored`);
      return false;
    }
  });
}

function toNumber(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}
