import type { Frame, Rect } from './frame';
import { faceError } from '../errors';

/** A writable RGB buffer (row-major, 3 bytes per pixel); a Frame under construction fits. */
export interface PixelTarget {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * dst ← dst·(1 − w) + src·w with w = clamp(mask·ratio, 0, 1), rounded to the nearest byte,
 * for the pixels of `rect` (clipped to dst). `src` is either rect-sized (its pixel (0,0) lands
 * on rect's corner) or dst-sized (read at the same coordinates); `mask` likewise is either
 * rect.width×rect.height or dst.width×dst.height. Pixels whose weight is 0 (mask ≤ 0, or
 * ratio 0) are never written, so they stay byte-identical.
 */
export function blendMaskedInto(dst: PixelTarget, src: PixelTarget, mask: Float32Array, rect: Rect, ratio: number): void {
  const dw = dst.width,
    dh = dst.height;
  const rw = rect.width,
    rh = rect.height;
  const srcLocal = src.width === rw && src.height === rh;
  if (!srcLocal && (src.width !== dw || src.height !== dh)) {
    throw faceError('E_BAD_PARAMETER', `blend: source is ${src.width}×${src.height}; expected the rect (${rw}×${rh}) or the destination (${dw}×${dh})`);
  }
  const maskLocal = mask.length === rw * rh;
  if (!maskLocal && mask.length !== dw * dh) throw faceError('E_BAD_PARAMETER', `blend: mask has ${mask.length} values; expected ${rw * rh} or ${dw * dh}`);
  if (!(ratio > 0)) return; // also NaN: nothing to do
  const gain = ratio > 1 ? 1 : ratio;
  // Clip the rect to dst; (x, y) below are destination coordinates.
  const xs = Math.max(0, rect.x),
    ys = Math.max(0, rect.y);
  const xe = Math.min(dw, rect.x + rw),
    ye = Math.min(dh, rect.y + rh);
  const d = dst.data,
    s = src.data;
  for (let y = ys; y < ye; y++) {
    const ly = y - rect.y;
    for (let x = xs; x < xe; x++) {
      const lx = x - rect.x;
      const m = mask[maskLocal ? ly * rw + lx : y * dw + x];
      if (!(m > 0)) continue;
      const w = m * gain >= 1 ? 1 : m * gain;
      const o = (y * dw + x) * 3;
      const k = srcLocal ? (ly * rw + lx) * 3 : o;
      for (let c = 0; c < 3; c++) {
        const v = d[o + c];
        d[o + c] = v + (s[k + c] - v) * w + 0.5; // convex combination of bytes: store truncates → rounding
      }
    }
  }
}

/** New frame (1 − alpha)·a + alpha·b, rounded; alpha is clamped to 0..1; a and b must be the same size. */
export function alphaBlend(a: Frame, b: Frame, alpha: number): Frame {
  if (a.width !== b.width || a.height !== b.height) throw faceError('E_BAD_PARAMETER', `alphaBlend: ${a.width}×${a.height} and ${b.width}×${b.height} differ in size`);
  const w = alpha > 1 ? 1 : alpha > 0 ? alpha : 0;
  const out = new Uint8Array(a.data.length);
  const da = a.data,
    db = b.data;
  for (let i = 0; i < out.length; i++) out[i] = da[i] + (db[i] - da[i]) * w + 0.5;
  return { width: a.width, height: a.height, channels: 3, data: out };
}
