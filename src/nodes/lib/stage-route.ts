import { FaceError, type FaceToken, type Stage } from '../../runtime';
import { advance } from '../../runtime/token';
import type { NodeStatus } from './red';
import { errorStatus, plural, statusText } from './status';

export type OnNoFace = 'pass' | 'drop' | 'error';
/** What a failed stage does: to the Catch node (default), pass the token on unchanged, drop it, or retry. */
export type OnFailure = 'catch' | 'pass' | 'drop' | 'retry';

/** The options of a stage node that decide where a message goes once its stage ran. */
export interface RouteOptions {
  stage: Stage;
  onNoFace: OnNoFace;
  onFailure: OnFailure;
  /** Failed and no-face tokens leave by output 2 (with msg.error) instead of the Catch node / output 1. */
  failureOutput: boolean;
  /** Whether a Catch node takes this node's errors; asked only when a failed token's frames must be settled. */
  catchTakes(): boolean;
}

/** How one message's stage run ended (the stage node's accept → run). */
export type StageOutcome =
  /** The node was closed while the message waited or ran; `ran` is the run nobody will take. */
  | { kind: 'closed'; ran?: { input: FaceToken; out: FaceToken } }
  /** Something threw (refused token, runtime not ready, stage crash); `owned` is the token once accepted. */
  | { kind: 'threw'; error: FaceError; owned?: FaceToken }
  /** The runtime's downgrade policy took this stage out: the token passes on, marked. */
  | { kind: 'downgraded'; token: FaceToken; downgrade: Downgrade }
  /** The stage ran (with its retries) on `input` and gave `out`. */
  | { kind: 'ran'; input: FaceToken; out: FaceToken; provider?: string; downgrade?: Downgrade };

/** The downgrade policy's current reason ("frame time", "memory") and how many tokens this node passed on downgraded. */
export interface Downgrade {
  reason: string;
  count: number;
}

/**
 * Where a message goes and what goes with it; the stage node carries it out in this order:
 * result shown, frames released, msg.payload / msg.error set, status, stream report, failed
 * token settled, thumbnail, send, done.
 */
export interface StageExit {
  /** Output 1, output 2 (failures), the Catch node (done(error)), or nowhere (done()). */
  to: 1 | 2 | 'catch' | 'none';
  /** The new msg.payload (absent: msg.payload is left as it is). */
  payload?: FaceToken;
  /** msg.error of a message sent on output 2. */
  msgError?: { code: string; message: string; stage: Stage };
  /** The error done() gets when `to` is 'catch'. */
  error?: FaceError;
  /** The node's status (absent: left as it is). */
  status?: NodeStatus;
  /** The node now shows a result of its own (a late "ready" from the runtime must not hide it). */
  resultShown: boolean;
  /** A failure of this frame, reported to its video stream (face-video-in's status). */
  report?: FaceError;
  /** Frames the stage added that nobody will get. */
  releaseNew?: { input: FaceToken; out: FaceToken };
  /** A token nobody will get: its picture is freed (when the node frees dropped pictures). */
  dropped?: FaceToken;
  /** A failed token: held for the branch that takes it (`taken`), else freed. */
  settle?: { token: FaceToken; taken: boolean };
  /** The result picture of this token goes to the editor's thumbnail. */
  thumbnail?: FaceToken;
}

/**
 * Every way out of a stage node, as one pure decision: the outcome of the run and the node's
 * options → output, Catch node or drop, with the status and the frames to let go.
 */
export function route(outcome: StageOutcome, options: RouteOptions): StageExit {
  switch (outcome.kind) {
    case 'closed':
      // Stopped while in flight: nobody downstream takes the result, so what the stage added is freed and the message finishes quietly.
      return { to: 'none', resultShown: false, ...(outcome.ran ? { releaseNew: outcome.ran } : {}) };
    case 'threw':
      return {
        to: 'catch',
        error: outcome.error,
        status: errorStatus(outcome.error),
        resultShown: true,
        report: outcome.error,
        // Only a token this runtime accepted owns its frames; a refused one names frames it may not touch.
        ...(outcome.owned ? { settle: { token: outcome.owned, taken: options.catchTakes() } } : {}),
      };
    case 'downgraded':
      return { to: 1, payload: outcome.token, status: downgradedStatus(outcome.downgrade), resultShown: true };
    case 'ran':
      return routeRun(outcome, options);
  }
}

function routeRun(outcome: Extract<StageOutcome, { kind: 'ran' }>, options: RouteOptions): StageExit {
  const { input, out } = outcome;
  const { stage } = options;
  const last = out.journal[out.journal.length - 1];
  const noFace = out.error?.code === 'E_NO_FACE' || last.outcome === 'no_face';
  if (out.state === 'failed' && !noFace) return routeFailure(input, out, options);
  if (noFace) return routeNoFace(out, options);
  const status =
    out.state === 'downgraded_for_performance' && outcome.downgrade
      ? downgradedStatus(outcome.downgrade)
      : { fill: 'green' as const, shape: 'dot' as const, text: statusText([plural(out.faces.length, 'face'), `${Math.round(last.ms)} ms`, outcome.provider]) };
  // The thumbnail is taken before downstream nodes release the picture.
  return { to: 1, payload: out, status, resultShown: true, thumbnail: out };

  function routeFailure(token: FaceToken, failed: FaceToken, opts: RouteOptions): StageExit {
    // A token may arrive failed already (skipped by the stage) and, forged, without its error.
    const err = failed.error
      ? new FaceError(failed.error.code as FaceError['code'], failed.error.message, { stage })
      : new FaceError('E_BAD_PARAMETER', 'the token arrived in state "failed" without an error', { stage });
    const arrivedFailed = token.state === 'failed';
    if (opts.onFailure === 'pass' && !arrivedFailed) {
      // The token as it came, with the failure journalled: later stages still run on it.
      const passed = advance(token, {}, { stage, ms: failed.journal[failed.journal.length - 1]?.ms ?? 0, outcome: 'failed', note: `${err.code} · onFailure: pass` });
      return { to: 1, payload: passed, status: { fill: 'yellow', shape: 'dot', text: statusText([err.code, 'passed on']) }, resultShown: true, report: err, releaseNew: { input: token, out: failed } };
    }
    if (opts.onFailure === 'drop' && !arrivedFailed) {
      return {
        to: 'none',
        status: { fill: 'yellow', shape: 'ring', text: statusText([err.code, 'dropped']) },
        resultShown: true,
        report: err,
        releaseNew: { input: token, out: failed },
        dropped: failed,
      };
    }
    // To the Catch node or output 2; the failed token's frames are held (bounded) for the branch that takes it, else freed now.
    const settle = { token: failed, taken: opts.failureOutput || opts.catchTakes() };
    if (opts.failureOutput) {
      return { to: 2, payload: failed, msgError: { code: err.code, message: err.message, stage }, status: errorStatus(err), resultShown: true, report: err, settle };
    }
    return { to: 'catch', payload: failed, error: err, status: errorStatus(err), resultShown: true, report: err, settle };
  }

  function routeNoFace(token: FaceToken, opts: RouteOptions): StageExit {
    const message = token.error?.message ?? `no face found (${stage})`;
    if (opts.onNoFace === 'drop') {
      return { to: 'none', status: { fill: 'yellow', shape: 'ring', text: 'no face · dropped' }, resultShown: true, dropped: token };
    }
    if (opts.failureOutput) {
      return { to: 2, payload: token, msgError: { code: 'E_NO_FACE', message, stage }, status: { fill: 'yellow', shape: 'dot', text: 'no face · output 2' }, resultShown: true };
    }
    if (opts.onNoFace === 'error') {
      return {
        to: 'catch',
        payload: token,
        error: new FaceError('E_NO_FACE', message, { stage }),
        status: { fill: 'red', shape: 'dot', text: 'no face' },
        resultShown: true,
        settle: { token, taken: opts.catchTakes() },
      };
    }
    const skipped = advance(token, { state: 'skipped', error: undefined }, { stage, ms: 0, outcome: 'no_face', note: 'onNoFace: pass' });
    return { to: 1, payload: skipped, status: { fill: 'yellow', shape: 'dot', text: 'no face · passed on' }, resultShown: true };
  }
}

/** Yellow while the runtime's downgrade policy takes work out: why, and how many tokens so far. */
function downgradedStatus(downgrade: Downgrade): NodeStatus {
  return { fill: 'yellow', shape: 'dot', text: statusText([`downgraded: ${downgrade.reason} (${downgrade.count})`]) };
}
