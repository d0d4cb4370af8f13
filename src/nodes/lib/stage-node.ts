import { FaceError, advance, withParameters, type FaceToken, type Parameters, type Stage } from '../../runtime';
import type { ConfigNode, ConfigUser, RuntimeState } from './config-types';
import type { DoneFn, Node, NodeDef, NodeMessage, Red, SendFn } from './red';
import { asFaceError, messageOf, shorten } from './messages';
import { WorkQueue } from './work-queue';

export type OnNoFace = 'pass' | 'drop' | 'error';

export interface StageNodeDef extends NodeDef {
  config?: string;
  onNoFace?: OnNoFace;
  /** Messages waiting while one is processed; beyond it new messages are dropped. */
  queueSize?: number | string;
}

export interface StageNodeSpec<D extends StageNodeDef> {
  type: string;
  stage: Stage;
  /** Dialog options → token parameters. Only options the user set are returned; they override the token's. */
  parameters(def: D): Parameters;
}

/** Resolves the config node a stage node points at, or undefined (with a red status). */
export function configOf(RED: Red, node: Node, id: string | undefined): ConfigNode | undefined {
  const config = id ? (RED.nodes.getNode(id) as ConfigNode | null) : null;
  if (!config || !config.runtime) {
    node.status({ fill: 'red', shape: 'ring', text: 'no facefusion-config' });
    return undefined;
  }
  return config;
}

export function missingConfig(type: string): FaceError {
  return new FaceError('E_BAD_PARAMETER', `${type} has no facefusion-config node: open the node and pick or add one`);
}

/** Status for the runtime's own state (loading models, ready on cpu/cuda, error). */
export function runtimeStatus(node: Node, state: RuntimeState): void {
  if (state.phase === 'loading') node.status({ fill: 'yellow', shape: 'ring', text: 'loading models…' });
  else if (state.phase === 'ready') node.status({ fill: 'green', shape: 'dot', text: `ready · ${state.provider}` });
  else if (state.phase === 'error') node.status({ fill: 'red', shape: 'dot', text: shorten(state.message) });
  else node.status({ fill: 'grey', shape: 'ring', text: 'closed' });
}

/**
 * Wires one processing stage as a Node-RED node: token in `msg.payload` → runtime stage →
 * token out. Failures reach the Catch node through done(err) (with `msg.error.code`), a
 * message without a face follows `onNoFace`, and a bounded queue keeps one message in flight.
 */
export function registerStageNode<D extends StageNodeDef>(RED: Red, spec: StageNodeSpec<D>): void {
  function StageNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const options = def as D;
    const config = configOf(RED, node, options.config);
    const overrides = spec.parameters(options);
    const onNoFace: OnNoFace = options.onNoFace ?? 'pass';
    const queue = new WorkQueue(numberOption(options.queueSize) ?? 10, (depth) => node.status({ fill: 'blue', shape: 'ring', text: `queue ${depth}` }));
    const user: ConfigUser = { showRuntimeState: (state) => runtimeStatus(node, state) };
    config?.register(user);

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      if (!config) {
        done(missingConfig(spec.type));
        return;
      }
      const accepted = queue.push({ run: () => handle(msg, send, done), drop: () => done() });
      if (!accepted) {
        node.status({ fill: 'yellow', shape: 'ring', text: `busy: dropped (queue ${queue.capacity})` });
        done();
      }
    });

    async function handle(msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> {
      try {
        await config!.ready;
        const runtime = config!.runtime;
        const token = withParameters(runtime.acceptToken(msg.payload), overrides);
        const out = await runtime.process(spec.stage, token, { force: true });
        const last = out.journal[out.journal.length - 1];
        const noFace = out.error?.code === 'E_NO_FACE' || last.outcome === 'no_face';
        if (out.state === 'failed' && !noFace) {
          msg.payload = out;
          const err = new FaceError(out.error!.code as FaceError['code'], out.error!.message, { stage: spec.stage });
          node.status({ fill: 'red', shape: 'dot', text: shorten(`${err.code}: ${err.message}`) });
          done(err);
          return;
        }
        if (noFace) {
          handleNoFace(out, msg, send, done);
          return;
        }
        msg.payload = out;
        node.status({ fill: 'green', shape: 'dot', text: statusText(out, last.ms, runtime.provider()) });
        send(msg);
        done();
      } catch (err) {
        const error = asFaceError(err, spec.stage);
        node.status({ fill: 'red', shape: 'dot', text: shorten(`${error.code}: ${error.message}`) });
        done(error);
      }
    }

    function handleNoFace(out: FaceToken, msg: NodeMessage, send: SendFn, done: DoneFn): void {
      if (onNoFace === 'drop') {
        node.status({ fill: 'yellow', shape: 'ring', text: 'no face · dropped' });
        done();
        return;
      }
      if (onNoFace === 'error') {
        msg.payload = out;
        node.status({ fill: 'red', shape: 'dot', text: 'no face' });
        done(new FaceError('E_NO_FACE', out.error?.message ?? `no face found (${spec.stage})`, { stage: spec.stage }));
        return;
      }
      const skipped = advance(out, { state: 'skipped', error: undefined }, { stage: spec.stage, ms: 0, outcome: 'no_face', note: 'onNoFace: pass' });
      msg.payload = skipped;
      node.status({ fill: 'yellow', shape: 'dot', text: 'no face · passed on' });
      send(msg);
      done();
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      config?.deregister(user);
      queue.close();
      node.status({});
      done();
    });
  }
  RED.nodes.registerType(spec.type, StageNode);
}

function statusText(token: FaceToken, ms: number, provider: string | undefined): string {
  const n = token.faces.length;
  return `${n} face${n === 1 ? '' : 's'} · ${Math.round(ms)} ms${provider ? ` · ${provider}` : ''}`;
}

/** Only options the user actually set: '' / undefined / NaN mean "use the token's value". */
export function setOptions(pairs: Record<string, unknown>): Parameters {
  const out: Parameters = {};
  for (const [key, value] of Object.entries(pairs)) {
    if (value === undefined || value === null || value === '') continue;
    if (typeof value === 'number' && Number.isNaN(value)) continue;
    out[key] = value;
  }
  return out;
}

export function numberOption(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export { messageOf };
