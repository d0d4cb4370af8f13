import type { Face, Parameters } from '../token/types';
import { cosineSimilarity } from './landmarks';
import { assertSameRecognizer } from './match';
import { faceError } from '../errors';

/** Cosine similarity at which a face is the reference person, by default (as face-match's default). */
export const DEFAULT_BLUR_MATCH_THRESHOLD = 0.5;
/** A face smaller than this (shorter box side, pixels) is not compared: its embedding says too little. */
export const MIN_COMPARABLE_FACE_PX = 32;

/** Large enough for its embedding to say who it is (MIN_COMPARABLE_FACE_PX). */
export function isComparable(face: Face): boolean {
  return Math.min(face.bbox[2] - face.bbox[0], face.bbox[3] - face.bbox[1]) >= MIN_COMPARABLE_FACE_PX;
}

/**
 * Indices of the faces to blur under "blur everyone except …" (`blur_except_embeddings`) or
 * "blur only …" (`blur_only_embeddings`): a face matches when its embedding's cosine
 * similarity to any reference reaches `blur_match_threshold`. A face that cannot be compared
 * (a held region, no embedding, a box under MIN_COMPARABLE_FACE_PX) is blurred in both modes:
 * when in doubt, blur. The two lists exclude each other.
 */
export function privacySelection(faces: readonly Face[], parameters: Parameters): number[] {
  const except = parameters.blur_except_embeddings ?? [];
  const only = parameters.blur_only_embeddings ?? [];
  if (except.length && only.length) throw faceError('E_BAD_PARAMETER', 'blur_except_embeddings and blur_only_embeddings exclude each other: give one of them', { stage: 'blur' });
  const refs = only.length ? only : except;
  const threshold = parameters.blur_match_threshold ?? DEFAULT_BLUR_MATCH_THRESHOLD;
  const out: number[] = [];
  faces.forEach((face, i) => {
    const embedding = face.embedding;
    if (face.held !== undefined || !embedding || !isComparable(face)) {
      out.push(i);
      return;
    }
    assertSameRecognizer(face.embedding_model, parameters.blur_reference_model, `face ${i}`);
    const match = refs.some((r) => r.length === embedding.length && cosineSimilarity(embedding, r) >= threshold);
    if (match === only.length > 0) out.push(i);
  });
  return out;
}
