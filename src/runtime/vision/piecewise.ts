import type { Affine, Frame, Point } from './frame';
import { invertAffine, multiplyAffine } from './affine';
import type { FrameTarget } from './affine';

/** The affine taking three points onto three others. */
export function triangleAffine(from: Point[], to: Point[]): Affine {
  const [[x0, y0], [x1, y1], [x2, y2]] = from;
  const [[u0, v0], [u1, v1], [u2, v2]] = to;
  const basis: Affine = [x1 - x0, x2 - x0, x0, y1 - y0, y2 - y0, y0]; // unit triangle → from
  const target: Affine = [u1 - u0, u2 - u0, u0, v1 - v0, v2 - v0, v0]; // unit triangle → to
  return multiplyAffine(target, invertAffine(basis));
}

/**
 * Piecewise-affine warp: each destination triangle is filled from the matching source
 * triangle (bilinear, clamped). Edges are inclusive so neighbouring triangles leave no cracks.
 * Only pixels inside triangles are written; `coverage` (w×h) gets 1 where a pixel was.
 */
export function warpPiecewiseAffineInto(src: Frame, srcPts: Point[], dst: FrameTarget, dstPts: Point[], triangles: Uint32Array, coverage?: Float32Array): void {
  const sw = src.width, sh = src.height, s = src.data, d = dst.data;
  const maxX = sw - 1, maxY = sh - 1;
  for (let t = 0; t < triangles.length; t += 3) {
    const ia = triangles[t], ib = triangles[t + 1], ic = triangles[t + 2];
    const A = dstPts[ia], B = dstPts[ib], C = dstPts[ic];
    const area = (B[0] - A[0]) * (C[1] - A[1]) - (B[1] - A[1]) * (C[0] - A[0]);
    if (Math.abs(area) < 1e-6) continue;
    let m: Affine;
    try {
      m = triangleAffine([A, B, C], [srcPts[ia], srcPts[ib], srcPts[ic]]);
    } catch {
      continue;
    }
    const x0 = Math.max(0, Math.floor(Math.min(A[0], B[0], C[0])));
    const x1 = Math.min(dst.width - 1, Math.ceil(Math.max(A[0], B[0], C[0])));
    const y0 = Math.max(0, Math.floor(Math.min(A[1], B[1], C[1])));
    const y1 = Math.min(dst.height - 1, Math.ceil(Math.max(A[1], B[1], C[1])));
    const sign = area > 0 ? 1 : -1;
    const eps = -1e-7;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const w0 = sign * ((B[0] - A[0]) * (y - A[1]) - (B[1] - A[1]) * (x - A[0]));
        const w1 = sign * ((C[0] - B[0]) * (y - B[1]) - (C[1] - B[1]) * (x - B[0]));
        const w2 = sign * ((A[0] - C[0]) * (y - C[1]) - (A[1] - C[1]) * (x - C[0]));
        if (w0 < eps || w1 < eps || w2 < eps) continue;
        let fx = m[0] * x + m[1] * y + m[2];
        let fy = m[3] * x + m[4] * y + m[5];
        fx = fx < 0 ? 0 : fx > maxX ? maxX : fx;
        fy = fy < 0 ? 0 : fy > maxY ? maxY : fy;
        const xi = fx | 0, yi = fy | 0;
        const ax = fx - xi, ay = fy - yi;
        const xj = xi < maxX ? xi + 1 : xi, yj = yi < maxY ? yi + 1 : yi;
        const p00 = (yi * sw + xi) * 3, p01 = (yi * sw + xj) * 3, p10 = (yj * sw + xi) * 3, p11 = (yj * sw + xj) * 3;
        const o = (y * dst.width + x) * 3;
        for (let c = 0; c < 3; c++) {
          const top = s[p00 + c] + (s[p01 + c] - s[p00 + c]) * ax;
          const bottom = s[p10 + c] + (s[p11 + c] - s[p10 + c]) * ax;
          d[o + c] = top + (bottom - top) * ay + 0.5;
        }
        if (coverage) coverage[y * dst.width + x] = 1;
      }
    }
  }
}
