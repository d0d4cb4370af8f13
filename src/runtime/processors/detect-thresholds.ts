import type { FaceToken } from '../token/types';

/** Detector score threshold when the token has none. */
export const DEFAULT_SCORE_THRESHOLD = 0.6;
/** The blur stage's own threshold when the token has none: a missed face is a privacy failure, a spare blur is not. */
export const DEFAULT_BLUR_SCORE_THRESHOLD = 0.45;

/**
 * The threshold detection runs at: score_threshold, or lower when the token's operations include
 * blur (blur_score_threshold, default 0.45). Every later stage of the token gets these faces (a
 * token that both swaps and blurs swaps the low-score faces too).
 */
export function detectThreshold(token: FaceToken): number {
  const base = token.parameters.score_threshold ?? DEFAULT_SCORE_THRESHOLD;
  if (!token.operations.includes('blur')) return base;
  return Math.min(base, token.parameters.blur_score_threshold ?? DEFAULT_BLUR_SCORE_THRESHOLD);
}

/**
 * A privacy blur keeps a face the frame's border cuts from this share of its threshold (0.3 at the
 * default 0.45): the detector sees only part of such a face and scores it lower (scan-detect.ts
 * ScanOptions.edgeScoreThreshold, BENCHMARKS.md §15).
 */
export const FRAME_EDGE_SCORE_SHARE = 2 / 3;

/** The threshold of faces that reach the frame's border: a share of detectThreshold for a token that blurs, none otherwise. */
export function frameEdgeThreshold(token: FaceToken): number | undefined {
  return token.operations.includes('blur') ? detectThreshold(token) * FRAME_EDGE_SCORE_SHARE : undefined;
}
