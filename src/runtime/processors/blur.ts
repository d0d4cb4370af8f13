import type { FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { selectFaces } from '../faces/select';
import { expandBox } from '../vision/rect';
import { blurRegionInPlace, pixelateRegionInPlace } from '../vision/blur';
import { cloneFrame } from '../vision/frame';
import { storeDerivedTarget, withDerivedRoom } from './frames';
import { assertFaceWork } from './limits';

/**
 * Privacy blur: every selected face's box, enlarged by `blur_margin`, is blurred (gaussian)
 * or pixelated; `blur_strength` 0..1 scales the radius / block size with the face size.
 * Pixels outside the enlarged boxes are left exactly as they were.
 */
export async function blur(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('blur', token, ctx, options, () => withDerivedRoom(ctx, ctx.store.get(token.target.frame), async (room) => {
    const indices = selectFaces(token.faces, token.parameters, 'blur');
    if (indices.length === 0) return { outcome: 'no_face', note: 'no face to blur' };
    const mode = token.parameters.blur_mode ?? 'gaussian';
    const strength = clamp01(token.parameters.blur_strength ?? 0.7);
    const margin = token.parameters.blur_margin ?? 0.2;
    let frame = ctx.store.get(token.target.frame);
    assertFaceWork(ctx, token.faces, indices, frame, 'blur', margin);
    // One copy of the frame, every face blurred or pixelated into it.
    frame = cloneFrame(frame);
    for (const i of indices) {
      const rect = expandBox(token.faces[i].bbox, margin, frame.width, frame.height);
      if (rect.width < 1 || rect.height < 1) continue;
      const size = Math.max(rect.width, rect.height);
      if (mode === 'pixelate') pixelateRegionInPlace(frame, rect, Math.max(3, Math.round((size * (0.02 + strength * 0.14)))));
      else blurRegionInPlace(frame, rect, Math.max(1.5, size * (0.02 + strength * 0.18)));
    }
    return { patch: { target: storeDerivedTarget(ctx, token, frame, room) }, note: `${indices.length} face${indices.length === 1 ? '' : 's'} ${mode}` };
  }));
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
