import type { Rect } from './frame';
import type { PixelTarget } from './blend';
import { faceError } from '../errors';

export interface ChannelStats {
  /** Per-channel mask-weighted mean (R, G, B in 0..255 for maskedStats; L, a, b for Lab). */
  mean: [number, number, number];
  /** Per-channel mask-weighted standard deviation. */
  std: [number, number, number];
  /** Sum of mask weights; 0 means the mask was empty and mean/std are meaningless. */
  weight: number;
}

/**
 * Mask-weighted mean and standard deviation of R, G, B (0..255) over `rect` of `frame`
 * (default: the whole frame). `mask` has rect.width × rect.height values, row-major; pixels
 * with mask ≤ 0 are ignored. An empty mask gives weight 0, means 0 and stds 0.
 */
export function maskedStats(frame: PixelTarget, mask: Float32Array, rect?: Rect): ChannelStats {
  const r = checkRegion(frame, mask, rect, 'maskedStats');
  const acc = new Float64Array(7); // weight, Σw·v (3), Σw·v² (3)
  const d = frame.data;
  for (let y = 0, i = 0; y < r.height; y++) {
    let p = ((r.y + y) * frame.width + r.x) * 3;
    for (let x = 0; x < r.width; x++, i++, p += 3) {
      const m = mask[i];
      if (!(m > 0)) continue;
      acc[0] += m;
      for (let c = 0; c < 3; c++) {
        const v = d[p + c];
        acc[1 + c] += m * v;
        acc[4 + c] += m * v * v;
      }
    }
  }
  return finish(acc);
}

/**
 * Colour transfer, in place: the pixels of `src` inside `srcMask` take the light and tone of the
 * pixels of `target` inside `targetMask`. Statistics are mask-weighted; only pixels with
 * srcMask > 0 are written (the blend that follows weights them), so everything else in `src`
 * stays byte-identical. No-op when either mask is empty.
 *
 * Space: CIE Lab (D65), perceptually even, so the L shift means "as bright as the target skin".
 * Lightness gets Reinhard's transfer (mean and standard deviation; the std ratio clamped to
 * 0.4..2.5 so a flat or noisy patch cannot blow the contrast up). Chroma is only ever scaled,
 * never shifted, by one factor (chromaGain: target skin chroma / source skin chroma) applied in
 * full to pixels of the skin's hue and fading to none for hues 90° or more from it. So a
 * neutral pixel stays neutral, no pixel crosses neutral or turns its hue (brows, irises and
 * nostrils keep theirs) and the skin gets the target's saturation. Reinhard's a/b transfer did
 * not: v′ = (v − μs)·g + μt with g up to 1.9 pushed dark near-neutral pixels across neutral
 * into green-cyan (hundreds of new teal pixels a face; docs/BENCHMARKS-HISTORY.md §16).
 * Gamma, cube roots and the way back are table look-ups (see CBRT_TABLE, ENCODE_FLOOR).
 *
 * Rects (default: the whole frame) say where each mask lies: srcMask covers srcRect of src,
 * targetMask covers targetRect of target; targetRect defaults to srcRect when only that is
 * given (same geometry in two frames) and to the whole target otherwise.
 *
 * `srcLab`, when given, is the work buffer for the source's Lab values (3 per pixel of srcRect;
 * any old contents: only entries under srcMask > 0 are written, then read) instead of a new one.
 */
export function colorTransferInto(src: PixelTarget, srcMask: Float32Array, target: PixelTarget, targetMask: Float32Array, srcRect?: Rect, targetRect?: Rect, srcLab?: Float32Array): void {
  const sr = checkRegion(src, srcMask, srcRect, 'colorTransfer (source)');
  const tr = checkRegion(target, targetMask, targetRect ?? srcRect, 'colorTransfer (target)');
  if (srcLab && srcLab.length !== sr.width * sr.height * 3) throw faceError('E_BAD_PARAMETER', `colorTransfer: srcLab has ${srcLab.length} values, expected ${sr.width * sr.height * 3}`);

  // Target statistics in Lab.
  const lab = new Float64Array(3);
  const tAcc = new Float64Array(7);
  for (let y = 0, i = 0; y < tr.height; y++) {
    let p = ((tr.y + y) * target.width + tr.x) * 3;
    for (let x = 0; x < tr.width; x++, i++, p += 3) {
      const m = targetMask[i];
      if (!(m > 0)) continue;
      rgbToLab(target.data[p], target.data[p + 1], target.data[p + 2], lab);
      accumulate(tAcc, m, lab);
    }
  }
  if (!(tAcc[0] > 0)) return;

  // Source statistics; the Lab values are kept so the transfer pass need not convert again.
  const labs = srcLab ?? new Float32Array(sr.width * sr.height * 3);
  const sAcc = new Float64Array(7);
  const s = src.data;
  for (let y = 0, i = 0; y < sr.height; y++) {
    let p = ((sr.y + y) * src.width + sr.x) * 3;
    for (let x = 0; x < sr.width; x++, i++, p += 3) {
      const m = srcMask[i];
      if (!(m > 0)) continue;
      rgbToLab(s[p], s[p + 1], s[p + 2], lab);
      labs[i * 3] = lab[0];
      labs[i * 3 + 1] = lab[1];
      labs[i * 3 + 2] = lab[2];
      accumulate(sAcc, m, lab);
    }
  }
  if (!(sAcc[0] > 0)) return;
  const from = finish(sAcc),
    to = finish(tAcc);
  const ratio = from.std[0] > 1e-6 ? to.std[0] / from.std[0] : 1;
  const gain = ratio < 0.4 ? 0.4 : ratio > 2.5 ? 2.5 : ratio;
  const shift = to.mean[0] - from.mean[0] * gain; // L' = (L − μs)·g + μt
  // Chroma: one factor, applied in full along the source skin's hue and fading to none at 90°
  // from it (see chromaGain), so every pixel keeps its hue and sign.
  const k = chromaGain(from.mean[1], from.mean[2], to.mean[1], to.mean[2]);
  const skin = Math.hypot(from.mean[1], from.mean[2]);
  const ua = skin > 0 ? from.mean[1] / skin : 0,
    ub = skin > 0 ? from.mean[2] / skin : 0;
  for (let y = 0, i = 0; y < sr.height; y++) {
    let p = ((sr.y + y) * src.width + sr.x) * 3;
    for (let x = 0; x < sr.width; x++, i++, p += 3) {
      if (!(srcMask[i] > 0)) continue;
      const a = labs[i * 3 + 1],
        b = labs[i * 3 + 2];
      let scale = 1;
      if (k !== 1) {
        const c = Math.sqrt(a * a + b * b); // not Math.hypot: a few times slower, per pixel
        const along = c > 0 ? (a * ua + b * ub) / c : 0;
        if (along > 0) scale = 1 + (k - 1) * along;
      }
      labToRgbInto(labs[i * 3] * gain + shift, a * scale, b * scale, s, p);
    }
  }
}

/** The chroma factor stays within this range (a face's tone moves, its colours are not repainted). */
export const CHROMA_GAIN = Object.freeze({ min: 0.6, max: 1.4 });
/** A mean skin chroma nearer neutral than this (Lab units) gives no reliable ratio: chroma is left as it is. */
const NEUTRAL_CHROMA = 3;

/**
 * The factor the source's skin chroma is scaled by: the target skin's mean chroma over the
 * source's (lengths of the mean a, b vectors), clamped to CHROMA_GAIN; 1 when either is nearly
 * neutral. Why not Reinhard per channel: shifting a and b (or scaling them by different
 * factors) turns hues, and near neutral a small turn is a new colour (a grey brow turned
 * teal). Scaling both by one positive factor, and only along the skin's hue, keeps every hue.
 */
export function chromaGain(sourceA: number, sourceB: number, targetA: number, targetB: number): number {
  const from = Math.hypot(sourceA, sourceB),
    to = Math.hypot(targetA, targetB);
  if (!(from >= NEUTRAL_CHROMA && to >= NEUTRAL_CHROMA)) return 1;
  const k = to / from;
  return k < CHROMA_GAIN.min ? CHROMA_GAIN.min : k > CHROMA_GAIN.max ? CHROMA_GAIN.max : k;
}

function checkRegion(frame: PixelTarget, mask: Float32Array, rect: Rect | undefined, what: string): Rect {
  const r = rect ?? { x: 0, y: 0, width: frame.width, height: frame.height };
  if (r.x < 0 || r.y < 0 || r.width < 0 || r.height < 0 || r.x + r.width > frame.width || r.y + r.height > frame.height) {
    throw faceError('E_BAD_PARAMETER', `${what}: rect ${r.x},${r.y} ${r.width}×${r.height} is outside the ${frame.width}×${frame.height} frame`);
  }
  if (mask.length !== r.width * r.height) throw faceError('E_BAD_PARAMETER', `${what}: mask has ${mask.length} values, expected ${r.width * r.height}`);
  return r;
}

function accumulate(acc: Float64Array, m: number, v: Float64Array): void {
  acc[0] += m;
  for (let c = 0; c < 3; c++) {
    acc[1 + c] += m * v[c];
    acc[4 + c] += m * v[c] * v[c];
  }
}

function finish(acc: Float64Array): ChannelStats {
  const w = acc[0];
  if (!(w > 0)) return { mean: [0, 0, 0], std: [0, 0, 0], weight: 0 };
  const mean: [number, number, number] = [acc[1] / w, acc[2] / w, acc[3] / w];
  const std: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) std[c] = Math.sqrt(Math.max(0, acc[4 + c] / w - mean[c] * mean[c]));
  return { mean, std, weight: w };
}

// sRGB (D65) ↔ CIE Lab. Constants are the standard sRGB primaries and D65 white point.
const SRGB_TO_LINEAR: Float64Array = (() => {
  const table = new Float64Array(256);
  for (let i = 0; i < 256; i++) {
    const v = i / 255;
    table[i] = v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }
  return table;
})();
/** LINEAR_STEPS[i]: the linear value whose sRGB code is i + 0.5 — byte i rounds up to i + 1 above it. */
const LINEAR_STEPS: Float64Array = (() => {
  const table = new Float64Array(255);
  for (let i = 0; i < 255; i++) {
    const v = (i + 0.5) / 255;
    table[i] = v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }
  return table;
})();
const XN = 0.95047,
  ZN = 1.08883;
const DELTA = 6 / 29;

/**
 * Cube roots on [0, 1] from a table with linear interpolation: Math.cbrt (three per pixel of
 * both faces' patches) took ≈ 6 of the 47 ms of CPU a video swap job spent per frame. With
 * 4096 steps the interpolation error is below 5·10⁻⁶ on the cube-root branch (t > δ³, where the
 * curve bends most), i.e. under 0.001 in L, a, b.
 */
const CBRT_STEPS = 4096;
const CBRT_TABLE: Float64Array = (() => {
  const table = new Float64Array(CBRT_STEPS + 2);
  for (let i = 0; i < table.length; i++) table[i] = Math.cbrt(i / CBRT_STEPS);
  return table;
})();

function labF(t: number): number {
  if (!(t > DELTA * DELTA * DELTA)) return t / (3 * DELTA * DELTA) + 4 / 29;
  if (t >= 1) return Math.cbrt(t); // just outside sRGB's gamut: rare
  const u = t * CBRT_STEPS;
  const i = u | 0;
  return CBRT_TABLE[i] + (u - i) * (CBRT_TABLE[i + 1] - CBRT_TABLE[i]);
}

function labFInv(f: number): number {
  return f > DELTA ? f * f * f : 3 * DELTA * DELTA * (f - 4 / 29);
}

function rgbToLab(r8: number, g8: number, b8: number, out: Float64Array): void {
  const r = SRGB_TO_LINEAR[r8],
    g = SRGB_TO_LINEAR[g8],
    b = SRGB_TO_LINEAR[b8];
  const fx = labF((0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / XN);
  const fy = labF(0.2126729 * r + 0.7151522 * g + 0.072175 * b);
  const fz = labF((0.0193339 * r + 0.119192 * g + 0.9503041 * b) / ZN);
  out[0] = 116 * fy - 16;
  out[1] = 500 * (fx - fy);
  out[2] = 200 * (fy - fz);
}

function labToRgbInto(l: number, a: number, bb: number, out: Uint8Array, o: number): void {
  const fy = (l + 16) / 116;
  const x = XN * labFInv(fy + a / 500),
    y = labFInv(fy),
    z = ZN * labFInv(fy - bb / 200);
  out[o] = encodeSrgb(3.2404542 * x - 1.5371385 * y - 0.4985314 * z);
  out[o + 1] = encodeSrgb(-0.969266 * x + 1.8760108 * y + 0.041556 * z);
  out[o + 2] = encodeSrgb(0.0556434 * x - 0.2040259 * y + 1.0572252 * z);
}

/**
 * ENCODE_FLOOR[k]: the sRGB byte of the linear value k / ENCODE_STEPS. A linear value in cell k
 * encodes to that byte or a step or two above it (the steepest part of the curve, near black,
 * spans < 1 byte per cell), so encodeSrgb looks one cell up and walks the last steps exactly.
 */
const ENCODE_STEPS = 4096;
const ENCODE_FLOOR: Uint8Array = (() => {
  const table = new Uint8Array(ENCODE_STEPS + 1);
  for (let k = 0; k <= ENCODE_STEPS; k++) table[k] = encodeSrgbSearch(k / ENCODE_STEPS);
  return table;
})();

/** Linear → sRGB byte, rounded; equal to encodeSrgbSearch (the test checks it), without its search. */
export function encodeSrgb(v: number): number {
  if (!(v > LINEAR_STEPS[0])) return 0;
  if (v >= 1) return 255;
  let b = ENCODE_FLOOR[(v * ENCODE_STEPS) | 0];
  while (b < 255 && LINEAR_STEPS[b] < v) b++;
  return b;
}

/** Linear → sRGB byte, rounded: binary search over the 255 linear values where the byte changes (no pow). */
export function encodeSrgbSearch(v: number): number {
  if (!(v > LINEAR_STEPS[0])) return 0;
  let lo = 0,
    hi = 255; // answer in 1..255: the number of steps below v
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (LINEAR_STEPS[mid] < v) lo = mid;
    else hi = mid;
  }
  return LINEAR_STEPS[lo] < v ? lo + 1 : lo;
}
