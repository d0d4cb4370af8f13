import { FaceError, advance, withParameters, type FaceToken, type Parameters, type Runtime, type Stage } from '../../runtime';
import type { DoneFn, Node, NodeDef, NodeMessage, Red, SendFn } from './red';
import { asFaceError, messageOf } from './messages';
import { busyStatus, errorStatus, plural, queueStatus, RuntimeStatusUser, statusText } from './status';
import { WorkQueue } from './work-queue';
import { EditorThumbnail, thumbnailSize } from './thumbnail';
import { nodeDefaults, withDefaults } from './node-defaults';
import { configOf, flagOption, missingConfig, numberOption } from './config';
import { releaseDroppedFrame, releaseNewFrames, settleFailed } from './frame-release';
import { catchCovers, downstreamTypes } from './flow-wiring';

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
    const failureOutput = flagOption(options.failureOutput, false);
    /** Tokens this node passed on downgraded (the runtime's downgrade policy dropped its work). */
    let downgradedCount = 0;
    /** Sends on output 1, or on output 2 (failures) when the node has it. */
    const emit = (send: SendFn, msg: NodeMessage, port: 1 | 2): void => {
      if (port === 2) send([null, msg]);
      else if (failureOutput) send([msg, null]);
      else send(msg);
    };
    const dropWhenBusy = flagOption(options.dropWhenBusy, false);
    const capacity = dropWhenBusy ? 0 : Math.floor(numberOption(options.queueSize) ?? Number(nodeDefaults(spec.type).queueSize));
    const queue = new WorkQueue(Math.max(0, capacity), (depth) => node.status(queueStatus(depth)));
    const releaseDropped = flagOption(options.releaseDropped, true);
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
        node.status(busyStatus(queue.capacity > 0));
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
        // In a flow the wires decide which stages run (issue 19): a wired stage is asked of the
        // token, so it joins the token's `operations`, which then also says when it is `done`.
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
