import type { FaceToken } from '../token/types';
import type { Frame, Rect } from '../vision/frame';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { selectFaces } from '../faces/select';
import { expandBox } from '../vision/rect';
import { gaussianBlurRegion } from '../vision/blur';
import { boxMask } from '../vision/mask';
import { cloneFrame } from '../vision/frame';
import { storeDerivedTarget } from './frames';

/** Light denoise radius and the wider radius whose difference gives the sharpening detail. */
const DENOISE_SIGMA = 0.8;
const DETAIL_SIGMA = 2.5;
const DETAIL_AMOUNT = 0.7;

/**
 * Embedded enhancer (no model): a mild face-region denoise + unsharp mask, blended through a
 * soft box mask by `blend_ratio`. It is honest image processing, not GFPGAN — ONNX enhancers
 * (gfpgan, codeformer, …) replace it when configured.
 */
export async function enhance(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('enhance', token, ctx, options, async () => {
    const indices = selectFaces(token.faces, token.parameters, 'enhance');
    if (indices.length === 0) return { outcome: 'no_face', note: 'no face to enhance' };
    const ratio = clamp01(token.parameters.blend_ratio ?? 0.8);
    const source = ctx.store.get(token.target.frame);
    const out = cloneFrame(source);
    for (const i of indices) {
      const rect = expandBox(token.faces[i].bbox, 0.15, source.width, source.height);
      if (rect.width < 4 || rect.height < 4) continue;
      sharpenInto(out, rect, ratio);
    }
    return { patch: { target: storeDerivedTarget(ctx, token, out) }, note: `${indices.length} face${indices.length === 1 ? '' : 's'} · embedded sharpen` };
  });
}

function sharpenInto(frame: Frame, rect: Rect, ratio: number): void {
  const denoised = gaussianBlurRegion(frame, rect, DENOISE_SIGMA).data;
  const base = gaussianBlurRegion(frame, rect, DETAIL_SIGMA).data;
  const mask = boxMask(rect.width, rect.height, 0.3, [0, 0, 0, 0]);
  const data = frame.data;
  for (let y = 0; y < rect.height; y++) {
    let p = ((rect.y + y) * frame.width + rect.x) * 3;
    let m = y * rect.width;
    for (let x = 0; x < rect.width; x++, m++) {
      const w = mask[m] * ratio;
      if (w > 0) {
        for (let c = 0; c < 3; c++, p++) {
          const d = denoised[p];
          const enhanced = d + DETAIL_AMOUNT * (d - base[p]);
          const v = data[p] * (1 - w) + enhanced * w;
          data[p] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
        }
      } else {
        p += 3;
      }
    }
  }
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
