import type { Point } from '../vision/frame';

/** The 5 alignment points from 68 iBUG landmarks: eye centres (36–41, 42–47), nose tip (30), mouth corners (48, 54). */
export function landmarks5From68(points: Point[]): Point[] {
  return [meanOf(points, 36, 41), meanOf(points, 42, 47), points[30], points[48], points[54]];
}

function meanOf(points: Point[], from: number, to: number): Point {
  let x = 0;
  let y = 0;
  for (let i = from; i <= to; i++) {
    x += points[i][0];
    y += points[i][1];
  }
  const n = to - from + 1;
  return [x / n, y / n];
}

/** Cosine similarity of two vectors (equal to the dot product for L2-normalised embeddings). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** Plain array, rounded to 6 decimals: small in JSON, still exact enough for cosine. */
export function embeddingToArray(v: Float32Array): number[] {
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i] * 1e6) / 1e6;
  return out;
}

export function roundPoint(p: Point): Point {
  return [Math.round(p[0] * 100) / 100, Math.round(p[1] * 100) / 100];
}
