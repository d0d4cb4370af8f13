import { faceError } from '../errors';
import type { Face } from '../token/types';
import { expandBox } from '../vision/rect';
import type { ProcessorContext } from './context';

/** Default bound on the face area one pixel stage works on, as a multiple of the frame's area. */
export const DEFAULT_FACE_AREA_RATIO = 2;

/**
 * Refuses (E_BAD_PARAMETER, before any pixel is touched) a stage whose selected faces, each
 * enlarged by `margin` and clipped to the frame, add up to more than `ctx.maxFaceAreaRatio`
 * times the frame's area. Real detections overlap little; a forged token with hundreds of
 * frame-sized boxes would otherwise cost minutes of work for one message.
 */
export function assertFaceWork(ctx: ProcessorContext, faces: readonly Face[], indices: readonly number[], frame: { width: number; height: number }, stage: string, margin = 0): void {
  const ratio = ctx.maxFaceAreaRatio ?? DEFAULT_FACE_AREA_RATIO;
  const frameArea = frame.width * frame.height;
  const limit = ratio * frameArea;
  let total = 0;
  for (const i of indices) {
    const rect = expandBox(faces[i].bbox, margin, frame.width, frame.height);
    total += rect.width * rect.height;
    if (total > limit) {
      throw faceError('E_BAD_PARAMETER', `the ${indices.length} selected faces cover more than ${ratio}× the frame's area; ${stage} refuses that much work for one message (maxFaceAreaRatio)`, {
        stage,
      });
    }
  }
}
