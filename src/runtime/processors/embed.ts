import type { Face, FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { faceError } from '../errors';
import { embeddingToArray, landmarks5From68, roundPoint } from '../faces/landmarks';
import { analyseSource } from './source-face';

/**
 * 512-d identity embedding of every target face (aligned to the ArcFace 112 template), and of
 * the source image's largest face into `token.source.embedding` when there is a source.
 */
export async function embed(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('embed', token, ctx, options, async () => {
    if (token.faces.length === 0) throw faceError('E_NO_FACE', 'no face to embed: run detect first, or the image has no face', { stage: 'embed' });
    const frame = ctx.store.get(token.target.frame);
    const embedder = await ctx.embedder();
    const faces: Face[] = [];
    for (const face of token.faces) {
      let withPoints = face;
      if (!face.landmarks5) {
        const landmarker = await ctx.landmarker();
        const landmarks68 = (await landmarker.landmarks68(frame, face.bbox)).map(roundPoint);
        withPoints = { ...face, landmarks68, landmarks5: landmarks5From68(landmarks68).map(roundPoint) };
      }
      const vector = await embedder.embed(frame, withPoints.landmarks5!);
      faces.push({ ...withPoints, embedding: embeddingToArray(vector) });
    }
    const hasSource = token.source?.frame !== undefined || token.source?.embedding !== undefined;
    const source = hasSource ? await analyseSource(token, ctx, 'embed', true) : token.source;
    return {
      patch: { faces, ...(source ? { source } : {}) },
      note: `${faces.length} embedding${faces.length === 1 ? '' : 's'}${hasSource ? ' + source' : ''} · ${embedder.provider}`,
    };
  });
}
