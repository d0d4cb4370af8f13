import type { Face, FaceToken } from '../token/types';
import type { Frame } from '../vision/frame';
import type { ProcessorContext } from './context';
import { faceError } from '../errors';
import { boxArea } from '../faces/select';
import { embeddingToArray, landmarks5From68, roundPoint } from '../faces/landmarks';

/**
 * The identity to use: the largest face of the source frame with its 68/5 points and
 * embedding. Computed once and kept in `token.source`, so later stages reuse it.
 */
export async function analyseSource(token: FaceToken, ctx: ProcessorContext, stage: string, needEmbedding: boolean): Promise<NonNullable<FaceToken['source']>> {
  const source = token.source;
  if (!source?.frame) {
    // An embedding alone is enough for stages that only need the identity vector.
    if (source?.embedding && needEmbedding) return source;
    throw faceError('E_NO_SOURCE', `${stage} needs a source face: give the token a source image`, { stage });
  }
  const frame = ctx.store.get(source.frame);
  let face = source.face;
  if (!face?.landmarks68) face = await largestFace(frame, ctx, stage, 'source image');
  let embedding = source.embedding;
  if (needEmbedding && !embedding) {
    const embedder = await ctx.embedder();
    embedding = embeddingToArray(await embedder.embed(frame, face.landmarks5 ?? landmarks5From68(face.landmarks68!)));
  }
  return { ...source, face, ...(embedding ? { embedding } : {}) };
}

/** Detects the largest face of a frame and adds its landmarks. */
export async function largestFace(frame: Frame, ctx: ProcessorContext, stage: string, what: string): Promise<Face> {
  const detector = await ctx.detector();
  const found = await detector.detect(frame, { scoreThreshold: 0.5, maxFaces: 10 });
  if (found.length === 0) throw faceError('E_NO_FACE', `no face found in the ${what}`, { stage });
  const best = found.reduce((a, b) => (boxArea({ bbox: b.bbox, score: 0 }) > boxArea({ bbox: a.bbox, score: 0 }) ? b : a));
  const landmarker = await ctx.landmarker();
  const landmarks68 = (await landmarker.landmarks68(frame, best.bbox)).map(roundPoint);
  return { bbox: best.bbox, score: best.score, landmarks68, landmarks5: landmarks5From68(landmarks68).map(roundPoint) };
}
