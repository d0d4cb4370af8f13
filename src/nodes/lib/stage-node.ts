import { FaceError, isFaceToken, type FaceToken, type Parameters, type Runtime, type Stage } from '../../runtime';
import { advance, tokenFrameRefs, withParameters } from '../../runtime/token';
import type { ConfigNode, ConfigUser, RuntimeState } from './config-types';
import type { DoneFn, Node, NodeDef, NodeMessage, Red, SendFn } from './red';
import { asFaceError, messageOf } from './messages';
import { errorStatus, plural, statusText } from './status';
import { WorkQueue } from './work-queue';
import { EditorThumbnail, thumbnailSize } from './thumbnail';
import { nodeDefaults, withDefaults } from './node-defaults';

export type OnNoFace = 'pass' | 'drop' | 'error';
/** What a failed stage does: to the Catch node (default), pass the token on unchanged, drop it, or retry. */
export type OnFailure = 'catch' | 'pass' | 'drop' | 'retry';

export interface StageNodeDef extends NodeDef {
  config?: string;
  onNoFace?: OnNoFace;
  /** Messages waiting while one is processed; beyond it new messages are dropped. */
  queueSize?: number | string;
  /** Drop every message that arrives while one is processed (no backlog at all). */
  dropWhenBusy?: boolean | string;
  /** Free the picture (target frame) of a message this node drops; default on. */
  releaseDropped?: boolean | string;
  /** Longer side in px of a thumbnail of the result shown under the node in the editor; '' = none. */
  thumbnail?: number | string;
  onFailure?: OnFailure;
  /** Retries of a failed stage on the same token with onFailure 'retry' (1–10). */
  retries?: number | string;
  /** Failed and no-face tokens leave by a second output (with msg.error) instead of the Catch node / output 1. */
  failureOutput?: boolean | string;
  /** Ports the editor drew (1, or 2 with failureOutput). */
  outputs?: number | string;
}

export interface StageNodeSpec<D extends StageNodeDef> {
  type: string;
  stage: Stage;
  /** Dialog options → token parameters. Only options the user set are returned; they override the token's. */
  parameters(def: D): Parameters;
  /** The node offers the `thumbnail` option (its result picture under the node in the editor). */
  thumbnail?: boolean;
  /**
   * Parameters the node works out once at deploy with the runtime (e.g. embeddings of reference
   * pictures named in the dialog); merged over `parameters`. A failure shows on the status and
   * fails every message with its error.
   */
  prepare?(def: D, runtime: Runtime): Promise<Parameters>;
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
  else if (state.phase === 'ready') node.status({ fill: 'green', shape: 'dot', text: statusText(['ready', state.provider, state.models]) });
  else if (state.phase === 'error') node.status(errorStatus(state));
  else node.status({ fill: 'grey', shape: 'ring', text: 'closed' });
}

/**
 * A config user that shows the runtime's state on a node's status until the node has shown a
 * result of its own: a late "ready" must not hide "2 faces · 9 ms".
 */
export class RuntimeStatusUser implements ConfigUser {
  private hasResult = false;

  constructor(private readonly node: Node) {}

  showRuntimeState(state: RuntimeState): void {
    if (this.hasResult && (state.phase === 'ready' || state.phase === 'loading')) return;
    runtimeStatus(this.node, state);
  }

  /** Call when the node put a result of its own on its status. */
  resultShown(): void {
    this.hasResult = true;
  }
}

/** Frees the frames `out` holds that `input` did not (the stage's own output), e.g. when nobody will get `out`. */
export function releaseNewFrames(runtime: Runtime, input: FaceToken, out: FaceToken): void {
  const kept = new Set(tokenFrameRefs(input));
  runtime.store.releaseMany(tokenFrameRefs(out).filter((ref) => !kept.has(ref)));
}

/**
 * Frees the target frame of a token nobody will get (a dropped message), so a live source is
 * not held up by frames waiting for the TTL sweeper. The source frame is left alone: per-frame
 * tokens of one job share it.
 */
export function releaseDroppedFrame(runtime: Runtime, value: unknown): void {
  if (!isFaceToken(value)) return;
  try {
    runtime.store.release(value.target.frame);
  } catch {
    // the store is closing: everything is being freed anyway
  }
}

/**
 * Whether a Catch node would get this node's errors: one on the same tab (or subflow) catching
 * all, naming this node, or catching its group. Nodes inside a subflow instance (their errors
 * also reach the parent flow's Catch nodes) and harnesses without `eachNode` count as caught,
 * so a token is never freed under a branch that may still read it.
 */
export function catchCovers(RED: Red, node: Node): boolean {
  const each = RED.nodes.eachNode;
  if (typeof each !== 'function') return true;
  const z = (node as Node & { z?: string }).z;
  const g = (node as Node & { g?: string }).g;
  let tabs = 0;
  let covered = false;
  each((def) => {
    if (def.type === 'tab' && def.id === z) tabs++;
    if (def.type !== 'catch' || def.d === true || def.z !== z) return;
    const scope = def.scope;
    if (scope === null || scope === undefined || (Array.isArray(scope) && scope.includes(node.id)) || (scope === 'group' && g !== undefined)) covered = true;
  });
  // Not on a tab of the flow file: inside a subflow instance, whose errors may reach the parent's Catch nodes.
  return covered || tabs === 0;
}

/**
 * A failed token leaves this node for a Catch branch or a failure output (`taken`), or for
 * nobody: then its frames are freed at once; else they are held in the runtime's bounded room
 * for failed tokens (`Runtime.holdFailed`), so a burst of failing messages (decompression bombs
 * a stage refuses) cannot fill the frame store until their TTL.
 */
export function settleFailed(runtime: Runtime, token: unknown, taken: boolean): void {
  if (!isFaceToken(token)) return;
  try {
    if (taken) runtime.holdFailed(token);
    else runtime.release(token);
  } catch {
    // the store is closing: everything is being freed anyway
  }
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
    // Options a saved flow lacks take the defaults the dialog shows (resources/node-defaults.js).
    const options = withDefaults(spec.type, def as D);
    const config = configOf(RED, node, options.config);
    const overrides = spec.parameters(options);
    const onNoFace = options.onNoFace as OnNoFace;
    const onFailure = (['catch', 'pass', 'drop', 'retry'].includes(String(options.onFailure)) ? options.onFailure : 'catch') as OnFailure;
    const retries = onFailure === 'retry' ? Math.min(10, Math.max(1, Math.floor(numberOption(options.retries) ?? 1))) : 0;
    const failureOutput = options.failureOutput === true || options.failureOutput === 'true';
    /** Tokens this node passed on downgraded (the runtime's downgrade policy dropped its work). */
    let downgradedCount = 0;
    /** Sends on output 1, or on output 2 (failures) when the node has it. */
    const emit = (send: SendFn, msg: NodeMessage, port: 1 | 2): void => {
      if (port === 2) send([null, msg]);
      else if (failureOutput) send([msg, null]);
      else send(msg);
    };
    const dropWhenBusy = options.dropWhenBusy === true || options.dropWhenBusy === 'true';
    const capacity = dropWhenBusy ? 0 : Math.floor(numberOption(options.queueSize) ?? Number(nodeDefaults(spec.type).queueSize));
    const queue = new WorkQueue(Math.max(0, capacity), (depth) => node.status({ fill: 'blue', shape: 'ring', text: `queue ${depth}` }));
    const releaseDropped = options.releaseDropped !== false && options.releaseDropped !== 'false';
    const dropped = (value: unknown): void => {
      if (releaseDropped && config) releaseDroppedFrame(config.runtime, value);
    };
    const user = new RuntimeStatusUser(node);
    config?.register(user);
    let closed = false;
    const thumbSide = spec.thumbnail ? thumbnailSize(options.thumbnail) : undefined;
    const thumbnail = thumbSide
      ? new EditorThumbnail((topic, data, retain) => RED.comms.publish(topic, data, retain), node.id, thumbSide, undefined, (err) => node.warn(`thumbnail: ${messageOf(err)}`))
      : undefined;

    // A model named in the dialog is loaded at deploy, so a missing or wrong file shows at once
    // (red status + log) rather than on the first message.
    const models = Object.entries(overrides).filter(([key]) => key.endsWith('_model')).map(([, value]) => String(value));
    // A model file typed in the dialog is trusted (like Node-RED's file nodes); one named in a message is confined.
    config?.runtime.trustModels(overrides);
    if (config && models.length) {
      config.ready
        .then(() => config.runtime.prepareModels([spec.stage], overrides))
        .then(
          () => { if (!closed) user.showRuntimeState({ phase: 'ready', provider: config.runtime.provider() ?? 'cpu', models: models.join(', ') }); },
          (err: unknown) => {
            if (closed) return;
            const error = asFaceError(err, spec.stage);
            node.status(errorStatus(error));
            node.error(`${error.code}: ${error.message}`);
          },
        );
    }

    const prepared: Promise<Parameters> | undefined = config && spec.prepare ? config.ready.then(() => spec.prepare!(options, config.runtime)) : undefined;
    prepared?.catch((err: unknown) => {
      if (closed) return;
      const error = asFaceError(err, spec.stage);
      node.status(errorStatus(error));
      node.error(`${error.code}: ${error.message}`);
    });

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      if (!config) {
        done(missingConfig(spec.type));
        return;
      }
      const drop = (): void => {
        dropped(msg.payload);
        done();
      };
      const accepted = queue.push({ run: () => handle(msg, send, done), drop });
      if (!accepted) {
        dropped(msg.payload);
        user.resultShown();
        node.status({ fill: 'yellow', shape: 'ring', text: queue.capacity ? 'busy: dropped (queue full)' : 'busy: dropped' });
        done();
      }
    });

    let caught: boolean | undefined;
    /** A Catch node takes this node's errors (looked up once the flow runs). */
    const catchTakes = (): boolean => (caught ??= catchCovers(RED, node));

    let later: Stage[] | undefined;
    /** Stages a detect node must know are wired after it (looked up once the flow is running). */
    function wiredLater(): Stage[] {
      later ??= downstreamTypes(RED, node).has('face-blur') ? ['blur'] : [];
      return later;
    }

    async function handle(msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> {
      /** The token once accepted (its frames are its own): freed or held if the stage throws. */
      let owned: FaceToken | undefined;
      try {
        if (closed) return done();
        await config!.ready;
        const runtime = config!.runtime;
        const extra = prepared ? await prepared : undefined;
        const accepted = withParameters(runtime.acceptToken(msg.payload), extra ? { ...overrides, ...extra } : overrides);
        owned = accepted;
        // In a flow the wires decide which stages run (docs/ARCHITECTURE.md, "A face token's
        // life"): a wired stage is asked of the token, so it joins the token's `operations`,
        // which then also says when it is `done`.
        // Face stages wired after this one join too, where this stage must know of them: a detect
        // node that feeds a face blur detects for privacy (its lower threshold, no 20-face cap).
        const wanted = [spec.stage, ...(spec.stage === 'detect' ? wiredLater() : [])].filter((s) => !accepted.operations.includes(s));
        let token: FaceToken = wanted.length ? { ...accepted, operations: [...accepted.operations, ...wanted] } : accepted;
        // Under pressure the runtime's downgrade policy takes optional work out (enhance, masks,
        // pixel boost): a dropped stage passes the token on, journalled, instead of running.
        const policy = runtime.downgrade;
        if (policy && token.state !== 'failed' && token.state !== 'skipped') {
          const plan = policy.plan([spec.stage], token.parameters);
          token = policy.mark(token, plan);
          if (plan.dropped.length) downgradedCount++;
          if (policy.dropsStage(spec.stage) && plan.dropped.includes(spec.stage as 'enhance')) {
            user.resultShown();
            msg.payload = token;
            node.status({ fill: 'yellow', shape: 'dot', text: downgradedText(policy.reasonText(), downgradedCount) });
            emit(send, msg, 1);
            done();
            return;
          }
        }
        // Pixel work runs on the runtime's worker thread, so a large message cannot block the event loop.
        let out = await runtime.process(spec.stage, token, { force: true, offMainThread: true });
        // onFailure 'retry': the stage again on the same token, at most `retries` times, each failure journalled.
        for (let attempt = 1; attempt <= retries && !closed && token.state !== 'failed' && isFailure(out); attempt++) {
          releaseNewFrames(runtime, token, out);
          const failed = out.error ?? { code: 'E_INTERNAL', message: `${spec.stage} failed` };
          const lastMs = out.journal[out.journal.length - 1]?.ms ?? 0;
          token = advance(token, {}, { stage: spec.stage, ms: lastMs, outcome: 'failed', note: `${failed.code} · retry ${attempt} of ${retries}` });
          out = await runtime.process(spec.stage, token, { force: true, offMainThread: true });
        }
        if (closed) {
          // The node was stopped while this message was in flight: nobody downstream will take
          // the result, so free what this stage added and finish quietly.
          releaseNewFrames(runtime, token, out);
          done();
          return;
        }
        user.resultShown();
        const last = out.journal[out.journal.length - 1];
        const noFace = out.error?.code === 'E_NO_FACE' || last.outcome === 'no_face';
        if (out.state === 'failed' && !noFace) {
          // A token may arrive failed already (skipped by the stage) and, forged, without its error.
          const err = out.error
            ? new FaceError(out.error.code as FaceError['code'], out.error.message, { stage: spec.stage })
            : new FaceError('E_BAD_PARAMETER', 'the token arrived in state "failed" without an error', { stage: spec.stage });
          const arrivedFailed = token.state === 'failed';
          if (onFailure === 'pass' && !arrivedFailed) {
            // The token as it came, with the failure journalled: later stages still run on it.
            releaseNewFrames(runtime, token, out);
            msg.payload = advance(token, {}, { stage: spec.stage, ms: out.journal[out.journal.length - 1]?.ms ?? 0, outcome: 'failed', note: `${err.code} · onFailure: pass` });
            node.status({ fill: 'yellow', shape: 'dot', text: statusText([err.code, 'passed on']) });
            config!.streams.report(msg, err);
            emit(send, msg, 1);
            done();
            return;
          }
          if (onFailure === 'drop' && !arrivedFailed) {
            releaseNewFrames(runtime, token, out);
            dropped(out);
            node.status({ fill: 'yellow', shape: 'ring', text: statusText([err.code, 'dropped']) });
            config!.streams.report(msg, err);
            done();
            return;
          }
          msg.payload = out;
          node.status(errorStatus(err));
          config!.streams.report(msg, err);
          // The failed token's frames: held (bounded) for the branch that takes it, else freed now.
          settleFailed(runtime, out, failureOutput || catchTakes());
          if (failureOutput) {
            msg.error = { code: err.code, message: err.message, stage: spec.stage };
            emit(send, msg, 2);
            done();
            return;
          }
          done(err);
          return;
        }
        if (noFace) {
          handleNoFace(out, msg, send, done);
          return;
        }
        msg.payload = out;
        if (out.state === 'downgraded_for_performance' && policy) node.status({ fill: 'yellow', shape: 'dot', text: downgradedText(policy.reasonText(), downgradedCount) });
        else node.status({ fill: 'green', shape: 'dot', text: resultText(out, last.ms, runtime.provider()) });
        thumbnail?.offer(runtime.store.tryPixels(out.target.frame)); // taken before downstream nodes release it (as stored: a video's YUV frame is shrunk from its planes)
        emit(send, msg, 1);
        done();
      } catch (err) {
        if (closed) {
          done(); // the runtime closed under an abandoned message: not an error of the flow
          return;
        }
        const error = asFaceError(err, spec.stage);
        user.resultShown();
        node.status(errorStatus(error));
        config?.streams.report(msg, error);
        // Only a token this runtime accepted owns its frames; a refused one names frames it may not touch.
        if (owned) settleFailed(config!.runtime, owned, catchTakes());
        done(error);
      }
    }

    function handleNoFace(out: FaceToken, msg: NodeMessage, send: SendFn, done: DoneFn): void {
      if (onNoFace === 'drop') {
        dropped(out);
        node.status({ fill: 'yellow', shape: 'ring', text: 'no face · dropped' });
        done();
        return;
      }
      if (failureOutput) {
        msg.payload = out;
        msg.error = { code: 'E_NO_FACE', message: out.error?.message ?? `no face found (${spec.stage})`, stage: spec.stage };
        node.status({ fill: 'yellow', shape: 'dot', text: 'no face · output 2' });
        emit(send, msg, 2);
        done();
        return;
      }
      if (onNoFace === 'error') {
        msg.payload = out;
        node.status({ fill: 'red', shape: 'dot', text: 'no face' });
        settleFailed(config!.runtime, out, catchTakes());
        done(new FaceError('E_NO_FACE', out.error?.message ?? `no face found (${spec.stage})`, { stage: spec.stage }));
        return;
      }
      const skipped = advance(out, { state: 'skipped', error: undefined }, { stage: spec.stage, ms: 0, outcome: 'no_face', note: 'onNoFace: pass' });
      msg.payload = skipped;
      node.status({ fill: 'yellow', shape: 'dot', text: 'no face · passed on' });
      emit(send, msg, 1);
      done();
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      config?.deregister(user);
      thumbnail?.close();
      queue.close();
      node.status({});
      done();
    });
  }
  RED.nodes.registerType(spec.type, StageNode);
}

/** A failure a retry may cure (not "no face", which the same picture gives again). */
function isFailure(token: FaceToken): boolean {
  const last = token.journal[token.journal.length - 1];
  return token.state === 'failed' && token.error?.code !== 'E_NO_FACE' && last?.outcome !== 'no_face';
}

function resultText(token: FaceToken, ms: number, provider: string | undefined): string {
  return statusText([plural(token.faces.length, 'face'), `${Math.round(ms)} ms`, provider]);
}

/** Yellow while the runtime's downgrade policy takes work out: why, and how many tokens so far. */
function downgradedText(reason: string, count: number): string {
  return statusText([`downgraded: ${reason} (${count})`]);
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

/** A comma-separated dialog field → trimmed non-empty items, or undefined when blank. */
export function listOption(value: unknown): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  const items = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  return items.length ? items : undefined;
}

export { messageOf };

/**
 * Types of the face nodes reachable from `node`'s outputs through other face nodes (bounded:
 * a flow is walked at most 200 nodes deep). Read once the flow runs, when every node exists.
 */
export function downstreamTypes(RED: Red, node: Node): Set<string> {
  const types = new Set<string>();
  const seen = new Set<string>([node.id]);
  const queue = (node.wires ?? []).flat();
  while (queue.length && seen.size < 200) {
    const id = queue.shift() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const next = RED.nodes.getNode(id);
    if (!next?.type?.startsWith('face-')) continue;
    types.add(next.type);
    queue.push(...(next.wires ?? []).flat());
  }
  return types;
}
