import type { Affine, Frame, Point, Rect } from './frame';

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new RangeError('affine matrix is not invertible');
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** a ∘ b: apply b first, then a. */
export function multiplyAffine(a: Affine, b: Affine): Affine {
  return [
    a[0] * b[0] + a[1] * b[3], a[0] * b[1] + a[1] * b[4], a[0] * b[2] + a[1] * b[5] + a[2],
    a[3] * b[0] + a[4] * b[3], a[3] * b[1] + a[4] * b[4], a[3] * b[2] + a[4] * b[5] + a[5],
  ];
}

export function applyAffine(m: Affine, points: Point[]): Point[] {
  return points.map(([x, y]) => [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]]);
}

/** Bounding rectangle (integer, not clipped) of a w×h image's corners after m. */
export function transformedBounds(m: Affine, width: number, height: number): Rect {
  const pts = applyAffine(m, [[0, 0], [width, 0], [0, height], [width, height]]);
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
 * Bilinear warp: `m` maps source coordinates to destination coordinates; every destination
 * pixel is sampled at m⁻¹(x, y). Source coordinates advance by constant steps along a row, so
 * the inner loop is adds and one bilinear tap.
 */
export function warpAffine(src: Frame, m: Affine, width: number, height: number, options: WarpOptions = {}): Frame {
  const out: Frame = { width, height, channels: 3, data: new Uint8Array(width * height * 3) };
  warpAffineInto(src, m, out, { x: 0, y: 0, width, height }, options);
  return out;
}

/** As warpAffine, but writes only `rect` of an existing destination (e.g. paste-back of a crop). */
export function warpAffineInto(src: Frame, m: Affine, dst: FrameTarget, rect: Rect, options: WarpOptions = {}): void {
  const inv = invertAffine(m);
  const sw = src.width, sh = src.height, s = src.data, d = dst.data;
  const replicate = (options.border ?? 'replicate') === 'replicate';
  const fill = options.value ?? 0;
  const maxX = sw - 1, maxY = sh - 1;
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    // Source position of pixel centre (x, y) in destination → (sx, sy) at pixel centres.
    let sx = inv[0] * rect.x + inv[1] * y + inv[2];
    let sy = inv[3] * rect.x + inv[4] * y + inv[5];
    let o = (y * dst.width + rect.x) * 3;
    for (let x = 0; x < rect.width; x++, sx += inv[0], sy += inv[3], o += 3) {
      let fx = sx, fy = sy;
      if (fx < 0 || fy < 0 || fx > maxX || fy > maxY) {
        if (!replicate) {
          d[o] = d[o + 1] = d[o + 2] = fill;
          continue;
        }
        fx = fx < 0 ? 0 : fx > maxX ? maxX : fx;
        fy = fy < 0 ? 0 : fy > maxY ? maxY : fy;
      }
      const x0 = fx | 0, y0 = fy | 0;
      const ax = fx - x0, ay = fy - y0;
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const y1 = y0 < maxY ? y0 + 1 : y0;
      const p00 = (y0 * sw + x0) * 3, p01 = (y0 * sw + x1) * 3, p10 = (y1 * sw + x0) * 3, p11 = (y1 * sw + x1) * 3;
      for (let c = 0; c < 3; c++) {
        const top = s[p00 + c] + (s[p01 + c] - s[p00 + c]) * ax;
        const bottom = s[p10 + c] + (s[p11 + c] - s[p10 + c]) * ax;
        d[o + c] = top + (bottom - top) * ay + 0.5;
      }
    }
  }
}
