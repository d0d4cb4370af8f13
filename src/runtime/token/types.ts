import type { Box, Point } from '../vision/frame';

export const TOKEN_VERSION = 1 as const;

/** Reference to a frame in the FrameStore: `frame:<id>`. */
export type FrameRef = `frame:${string}`;

export const STAGES = ['detect', 'landmark', 'embed', 'swap', 'enhance', 'blur', 'debug'] as const;
export type Stage = (typeof STAGES)[number];

export const TOKEN_STATES = ['initialized', 'running', 'done', 'skipped', 'failed', 'downgraded_for_performance', 'expired'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

export type FaceSelector = 'one' | 'many' | 'reference';
export type DeviceMode = 'auto' | 'cpu' | 'cuda';

export interface Face {
  bbox: Box;
  score: number;
  /** left eye, right eye, nose tip, left mouth corner, right mouth corner (image coordinates). */
  landmarks5?: Point[];
  landmarks68?: Point[];
  /** 512-d, L2-normalised. */
  embedding?: number[];
}

export interface Parameters {
  /** Working size of the face crop for swap/enhance, in pixels. */
  face_size?: number;
  /** 0 = keep target, 1 = full effect. */
  blend_ratio?: number;
  face_selector?: FaceSelector;
  /** Embedding to match when face_selector is `reference`. */
  reference_embedding?: number[];
  /** Cosine similarity a face needs to match the reference. */
  reference_distance?: number;
  score_threshold?: number;
  max_faces?: number;
  device_mode?: DeviceMode;
  blur_mode?: 'gaussian' | 'pixelate';
  /** 0..1: how strong the privacy blur is. */
  blur_strength?: number;
  /** Fraction of the box size added around each face before blurring. */
  blur_margin?: number;
  [extra: string]: unknown;
}

export interface JournalEntry {
  stage: string;
  /** ISO 8601 time the stage finished. */
  at: string;
  ms: number;
  outcome: 'ok' | 'skipped' | 'failed' | 'no_face';
  note?: string;
}

export interface TokenError {
  stage: string;
  code: string;
  message: string;
}

export interface FaceToken {
  readonly v: typeof TOKEN_VERSION;
  readonly request_id: string;
  readonly job_id?: string;
  readonly source?: { frame?: FrameRef; embedding?: number[]; face?: Face };
  readonly target: { frame: FrameRef; index?: number; pts?: number; width?: number; height?: number };
  readonly operations: Stage[];
  readonly parameters: Parameters;
  readonly faces: Face[];
  readonly state: TokenState;
  readonly journal: JournalEntry[];
  /** ISO 8601. */
  readonly created_at: string;
  /** ISO 8601; after this the token and its frames may be swept. */
  readonly expires_at: string;
  readonly error?: TokenError;
}
