import type { Face, FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { faceError } from '../errors';
import { embeddingToArray } from '../faces/landmarks';
import { analyseSource } from './source-face';
import { ensureLandmarks } from './face-points';
import { rgbView } from './yuv-pixels';

/**
 * Identity embedding (L2-normalised) of every target face, aligned by its 5 points, from the
 * model in face_recognizer_model (default: the embedded 512-d embedder); and of the source
 * image's largest face into `token.source.embedding` when there is a source. Each embedding
 * records its model: embeddings of different models cannot be compared.
 */
export async function embed(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('embed', token, ctx, options, async () => {
    if (token.faces.length === 0) throw faceError('E_NO_FACE', 'no face to embed: run detect first, or the image has no face', { stage: 'embed' });
    const embedder = await ctx.embedder(token.parameters.face_recognizer_model);
    const view = rgbView(ctx, token.target.frame, token.faces);
    const faces: Face[] = [];
    for (const face of token.faces) {
      const withPoints = await ensureLandmarks(face, view.frame, ctx, token.parameters);
      const { normed } = await embedder.embedPair(view.frame, withPoints.landmarks5!);
      faces.push({ ...withPoints, embedding: embeddingToArray(normed), embedding_model: embedder.modelId });
    }
    const hasSource = token.source?.frame !== undefined || token.source?.embedding !== undefined;
    const source = hasSource ? await analyseSource(token, ctx, 'embed', embedder) : token.source;
    return {
      patch: { faces, ...(source ? { source } : {}) },
      note: `${faces.length} embedding${faces.length === 1 ? '' : 's'}${hasSource ? ' + source' : ''} · ${embedder.modelId} · ${embedder.provider}`,
    };
  });
}
