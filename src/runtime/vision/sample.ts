import type { Frame, Rect } from './frame';
import { isYuv, sampleYuvTileToRgb, sampleYuvToRgb, yuvLayout, type AxisTaps, type Pixels } from './yuv';

/**
 * A region of a frame (RGB or YUV 4:2:0) seen at a scale, as the RGB input of a detector tile:
 * bilinear samples at the pixel centres of the scaled region, read from the frame as it is
 * stored (a video frame's planes are mixed and converted once per output pixel, never converted
 * as a whole). Below half scale bilinear samples alias (skip most pixels): those levels read a
 * box-averaged copy of the frame instead (`downsampleToRgb`), made once per frame and level.
 */

/** Sample positions of `count` outputs over a region starting at `start` (source pixels) at `scale`, clamped to 0 … limit − 1. */
export function regionTaps(start: number, count: number, scale: number, limit: number): AxisTaps {
  const i0 = new Int32Array(count),
    i1 = new Int32Array(count),
    f = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const v = Math.min(Math.max(start + (k + 0.5) / scale - 0.5, 0), limit - 1);
    const i = Math.floor(v);
    i0[k] = i;
    i1[k] = Math.min(i + 1, limit - 1);
    f[k] = v - i;
  }
  return { i0, i1, f };
}

/**
 * Writes `region` of `src` at `scale` into the top-left of `out` (outWidth × outHeight RGB); the
 * rest of `out` is set to `pad`. Returns the sampled size (≤ out's).
 */
export function sampleRegionToRgb(src: Pixels, region: Rect, scale: number, out: Uint8Array, outWidth: number, outHeight: number, pad = 127): { width: number; height: number } {
  if (out.length < outWidth * outHeight * 3) throw new RangeError(`sample buffer has ${out.length} bytes, expected ${outWidth * outHeight * 3}`);
  const width = Math.max(1, Math.min(outWidth, Math.round(region.width * scale)));
  const height = Math.max(1, Math.min(outHeight, Math.round(region.height * scale)));
  const xt = regionTaps(region.x, width, scale, src.width);
  const yt = regionTaps(region.y, height, scale, src.height);
  if (width < outWidth || height < outHeight) out.fill(pad, 0, outWidth * outHeight * 3);
  if (isYuv(src)) sampleYuvTileToRgb(src, xt, yt, out, outWidth);
  else sampleRgb(src, xt, yt, out, outWidth);
  return { width, height };
}

function sampleRgb(src: Frame, xt: AxisTaps, yt: AxisTaps, out: Uint8Array, outWidth: number): void {
  const s = src.data,
    sw = src.width;
  const { i0: x0, i1: x1, f: fx } = xt;
  const width = x0.length;
  for (let y = 0; y < yt.i0.length; y++) {
    const r0 = yt.i0[y] * sw,
      r1 = yt.i1[y] * sw,
      fy = yt.f[y];
    let o = y * outWidth * 3;
    for (let x = 0; x < width; x++) {
      const a = fx[x];
      const p00 = (r0 + x0[x]) * 3,
        p01 = (r0 + x1[x]) * 3,
        p10 = (r1 + x0[x]) * 3,
        p11 = (r1 + x1[x]) * 3;
      for (let c = 0; c < 3; c++) {
        const top = s[p00 + c] + (s[p01 + c] - s[p00 + c]) * a;
        const bottom = s[p10 + c] + (s[p11 + c] - s[p10 + c]) * a;
        out[o++] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
}

/**
 * The frame shrunk by a whole `factor` as RGB: each output pixel the mean of its factor × factor
 * block (the last row and column of blocks cut at the frame's edge). YUV frames are averaged on
 * their planes and converted per output pixel. Cost: one read of the frame.
 */
export function downsampleToRgb(src: Pixels, factor: number): Frame {
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`downsample factor must be a whole number ≥ 1, got ${factor}`);
  const width = Math.ceil(src.width / factor),
    height = Math.ceil(src.height / factor);
  const out = new Uint8Array(width * height * 3);
  if (isYuv(src)) {
    // Plane means per block, then the sampler's conversion of those means (a 1:1 "sampling").
    const { uOffset, vOffset, cw, ch, bytes } = yuvLayout(width, height);
    const planes = new Uint8Array(bytes);
    const src2 = yuvLayout(src.width, src.height);
    boxMean(src.data, 0, src.width, src.height, factor, planes, 0, width, height);
    // Chroma blocks: factor/2 chroma samples (at least 1) cover the same area.
    const cf = Math.max(1, factor >> 1);
    boxMean(src.data, src2.uOffset, src2.cw, src2.ch, cf, planes, uOffset, cw, ch);
    boxMean(src.data, src2.vOffset, src2.cw, src2.ch, cf, planes, vOffset, cw, ch);
    const small = { format: 'yuv420p' as const, width, height, data: planes, ...(src.matrix ? { matrix: src.matrix } : {}) };
    sampleYuvToRgb(small, regionTaps(0, width, 1, width), regionTaps(0, height, 1, height), out, width);
    return { width, height, channels: 3, data: out };
  }
  const sums = new Float64Array(width * 3);
  const counts = new Float64Array(width);
  for (let by = 0; by < height; by++) {
    sums.fill(0);
    counts.fill(0);
    const yEnd = Math.min(src.height, (by + 1) * factor);
    for (let y = by * factor; y < yEnd; y++) {
      let p = y * src.width * 3;
      for (let x = 0; x < src.width; x++, p += 3) {
        const b = (x / factor) | 0;
        sums[b * 3] += src.data[p];
        sums[b * 3 + 1] += src.data[p + 1];
        sums[b * 3 + 2] += src.data[p + 2];
        counts[b]++;
      }
    }
    for (let b = 0, o = by * width * 3; b < width; b++) {
      const n = counts[b];
      out[o++] = sums[b * 3] / n + 0.5;
      out[o++] = sums[b * 3 + 1] / n + 0.5;
      out[o++] = sums[b * 3 + 2] / n + 0.5;
    }
  }
  return { width, height, channels: 3, data: out };
}

/** Means of factor × factor blocks of a one-channel plane (w × h at `offset`) into `dst` (dw × dh at `dOffset`). */
function boxMean(src: Uint8Array, offset: number, w: number, h: number, factor: number, dst: Uint8Array, dOffset: number, dw: number, dh: number): void {
  const sums = new Float64Array(dw);
  const counts = new Float64Array(dw);
  for (let by = 0; by < dh; by++) {
    sums.fill(0);
    counts.fill(0);
    const yEnd = Math.min(h, (by + 1) * factor);
    for (let y = by * factor; y < yEnd; y++) {
      const row = offset + y * w;
      for (let x = 0; x < w; x++) {
        const b = (x / factor) | 0;
        if (b >= dw) break;
        sums[b] += src[row + x];
        counts[b]++;
      }
    }
    for (let b = 0; b < dw; b++) dst[dOffset + by * dw + b] = counts[b] ? sums[b] / counts[b] + 0.5 : 128;
  }
}
