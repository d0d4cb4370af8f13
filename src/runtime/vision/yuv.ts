import type { Frame, Rect } from './frame';
import { clipRect } from './rect';
import { bilinearTaps } from './resize';

/**
 * A planar YUV 4:2:0 frame as ffmpeg's `yuv420p` lays it out (limited "tv" range): the Y plane
 * (width × height), then U and V (cw × ch each, cw = ⌈width/2⌉, ch = ⌈height/2⌉). Video jobs keep
 * frames in this form from the decoder to the encoder, so neither side converts the whole frame
 * and the pipes carry half the bytes of RGB; stages that need RGB convert only the pixels they
 * work on (see processors/yuv-pixels.ts). `matrix` is the stream's colour matrix (BT.601 when
 * unknown, as ffmpeg's own conversions assume).
 */
export interface YuvFrame {
  readonly format: 'yuv420p';
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  readonly matrix?: YuvMatrix;
}

export type YuvMatrix = 'bt601' | 'bt709';

/** What the frame store holds: RGB (pictures, flows) or YUV 4:2:0 (video jobs). */
export type Pixels = Frame | YuvFrame;

export interface YuvLayout {
  ySize: number;
  /** Chroma plane size. */
  cw: number;
  ch: number;
  uOffset: number;
  vOffset: number;
  bytes: number;
}

export function yuvLayout(width: number, height: number): YuvLayout {
  const ySize = width * height;
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  return { ySize, cw, ch, uOffset: ySize, vOffset: ySize + cw * ch, bytes: ySize + 2 * cw * ch };
}

export function isYuv(pixels: Pixels): pixels is YuvFrame {
  return (pixels as YuvFrame).format === 'yuv420p';
}

/** The byte size a frame of this form must have. */
export function expectedPixelBytes(pixels: Pixels): number {
  return isYuv(pixels) ? yuvLayout(pixels.width, pixels.height).bytes : pixels.width * pixels.height * 3;
}

export function createYuvFrame(width: number, height: number, data?: Uint8Array, matrix?: YuvMatrix): YuvFrame {
  const { bytes } = yuvLayout(width, height);
  if (data && data.length !== bytes) throw new RangeError(`yuv420p frame data has ${data.length} bytes, expected ${bytes}`);
  return { format: 'yuv420p', width, height, data: data ?? new Uint8Array(bytes), ...(matrix ? { matrix } : {}) };
}

/**
 * Conversion tables (16.16 fixed point), built once per matrix and never written after: the
 * per-pixel work is then table reads and adds, which is what makes region conversions cheap
 * enough to run per face per frame.
 */
interface ToRgbTables {
  /** The float coefficients, for sampled (mixed) values. */
  ys: number;
  crv: number;
  cgu: number;
  cgv: number;
  cbu: number;
  y: Int32Array;
  rv: Int32Array;
  gu: Int32Array;
  gv: Int32Array;
  bu: Int32Array;
}

interface ToYuvCoefficients {
  yr: number;
  yg: number;
  yb: number;
  ur: number;
  ug: number;
  ub: number;
  vr: number;
  vg: number;
  vb: number;
}

/** Limited-range coefficients (Y' 16–235, Cb/Cr 16–240), per ITU-R BT.601 and BT.709. */
const MATRICES: Record<YuvMatrix, { kr: number; kb: number }> = { bt601: { kr: 0.299, kb: 0.114 }, bt709: { kr: 0.2126, kb: 0.0722 } };

/**
 * Added before the final 16-bit shift: −½ level. ffmpeg's own yuv420p → rgb24 conversion (the
 * RGB path's decoder output) lands about half a level below exact rounding; with this offset our
 * conversion is within 2 levels of it everywhere and within 1 for 99.5 % of samples
 * (test/yuv-frames.test.js), where exact rounding was within 3.
 */
const ROUNDING = -32768;

function toRgbTables(matrix: YuvMatrix): ToRgbTables {
  const { kr, kb } = MATRICES[matrix];
  const kg = 1 - kr - kb;
  const ys = 255 / 219,
    cs = 255 / 224;
  const crv = 2 * (1 - kr) * cs;
  const cbu = 2 * (1 - kb) * cs;
  const cgu = (2 * (1 - kb) * kb * cs) / kg;
  const cgv = (2 * (1 - kr) * kr * cs) / kg;
  const t: ToRgbTables = { ys, crv, cgu, cgv, cbu, y: new Int32Array(256), rv: new Int32Array(256), gu: new Int32Array(256), gv: new Int32Array(256), bu: new Int32Array(256) };
  const one = 1 << 16;
  for (let i = 0; i < 256; i++) {
    t.y[i] = Math.round((i - 16) * ys * one) + ROUNDING;
    t.rv[i] = Math.round((i - 128) * crv * one);
    t.gu[i] = Math.round((i - 128) * cgu * one);
    t.gv[i] = Math.round((i - 128) * cgv * one);
    t.bu[i] = Math.round((i - 128) * cbu * one);
  }
  return t;
}

function toYuvCoefficients(matrix: YuvMatrix): ToYuvCoefficients {
  const { kr, kb } = MATRICES[matrix];
  const kg = 1 - kr - kb;
  const ys = 219 / 255,
    cs = 224 / 255;
  return {
    yr: kr * ys,
    yg: kg * ys,
    yb: kb * ys,
    ur: (-kr / (2 * (1 - kb))) * cs,
    ug: (-kg / (2 * (1 - kb))) * cs,
    ub: 0.5 * cs,
    vr: 0.5 * cs,
    vg: (-kg / (2 * (1 - kr))) * cs,
    vb: (-kb / (2 * (1 - kr))) * cs,
  };
}

// Read-only after module load (tables of constants, not state).
const TO_RGB: Record<YuvMatrix, ToRgbTables> = { bt601: toRgbTables('bt601'), bt709: toRgbTables('bt709') };
const TO_YUV: Record<YuvMatrix, ToYuvCoefficients> = { bt601: toYuvCoefficients('bt601'), bt709: toYuvCoefficients('bt709') };

function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * The RGB pixels of `rect` (clipped to the frame) written into `dst` at the same coordinates
 * (`dst` is a frame of the same size; pixels outside the rect are not touched). Chroma is
 * taken from the sample covering each pixel (nearest, as ffmpeg's unscaled yuv420p → rgb24).
 */
export function yuvRegionToRgb(src: YuvFrame, rect: Rect, dst: Frame): void {
  if (dst.width !== src.width || dst.height !== src.height) throw new RangeError(`destination ${dst.width}×${dst.height} differs from the ${src.width}×${src.height} frame`);
  const r = clipRect(rect, src.width, src.height);
  convertRows(src, r, dst.data, src.width, r.x, r.y);
}

/** The whole frame as RGB (a new frame, or into `out` of the same size). */
export function yuvToRgb(src: YuvFrame, out?: Frame): Frame {
  const dst = out ?? { width: src.width, height: src.height, channels: 3 as const, data: new Uint8Array(src.width * src.height * 3) };
  yuvRegionToRgb(src, { x: 0, y: 0, width: src.width, height: src.height }, dst);
  return dst;
}

/** `rect` (clipped to the frame) as a new RGB frame of its size. */
export function cropYuvToRgb(src: YuvFrame, rect: Rect): Frame {
  const r = clipRect(rect, src.width, src.height);
  const data = new Uint8Array(r.width * r.height * 3);
  convertRows(src, r, data, r.width, 0, 0);
  return { width: r.width, height: r.height, channels: 3, data };
}

/** Converts the clipped rect `r` of `src` into RGB rows of `out` (row length `outWidth` pixels), its corner at (ox, oy). */
function convertRows(src: YuvFrame, r: Rect, out: Uint8Array, outWidth: number, ox: number, oy: number): void {
  const t = TO_RGB[src.matrix ?? 'bt601'];
  const { uOffset, vOffset, cw } = yuvLayout(src.width, src.height);
  const s = src.data,
    w = src.width;
  for (let y = r.y; y < r.y + r.height; y++) {
    const cRow = (y >> 1) * cw;
    let o = ((oy + y - r.y) * outWidth + ox) * 3;
    for (let x = r.x, p = y * w + r.x; x < r.x + r.width; x++, p++) {
      const c = cRow + (x >> 1);
      const u = s[uOffset + c],
        v = s[vOffset + c];
      const yy = t.y[s[p]];
      out[o++] = clamp8((yy + t.rv[v]) >> 16);
      out[o++] = clamp8((yy - t.gu[u] - t.gv[v]) >> 16);
      out[o++] = clamp8((yy + t.bu[u]) >> 16);
    }
  }
}

/**
 * The frame resized to width × height as RGB, sampled straight from the planes with the taps of
 * vision/resize.ts `resizeBilinear` (chroma taken nearest for each luma tap, as the RGB path's
 * conversion does): Y, U and V are mixed first and converted once per output pixel. Because the
 * conversion is affine this equals the RGB path's mix of converted pixels except where a corner
 * clips at 0 or 255. A detector sees the input it would see from the RGB path without the whole
 * frame ever being converted (720p → 320×240 touches 77 k output pixels instead of 922 k).
 * `into`: a buffer of width × height × 3 bytes to write to instead of a new one.
 */
export function resizeYuvToRgb(src: YuvFrame, width: number, height: number, into?: Uint8Array): Frame {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`image size must be positive integers, got ${width}×${height}`);
  if (into && into.length !== width * height * 3) throw new RangeError(`output buffer has ${into.length} bytes, expected ${width * height * 3}`);
  const out = into ?? new Uint8Array(width * height * 3);
  sampleYuvToRgb(src, bilinearTaps(src.width, width), bilinearTaps(src.height, height), out, width);
  return { width, height, channels: 3, data: out };
}

/** Sample positions along one axis: the two source samples and the weight of the second (see bilinearTaps). */
export interface AxisTaps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly f: Float64Array;
}

/**
 * RGB of the points the taps name (columns × rows), mixed on the planes and converted once per
 * output pixel (see resizeYuvToRgb), written as rows of `outWidth` pixels from the start of `out`.
 */
export function sampleYuvToRgb(src: YuvFrame, xt: AxisTaps, yt: AxisTaps, out: Uint8Array, outWidth: number): void {
  const { width: sw, data: s } = src;
  const { uOffset, vOffset, cw } = yuvLayout(sw, src.height);
  const t = TO_RGB[src.matrix ?? 'bt601'];
  const { i0: x0, i1: x1, f: fx } = xt;
  const { i0: y0, i1: y1, f: fys } = yt;
  const width = x0.length;
  for (let y = 0; y < y0.length; y++) {
    const j = y0[y],
      j1 = y1[y],
      fy = fys[y];
    const r0 = j * sw,
      r1 = j1 * sw;
    const u0 = uOffset + (j >> 1) * cw,
      u1 = uOffset + (j1 >> 1) * cw;
    const v0 = vOffset + (j >> 1) * cw,
      v1 = vOffset + (j1 >> 1) * cw;
    let o = y * outWidth * 3;
    for (let x = 0; x < width; x++) {
      const a = fx[x],
        xa = x0[x],
        xb = x1[x];
      const ca = xa >> 1,
        cb = xb >> 1;
      const yt = s[r0 + xa] + (s[r0 + xb] - s[r0 + xa]) * a;
      const yb = s[r1 + xa] + (s[r1 + xb] - s[r1 + xa]) * a;
      const ut = s[u0 + ca] + (s[u0 + cb] - s[u0 + ca]) * a;
      const ub = s[u1 + ca] + (s[u1 + cb] - s[u1 + ca]) * a;
      const vt = s[v0 + ca] + (s[v0 + cb] - s[v0 + ca]) * a;
      const vb = s[v1 + ca] + (s[v1 + cb] - s[v1 + ca]) * a;
      const yy = (yt + (yb - yt) * fy - 16) * t.ys - 0.5; // the tables' −½ (ROUNDING)
      const uu = ut + (ub - ut) * fy - 128;
      const vv = vt + (vb - vt) * fy - 128;
      // Truncated after −½, as the tables do (see ROUNDING).
      out[o++] = clamp8(yy + t.crv * vv);
      out[o++] = clamp8(yy - t.cgu * uu - t.cgv * vv);
      out[o++] = clamp8(yy + t.cbu * uu);
    }
  }
}

/**
 * A detector tile's RGB from the planes (vision/sample.ts): luma mixed bilinearly as in
 * sampleYuvToRgb, chroma from the one sample nearest each output point. Why: a tile is a
 * detector's input only, and the four chroma mixes are most of sampleYuvToRgb's cost (35 % less
 * CPU per 320×240 tile, measured with scratch benches; chroma is half resolution and smooth, the
 * detector sees no difference that matters). Rounded to nearest (a clamped view), not truncated.
 */
export function sampleYuvTileToRgb(src: YuvFrame, xt: AxisTaps, yt: AxisTaps, out: Uint8Array, outWidth: number): void {
  const sw = src.width,
    s = src.data;
  const { uOffset, vOffset, cw } = yuvLayout(sw, src.height);
  const t = TO_RGB[src.matrix ?? 'bt601'];
  const ys = t.ys,
    crv = t.crv,
    cgu = t.cgu,
    cgv = t.cgv,
    cbu = t.cbu;
  const n = xt.i0.length;
  const x0 = xt.i0,
    x1 = xt.i1,
    fx = Float32Array.from(xt.f),
    cx = new Int32Array(n);
  for (let x = 0; x < n; x++) cx[x] = (fx[x] < 0.5 ? x0[x] : x1[x]) >> 1;
  const o8 = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  for (let y = 0; y < yt.i0.length; y++) {
    const j = yt.i0[y],
      j1 = yt.i1[y],
      fy = yt.f[y];
    const r0 = j * sw,
      r1 = j1 * sw;
    const crow = ((fy < 0.5 ? j : j1) >> 1) * cw;
    const u0 = uOffset + crow,
      v0 = vOffset + crow;
    let o = y * outWidth * 3;
    for (let x = 0; x < n; x++) {
      const xa = x0[x],
        xb = x1[x],
        a = fx[x];
      const t0 = s[r0 + xa],
        b0 = s[r1 + xa];
      const top = t0 + (s[r0 + xb] - t0) * a;
      const bottom = b0 + (s[r1 + xb] - b0) * a;
      const yy = (top + (bottom - top) * fy - 16) * ys;
      const c = cx[x];
      const u = s[u0 + c] - 128,
        v = s[v0 + c] - 128;
      o8[o] = yy + crv * v;
      o8[o + 1] = yy - cgu * u - cgv * v;
      o8[o + 2] = yy + cbu * u;
      o += 3;
    }
  }
}

/**
 * Writes the RGB pixels of `rect` back into the YUV frame `dst` (same size as `rgb`), touching
 * only what changed: a luma sample is rewritten where its RGB pixel changed, and a chroma
 * sample (2×2 pixels) is recomputed — from the mean of its pixels — only when one of them
 * changed. "Changed" is against `original` (the RGB the stage started from, e.g. an RgbView's
 * frame: three byte compares per pixel), or, without it, against the frame's own conversion.
 * Untouched pixels stay bit-exact, so a stage that edits a face costs no round-trip error
 * anywhere else. The rect is widened to even coordinates so chroma blocks are whole: `rgb` (and
 * `original`) must hold real pixels there.
 */
export function writeRgbRegionToYuv(rgb: Frame, rect: Rect, dst: YuvFrame, original?: Frame): void {
  if (rgb.width !== dst.width || rgb.height !== dst.height) throw new RangeError(`source ${rgb.width}×${rgb.height} differs from the ${dst.width}×${dst.height} frame`);
  if (original && (original.width !== dst.width || original.height !== dst.height)) throw new RangeError('the original RGB frame differs in size');
  const c0 = clipRect(rect, dst.width, dst.height);
  if (c0.width === 0 || c0.height === 0) return;
  const x1 = Math.min(dst.width, c0.x + c0.width + ((c0.x + c0.width) & 1));
  const y1 = Math.min(dst.height, c0.y + c0.height + ((c0.y + c0.height) & 1));
  rgbBlocksToYuv(rgb, dst, c0.x & ~1, c0.y & ~1, x1, y1, true, original);
}

/**
 * The whole RGB frame as yuv420p (into `out` when given): BT.601 (or `matrix`), limited range,
 * each chroma sample the mean of its 2×2 pixels. Used where an RGB frame meets a YUV video (a
 * stage without a YUV path, fed to a yuv420p encoder). Fixed-point arithmetic (16.16): ≈ 4×
 * faster than the float form, and within 1 level of it. Whole 2×2 blocks take an unrolled loop
 * (≈ 1.5–2× faster than rgbBlocksToYuv's general one, measured at 720p); the last column and
 * row of an odd-sized frame take the general one. Both give the same bytes.
 */
export function rgbToYuv(rgb: Frame, matrix: YuvMatrix = 'bt601', out?: Uint8Array): YuvFrame {
  const { width, height } = rgb;
  const { uOffset, vOffset, cw, bytes } = yuvLayout(width, height);
  if (out && out.length !== bytes) throw new RangeError(`yuv420p buffer has ${out.length} bytes, expected ${bytes}`);
  const frame: YuvFrame = { format: 'yuv420p', width, height, data: out ?? new Uint8Array(bytes), ...(matrix !== 'bt601' ? { matrix } : {}) };
  const { yr, yg, yb, yAdd } = fixedLuma(matrix);
  const k = TO_YUV[matrix];
  const d = frame.data,
    s = rgb.data;
  const evenWidth = width & ~1,
    evenHeight = height & ~1;
  const row = width * 3;
  for (let by = 0; by < evenHeight; by += 2) {
    let p = by * width,
      o = p * 3,
      c = (by >> 1) * cw;
    for (let bx = 0; bx < evenWidth; bx += 2, p += 2, o += 6, c++) {
      const q = o + row;
      d[p] = (yr * s[o] + yg * s[o + 1] + yb * s[o + 2] + yAdd) >> 16;
      d[p + 1] = (yr * s[o + 3] + yg * s[o + 4] + yb * s[o + 5] + yAdd) >> 16;
      d[p + width] = (yr * s[q] + yg * s[q + 1] + yb * s[q + 2] + yAdd) >> 16;
      d[p + width + 1] = (yr * s[q + 3] + yg * s[q + 4] + yb * s[q + 5] + yAdd) >> 16;
      const sr = s[o] + s[o + 3] + s[q] + s[q + 3];
      const sg = s[o + 1] + s[o + 4] + s[q + 1] + s[q + 4];
      const sb = s[o + 2] + s[o + 5] + s[q + 2] + s[q + 5];
      d[uOffset + c] = clamp8((128.5 + (k.ur * sr + k.ug * sg + k.ub * sb) * 0.25) | 0);
      d[vOffset + c] = clamp8((128.5 + (k.vr * sr + k.vg * sg + k.vb * sb) * 0.25) | 0);
    }
  }
  if (evenWidth < width) rgbBlocksToYuv(rgb, frame, evenWidth, 0, width, height, false);
  if (evenHeight < height) rgbBlocksToYuv(rgb, frame, 0, evenHeight, evenWidth, height, false);
  return frame;
}

/** BT.601 (or `matrix`) luma coefficients in 16.16 fixed point, with the offset 16 and rounding. */
function fixedLuma(matrix: YuvMatrix): { yr: number; yg: number; yb: number; yAdd: number } {
  const k = TO_YUV[matrix];
  const one = 1 << 16;
  return { yr: Math.round(k.yr * one), yg: Math.round(k.yg * one), yb: Math.round(k.yb * one), yAdd: (16 << 16) + (one >> 1) };
}

/**
 * The general converter behind writeRgbRegionToYuv (and rgbToYuv's odd last column and row): the RGB pixels of [x0, x1) × [y0, y1)
 * (x0 and y0 even) into the yuv420p frame `dst` (same size as `rgb`), one 2×2 chroma block at a
 * time: each luma sample in fixed point (16.16) of `dst`'s matrix, each chroma sample from the
 * mean of its block's pixels. `onlyChanged`: a pixel equal to `original`'s (or, without it, to
 * the frame's own conversion) keeps its luma, and a block with no changed pixel keeps its chroma.
 */
function rgbBlocksToYuv(rgb: Frame, dst: YuvFrame, x0: number, y0: number, x1: number, y1: number, onlyChanged: boolean, original?: Frame): void {
  const t = TO_RGB[dst.matrix ?? 'bt601'];
  const k = TO_YUV[dst.matrix ?? 'bt601'];
  const { yr, yg, yb, yAdd } = fixedLuma(dst.matrix ?? 'bt601');
  const { uOffset, vOffset, cw } = yuvLayout(dst.width, dst.height);
  const d = dst.data,
    s = rgb.data,
    w = dst.width;
  const before = original?.data;
  for (let by = y0; by < y1; by += 2) {
    const yEnd = by + 2 < y1 ? by + 2 : y1;
    for (let bx = x0; bx < x1; bx += 2) {
      const xEnd = bx + 2 < x1 ? bx + 2 : x1;
      const c = (by >> 1) * cw + (bx >> 1);
      const u = d[uOffset + c],
        v = d[vOffset + c];
      let changed = !onlyChanged;
      let sr = 0,
        sg = 0,
        sb = 0,
        n = 0;
      for (let y = by; y < yEnd; y++) {
        for (let x = bx; x < xEnd; x++) {
          const p = y * w + x,
            o = p * 3;
          const R = s[o],
            G = s[o + 1],
            B = s[o + 2];
          sr += R;
          sg += G;
          sb += B;
          n++;
          if (onlyChanged) {
            if (before) {
              if (R === before[o] && G === before[o + 1] && B === before[o + 2]) continue;
            } else {
              const yy = t.y[d[p]];
              if (R === clamp8((yy + t.rv[v]) >> 16) && G === clamp8((yy - t.gu[u] - t.gv[v]) >> 16) && B === clamp8((yy + t.bu[u]) >> 16)) continue;
            }
            changed = true;
          }
          d[p] = (yr * R + yg * G + yb * B + yAdd) >> 16;
        }
      }
      if (!changed) continue;
      const inv = 1 / n;
      d[uOffset + c] = clamp8((128.5 + (k.ur * sr + k.ug * sg + k.ub * sb) * inv) | 0);
      d[vOffset + c] = clamp8((128.5 + (k.vr * sr + k.vg * sg + k.vb * sb) * inv) | 0);
    }
  }
}

/** One colour as Y, U, V in `matrix` (limited range). */
export function rgbColorToYuv(color: readonly [number, number, number], matrix: YuvMatrix = 'bt601'): [number, number, number] {
  const k = TO_YUV[matrix];
  const [R, G, B] = color;
  return [clamp8(Math.round(16 + k.yr * R + k.yg * G + k.yb * B)), clamp8(Math.round(128 + k.ur * R + k.ug * G + k.ub * B)), clamp8(Math.round(128 + k.vr * R + k.vg * G + k.vb * B))];
}
