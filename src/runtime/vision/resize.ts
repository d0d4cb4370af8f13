import type { Frame, Rect } from './frame';

/**
 * Bilinear resize with precomputed column/row index+weight tables. For strong downscales it
 * samples (it does not average); detectors are trained on such inputs, and it is fast.
 */
export function resizeBilinear(frame: Frame, width: number, height: number): Frame {
  checkSize(width, height);
  const { width: sw, height: sh, data: src } = frame;
  const out = new Uint8Array(width * height * 3);
  const { i0: x0, i1: x1, f: fx64 } = bilinearTaps(sw, width);
  for (let x = 0; x < width; x++) {
    x0[x] *= 3;
    x1[x] *= 3;
  }
  // Column weights in single precision, row weights in double: what this function always used
  // (its output is part of every detector's input, so it stays bit-identical).
  const fx = Float32Array.from(fx64);
  const { i0: y0, i1: y1, f: fys } = bilinearTaps(sh, height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const fy = fys[y];
    const r0 = y0[y] * sw * 3;
    const r1 = y1[y] * sw * 3;
    for (let x = 0; x < width; x++) {
      const a = fx[x];
      const p00 = r0 + x0[x],
        p01 = r0 + x1[x],
        p10 = r1 + x0[x],
        p11 = r1 + x1[x];
      for (let c = 0; c < 3; c++) {
        const top = src[p00 + c] + (src[p01 + c] - src[p00 + c]) * a;
        const bottom = src[p10 + c] + (src[p11 + c] - src[p10 + c]) * a;
        out[o++] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
  return { width, height, channels: 3, data: out };
}

/**
 * The two source samples and the weight of the second for each of `dst` outputs along one axis
 * of `src` samples (pixel centres aligned, clamped at the edges): the taps of resizeBilinear,
 * shared with vision/yuv.ts so both sample the same points.
 */
export function bilinearTaps(src: number, dst: number): { i0: Int32Array; i1: Int32Array; f: Float64Array } {
  const i0 = new Int32Array(dst),
    i1 = new Int32Array(dst),
    f = new Float64Array(dst);
  const scale = src / dst;
  for (let k = 0; k < dst; k++) {
    const v = Math.min(Math.max((k + 0.5) * scale - 0.5, 0), src - 1);
    const i = Math.floor(v);
    i0[k] = i;
    i1[k] = Math.min(i + 1, src - 1);
    f[k] = v - i;
  }
  return { i0, i1, f };
}

/**
 * Copy of a rectangle (clipped by the caller: it must lie inside the frame) as a new frame.
 * `out` (rect.width·rect.height·3 bytes, any old contents: every byte is written), when given,
 * becomes the returned frame's data instead of a new array.
 */
export function crop(frame: Frame, rect: Rect, out?: Uint8Array): Frame {
  if (!Number.isInteger(rect.x) || !Number.isInteger(rect.y) || rect.x < 0 || rect.y < 0 || rect.x + rect.width > frame.width || rect.y + rect.height > frame.height) {
    throw new RangeError(`crop rectangle ${rect.x},${rect.y} ${rect.width}×${rect.height} is not inside the ${frame.width}×${frame.height} frame`);
  }
  checkSize(rect.width, rect.height);
  if (out && out.length !== rect.width * rect.height * 3) throw new RangeError(`crop: out has ${out.length} bytes, expected ${rect.width * rect.height * 3}`);
  const data = out ?? new Uint8Array(rect.width * rect.height * 3);
  const row = rect.width * 3;
  for (let y = 0; y < rect.height; y++) {
    const start = ((rect.y + y) * frame.width + rect.x) * 3;
    data.set(frame.data.subarray(start, start + row), y * row);
  }
  return { width: rect.width, height: rect.height, channels: 3, data };
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}×${height}`);
  }
}
