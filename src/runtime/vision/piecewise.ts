import type { Affine, Frame, Point } from './frame';
import type { PixelTarget } from './blend';
import { faceError } from '../errors';

/**
 * The affine taking three points onto three others (from3[i] ↦ to3[i]), solved directly
 * with Cramer's rule. Throws E_BAD_PARAMETER when `from3` is degenerate (collinear).
 */
export function triangleAffine(from3: ReadonlyArray<Readonly<Point>>, to3: ReadonlyArray<Readonly<Point>>): Affine {
  if (from3.length !== 3 || to3.length !== 3) throw faceError('E_BAD_PARAMETER', 'triangleAffine needs exactly three points on each side');
  const [x0, y0] = from3[0],
    [x1, y1] = from3[1],
    [x2, y2] = from3[2];
  const [u0, v0] = to3[0],
    [u1, v1] = to3[1],
    [u2, v2] = to3[2];
  const ex1 = x1 - x0,
    ey1 = y1 - y0,
    ex2 = x2 - x0,
    ey2 = y2 - y0;
  const det = ex1 * ey2 - ex2 * ey1;
  const scale = Math.abs(ex1 * ey2) + Math.abs(ex2 * ey1);
  if (!(Math.abs(det) > 1e-12 * Math.max(scale, 1e-300))) throw faceError('E_BAD_PARAMETER', 'triangleAffine: the source triangle is degenerate');
  const du1 = u1 - u0,
    du2 = u2 - u0,
    dv1 = v1 - v0,
    dv2 = v2 - v0;
  const a = (du1 * ey2 - du2 * ey1) / det,
    b = (du2 * ex1 - du1 * ex2) / det;
  const d = (dv1 * ey2 - dv2 * ey1) / det,
    e = (dv2 * ex1 - dv1 * ex2) / det;
  return [a, b, u0 - a * x0 - b * y0, d, e, v0 - d * x0 - e * y0];
}

/**
 * Piecewise-affine warp. For every triangle (index triples into both point lists) the affine
 * dst→src is solved from its three point pairs, the triangle is rasterised in `dst` row by
 * row (edge functions give each row's span; edges are inclusive so neighbouring triangles
 * leave no cracks) and each covered pixel is a clamped bilinear sample of `src`. Pixel (x, y)
 * is the point (x, y): landmark coordinates are pixel centres. Pixels outside every triangle
 * are not written. `coverage` (dst.width × dst.height), when given, gets 1 at every written
 * pixel and is otherwise left as it was. Triangles degenerate in dst are skipped.
 */
export function warpPiecewiseAffineInto(
  src: Frame,
  srcPts: ReadonlyArray<Readonly<Point>>,
  dst: PixelTarget,
  dstPts: ReadonlyArray<Readonly<Point>>,
  triangles: Uint32Array,
  coverage?: Float32Array,
): void {
  const dw = dst.width,
    dh = dst.height;
  if (dst.data.length !== dw * dh * 3) throw faceError('E_BAD_PARAMETER', `piecewise warp: destination has ${dst.data.length} bytes, expected ${dw * dh * 3}`);
  if (src.data.length !== src.width * src.height * 3 || src.width < 1 || src.height < 1) throw faceError('E_BAD_PARAMETER', 'piecewise warp: source frame is empty or malformed');
  if (coverage && coverage.length !== dw * dh) throw faceError('E_BAD_PARAMETER', `piecewise warp: coverage has ${coverage.length} values, expected ${dw * dh}`);
  if (triangles.length % 3 !== 0) throw faceError('E_BAD_PARAMETER', 'piecewise warp: triangle list length is not a multiple of 3');
  const count = Math.min(srcPts.length, dstPts.length);
  for (let t = 0; t < triangles.length; t++) {
    if (triangles[t] >= count) throw faceError('E_BAD_PARAMETER', `piecewise warp: triangle index ${triangles[t]} but only ${count} point pairs`);
  }

  const sw = src.width,
    s = src.data,
    d = dst.data;
  const maxX = sw - 1,
    maxY = src.height - 1;
  const EPS = 1e-7; // inclusive edges: a pixel exactly on an edge belongs to both triangles
  for (let t = 0; t < triangles.length; t += 3) {
    const ia = triangles[t];
    let ib = triangles[t + 1],
      ic = triangles[t + 2];
    const ax = dstPts[ia][0],
      ay = dstPts[ia][1];
    let bx = dstPts[ib][0],
      by = dstPts[ib][1],
      cx = dstPts[ic][0],
      cy = dstPts[ic][1];
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (!(Math.abs(area) > 1e-9)) continue; // degenerate or not finite
    if (area < 0) {
      // make it positive so "inside" is every edge function ≥ 0
      [ib, ic] = [ic, ib];
      [bx, by, cx, cy] = [cx, cy, bx, by];
    }
    let m: Affine;
    try {
      m = triangleAffine(
        [
          [ax, ay],
          [bx, by],
          [cx, cy],
        ],
        [srcPts[ia], srcPts[ib], srcPts[ic]],
      );
    } catch {
      continue;
    }
    if (!m.every(Number.isFinite)) continue;
    const y0 = Math.max(0, Math.ceil(Math.min(ay, by, cy) - EPS));
    const y1 = Math.min(dh - 1, Math.floor(Math.max(ay, by, cy) + EPS));
    for (let y = y0; y <= y1; y++) {
      // Each edge P→Q: E(x) = (Py − Qy)·x + (Qx − Px)(y − Py) + (Qy − Py)·Px ≥ 0 inside.
      let lo = 0,
        hi = dw - 1;
      let empty = false;
      for (let e = 0; e < 3 && !empty; e++) {
        const px = e === 0 ? ax : e === 1 ? bx : cx,
          py = e === 0 ? ay : e === 1 ? by : cy;
        const qx = e === 0 ? bx : e === 1 ? cx : ax,
          qy = e === 0 ? by : e === 1 ? cy : ay;
        const alpha = py - qy;
        const beta = (qx - px) * (y - py) + (qy - py) * px;
        if (alpha > 0) lo = Math.max(lo, Math.ceil(-beta / alpha - EPS));
        else if (alpha < 0) hi = Math.min(hi, Math.floor(-beta / alpha + EPS));
        else if (beta < -EPS * Math.abs(qx - px)) empty = true;
      }
      if (empty || lo > hi) continue;
      let fx = m[0] * lo + m[1] * y + m[2];
      let fy = m[3] * lo + m[4] * y + m[5];
      let o = (y * dw + lo) * 3;
      for (let x = lo; x <= hi; x++, fx += m[0], fy += m[3], o += 3) {
        const sx = fx < 0 ? 0 : fx > maxX ? maxX : fx;
        const sy = fy < 0 ? 0 : fy > maxY ? maxY : fy;
        const xi = sx | 0,
          yi = sy | 0;
        const wx = sx - xi,
          wy = sy - yi;
        const xj = xi < maxX ? xi + 1 : xi,
          yj = yi < maxY ? yi + 1 : yi;
        const p00 = (yi * sw + xi) * 3,
          p01 = (yi * sw + xj) * 3,
          p10 = (yj * sw + xi) * 3,
          p11 = (yj * sw + xj) * 3;
        for (let c = 0; c < 3; c++) {
          const top = s[p00 + c] + (s[p01 + c] - s[p00 + c]) * wx;
          const bottom = s[p10 + c] + (s[p11 + c] - s[p10 + c]) * wx;
          d[o + c] = top + (bottom - top) * wy + 0.5; // store truncates: round half up, stays in 0..255
        }
        if (coverage) coverage[y * dw + x] = 1;
      }
    }
  }
}
