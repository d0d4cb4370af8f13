import type { FaceToken, Stage } from '../token/types';
import { isYuv, type Pixels } from '../vision/yuv';

/** A frame's pixels as they cross a worker boundary. */
export interface WireFrame {
  width: number;
  height: number;
  data: Uint8Array;
  /** A video job's YUV 4:2:0 frame (vision/yuv.ts); RGB when absent. */
  format?: 'yuv420p';
  matrix?: 'bt601' | 'bt709';
}

/** Main thread → pixel worker: run one stage on one token whose frames travel with it. */
export interface PixelRequest {
  id: number;
  stage: Stage;
  token: FaceToken;
  target: WireFrame;
  /**
   * The token's source frame, when the stage reads it (swap). A job's source is the same picture
   * for every frame: it crosses once per worker, and later requests name it by `sourceKey` only.
   */
  source?: WireFrame;
  /** The main store's ref of the source frame: the worker keeps a source sent with a key (see MAX_CACHED_SOURCES). */
  sourceKey?: string;
}

/**
 * Source frames a worker keeps by key, oldest dropped first. Main thread and worker apply the
 * same rule to the same ordered requests, so the main thread knows which ones the worker has.
 */
export const MAX_CACHED_SOURCES = 4;

/** Pixel worker → main thread: the stage's token (frame refs local to the worker) and the frame it made, if any. */
export type PixelResponse = { id: number; ok: true; token: FaceToken; frame?: WireFrame } | { id: number; ok: false; code: string; message: string };

/** Stages whose processors only read and write frames (no model session): they can run in a worker. */
export const PIXEL_WORKER_STAGES: ReadonlySet<Stage> = new Set<Stage>(['swap', 'enhance', 'blur', 'debug']);

/** A frame as it crosses to a worker (structured clone copies the pixels). */
export function toWire(frame: Pixels): WireFrame {
  return isYuv(frame)
    ? { width: frame.width, height: frame.height, data: frame.data, format: 'yuv420p', ...(frame.matrix ? { matrix: frame.matrix } : {}) }
    : { width: frame.width, height: frame.height, data: frame.data };
}

/** A frame that crossed from a worker, as the store holds it. */
export function fromWire(wire: WireFrame): Pixels {
  return wire.format === 'yuv420p'
    ? { format: 'yuv420p', width: wire.width, height: wire.height, data: wire.data, ...(wire.matrix ? { matrix: wire.matrix } : {}) }
    : { width: wire.width, height: wire.height, channels: 3, data: wire.data };
}
