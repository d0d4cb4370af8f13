import type { Box, Rect } from './frame';

/** Integer rectangle clipped to a width×height frame (may become empty); fractional edges grow outwards. */
export function clipRect(rect: Rect, width: number, height: number): Rect {
  const x1 = Math.min(width, Math.max(0, Math.floor(rect.x)));
  const y1 = Math.min(height, Math.max(0, Math.floor(rect.y)));
  const x2 = Math.min(width, Math.ceil(rect.x + rect.width));
  const y2 = Math.min(height, Math.ceil(rect.y + rect.height));
  return { x: x1, y: y1, width: Math.max(0, x2 - x1), height: Math.max(0, y2 - y1) };
}

/** [x1, y1, x2, y2] → {x, y, width, height} (not rounded, not clipped). */
export function boxToRect(box: Box): Rect {
  return { x: box[0], y: box[1], width: box[2] - box[0], height: box[3] - box[1] };
}

export function rectToBox(rect: Rect): Box {
  return [rect.x, rect.y, rect.x + rect.width, rect.y + rect.height];
}

/** Box grown by `margin` × its size on every side, as an integer rectangle clipped to the frame. */
export function expandBox(box: Box, margin: number, width: number, height: number): Rect {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  return clipRect({ x: box[0] - w * margin, y: box[1] - h * margin, width: w * (1 + 2 * margin), height: h * (1 + 2 * margin) }, width, height);
}

/** Overlap of two rectangles (empty rectangle at a's corner when they do not meet). */
export function intersectRect(a: Rect, b: Rect): Rect {
  const x1 = Math.max(a.x, b.x),
    y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width),
    y2 = Math.min(a.y + a.height, b.y + b.height);
  if (x2 <= x1 || y2 <= y1) return { x: a.x, y: a.y, width: 0, height: 0 };
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

export function rectArea(rect: Rect): number {
  return Math.max(0, rect.width) * Math.max(0, rect.height);
}
