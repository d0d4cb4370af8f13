import type { FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { cloneFrame } from '../vision/frame';
import { drawPointInto, drawRectInto, drawTextInto } from '../vision/draw';
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
        drawTextInto(frame, Math.round(face.bbox[0]), Math.max(0, Math.round(face.bbox[1]) - 9 * unit), `${i} ${face.score.toFixed(2)}`, BOX, unit);
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
