import type { Frame, Rect } from './frame';

/**
 * Bilinear resize with precomputed column/row index+weight tables. For strong downscales it
 * samples (it does not average); detectors are trained on such inputs, and it is fast.
 */
export function resizeBilinear(frame: Frame, width: number, height: number): Frame {
  checkSize(width, height);
  const { width: sw, height: sh, data: src } = frame;
  const out = new Uint8Array(width * height * 3);
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float32Array(width);
  const sx = sw / width;
  for (let x = 0; x < width; x++) {
    const v = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
    const i = Math.floor(v);
    x0[x] = i * 3;
    x1[x] = Math.min(i + 1, sw - 1) * 3;
    fx[x] = v - i;
  }
  const sy = sh / height;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const v = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const j = Math.floor(v);
    const fy = v - j;
    const r0 = j * sw * 3;
    const r1 = Math.min(j + 1, sh - 1) * sw * 3;
    for (let x = 0; x < width; x++) {
      const a = fx[x];
      const p00 = r0 + x0[x], p01 = r0 + x1[x], p10 = r1 + x0[x], p11 = r1 + x1[x];
      for (let c = 0; c < 3; c++) {
        const top = src[p00 + c] + (src[p01 + c] - src[p00 + c]) * a;
        const bottom = src[p10 + c] + (src[p11 + c] - src[p10 + c]) * a;
        out[o++] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
  return { width, height, channels: 3, data: out };
}

/** Copy of a rectangle (clipped by the caller: it must lie inside the frame) as a new frame. */
export function crop(frame: Frame, rect: Rect): Frame {
  if (!Number.isInteger(rect.x) || !Number.isInteger(rect.y) || rect.x < 0 || rect.y < 0 || rect.x + rect.width > frame.width || rect.y + rect.height > frame.height) {
    throw new RangeError(`crop rectangle ${rect.x},${rect.y} ${rect.width}×${rect.height} is not inside the ${frame.width}×${frame.height} frame`);
  }
  checkSize(rect.width, rect.height);
  const data = new Uint8Array(rect.width * rect.height * 3);
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
