import type { Face, FaceToken } from '../token/types';
import type { Frame, Rect } from '../vision/frame';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage, type StageResult } from './stage';
import { isDefaultModelRef } from '../models/model-ref';
import { ensureLandmarks } from './face-points';
import { boxMaskOptions, clamp01 } from './params';
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
 * Face enhancer. With no face_enhancer_model (or `embedded`): a mild face-region denoise +
 * unsharp mask, blended through a soft box mask by blend ratio — honest image processing, not
 * GFPGAN. With a model (gfpgan_1.4, codeformer, gpen_bfr_512, … or a path to one) each face is
 * aligned to ffhq_512, restored and pasted back, blended by face_enhancer_blend (default
 * blend_ratio, then 0.8 as FaceFusion).
 */
export async function enhance(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('enhance', token, ctx, options, async () => {
    const indices = selectFaces(token.faces, token.parameters, 'enhance');
    if (indices.length === 0) return { outcome: 'no_face', note: 'no face to enhance' };
    const model = token.parameters.face_enhancer_model;
    return isDefaultModelRef(model) ? embeddedEnhance(token, ctx, indices) : modelEnhance(token, ctx, indices, model as string);
  });
}

async function embeddedEnhance(token: FaceToken, ctx: ProcessorContext, indices: number[]): Promise<StageResult> {
  const ratio = clamp01(token.parameters.face_enhancer_blend ?? token.parameters.blend_ratio ?? 0.8);
  const source = ctx.store.get(token.target.frame);
  const out = cloneFrame(source);
  for (const i of indices) {
    const rect = expandBox(token.faces[i].bbox, 0.15, source.width, source.height);
    if (rect.width < 4 || rect.height < 4) continue;
    sharpenInto(out, rect, ratio);
  }
  return { patch: { target: storeDerivedTarget(ctx, token, out) }, note: `${indices.length} face${indices.length === 1 ? '' : 's'} · embedded sharpen` };
}

async function modelEnhance(token: FaceToken, ctx: ProcessorContext, indices: number[], model: string): Promise<StageResult> {
  const enhancer = await ctx.enhancer(model);
  const params = token.parameters;
  const frame = ctx.store.get(token.target.frame);
  const out = cloneFrame(frame);
  const faces: Face[] = token.faces.slice();
  for (const i of indices) {
    faces[i] = await ensureLandmarks(faces[i], frame, ctx, params);
    await enhancer.enhanceInto(out, frame, faces[i].landmarks5!, {
      blend: clamp01(params.face_enhancer_blend ?? params.blend_ratio ?? 0.8),
      ...(params.face_enhancer_weight !== undefined ? { weight: params.face_enhancer_weight } : {}),
      ...boxMaskOptions(params),
    });
  }
  return {
    patch: { faces, target: storeDerivedTarget(ctx, token, out) },
    note: `${indices.length} face${indices.length === 1 ? '' : 's'} · ${enhancer.modelId} · ${enhancer.provider}`,
  };
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
