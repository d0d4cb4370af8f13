import type { Frame, Point, Rect } from '../vision/frame';
import { convexHull, polygonBounds } from '../vision/hull';
import { delaunay } from '../vision/triangulate';
import { warpPiecewiseAffineInto } from '../vision/piecewise';
import { featherMask, polygonMask, combineMin } from '../vision/mask';
import { colorTransferInto } from '../vision/color';
import { blendMaskedInto } from '../vision/blend';
import { clipRect } from '../vision/rect';
import type { Scratch } from '../vision/scratch';
import { matchSeamInto } from '../vision/seam';
import { keptFeatures } from '../faces/expression';

/**
 * The embedded landmark-driven swap of one face (no model download): the source face is warped
 * onto the target face by a piecewise-affine warp over a triangulation of the 68 points, its
 * colours are matched to the target skin (light and saturation, never hue: vision/color.ts),
 * its seam is matched to the target (vision/seam.ts), and it is blended into `out` through a
 * mask of the target face hull whose feather stays inside the hull — so every pixel outside
 * is unchanged. When the expressions differ (faces/expression.ts) the target keeps its mouth
 * or eyes: the mask is cut out there, with a feathered edge.
 * Returns the rectangle it may have changed (undefined when the face is too small to swap).
 *
 * `scratch`, when given, lends every face-sized buffer (warped face, coverage, masks, Lab
 * values; roles swap.* and featherMask.*) so a warm arena makes a face cost no allocation
 * beyond a few small arrays. This is safe because the function is synchronous: there is no
 * `await` in it, so no other swap on the same context can run between handing a buffer out
 * and the blend that consumes it; nothing borrowed outlives the call. Same bytes either way.
 */
export function swapFaceEmbedded(sourceFrame: Frame, sourcePoints: Point[], target: Frame, targetPoints: Point[], out: Frame, ratio: number, scratch?: Scratch): Rect | undefined {
  const hull = convexHull(targetPoints);
  const bounds = polygonBounds(hull);
  const pad = 2;
  const rect: Rect = clipRect({ x: bounds.x - pad, y: bounds.y - pad, width: bounds.width + pad * 2, height: bounds.height + pad * 2 }, target.width, target.height);
  if (rect.width < 8 || rect.height < 8) return undefined;

  const local = (p: Point): Point => [p[0] - rect.x, p[1] - rect.y];
  const dstPoints = targetPoints.map(local);
  const localHull = hull.map(local);

  // Warped source face, in the target's rectangle; coverage marks the pixels the triangles filled.
  // Borrowed buffers hold the last face's values: cleared to what fresh arrays would be (the
  // warp writes only inside its triangles; coverage is 1 there and must be 0 elsewhere).
  const area = rect.width * rect.height;
  const warped = { width: rect.width, height: rect.height, channels: 3 as const, data: scratch ? scratch.uint8('swap.warped', area * 3).fill(0) : new Uint8Array(area * 3) };
  const coverage = scratch ? scratch.float32('swap.coverage', area).fill(0) : new Float32Array(area);
  // Triangles from the target's own points, so none of them folds over in the destination.
  warpPiecewiseAffineInto(sourceFrame, sourcePoints, warped, dstPoints, delaunay(dstPoints), coverage);

  const faceWidth = Math.max(rect.width, rect.height);
  const hullMask = polygonMask(rect.width, rect.height, localHull, scratch?.float32('swap.hull', area));
  const feathered = featherMask(hullMask, rect.width, rect.height, Math.max(2, faceWidth * 0.08), scratch?.float32('swap.feather', area), scratch);
  const mask = combineMin(feathered, coverage, scratch?.float32('swap.mask', area));
  // Expressions that differ (an open mouth onto a closed one, a blink): the target keeps that feature.
  for (const feature of keptFeatures(sourcePoints, targetPoints)) cutOut(mask, rect, feature.map(local), Math.max(1.5, faceWidth * 0.03));

  // Target skin statistics read in place over rect (the same pixels, in the same order, as a crop).
  colorTransferInto(warped, mask, target, mask, undefined, rect, scratch?.float32('swap.lab', area * 3));
  // No step in colour where the face meets the target at the hull.
  matchSeamInto(warped, mask, target, rect, faceWidth * 0.15);
  blendMaskedInto(out, warped, mask, rect, ratio);
  return rect;
}

/** mask ← mask · (1 − feathered polygon), the polygon in rect coordinates; the work covers only the polygon's bounds. */
function cutOut(mask: Float32Array, rect: Rect, polygon: Point[], radius: number): void {
  const b = clipRect(polygonBounds(polygon), rect.width, rect.height);
  if (b.width < 1 || b.height < 1) return;
  const keep = featherMask(
    polygonMask(
      b.width,
      b.height,
      polygon.map(([x, y]): Point => [x - b.x, y - b.y]),
    ),
    b.width,
    b.height,
    radius,
  );
  for (let y = 0; y < b.height; y++) {
    for (let x = 0, k = y * b.width, m = (b.y + y) * rect.width + b.x; x < b.width; x++, k++, m++) if (keep[k] > 0) mask[m] *= 1 - keep[k];
  }
}
