import type { Frame, Rect } from './frame';
import { clipRect } from './rect';
import { Scratch } from './scratch';
import { convolveColumns, convolveRows, gaussianKernel, gaussianTaps } from './convolve';

/**
 * Below this σ (in samples) the region blur uses the exact Gaussian kernel at full resolution:
 * at most 13 taps per sample and pass, so its cost is bounded too.
 */
const GRID_SIGMA_MIN = 2;

/**
 * From GRID_SIGMA_MIN on the blur runs on a grid of f×f-sample cells, f = σ / CELL_SIGMA
 * rounded (at least 2): the cells are area averages of the samples, convolved with the exact
 * Gaussian of what is left of σ in cells (1–2.5 cells: at most 17 taps, for any σ), and
 * interpolated back bilinearly. So a region costs a bounded amount per sample that does not
 * grow with σ: one read of each sample of the region and of its surroundings (3σ on every
 * side; from cells of 8 on, of a quarter of their rows: SPARSE_ROWS_FROM), at most 34
 * multiply-adds per cell (a quarter of the samples or fewer), one interpolated write per
 * sample of the region. The exact kernel at full resolution costs 6σ+1
 * taps per sample and pass (61 at σ = 10).
 *
 * Why not running-sum box passes (the usual O(1) approximation of a Gaussian): on this grid the
 * kernel is already short. Three extended boxes on the same grid (Gwosdek et al. 2011, exact
 * variance) were measured no faster but further from the Gaussian (a mean of 0.3–0.6 grey
 * levels off instead of 0.1–0.3, at most 5 instead of 2), enough to cost the YUV planes their
 * agreement with the RGB path (test/yuv-masks.test.js).
 *
 * A Gaussian of σ keeps no detail at a spacing of σ/2: against the exact Gaussian on a real
 * picture the grid is off by a mean of 0.05–0.3 grey levels, at most 2 from σ = 3 on
 * (test/vision-basic.test.js holds it to the exact kernel and to the analytic blur of an edge).
 * Cells are anchored at the raster's origin and cells beyond its edge repeat the edge samples,
 * so a region blur equals the same pixels of a whole-raster blur, at the border too.
 */
const CELL_SIGMA = 2;

export interface RegionBlurOptions {
  /**
   * true: the exact Gaussian kernel at full resolution, whatever σ (6σ+1 taps per sample and
   * pass: its cost grows with σ). The reference the tests and benchmarks compare with.
   */
  exact?: boolean;
  /**
   * Where the work buffers come from: a runtime's (or pixel worker's) arena, so that blurring
   * face after face allocates nothing once warm. Default: a fresh arena for this call.
   */
  scratch?: Scratch;
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
 * in the raster's own samples (a 4:2:0 chroma plane of a face blurred at σ is blurred at σ/2).
 * In place is safe: the region and its surroundings are read into the work buffers before the
 * region is written.
 */
export function blurRasterRegion(raster: Raster, rect: Rect, sigma: number, options?: RegionBlurOptions): void {
  blurRasterArea(raster, clipRect(rect, raster.width, raster.height), undefined, sigma, options);
}

/**
 * One Gaussian blur of several overlapping regions at once, in place: the blur of their bounding
 * box at `sigma`, written only inside their union (every sample outside all of them unchanged).
 * Each sample of the union is blurred once, from the unmasked raster, where blurring the regions
 * one after the other would blur their overlap twice and read each region's surroundings again
 * (see blurGroups). With one rect this is blurRasterRegion.
 */
export function blurRasterRegions(raster: Raster, rects: readonly Rect[], sigma: number, options?: RegionBlurOptions): void {
  const parts = rects.map((r) => clipRect(r, raster.width, raster.height)).filter((r) => r.width > 0 && r.height > 0);
  if (parts.length === 0) return;
  const region = parts.length === 1 ? parts[0] : boundingRect(parts);
  blurRasterArea(raster, region, parts.length === 1 ? undefined : parts, sigma, options);
}

/** `region` (clipped) blurred; written where `parts` (clipped rects inside it) cover it, or everywhere. */
function blurRasterArea(raster: Raster, region: Rect, parts: readonly Rect[] | undefined, sigma: number, options?: RegionBlurOptions): void {
  if (region.width === 0 || region.height === 0 || !(sigma > 0)) return;
  // Beyond the raster's size a larger sigma changes nothing visible but would cost time.
  const s = Math.min(sigma, Math.max(raster.width, raster.height));
  const scratch = options?.scratch ?? new Scratch();
  const spans = new RowSpans(region, parts, scratch);
  if (options?.exact || s < GRID_SIGMA_MIN) blurExact(raster, region, spans, s, scratch);
  else blurOnGrid(raster, region, spans, s, Math.max(2, Math.round(s / CELL_SIGMA)), scratch);
}

/** The smallest rect holding every rect of a non-empty list. */
export function boundingRect(rects: readonly Rect[]): Rect {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (const r of rects) {
    x0 = Math.min(x0, r.x);
    y0 = Math.min(y0, r.y);
    x1 = Math.max(x1, r.x + r.width);
    y1 = Math.max(y1, r.y + r.height);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Which samples of each row of a region are written: the whole row, or the union of the
 * `parts` crossing it, as sorted, merged [x0, x1) spans (in the arena: a few ints per part).
 */
class RowSpans {
  private readonly spans: Int32Array;

  constructor(
    private readonly region: Rect,
    private readonly parts: readonly Rect[] | undefined,
    scratch: Scratch,
  ) {
    this.spans = scratch.int32('blur.spans', 2 * (parts?.length ?? 1));
  }

  /** Spans of raster row y into this.at(k): returns how many. */
  of(y: number): number {
    const { region, parts, spans } = this;
    if (!parts) {
      spans[0] = region.x;
      spans[1] = region.x + region.width;
      return 1;
    }
    let n = 0;
    for (const p of parts) {
      if (y < p.y || y >= p.y + p.height) continue;
      // Insertion by x0 (a handful of parts per row).
      let i = n++;
      while (i > 0 && spans[2 * (i - 1)] > p.x) {
        spans[2 * i] = spans[2 * (i - 1)];
        spans[2 * i + 1] = spans[2 * (i - 1) + 1];
        i--;
      }
      spans[2 * i] = p.x;
      spans[2 * i + 1] = p.x + p.width;
    }
    let m = 0;
    for (let i = 0; i < n; i++) {
      const x0 = spans[2 * i],
        x1 = spans[2 * i + 1];
      if (m > 0 && x0 <= spans[2 * m - 1]) {
        if (x1 > spans[2 * m - 1]) spans[2 * m - 1] = x1;
        continue;
      }
      spans[2 * m] = x0;
      spans[2 * m + 1] = x1;
      m++;
    }
    return m;
  }

  x0(k: number): number {
    return this.spans[2 * k];
  }
  x1(k: number): number {
    return this.spans[2 * k + 1];
  }
}

/**
 * The exact Gaussian at full resolution: the region and 3σ around it into a float plane per
 * channel, rows then the region's columns convolved, the region written back. Every pass runs
 * along contiguous memory (the vertical pass accumulates whole row segments).
 */
function blurExact(raster: Raster, region: Rect, spans: RowSpans, s: number, scratch: Scratch): void {
  const kernel = gaussianKernel(s, scratch.float32('blur.kernel', gaussianTaps(s)));
  const reach = (kernel.length - 1) >> 1;
  const ext = clipRect({ x: region.x - reach, y: region.y - reach, width: region.width + 2 * reach, height: region.height + 2 * reach }, raster.width, raster.height);
  const ew = ext.width,
    eh = ext.height;
  const ox = region.x - ext.x,
    oy = region.y - ext.y;
  const a = scratch.float32('blur.cells', ew * eh);
  const b = scratch.float32('blur.pass', ew * eh);
  const { data, offset, width: fw, channels: nc } = raster;
  for (let c = 0; c < nc; c++) {
    for (let y = 0, i = 0; y < eh; y++) {
      for (let p = offset + ((ext.y + y) * fw + ext.x) * nc + c, end = p + ew * nc; p < end; p += nc) a[i++] = data[p];
    }
    // Rows: only the region's columns are read by the column pass.
    convolveRows(a, b, ew, eh, kernel, ox, ox + region.width);
    convolveColumns(b, a, ew, eh, kernel, ox, ox + region.width, oy, oy + region.height);
    for (let y = 0; y < region.height; y++) {
      for (let k = 0, count = spans.of(region.y + y); k < count; k++) {
        const x0 = spans.x0(k),
          x1 = spans.x1(k);
        let i = (oy + y) * ew + ox + (x0 - region.x);
        for (let d = offset + ((region.y + y) * fw + x0) * nc + c, end = d + (x1 - x0) * nc; d < end; d += nc) {
          const v = a[i++];
          data[d] = v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5; // rounded half up, byte for byte as before
        }
      }
    }
  }
}

/**
 * The blur on a grid of f×f cells (see CELL_SIGMA): area average → the exact Gaussian along
 * the rows and down the columns → bilinear back onto the region. Box averaging adds a variance
 * of ≈ f²/12 and bilinear interpolation ≈ f²/6, so the cells are blurred with what is left of σ². Cells beyond the raster's edge are averages of the edge samples repeated (what
 * the exact blur sees there), so a face at the frame's border is blurred as in the middle.
 */
function blurOnGrid(raster: Raster, region: Rect, spans: RowSpans, sigma: number, f: number, scratch: Scratch): void {
  const { width: fw, data, offset, channels: nc } = raster;
  const cellSigma = Math.sqrt(Math.max(sigma * sigma - (f * f) / 4, (f * f) / 4)) / f;
  const kernel = gaussianKernel(cellSigma, scratch.float32('blur.kernel', gaussianTaps(cellSigma)));
  const reach = (kernel.length - 1) >> 1;
  // Cells the region's write-back reads (bilinear: the one before and after each sample), then
  // the filter's reach; cell k covers samples [k·f, k·f + f), k < 0 or past the edge included.
  const cell = (v: number) => Math.floor((v + 0.5) / f - 0.5);
  const cx0 = cell(region.x),
    cx1 = cell(region.x + region.width - 1) + 1;
  const cy0 = cell(region.y),
    cy1 = cell(region.y + region.height - 1) + 1;
  const c0 = cx0 - reach,
    r0 = cy0 - reach;
  const sw = cx1 + reach - c0 + 1,
    sh = cy1 + reach - r0 + 1,
    n = sw * sh;
  // One plane per channel side by side in one buffer (R, G, B for a frame), and one for the passes.
  const planes = scratch.float32('blur.cells', nc * n);
  const pass = scratch.float32('blur.pass', n);
  areaAverage(raster, f, c0, r0, sw, sh, planes, scratch);
  for (let c = 0; c < nc; c++) {
    const plane = nc === 1 ? planes : planes.subarray(c * n, (c + 1) * n);
    // Rows over every row of the window (the column pass reads them) but only the columns the
    // write-back reads; the column pass only for the cells the write-back reads.
    convolveRows(plane, pass, sw, sh, kernel, cx0 - c0, cx1 - c0 + 1);
    convolveColumns(pass, plane, sw, sh, kernel, cx0 - c0, cx1 - c0 + 1, cy0 - r0, cy1 - r0 + 1);
  }
  const dst = clampedView(data);
  // Bilinear read-back, separated: each cell row the region needs is interpolated across once
  // into an interleaved row of the region's width; every raster row is then a mix of two such rows.
  const rw = region.width;
  const left = scratch.int32('blur.left', rw);
  const wx = scratch.float32('blur.wx', rw);
  for (let x = 0; x < rw; x++) {
    const u = (region.x + x + 0.5) / f - 0.5 - c0;
    left[x] = Math.floor(u);
    wx[x] = u - left[x];
  }
  const rowOf = (y: number) => (region.y + y + 0.5) / f - 0.5 - r0;
  const j0 = Math.floor(rowOf(0)),
    j1 = Math.floor(rowOf(region.height - 1)) + 1;
  const span = rw * nc;
  const wide = scratch.float32('blur.wide', (j1 - j0 + 1) * span);
  for (let j = j0; j <= j1; j++) {
    for (let c = 0; c < nc; c++) {
      const cells = c * n + j * sw;
      for (let x = 0, o = (j - j0) * span + c; x < rw; x++, o += nc) {
        const i = cells + left[x];
        wide[o] = planes[i] + wx[x] * (planes[i + 1] - planes[i]);
      }
    }
  }
  for (let y = 0; y < region.height; y++) {
    const v = rowOf(y);
    const j = Math.floor(v);
    const top = (j - j0) * span,
      d = offset + ((region.y + y) * fw + region.x) * nc;
    for (let k = 0, count = spans.of(region.y + y); k < count; k++) {
      const from = (spans.x0(k) - region.x) * nc;
      mixRows(wide, top + from, top + span + from, v - j, dst, d + from, (spans.x1(k) - spans.x0(k)) * nc);
    }
  }
}

/**
 * The raster's bytes as a clamped view: a store rounds (half to even) and clamps to 0..255 in
 * one machine step instead of three in JS.
 */
function clampedView(data: Uint8Array): Uint8ClampedArray {
  return new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
}

/** dst[d + k] = a + w·(b − a) for the rows of `wide` starting at `top` and `bottom`. */
function mixRows(wide: Float32Array, top: number, bottom: number, w: number, dst: Uint8ClampedArray, d: number, length: number): void {
  for (let k = 0; k < length; k++) {
    const t = wide[top + k];
    dst[d + k] = t + w * (wide[bottom + k] - t);
  }
}

/**
 * From this cell size on, a cell's mean is taken over every ⌊f / 4⌋-th of its rows (at least
 * four rows, each standing for the rows after it), not over all f: the region's surroundings
 * (3σ on every side) are most of what a large face's blur reads, and a cell of f ≥ 8 samples
 * is then blurred over ≈ 2 more cells, far below any detail a sparse row sample could leave.
 * Measured: two 300-pixel faces at σ ≈ 50 cost ≈ 30 % less, still within 2–3 grey levels of the
 * exact Gaussian on a real picture. (Columns are all read: a row's samples are contiguous.)
 */
const SPARSE_ROWS_FROM = 8;

/**
 * Mean of every f×f cell in columns [c0, c0 + sw) and rows [r0, r0 + sh) into one sw × sh
 * plane per channel (from f = SPARSE_ROWS_FROM, over a sample of its rows). Samples beyond the
 * raster's edges (cells at negative indices or past the edge, and the missing part of a cut
 * edge cell) repeat the edge sample. Per row of cells, its raster rows are first added up
 * sample by sample into `acc`, two rows per sweep where they weigh 1 (long contiguous loops
 * whatever f; measured 1.2–1.3× faster than summing each cell's rows in registers), then each
 * cell sums its f columns of that.
 */
function areaAverage(raster: Raster, f: number, c0: number, r0: number, sw: number, sh: number, planes: Float32Array, scratch: Scratch): void {
  const { width: fw, height: fh, data, offset, channels: nc } = raster;
  const n = sw * sh,
    stride = fw * nc,
    inv = 1 / (f * f);
  const clampX = (x: number) => (x < 0 ? 0 : x >= fw ? fw - 1 : x);
  const xa = clampX(c0 * f),
    xb = clampX((c0 + sw) * f - 1);
  const len = (xb - xa + 1) * nc;
  const acc = scratch.int32('blur.rowsum', len);
  const start = offset + xa * nc;
  // Rows read per cell: every step-th, the k-th standing for rows k·step … k·step + step − 1.
  const step = f < SPARSE_ROWS_FROM ? 1 : Math.floor(f / 4),
    reads = Math.ceil(f / step);
  const rows = scratch.int32('blur.rows', 2 * reads);
  for (let j = 0; j < sh; j++) {
    // The rows this cell row reads and their weights, clamped to the raster (a row beyond the
    // edge is the edge row), equal neighbours merged: (row, weight) pairs in `rows`.
    const y0 = (r0 + j) * f;
    let m = 0;
    for (let k = 0; k < reads; k++) {
      const first = y0 + k * step,
        weight = Math.min(step, y0 + f - first);
      const at = first + (step >> 1) >= y0 + f ? first : first + (step >> 1);
      const y = at < 0 ? 0 : at >= fh ? fh - 1 : at;
      if (m > 0 && rows[m - 2] === y) rows[m - 1] += weight;
      else {
        rows[m++] = y;
        rows[m++] = weight;
      }
    }
    let p = start + rows[0] * stride;
    let w = rows[1],
      r = 2;
    if (w === 1 && r < m && rows[r + 1] === 1) {
      const q = start + rows[r] * stride;
      for (let i = 0; i < len; i++) acc[i] = data[p + i] + data[q + i];
      r += 2;
    } else if (w === 1) {
      for (let i = 0; i < len; i++) acc[i] = data[p + i];
    } else {
      for (let i = 0; i < len; i++) acc[i] = w * data[p + i];
    }
    while (r < m) {
      p = start + rows[r] * stride;
      w = rows[r + 1];
      if (w === 1 && r + 2 < m && rows[r + 3] === 1) {
        const q = start + rows[r + 2] * stride;
        for (let i = 0; i < len; i++) acc[i] += data[p + i] + data[q + i];
        r += 4;
      } else {
        if (w === 1) for (let i = 0; i < len; i++) acc[i] += data[p + i];
        else for (let i = 0; i < len; i++) acc[i] += w * data[p + i];
        r += 2;
      }
    }
    // Each cell sums its f columns of `acc`; on a one-channel raster the cells wholly inside
    // it (nearly all of them) without any edge test.
    const row = j * sw;
    let i = 0,
      xs = c0 * f;
    if (nc === 1) {
      for (; i < sw && xs < 0; i++, xs += f) planes[row + i] = edgeCellSum(acc, xa, xs, f, fw, 1, 0) * inv;
      for (; i < sw && xs + f <= fw; i++, xs += f) {
        let sum = 0;
        for (let k = xs - xa, stop = k + f; k < stop; k++) sum += acc[k];
        planes[row + i] = sum * inv;
      }
    }
    for (; i < sw; i++, xs += f) {
      for (let c = 0; c < nc; c++) planes[c * n + row + i] = edgeCellSum(acc, xa, xs, f, fw, nc, c) * inv;
    }
  }
}

/**
 * Channel c's sum over the f columns [xs, xs + f) of a row sum `acc` that starts at column xa;
 * columns beyond the raster's edges (width fw) count as its edge column.
 */
function edgeCellSum(acc: Int32Array, xa: number, xs: number, f: number, fw: number, nc: number, c: number): number {
  const xe = xs + f - 1;
  const lo = xs < 0 ? 0 : xs,
    hi = xe >= fw ? fw - 1 : xe;
  let sum = 0;
  for (let k = (lo - xa) * nc + c, stop = (hi - xa) * nc + c; k <= stop; k += nc) sum += acc[k];
  if (xs < 0) sum += (Math.min(xe, -1) - xs + 1) * acc[c];
  if (xe >= fw) sum += (xe - Math.max(xs, fw) + 1) * acc[(fw - 1 - xa) * nc + c];
  return sum;
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
 * coordinates so the chroma blocks line up with the luma blocks). One band of blocks at a time,
 * row by row: each row is read once into the band's block sums and written once, so the cost
 * is the region's area whatever the block size. `scratch` lends the band's sums.
 */
export function pixelateRasterRegion(raster: Raster, rect: Rect, blockSize: number, anchorX?: number, anchorY?: number, scratch?: Scratch): void {
  const region = clipRect(rect, raster.width, raster.height);
  if (region.width === 0 || region.height === 0) return;
  const block = blockSize >= 1 ? Math.round(blockSize) : 1;
  const { data, offset, width: fw, channels: nc } = raster;
  const x1 = region.x + region.width,
    y1 = region.y + region.height;
  // First block edge: the anchor moved onto the grid line at or before the region's corner.
  const gx = firstGridLine(anchorX ?? region.x, region.x, block),
    gy = firstGridLine(anchorY ?? region.y, region.y, block);
  const across = Math.ceil((x1 - gx) / block);
  const sums = (scratch ?? new Scratch()).float64('pixelate.sums', across * nc);
  const span = region.width * nc;
  for (let top = gy; top < y1; top += block) {
    const by = Math.max(top, region.y),
      bh = Math.min(top + block, y1) - by;
    sums.fill(0);
    for (let y = by; y < by + bh; y++) {
      const row = offset + (y * fw + region.x) * nc;
      if (nc === 1) {
        for (let x = region.x, p = row, k = 0, edge = Math.min(x1, gx + block); x < x1; k++, edge = Math.min(x1, edge + block)) {
          let sum = 0;
          for (; x < edge; x++) sum += data[p++];
          sums[k] += sum;
        }
        continue;
      }
      for (let p = row, end = row + span, k = 0, edge = row + (Math.min(x1, gx + block) - region.x) * nc; p < end; k += nc, edge = Math.min(end, edge + block * nc)) {
        for (; p < edge; p += nc) for (let c = 0; c < nc; c++) sums[k + c] += data[p + c];
      }
    }
    for (let k = 0, left = gx; k < across; k++, left += block) {
      const count = (Math.min(x1, left + block) - Math.max(left, region.x)) * bh;
      for (let c = 0; c < nc; c++) sums[k * nc + c] = Math.round(sums[k * nc + c] / count);
    }
    for (let y = by; y < by + bh; y++) {
      const row = offset + (y * fw + region.x) * nc;
      if (nc === 1) {
        for (let p = row, end = row + region.width, k = 0, edge = row + Math.min(x1, gx + block) - region.x; p < end; k++, edge = Math.min(end, edge + block)) {
          const v = sums[k];
          for (; p < edge; p++) data[p] = v;
        }
        continue;
      }
      for (let p = row, end = row + span, k = 0, edge = row + (Math.min(x1, gx + block) - region.x) * nc; p < end; k += nc, edge = Math.min(end, edge + block * nc)) {
        for (; p < edge; p += nc) for (let c = 0; c < nc; c++) data[p + c] = sums[k + c];
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
    if (nc === 1) {
      data.fill(values[0], start, start + region.width);
      continue;
    }
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
    ellipses[4 * i] = (r.x + r.width / 2) / scale;
    ellipses[4 * i + 1] = (r.y + r.height / 2) / scale;
    ellipses[4 * i + 2] = r.width / 2 / scale;
    ellipses[4 * i + 3] = r.height / 2 / scale;
  });
  const regions = rects.map((r) => clipRect({ x: r.x / scale, y: r.y / scale, width: r.width / scale, height: r.height / scale }, raster.width, raster.height));
  // Only the ellipses and regions that meet a region can matter inside it: each sample is
  // tested against those, not against every face of the frame (a crowd would cost faces² ×
  // area). list[from[i]] … list[to[i] − 1] are the indices of the regions meeting region i
  // (itself included), in increasing order.
  const meets = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  const list: number[] = [],
    from = new Int32Array(k),
    to = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    from[i] = list.length;
    for (let j = 0; j < k; j++) if (j === i || meets(regions[i], regions[j])) list.push(j);
    to[i] = list.length;
  }
  const inside = (px: number, py: number, region: number): boolean => {
    for (let m = from[region]; m < to[region]; m++) {
      const e = 4 * list[m];
      const dx = (px - ellipses[e]) / ellipses[e + 2],
        dy = (py - ellipses[e + 1]) / ellipses[e + 3];
      if (dx * dx + dy * dy <= 1) return true;
    }
    return false;
  };
  // A sample in several regions is handled once, in the first (a blend is not idempotent).
  const inEarlier = (x: number, y: number, region: number): boolean => {
    for (let m = from[region]; m < to[region] && list[m] < region; m++) {
      const g = regions[list[m]];
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
        for (let b = 0; b < rows; b++) for (let a = 0; a < cols; a++) if (inside(x + (a + 0.5) / scale, y + (b + 0.5) / scale, index)) count++;
        const total = rows * cols;
        if (count === total || (index > 0 && inEarlier(x, y, index))) continue;
        const p = offset + (y * raster.width + x) * nc,
          q = original.offset + (y * raster.width + x) * nc;
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
