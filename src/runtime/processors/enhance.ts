import type { FaceToken } from '../token/types';
import type { Frame, Rect } from '../vision/frame';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage, type StageResult } from './stage';
import { isDefaultModelRef } from '../models/model-ref';
import { boxMaskOptions, clamp01 } from './params';
import { selectFaces } from '../faces/select';
import { expandBox } from '../vision/rect';
import { blurRegionInPlace } from '../vision/blur';
import { boxMask } from '../vision/mask';
import { withDerivedRoom } from './frames';
import { drawFacesWithModel, editableCopy, rgbView, storeEdited } from './yuv-pixels';
import { assertFaceWork } from './limits';
import { clipRect } from '../vision/rect';
import { crop } from '../vision/resize';
import { realFaces, skippedNote } from './face-check';

/** Light denoise radius and the wider radius whose difference gives the sharpening detail. */
const DENOISE_SIGMA = 0.8;
const DETAIL_SIGMA = 2.5;
const DETAIL_AMOUNT = 0.7;
/**
 * Pixels around a face that feed its blurs: the exact Gaussian kernel of DETAIL_SIGMA reaches
 * ⌈3σ⌉ pixels; a little more costs nothing and keeps the result equal to a whole-frame blur.
 */
const BLUR_REACH = Math.ceil(3 * DETAIL_SIGMA) + 2;

/**
 * Face enhancer. With no face_enhancer_model (or `embedded`): a mild face-region denoise +
 * unsharp mask whose detail is cored at the face's own noise floor (so grain is never
 * sharpened into texture), blended through a soft box mask by blend ratio — honest image
 * processing, not GFPGAN. With a model (gfpgan_1.4, codeformer, gpen_bfr_512, … or a path to one) each face is
 * aligned to ffhq_512, restored and pasted back, blended by face_enhancer_blend (default
 * blend_ratio, then 0.8 as FaceFusion).
 */
export async function enhance(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('enhance', token, ctx, options, async () => {
    const selected = selectFaces(token.faces, token.parameters, 'enhance');
    if (selected.length === 0) return { outcome: 'no_face', note: 'no face to enhance' };
    // Too much face area is refused before any work (the check included); then only boxes that
    // pass the face-likeness check are enhanced, the rest journalled.
    assertFaceWork(ctx, token.faces, selected, ctx.store.pixels(token.target.frame), 'enhance', 0.15);
    const { faces, keep, skipped } = await realFaces(token, ctx, selected);
    if (keep.length === 0) return { patch: { faces }, skipped, note: `0 faces${skippedNote(skipped)}` };
    const checked: FaceToken = { ...token, faces };
    const model = token.parameters.face_enhancer_model;
    const result = await (isDefaultModelRef(model) ? embeddedEnhance(checked, ctx, keep) : modelEnhance(checked, ctx, keep, model as string));
    return { ...result, patch: { faces, ...result.patch }, note: `${result.note ?? ''}${skippedNote(skipped)}`, skipped };
  });
}

async function embeddedEnhance(token: FaceToken, ctx: ProcessorContext, indices: number[]): Promise<StageResult> {
  const ratio = clamp01(token.parameters.face_enhancer_blend ?? token.parameters.blend_ratio ?? 0.8);
  const stored = ctx.store.pixels(token.target.frame);
  assertFaceWork(ctx, token.faces, indices, stored, 'enhance', 0.15);
  return withDerivedRoom(ctx, stored, async (room) => {
    // A video job's YUV frame: RGB only around the faces, changed pixels written back.
    const view = rgbView(
      ctx,
      token.target.frame,
      indices.map((i) => token.faces[i]),
    );
    const out = editableCopy(ctx, view);
    try {
      for (const i of indices) {
        const rect = expandBox(token.faces[i].bbox, 0.15, stored.width, stored.height);
        if (rect.width < 4 || rect.height < 4) continue;
        sharpenInto(out.frame, rect, ratio);
      }
      return { patch: { target: storeEdited(ctx, token, view, out.frame, room) }, note: `${indices.length} face${indices.length === 1 ? '' : 's'} · embedded sharpen` };
    } finally {
      out.release();
    }
  });
}

async function modelEnhance(token: FaceToken, ctx: ProcessorContext, indices: number[], model: string): Promise<StageResult> {
  const enhancer = await ctx.enhancer(model);
  const params = token.parameters;
  const stored = ctx.store.pixels(token.target.frame);
  assertFaceWork(ctx, token.faces, indices, stored, 'enhance');
  return withDerivedRoom(ctx, stored, async (room) => {
    const drawn = await drawFacesWithModel(ctx, token, token.faces, indices, room, (out, frame, face) =>
      enhancer.enhanceInto(out, frame, face.landmarks5!, {
        blend: clamp01(params.face_enhancer_blend ?? params.blend_ratio ?? 0.8),
        ...(params.face_enhancer_weight !== undefined ? { weight: params.face_enhancer_weight } : {}),
        ...boxMaskOptions(params),
      }),
    );
    return {
      patch: drawn,
      note: `${indices.length} face${indices.length === 1 ? '' : 's'} · ${enhancer.modelId} · ${enhancer.provider}`,
    };
  });
}

/** The coring threshold, in multiples of the face's estimated noise σ (measured: BENCHMARKS.md §16). */
const CORING = 1;

/**
 * The noise floor of a face region: CORING × σ of its noise, σ estimated robustly as 1.4826 ×
 * the median of |pixel − lightly denoised pixel| (a median ignores the edges, which are few; a
 * histogram of whole values gives it without sorting). A clean picture has a floor of a grey
 * level or two; camera grain of σ 8 a floor the grain's own detail stays under.
 */
function detailFloor(frame: Frame, rect: Rect, denoised: Uint8Array, areaWidth: number, local: Rect): number {
  const histogram = new Uint32Array(256);
  let count = 0;
  for (let y = 0; y < rect.height; y++) {
    let p = ((rect.y + y) * frame.width + rect.x) * 3;
    let q = ((local.y + y) * areaWidth + local.x) * 3;
    for (let x = 0; x < rect.width * 3; x++, p++, q++) {
      histogram[Math.abs(frame.data[p] - denoised[q])]++;
      count++;
    }
  }
  let seen = 0,
    median = 0;
  while (median < 255 && (seen += histogram[median]) < count / 2) median++;
  return CORING * 1.4826 * Math.max(median, 0.5);
}

/**
 * Sharpens one face region of `frame` in place. The two blurs work on a crop of the face and
 * its surroundings (BLUR_REACH), never on a copy of the whole frame: the cost follows the face,
 * not the picture, and the pixels are the same as a whole-frame blur would give.
 */
function sharpenInto(frame: Frame, rect: Rect, ratio: number): void {
  const area = clipRect({ x: rect.x - BLUR_REACH, y: rect.y - BLUR_REACH, width: rect.width + 2 * BLUR_REACH, height: rect.height + 2 * BLUR_REACH }, frame.width, frame.height);
  const local: Rect = { x: rect.x - area.x, y: rect.y - area.y, width: rect.width, height: rect.height };
  const denoisedFrame = crop(frame, area);
  const baseFrame = crop(frame, area);
  // The exact kernel (≤ 17 taps at these sigmas): a sharpening filter's detail layer is the
  // difference of two blurs, and the crop must give the whole-frame blur's pixels exactly.
  blurRegionInPlace(denoisedFrame, local, DENOISE_SIGMA, { exact: true });
  blurRegionInPlace(baseFrame, local, DETAIL_SIGMA, { exact: true });
  const denoised = denoisedFrame.data;
  const base = baseFrame.data;
  const floor = detailFloor(frame, rect, denoised, area.width, local);
  const mask = boxMask(rect.width, rect.height, 0.3, [0, 0, 0, 0]);
  const data = frame.data;
  for (let y = 0; y < rect.height; y++) {
    let p = ((rect.y + y) * frame.width + rect.x) * 3;
    let q = ((local.y + y) * area.width + local.x) * 3;
    let m = y * rect.width;
    for (let x = 0; x < rect.width; x++, m++) {
      const w = mask[m] * ratio;
      if (w > 0) {
        for (let c = 0; c < 3; c++, p++, q++) {
          const d = denoised[q];
          // Detail within the noise floor is noise: cored away, never sharpened into texture.
          const detail = d - base[q];
          const kept = detail > floor ? detail - floor : detail < -floor ? detail + floor : 0;
          const enhanced = d + DETAIL_AMOUNT * kept;
          const v = data[p] * (1 - w) + enhanced * w;
          data[p] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
        }
      } else {
        p += 3;
        q += 3;
      }
    }
  }
}
