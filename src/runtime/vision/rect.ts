import type { Box, Rect } from './frame';

/** Integer rectangle clipped to a width×height frame (may become empty). */
export function clipRect(rect: Rect, width: number, height: number): Rect {
  const x1 = Math.max(0, Math.floor(rect.x));
  const y1 = Math.max(0, Math.floor(rect.y));
  const x2 = Math.min(width, Math.ceil(rect.x + rect.width));
  const y2 = Math.min(height, Math.ceil(rect.y + rect.height));
  return { x: x1, y: y1, width: Math.max(0, x2 - x1), height: Math.max(0, y2 - y1) };
}

export function boxToRect(box: Box): Rect {
  return { x: box[0], y: box[1], width: box[2] - box[0], height: box[3] - box[1] };
}

/** Box grown by `margin` × its size on every side, as an integer rectangle clipped to the frame. */
export function expandBox(box: Box, margin: number, width: number, height: number): Rect {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  return clipRect({ x: box[0] - w * margin, y: box[1] - h * margin, width: w * (1 + 2 * margin), height: h * (1 + 2 * margin) }, width, height);
}

export function rectArea(rect: Rect): number {
  return rect.width * rect.height;
}
