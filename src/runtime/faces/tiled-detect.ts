import type { Box, Frame, Point, Rect } from '../vision/frame';
import type { DetectedFace, DetectOptions, FaceDetector } from '../models/types';
import { crop } from '../vision/resize';
import { cropYuvToRgb, isYuv, resizeYuvToRgb, yuvToRgb, type Pixels, type YuvFrame } from '../vision/yuv';
import { nms } from '../vision/nms';
import { faceError } from '../errors';

/**
 * `off`: the whole frame only (the detector shrinks it to its input). `auto` (default): when the
 * frame is clearly larger than the detector's input, overlapping tiles as well. A number: the
 * tiles' longer side in pixels (≥ 64), whatever the frame's size.
 */
export type DetectTiling = 'off' | 'auto' | number;

/** Input size of a detector without a declared one (all ours declare it). */
const FALLBACK_INPUT = { width: 640, height: 640 };
/** `auto` tiles a frame only when it is more than this many times the detector's input on one side. */
const AUTO_MIN_RATIO = 1.5;
/** Neighbouring tiles share this fraction of a tile, so a face up to this size is whole in one of them. */
const OVERLAP = 0.25;
/** A box within this many pixels of a tile side that is not a frame side was cut by the tile. */
const EDGE_SLACK = 2;
/** A box mostly (this fraction of its area) inside a better box is the same face, cut. */
const CONTAINED = 0.6;
/**
 * A face this many pixels tall or wide in the whole frame's detector input is the whole-frame
 * pass's to find (every detector we ship finds faces from ≈ 16 px); a tile box that large is
 * dropped. Why: at native scale a tile shows large objects in detail, and that is where the
 * small RFB-320 detector reports false faces (a shuttle model's base, 0.82).
 */
const WHOLE_FRAME_FACE_PX = 32;
/**
 * A tile box whose longer side is under this many pixels is dropped: below what the detectors
 * find reliably (RFB-320 gave a 7×10 px "face" at 0.61 on a shirt in fr_obama.jpg), and a face
 * that small carries no identity to hide. The smallest labelled faces we test are ≈ 37 px.
 */
const TILE_MIN_FACE_PX = 12;
/** Tiles per frame at most: a tile size far below the frame's would cost unbounded time. */
export const MAX_TILES = 400;

export function parseDetectTiling(value: unknown): DetectTiling {
  if (value === undefined || value === null || value === '' || value === 'auto') return 'auto';
  if (value === 'off' || value === false) return 'off';
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= 64 && n <= 8192) return n;
  throw faceError('E_BAD_PARAMETER', `detect_tiling must be "off", "auto" or a tile size in pixels (64–8192), got ${JSON.stringify(value)}`);
}

/**
 * The tiles for a frame: rectangles of the detector's input shape at its native scale (or the
 * given size), overlapping by OVERLAP, the last of each row/column flush with the frame's edge.
 * Empty when the frame needs none (it fits the detector's input, or tiling is off).
 */
export function planTiles(width: number, height: number, input: { width: number; height: number }, tiling: DetectTiling): Rect[] {
  if (tiling === 'off') return [];
  let tw = input.width, th = input.height;
  if (typeof tiling === 'number') {
    const s = tiling / Math.max(input.width, input.height);
    tw = Math.round(input.width * s);
    th = Math.round(input.height * s);
  } else if (width <= input.width * AUTO_MIN_RATIO && height <= input.height * AUTO_MIN_RATIO) {
    return [];
  }
  tw = Math.min(tw, width);
  th = Math.min(th, height);
  if (tw >= width && th >= height) return [];
  const xs = starts(width, tw), ys = starts(height, th);
  if (xs.length * ys.length > MAX_TILES) {
    throw faceError('E_BAD_PARAMETER', `detect_tiling ${tiling} would cut this ${width}×${height} frame into ${xs.length * ys.length} tiles (at most ${MAX_TILES}): choose a larger tile size or "auto"`);
  }
  const tiles: Rect[] = [];
  for (const y of ys) for (const x of xs) tiles.push({ x, y, width: tw, height: th });
  return tiles;
}

function starts(total: number, size: number): number[] {
  if (size >= total) return [0];
  const step = Math.max(1, Math.floor(size * (1 - OVERLAP)));
  const out: number[] = [];
  for (let s = 0; s + size < total; s += step) out.push(s);
  out.push(total - size);
  return out;
}

/**
 * Faces of the whole frame and of every tile, in frame coordinates, merged: boxes a tile cut
 * (touching a tile side inside the frame) and tile boxes the whole-frame pass could see
 * (WHOLE_FRAME_FACE_PX) are dropped — the overlap shows that face whole in a
 * neighbouring tile, or the whole-frame pass sees it — then NMS (IoU `nmsIou`, default 0.4) and
 * a box lying mostly inside a better one is dropped too, so one face gives one box.
 */
export async function detectTiled(detector: FaceDetector, frame: Pixels, options: DetectOptions, tiling: DetectTiling, buffers?: ScratchBuffers): Promise<{ faces: DetectedFace[]; tiles: number }> {
  const tiles = planTiles(frame.width, frame.height, detector.inputSize ?? FALLBACK_INPUT, tiling);
  if (tiles.length === 0) return { faces: await detectWhole(detector, frame, options, buffers), tiles: 0 };
  const perCall: DetectOptions = { ...options, maxFaces: Math.max(options.maxFaces, 64) };
  const all: DetectedFace[] = [...(await detectWhole(detector, frame, perCall, buffers))];
  const input = detector.inputSize ?? FALLBACK_INPUT;
  const wholeScale = Math.min(1, input.width / frame.width, input.height / frame.height);
  for (const tile of tiles) {
    const found = await detector.detect(isYuv(frame) ? cropYuvToRgb(frame, tile) : crop(frame, tile), perCall);
    for (const f of found) {
      if (cutByTile(f.bbox, tile, frame)) continue;
      if (Math.max(f.bbox[2] - f.bbox[0], f.bbox[3] - f.bbox[1]) < TILE_MIN_FACE_PX) continue;
      if (Math.max(f.bbox[2] - f.bbox[0], f.bbox[3] - f.bbox[1]) * wholeScale > WHOLE_FRAME_FACE_PX) continue;
      all.push(shift(f, tile.x, tile.y));
    }
  }
  return { faces: merge(all, options), tiles: tiles.length };
}

/**
 * The whole-frame pass. A YUV frame (video job) is sampled straight to the detector's own
 * input size (FaceDetector.sampleSize) — the RGB path's resize, without converting the whole
 * frame — and the boxes are scaled back to the frame.
 */
async function detectWhole(detector: FaceDetector, frame: Pixels, options: DetectOptions, buffers?: ScratchBuffers): Promise<DetectedFace[]> {
  if (!isYuv(frame)) return detector.detect(frame, options);
  const size = detector.sampleSize?.(frame.width, frame.height);
  if (!size || (size.width === frame.width && size.height === frame.height)) return detector.detect(yuvToRgb(frame), options);
  // The small input is only read while detect() runs (detectors copy it into their tensor).
  const scratch = buffers?.acquire(size.width * size.height * 3);
  try {
    return scaleFaces(await detector.detect(resizeYuvToRgb(frame, size.width, size.height, scratch), options), frame, size);
  } finally {
    if (scratch) buffers!.recycle(scratch);
  }
}

/** Where detectTiled may borrow a scratch buffer (the frame store's pool). */
export interface ScratchBuffers {
  acquire(bytes: number): Uint8Array;
  recycle(buffer: Uint8Array): void;
}

function scaleFaces(faces: DetectedFace[], frame: YuvFrame, small: { width: number; height: number }): DetectedFace[] {
  const sx = frame.width / small.width, sy = frame.height / small.height;
  return faces.map((f) => {
    const bbox: Box = [Math.min(f.bbox[0] * sx, frame.width), Math.min(f.bbox[1] * sy, frame.height), Math.min(f.bbox[2] * sx, frame.width), Math.min(f.bbox[3] * sy, frame.height)];
    return f.landmarks5 ? { bbox, score: f.score, landmarks5: f.landmarks5.map((p): Point => [p[0] * sx, p[1] * sy]) } : { bbox, score: f.score };
  });
}

function cutByTile(b: Box, tile: Rect, frame: { width: number; height: number }): boolean {
  const left = tile.x > 0 && b[0] <= EDGE_SLACK;
  const top = tile.y > 0 && b[1] <= EDGE_SLACK;
  const right = tile.x + tile.width < frame.width && b[2] >= tile.width - EDGE_SLACK;
  const bottom = tile.y + tile.height < frame.height && b[3] >= tile.height - EDGE_SLACK;
  return left || top || right || bottom;
}

function shift(f: DetectedFace, dx: number, dy: number): DetectedFace {
  const bbox: Box = [f.bbox[0] + dx, f.bbox[1] + dy, f.bbox[2] + dx, f.bbox[3] + dy];
  return f.landmarks5 ? { bbox, score: f.score, landmarks5: f.landmarks5.map((p): Point => [p[0] + dx, p[1] + dy]) } : { bbox, score: f.score };
}

/** NMS over every pass's boxes, then containment: a kept box mostly inside a better kept box goes. */
export function merge(faces: readonly DetectedFace[], options: DetectOptions): DetectedFace[] {
  const keep = nms(faces.map((f) => f.bbox), faces.map((f) => f.score), options.nmsIou ?? 0.4);
  const out: DetectedFace[] = [];
  for (const k of keep) {
    const b = faces[k].bbox;
    const area = (b[2] - b[0]) * (b[3] - b[1]);
    const inside = out.some((o) => {
      const w = Math.min(b[2], o.bbox[2]) - Math.max(b[0], o.bbox[0]);
      const h = Math.min(b[3], o.bbox[3]) - Math.max(b[1], o.bbox[1]);
      return w > 0 && h > 0 && (w * h) / area > CONTAINED;
    });
    if (!inside) out.push(faces[k]);
    if (out.length >= options.maxFaces) break;
  }
  return out;
}
