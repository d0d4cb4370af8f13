import type { Affine, Frame, Point, Rect } from './frame';

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new RangeError('affine matrix is not invertible');
  const ia = e / det,
    ib = -b / det,
    id = -d / det,
    ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** a ∘ b: apply b first, then a. */
export function multiplyAffine(a: Affine, b: Affine): Affine {
  return [a[0] * b[0] + a[1] * b[3], a[0] * b[1] + a[1] * b[4], a[0] * b[2] + a[1] * b[5] + a[2], a[3] * b[0] + a[4] * b[3], a[3] * b[1] + a[4] * b[4], a[3] * b[2] + a[4] * b[5] + a[5]];
}

export function applyAffine(m: Affine, points: readonly (readonly [number, number])[]): Point[] {
  return points.map(([x, y]) => [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]]);
}

/** Bounding rectangle (integer, not clipped) of a w×h image's corners after m. */
export function transformedBounds(m: Affine, width: number, height: number): Rect {
  const pts = applyAffine(m, [
    [0, 0],
    [width, 0],
    [0, height],
    [width, height],
  ]);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x = Math.floor(Math.min(...xs));
  const y = Math.floor(Math.min(...ys));
  return { x, y, width: Math.ceil(Math.max(...xs)) - x, height: Math.ceil(Math.max(...ys)) - y };
}

export interface WarpOptions {
  /** replicate: clamp to the edge (FaceFusion's choice for crops); constant: fill with `value`. */
  border?: 'replicate' | 'constant';
  value?: number;
}

/** Writable frame-like target for warpAffineInto. */
export interface FrameTarget {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Bilinear warp into a new width×height frame: `m` maps source coordinates to destination
 * coordinates; every destination pixel is sampled at m⁻¹(x, y). Source coordinates advance by
 * constant steps along a row and down the rows, so the inner loop is adds and one bilinear tap.
 */
export function warpAffine(src: Frame, m: Affine, width: number, height: number, options: WarpOptions = {}): Frame {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`warp size must be positive integers, got ${width}×${height}`);
  const out: Frame = { width, height, channels: 3, data: new Uint8Array(width * height * 3) };
  warpAffineInto(src, m, out, { x: 0, y: 0, width, height }, options);
  return out;
}

/**
 * As warpAffine, but writes only `rect` (clipped to `dst`; default all of it) of an existing
 * destination — e.g. pasting a processed crop back over the face's bounding rectangle only.
 */
export function warpAffineInto(src: Frame, m: Affine, dst: FrameTarget, rect?: Rect, options: WarpOptions = {}): void {
  const inv = invertAffine(m);
  const sw = src.width,
    sh = src.height,
    s = src.data,
    d = dst.data;
  if (d.length < dst.width * dst.height * 3) throw new RangeError(`destination has ${d.length} bytes, expected ${dst.width * dst.height * 3}`);
  const r = clip(rect ?? { x: 0, y: 0, width: dst.width, height: dst.height }, dst.width, dst.height);
  const replicate = (options.border ?? 'replicate') === 'replicate';
  const fill = options.value ?? 0;
  const maxX = sw - 1,
    maxY = sh - 1;
  const stepX = inv[0],
    stepY = inv[3];
  // Integer pixel coordinates are sample positions (cv2.warpAffine's convention, which the
  // FaceFusion templates assume): dst(x, y) = src(m⁻¹(x, y)).
  let rowX = inv[0] * r.x + inv[1] * r.y + inv[2];
  let rowY = inv[3] * r.x + inv[4] * r.y + inv[5];
  for (let y = r.y; y < r.y + r.height; y++, rowX += inv[1], rowY += inv[4]) {
    let sx = rowX,
      sy = rowY;
    let o = (y * dst.width + r.x) * 3;
    for (let x = 0; x < r.width; x++, sx += stepX, sy += stepY, o += 3) {
      let fx = sx,
        fy = sy;
      if (fx < 0 || fy < 0 || fx > maxX || fy > maxY) {
        if (!replicate) {
          d[o] = fill;
          d[o + 1] = fill;
          d[o + 2] = fill;
          continue;
        }
        fx = fx < 0 ? 0 : fx > maxX ? maxX : fx;
        fy = fy < 0 ? 0 : fy > maxY ? maxY : fy;
      }
      const x0 = fx | 0,
        y0 = fy | 0;
      const ax = fx - x0,
        ay = fy - y0;
      const p00 = (y0 * sw + x0) * 3;
      const p01 = x0 < maxX ? p00 + 3 : p00;
      const p10 = y0 < maxY ? p00 + sw * 3 : p00;
      const p11 = x0 < maxX ? p10 + 3 : p10;
      // Channels unrolled: this loop is the hot path of every crop and paste-back.
      let t = s[p00] + (s[p01] - s[p00]) * ax;
      d[o] = t + (s[p10] + (s[p11] - s[p10]) * ax - t) * ay + 0.5;
      t = s[p00 + 1] + (s[p01 + 1] - s[p00 + 1]) * ax;
      d[o + 1] = t + (s[p10 + 1] + (s[p11 + 1] - s[p10 + 1]) * ax - t) * ay + 0.5;
      t = s[p00 + 2] + (s[p01 + 2] - s[p00 + 2]) * ax;
      d[o + 2] = t + (s[p10 + 2] + (s[p11 + 2] - s[p10 + 2]) * ax - t) * ay + 0.5;
    }
  }
}

function clip(rect: Rect, width: number, height: number): Rect {
  const x1 = Math.max(0, Math.floor(rect.x)),
    y1 = Math.max(0, Math.floor(rect.y));
  const x2 = Math.min(width, Math.ceil(rect.x + rect.width)),
    y2 = Math.min(height, Math.ceil(rect.y + rect.height));
  return { x: x1, y: y1, width: Math.max(0, x2 - x1), height: Math.max(0, y2 - y1) };
}
