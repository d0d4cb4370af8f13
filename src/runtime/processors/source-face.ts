import type { Face, FaceToken, Parameters } from '../token/types';
import type { Frame } from '../vision/frame';
import type { ProcessorContext } from './context';
import type { RecognizerEngine } from '../models/engines';
import { faceError } from '../errors';
import { boxArea } from '../faces/select';
import { embeddingToArray } from '../faces/landmarks';
import { withLandmarks } from './face-points';

type Source = NonNullable<FaceToken['source']>;

/**
 * The identity to use: the largest face of the source frame with its 68/5 points and, when
 * an `embedder` is given, its embedding by that model. Computed once and kept in
 * `token.source`, so later stages reuse it; an embedding by another model is recomputed
 * when the source picture is there (an embedding alone is used as it is).
 */
export async function analyseSource(token: FaceToken, ctx: ProcessorContext, stage: string, embedder?: RecognizerEngine): Promise<Source> {
  const source = token.source;
  if (!source?.frame) {
    // An embedding alone is enough for stages that only need the identity vector.
    if (source?.embedding && embedder !== undefined) return source;
    throw faceError('E_NO_SOURCE', `${stage} needs a source face: give the token a source image`, { stage });
  }
  if (embedder) {
    const known = ctx.identities.get(source.frame, embedder.modelId);
    if (known) return { ...source, ...known };
  }
  const frame = ctx.store.get(source.frame);
  let face = source.face;
  if (!face?.landmarks68) face = await largestFace(frame, ctx, token.parameters, stage, 'source image');
  if (embedder === undefined) return { ...source, face };
  if (source.embedding && source.embedding_model === embedder.modelId && source.embedding_norm !== undefined) {
    return { ...source, face };
  }
  const identity = { face, embedding_model: embedder.modelId, ...(await sourceEmbedding(embedder, frame, face)) };
  ctx.identities.set(source.frame, embedder.modelId, identity);
  return { ...source, ...identity };
}

/** The embedding fields of `token.source` for a face, by one recognizer. */
export async function sourceEmbedding(embedder: RecognizerEngine, frame: Frame, face: Face): Promise<{ embedding: number[]; embedding_norm: number }> {
  const { raw, normed } = await embedder.embedPair(frame, face.landmarks5!);
  let sum = 0;
  for (let i = 0; i < raw.length; i++) sum += raw[i] * raw[i];
  return { embedding: embeddingToArray(normed), embedding_norm: Math.sqrt(sum) || 1 };
}

/** Detects the largest face of a frame (with the token's detector) and adds its landmarks. */
export async function largestFace(frame: Frame, ctx: ProcessorContext, parameters: Parameters, stage: string, what: string): Promise<Face> {
  const detector = await ctx.detector(parameters.face_detector_model);
  const found = await detector.detect(frame, { scoreThreshold: 0.5, maxFaces: 10 });
  if (found.length === 0) throw faceError('E_NO_FACE', `no face found in the ${what}`, { stage });
  const best = found.reduce((a, b) => (boxArea({ bbox: b.bbox, score: 0 }) > boxArea({ bbox: a.bbox, score: 0 }) ? b : a));
  return withLandmarks({ bbox: best.bbox, score: best.score, ...(best.landmarks5 ? { landmarks5: best.landmarks5 } : {}) }, frame, ctx, parameters);
}
