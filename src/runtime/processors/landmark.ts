import type { Face, FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { faceError } from '../errors';
import { withLandmarks } from './face-points';
import { rgbView } from './yuv-pixels';

/** 68 points per face from the landmarker (parameter face_landmarker_model), and the 5 alignment points. */
export async function landmark(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('landmark', token, ctx, options, async () => {
    if (token.faces.length === 0) throw faceError('E_NO_FACE', 'no face to find landmarks on: run detect first, or the image has no face', { stage: 'landmark' });
    const landmarker = await ctx.landmarker(token.parameters.face_landmarker_model);
    const view = rgbView(ctx, token.target.frame, token.faces);
    const faces: Face[] = [];
    for (const face of token.faces) faces.push(await withLandmarks(face, view.frame, ctx, token.parameters));
    return { patch: { faces }, note: `${faces.length} × 68 points · ${landmarker.modelId} · ${landmarker.provider}` };
  });
}
