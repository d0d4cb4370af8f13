/** An RGB frame, row-major, 3 bytes per pixel. Frames in the store are never mutated. */
export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly channels: 3;
  readonly data: Uint8Array;
}

export type Point = [number, number];
/** Axis-aligned box in pixels: [x1, y1, x2, y2]. */
export type Box = [number, number, number, number];
/** Integer pixel rectangle, clipped to a frame. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}
/** 2×3 affine matrix, row-major: x' = m[0]x + m[1]y + m[2]; y' = m[3]x + m[4]y + m[5]. */
export type Affine = [number, number, number, number, number, number];

export function createFrame(width: number, height: number, data?: Uint8Array): Frame {
  const size = width * height * 3;
  if (data && data.length !== size) throw new RangeError(`frame data has ${data.length} bytes, expected ${size}`);
  return { width, height, channels: 3, data: data ?? new Uint8Array(size) };
}

export function frameBytes(width: number, height: number): number {
  return width * height * 3;
}

/** A copy whose pixels can be changed before it is stored. */
export function cloneFrame(frame: Frame): Frame {
  return { width: frame.width, height: frame.height, channels: 3, data: new Uint8Array(frame.data) };
}
