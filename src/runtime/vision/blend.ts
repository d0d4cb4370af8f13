import type { Frame, Rect } from './frame';
import type { FrameTarget } from './affine';

/**
 * dst ← dst·(1 − m·ratio) + src·m·ratio inside `rect`, where `src` and `mask` are rect-sized.
 * Pixels whose weight is 0 are not written, so they stay byte-identical.
 */
export function blendMaskedInto(dst: FrameTarget, src: Frame, mask: Float32Array, rect: Rect, ratio: number): void {
  const d = dst.data, s = src.data;
  for (let y = 0; y < rect.height; y++) {
    let o = ((rect.y + y) * dst.width + rect.x) * 3;
    let i = y * rect.width;
    for (let x = 0; x < rect.width; x++, i++, o += 3) {
      const w = mask[i] * ratio;
      if (w <= 0) continue;
      const k = i * 3;
      for (let c = 0; c < 3; c++) {
        const v = d[o + c] + (s[k + c] - d[o + c]) * w;
        d[o + c] = v + 0.5;
      }
    }
  }
}

/** (1 − alpha)·a + alpha·b for two frames of the same size. */
export function alphaBlend(a: Frame, b: Frame, alpha: number): Frame {
  const out = new Uint8Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] + (b.data[i] - a.data[i]) * alpha + 0.5;
  return { width: a.width, height: a.height, channels: 3, data: out };
}
