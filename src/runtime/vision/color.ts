import type { Frame } from './frame';

export interface ChannelStats {
  mean: [number, number, number];
  std: [number, number, number];
  weight: number;
}

/** Mask-weighted mean and standard deviation per channel of a frame (mask same size). */
export function maskedStats(frame: Frame, mask: Float32Array): ChannelStats {
  let w = 0;
  const sum = [0, 0, 0], sq = [0, 0, 0];
  for (let i = 0, p = 0; i < mask.length; i++, p += 3) {
    const m = mask[i];
    if (m <= 0) continue;
    w += m;
    for (let c = 0; c < 3; c++) {
      const v = frame.data[p + c];
      sum[c] += v * m;
      sq[c] += v * v * m;
    }
  }
  if (w === 0) return { mean: [0, 0, 0], std: [1, 1, 1], weight: 0 };
  const mean = sum.map((s) => s / w) as [number, number, number];
  const std = sq.map((s, c) => Math.sqrt(Math.max(s / w - mean[c] * mean[c], 1e-6))) as [number, number, number];
  return { mean, std, weight: w };
}

/**
 * Reinhard-style colour transfer per RGB channel: the masked pixels of `src` are shifted and
 * scaled so their mean/std match `target`'s masked statistics. RGB rather than Lab: faces of
 * the same lighting differ mostly in per-channel gain and offset, and it keeps this per-pixel
 * pass to a multiply-add. The std ratio is clamped (0.5–2) so a noisy patch cannot blow up.
 */
export function colorTransferInto(src: Frame, srcMask: Float32Array, target: Frame, targetMask: Float32Array): void {
  const a = maskedStats(src, srcMask);
  const b = maskedStats(target, targetMask);
  if (a.weight === 0 || b.weight === 0) return;
  const gain = [0, 1, 2].map((c) => Math.min(2, Math.max(0.5, b.std[c] / a.std[c])));
  const d = src.data;
  for (let i = 0, p = 0; i < srcMask.length; i++, p += 3) {
    if (srcMask[i] <= 0) continue;
    for (let c = 0; c < 3; c++) {
      const v = (d[p + c] - a.mean[c]) * gain[c] + b.mean[c];
      d[p + c] = v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5;
    }
  }
}
