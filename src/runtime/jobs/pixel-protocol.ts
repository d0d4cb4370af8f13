import type { FaceToken, Stage } from '../token/types';

/** A frame's pixels as they cross a worker boundary. */
export interface WireFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Main thread → pixel worker: run one stage on one token whose frames travel with it. */
export interface PixelRequest {
  id: number;
  stage: Stage;
  token: FaceToken;
  target: WireFrame;
  /** The token's source frame, when the stage reads it (swap). */
  source?: WireFrame;
}

/** Pixel worker → main thread: the stage's token (frame refs local to the worker) and the frame it made, if any. */
export type PixelResponse =
  | { id: number; ok: true; token: FaceToken; frame?: WireFrame }
  | { id: number; ok: false; code: string; message: string };

/** Stages whose processors only read and write frames (no model session): they can run in a worker. */
export const PIXEL_WORKER_STAGES: ReadonlySet<Stage> = new Set<Stage>(['swap', 'enhance', 'blur', 'debug']);
