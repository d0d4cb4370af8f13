import type { Face, FaceToken, FrameRef } from '../token/types';
import type { Reservation } from '../store/types';
import type { Frame, Rect } from '../vision/frame';
import { clipRect } from '../vision/rect';
import { isYuv, writeRgbRegionToYuv, yuvRegionToRgb, type YuvFrame } from '../vision/yuv';
import type { ProcessorContext } from './context';
import { storeDerivedTarget } from './frames';
import { ensureLandmarks } from './face-points';

/**
 * How much of the frame around a face a stage reads, as a fraction of the face box's larger
 * side on every side (so 1.6× the box). The landmark crops (the default: the box made square;
 * 2dfan4: 1.31× the box), the 112 px identity crop (≈ 1.6× the eye-to-eye face width), the
 * embedded swap (inside the 68-point hull) and the sharpen's blur reach stay inside it; a read
 * beyond it would see black, which the tests comparing against the RGB path would catch.
 */
export const FACE_CONTEXT = 0.3;
/** For model stages (swapper and enhancer templates with pixel boost, ffhq_512's wide crop): 3× the box. */
export const MODEL_FACE_CONTEXT = 1;

/**
 * The pixels a stage that works on RGB (landmarks, embedding, swap, enhance) reads from the
 * token's target. For an RGB frame: the frame itself. For a YUV frame of a video job: an RGB
 * frame of the same size in which only the area around each face is converted (`rects`), the
 * rest black — a 720p frame with two faces costs ≈ 0.25 M converted pixels instead of 0.9 M.
 * The view is kept with the stored frame (FrameStore.attach): the next stage on the same frame
 * (landmark → embed → swap) converts only areas not converted yet, and its pooled buffer goes
 * back when the frame leaves the store. Read-only: stages draw into an `editableCopy`.
 */
export interface RgbView {
  readonly frame: Frame;
  /** The areas this view was asked for (empty for an RGB frame). */
  readonly rects: readonly Rect[];
  /** The stored YUV frame, when the target is one. */
  readonly yuv?: YuvFrame;
}

interface ViewCache {
  frame: Frame;
  converted: Rect[];
}

export function rgbView(ctx: ProcessorContext, ref: FrameRef, faces: readonly Pick<Face, 'bbox' | 'landmarks68'>[], context = FACE_CONTEXT): RgbView {
  const pixels = ctx.store.pixels(ref);
  if (!isYuv(pixels)) return { frame: pixels, rects: [] };
  const store = ctx.store;
  const cache = store.attach<ViewCache>(
    ref,
    'rgb-view',
    () => {
      const data = store.acquire(pixels.width * pixels.height * 3);
      data.fill(0);
      return { frame: { width: pixels.width, height: pixels.height, channels: 3, data }, converted: [] };
    },
    (c) => store.recycle(c.frame.data),
  );
  const rects = faces.map((f) => faceArea(f, pixels.width, pixels.height, context)).filter((r) => r.width > 0 && r.height > 0);
  for (const rect of rects) {
    if (cache.converted.some((done) => contains(done, rect))) continue;
    yuvRegionToRgb(pixels, rect, cache.frame);
    cache.converted.push(rect);
  }
  return { frame: cache.frame, rects, yuv: pixels };
}

function contains(outer: Rect, inner: Rect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
}

/**
 * A private copy of the view's pixels for a stage to draw into (an RGB view: a plain copy; a
 * YUV view: a pooled scratch buffer, given back by `release`).
 */
export function editableCopy(ctx: ProcessorContext, view: RgbView): { frame: Frame; release(): void } {
  if (!view.yuv) return { frame: { width: view.frame.width, height: view.frame.height, channels: 3, data: new Uint8Array(view.frame.data) }, release: () => undefined };
  const data = ctx.store.acquire(view.frame.data.length);
  data.set(view.frame.data);
  return { frame: { width: view.frame.width, height: view.frame.height, channels: 3, data }, release: () => ctx.store.recycle(data) };
}

/**
 * Stores what a stage drew into `edited` (an `editableCopy` of `view`) as the token's new target;
 * `changed`: where the stage may have drawn (default: the view's areas; it must lie inside them).
 * RGB: the edited frame itself. YUV: a copy of the stored YUV frame with only the changed pixels
 * of the view's areas written back (writeRgbRegionToYuv), in a pooled buffer when the original
 * is pooled — the video stays YUV to the encoder and unchanged pixels stay bit-exact.
 */
export function storeEdited(ctx: ProcessorContext, token: FaceToken, view: RgbView, edited: Frame, room: Reservation, changed: readonly Rect[] = view.rects): FaceToken['target'] {
  if (!view.yuv) return storeDerivedTarget(ctx, token, edited, room);
  const yuv = view.yuv;
  const pooled = ctx.store.isPooled(token.target.frame);
  const data = pooled ? ctx.store.acquire(yuv.data.length) : new Uint8Array(yuv.data.length);
  data.set(yuv.data);
  const out: YuvFrame = { format: 'yuv420p', width: yuv.width, height: yuv.height, data, ...(yuv.matrix ? { matrix: yuv.matrix } : {}) };
  for (const rect of changed) writeRgbRegionToYuv(edited, rect, out, view.frame);
  return storeDerivedTarget(ctx, token, out, room, pooled);
}

/**
 * How the model stages (swap and enhance with an ONNX model) draw faces: the RGB view around
 * the faces at MODEL_FACE_CONTEXT, a private copy to draw into, each face's landmarks made sure
 * of (kept in the returned faces), `draw` painting that face into the copy from the view's
 * pixels, then the copy stored as the token's new target (storeEdited). `faces` is the token's
 * face list (after the face check); only `indices` are drawn.
 */
export async function drawFacesWithModel(
  ctx: ProcessorContext,
  token: FaceToken,
  faces: readonly Face[],
  indices: readonly number[],
  room: Reservation,
  draw: (out: Frame, frame: Frame, face: Face) => Promise<unknown>,
): Promise<{ faces: Face[]; target: FaceToken['target'] }> {
  const view = rgbView(
    ctx,
    token.target.frame,
    indices.map((i) => faces[i]),
    MODEL_FACE_CONTEXT,
  );
  const edit = editableCopy(ctx, view);
  try {
    const drawn = faces.slice();
    for (const i of indices) {
      drawn[i] = await ensureLandmarks(drawn[i], view.frame, ctx, token.parameters);
      await draw(edit.frame, view.frame, drawn[i]);
    }
    return { faces: drawn, target: storeEdited(ctx, token, view, edit.frame, room) };
  } finally {
    edit.release();
  }
}

/**
 * The area around a face a stage may read, on even coordinates: chroma samples cover 2×2 pixels,
 * and writeRgbRegionToYuv works on whole ones, so every pixel it compares was converted.
 */
function faceArea(face: Pick<Face, 'bbox' | 'landmarks68'>, width: number, height: number, context: number): Rect {
  const { bbox } = face;
  const m = Math.max(bbox[2] - bbox[0], bbox[3] - bbox[1]) * context;
  let x0 = bbox[0] - m,
    y0 = bbox[1] - m,
    x1 = bbox[2] + m,
    y1 = bbox[3] + m;
  // A jaw line can reach below a detector's box: the 68 points (and the swap's 2 px pad) are in too.
  for (const [x, y] of face.landmarks68 ?? []) {
    x0 = Math.min(x0, x - 3);
    y0 = Math.min(y0, y - 3);
    x1 = Math.max(x1, x + 3);
    y1 = Math.max(y1, y + 3);
  }
  const ex0 = Math.floor(x0) & ~1,
    ey0 = Math.floor(y0) & ~1;
  const ex1 = Math.ceil(Math.ceil(x1) / 2) * 2,
    ey1 = Math.ceil(Math.ceil(y1) / 2) * 2;
  return clipRect({ x: ex0, y: ey0, width: ex1 - ex0, height: ey1 - ey0 }, width, height);
}
