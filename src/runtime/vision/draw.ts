import type { Box, Frame, Point } from './frame';

export type Color = readonly [number, number, number];

function setPixel(frame: Frame, x: number, y: number, color: Color): void {
  if (x < 0 || y < 0 || x >= frame.width || y >= frame.height) return;
  const p = (y * frame.width + x) * 3;
  frame.data[p] = color[0];
  frame.data[p + 1] = color[1];
  frame.data[p + 2] = color[2];
}

function fillRect(frame: Frame, x1: number, y1: number, x2: number, y2: number, color: Color): void {
  const xa = Math.max(0, Math.round(x1)), xb = Math.min(frame.width, Math.round(x2));
  const ya = Math.max(0, Math.round(y1)), yb = Math.min(frame.height, Math.round(y2));
  for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) setPixel(frame, x, y, color);
}

/** Outline of a box, `thickness` pixels wide, drawn inside the box edges. */
export function drawRectInto(frame: Frame, box: Box, color: Color, thickness = 2): void {
  const [x1, y1, x2, y2] = box;
  fillRect(frame, x1, y1, x2, y1 + thickness, color);
  fillRect(frame, x1, y2 - thickness, x2, y2, color);
  fillRect(frame, x1, y1, x1 + thickness, y2, color);
  fillRect(frame, x2 - thickness, y1, x2, y2, color);
}

/** Filled disc. */
export function drawPointInto(frame: Frame, point: Point, radius: number, color: Color): void {
  const cx = Math.round(point[0]), cy = Math.round(point[1]);
  const r2 = radius * radius;
  for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) if (dx * dx + dy * dy <= r2) setPixel(frame, cx + dx, cy + dy, color);
}

export function drawLineInto(frame: Frame, a: Point, b: Point, color: Color, thickness = 1): void {
  const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1])));
  const r = Math.max(0, Math.floor(thickness / 2));
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    drawPointInto(frame, [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t], r, color);
  }
}

/**
 * 3×5 bitmap glyphs (rows top to bottom, 3 bits each, MSB = left) for the labels the debug
 * overlay writes: digits, '.', ':', '%', '-', '#' and a few letters. Unknown characters draw a box.
 */
const GLYPHS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 2, 2], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], ':': [0, 2, 0, 2, 0], '%': [5, 1, 2, 4, 5], '-': [0, 0, 7, 0, 0], '#': [5, 7, 5, 7, 5], ' ': [0, 0, 0, 0, 0],
  a: [0, 7, 5, 7, 5], b: [4, 7, 5, 5, 7], c: [0, 7, 4, 4, 7], d: [1, 7, 5, 5, 7], e: [7, 5, 7, 4, 7], f: [3, 4, 6, 4, 4],
  m: [0, 7, 7, 5, 5], s: [7, 4, 7, 1, 7], x: [0, 5, 2, 2, 5],
});

/** Text at (x, y) top-left; each glyph pixel is `scale`×`scale`. Returns the width drawn. */
export function drawTextInto(frame: Frame, x: number, y: number, text: string, color: Color, scale = 1): number {
  let cx = x;
  for (const ch of text) {
    const rows = GLYPHS[ch] ?? GLYPHS[ch.toLowerCase()] ?? [7, 5, 5, 5, 7];
    rows.forEach((bits, row) => {
      for (let col = 0; col < 3; col++) {
        if (bits & (4 >> col)) fillRect(frame, cx + col * scale, y + row * scale, cx + (col + 1) * scale, y + (row + 1) * scale, color);
      }
    });
    cx += 4 * scale;
  }
  return cx - x;
}
