// The YUV frame type of issue 16. Placeholder until src/runtime/vision/yuv.ts lands on main
// (the lead reconciles: same type, same layout helper).

/** A planar YUV 4:2:0 frame (ffmpeg's yuv420p, limited range): Y plane w×h, then U and V planes cw×ch each, cw = ceil(w/2), ch = ceil(h/2). */
export interface YuvFrame {
  readonly format: 'yuv420p';
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  readonly matrix?: 'bt601' | 'bt709';
}

/** Where the planes of a width×height yuv420p frame lie in its data, and its size in bytes. */
export function yuvLayout(width: number, height: number): { ySize: number; cw: number; ch: number; uOffset: number; vOffset: number; bytes: number } {
  const ySize = width * height;
  const cw = Math.ceil(width / 2), ch = Math.ceil(height / 2);
  return { ySize, cw, ch, uOffset: ySize, vOffset: ySize + cw * ch, bytes: ySize + 2 * cw * ch };
}
