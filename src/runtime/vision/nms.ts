import type { Box } from './frame';

export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression; returns kept indices by descending score. */
export function nms(boxes: ArrayLike<number> | Box[], scores: ArrayLike<number>, iouThreshold: number, maxOut = Infinity): number[] {
  const flat: ArrayLike<number> = Array.isArray(boxes) && Array.isArray(boxes[0]) ? (boxes as Box[]).flat() : (boxes as ArrayLike<number>);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const kept: number[] = [];
  const box = (i: number): number[] => [flat[i * 4], flat[i * 4 + 1], flat[i * 4 + 2], flat[i * 4 + 3]];
  for (const i of order) {
    if (kept.length >= maxOut) break;
    const bi = box(i);
    if (kept.every((k) => iou(bi, box(k)) <= iouThreshold)) kept.push(i);
  }
  return kept;
}
