import type { Face, FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { faceError } from '../errors';
import { landmarks5From68, roundPoint } from '../faces/landmarks';

/** 68 points per face from the landmarker, and the 5 alignment points derived from them. */
export async function landmark(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('landmark', token, ctx, options, async () => {
    if (token.faces.length === 0) throw faceError('E_NO_FACE', 'no face to find landmarks on: run detect first, or the image has no face', { stage: 'landmark' });
    const frame = ctx.store.get(token.target.frame);
    const landmarker = await ctx.landmarker();
    const faces: Face[] = [];
    for (const face of token.faces) {
      const landmarks68 = (await landmarker.landmarks68(frame, face.bbox)).map(roundPoint);
      faces.push({ ...face, landmarks68, landmarks5: landmarks5From68(landmarks68).map(roundPoint) });
    }
    return { patch: { faces }, note: `${faces.length} × 68 points · ${landmarker.provider}` };
  });
}
