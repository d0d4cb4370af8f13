import { isFaceToken, type FaceToken, type Runtime } from '../../runtime';
import { tokenFrameRefs } from '../../runtime/token';

/**
 * Frames a node lets go of: what a stage added to a token nobody will get, the picture of a
 * dropped message, a failed token (held for the branch that takes it, or freed).
 */

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
 * A failed token leaves a node for a Catch branch or a failure output (`taken`), or for
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
