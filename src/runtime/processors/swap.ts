import type { Face, FaceToken } from '../token/types';
import type { Frame, Point, Rect } from '../vision/frame';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { faceError } from '../errors';
import { selectFaces } from '../faces/select';
import { landmarks5From68, roundPoint } from '../faces/landmarks';
import { analyseSource } from './source-face';
import { cloneFrame } from '../vision/frame';
import { convexHull, polygonBounds } from '../vision/hull';
import { delaunay } from '../vision/triangulate';
import { warpPiecewiseAffineInto } from '../vision/piecewise';
import { featherMask, polygonMask, combineMin } from '../vision/mask';
import { colorTransferInto } from '../vision/color';
import { blendMaskedInto } from '../vision/blend';
import { clipRect } from '../vision/rect';
import { crop } from '../vision/resize';
import { storeDerivedTarget } from './frames';

/**
 * Embedded landmark-driven swap (no model download): the source face is warped onto each
 * selected target face by a piecewise-affine warp over a fixed triangulation of the 68
 * points, its colours are matched to the target skin, and it is blended through a mask of the
 * target face hull whose feather stays inside the hull — so every pixel outside is unchanged.
 */
export async function swap(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('swap', token, ctx, options, async () => {
    if (token.faces.length === 0) throw faceError('E_NO_FACE', 'no target face to swap: run detect first, or the image has no face', { stage: 'swap' });
    const source = await analyseSource(token, ctx, 'swap', false);
    if (!source.frame || !source.face?.landmarks68) {
      throw faceError('E_NO_SOURCE', 'the embedded swap needs a source image (an embedding alone is not enough)', { stage: 'swap' });
    }
    const sourceFrame = ctx.store.get(source.frame);
    const target = ctx.store.get(token.target.frame);
    const indices = selectFaces(token.faces, token.parameters, 'swap');
    if (indices.length === 0) return { patch: { source }, outcome: 'no_face', note: 'no face matched the selector' };

    const ratio = clamp01(token.parameters.blend_ratio ?? 0.8);
    const out = cloneFrame(target);
    const faces: Face[] = token.faces.slice();
    for (const i of indices) {
      let face = faces[i];
      if (!face.landmarks68) {
        const landmarker = await ctx.landmarker();
        const landmarks68 = (await landmarker.landmarks68(target, face.bbox)).map(roundPoint);
        face = { ...face, landmarks68, landmarks5: landmarks5From68(landmarks68).map(roundPoint) };
        faces[i] = face;
      }
      swapOne(sourceFrame, source.face.landmarks68, target, face.landmarks68!, out, ratio);
    }
    return {
      patch: { source, faces, target: storeDerivedTarget(ctx, token, out) },
      note: `${indices.length} face${indices.length === 1 ? '' : 's'} · embedded landmark swap`,
    };
  });
}

function swapOne(sourceFrame: Frame, sourcePoints: Point[], target: Frame, targetPoints: Point[], out: Frame, ratio: number): void {
  const hull = convexHull(targetPoints);
  const bounds = polygonBounds(hull);
  const pad = 2;
  const rect: Rect = clipRect({ x: bounds.x - pad, y: bounds.y - pad, width: bounds.width + pad * 2, height: bounds.height + pad * 2 }, target.width, target.height);
  if (rect.width < 8 || rect.height < 8) return;

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
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
