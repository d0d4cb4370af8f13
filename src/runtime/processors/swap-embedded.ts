import type { Frame, Point, Rect } from '../vision/frame';
import { convexHull, polygonBounds } from '../vision/hull';
import { delaunay } from '../vision/triangulate';
import { warpPiecewiseAffineInto } from '../vision/piecewise';
import { featherMask, polygonMask, combineMin } from '../vision/mask';
import { colorTransferInto } from '../vision/color';
import { blendMaskedInto } from '../vision/blend';
import { clipRect } from '../vision/rect';
import { crop } from '../vision/resize';

/**
 * The embedded landmark-driven swap of one face (no model download): the source face is warped
 * onto the target face by a piecewise-affine warp over a triangulation of the 68 points, its
 * colours are matched to the target skin, and it is blended into `out` through a mask of the
 * target face hull whose feather stays inside the hull — so every pixel outside is unchanged.
 * Returns the rectangle it may have changed (undefined when the face is too small to swap).
 */
export function swapFaceEmbedded(sourceFrame: Frame, sourcePoints: Point[], target: Frame, targetPoints: Point[], out: Frame, ratio: number): Rect | undefined {
  const hull = convexHull(targetPoints);
  const bounds = polygonBounds(hull);
  const pad = 2;
  const rect: Rect = clipRect({ x: bounds.x - pad, y: bounds.y - pad, width: bounds.width + pad * 2, height: bounds.height + pad * 2 }, target.width, target.height);
  if (rect.width < 8 || rect.height < 8) return undefined;

  const local = (p: Point): Point => [p[0] - rect.x, p[1] - rect.y];
  const dstPoints = targetPoints.map(local);
  const localHull = hull.map(local);

  // Warped source face, in the target's rectangle; coverage marks the pixels the triangles filled.
  const warped = { width: rect.width, height: rect.height, channels: 3 as const, data: new Uint8Array(rect.width * rect.height * 3) };
  const coverage = new Float32Array(rect.width * rect.height);
  // Triangles from the target's own points, so none of them folds over in the destination.
  warpPiecewiseAffineInto(sourceFrame, sourcePoints, warped, dstPoints, delaunay(dstPoints), coverage);

  const faceWidth = Math.max(rect.width, rect.height);
  const mask = combineMin(featherMask(polygonMask(rect.width, rect.height, localHull), rect.width, rect.height, Math.max(2, faceWidth * 0.08)), coverage);

  const targetRegion = crop(target, rect);
  colorTransferInto(warped, mask, targetRegion, mask);
  blendMaskedInto(out, warped, mask, rect, ratio);
  return rect;
}
