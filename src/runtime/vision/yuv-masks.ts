import type { Rect } from './frame';
import { clipRect } from './rect';
import { blurRasterRegion, blurRasterRegions, fillRasterRegion, pixelateRasterRegion, restoreOutsideEllipses } from './blur';
import type { Raster, RegionBlurOptions } from './blur';
import { rgbColorToYuv, yuvLayout, type YuvFrame } from './yuv';
import { Scratch } from './scratch';

/**
 * The privacy masks of blur.ts (Gaussian blur, pixelate, solid fill, ellipse shape) applied to
 * the planes of a YUV 4:2:0 frame directly, so a video frame is never converted to RGB to be
 * masked. Each plane is a one-channel raster and goes through the same kernels as an RGB frame.
 *
 * Rects are in luma (frame) pixels. The chroma samples a rect touches are those covering any
 * of its pixels: columns ⌊x/2⌋ … ⌈(x+w)/2⌉ − 1, rows likewise (its chroma rect). With an odd
 * edge a border sample also covers luma pixels outside the rect; it gets the masked value
 * weighted by the share of its pixels inside, the rest its old value — what converting the
 * masked RGB frame to 4:2:0 gives (averaging each 2×2). Luma samples outside the rect and
 * chroma samples outside its chroma rect stay byte-identical.
 *
 * Like the RGB versions these write into `frame.data`: only for a frame the caller has just
 * copied and not yet stored.
 */

interface YuvPlanes {
  readonly y: Raster;
  readonly u: Raster;
  readonly v: Raster;
}

function planesOf(frame: YuvFrame): YuvPlanes {
  const { width, height, data } = frame;
  const layout = yuvLayout(width, height);
  if (data.length < layout.bytes) throw new RangeError(`yuv420p ${width}×${height} frame has ${data.length} bytes, expected ${layout.bytes}`);
  const chroma = (offset: number): Raster => ({ data, offset, width: layout.cw, height: layout.ch, channels: 1 });
  return { y: { data, offset: 0, width, height, channels: 1 }, u: chroma(layout.uOffset), v: chroma(layout.vOffset) };
}

/** The chroma samples covering any luma pixel of `rect` (clipped to the w×h frame): ⌊x/2⌋ … ⌈(x+w)/2⌉. */
export function chromaRect(rect: Rect, width: number, height: number): Rect {
  const region = clipRect(rect, width, height);
  return clipRect({ x: region.x / 2, y: region.y / 2, width: region.width / 2, height: region.height / 2 }, Math.ceil(width / 2), Math.ceil(height / 2));
}

/**
 * Gaussian blur of one region: the luma plane with `sigma`, the chroma planes over the chroma
 * rect with sigma / 2 (their samples are two pixels apart), each by blur.ts's kernels (its cost
 * per sample bounded for any sigma). `options.scratch` lends every work buffer.
 */
export function blurYuvRegionInPlace(frame: YuvFrame, rect: Rect, sigma: number, options?: RegionBlurOptions): void {
  const planes = planesOf(frame);
  const region = clipRect(rect, frame.width, frame.height);
  if (region.width === 0 || region.height === 0 || !(sigma > 0)) return;
  const scratch = options?.scratch ?? new Scratch();
  const withScratch: RegionBlurOptions = { ...options, scratch };
  blurRasterRegion(planes.y, region, sigma, withScratch);
  const edge = chromaEdge(region, frame.width, frame.height);
  for (const plane of [planes.u, planes.v]) {
    const saved = saveEdge(plane, edge, scratch);
    blurRasterRegion(plane, edge.rect, sigma / 2, withScratch);
    blendEdge(plane, edge, saved);
  }
}

/**
 * One Gaussian blur of several overlapping regions (blur.ts blurRasterRegions on each plane):
 * their bounding box blurred at `sigma`, written inside their union only. A chroma sample on the
 * union's border that also covers luma pixels outside every region gets old + share·(masked −
 * old), share = the part of its pixels inside the union, as for one region. With one rect this
 * is blurYuvRegionInPlace.
 */
export function blurYuvRegionsInPlace(frame: YuvFrame, rects: readonly Rect[], sigma: number, options?: RegionBlurOptions): void {
  const { width: W, height: H } = frame;
  const regions = rects.map((r) => clipRect(r, W, H)).filter((r) => r.width > 0 && r.height > 0);
  if (regions.length <= 1 || !(sigma > 0)) {
    if (regions.length === 1) blurYuvRegionInPlace(frame, regions[0], sigma, options);
    return;
  }
  const planes = planesOf(frame);
  const scratch = options?.scratch ?? new Scratch();
  const withScratch: RegionBlurOptions = { ...options, scratch };
  blurRasterRegions(planes.y, regions, sigma, withScratch);
  const chroma = regions.map((r) => chromaRect(r, W, H));
  // The union's border samples with a share below 1: border samples of a region's chroma rect
  // (only those can cover pixels outside it) not inside an earlier region's chroma rect (there
  // they were met already, or are that region's inner samples: share 1), tested against all.
  let capacity = 0;
  for (const c of chroma) capacity += 2 * (c.width + c.height);
  const at = scratch.int32('yuv.unionEdgeAt', capacity),
    share = scratch.float32('yuv.unionEdgeShare', capacity);
  const cw = Math.ceil(W / 2);
  let n = 0;
  const inside = (x: number, y: number) => regions.some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height);
  const consider = (cx: number, cy: number, index: number) => {
    for (let j = 0; j < index; j++) {
      const c = chroma[j];
      if (cx >= c.x && cx < c.x + c.width && cy >= c.y && cy < c.y + c.height) return;
    }
    let count = 0,
      total = 0;
    for (let y = 2 * cy; y < Math.min(2 * cy + 2, H); y++) for (let x = 2 * cx; x < Math.min(2 * cx + 2, W); x++, total++) if (inside(x, y)) count++;
    if (count < total) {
      at[n] = cy * cw + cx;
      share[n++] = count / total;
    }
  };
  chroma.forEach((c, index) => {
    const x1 = c.x + c.width - 1,
      y1 = c.y + c.height - 1;
    for (let x = c.x; x <= x1; x++) {
      consider(x, c.y, index);
      if (y1 !== c.y) consider(x, y1, index);
    }
    for (let y = c.y + 1; y < y1; y++) {
      consider(c.x, y, index);
      if (x1 !== c.x) consider(x1, y, index);
    }
  });
  const saved = scratch.uint8('yuv.edge', n);
  for (const plane of [planes.u, planes.v]) {
    for (let k = 0; k < n; k++) saved[k] = plane.data[plane.offset + at[k]];
    blurRasterRegions(plane, chroma, sigma / 2, withScratch);
    for (let k = 0; k < n; k++) {
      const p = plane.offset + at[k],
        old = saved[k];
      plane.data[p] = Math.round(old + share[k] * (plane.data[p] - old));
    }
  }
}

/**
 * Pixelation into blocks of each block's mean. So that every chroma sample of a block belongs
 * to that block only, the luma block size is even (an odd size is rounded up to the next even
 * number) and the block grid is anchored at the region's corner rounded down to even
 * coordinates: luma blocks B×B, chroma blocks B/2×B/2 over the same area. The first row and
 * column of blocks lose the pixel before an odd corner; blocks are cut at the far edges, as in
 * the RGB version (which anchors at the corner itself).
 */
export function pixelateYuvRegionInPlace(frame: YuvFrame, rect: Rect, blockSize: number, scratch: Scratch = new Scratch()): void {
  const planes = planesOf(frame);
  const region = clipRect(rect, frame.width, frame.height);
  if (region.width === 0 || region.height === 0) return;
  const rounded = blockSize >= 1 ? Math.round(blockSize) : 1;
  const block = rounded + (rounded & 1);
  const ax = region.x & ~1,
    ay = region.y & ~1;
  pixelateRasterRegion(planes.y, region, block, ax, ay, scratch);
  const edge = chromaEdge(region, frame.width, frame.height);
  for (const plane of [planes.u, planes.v]) {
    const saved = saveEdge(plane, edge, scratch);
    pixelateRasterRegion(plane, edge.rect, block / 2, ax / 2, ay / 2, scratch);
    blendEdge(plane, edge, saved);
  }
}

/** Fills one region with an RGB colour, converted with the frame's matrix (BT.601 unless 'bt709'). */
export function fillYuvRegionInPlace(frame: YuvFrame, rect: Rect, rgb: readonly [number, number, number], scratch: Scratch = new Scratch()): void {
  const planes = planesOf(frame);
  const region = clipRect(rect, frame.width, frame.height);
  if (region.width === 0 || region.height === 0) return;
  const [y, u, v] = rgbColorToYuv(rgb, frame.matrix);
  fillRasterRegion(planes.y, region, [y]);
  const edge = chromaEdge(region, frame.width, frame.height);
  for (const [plane, value] of [
    [planes.u, u],
    [planes.v, v],
  ] as const) {
    const saved = saveEdge(plane, edge, scratch);
    fillRasterRegion(plane, edge.rect, [value]);
    blendEdge(plane, edge, saved);
  }
}

/**
 * keepEllipsesOnly of blur.ts for YUV: inside each rect, a luma sample outside every inscribed
 * ellipse is restored from `original` (the test at its pixel's centre, as for RGB). A chroma
 * sample is tested at the centres of the (up to) 2×2 luma pixels it covers: inside for all,
 * it stays masked; for none, restored; for some (the ellipse's border), it gets the masked
 * value weighted by that share — what 4:2:0 conversion of the masked RGB frame gives. (Testing
 * only the sample's centre left chroma up to 11 levels off the RGB path along the border.)
 */
export function keepEllipsesOnlyYuv(frame: YuvFrame, original: YuvFrame, rects: readonly Rect[]): void {
  if (original.width !== frame.width || original.height !== frame.height) throw new RangeError('keepEllipsesOnlyYuv: the original has another size');
  const planes = planesOf(frame),
    before = planesOf(original);
  restoreOutsideEllipses(planes.y, before.y, rects, 1);
  restoreOutsideEllipses(planes.u, before.u, rects, 2, frame.width, frame.height);
  restoreOutsideEllipses(planes.v, before.v, rects, 2, frame.width, frame.height);
}

/**
 * A region's chroma rect and, for its first and last column and row, the share of the luma
 * pixels their samples cover that lie inside the region (below 1 where the region's edge there
 * is odd: the sample also covers a pixel outside it). Only the rect's border samples can have a
 * share below 1; a sample's share is its column's times its row's.
 */
interface ChromaEdge {
  readonly rect: Rect;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

function chromaEdge(region: Rect, width: number, height: number): ChromaEdge {
  const rect = chromaRect(region, width, height);
  const share = (i: number, start: number, end: number, size: number) => (Math.min(2 * i + 2, end) - Math.max(2 * i, start)) / (Math.min(2 * i + 2, size) - 2 * i);
  const x1 = rect.x + rect.width - 1,
    y1 = rect.y + rect.height - 1;
  return {
    rect,
    left: share(rect.x, region.x, region.x + region.width, width),
    right: share(x1, region.x, region.x + region.width, width),
    top: share(rect.y, region.y, region.y + region.height, height),
    bottom: share(y1, region.y, region.y + region.height, height),
  };
}

/** Whether any border sample of the chroma rect has a share below 1. */
function hasPartialEdge(edge: ChromaEdge): boolean {
  return edge.left < 1 || edge.right < 1 || edge.top < 1 || edge.bottom < 1;
}

/**
 * Copies the chroma rect's border (top row, bottom row, then the left and right columns between
 * them) before the plane is masked, into the arena's buffer (valid until the next saveEdge).
 */
function saveEdge(plane: Raster, edge: ChromaEdge, scratch: Scratch): Uint8Array {
  const { rect } = edge;
  const saved = scratch.uint8('yuv.edge', hasPartialEdge(edge) ? 2 * (rect.width + rect.height) : 0);
  if (saved.length)
    walkEdge(plane, edge, (p, k) => {
      saved[k] = plane.data[p];
    });
  return saved;
}

/** After masking: each border sample becomes old + share·(masked − old). */
function blendEdge(plane: Raster, edge: ChromaEdge, saved: Uint8Array): void {
  if (!saved.length) return;
  walkEdge(plane, edge, (p, k, share) => {
    if (share < 1) plane.data[p] = Math.round(saved[k] + share * (plane.data[p] - saved[k]));
  });
}

/** Calls `visit(byte index, k, share)` for each border sample of the chroma rect once, k = 0, 1, … */
function walkEdge(plane: Raster, edge: ChromaEdge, visit: (p: number, k: number, share: number) => void): void {
  const { rect, left, right, top, bottom } = edge;
  const x1 = rect.x + rect.width - 1,
    y1 = rect.y + rect.height - 1;
  const sx = (x: number) => (x === rect.x ? left : x === x1 ? right : 1);
  const at = (x: number, y: number) => plane.offset + y * plane.width + x;
  let k = 0;
  for (let x = rect.x; x <= x1; x++) visit(at(x, rect.y), k++, sx(x) * top);
  if (y1 !== rect.y) for (let x = rect.x; x <= x1; x++) visit(at(x, y1), k++, sx(x) * bottom);
  for (let y = rect.y + 1; y < y1; y++) {
    visit(at(rect.x, y), k++, left);
    if (x1 !== rect.x) visit(at(x1, y), k++, right);
  }
}
