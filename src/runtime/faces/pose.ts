import type { Point } from '../vision/frame';
import { delaunay } from '../vision/triangulate';
import { MIRROR_68 } from './face-likeness';

/**
 * Yaw index of a face from its 68 points, in degrees: asin of how far the nose tip (30) sits
 * off the middle between the cheeks at nose height (jaw points 2 and 14), as a fraction of
 * their distance. 0 = frontal; the sign says which way (negative: the nose is nearer the
 * image's left cheek point). Not a calibrated angle — a 3/4 profile reads 45–55, frontal faces
 * of the fixture pictures up to ≈ 39 (small faces whose points are rough) — but it orders
 * faces by how turned they are, which is what the pose guard needs.
 */
export function yawFrom68(points: readonly Point[]): number {
  const left = points[2][0],
    right = points[14][0],
    nose = points[30][0];
  const span = right - left;
  if (!(Math.abs(span) > 1e-6)) return 90;
  const r = (nose - left - (right - nose)) / span;
  return (Math.asin(r < -1 ? -1 : r > 1 ? 1 : r) * 180) / Math.PI;
}

/** The 68 points of the mirror image of a face: x ↦ axis2 − x, each point taking its mirror twin's place (left eye ↔ right eye…). */
export function mirrorPoints68(points: readonly Point[], axis2: number): Point[] {
  return MIRROR_68.map((j) => [axis2 - points[j][0], points[j][1]] as Point);
}

/**
 * Outline, brows, nose, eye corners and outer mouth (jaw 0–16, brows 17–26, nose 27–35, eye
 * corners 36 39 42 45, mouth 48 51 54 57): the points that carry a face's shape. The eyelids
 * and lips are left out, so an open mouth or a blink does not read as distortion.
 */
const SHAPE_POINTS: readonly number[] = [...Array.from({ length: 36 }, (_, i) => i), 36, 39, 42, 45, 48, 51, 54, 57];

/**
 * How much a piecewise warp from `source` to `target` (68 points each) deforms the face,
 * beyond a uniform scale: for each triangle of a triangulation of the shape points, the larger
 * of σ₁/s and s/σ₂ (σ the singular values of the triangle's affine, s the face's overall scale,
 * √ of the area ratio); the 90th percentile over the triangles. 1 = a similar shape. Measured
 * with a frontal source (fr_obama.jpg): 1.4–2.0 on frontal targets, 2.1–3.3 on faces turned a
 * little, 3.6–5.8 on 3/4 profiles (BENCHMARKS.md §16).
 */
export function warpStretch(source: readonly Point[], target: readonly Point[]): number {
  const src = SHAPE_POINTS.map((i) => source[i]);
  const dst = SHAPE_POINTS.map((i) => target[i]);
  const tri = delaunay(dst);
  let areaSrc = 0,
    areaDst = 0;
  for (let t = 0; t < tri.length; t += 3) {
    areaSrc += Math.abs(area2(src[tri[t]], src[tri[t + 1]], src[tri[t + 2]]));
    areaDst += Math.abs(area2(dst[tri[t]], dst[tri[t + 1]], dst[tri[t + 2]]));
  }
  if (!(areaSrc > 0 && areaDst > 0)) return Infinity;
  const s = Math.sqrt(areaDst / areaSrc);
  const values: number[] = [];
  for (let t = 0; t < tri.length; t += 3) {
    const a = src[tri[t]],
      b = src[tri[t + 1]],
      c = src[tri[t + 2]];
    const A = dst[tri[t]],
      B = dst[tri[t + 1]],
      C = dst[tri[t + 2]];
    const ex1 = b[0] - a[0],
      ey1 = b[1] - a[1],
      ex2 = c[0] - a[0],
      ey2 = c[1] - a[1];
    const det = ex1 * ey2 - ex2 * ey1;
    if (!(Math.abs(det) > 1e-9)) {
      values.push(Infinity);
      continue;
    }
    const du1 = B[0] - A[0],
      du2 = C[0] - A[0],
      dv1 = B[1] - A[1],
      dv2 = C[1] - A[1];
    const m00 = (du1 * ey2 - du2 * ey1) / det,
      m01 = (du2 * ex1 - du1 * ex2) / det;
    const m10 = (dv1 * ey2 - dv2 * ey1) / det,
      m11 = (dv2 * ex1 - dv1 * ex2) / det;
    // Singular values of [[m00, m01], [m10, m11]] from the trace of MᵀM and |det M|.
    const half = (m00 * m00 + m01 * m01 + m10 * m10 + m11 * m11) / 2,
      d = Math.abs(m00 * m11 - m01 * m10);
    const root = Math.sqrt(Math.max(0, half * half - d * d));
    const s1 = Math.sqrt(half + root),
      s2 = Math.sqrt(Math.max(0, half - root));
    values.push(s2 > 0 ? Math.max(s1 / s, s / s2) : Infinity);
  }
  values.sort((x, y) => x - y);
  return values[Math.floor(0.9 * (values.length - 1))];
}

function area2(a: Point, b: Point, c: Point): number {
  return (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]);
}

/** Faces turned further apart than this (yaw index, degrees) are not swapped as they are. */
export const YAW_LIMIT = 40;
/** A warp stretching the face more than this (warpStretch) would paste a squeezed face. */
export const STRETCH_LIMIT = 4;

export type PosePlan = { kind: 'as_is'; stretch: number } | { kind: 'mirror'; stretch: number } | { kind: 'skip'; detail: string };

/**
 * The pose guard: swap as is when the yaws are within YAW_LIMIT and the warp within
 * STRETCH_LIMIT; else swap the mirrored source when that brings both within them (a source
 * turned one way, a target turned the other); else skip the face (turned too far from the source either way, or a
 * warp that would stretch it beyond STRETCH_LIMIT).
 */
export function planPose(source: readonly Point[], target: readonly Point[]): PosePlan {
  const ys = yawFrom68(source),
    yt = yawFrom68(target);
  const asIs = { gap: Math.abs(yt - ys), stretch: warpStretch(source, target) };
  if (asIs.gap <= YAW_LIMIT && asIs.stretch <= STRETCH_LIMIT) return { kind: 'as_is', stretch: asIs.stretch };
  // Turned the other way from the source: its mirror image may fit.
  let best: PosePlan | undefined;
  if (Math.abs(yt + ys) < asIs.gap) {
    const mirrored = { gap: Math.abs(yt + ys), stretch: warpStretch(mirrorPoints68(source, 0), target) };
    if (mirrored.gap <= YAW_LIMIT && mirrored.stretch <= STRETCH_LIMIT) best = { kind: 'mirror', stretch: mirrored.stretch };
  }
  if (best) return best;
  const r = (v: number): string => (Number.isFinite(v) ? v.toFixed(v >= 10 ? 0 : 1) : '∞');
  return asIs.gap > YAW_LIMIT
    ? { kind: 'skip', detail: `turned ${r(yt)}° against the source's ${r(ys)}° (more than ${YAW_LIMIT}° apart)` }
    : { kind: 'skip', detail: `the warp would stretch the face ${r(asIs.stretch)}× (more than ${STRETCH_LIMIT}×)` };
}
