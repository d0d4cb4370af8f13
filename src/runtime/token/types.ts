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
export type FaceMaskType = 'box' | 'occlusion' | 'region';
/** FaceFusion's face parser regions (bisenet classes). */
export const FACE_MASK_REGIONS = ['skin', 'left-eyebrow', 'right-eyebrow', 'left-eye', 'right-eye', 'glasses', 'nose', 'mouth', 'upper-lip', 'lower-lip'] as const;
export type FaceMaskRegion = (typeof FACE_MASK_REGIONS)[number];

export interface Face {
  bbox: Box;
  score: number;
  /** left eye, right eye, nose tip, left mouth corner, right mouth corner (image coordinates). */
  landmarks5?: Point[];
  landmarks68?: Point[];
  /** 512-d, L2-normalised. */
  embedding?: number[];
  /** Model that made `embedding` (embeddings of different models cannot be compared). */
  embedding_model?: string;
}

export interface Parameters {
  /** Working size of the face crop for swap/enhance, in pixels. */
  face_size?: number;
  /** 0 = keep target, 1 = full effect. */
  blend_ratio?: number;
  face_selector?: FaceSelector;
  /** Embedding to match when face_selector is `reference`. */
  reference_embedding?: number[];
  /** The recognizer that made reference_embedding (a face's `embedding_model`); checked against the faces' when set. */
  reference_embedding_model?: string;
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
  /**
   * Models, FaceFusion-style: a manifest id (e.g. `scrfd_2.5g`, `inswapper_128`) or a path to
   * an .onnx file. Unset = the embedded default (`embedded` says so explicitly for swap/enhance).
   */
  face_detector_model?: string;
  face_landmarker_model?: string;
  face_recognizer_model?: string;
  face_swapper_model?: string;
  /** Swapper crop size: the model size or a multiple of it (tiled, FaceFusion's pixel boost). */
  face_swapper_pixel_boost?: number;
  /** 0..1, FaceFusion's face_swapper_weight (0.5 = the source identity as it is). */
  face_swapper_weight?: number;
  face_enhancer_model?: string;
  /** 0..1; unset = blend_ratio. */
  face_enhancer_blend?: number;
  /** 0..1, codeformer fidelity. */
  face_enhancer_weight?: number;
  /** Masks of the model swap, combined by minimum: box always; occlusion (xseg); region (bisenet). */
  face_mask_types?: FaceMaskType[];
  face_mask_regions?: FaceMaskRegion[];
  /** 0..1 blur of the box mask (FaceFusion 0.3). */
  face_mask_blur?: number;
  /** Box mask padding in percent: top, right, bottom, left. */
  face_mask_padding?: [number, number, number, number];
  face_occluder_model?: string;
  face_parser_model?: string;
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
  readonly source?: {
    frame?: FrameRef;
    /** L2-normalised identity of the source face. */
    embedding?: number[];
    /** Model that made `embedding`. */
    embedding_model?: string;
    /** Length of the raw embedding (raw = embedding × norm), which some swappers take. */
    embedding_norm?: number;
    face?: Face;
  };
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
