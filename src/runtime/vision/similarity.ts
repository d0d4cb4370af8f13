import type { Affine, Point } from './frame';

/**
 * Least-squares 4-DoF similarity (rotation, uniform scale, translation; no reflection) taking
 * `src` points onto `dst` points — Umeyama's closed form specialised to 2-D.
 */
export function estimateSimilarity(src: Point[], dst: Point[]): Affine {
  const n = Math.min(src.length, dst.length);
  if (n < 2) throw new RangeError('a similarity needs at least 2 point pairs');
  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i][0]; msy += src[i][1]; mdx += dst[i][0]; mdy += dst[i][1];
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;
  // a = Σ(s·d), b = Σ(s × d) over centred points; variance of src.
  let a = 0, b = 0, varS = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i][0] - msx, sy = src[i][1] - msy;
    const dx = dst[i][0] - mdx, dy = dst[i][1] - mdy;
    a += sx * dx + sy * dy;
    b += sx * dy - sy * dx;
    varS += sx * sx + sy * sy;
  }
  if (varS < 1e-12) throw new RangeError('source points are all the same');
  const scaleCos = a / varS; // s·cosθ
  const scaleSin = b / varS; // s·sinθ
  return [scaleCos, -scaleSin, mdx - (scaleCos * msx - scaleSin * msy), scaleSin, scaleCos, mdy - (scaleSin * msx + scaleCos * msy)];
}

export function similarityScale(m: Affine): number {
  return Math.hypot(m[0], m[3]);
}

export function similarityAngle(m: Affine): number {
  return Math.atan2(m[3], m[0]);
}
