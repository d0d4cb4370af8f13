import type { Face, FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import type { StageResult } from './stage';
import { runStage } from './stage';
import { faceError } from '../errors';
import { selectFaces } from '../faces/select';
import { isDefaultModelRef } from '../models/model-ref';
import { analyseSource } from './source-face';
import { ensureLandmarks } from './face-points';
import type { Frame, Point, Rect } from '../vision/frame';
import type { SkippedFace } from '../token/types';
import { realFaces, skippedNote } from './face-check';
import { planPose, mirrorPoints68 } from '../faces/pose';
import { mirroredCrop } from '../faces/face-likeness';
import { polygonBounds } from '../vision/hull';
import { clipRect } from '../vision/rect';
import { withDerivedRoom } from './frames';
import { editableCopy, rgbView, storeEdited } from './yuv-pixels';
import { assertFaceWork } from './limits';
import { swapFaceEmbedded } from './swap-embedded';
import { swapFacesWithModel } from './swap-model';
import { clamp01 } from './params';

/**
 * Puts the source face onto the selected target faces. With no face_swapper_model (or
 * `embedded`) it is the embedded landmark-driven swap, which needs no download; with a model
 * (inswapper_128, simswap_256, … or a path to one) the model swaps each aligned face crop and
 * the result is pasted back FaceFusion's way.
 */
export async function swap(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('swap', token, ctx, options, async () => {
    if (token.faces.length === 0) throw faceError('E_NO_FACE', 'no target face to swap: run detect first, or the image has no face', { stage: 'swap' });
    const model = token.parameters.face_swapper_model;
    return isDefaultModelRef(model) ? embeddedSwap(token, ctx) : swapFacesWithModel(token, ctx, model as string);
  });
}

async function embeddedSwap(token: FaceToken, ctx: ProcessorContext): Promise<StageResult> {
  const source = await analyseSource(token, ctx, 'swap');
  if (!source.frame || !source.face?.landmarks68) {
    throw faceError('E_NO_SOURCE', 'the embedded swap needs a source image (an embedding alone is not enough)', { stage: 'swap' });
  }
  const sourcePoints = source.face.landmarks68;
  const sourceFrame = ctx.store.get(source.frame);
  const stored = ctx.store.pixels(token.target.frame);
  const selected = selectFaces(token.faces, token.parameters, 'swap');
  if (selected.length === 0) return { patch: { source }, outcome: 'no_face', note: 'no face matched the selector' };
  // Too much face area is refused before any work; only boxes that pass the face-likeness check
  // are swapped, the rest journalled.
  assertFaceWork(ctx, token.faces, selected, stored, 'swap');
  const checked = await realFaces(token, ctx, selected);
  const indices = checked.keep;
  const skipped: SkippedFace[] = [...checked.skipped];
  if (indices.length === 0) return { patch: { source, faces: checked.faces }, skipped, note: `0 faces · embedded landmark swap${skippedNote(skipped)}` };

  const ratio = clamp01(token.parameters.blend_ratio ?? 0.8);
  assertFaceWork(ctx, token.faces, indices, stored, 'swap');
  return withDerivedRoom(ctx, stored, async (room) => {
    // A video job's YUV frame: RGB only around the swapped faces, written back into a YUV copy.
    const target = rgbView(
      ctx,
      token.target.frame,
      indices.map((i) => token.faces[i]),
    );
    const out = editableCopy(ctx, target);
    try {
      const faces: Face[] = checked.faces;
      const changed: Rect[] = [];
      let swapped = 0,
        mirrored = 0;
      let mirror: { frame: Frame; points: Point[] } | undefined;
      for (const i of indices) {
        faces[i] = await ensureLandmarks(faces[i], target.frame, ctx, token.parameters);
        // The pose guard: never paste a face squeezed onto a head turned away from the source's.
        const plan = planPose(sourcePoints, faces[i].landmarks68!);
        if (plan.kind === 'skip') {
          skipped.push({ face: i, reason: 'turned', detail: plan.detail });
          continue;
        }
        let from = { frame: sourceFrame, points: sourcePoints };
        if (plan.kind === 'mirror') {
          mirror ??= mirroredSource(sourceFrame, sourcePoints);
          from = mirror;
          mirrored++;
        }
        const rect = swapFaceEmbedded(from.frame, from.points, target.frame, faces[i].landmarks68!, out.frame, ratio, ctx.scratch);
        if (rect) changed.push(rect);
        swapped++;
      }
      skipped.sort((a, b) => a.face - b.face);
      const note = `${swapped} face${swapped === 1 ? '' : 's'} · embedded landmark swap${mirrored ? ` · ${mirrored} from the mirrored source` : ''}${skippedNote(skipped)}`;
      if (swapped === 0) return { patch: { source, faces }, skipped, note };
      return {
        // Only the face hulls changed: a YUV frame gets just those written back.
        patch: { source, faces, target: storeEdited(ctx, token, target, out.frame, room, changed) },
        note,
        skipped,
      };
    } finally {
      out.release();
    }
  });
}

/** The source face's bounds with a margin: the part of the source picture a warp reads. */
function sourceFaceRect(points: readonly Point[], frame: Frame): Rect {
  const b = polygonBounds(points as Point[]);
  const m = Math.max(b.width, b.height) * 0.1 + 2;
  return clipRect({ x: b.x - m, y: b.y - m, width: b.width + 2 * m, height: b.height + 2 * m }, frame.width, frame.height);
}

/** The source face mirrored left to right (a crop around it) and its 68 points in that crop. */
function mirroredSource(frame: Frame, points: readonly Point[]): { frame: Frame; points: Point[] } {
  const rect = sourceFaceRect(points, frame);
  // In the crop, source (x, y) maps to ((rect.x + rect.width − 1) − x, y − rect.y).
  const mirrored = mirrorPoints68(points, rect.x + rect.width - 1).map(([x, y]): Point => [x, y - rect.y]);
  return { frame: mirroredCrop(frame, rect), points: mirrored };
}
