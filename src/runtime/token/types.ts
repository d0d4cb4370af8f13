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
  /** Set by the blur stage's temporal hold: not detected in this frame, masked because it was seen this many frames ago. */
  held?: number;
  /** Set by a stage that changes faces (swap, enhance): how face-like the box is, and whether it was treated as a face. */
  likeness?: FaceLikeness;
  /** Set by face recognize: who this face is in the face library (name null = nobody reached the threshold). */
  identity?: FaceIdentity;
}

/** The face-likeness check of faces/face-likeness.ts: its three measures and the verdict. */
export interface FaceLikeness {
  ok: boolean;
  /** Mean disagreement of the 68 points with those of the mirrored box, in eye distances (≤ 0.15 passes). */
  mirror: number;
  /** The detector's score for the box on a crop of 4× its size (≥ 0.9 passes). */
  context: number;
  /** Length of the raw identity embedding (≥ 2.2 passes). */
  identity: number;
  /** Why the box is not taken for a face. */
  reason?: string;
}

/** A face's place in a face library: the best person, their cosine similarity, and whether it reached the threshold. */
export interface FaceIdentity {
  name: string | null;
  similarity: number;
  known: boolean;
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
  blur_mode?: 'gaussian' | 'pixelate' | 'solid';
  /** box (default): the whole enlarged box is masked; ellipse: the ellipse inscribed in it. */
  blur_shape?: 'box' | 'ellipse';
  /** "Blur everyone except …": identity embeddings (face embed output) of people kept sharp. */
  blur_except_embeddings?: number[][];
  /** "Blur only …": identity embeddings of the only people blurred. */
  blur_only_embeddings?: number[][];
  /** The recognizer that made those embeddings (checked against the faces'). */
  blur_reference_model?: string;
  /** Cosine similarity at which a face is a reference person (default 0.5). */
  blur_match_threshold?: number;
  /** 0..1: how strong the privacy blur is. */
  blur_strength?: number;
  /** Fraction of the box size added around each face before blurring. */
  blur_margin?: number;
  /** Detection score threshold used when the operations include blur (default 0.45, lower than score_threshold: recall first). */
  blur_score_threshold?: number;
  /**
   * Swap and enhance act only on boxes that pass the face-likeness check (default true; the
   * blur does not check: recall first). false: every selected box, e.g. cartoon faces.
   */
  face_check?: boolean;
  /**
   * The scale pyramid of detection (faces/scan-plan.ts): auto (default) covers faces down to
   * detect_min_face; off scans the whole frame only; a number is the legacy tile size in pixels
   * (tiles at the detector's native scale: the min face that scale gives).
   */
  detect_tiling?: 'off' | 'auto' | number;
  /** The smallest face (px, ≈ the face box's width) the scan covers (default 20 for a privacy blur, 48 otherwise). */
  detect_min_face?: number;
  /** Video and live: seconds within which every part of the frame is scanned at every scale (default 0.2; 0 = the whole pyramid every frame). */
  detect_scan_interval?: number;
  /** Frames a face region of a video or live source stays blurred after its face was last detected (default 8 for tokens with a job_id, and at least two scan cycles; 0 = no tracking, every frame fully scanned). */
  blur_hold_frames?: number;
  /** How a held region moves: along the face's last velocity (default) or not at all. */
  blur_hold_motion?: 'constant_velocity' | 'static';
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
  /** What the stage counted, for summaries (detect: faces, tiles, min_face; blur: blurred, held, kept). */
  figures?: Record<string, number>;
  /** Faces (indices into `faces`) a stage selected but left unchanged, and why. */
  faces_skipped?: SkippedFace[];
}

export interface SkippedFace {
  face: number;
  /** `not_a_face`: failed the face-likeness check; `turned`: the pose guard (source and target turned too differently). */
  reason: 'not_a_face' | 'turned';
  detail?: string;
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
