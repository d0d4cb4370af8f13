import type { Frame } from './frame';

export interface Normalisation {
  /** Subtracted per channel (in R,G,B order of the frame), 0–255 scale. */
  mean: number | [number, number, number];
  /** Divided per channel, 0–255 scale. */
  std: number | [number, number, number];
  /** Channel planes in B,G,R order (FaceFusion models take BGR). */
  bgr?: boolean;
  out?: Float32Array;
}

function triple(v: number | [number, number, number]): [number, number, number] {
  return typeof v === 'number' ? [v, v, v] : v;
}

/**
 * Interleaved RGB bytes → planar CHW float32, (x − mean) / std, one strided pass per plane.
 * Pass `out` (e.g. a tensor buffer reused across frames) to avoid any allocation.
 */
export function toCHW(frame: Frame, norm: Normalisation): Float32Array {
  const plane = frame.width * frame.height;
  if (norm.out && norm.out.length < plane * 3) throw new RangeError(`output tensor holds ${norm.out.length} values, ${plane * 3} needed`);
  const out = norm.out ?? new Float32Array(plane * 3);
  const mean = triple(norm.mean);
  const std = triple(norm.std);
  const src = frame.data;
  for (let c = 0; c < 3; c++) {
    const srcChannel = norm.bgr ? 2 - c : c;
    const m = mean[srcChannel];
    const inv = 1 / std[srcChannel];
    const base = c * plane;
    for (let i = 0, p = srcChannel; i < plane; i++, p += 3) out[base + i] = (src[p] - m) * inv;
  }
  return out;
}

/** Luma plane (0.299 R + 0.587 G + 0.114 B) × scale. */
export function toGrayPlane(frame: Frame, scale: number, out?: Float32Array): Float32Array {
  const plane = frame.width * frame.height;
  if (out && out.length < plane) throw new RangeError(`output plane holds ${out.length} values, ${plane} needed`);
  const dst = out ?? new Float32Array(plane);
  const src = frame.data;
  for (let i = 0, p = 0; i < plane; i++, p += 3) dst[i] = (0.299 * src[p] + 0.587 * src[p + 1] + 0.114 * src[p + 2]) * scale;
  return dst;
}

/** Planar CHW float32 → RGB frame: x × std + mean, clamped to 0..255 and rounded. */
export function fromCHW(data: Float32Array, width: number, height: number, norm: Omit<Normalisation, 'out'>): Frame {
  const plane = width * height;
  if (data.length < plane * 3) throw new RangeError(`tensor holds ${data.length} values, ${plane * 3} needed for ${width}×${height}×3`);
  const out = new Uint8Array(plane * 3);
  const mean = triple(norm.mean);
  const std = triple(norm.std);
  for (let c = 0; c < 3; c++) {
    const dstChannel = norm.bgr ? 2 - c : c;
    const m = mean[dstChannel];
    const s = std[dstChannel];
    const base = c * plane;
    for (let i = 0, p = dstChannel; i < plane; i++, p += 3) {
      const v = data[base + i] * s + m;
      out[p] = v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5;
    }
  }
  return { width, height, channels: 3, data: out };
}
