import type { Face, FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { boxArea } from '../faces/select';
import { roundPoint } from '../faces/landmarks';
import { detectTiled, parseDetectTiling } from '../faces/tiled-detect';
import { MAX_FACES } from '../token/schema';

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

/** Finds faces in the target frame with face_detector_model: pixel boxes, scores, 5 points when the model gives them; largest first. */
export async function detect(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('detect', token, ctx, options, async () => {
    // As stored: a video job's YUV frame is sampled to the detector's input without conversion.
    const frame = ctx.store.pixels(token.target.frame);
    const detector = await ctx.detector(token.parameters.face_detector_model);
    const tiling = parseDetectTiling(token.parameters.detect_tiling);
    const { faces: found, tiles } = await detectTiled(detector, frame, {
      scoreThreshold: detectThreshold(token),
      // A privacy blur must not stop at the 20th face of a crowd.
      maxFaces: Math.min(token.parameters.max_faces ?? (token.operations.includes('blur') ? MAX_FACES : 20), MAX_FACES),
    }, tiling, ctx.store);
    const faces: Face[] = found
      .map((f) => ({
        bbox: f.bbox.map((v) => Math.round(v * 10) / 10) as Face['bbox'],
        score: Math.round(f.score * 1e4) / 1e4,
        ...(f.landmarks5 ? { landmarks5: f.landmarks5.map(roundPoint) } : {}),
      }))
      .sort((a, b) => boxArea(b) - boxArea(a));
    return {
      patch: { faces },
      outcome: faces.length ? 'ok' : 'no_face',
      note: `${faces.length} face${faces.length === 1 ? '' : 's'} · ${detector.modelId} · ${detector.provider}${tiles ? ` · ${tiles} tiles + whole frame` : ''}`,
    };
  });
}
