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
 * From this sigma on, the blur runs on an area-averaged grid `f` times smaller (f = ⌊σ / 3⌋,
 * so the small grid still sees σ ≈ 3) and is interpolated back bilinearly. Why: a privacy
 * blur of a 720p face has σ ≈ 45, and even running sums cost three passes per pixel of a
 * working area ≈ 2σ wider than the face on every side (≈ 25 ms per face, 71 % of a video
 * job's main thread, see BENCHMARKS.md); on the small grid the passes are ≈ f² cheaper and
 * what remains is one read of the area and one interpolated write of the region. A Gaussian of
 * σ this large has no detail left at the grid's spacing, so the result stays within a few
 * levels of the full-resolution blur (test/vision-basic.test.js checks it against the exact
 * Gaussian). Cells are anchored at the frame's origin, so a region blur equals the same
 * pixels of a whole-frame blur.
 */
const DOWNSCALE_SIGMA_MIN = 12;
const SMALL_GRID_SIGMA = 3;

export interface RegionBlurOptions {
  /** false: always blur at full resolution (for comparisons and benchmarks); default true. */
  downscale?: boolean;
}

/**
 * Gaussian blur of one region: a new frame whose pixels outside `rect` are byte-identical.
 * Pixels outside the region (up to the kernel's reach) feed the blur, so its edge does not
 * darken or smear; at the frame border the edge pixel is repeated.
 */
export function gaussianBlurRegion(frame: Frame, rect: Rect, sigma: number, options?: RegionBlurOptions): Frame {
  const out: Frame = { width: frame.width, height: frame.height, channels: 3, data: new Uint8Array(frame.data) };
  blurRegionInPlace(out, rect, sigma, options);
  return out;
}

/**
 * The same blur written into `frame.data` itself: only for a frame the caller has just copied
 * and not yet stored (stored frames are never mutated). Several regions blurred in turn cost
 * one frame copy instead of one per region.
 */
export function blurRegionInPlace(frame: Frame, rect: Rect, sigma: number, options?: RegionBlurOptions): void {
  const region = clipRect(rect, frame.width, frame.height);
  if (region.width === 0 || region.height === 0 || !(sigma > 0)) return;
  // Beyond the frame's size a larger sigma changes nothing visible but would cost time.
  const s = Math.min(sigma, Math.max(frame.width, frame.height));
  const factor = options?.downscale === false || s < DOWNSCALE_SIGMA_MIN ? 1 : Math.floor(s / SMALL_GRID_SIGMA);
  if (factor > 1) blurOnSmallGrid(frame, region, s, factor);
  else blurFullResolution(frame, region, s);
}

/** Reads the region's surroundings from frame.data and writes the region back (in place is safe: each channel is read before it is written). */
function blurFullResolution(frame: Frame, region: Rect, s: number): void {
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
  const data = frame.data, fw = frame.width;
  for (let c = 0; c < 3; c++) {
    for (let y = 0, i = 0; y < eh; y++) {
      for (let p = ((ext.y + y) * fw + ext.x) * 3 + c, end = p + ew * 3; p < end; p += 3) a[i++] = data[p];
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
        data[d] = v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5;
      }
    }
  }
}

/**
 * The blur on a grid of f×f cells (see DOWNSCALE_SIGMA_MIN): area average → exact Gaussian
 * on the cells → bilinear back onto the region. Box averaging adds a variance of ≈ f²/12 and
 * bilinear interpolation ≈ f²/6, so the cells are blurred with what is left of σ².
 */
function blurOnSmallGrid(frame: Frame, region: Rect, sigma: number, f: number): void {
  const fw = frame.width, fh = frame.height, data = frame.data;
  const cols = Math.ceil(fw / f), rows = Math.ceil(fh / f);
  const cellSigma = Math.sqrt(Math.max(sigma * sigma - (f * f) / 4, f * f)) / f;
  const kernel = gaussianKernel(cellSigma);
  const reach = (kernel.length - 1) >> 1;
  // Cells the region's interpolation reads (one each side), plus the kernel's reach.
  const cell = (v: number) => Math.floor((v + 0.5) / f - 0.5);
  const c0 = Math.max(0, cell(region.x) - reach), c1 = Math.min(cols - 1, cell(region.x + region.width - 1) + 1 + reach);
  const r0 = Math.max(0, cell(region.y) - reach), r1 = Math.min(rows - 1, cell(region.y + region.height - 1) + 1 + reach);
  const sw = c1 - c0 + 1, sh = r1 - r0 + 1, n = sw * sh;
  // Three channel planes side by side in one buffer (R, G, B), and one scratch plane.
  const planes = new Float32Array(3 * n);
  const scratch = new Float32Array(n);
  areaAverage(data, fw, fh, f, c0, r0, sw, sh, planes);
  for (let c = 0; c < 3; c++) {
    const plane = planes.subarray(c * n, (c + 1) * n);
    convolveRows(plane, scratch, sw, sh, kernel);
    convolveColumns(scratch, plane, sw, sh, kernel, 0, sw, 0, sh);
  }
  // Bilinear read-back, separated: each cell row the region needs is interpolated across once
  // into an RGB row of the region's width; every frame row is then a mix of two such rows.
  const rw = region.width;
  const left = new Int32Array(rw);
  const wx = new Float32Array(rw);
  for (let x = 0; x < rw; x++) {
    const u = clampCell((region.x + x + 0.5) / f - 0.5 - c0, sw);
    left[x] = Math.floor(u);
    wx[x] = u - left[x];
  }
  const rowOf = (y: number) => clampCell((region.y + y + 0.5) / f - 0.5 - r0, sh);
  const j0 = Math.floor(rowOf(0)), j1 = Math.min(sh - 1, Math.floor(rowOf(region.height - 1)) + 1);
  const wide = new Float32Array((j1 - j0 + 1) * rw * 3);
  for (let j = j0; j <= j1; j++) {
    for (let c = 0; c < 3; c++) {
      const cells = c * n + j * sw;
      for (let x = 0, o = (j - j0) * rw * 3 + c; x < rw; x++, o += 3) {
        const i = cells + left[x];
        const next = left[x] + 1 < sw ? i + 1 : i;
        wide[o] = planes[i] + wx[x] * (planes[next] - planes[i]);
      }
    }
  }
  const span = rw * 3;
  // A clamped view rounds and clamps on store, in one machine step instead of three in JS.
  const dst = new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
  for (let y = 0; y < region.height; y++) {
    const v = rowOf(y);
    const j = Math.floor(v);
    mixRows(wide, (j - j0) * span, (Math.min(j1, j + 1) - j0) * span, v - j, dst, ((region.y + y) * fw + region.x) * 3, span);
  }
}

/** dst[d + k] = a + w·(b − a) for the rows of `wide` starting at `top` and `bottom`. */
function mixRows(wide: Float32Array, top: number, bottom: number, w: number, dst: Uint8ClampedArray, d: number, length: number): void {
  for (let k = 0; k < length; k++) {
    const t = wide[top + k];
    dst[d + k] = t + w * (wide[bottom + k] - t);
  }
}

/** A grid coordinate clamped to [0, size − 1] (the frame's edge cells are repeated). */
function clampCell(u: number, size: number): number {
  return u <= 0 ? 0 : u >= size - 1 ? size - 1 : u;
}

/**
 * Mean colour of every f×f cell in columns [c0, c0 + sw) and rows [r0, r0 + sh) into three
 * planes (R, G, B) of sw × sh; cells cut by the frame's right or bottom edge average the
 * pixels they have.
 */
function areaAverage(data: Uint8Array, fw: number, fh: number, f: number, c0: number, r0: number, sw: number, sh: number, planes: Float32Array): void {
  const n = sw * sh;
  const x0 = c0 * f, x1 = Math.min(fw, (c0 + sw) * f);
  for (let j = 0; j < sh; j++) {
    const y0 = (r0 + j) * f, y1 = Math.min(fh, y0 + f);
    const row = j * sw;
    for (let y = y0; y < y1; y++) {
      let p = (y * fw + x0) * 3;
      for (let x = x0, i = row; x < x1; i++) {
        let r = 0, g = 0, b = 0;
        for (const end = Math.min(x1, x + f); x < end; x++, p += 3) {
          r += data[p]; g += data[p + 1]; b += data[p + 2];
        }
        planes[i] += r; planes[n + i] += g; planes[2 * n + i] += b;
      }
    }
    const cellRows = y1 - y0;
    for (let i = 0; i < sw; i++) {
      const inv = 1 / (cellRows * (Math.min(x1, x0 + (i + 1) * f) - (x0 + i * f)));
      planes[row + i] *= inv; planes[n + row + i] *= inv; planes[2 * n + row + i] *= inv;
    }
  }
}

/**
 * Pixelate one region into blockSize×blockSize blocks (grid anchored at the region's corner,
 * partial blocks at its far edges) of each block's mean colour; outside the region is unchanged.
 */
export function pixelateRegion(frame: Frame, rect: Rect, blockSize: number): Frame {
  const out: Frame = { width: frame.width, height: frame.height, channels: 3, data: new Uint8Array(frame.data) };
  pixelateRegionInPlace(out, rect, blockSize);
  return out;
}

/**
 * The same pixelation written into `frame.data` itself (each block is read before it is
 * written, and blocks do not overlap): only for a frame the caller has just copied and not yet
 * stored. Several regions cost one frame copy instead of one per region.
 */
export function pixelateRegionInPlace(frame: Frame, rect: Rect, blockSize: number): void {
  const out = frame.data;
  const region = clipRect(rect, frame.width, frame.height);
  const block = blockSize >= 1 ? Math.round(blockSize) : 1;
  const data = frame.data, rowBytes = frame.width * 3;
  for (let by = region.y; by < region.y + region.height; by += block) {
    const bh = Math.min(block, region.y + region.height - by);
    for (let bx = region.x; bx < region.x + region.width; bx += block) {
      const bw = Math.min(block, region.x + region.width - bx);
      let r = 0, g = 0, b = 0;
      for (let y = by, row = (by * frame.width + bx) * 3; y < by + bh; y++, row += rowBytes) {
        for (let x = 0, p = row; x < bw; x++, p += 3) {
          r += data[p]; g += data[p + 1]; b += data[p + 2];
        }
      }
      const n = bw * bh;
      r = Math.round(r / n); g = Math.round(g / n); b = Math.round(b / n);
      for (let y = by, row = (by * frame.width + bx) * 3; y < by + bh; y++, row += rowBytes) {
        for (let x = 0, p = row; x < bw; x++, p += 3) {
          data[p] = r; data[p + 1] = g; data[p + 2] = b;
        }
      }
    }
  }
}

/** Fills one region with a solid colour, in place. */
export function fillRegionInPlace(frame: Frame, rect: Rect, color: readonly [number, number, number]): void {
  const region = clipRect(rect, frame.width, frame.height);
  const data = frame.data;
  for (let y = region.y; y < region.y + region.height; y++) {
    for (let p = (y * frame.width + region.x) * 3, end = p + region.width * 3; p < end; p += 3) {
      data[p] = color[0]; data[p + 1] = color[1]; data[p + 2] = color[2];
    }
  }
}

/**
 * Restores, inside each rectangle, the pixels that lie outside every ellipse inscribed in the
 * rectangles (so overlapping faces keep each other's masked pixels): turns box-shaped masks
 * into ellipse-shaped ones. `frame` was derived from `original` by masking the rectangles.
 */
export function keepEllipsesOnly(frame: Frame, original: Frame, rects: readonly Rect[]): void {
  const inside = (x: number, y: number): boolean => rects.some((r) => {
    const rx = r.width / 2, ry = r.height / 2;
    const dx = (x + 0.5 - (r.x + rx)) / rx, dy = (y + 0.5 - (r.y + ry)) / ry;
    return dx * dx + dy * dy <= 1;
  });
  for (const rect of rects) {
    const region = clipRect(rect, frame.width, frame.height);
    for (let y = region.y; y < region.y + region.height; y++) {
      for (let x = region.x; x < region.x + region.width; x++) {
        if (inside(x, y)) continue;
        const p = (y * frame.width + x) * 3;
        frame.data[p] = original.data[p]; frame.data[p + 1] = original.data[p + 1]; frame.data[p + 2] = original.data[p + 2];
      }
    }
  }
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
