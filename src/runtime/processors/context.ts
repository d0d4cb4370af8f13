import type { FrameStore } from '../store/frame-store';
import type { FaceToken } from '../token/types';
import type { FaceDetector } from '../models/types';
import type { EnhancerEngine, LandmarkerEngine, RecognizerEngine } from '../models/engines';
import type { SwapperEngine } from '../models/swapper-engine';
import type { IdentityCache } from './identity-cache';
import type { FaceMasker } from '../models/zoo';
import type { FaceStreamRegistry } from '../faces/face-stream';
import type { ScanPlanCache } from '../faces/scan-plan';
import type { Scratch } from '../vision/scratch';
import type { LikenessMemory } from '../faces/likeness-memory';

/** A model swapper with the recognizer whose embeddings it takes. */
export interface SwapperWithRecognizer {
  swapper: SwapperEngine;
  recognizer?: RecognizerEngine;
}

/**
 * What a processor may use. The runtime owns all of it; processors own nothing. A `model` is
 * a token parameter (manifest id or .onnx path); unset means the role's default model.
 */
export interface ProcessorContext {
  readonly store: FrameStore;
  /** Source faces already embedded, by frame and recognizer. */
  readonly identities: IdentityCache;
  detector(model?: string): Promise<FaceDetector>;
  /**
   * The detector for video frames when the runtime runs detection on a thread of its own
   * (RuntimeOptions.detectorThreads): same model and boxes, another session. Absent: detector().
   */
  videoDetector?(model?: string): Promise<FaceDetector>;
  landmarker(model?: string): Promise<LandmarkerEngine>;
  embedder(model?: string): Promise<RecognizerEngine>;
  swapper(model: string): Promise<SwapperWithRecognizer>;
  enhancer(model: string): Promise<EnhancerEngine>;
  /** occlusion: xseg-style masker (default xseg_1); region: face parser (default bisenet_resnet_34) keeping `regions`. */
  masker(kind: 'occlusion' | 'region', model?: string, regions?: readonly string[]): Promise<FaceMasker>;
  /** Face-likeness verdicts of a video's recent frames, reused for the same face (main thread only). */
  readonly likeness?: LikenessMemory;
  /** Per-source privacy state: rolling scan, face tracks, look-ahead (main thread only; pixel workers have none). */
  readonly streams?: FaceStreamRegistry;
  /** Scan plans by frame size and settings (a video's frames share one). */
  readonly plans?: ScanPlanCache;
  /** Epoch ms. */
  now(): number;
  /** Longest a stage's new frame waits for room in the store before E_STORE_FULL (default 10 s). */
  readonly storeWaitMs?: number;
  /** Most face area one pixel stage may work on, as a multiple of the frame's area (default 2). */
  readonly maxFaceAreaRatio?: number;
  /**
   * Work buffers reused across calls (one arena per runtime / pixel worker). Only for code that
   * borrows and gives back within one synchronous section (no await in between), e.g. the
   * embedded swap of one face. Absent: callers allocate fresh buffers.
   */
  readonly scratch?: Scratch;
}

export interface ProcessOptions {
  /** Run the stage even when it is not listed in token.operations (a wired node is explicit intent). */
  force?: boolean;
}

/** One stage: reads a token, returns a new one. Never throws for a per-token failure: returns a failed token. */
export type Processor = (token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions) => Promise<FaceToken>;
