import type { Affine } from './frame';

/**
 * Least-squares 4-DoF similarity (rotation, uniform scale, translation; no reflection) taking
 * `src` points onto `dst` points — Umeyama's closed form specialised to 2-D. In 2-D the
 * rotation·scale part is [[p, −q], [q, p]], which can never reflect, and the least-squares
 * p, q are the centred dot and cross sums over the source variance (no SVD needed).
 */
export function estimateSimilarity(src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[]): Affine {
  if (src.length !== dst.length) throw new RangeError(`a similarity needs matching point lists, got ${src.length} and ${dst.length} points`);
  const n = src.length;
  if (n < 2) throw new RangeError('a similarity needs at least 2 point pairs');
  let msx = 0,
    msy = 0,
    mdx = 0,
    mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i][0];
    msy += src[i][1];
    mdx += dst[i][0];
    mdy += dst[i][1];
  }
  msx /= n;
  msy /= n;
  mdx /= n;
  mdy /= n;
  // a = Σ(s·d), b = Σ(s × d) over centred points; variance of src.
  let a = 0,
    b = 0,
    varS = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i][0] - msx,
      sy = src[i][1] - msy;
    const dx = dst[i][0] - mdx,
      dy = dst[i][1] - mdy;
    a += sx * dx + sy * dy;
    b += sx * dy - sy * dx;
    varS += sx * sx + sy * sy;
  }
  if (!(varS >= 1e-12)) throw new RangeError(Number.isFinite(varS) ? 'source points are all the same' : 'points must be finite numbers');
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new RangeError('points must be finite numbers');
  const scaleCos = a / varS; // s·cosθ
  const scaleSin = b / varS; // s·sinθ
  return [scaleCos, -scaleSin, mdx - (scaleCos * msx - scaleSin * msy), scaleSin, scaleCos, mdy - (scaleSin * msx + scaleCos * msy)];
}

/** Uniform scale of a similarity matrix. */
export function similarityScale(m: Affine): number {
  return Math.hypot(m[0], m[3]);
}

/** Rotation of a similarity matrix in radians (counter-clockwise in x-right/y-down means clockwise on screen). */
export function similarityAngle(m: Affine): number {
  return Math.atan2(m[3], m[0]);
}
