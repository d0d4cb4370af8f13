import type { Rect } from './frame';
import { clipRect } from './rect';
import { blurRasterRegion, fillRasterRegion, pixelateRasterRegion, restoreOutsideEllipses } from './blur';
import type { Raster, RegionBlurOptions } from './blur';
import { rgbColorToYuv, yuvLayout, type YuvFrame } from './yuv';

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

interface YuvPlanes { readonly y: Raster; readonly u: Raster; readonly v: Raster }

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
 * rect with sigma / 2 (their samples are two pixels apart). From σ = 12 (in frame pixels, for
 * every plane) blur.ts's coarse-grid path is used, as for RGB.
 */
export function blurYuvRegionInPlace(frame: YuvFrame, rect: Rect, sigma: number, options?: RegionBlurOptions): void {
  const planes = planesOf(frame);
  const region = clipRect(rect, frame.width, frame.height);
  if (region.width === 0 || region.height === 0 || !(sigma > 0)) return;
  blurRasterRegion(planes.y, region, sigma, options);
  const chroma = chromaRect(region, frame.width, frame.height);
  const edge = chromaEdge(region, frame.width, frame.height);
  for (const plane of [planes.u, planes.v]) {
    const saved = edge.save(plane);
    blurRasterRegion(plane, chroma, sigma / 2, options, 2);
    edge.blend(plane, saved);
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
export function pixelateYuvRegionInPlace(frame: YuvFrame, rect: Rect, blockSize: number): void {
  const planes = planesOf(frame);
  const region = clipRect(rect, frame.width, frame.height);
  if (region.width === 0 || region.height === 0) return;
  const rounded = blockSize >= 1 ? Math.round(blockSize) : 1;
  const block = rounded + (rounded & 1);
  const ax = region.x & ~1, ay = region.y & ~1;
  pixelateRasterRegion(planes.y, region, block, ax, ay);
  const chroma = chromaRect(region, frame.width, frame.height);
  const edge = chromaEdge(region, frame.width, frame.height);
  for (const plane of [planes.u, planes.v]) {
    const saved = edge.save(plane);
    pixelateRasterRegion(plane, chroma, block / 2, ax / 2, ay / 2);
    edge.blend(plane, saved);
  }
}

/** Fills one region with an RGB colour, converted with the frame's matrix (BT.601 unless 'bt709'). */
export function fillYuvRegionInPlace(frame: YuvFrame, rect: Rect, rgb: readonly [number, number, number]): void {
  const planes = planesOf(frame);
  const region = clipRect(rect, frame.width, frame.height);
  if (region.width === 0 || region.height === 0) return;
  const [y, u, v] = rgbColorToYuv(rgb, frame.matrix);
  fillRasterRegion(planes.y, region, [y]);
  const chroma = chromaRect(region, frame.width, frame.height);
  const edge = chromaEdge(region, frame.width, frame.height);
  for (const [plane, value] of [[planes.u, u], [planes.v, v]] as const) {
    const saved = edge.save(plane);
    fillRasterRegion(plane, chroma, [value]);
    edge.blend(plane, saved);
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
  const planes = planesOf(frame), before = planesOf(original);
  restoreOutsideEllipses(planes.y, before.y, rects, 1);
  restoreOutsideEllipses(planes.u, before.u, rects, 2, frame.width, frame.height);
  restoreOutsideEllipses(planes.v, before.v, rects, 2, frame.width, frame.height);
}

/**
 * The samples of a region's chroma rect that cover luma pixels outside the region (its first
 * or last column / row when the region's edge there is odd) and the share of their pixels
 * inside it. `save` copies their values before a chroma plane is masked, `blend` mixes them
 * back afterwards: old + share·(masked − old).
 */
function chromaEdge(region: Rect, width: number, height: number): { save(plane: Raster): Uint8Array; blend(plane: Raster, saved: Uint8Array): void } {
  const chroma = chromaRect(region, width, height);
  const share = (i: number, start: number, end: number, size: number) => (Math.min(2 * i + 2, end) - Math.max(2 * i, start)) / (Math.min(2 * i + 2, size) - 2 * i);
  const cols: number[] = [], rows: number[] = [];
  const x1 = chroma.x + chroma.width - 1, y1 = chroma.y + chroma.height - 1;
  for (const i of chroma.width > 1 ? [chroma.x, x1] : [chroma.x]) cols.push(i, share(i, region.x, region.x + region.width, width));
  for (const j of chroma.height > 1 ? [chroma.y, y1] : [chroma.y]) rows.push(j, share(j, region.y, region.y + region.height, height));
  const where: number[] = [], weights: number[] = [];
  const add = (i: number, j: number, w: number) => { if (w < 1) { where.push(j * Math.ceil(width / 2) + i); weights.push(w); } };
  for (let j = chroma.y; j <= y1; j++) {
    const wy = j === chroma.y ? rows[1] : j === y1 ? rows[rows.length - 1] : 1;
    if (wy < 1) {
      for (let i = chroma.x; i <= x1; i++) add(i, j, wy * (i === chroma.x ? cols[1] : i === x1 ? cols[cols.length - 1] : 1));
    } else {
      add(chroma.x, j, cols[1]);
      if (x1 !== chroma.x) add(x1, j, cols[cols.length - 1]);
    }
  }
  return {
    save: (plane) => Uint8Array.from(where, (k) => plane.data[plane.offset + k]),
    blend: (plane, saved) => {
      for (let n = 0; n < where.length; n++) {
        const p = plane.offset + where[n], old = saved[n];
        plane.data[p] = Math.round(old + weights[n] * (plane.data[p] - old));
      }
    },
  };
}
