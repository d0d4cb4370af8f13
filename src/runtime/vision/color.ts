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
      for (let c = 0; c < 3; c++) { const v = d[p + c]; acc[1 + c] += m * v; acc[4 + c] += m * v * v; }
    }
  }
  return finish(acc);
}

/**
 * Reinhard colour transfer, in place: the pixels of `src` inside `srcMask` get the mean and
 * standard deviation, per channel, of the pixels of `target` inside `targetMask`. Statistics
 * are mask-weighted; only pixels with srcMask > 0 are written (the blend that follows weights
 * them), so everything else in `src` stays byte-identical. No-op when either mask is empty.
 *
 * Space: CIE Lab (D65). Reinhard's point is a space whose channels are nearly decorrelated for
 * natural images, so matching each channel on its own does not tint the result; Lab is that
 * and perceptually even, so the L shift means "as bright as the target skin". Gamma, cube roots
 * and the way back are table look-ups (see CBRT_TABLE, ENCODE_FLOOR), so the cheaper YCbCr is
 * not needed.
 * The std ratio is clamped to 0.4..2.5 so a flat or noisy patch cannot blow the contrast up.
 *
 * Rects (default: the whole frame) say where each mask lies: srcMask covers srcRect of src,
 * targetMask covers targetRect of target; targetRect defaults to srcRect when only that is
 * given (same geometry in two frames) and to the whole target otherwise.
 *
 * `srcLab`, when given, is the work buffer for the source's Lab values (3 per pixel of srcRect;
 * any old contents: only entries under srcMask > 0 are written, then read) instead of a new one.
 */
export function colorTransferInto(
  src: PixelTarget,
  srcMask: Float32Array,
  target: PixelTarget,
  targetMask: Float32Array,
  srcRect?: Rect,
  targetRect?: Rect,
  srcLab?: Float32Array,
): void {
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
      labs[i * 3] = lab[0]; labs[i * 3 + 1] = lab[1]; labs[i * 3 + 2] = lab[2];
      accumulate(sAcc, m, lab);
    }
  }
  if (!(sAcc[0] > 0)) return;
  const from = finish(sAcc), to = finish(tAcc);
  const gain = new Float64Array(3), shift = new Float64Array(3);
  for (let c = 0; c < 3; c++) {
    const ratio = from.std[c] > 1e-6 ? to.std[c] / from.std[c] : 1;
    gain[c] = ratio < 0.4 ? 0.4 : ratio > 2.5 ? 2.5 : ratio;
    shift[c] = to.mean[c] - from.mean[c] * gain[c]; // v' = (v − μs)·g + μt
  }
  for (let y = 0, i = 0; y < sr.height; y++) {
    let p = ((sr.y + y) * src.width + sr.x) * 3;
    for (let x = 0; x < sr.width; x++, i++, p += 3) {
      if (!(srcMask[i] > 0)) continue;
      labToRgbInto(
        labs[i * 3] * gain[0] + shift[0],
        labs[i * 3 + 1] * gain[1] + shift[1],
        labs[i * 3 + 2] * gain[2] + shift[2],
        s, p,
      );
    }
  }
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
  for (let c = 0; c < 3; c++) { acc[1 + c] += m * v[c]; acc[4 + c] += m * v[c] * v[c]; }
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
const XN = 0.95047, ZN = 1.08883;
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
  const r = SRGB_TO_LINEAR[r8], g = SRGB_TO_LINEAR[g8], b = SRGB_TO_LINEAR[b8];
  const fx = labF((0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / XN);
  const fy = labF(0.2126729 * r + 0.7151522 * g + 0.072175 * b);
  const fz = labF((0.0193339 * r + 0.119192 * g + 0.9503041 * b) / ZN);
  out[0] = 116 * fy - 16;
  out[1] = 500 * (fx - fy);
  out[2] = 200 * (fy - fz);
}

function labToRgbInto(l: number, a: number, bb: number, out: Uint8Array, o: number): void {
  const fy = (l + 16) / 116;
  const x = XN * labFInv(fy + a / 500), y = labFInv(fy), z = ZN * labFInv(fy - bb / 200);
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
  let lo = 0, hi = 255; // answer in 1..255: the number of steps below v
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (LINEAR_STEPS[mid] < v) lo = mid; else hi = mid;
  }
  return LINEAR_STEPS[lo] < v ? lo + 1 : lo;
}
