import type { Box } from './frame';

/** Intersection over union of two [x1, y1, x2, y2] boxes (0 when either is empty). */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (!(w > 0 && h > 0)) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression: walk boxes by descending score, keep one unless it overlaps
 * an already kept box by more than `iouThreshold`. Returns kept indices, best first. Boxes are
 * either a flat [x1, y1, x2, y2, …] array (an ONNX output as is) or Box[]. Scores that are
 * NaN are never kept.
 */
export function nms(boxes: ArrayLike<number> | readonly Box[], scores: ArrayLike<number>, iouThreshold: number, maxOut = Infinity): number[] {
  const n = scores.length;
  const coords = new Float64Array(n * 4);
  if (isBoxList(boxes)) {
    if (boxes.length < n) throw new RangeError(`nms: ${boxes.length} boxes for ${n} scores`);
    for (let i = 0; i < n; i++) for (let k = 0; k < 4; k++) coords[i * 4 + k] = boxes[i][k];
  } else {
    if (boxes.length < n * 4) throw new RangeError(`nms: ${boxes.length / 4} boxes for ${n} scores`);
    for (let i = 0; i < n * 4; i++) coords[i] = boxes[i];
  }
  const area = new Float64Array(n);
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    area[i] = Math.max(0, coords[i * 4 + 2] - coords[i * 4]) * Math.max(0, coords[i * 4 + 3] - coords[i * 4 + 1]);
    if (!Number.isNaN(scores[i])) order.push(i);
  }
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= maxOut) break;
    const x1 = coords[i * 4],
      y1 = coords[i * 4 + 1],
      x2 = coords[i * 4 + 2],
      y2 = coords[i * 4 + 3];
    let keep = true;
    for (const k of kept) {
      const w = Math.min(x2, coords[k * 4 + 2]) - Math.max(x1, coords[k * 4]);
      const h = Math.min(y2, coords[k * 4 + 3]) - Math.max(y1, coords[k * 4 + 1]);
      if (!(w > 0 && h > 0)) continue;
      const inter = w * h;
      const union = area[i] + area[k] - inter;
      if (union > 0 && inter / union > iouThreshold) {
        keep = false;
        break;
      }
    }
    if (keep) kept.push(i);
  }
  return kept;
}

function isBoxList(boxes: ArrayLike<number> | readonly Box[]): boxes is readonly Box[] {
  return Array.isArray(boxes) && boxes.length > 0 && Array.isArray(boxes[0]);
}
