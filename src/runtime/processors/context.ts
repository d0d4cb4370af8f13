import type { FrameStore } from '../store/frame-store';
import type { FaceToken } from '../token/types';
import type { FaceDetector, FaceEmbedder, FaceLandmarker } from '../models/types';

/** What a processor may use. The runtime owns all of it; processors own nothing. */
export interface ProcessorContext {
  readonly store: FrameStore;
  detector(): Promise<FaceDetector>;
  landmarker(): Promise<FaceLandmarker>;
  embedder(): Promise<FaceEmbedder>;
  /** Epoch ms. */
  now(): number;
}

export interface ProcessOptions {
  /** Run the stage even when it is not listed in token.operations (a wired node is explicit intent). */
  force?: boolean;
}

/** One stage: reads a token, returns a new one. Never throws for a per-token failure: returns a failed token. */
export type Processor = (token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions) => Promise<FaceToken>;
