import type { Face, FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import type { StageResult } from './stage';
import { runStage } from './stage';
import { faceError } from '../errors';
import { selectFaces } from '../faces/select';
import { isDefaultModelRef } from '../models/model-ref';
import { analyseSource } from './source-face';
import { ensureLandmarks } from './face-points';
import type { Rect } from '../vision/frame';
import { withDerivedRoom } from './frames';
import { editableCopy, rgbView, storeEdited } from './yuv-pixels';
import { assertFaceWork } from './limits';
import { swapFaceEmbedded } from './swap-embedded';
import { swapFacesWithModel } from './swap-model';
import { clamp01 } from './params';

/**
 * Puts the source face onto the selected target faces. With no face_swapper_model (or
 * `embedded`) it is the embedded landmark-driven swap, which needs no download; with a model
 * (inswapper_128, simswap_256, … or a path to one) the model swaps each aligned face crop and
 * the result is pasted back FaceFusion's way.
 */
export async function swap(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('swap', token, ctx, options, async () => {
    if (token.faces.length === 0) throw faceError('E_NO_FACE', 'no target face to swap: run detect first, or the image has no face', { stage: 'swap' });
    const model = token.parameters.face_swapper_model;
    return isDefaultModelRef(model) ? embeddedSwap(token, ctx) : swapFacesWithModel(token, ctx, model as string);
  });
}

async function embeddedSwap(token: FaceToken, ctx: ProcessorContext): Promise<StageResult> {
  const source = await analyseSource(token, ctx, 'swap');
  if (!source.frame || !source.face?.landmarks68) {
    throw faceError('E_NO_SOURCE', 'the embedded swap needs a source image (an embedding alone is not enough)', { stage: 'swap' });
  }
  const sourcePoints = source.face.landmarks68;
  const sourceFrame = ctx.store.get(source.frame);
  const stored = ctx.store.pixels(token.target.frame);
  const indices = selectFaces(token.faces, token.parameters, 'swap');
  if (indices.length === 0) return { patch: { source }, outcome: 'no_face', note: 'no face matched the selector' };

  const ratio = clamp01(token.parameters.blend_ratio ?? 0.8);
  assertFaceWork(ctx, token.faces, indices, stored, 'swap');
  return withDerivedRoom(ctx, stored, async (room) => {
    // A video job's YUV frame: RGB only around the swapped faces, written back into a YUV copy.
    const target = rgbView(ctx, token.target.frame, indices.map((i) => token.faces[i]));
    const out = editableCopy(ctx, target);
    try {
      const faces: Face[] = token.faces.slice();
      const changed: Rect[] = [];
      for (const i of indices) {
        faces[i] = await ensureLandmarks(faces[i], target.frame, ctx, token.parameters);
        const rect = swapFaceEmbedded(sourceFrame, sourcePoints, target.frame, faces[i].landmarks68!, out.frame, ratio, ctx.scratch);
        if (rect) changed.push(rect);
      }
      return {
        // Only the face hulls changed: a YUV frame gets just those written back.
        patch: { source, faces, target: storeEdited(ctx, token, target, out.frame, room, changed) },
        note: `${indices.length} face${indices.length === 1 ? '' : 's'} · embedded landmark swap`,
      };
    } finally {
      out.release();
    }
  });
}
