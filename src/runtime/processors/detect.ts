import type { Face, FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { boxArea } from '../faces/select';
import { roundPoint } from '../faces/landmarks';
import { MAX_FACES } from '../token/schema';

/** Finds faces in the target frame with face_detector_model: pixel boxes, scores, 5 points when the model gives them; largest first. */
export async function detect(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('detect', token, ctx, options, async () => {
    const frame = ctx.store.get(token.target.frame);
    const detector = await ctx.detector(token.parameters.face_detector_model);
    const found = await detector.detect(frame, {
      scoreThreshold: token.parameters.score_threshold ?? 0.6,
      // A token holds at most MAX_FACES faces; the schema caps max_faces, this guards trusted callers too.
      maxFaces: Math.min(token.parameters.max_faces ?? 20, MAX_FACES),
    });
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
      note: `${faces.length} face${faces.length === 1 ? '' : 's'} · ${detector.modelId} · ${detector.provider}`,
    };
  });
}
