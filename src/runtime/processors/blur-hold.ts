import type { Face, FaceToken } from '../token/types';
import type { ProcessorContext } from './context';
import type { HoldOptions } from '../faces/face-tracks';
import { DEFAULT_SCORE_THRESHOLD } from './detect';

/** Frames held by default for a token of a video or live source (one with a job_id and a frame index). */
export const DEFAULT_HOLD_FRAMES = 8;

/** The hold a token asks for, or undefined (a still image, or blur_hold_frames 0). */
export function holdOptions(token: FaceToken): HoldOptions | undefined {
  if (token.job_id === undefined || token.target.index === undefined) return undefined;
  const frames = token.parameters.blur_hold_frames ?? DEFAULT_HOLD_FRAMES;
  if (!(frames > 0)) return undefined;
  return { frames, motion: token.parameters.blur_hold_motion ?? 'constant_velocity', confirmScore: token.parameters.score_threshold ?? DEFAULT_SCORE_THRESHOLD };
}

/**
 * The token's faces plus the regions its source's tracker still holds (faces with `held`).
 * Runs on the main thread, where the runtime's per-source trackers live: the blur processor
 * calls it (a no-op in a pixel worker, whose context has no tracks), and a job that sends the
 * blur stage to a pixel worker calls it first (runFrameStages), so the worker gets the held
 * faces in the token. Faces already carrying `held` mean the hold was applied: not again.
 */
export async function applyHold(token: FaceToken, ctx: ProcessorContext, inOrder = false): Promise<{ faces: Face[]; held: number; late: boolean }> {
  const options = holdOptions(token);
  if (!ctx.tracks || !options || token.faces.some((f) => f.held !== undefined)) return { faces: token.faces, held: 0, late: false };
  const width = token.target.width ?? ctx.store.pixels(token.target.frame).width;
  const height = token.target.height ?? ctx.store.pixels(token.target.frame).height;
  const tracker = ctx.tracks.get(token.job_id as string, options, ctx.now());
  return tracker.update(token.target.index as number, token.faces, width, height, ctx.now(), inOrder);
}

/**
 * A token whose faces include the held regions, the frame tracked in index order among its
 * source's frames (a job's frames in flight): runFrameStages calls it before the blur stage,
 * which then gets the same result for the frame (main thread) or has the held faces in the
 * token (pixel worker).
 */
export async function withHeldFaces(token: FaceToken, ctx: ProcessorContext): Promise<FaceToken> {
  const { faces, held } = await applyHold(token, ctx, true);
  return held ? { ...token, faces } : token;
}

/** A frame of a held source that will not reach the blur stage: later frames need not wait for it. */
export function skipHold(token: FaceToken, ctx: ProcessorContext): void {
  const options = holdOptions(token);
  if (!ctx.tracks || !options) return;
  ctx.tracks.peek(token.job_id as string)?.skip(token.target.index as number);
}
