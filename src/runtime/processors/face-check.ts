import type { Face, FaceToken, SkippedFace } from '../token/types';
import type { ProcessorContext } from './context';
import { measureFaceLikeness, type LikenessModels } from '../faces/face-likeness';

/**
 * Whether a stage that changes faces checks them first (token parameter `face_check`, default
 * on). Off: every selected box is changed — for cartoons, statues or masks, which are not faces
 * to the embedded models.
 */
export function faceCheckOn(token: FaceToken): boolean {
  return token.parameters.face_check !== false;
}

/**
 * The token's faces with the face-likeness verdict (faces/face-likeness.ts) on each of
 * `indices`: kept when a face has one already (measured by an earlier stage, or on the main
 * thread before a pixel worker got the token), reused from the source's recent frames (a video
 * job: ctx.likeness, by job_id and frame index), or measured now with the default detector,
 * landmarker and recognizer on the stored frame (RGB or YUV).
 */
export async function withLikeness(token: FaceToken, ctx: ProcessorContext, indices: readonly number[]): Promise<Face[]> {
  const faces = token.faces.slice();
  const key = token.job_id,
    index = token.target.index;
  const memory = key !== undefined && index !== undefined ? ctx.likeness : undefined;
  let models: LikenessModels | undefined;
  for (const i of indices) {
    const face = faces[i];
    if (face.likeness) continue;
    let verdict = memory?.recall(key!, index!, face.bbox, ctx.now());
    if (!verdict) {
      models ??= { detector: await ctx.detector(undefined), landmarker: await ctx.landmarker(undefined), recognizer: await ctx.embedder(undefined) };
      verdict = await measureFaceLikeness(ctx.store.pixels(token.target.frame), face.bbox, models);
      memory?.remember(key!, index!, face.bbox, verdict, ctx.now());
    }
    faces[i] = { ...face, likeness: verdict };
  }
  return faces;
}

/**
 * Splits the selected faces into those that pass the check and those skipped (`not_a_face`,
 * with the reason). With face_check off every selected face passes.
 */
export async function realFaces(token: FaceToken, ctx: ProcessorContext, indices: readonly number[]): Promise<{ faces: Face[]; keep: number[]; skipped: SkippedFace[] }> {
  if (!faceCheckOn(token)) return { faces: token.faces.slice(), keep: [...indices], skipped: [] };
  const faces = await withLikeness(token, ctx, indices);
  const keep: number[] = [],
    skipped: SkippedFace[] = [];
  for (const i of indices) {
    const l = faces[i].likeness!;
    if (l.ok) keep.push(i);
    else skipped.push({ face: i, reason: 'not_a_face', ...(l.reason ? { detail: l.reason } : {}) });
  }
  return { faces, keep, skipped };
}

/** "2 faces · 1 not a face, 1 turned" — the skipped part of a stage's note ('' when none). */
export function skippedNote(skipped: readonly SkippedFace[]): string {
  if (skipped.length === 0) return '';
  const notFace = skipped.filter((s) => s.reason === 'not_a_face').length;
  const turned = skipped.length - notFace;
  const parts = [notFace ? `${notFace} not a face` : '', turned ? `${turned} turned` : ''].filter(Boolean);
  return ` · skipped ${parts.join(', ')}`;
}
