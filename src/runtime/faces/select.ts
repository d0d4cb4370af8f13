import type { Face, Parameters } from '../token/types';
import { faceError } from '../errors';
import { cosineSimilarity } from './landmarks';
import { assertSameRecognizer } from './match';

export function boxArea(face: Face): number {
  return Math.max(0, face.bbox[2] - face.bbox[0]) * Math.max(0, face.bbox[3] - face.bbox[1]);
}

/**
 * Indices of the faces a stage should act on, by `face_selector`:
 * `one` = the largest, `many` = all, `reference` = faces whose embedding has cosine
 * similarity ≥ `reference_distance` to `reference_embedding` — made by the same recognizer:
 * when `reference_embedding_model` and a face's `embedding_model` are both known they must be
 * equal, and the vectors must be of the same length.
 */
export function selectFaces(faces: Face[], parameters: Parameters, stage: string): number[] {
  const selector = parameters.face_selector ?? 'many';
  if (faces.length === 0) return [];
  if (selector === 'one') {
    let best = 0;
    for (let i = 1; i < faces.length; i++) if (boxArea(faces[i]) > boxArea(faces[best])) best = i;
    return [best];
  }
  if (selector === 'reference') {
    const reference = parameters.reference_embedding;
    if (!reference || reference.length === 0) {
      throw faceError('E_BAD_PARAMETER', 'face_selector is "reference" but parameters.reference_embedding is not set', { stage });
    }
    const threshold = parameters.reference_distance ?? 0.4;
    const picked: number[] = [];
    faces.forEach((face, i) => {
      if (!face.embedding) {
        throw faceError('E_BAD_PARAMETER', `face_selector "reference" needs embeddings: put an embed stage before ${stage}`, { stage });
      }
      assertSameRecognizer(face.embedding_model, parameters.reference_embedding_model, `face ${i}`);
      if (face.embedding.length !== reference.length) {
        throw faceError('E_BAD_PARAMETER', `face ${i} has a ${face.embedding.length}-value embedding but reference_embedding has ${reference.length}: they come from different recognizers`, { stage });
      }
      if (cosineSimilarity(face.embedding, reference) >= threshold) picked.push(i);
    });
    return picked;
  }
  return faces.map((_, i) => i);
}
