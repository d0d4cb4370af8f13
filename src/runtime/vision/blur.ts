import type { Frame, Rect } from './frame';
import { clipRect } from './rect';

/**
 * Up to this sigma the exact Gaussian kernel is used; above it, three running-sum box passes.
 * Why: the exact kernel costs 6σ+1 taps per pixel per pass (σ = 30 → 181 taps, ~150 ms on a
 * 300×300 face), a running sum costs the same for any radius, and three box passes are within
 * a few per cent of a Gaussian (central limit). Below σ ≈ 8 the box widths are small odd
 * integers whose rounding shifts the effective sigma noticeably, and the exact kernel
 * (≤ 49 taps) is cheap anyway.
 */
const EXACT_SIGMA_MAX = 8;
const BOX_PASSES = 3;

/**
 * Gaussian blur of one region: a new frame whose pixels outside `rect` are byte-identical.
 * Pixels outside the region (up to the kernel's reach) feed the blur, so its edge does not
 * darken or smear; at the frame border the edge pixel is repeated.
 */
export function gaussianBlurRegion(frame: Frame, rect: Rect, sigma: number): Frame {
  const out = new Uint8Array(frame.data);
  const region = clipRect(rect, frame.width, frame.height);
  if (region.width === 0 || region.height === 0 || !(sigma > 0)) return { width: frame.width, height: frame.height, channels: 3, data: out };
  // Beyond the frame's size a larger sigma changes nothing visible but would cost time.
  const s = Math.min(sigma, Math.max(frame.width, frame.height));
  const kernel = s <= EXACT_SIGMA_MAX ? gaussianKernel(s) : undefined;
  const radii = kernel ? [] : boxRadiiForGauss(s, BOX_PASSES);
  // Reach of the whole filter: region pixels further than this from the working area's edge
  // see exactly the same result as a whole-frame blur.
  const reach = kernel ? (kernel.length - 1) >> 1 : radii.reduce((a, b) => a + b, 0);
  const ext = clipRect({ x: region.x - reach, y: region.y - reach, width: region.width + 2 * reach, height: region.height + 2 * reach }, frame.width, frame.height);
  const ew = ext.width, eh = ext.height;
  const ox = region.x - ext.x, oy = region.y - ext.y;
  // Planar work buffers, reused for the three channels: every pass below runs along
  // contiguous memory (the vertical passes walk rows and accumulate whole row segments).
  let a = new Float32Array(ew * eh);
  let b = new Float32Array(ew * eh);
  const acc = new Float64Array(Math.max(ew, region.width));
  const src = frame.data, fw = frame.width;
  for (let c = 0; c < 3; c++) {
    for (let y = 0, i = 0; y < eh; y++) {
      for (let p = ((ext.y + y) * fw + ext.x) * 3 + c, end = p + ew * 3; p < end; p += 3) a[i++] = src[p];
    }
    if (kernel) {
      convolveRows(a, b, ew, eh, kernel);
      convolveColumns(b, a, ew, eh, kernel, ox, ox + region.width, oy, oy + region.height);
    } else {
      // Horizontal passes over the whole working area (the vertical passes read every row),
      // vertical passes over the region's columns only (columns are independent).
      for (const r of radii) { boxRows(a, b, ew, eh, r); [a, b] = [b, a]; }
      for (const r of radii) { boxColumns(a, b, ew, eh, r, ox, ox + region.width, acc); [a, b] = [b, a]; }
    }
    for (let y = 0; y < region.height; y++) {
      let i = (oy + y) * ew + ox;
      for (let d = ((region.y + y) * fw + region.x) * 3 + c, end = d + region.width * 3; d < end; d += 3) {
        const v = a[i++];
        out[d] = v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5;
      }
    }
  }
  return { width: frame.width, height: frame.height, channels: 3, data: out };
}

/**
 * Pixelate one region into blockSize×blockSize blocks (grid anchored at the region's corner,
 * partial blocks at its far edges) of each block's mean colour; outside the region is unchanged.
 */
export function pixelateRegion(frame: Frame, rect: Rect, blockSize: number): Frame {
  const out = new Uint8Array(frame.data);
  const region = clipRect(rect, frame.width, frame.height);
  const block = blockSize >= 1 ? Math.round(blockSize) : 1;
  const src = frame.data, rowBytes = frame.width * 3;
  for (let by = region.y; by < region.y + region.height; by += block) {
    const bh = Math.min(block, region.y + region.height - by);
    for (let bx = region.x; bx < region.x + region.width; bx += block) {
      const bw = Math.min(block, region.x + region.width - bx);
      let r = 0, g = 0, b = 0;
      for (let y = by, row = (by * frame.width + bx) * 3; y < by + bh; y++, row += rowBytes) {
        for (let x = 0, p = row; x < bw; x++, p += 3) {
          r += src[p]; g += src[p + 1]; b += src[p + 2];
        }
      }
      const n = bw * bh;
      r = Math.round(r / n); g = Math.round(g / n); b = Math.round(b / n);
      for (let y = by, row = (by * frame.width + bx) * 3; y < by + bh; y++, row += rowBytes) {
        for (let x = 0, p = row; x < bw; x++, p += 3) {
          out[p] = r; out[p + 1] = g; out[p + 2] = b;
        }
      }
    }
  }
  return { width: frame.width, height: frame.height, channels: 3, data: out };
}

function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** dst = src ⊛ kernel along each row (symmetric kernel: mirrored taps share a multiply); edge values repeated. */
function convolveRows(src: Float32Array, dst: Float32Array, w: number, h: number, kernel: Float32Array): void {
  const r = (kernel.length - 1) >> 1;
  const w0 = kernel[r];
  for (let y = 0; y < h; y++) {
    const row = y * w, last = row + w - 1;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      let sum = w0 * src[i];
      if (x >= r && x + r < w) {
        for (let k = 1; k <= r; k++) sum += kernel[r + k] * (src[i - k] + src[i + k]);
      } else {
        for (let k = 1; k <= r; k++) sum += kernel[r + k] * (src[i - k < row ? row : i - k] + src[i + k > last ? last : i + k]);
      }
      dst[i] = sum;
    }
  }
}

/**
 * dst = src ⊛ kernel down the columns [x0, x1), for rows [y0, y1) only; edge rows repeated.
 * The kernel is symmetric, so rows y − k and y + k share one multiply.
 */
function convolveColumns(src: Float32Array, dst: Float32Array, w: number, h: number, kernel: Float32Array, x0: number, x1: number, y0: number, y1: number): void {
  const r = (kernel.length - 1) >> 1;
  for (let y = y0; y < y1; y++) {
    const o = y * w;
    const w0 = kernel[r];
    for (let i = o + x0, end = o + x1; i < end; i++) dst[i] = w0 * src[i];
    for (let k = 1; k <= r; k++) {
      const up = y - k < 0 ? 0 : y - k, down = y + k >= h ? h - 1 : y + k;
      const fu = up * w - o, fd = down * w - o;
      const wk = kernel[r + k];
      for (let i = o + x0, end = o + x1; i < end; i++) dst[i] += wk * (src[i + fu] + src[i + fd]);
    }
  }
}

/** Running-sum box blur of radius r along each row; edge values repeated. */
function boxRows(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  const inv = 1 / (2 * r + 1);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let sum = 0; // a double: the running sum must not drift along long rows
    for (let k = -r; k <= r; k++) sum += src[row + (k < 0 ? 0 : k >= w ? w - 1 : k)];
    for (let x = 0; x < w; x++) {
      dst[row + x] = sum * inv;
      const add = x + r + 1, sub = x - r;
      sum += src[row + (add >= w ? w - 1 : add)] - src[row + (sub < 0 ? 0 : sub)];
    }
  }
}

/** Running-sum box blur of radius r down the columns [x0, x1), one running sum per column. */
function boxColumns(src: Float32Array, dst: Float32Array, w: number, h: number, r: number, x0: number, x1: number, acc: Float64Array): void {
  const inv = 1 / (2 * r + 1), n = x1 - x0;
  acc.fill(0, 0, n);
  for (let k = -r; k <= r; k++) {
    const from = (k < 0 ? 0 : k >= h ? h - 1 : k) * w + x0;
    for (let i = 0; i < n; i++) acc[i] += src[from + i];
  }
  for (let y = 0; y < h; y++) {
    const o = y * w + x0;
    for (let i = 0; i < n; i++) dst[o + i] = acc[i] * inv;
    const add = y + r + 1, sub = y - r;
    const ao = (add >= h ? h - 1 : add) * w + x0, so = (sub < 0 ? 0 : sub) * w + x0;
    for (let i = 0; i < n; i++) acc[i] += src[ao + i] - src[so + i];
  }
}

/**
 * Radii of `n` box passes whose combined variance is σ². A box of odd width w has variance
 * (w² − 1)/12; m passes use width wl and n − m use wl + 2, with m chosen to match σ².
 */
function boxRadiiForGauss(sigma: number, n: number): number[] {
  const ideal = Math.sqrt((12 * sigma * sigma) / n + 1);
  let wl = Math.floor(ideal);
  if (wl % 2 === 0) wl--;
  const wu = wl + 2;
  const m = Math.round((12 * sigma * sigma - n * wl * wl - 4 * n * wl - 3 * n) / (-4 * wl - 4));
  return Array.from({ length: n }, (_, i) => ((i < m ? wl : wu) - 1) / 2);
}
