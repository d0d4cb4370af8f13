import type { Face, FaceToken, Parameters } from '../token/types';
import type { ProcessorContext } from './context';
import type { FaceStream, FaceStreamOptions, PrivacyStats, StreamMasks } from '../faces/face-stream';
import { DEFAULT_SCORE_THRESHOLD } from './detect-thresholds';
import { faceError } from '../errors';

/** Frames a face stays masked after its last sighting by default (a video or live source). */
export const DEFAULT_HOLD_FRAMES = 8;
/** Seconds within which every part of a video frame is scanned at every scale, by default. */
export const DEFAULT_SCAN_INTERVAL = 0.2;
/** detect_scan_interval at most (seconds). */
const MAX_SCAN_INTERVAL = 5;

/** A token that is a frame of a video or live source (job_id and frame index) and blurs: the stream's privacy state applies. */
export function isStreamPrivacyFrame(token: FaceToken): boolean {
  return token.job_id !== undefined && token.target.index !== undefined && token.operations.includes('blur');
}

/** detect_scan_interval in seconds (0 … 5), or the default. */
export function scanInterval(parameters: Parameters): number {
  const v = parameters.detect_scan_interval;
  if (v === undefined) return DEFAULT_SCAN_INTERVAL;
  if (typeof v !== 'number' || !(v >= 0 && v <= MAX_SCAN_INTERVAL))
    throw faceError('E_BAD_PARAMETER', `detect_scan_interval must be a number of seconds from 0 to ${MAX_SCAN_INTERVAL}, got ${JSON.stringify(v)}`);
  return v;
}

/** The stream settings a flow's frame token asks for (a job opens its stream with its own). */
export function streamOptions(token: FaceToken): FaceStreamOptions {
  return {
    holdFrames: token.parameters.blur_hold_frames ?? DEFAULT_HOLD_FRAMES,
    motion: token.parameters.blur_hold_motion ?? 'constant_velocity',
    confirmScore: token.parameters.score_threshold ?? DEFAULT_SCORE_THRESHOLD,
    scanInterval: scanInterval(token.parameters),
    lookahead: 0,
    ordered: false,
  };
}

/** The token's source stream (made on first use), or undefined for a picture, a frame that does not blur, or a context without streams (a pixel worker). */
export function privacyStream(token: FaceToken, ctx: ProcessorContext): FaceStream | undefined {
  if (!ctx.streams || !isStreamPrivacyFrame(token)) return undefined;
  return ctx.streams.get(token.job_id as string, streamOptions(token), ctx.now());
}

/**
 * The token's faces plus the regions its stream's tracks place in this frame (faces with
 * `held`). Runs on the main thread, where the streams live: the blur processor calls it (a no-op
 * in a pixel worker), and a source's frame loop calls it before every blur (withStreamFaces,
 * jobs/frame-loop.ts), so a pixel worker gets them in the token. Faces already carrying `held` mean it
 * was applied: not again.
 */
export async function streamFaces(token: FaceToken, ctx: ProcessorContext): Promise<StreamMasks & { all: Face[] }> {
  const stream = privacyStream(token, ctx);
  if (!stream || token.faces.some((f) => f.held !== undefined)) return { faces: [], all: token.faces, late: false };
  const width = token.target.width ?? ctx.store.pixels(token.target.frame).width;
  const height = token.target.height ?? ctx.store.pixels(token.target.frame).height;
  const masks = await stream.masks(token.target.index as number, width, height);
  return { ...masks, all: masks.faces.length ? [...token.faces, ...masks.faces] : token.faces };
}

/** The token with its stream's tracked regions among its faces (before a blur stage in a pixel worker). */
export async function withStreamFaces(token: FaceToken, ctx: ProcessorContext): Promise<FaceToken> {
  const { all, faces } = await streamFaces(token, ctx);
  return faces.length ? { ...token, faces: all } : token;
}

/** A frame of a stream that will not be observed (it failed before or in detect): later frames need not wait for it. */
export function finishStreamFrame(token: FaceToken, ctx: ProcessorContext): void {
  if (!ctx.streams || token.job_id === undefined || token.target.index === undefined) return;
  ctx.streams.peek(token.job_id)?.finish(token.target.index);
}

/**
 * What a picture's privacy blur covered, in the form a video job reports (one frame, scanned in
 * full or refused), from the figures its detect and blur stages journalled; undefined when the
 * token did not blur.
 */
export function pictureCoverage(token: FaceToken): PrivacyStats | undefined {
  if (!token.operations.includes('blur')) return undefined;
  const detect = token.journal.find((j) => j.stage === 'detect' && j.figures)?.figures;
  const blur = token.journal.find((j) => j.stage === 'blur' && j.figures)?.figures;
  return {
    frames: 1,
    framesFullScan: detect ? 1 : 0,
    framesRollingScan: 0,
    framesTrackedOnly: 0,
    framesNotCovered: detect ? 0 : 1,
    notCoveredFrames: detect ? [] : [0],
    facesBlurred: blur?.blurred ?? 0,
    facesHeld: 0,
    tracks: 0,
    ...(detect?.min_face !== undefined ? { minFaceCovered: detect.min_face } : {}),
    scanIntervalSec: 0,
    scanIntervalMaxSec: 0,
    framesStretchedScan: 0,
    lookaheadFrames: 0,
    tilesPerFrame: detect?.tiles ?? 0,
    planTiles: detect?.plan_tiles ?? 0,
  };
}
