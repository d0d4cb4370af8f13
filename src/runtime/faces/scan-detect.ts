import type { Box, Frame, Point } from '../vision/frame';
import type { DetectedFace, DetectOptions, FaceDetector } from '../models/types';
import { isYuv, resizeYuvToRgb, yuvToRgb, type Pixels, type YuvFrame } from '../vision/yuv';
import { downsampleToRgb, sampleRegionToRgb } from '../vision/sample';
import { iou, nms } from '../vision/nms';
import type { DetectorScanProfile, ScanLevel, ScanPlan, ScanTile } from './scan-plan';

/**
 * Runs a scan plan (scan-plan.ts), or part of it, on one frame: the whole-frame pass, then each
 * chosen tile sampled from the frame as stored (RGB or YUV planes) to the detector's input, and
 * the boxes of every pass merged into one box per face.
 */

/** Input size of a detector without a declared one (all ours declare it). */
const FALLBACK_INPUT = { width: 640, height: 640 };
/** Smallest reliable face of a detector that does not say (input pixels; see DetectorScanProfile). */
const FALLBACK_MIN_FACE = 16;
/** A box within this many input pixels of a tile side inside the frame was cut by the tile. */
const EDGE_SLACK = 2;
/** A tile box smaller than its level's band by this factor belongs to a finer level; on the finest level, below this factor it is under what the detector finds reliably. */
const BAND_LOW = 0.7;
const FINEST_LOW = 0.6;
/** A tile box larger than its level's band by this factor belongs to a coarser level (fine tiles make false faces out of large objects). */
const BAND_HIGH = 1.6;
/** A box mostly (this fraction of its area) inside a better box is the same face, cut. */
const CONTAINED = 0.6;
/** Below this scale a level samples a box-averaged copy of the frame (bilinear samples alias). */
const PREFILTER_BELOW = 0.25;
/**
 * A tile box gets a second look — the detector again, on the box's surroundings scaled so the
 * face is SECOND_LOOK_FACE input pixels, centred — and stays only when that finds it at
 * SECOND_LOOK_SCORE or more; unless the whole-frame pass found the same face, or the caller
 * trusts it (a video source's track already confirmed it). Why: fine tiles show hands, sleeves
 * and glasses in detail, and the small default detector calls some of them faces at up to 0.97.
 * Measured on the crowd pictures, the face-free pictures at 1–4× and the sample pictures
 * (BENCHMARKS.md §15): every labelled face scored ≥ 0.97 on its second look (those of 0.41–0.75
 * in their tile included); the false faces 0–0.35, with two exceptions (0.59, 0.82).
 */
const SECOND_LOOK_FACE = 32;
const SECOND_LOOK_SCORE = 0.5;
/** Tiles sampled ahead of the one the detector is running (each holds a 230 kB input buffer until its run ends). */
const TILES_IN_FLIGHT = 3;
/** A tile box overlapping a whole-frame box by this IoU is the same face. */
const SAME_FACE_IOU = 0.3;
/** A box within this share of its size (at least 2 px) of the frame's border reaches it (see ScanOptions.edgeScoreThreshold). */
const FRAME_EDGE_SHARE = 0.1;

/** Detection options of a scan: the detector's, and the threshold of faces the frame's border cuts. */
export interface ScanOptions extends DetectOptions {
  /**
   * A box that reaches the frame's border is kept from this score (below scoreThreshold), its
   * second look too. Why: the detector sees only part of a face the frame cuts and scores it
   * lower. Measured on the 720p pan clip (BENCHMARKS.md §15): a face crossing the top corner with
   * its forehead outside scored 0.31–0.44 in its tiles, under the blur's 0.45, and stayed visible
   * in 21 frames. Undefined: scoreThreshold everywhere.
   */
  edgeScoreThreshold?: number;
}

/** What a scan of a detector needs to know (its input and smallest reliable face). */
export function scanProfile(detector: FaceDetector): DetectorScanProfile {
  return { input: detector.inputSize ?? FALLBACK_INPUT, minFace: detector.minFaceSize ?? FALLBACK_MIN_FACE };
}

/** Where the scan may borrow a scratch buffer (the frame store's pool). */
export interface ScratchBuffers {
  acquire(bytes: number): Uint8Array;
  recycle(buffer: Uint8Array): void;
}

/** Which passes of the plan to run on this frame. */
export interface ScanSelection {
  whole: boolean;
  /** Indexes into plan.tiles. */
  tiles: readonly number[];
}

export interface ScanResult {
  faces: DetectedFace[];
  /** Tiles run (the whole-frame pass not counted). */
  tilesRun: number;
  /** Tile boxes looked at again (see SECOND_LOOK_FACE). */
  secondLooks: number;
}

/** A scan whose second looks are the caller's to take (confirm()): the confirmed boxes and the candidates. */
export interface DeferredScan {
  /** The whole-frame pass's boxes and the tile boxes it confirmed (not merged yet). */
  confirmed: DetectedFace[];
  /** Tile boxes waiting for a second look, likeliest first. */
  candidates: DetectedFace[];
  tilesRun: number;
}

/** The whole plan. */
export function fullSelection(plan: ScanPlan): ScanSelection {
  return { whole: true, tiles: plan.tiles.map((_, i) => i) };
}

export interface ConfirmOptions {
  /** Boxes the caller already knows to be faces (a video source's sure tracks): no second look. */
  trusted?: (box: Box) => boolean;
  /**
   * Second looks at most (a video frame's time is bounded); past it, tile boxes are kept
   * unchecked (when in doubt, blur). Default: no limit.
   */
  maxSecondLooks?: number;
  /** A candidate that reaches the frame's border passes its second look from this score (ScanOptions.edgeScoreThreshold). */
  edgeScoreThreshold?: number;
}

/** The plan's passes on a frame, every tile box given its second look: one box per face. */
export async function runScan(detector: FaceDetector, frame: Pixels, plan: ScanPlan, options: ScanOptions, selection: ScanSelection, buffers?: ScratchBuffers): Promise<ScanResult> {
  const scan = await scanDeferred(detector, frame, plan, options, selection, buffers);
  const checked = await confirm(detector, frame, scan.candidates, { edgeScoreThreshold: options.edgeScoreThreshold }, buffers);
  return { faces: merge([...scan.confirmed, ...checked.faces], options), tilesRun: scan.tilesRun, secondLooks: checked.looks };
}

/**
 * The plan's passes on a frame, the second looks left to the caller (confirm()): a video
 * source's stream takes them in frame order, once it knows its tracks as of the frame before —
 * so what is looked at again never depends on how far other frames in flight have got.
 */
export async function scanDeferred(detector: FaceDetector, frame: Pixels, plan: ScanPlan, options: ScanOptions, selection: ScanSelection, buffers?: ScratchBuffers): Promise<DeferredScan> {
  const keep = keptAt(frame, options);
  const lowest: DetectOptions = { scoreThreshold: Math.min(options.scoreThreshold, options.edgeScoreThreshold ?? 1), maxFaces: options.maxFaces, nmsIou: options.nmsIou };
  if (plan.tiles.length === 0 || selection.tiles.length === 0) {
    return { confirmed: selection.whole ? (await detectWhole(detector, frame, lowest, buffers)).filter(keep) : [], candidates: [], tilesRun: 0 };
  }
  const perCall: DetectOptions = { ...lowest, maxFaces: Math.max(options.maxFaces, 64) };
  // The whole-frame pass and the tiles are started one after another and awaited together: with
  // a detector on a worker thread (DetectorThread) the next input is sampled while it runs.
  const wholePass = selection.whole ? detectWhole(detector, frame, perCall, buffers) : Promise.resolve([]);
  // Awaited below; a tile's failure must not leave it an unhandled rejection.
  wholePass.catch(() => undefined);
  const input = detector.inputSize ?? FALLBACK_INPUT;
  const bytes = input.width * input.height * 3;
  const finest = plan.levels.length - 1;
  const prefiltered = new Map<number, { image: Frame; factor: number }>();
  const uncertain: DetectedFace[] = [];
  const runTile = async (index: number): Promise<void> => {
    const tile = plan.tiles[index];
    const level = plan.levels[tile.level];
    const source = levelSource(frame, level, tile.level, prefiltered);
    const scratch = buffers?.acquire(bytes) ?? new Uint8Array(bytes);
    try {
      const f = source.factor;
      const region = { x: tile.x / f, y: tile.y / f, width: tile.width / f, height: tile.height / f };
      const sampled = sampleRegionToRgb(source.image, region, level.scale * f, scratch, input.width, input.height);
      const found = await detector.detect({ width: input.width, height: input.height, channels: 3, data: scratch }, perCall);
      for (const face of found) {
        if (cutByTile(face.bbox, tile, sampled, plan)) continue;
        const placed = toFrame(face, tile, level.scale);
        if (!keep(placed)) continue;
        const size = faceSize(placed.bbox);
        if (size < level.minFace * (tile.level === finest ? FINEST_LOW : BAND_LOW)) continue;
        if (size > level.maxFace * BAND_HIGH) continue;
        uncertain.push(placed);
      }
    } finally {
      buffers?.recycle(scratch);
    }
  };
  const running: Promise<void>[] = [];
  try {
    for (const index of selection.tiles) {
      running.push(runTile(index));
      if (running.length >= TILES_IN_FLIGHT) await running.shift();
    }
    await Promise.all(running);
  } finally {
    // A failed tile must not leave the others' buffers borrowed.
    await Promise.allSettled(running);
  }
  const whole = (await wholePass).filter(keep);
  const confirmed: DetectedFace[] = [...whole];
  const candidates: DetectedFace[] = [];
  for (const face of uncertain) {
    if (whole.some((w) => iou(w.bbox, face.bbox) >= SAME_FACE_IOU)) confirmed.push(face);
    else candidates.push(face);
  }
  // The likeliest first, so a cap on second looks leaves the least likely unchecked.
  candidates.sort((a, b) => b.score - a.score);
  return { confirmed, candidates, tilesRun: selection.tiles.length };
}

/**
 * The candidates that stay: trusted ones, those past the cap (kept: when in doubt, blur), and
 * those a second look finds again.
 */
export async function confirm(
  detector: FaceDetector,
  frame: Pixels,
  candidates: readonly DetectedFace[],
  options: ConfirmOptions,
  buffers?: ScratchBuffers,
): Promise<{ faces: DetectedFace[]; looks: number }> {
  const input = detector.inputSize ?? FALLBACK_INPUT;
  const faces: DetectedFace[] = [];
  let looks = 0;
  for (const face of candidates) {
    if (options.trusted?.(face.bbox) || looks >= (options.maxSecondLooks ?? Infinity)) {
      faces.push(face);
      continue;
    }
    looks++;
    const threshold = options.edgeScoreThreshold !== undefined && reachesFrameEdge(face.bbox, frame) ? Math.min(SECOND_LOOK_SCORE, options.edgeScoreThreshold) : SECOND_LOOK_SCORE;
    if (await secondLook(detector, frame, face.bbox, input, threshold, buffers)) faces.push(face);
  }
  return { faces, looks };
}

/** Whether the detector finds the face again with the box's surroundings scaled so the face is SECOND_LOOK_FACE pixels. */
async function secondLook(detector: FaceDetector, frame: Pixels, box: Box, input: { width: number; height: number }, threshold: number, buffers?: ScratchBuffers): Promise<boolean> {
  const scale = SECOND_LOOK_FACE / Math.max(1, faceSize(box));
  const region = { x: (box[0] + box[2]) / 2 - input.width / scale / 2, y: (box[1] + box[3]) / 2 - input.height / scale / 2, width: input.width / scale, height: input.height / scale };
  const bytes = input.width * input.height * 3;
  const scratch = buffers?.acquire(bytes) ?? new Uint8Array(bytes);
  try {
    sampleRegionToRgb(frame, region, scale, scratch, input.width, input.height);
    const found = await detector.detect({ width: input.width, height: input.height, channels: 3, data: scratch }, { scoreThreshold: threshold, maxFaces: 16 });
    const expected: Box = [(box[0] - region.x) * scale, (box[1] - region.y) * scale, (box[2] - region.x) * scale, (box[3] - region.y) * scale];
    return found.some((f) => iou(f.bbox, expected) > 0.3);
  } finally {
    buffers?.recycle(scratch);
  }
}

/** Whether a box (frame pixels) reaches the frame's border: within FRAME_EDGE_SHARE of its size, at least 2 px. */
export function reachesFrameEdge(b: Box, frame: { width: number; height: number }): boolean {
  const m = Math.max(2, FRAME_EDGE_SHARE * faceSize(b));
  return b[0] <= m || b[1] <= m || b[2] >= frame.width - m || b[3] >= frame.height - m;
}

/** Which boxes (frame pixels) of a pass stay: those of scoreThreshold, and below it those that reach the frame's border from edgeScoreThreshold. */
function keptAt(frame: { width: number; height: number }, options: ScanOptions): (face: DetectedFace) => boolean {
  const edge = options.edgeScoreThreshold;
  if (edge === undefined || edge >= options.scoreThreshold) return () => true;
  return (face) => face.score >= options.scoreThreshold || (face.score >= edge && reachesFrameEdge(face.bbox, frame));
}

/** √(w·h) of a box: the face size the plan's bands are in. */
export function faceSize(b: Box): number {
  return Math.sqrt(Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]));
}

/** The frame itself, or for a coarse level a box-averaged copy (made once per frame and level). */
function levelSource(frame: Pixels, level: ScanLevel, index: number, cache: Map<number, { image: Frame; factor: number }>): { image: Pixels; factor: number } {
  if (level.scale >= PREFILTER_BELOW) return { image: frame, factor: 1 };
  let entry = cache.get(index);
  if (!entry) {
    const factor = Math.max(1, Math.floor(0.5 / level.scale));
    entry = { image: downsampleToRgb(frame, factor), factor };
    cache.set(index, entry);
  }
  return entry;
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

function scaleFaces(faces: DetectedFace[], frame: YuvFrame, small: { width: number; height: number }): DetectedFace[] {
  const sx = frame.width / small.width,
    sy = frame.height / small.height;
  return faces.map((f) => {
    const bbox: Box = [Math.min(f.bbox[0] * sx, frame.width), Math.min(f.bbox[1] * sy, frame.height), Math.min(f.bbox[2] * sx, frame.width), Math.min(f.bbox[3] * sy, frame.height)];
    return f.landmarks5 ? { bbox, score: f.score, landmarks5: f.landmarks5.map((p): Point => [p[0] * sx, p[1] * sy]) } : { bbox, score: f.score };
  });
}

/** A box (input pixels) touching a side of the sampled area that lies inside the frame. */
function cutByTile(b: Box, tile: ScanTile, sampled: { width: number; height: number }, plan: ScanPlan): boolean {
  const left = tile.x > 0 && b[0] <= EDGE_SLACK;
  const top = tile.y > 0 && b[1] <= EDGE_SLACK;
  const right = tile.x + tile.width < plan.width && b[2] >= sampled.width - EDGE_SLACK;
  const bottom = tile.y + tile.height < plan.height && b[3] >= sampled.height - EDGE_SLACK;
  return left || top || right || bottom;
}

/** A tile's box (input pixels at the level's scale) in frame pixels. */
function toFrame(f: DetectedFace, tile: ScanTile, scale: number): DetectedFace {
  const x = (v: number) => tile.x + v / scale,
    y = (v: number) => tile.y + v / scale;
  const bbox: Box = [x(f.bbox[0]), y(f.bbox[1]), x(f.bbox[2]), y(f.bbox[3])];
  return f.landmarks5 ? { bbox, score: f.score, landmarks5: f.landmarks5.map((p): Point => [x(p[0]), y(p[1])]) } : { bbox, score: f.score };
}

/** NMS over every pass's boxes, then containment: a kept box mostly inside a better kept box goes. */
export function merge(faces: readonly DetectedFace[], options: DetectOptions): DetectedFace[] {
  const keep = nms(
    faces.map((f) => f.bbox),
    faces.map((f) => f.score),
    options.nmsIou ?? 0.4,
  );
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
