import type { Box, Frame, Point, Rect } from '../vision/frame';
import type { FaceDetector } from '../models/types';
import type { LandmarkerEngine, RecognizerEngine } from '../models/engines';
import type { FaceLikeness } from '../token/types';
import { crop } from '../vision/resize';
import { clipRect } from '../vision/rect';
import { cropYuvToRgb, isYuv, type Pixels } from '../vision/yuv';
import { iou } from '../vision/nms';
import { landmarks5From68 } from './landmarks';

/**
 * Is this box a face? A detector finds boxes recall-first (the tile pass most of all: at native
 * scale a hand, a glass, a shirt button or a tie pattern can score 0.95). A privacy blur wants
 * every one of them; a stage that changes a face (swap, enhance) must act only on real faces.
 * Three measures, each from the embedded default models (so the limits below, measured with
 * them, hold whatever detector, landmarker or recognizer the token uses):
 *
 * - **mirror**: the 68 points of the box, and the 68 points of the mirrored box mirrored back,
 *   differ on average by this fraction of the eye distance. A face is mirror-symmetric and the
 *   landmarker finds it both ways; on a non-face it guesses, and the two guesses disagree.
 * - **context**: the detector's best score for the same box (IoU > 0.3) on a crop of 4× the
 *   box around it — the face seen at an ordinary scale with its surroundings, as a whole-frame
 *   pass sees faces. Most tile-pass false boxes vanish there.
 * - **identity**: the length of the raw identity embedding of the face aligned by those
 *   points. Recognizers give faces long embeddings and everything else short ones (feature
 *   norm as a quality measure is well known); a two-hole shirt button passes the first two
 *   measures and fails this one.
 *
 * Measured (scratch script over the fixture pictures at native size, 1280 and 1920 px wide,
 * tiling auto and 160 px, score ≥ 0.45; 148 real-face boxes, 137 other boxes; see
 * BENCHMARKS.md §16): real faces mirror ≤ 0.117 (p95 0.07), context ≥ 0.99, identity ≥ 2.31
 * (tiling auto) / ≥ 1.77 (160 px tiles, a half face); other boxes mirror median 0.29, context
 * median 0, identity median 1.62, max 2.67. All three limits together keep 145 of the 148
 * faces (every face found with tiling auto) and pass none of the 137 other boxes.
 */
export const LIKENESS_LIMITS = Object.freeze({ mirror: 0.15, context: 0.9, identity: 2.2 });

/** The default models the measures are calibrated on. */
export interface LikenessModels {
  detector: FaceDetector;
  landmarker: LandmarkerEngine;
  recognizer: RecognizerEngine;
}

/** The context crop's side, as a multiple of the box's longer side. */
const CONTEXT_SCALE = 4;
/** The mirrored crop's side, as a multiple of the box's longer side (the default landmarker's crop is the box made square). */
const MIRROR_SCALE = 1.6;

/** iBUG 68-point index of each point's mirror image (left jaw ↔ right jaw, left eye ↔ right eye, …). */
export const MIRROR_68: readonly number[] = Object.freeze([
  16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 27, 28, 29, 30, 35, 34, 33, 32, 31, 45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, 54, 53, 52, 51,
  50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65,
]);

/** Measures how face-like the box is (see LIKENESS_LIMITS) and judges it. `pixels`: RGB or a video job's YUV frame. */
export async function measureFaceLikeness(pixels: Pixels, bbox: Box, models: LikenessModels): Promise<FaceLikeness> {
  const side = Math.max(bbox[2] - bbox[0], bbox[3] - bbox[1]);
  if (!(side >= 4)) return judge({ mirror: Infinity, context: 0, identity: 0 });
  const area = squareAround(bbox, side * CONTEXT_SCALE, pixels.width, pixels.height);
  // A box (mostly) outside the frame: nothing to look at.
  if (area.width < 8 || area.height < 8) return judge({ mirror: Infinity, context: 0, identity: 0 });
  const view = isYuv(pixels) ? cropYuvToRgb(pixels, area) : crop(pixels, area);
  const local: Box = [bbox[0] - area.x, bbox[1] - area.y, bbox[2] - area.x, bbox[3] - area.y];

  let context = 0;
  for (const found of await models.detector.detect(view, { scoreThreshold: 0.3, maxFaces: 20 })) {
    if (iou(found.bbox, local) > 0.3) context = Math.max(context, found.score);
  }
  const points = (await models.landmarker.locate(view, local)).points;
  const mirror = await mirrorDisagreement(view, local, side, points, models.landmarker);
  const { raw } = await models.recognizer.embedPair(view, landmarks5From68(points));
  let sum = 0;
  for (let i = 0; i < raw.length; i++) sum += raw[i] * raw[i];
  return judge({ mirror, context, identity: Math.sqrt(sum) });
}

/** The verdict for measured values: every limit must hold; `reason` names the first that does not. */
export function judge(m: { mirror: number; context: number; identity: number }): FaceLikeness {
  const round = (v: number): number => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : 99);
  const values = { mirror: round(m.mirror), context: round(m.context), identity: round(m.identity) };
  const reason = !(m.mirror <= LIKENESS_LIMITS.mirror)
    ? `landmarks disagree with the mirrored box (${values.mirror} > ${LIKENESS_LIMITS.mirror} of the eye distance)`
    : !(m.context >= LIKENESS_LIMITS.context)
      ? `not a face with its surroundings (detector ${values.context} < ${LIKENESS_LIMITS.context})`
      : !(m.identity >= LIKENESS_LIMITS.identity)
        ? `no identity (embedding length ${values.identity} < ${LIKENESS_LIMITS.identity})`
        : undefined;
  return { ok: reason === undefined, ...values, ...(reason ? { reason } : {}) };
}

async function mirrorDisagreement(view: Frame, local: Box, side: number, points: Point[], landmarker: LandmarkerEngine): Promise<number> {
  const area = squareAround(local, side * MIRROR_SCALE, view.width, view.height);
  if (area.width < 4 || area.height < 4) return Infinity;
  const mirrored = mirroredCrop(view, area);
  const w = area.width;
  // The box in the mirrored crop: x ↦ w − (x − area.x).
  const box: Box = [w - (local[2] - area.x), local[1] - area.y, w - (local[0] - area.x), local[3] - area.y];
  const back = (await landmarker.locate(mirrored, box)).points;
  const eyes = landmarks5From68(points);
  const eyeDistance = Math.hypot(eyes[1][0] - eyes[0][0], eyes[1][1] - eyes[0][1]);
  if (!(eyeDistance > 0.5)) return Infinity;
  let total = 0;
  for (let i = 0; i < 68; i++) {
    const q = back[MIRROR_68[i]];
    total += Math.hypot(w - q[0] + area.x - points[i][0], q[1] + area.y - points[i][1]);
  }
  return total / 68 / eyeDistance;
}

/** A square of `size` around the box's centre, clipped to the frame, on whole pixels. */
function squareAround(b: Box, size: number, width: number, height: number): Rect {
  const cx = (b[0] + b[2]) / 2,
    cy = (b[1] + b[3]) / 2;
  const x0 = Math.floor(cx - size / 2),
    y0 = Math.floor(cy - size / 2);
  return clipRect({ x: x0, y: y0, width: Math.ceil(size), height: Math.ceil(size) }, width, height);
}

/** `rect` of `frame`, left and right swapped. */
export function mirroredCrop(frame: Frame, rect: Rect): Frame {
  const { width, height } = rect;
  const data = new Uint8Array(width * height * 3);
  const src = frame.data;
  for (let y = 0; y < height; y++) {
    let s = ((rect.y + y) * frame.width + rect.x) * 3;
    let d = (y * width + width - 1) * 3;
    for (let x = 0; x < width; x++, s += 3, d -= 3) {
      data[d] = src[s];
      data[d + 1] = src[s + 1];
      data[d + 2] = src[s + 2];
    }
  }
  return { width, height, channels: 3, data };
}
