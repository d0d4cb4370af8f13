import type { FaceToken, Parameters, Runtime, Stage } from '../../runtime';
import { advance, withParameters } from '../../runtime/token';
import type { DoneFn, Node, NodeDef, NodeMessage, Red, SendFn } from './red';
import { asFaceError } from './messages';
import { busyStatus, errorStatus, queueStatus, RuntimeStatusUser } from './status';
import { WorkQueue } from './work-queue';
import { nodeThumbnail } from './thumbnail';
import { nodeDefaults, withDefaults } from './node-defaults';
import { configOf, flagOption, missingConfig, numberOption } from './config';
import { releaseDroppedFrame, releaseNewFrames, settleFailed } from './frame-release';
import { catchCovers, downstreamTypes } from './flow-wiring';
import { route, type OnFailure, type OnNoFace, type RouteOptions, type StageExit, type StageOutcome } from './stage-route';

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
 * token out. Each message is accepted, run (with retries) and routed (stage-route.ts: output
 * 1, output 2, the Catch node through done(err) with `msg.error.code`, or dropped); a bounded
 * queue keeps one message in flight.
 */
export function registerStageNode<D extends StageNodeDef>(RED: Red, spec: StageNodeSpec<D>): void {
  function StageNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    // Options a saved flow lacks take the defaults the dialog shows (resources/node-defaults.js).
    const options = withDefaults(spec.type, def as D);
    const config = configOf(RED, node, options.config);
    const overrides = spec.parameters(options);
    const onFailure = (['catch', 'pass', 'drop', 'retry'].includes(String(options.onFailure)) ? options.onFailure : 'catch') as OnFailure;
    const retries = onFailure === 'retry' ? Math.min(10, Math.max(1, Math.floor(numberOption(options.retries) ?? 1))) : 0;
    const failureOutput = flagOption(options.failureOutput, false);
    let caught: boolean | undefined;
    const routeOptions: RouteOptions = {
      stage: spec.stage,
      onNoFace: options.onNoFace as OnNoFace,
      onFailure,
      failureOutput,
      // A Catch node takes this node's errors (looked up once the flow runs, on the first failure).
      catchTakes: () => (caught ??= catchCovers(RED, node)),
    };
    /** Tokens this node passed on downgraded (the runtime's downgrade policy dropped its work). */
    let downgradedCount = 0;
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
    const thumbnail = spec.thumbnail ? nodeThumbnail(RED, node, options.thumbnail) : undefined;

    // A model named in the dialog is loaded at deploy, so a missing or wrong file shows at once
    // (red status + log) rather than on the first message.
    const models = Object.entries(overrides)
      .filter(([key]) => key.endsWith('_model'))
      .map(([, value]) => String(value));
    // A model file typed in the dialog is trusted (like Node-RED's file nodes); one named in a message is confined.
    config?.runtime.trustModels(overrides);
    if (config && models.length) {
      config.ready
        .then(() => config.runtime.prepareModels([spec.stage], overrides))
        .then(
          () => {
            if (!closed) user.showRuntimeState({ phase: 'ready', provider: config.runtime.provider() ?? 'cpu', models: models.join(', ') });
          },
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

    let later: Stage[] | undefined;
    /** Stages a detect node must know are wired after it (looked up once the flow is running). */
    function wiredLater(): Stage[] {
      later ??= downstreamTypes(RED, node).has('face-blur') ? ['blur'] : [];
      return later;
    }

    /** One message: accept → run (with retries) → route (stage-route.ts) → carry the exit out. */
    async function handle(msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> {
      /** The token once accepted (its frames are its own): freed or held if the stage throws. */
      let owned: FaceToken | undefined;
      try {
        if (closed) {
          exit(route({ kind: 'closed' }, routeOptions), msg, send, done);
          return;
        }
        owned = await accept(msg);
        exit(route(await run(owned), routeOptions), msg, send, done);
      } catch (err) {
        exit(route(closed ? { kind: 'closed' } : { kind: 'threw', error: asFaceError(err, spec.stage), owned }, routeOptions), msg, send, done);
      }
    }

    /** The token of `msg` accepted into this runtime, with this node's parameters and its stage asked for. */
    async function accept(msg: NodeMessage): Promise<FaceToken> {
      await config!.ready;
      const extra = prepared ? await prepared : undefined;
      const accepted = withParameters(config!.runtime.acceptToken(msg.payload), extra ? { ...overrides, ...extra } : overrides);
      // In a flow the wires decide which stages run (docs/ARCHITECTURE.md, "A face token's
      // life"): a wired stage is asked of the token, so it joins the token's `operations`,
      // which then also says when it is `done`.
      // Face stages wired after this one join too, where this stage must know of them: a detect
      // node that feeds a face blur detects for privacy (its lower threshold, no 20-face cap).
      const wanted = [spec.stage, ...(spec.stage === 'detect' ? wiredLater() : [])].filter((s) => !accepted.operations.includes(s));
      return wanted.length ? { ...accepted, operations: [...accepted.operations, ...wanted] } : accepted;
    }

    /** The stage on an accepted token, with the downgrade policy's say and onFailure 'retry'. */
    async function run(accepted: FaceToken): Promise<StageOutcome> {
      const runtime = config!.runtime;
      let token = accepted;
      // Under pressure the runtime's downgrade policy takes optional work out (enhance, masks,
      // pixel boost): a dropped stage passes the token on, journalled, instead of running.
      const policy = runtime.downgrade;
      if (policy && token.state !== 'failed' && token.state !== 'skipped') {
        const plan = policy.plan([spec.stage], token.parameters);
        token = policy.mark(token, plan);
        if (plan.dropped.length) downgradedCount++;
        if (policy.dropsStage(spec.stage) && plan.dropped.includes(spec.stage as 'enhance')) {
          return { kind: 'downgraded', token, downgrade: { reason: policy.reasonText(), count: downgradedCount } };
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
      if (closed) return { kind: 'closed', ran: { input: token, out } };
      const downgrade = policy ? { reason: policy.reasonText(), count: downgradedCount } : undefined;
      return { kind: 'ran', input: token, out, provider: runtime.provider(), ...(downgrade ? { downgrade } : {}) };
    }

    /** Carries out a route's exit, in the order StageExit documents. */
    function exit(to: StageExit, msg: NodeMessage, send: SendFn, done: DoneFn): void {
      const runtime = config!.runtime;
      if (to.resultShown) user.resultShown();
      if (to.releaseNew) releaseNewFrames(runtime, to.releaseNew.input, to.releaseNew.out);
      if (to.dropped) dropped(to.dropped);
      if (to.payload) msg.payload = to.payload;
      if (to.msgError) msg.error = to.msgError;
      if (to.status) node.status(to.status);
      if (to.report) config!.streams.report(msg, to.report);
      if (to.settle) settleFailed(runtime, to.settle.token, to.settle.taken);
      // Taken before downstream nodes release it (as stored: a video's YUV frame is shrunk from its planes).
      if (to.thumbnail) thumbnail?.offer(runtime.store.tryPixels(to.thumbnail.target.frame));
      if (to.to === 1) send(failureOutput ? [msg, null] : msg);
      else if (to.to === 2) send([null, msg]);
      if (to.to === 'catch') done(to.error);
      else done();
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
