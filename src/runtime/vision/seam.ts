import type { Rect } from './frame';
import type { PixelTarget } from './blend';
import { gaussianBlurPlane } from './mask-smooth';

/** The correction field is computed on a grid this many pixels apart (it is smooth: a coarse grid loses nothing and costs 1/64). */
const STEP = 8;
/** A boundary pixel's colour difference counts up to this much per channel: a jaw point on the background must not drag the face. */
const MAX_OFFSET = 40;

/**
 * Seamless blending at the hull, the cheap way: the warped face (`warped`, rect-sized, already
 * colour-matched) is shifted by a smooth colour field that equals the target − warped
 * difference along the seam and fades smoothly inward, so where the blend mask ramps from the
 * face into the target there is no step in colour or light. The field is the normalised
 * convolution of the differences on the seam band (0 < mask < 0.5, each clamped to ±40)
 * with a Gaussian of σ = `sigma` px, on an 8-px grid, bilinearly interpolated back — a membrane
 * of the seam's offsets in the spirit of Poisson cloning, at a fixed small cost. In place;
 * only pixels with mask > 0 are written.
 */
export function matchSeamInto(warped: PixelTarget, mask: Float32Array, target: PixelTarget, rect: Rect, sigma: number): void {
  const w = rect.width,
    h = rect.height;
  if (mask.length !== w * h || warped.width !== w || warped.height !== h) throw new RangeError('matchSeamInto: warped and mask must be rect-sized');
  const gw = Math.ceil(w / STEP),
    gh = Math.ceil(h / STEP);
  const n = gw * gh;
  const acc = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const weight = new Float32Array(n);
  const wd = warped.data,
    td = target.data;
  let any = false;
  for (let y = 0; y < h; y++) {
    const gy = (y / STEP) | 0;
    let t = ((rect.y + y) * target.width + rect.x) * 3;
    for (let x = 0, i = y * w; x < w; x++, i++, t += 3) {
      const m = mask[i];
      if (!(m > 0 && m < 0.5)) continue;
      const g = gy * gw + ((x / STEP) | 0);
      const p = i * 3;
      for (let c = 0; c < 3; c++) {
        const d = td[t + c] - wd[p + c];
        acc[c][g] += d > MAX_OFFSET ? MAX_OFFSET : d < -MAX_OFFSET ? -MAX_OFFSET : d;
      }
      weight[g] += 1;
      any = true;
    }
  }
  if (!any) return;
  const s = Math.max(0.5, sigma / STEP);
  const wb = gaussianBlurPlane(weight, gw, gh, s);
  const fields = acc.map((a) => gaussianBlurPlane(a, gw, gh, s));
  for (let g = 0; g < n; g++) {
    const k = wb[g] > 1e-6 ? 1 / wb[g] : 0;
    for (let c = 0; c < 3; c++) fields[c][g] *= k;
  }
  for (let y = 0; y < h; y++) {
    const fy = Math.min(gh - 1, Math.max(0, (y + 0.5) / STEP - 0.5));
    const y0 = fy | 0,
      y1 = Math.min(gh - 1, y0 + 1),
      ay = fy - y0;
    for (let x = 0, i = y * w; x < w; x++, i++) {
      if (!(mask[i] > 0)) continue;
      const fx = Math.min(gw - 1, Math.max(0, (x + 0.5) / STEP - 0.5));
      const x0 = fx | 0,
        x1 = Math.min(gw - 1, x0 + 1),
        ax = fx - x0;
      const a = y0 * gw + x0,
        b = y0 * gw + x1,
        c0 = y1 * gw + x0,
        d = y1 * gw + x1;
      const p = i * 3;
      for (let c = 0; c < 3; c++) {
        const f = fields[c];
        const top = f[a] + (f[b] - f[a]) * ax,
          bottom = f[c0] + (f[d] - f[c0]) * ax;
        const v = wd[p + c] + top + (bottom - top) * ay;
        wd[p + c] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
      }
    }
  }
}
