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
 * The 8-bit raster every mask below works on: `channels` interleaved samples per pixel, rows
 * of width·channels bytes, starting at `offset` in `data`. An RGB frame is one raster of three
 * channels; each plane of a YUV 4:2:0 frame (yuv-masks.ts) is a raster of one channel. One
 * implementation of each kernel serves both.
 */
export interface Raster {
  readonly data: Uint8Array;
  readonly offset: number;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** The RGB frame as a raster (no copy). */
export function frameRaster(frame: Frame): Raster {
  return { data: frame.data, offset: 0, width: frame.width, height: frame.height, channels: 3 };
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
  blurRasterRegion(frameRaster(frame), rect, sigma, options);
}

/**
 * The Gaussian region blur of any raster, in place (see blurRegionInPlace); `rect` and `sigma`
 * in the raster's own samples. `scale` is how many frame pixels one sample spans (2 for a 4:2:0
 * chroma plane): the coarse grid starts at the same sigma in frame pixels for every plane (a
 * chroma plane blurred at σ/2 = 6 for a face at σ = 12 uses cells of 2 samples, not the exact
 * 37-tap kernel).
 */
export function blurRasterRegion(raster: Raster, rect: Rect, sigma: number, options?: RegionBlurOptions, scale = 1): void {
  const region = clipRect(rect, raster.width, raster.height);
  if (region.width === 0 || region.height === 0 || !(sigma > 0)) return;
  // Beyond the raster's size a larger sigma changes nothing visible but would cost time.
  const s = Math.min(sigma, Math.max(raster.width, raster.height));
  const factor = options?.downscale === false || s * scale < DOWNSCALE_SIGMA_MIN ? 1 : Math.floor(s / SMALL_GRID_SIGMA);
  if (factor > 1) blurOnSmallGrid(raster, region, s, factor);
  else blurFullResolution(raster, region, s);
}

/** Reads the region's surroundings from the raster and writes the region back (in place is safe: each channel is read before it is written). */
function blurFullResolution(raster: Raster, region: Rect, s: number): void {
  const kernel = s <= EXACT_SIGMA_MAX ? gaussianKernel(s) : undefined;
  const radii = kernel ? [] : boxRadiiForGauss(s, BOX_PASSES);
  // Reach of the whole filter: region pixels further than this from the working area's edge
  // see exactly the same result as a whole-frame blur.
  const reach = kernel ? (kernel.length - 1) >> 1 : radii.reduce((a, b) => a + b, 0);
  const ext = clipRect({ x: region.x - reach, y: region.y - reach, width: region.width + 2 * reach, height: region.height + 2 * reach }, raster.width, raster.height);
  const ew = ext.width, eh = ext.height;
  const ox = region.x - ext.x, oy = region.y - ext.y;
  // Planar work buffers, reused for every channel: every pass below runs along
  // contiguous memory (the vertical passes walk rows and accumulate whole row segments).
  let a = new Float32Array(ew * eh);
  let b = new Float32Array(ew * eh);
  const acc = new Float64Array(Math.max(ew, region.width));
  const { data, offset, width: fw, channels: nc } = raster;
  for (let c = 0; c < nc; c++) {
    for (let y = 0, i = 0; y < eh; y++) {
      for (let p = offset + ((ext.y + y) * fw + ext.x) * nc + c, end = p + ew * nc; p < end; p += nc) a[i++] = data[p];
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
      for (let d = offset + ((region.y + y) * fw + region.x) * nc + c, end = d + region.width * nc; d < end; d += nc) {
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
function blurOnSmallGrid(raster: Raster, region: Rect, sigma: number, f: number): void {
  const { width: fw, height: fh, data, offset, channels: nc } = raster;
  const cols = Math.ceil(fw / f), rows = Math.ceil(fh / f);
  const cellSigma = Math.sqrt(Math.max(sigma * sigma - (f * f) / 4, f * f)) / f;
  const kernel = gaussianKernel(cellSigma);
  const reach = (kernel.length - 1) >> 1;
  // Cells the region's interpolation reads (one each side), plus the kernel's reach.
  const cell = (v: number) => Math.floor((v + 0.5) / f - 0.5);
  const c0 = Math.max(0, cell(region.x) - reach), c1 = Math.min(cols - 1, cell(region.x + region.width - 1) + 1 + reach);
  const r0 = Math.max(0, cell(region.y) - reach), r1 = Math.min(rows - 1, cell(region.y + region.height - 1) + 1 + reach);
  const sw = c1 - c0 + 1, sh = r1 - r0 + 1, n = sw * sh;
  // One plane per channel side by side in one buffer (R, G, B for a frame), and one scratch plane.
  const planes = new Float32Array(nc * n);
  const scratch = new Float32Array(n);
  areaAverage(raster, f, c0, r0, sw, sh, planes);
  for (let c = 0; c < nc; c++) {
    const plane = planes.subarray(c * n, (c + 1) * n);
    convolveRows(plane, scratch, sw, sh, kernel);
    convolveColumns(scratch, plane, sw, sh, kernel, 0, sw, 0, sh);
  }
  // Bilinear read-back, separated: each cell row the region needs is interpolated across once
  // into an interleaved row of the region's width; every raster row is then a mix of two such rows.
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
  const span = rw * nc;
  const wide = new Float32Array((j1 - j0 + 1) * span);
  for (let j = j0; j <= j1; j++) {
    for (let c = 0; c < nc; c++) {
      const cells = c * n + j * sw;
      for (let x = 0, o = (j - j0) * span + c; x < rw; x++, o += nc) {
        const i = cells + left[x];
        const next = left[x] + 1 < sw ? i + 1 : i;
        wide[o] = planes[i] + wx[x] * (planes[next] - planes[i]);
      }
    }
  }
  // A clamped view rounds and clamps on store, in one machine step instead of three in JS.
  const dst = new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
  for (let y = 0; y < region.height; y++) {
    const v = rowOf(y);
    const j = Math.floor(v);
    mixRows(wide, (j - j0) * span, (Math.min(j1, j + 1) - j0) * span, v - j, dst, offset + ((region.y + y) * fw + region.x) * nc, span);
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
 * Mean of every f×f cell in columns [c0, c0 + sw) and rows [r0, r0 + sh) into one sw × sh
 * plane per channel; cells cut by the raster's right or bottom edge average the pixels they
 * have. Sums run along each row in registers, a cell width at a time; three-channel rows
 * (RGB) sum their channels in one pass, which the profile showed ≈ 2× faster than three.
 */
function areaAverage(raster: Raster, f: number, c0: number, r0: number, sw: number, sh: number, planes: Float32Array): void {
  const { width: fw, height: fh, data, offset, channels: nc } = raster;
  const n = sw * sh;
  const x0 = c0 * f, x1 = Math.min(fw, (c0 + sw) * f);
  for (let j = 0; j < sh; j++) {
    const y0 = (r0 + j) * f, y1 = Math.min(fh, y0 + f);
    const row = j * sw;
    for (let y = y0; y < y1; y++) {
      const start = offset + (y * fw + x0) * nc;
      if (nc === 3) {
        for (let x = x0, p = start, i = row; x < x1; i++) {
          let r = 0, g = 0, b = 0;
          for (const end = Math.min(x1, x + f); x < end; x++, p += 3) {
            r += data[p]; g += data[p + 1]; b += data[p + 2];
          }
          planes[i] += r; planes[n + i] += g; planes[2 * n + i] += b;
        }
        continue;
      }
      for (let c = 0; c < nc; c++) {
        for (let x = x0, p = start + c, i = c * n + row; x < x1; i++) {
          let sum = 0;
          for (const end = Math.min(x1, x + f); x < end; x++, p += nc) sum += data[p];
          planes[i] += sum;
        }
      }
    }
    const cellRows = y1 - y0;
    for (let i = 0; i < sw; i++) {
      const inv = 1 / (cellRows * (Math.min(x1, x0 + (i + 1) * f) - (x0 + i * f)));
      for (let c = 0; c < nc; c++) planes[c * n + row + i] *= inv;
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
  pixelateRasterRegion(frameRaster(frame), rect, blockSize);
}

/**
 * Pixelation of any raster, in place (see pixelateRegionInPlace). The block grid is anchored
 * at (anchorX, anchorY) — by default the region's corner; an anchor above or left of the
 * region makes the first row / column of blocks partial (yuv-masks.ts anchors at even
 * coordinates so the chroma blocks line up with the luma blocks).
 */
export function pixelateRasterRegion(raster: Raster, rect: Rect, blockSize: number, anchorX?: number, anchorY?: number): void {
  const region = clipRect(rect, raster.width, raster.height);
  if (region.width === 0 || region.height === 0) return;
  const block = blockSize >= 1 ? Math.round(blockSize) : 1;
  const { data, offset, channels: nc } = raster;
  const rowBytes = raster.width * nc;
  const x1 = region.x + region.width, y1 = region.y + region.height;
  // First block edge: the anchor moved onto the grid line at or before the region's corner.
  const gx = firstGridLine(anchorX ?? region.x, region.x, block), gy = firstGridLine(anchorY ?? region.y, region.y, block);
  const sums = new Float64Array(nc);
  for (let top = gy; top < y1; top += block) {
    const by = Math.max(top, region.y), bh = Math.min(top + block, y1) - by;
    for (let left = gx; left < x1; left += block) {
      const bx = Math.max(left, region.x), bw = Math.min(left + block, x1) - bx;
      sums.fill(0);
      for (let y = 0, row = offset + (by * raster.width + bx) * nc; y < bh; y++, row += rowBytes) {
        for (let p = row, end = row + bw * nc; p < end; p += nc) {
          for (let c = 0; c < nc; c++) sums[c] += data[p + c];
        }
      }
      const count = bw * bh;
      for (let c = 0; c < nc; c++) sums[c] = Math.round(sums[c] / count);
      for (let y = 0, row = offset + (by * raster.width + bx) * nc; y < bh; y++, row += rowBytes) {
        for (let p = row, end = row + bw * nc; p < end; p += nc) {
          for (let c = 0; c < nc; c++) data[p + c] = sums[c];
        }
      }
    }
  }
}

/** The largest anchor + k·block (k an integer) that is ≤ start. */
function firstGridLine(anchor: number, start: number, block: number): number {
  return start - ((((start - anchor) % block) + block) % block);
}

/** Fills one region with a solid colour, in place. */
export function fillRegionInPlace(frame: Frame, rect: Rect, color: readonly [number, number, number]): void {
  fillRasterRegion(frameRaster(frame), rect, color);
}

/** Fills one region of any raster with one value per channel, in place. */
export function fillRasterRegion(raster: Raster, rect: Rect, values: readonly number[]): void {
  const region = clipRect(rect, raster.width, raster.height);
  const { data, offset, channels: nc } = raster;
  for (let y = region.y; y < region.y + region.height; y++) {
    const start = offset + (y * raster.width + region.x) * nc;
    if (nc === 1) { data.fill(values[0], start, start + region.width); continue; }
    for (let p = start, end = p + region.width * nc; p < end; p += nc) {
      for (let c = 0; c < nc; c++) data[p + c] = values[c];
    }
  }
}

/**
 * Restores, inside each rectangle, the pixels that lie outside every ellipse inscribed in the
 * rectangles (so overlapping faces keep each other's masked pixels): turns box-shaped masks
 * into ellipse-shaped ones. `frame` was derived from `original` by masking the rectangles.
 */
export function keepEllipsesOnly(frame: Frame, original: Frame, rects: readonly Rect[]): void {
  restoreOutsideEllipses(frameRaster(frame), frameRaster(original), rects, 1);
}

/**
 * keepEllipsesOnly for a raster whose samples are `scale` frame pixels wide and high (1 for a
 * frame or a luma plane, 2 for a 4:2:0 chroma plane); `rects` are in frame pixels, and the
 * frame is frameWidth × frameHeight (by default the raster's size × scale). Each rectangle's
 * samples are those covering any of its pixels (⌊x / scale⌋ … ⌈(x + w) / scale⌉). A sample is
 * tested at the centre of each frame pixel it covers: all inside, it stays masked; none, it is
 * restored; some (a chroma sample on an ellipse's border), it becomes
 * original + share·(masked − original) — what a 2×2 average of the masked frame's pixels gives.
 * With scale 1 this is exactly the per-pixel test.
 */
export function restoreOutsideEllipses(raster: Raster, original: Raster, rects: readonly Rect[], scale: number, frameWidth = raster.width * scale, frameHeight = raster.height * scale): void {
  if (original.width !== raster.width || original.height !== raster.height || original.channels !== raster.channels) {
    throw new RangeError('restoreOutsideEllipses: the original has another size');
  }
  // Ellipse centres and radii, in raster samples (÷ scale is exact for the scales 1 and 2, so
  // the test below is bit for bit the test at a pixel's centre in frame pixels).
  const k = rects.length;
  const ellipses = new Float64Array(4 * k);
  rects.forEach((r, i) => {
    ellipses[4 * i] = (r.x + r.width / 2) / scale; ellipses[4 * i + 1] = (r.y + r.height / 2) / scale;
    ellipses[4 * i + 2] = r.width / 2 / scale; ellipses[4 * i + 3] = r.height / 2 / scale;
  });
  const inside = (px: number, py: number): boolean => {
    for (let e = 0; e < 4 * k; e += 4) {
      const dx = (px - ellipses[e]) / ellipses[e + 2], dy = (py - ellipses[e + 1]) / ellipses[e + 3];
      if (dx * dx + dy * dy <= 1) return true;
    }
    return false;
  };
  const regions = rects.map((r) => clipRect({ x: r.x / scale, y: r.y / scale, width: r.width / scale, height: r.height / scale }, raster.width, raster.height));
  // A sample in several regions is handled once, in the first (a blend is not idempotent).
  const inEarlier = (x: number, y: number, n: number): boolean => {
    for (let i = 0; i < n; i++) {
      const g = regions[i];
      if (x >= g.x && x < g.x + g.width && y >= g.y && y < g.y + g.height) return true;
    }
    return false;
  };
  const { data, offset, channels: nc } = raster;
  regions.forEach((region, index) => {
    for (let y = region.y; y < region.y + region.height; y++) {
      const rows = Math.min(scale, frameHeight - y * scale);
      for (let x = region.x; x < region.x + region.width; x++) {
        const cols = Math.min(scale, frameWidth - x * scale);
        let count = 0;
        for (let b = 0; b < rows; b++) for (let a = 0; a < cols; a++) if (inside(x + (a + 0.5) / scale, y + (b + 0.5) / scale)) count++;
        const total = rows * cols;
        if (count === total || (index > 0 && inEarlier(x, y, index))) continue;
        const p = offset + (y * raster.width + x) * nc, q = original.offset + (y * raster.width + x) * nc;
        if (count === 0) {
          for (let c = 0; c < nc; c++) data[p + c] = original.data[q + c];
        } else {
          const share = count / total;
          for (let c = 0; c < nc; c++) data[p + c] = Math.round(original.data[q + c] + share * (data[p + c] - original.data[q + c]));
        }
      }
    }
  });
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
