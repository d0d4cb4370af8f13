import { faceError } from '../errors';

/**
 * How a frame is searched for faces: a scale pyramid. The coarsest level is the whole frame
 * shrunk to the detector's input (the detector's own resize); each finer level cuts the frame,
 * seen at a larger scale, into overlapping tiles of the detector's input size. Every level is
 * responsible for one band of face sizes, and together the bands cover every size from the
 * smallest face the plan promises (`minFace`) up to the whole frame, with no gap:
 *
 *   level scale s (detector pixels per frame pixel) finds faces of `detectorMinFace` … `detectorMinFace·r`
 *   detector pixels, i.e. minFace_level … minFace_level·r frame pixels; the next coarser level
 *   starts where this one ends.
 *
 * Tiles of a level overlap by at least the largest face of its band (plus a margin for the
 * detector's box being larger than the face), so every face of the band lies whole inside at
 * least one tile; a box that touches an inner tile side was cut by it and is dropped (its whole
 * copy is in the neighbouring tile). Boxes far outside a level's band are dropped too: smaller
 * ones belong to a finer level, larger ones to a coarser level (where the small detector also
 * makes fewer false faces out of large objects).
 *
 * The size of a face is √(w·h) of its box: the default detector's box is ≈ 0.88 × the labelled
 * (dlib) face box wide and ≈ 1.2 × high, so this is ≈ the labelled box's width (BENCHMARKS.md §15).
 */

/** What a plan needs to know of a detector. */
export interface DetectorScanProfile {
  /** The model's input in pixels. */
  input: { width: number; height: number };
  /**
   * The smallest face (√(w·h) of its box, in input pixels) the detector finds reliably. Measured for
   * RFB-320 on the labelled faces pasted into a tile: 36/36 from 14 px, 31/36 at 12, 29/36 at 10.
   */
  minFace: number;
}

/** One level of the pyramid, in frame pixels. */
export interface ScanLevel {
  /** Detector input pixels per frame pixel (the whole-frame level: the detector's own shrink). */
  scale: number;
  /** Smallest and largest face (frame pixels) this level is responsible for; maxFace Infinity for the whole frame. */
  minFace: number;
  maxFace: number;
  /** The frame regions sampled to the detector's input; empty for the whole-frame level. */
  tiles: ScanTile[];
  whole: boolean;
}

/** A tile: a frame region seen at its level's scale. */
export interface ScanTile {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Index of the tile's level in ScanPlan.levels. */
  level: number;
}

export interface ScanPlan {
  width: number;
  height: number;
  /** Coarsest first: levels[0] is the whole frame. */
  levels: ScanLevel[];
  /** Every tile of every level, coarse to fine (the whole-frame pass is not a tile). */
  tiles: ScanTile[];
  /** The smallest face (frame pixels) covered everywhere in the frame. */
  minFaceCovered: number;
}

/** `off`: the whole frame only. `auto` (default): the pyramid down to the min face. A number: legacy tile size in pixels (see minFaceForTileSize). */
export type DetectTiling = 'off' | 'auto' | number;

/** The smallest face worth hiding that a privacy scan covers by default (frame pixels). */
export const DEFAULT_PRIVACY_MIN_FACE = 20;
/**
 * The smallest face other stages (swap, enhance, embed…) look for by default: below ≈ 48 px a
 * face has too few pixels for a swap or an identity to be worth anything, and each finer level
 * costs detector runs on every frame.
 */
export const DEFAULT_MIN_FACE = 48;
/** detect_min_face below this is refused: under ≈ 8 px there is no face to hide, and the plan would explode. */
export const MIN_FACE_LIMIT = 8;
/** Detector runs one plan may need at most (a 64 MP photo at 16 px needs ≈ 1,100). */
export const MAX_PLAN_TILES = 4096;
/** Tiles overlap by the band's largest face times this (the detector's box is up to 1.2× the face, plus its context). */
const OVERLAP_MARGIN = 1.3;
/** Neighbouring tiles are at least this fraction of a tile apart (else the level's band is too wide). */
const MIN_STEP = 0.25;
/** Levels at most between the finest and the whole frame. */
const MAX_LEVELS = 5;

export function parseDetectTiling(value: unknown): DetectTiling {
  if (value === undefined || value === null || value === '' || value === 'auto') return 'auto';
  if (value === 'off' || value === false) return 'off';
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= 64 && n <= 8192) return n;
  throw faceError('E_BAD_PARAMETER', `detect_tiling must be "off", "auto" or a tile size in pixels (64–8192), got ${JSON.stringify(value)}`);
}

/** detect_min_face: a whole number of pixels ≥ MIN_FACE_LIMIT, or undefined for the default. */
export function parseMinFace(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= MIN_FACE_LIMIT && n <= 4096) return n;
  throw faceError('E_BAD_PARAMETER', `detect_min_face must be a whole number of pixels from ${MIN_FACE_LIMIT} to 4096, got ${JSON.stringify(value)}`);
}

/**
 * The legacy `detect_tiling: N`: tiles of N pixels at the detector's native input size meant a
 * scale of input/N, whose smallest face is the detector's minimum at that scale.
 */
export function minFaceForTileSize(tileSize: number, profile: DetectorScanProfile): number {
  return Math.ceil((profile.minFace * tileSize) / Math.max(profile.input.width, profile.input.height));
}

/** The whole-frame pass's scale: the frame shrunk to fit the input (never enlarged). */
export function wholeFrameScale(width: number, height: number, profile: DetectorScanProfile): number {
  return Math.min(1, profile.input.width / width, profile.input.height / height);
}

/**
 * The plan for a width × height frame: the whole-frame level, and as many finer levels as it
 * takes to cover faces down to `minFace` (undefined: the whole frame only). Throws
 * E_BAD_PARAMETER when that needs more than MAX_PLAN_TILES detector runs.
 */
export function planScan(width: number, height: number, profile: DetectorScanProfile, minFace: number | undefined): ScanPlan {
  const s0 = wholeFrameScale(width, height, profile);
  const whole: ScanLevel = { scale: s0, minFace: profile.minFace / s0, maxFace: Infinity, tiles: [], whole: true };
  if (minFace === undefined || whole.minFace <= minFace) {
    return { width, height, levels: [whole], tiles: [], minFaceCovered: Math.ceil(whole.minFace) };
  }
  // The band [minFace, whole.minFace] in n levels of equal ratio; the n with the fewest tiles wins.
  let best: ScanLevel[] | undefined;
  let bestCount = Infinity;
  for (let n = 1; n <= MAX_LEVELS; n++) {
    const ratio = (whole.minFace / minFace) ** (1 / n);
    const levels: ScanLevel[] = [];
    let count = 0;
    for (let i = n - 1; i >= 0; i--) {
      const lo = minFace * ratio ** i;
      const hi = i === n - 1 ? whole.minFace : lo * ratio;
      const scale = profile.minFace / lo;
      const tiles = levelTiles(width, height, profile.input, scale, hi * scale * OVERLAP_MARGIN);
      if (!tiles) {
        count = Infinity;
        break;
      }
      count += tiles.length;
      levels.push({ scale, minFace: lo, maxFace: hi, tiles, whole: false });
    }
    if (count < bestCount) {
      best = levels;
      bestCount = count;
    }
  }
  if (!best || bestCount > MAX_PLAN_TILES) {
    throw faceError(
      'E_BAD_PARAMETER',
      `covering faces down to ${minFace} px in this ${width}×${height} picture needs ${Number.isFinite(bestCount) ? bestCount : 'too many'} detector runs (at most ${MAX_PLAN_TILES}): raise detect_min_face`,
    );
  }
  const levels = [whole, ...(best as ScanLevel[])];
  const tiles: ScanTile[] = [];
  levels.forEach((level, i) => {
    level.tiles = level.tiles.map((t) => ({ ...t, level: i }));
    tiles.push(...level.tiles);
  });
  return { width, height, levels, tiles, minFaceCovered: minFace };
}

/**
 * The tiles of one level: frame regions of input/scale pixels (cut to the frame), spread evenly
 * so that neighbours overlap by at least `overlap` input pixels; the first and last of each row
 * and column are flush with the frame's sides.
 */
function levelTiles(width: number, height: number, input: { width: number; height: number }, scale: number, overlap: number): ScanTile[] | undefined {
  const xs = spread(width, input.width / scale, overlap / scale);
  const ys = spread(height, input.height / scale, overlap / scale);
  if (!xs || !ys) return undefined;
  const tiles: ScanTile[] = [];
  for (const y of ys.starts) for (const x of xs.starts) tiles.push({ x, y, width: xs.size, height: ys.size, level: 0 });
  return tiles;
}

/**
 * Starts of `size`-long windows over `total`, overlapping by ≥ `overlap`, in whole pixels;
 * undefined when the overlap would leave windows less than MIN_STEP of their length apart (a
 * band too wide for one level: more levels serve it).
 */
function spread(total: number, size: number, overlap: number): { starts: number[]; size: number } | undefined {
  if (size >= total) return { starts: [0], size: total };
  const length = Math.round(size);
  if (length - overlap < MIN_STEP * length) return undefined;
  // The fewest windows whose even spacing leaves at least `overlap` between neighbours.
  const count = Math.max(2, Math.ceil((total - overlap) / Math.max(1, length - overlap)));
  const step = (total - length) / (count - 1);
  const starts: number[] = [];
  for (let i = 0; i < count; i++) starts.push(Math.round(i * step));
  return { starts, size: length };
}

/** Plans are cached per frame size and settings (a video's frames share one). */
export class ScanPlanCache {
  private readonly plans = new Map<string, ScanPlan>();

  get(width: number, height: number, profile: DetectorScanProfile, minFace: number | undefined): ScanPlan {
    const key = `${width}x${height}|${profile.input.width}x${profile.input.height}|${profile.minFace}|${minFace ?? '-'}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = planScan(width, height, profile, minFace);
      // A handful of sizes at most in practice; a bound keeps a stream of odd sizes from growing it.
      if (this.plans.size >= 32) this.plans.delete(this.plans.keys().next().value as string);
      this.plans.set(key, plan);
    }
    return plan;
  }
}
