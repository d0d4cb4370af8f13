import type { Face } from '../token/types';
import type { Box } from '../vision/frame';
import { FaceError } from '../errors';
import { cosineSimilarity } from './landmarks';

/** An identity vector and, when known, the recognizer model that made it (as faces and token sources record it). */
export interface Identity {
  embedding: ArrayLike<number>;
  embedding_model?: string;
}

export interface FaceMatch {
  /** The face's place in the token's `faces`. */
  index: number;
  /** Which face that is: its box [x1, y1, x2, y2] in pixels. */
  bbox: Box;
  /** Cosine similarity to the reference, rounded to 4 decimals. */
  similarity: number;
  matched: boolean;
}

/**
 * Refuses to compare vectors of two different recognizers (their similarity means nothing).
 * When either side does not say which model made it (older tokens, a bare array), it passes.
 */
export function assertSameRecognizer(model: string | undefined, referenceModel: string | undefined, what: string): void {
  if (model && referenceModel && model !== referenceModel) {
    throw new FaceError(
      'E_BAD_PARAMETER',
      `${what} was embedded by ${model}, the reference by ${referenceModel}: embeddings of different recognizers cannot be compared; embed both with the same face_recognizer_model`,
      {
        details: { embedding_model: model, reference_model: referenceModel },
      },
    );
  }
}

/** Cosine similarity of every face's embedding to the reference (same recognizer, same length, else E_BAD_PARAMETER); matched at ≥ threshold. */
export function matchFaces(faces: readonly Face[], reference: Identity, threshold: number): FaceMatch[] {
  if (faces.some((f) => !f.embedding)) throw new FaceError('E_BAD_PARAMETER', 'faces have no embeddings: put a face-embed node before face-match');
  return faces.map((face, index) => {
    assertSameRecognizer(face.embedding_model, reference.embedding_model, `face ${index}`);
    if (face.embedding!.length !== reference.embedding.length) {
      throw new FaceError(
        'E_BAD_PARAMETER',
        `face ${index} has a ${face.embedding!.length}-value embedding but the reference has ${reference.embedding.length}: vectors of different lengths come from different recognizers and cannot be compared`,
        {
          details: { face_length: face.embedding!.length, reference_length: reference.embedding.length },
        },
      );
    }
    const similarity = Math.round(cosineSimilarity(face.embedding as number[], reference.embedding) * 1e4) / 1e4;
    return { index, bbox: [...face.bbox] as Box, similarity, matched: similarity >= threshold };
  });
}
