import type { FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { cloneFrame } from '../vision/frame';
import { drawLabelInto, drawPointInto, drawRectInto, labelScaleFor } from '../vision/draw';
import { storeDerivedTarget, withDerivedRoom } from './frames';

const BOX: [number, number, number] = [0, 230, 64];
const POINT68: [number, number, number] = [0, 200, 255];
const POINT5: [number, number, number] = [255, 40, 40];

/** Draws boxes, scores, face numbers and 5/68 points on a copy of the target frame. */
export async function debug(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('debug', token, ctx, options, async () => {
    const stored = ctx.store.get(token.target.frame);
    return withDerivedRoom(ctx, stored, async (room) => {
      const frame = cloneFrame(stored);
      const unit = Math.max(1, Math.round(Math.min(frame.width, frame.height) / 320));
      token.faces.forEach((face, i) => {
        drawRectInto(frame, face.bbox, BOX, unit * 2);
        // The label (face number and score) grows with the face, on a dark plate above its box,
        // so it reads in a thumbnail and on a 4K frame alike (a fixed 7 px label could not be
        // read on either).
        drawLabelInto(frame, face.bbox[0], face.bbox[1], `${i} ${face.score.toFixed(2)}`, BOX, labelScaleFor(face.bbox[3] - face.bbox[1]), face.bbox[1] + unit * 2);
        for (const p of face.landmarks68 ?? []) drawPointInto(frame, p, unit, POINT68);
        for (const p of face.landmarks5 ?? []) drawPointInto(frame, p, unit * 2, POINT5);
      });
      return {
        patch: { target: storeDerivedTarget(ctx, token, frame, room) },
        outcome: token.faces.length ? 'ok' : 'no_face',
        note: `${token.faces.length} face${token.faces.length === 1 ? '' : 's'} drawn`,
      };
    });
  });
}
