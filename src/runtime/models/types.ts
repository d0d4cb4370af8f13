import type { Frame, Point, Box } from '../vision/frame';

/** `converter` maps an embedding of one recognizer into another swapper's identity space (crossface). */
export type ModelRole = 'detector' | 'landmarker' | 'embedder' | 'converter' | 'swapper' | 'enhancer' | 'masker';
export type TensorType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'uint8';

/** One input or output of a model. A dimension given as a string or null matches any size. */
export interface TensorSpec {
  name: string;
  type: TensorType;
  shape: Array<number | string | null>;
}

/** The ONNX input/output signature a model file must have to play a role. */
export interface IoContract {
  id: string;
  role: ModelRole;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /**
   * Intra-op threads for this model when the runtime's `threads` is 0 (ONNX Runtime's default):
   * for a model whose whole run is shorter than handing work to a second thread and back.
   */
  intraOpThreads?: number;
}

export interface DetectOptions {
  scoreThreshold: number;
  maxFaces: number;
  nmsIou?: number;
}

export interface DetectedFace {
  bbox: Box;
  score: number;
  landmarks5?: Point[];
}

/** A face detector bound to a loaded session. */
export interface FaceDetector {
  readonly modelId: string;
  readonly provider: string;
  /** The model's input in pixels (the whole frame is shrunk to fit it); tiled detection cuts tiles of this shape. */
  readonly inputSize?: { readonly width: number; readonly height: number };
  /**
   * The smallest face (√(w·h) of its box, input pixels) the model finds reliably; the scan plan
   * (faces/scan-plan.ts) builds its pyramid from it. Default 16.
   */
  readonly minFaceSize?: number;
  /**
   * The size `detect` first shrinks a frame of width × height to (its resize step). A caller that
   * holds the frame in another form (a video job's YUV frame) samples it straight to this size
   * and passes the small RGB frame; `detect` then finds the frame already at size, and the boxes
   * are scaled back. Without it the whole frame is converted.
   */
  sampleSize?(width: number, height: number): { width: number; height: number };
  detect(frame: Frame, options: DetectOptions): Promise<DetectedFace[]>;
}

export interface FaceLandmarker {
  readonly modelId: string;
  readonly provider: string;
  /** 68 points in image coordinates for the face in `bbox`. */
  landmarks68(frame: Frame, bbox: Box): Promise<Point[]>;
}

export interface FaceEmbedder {
  readonly modelId: string;
  readonly provider: string;
  /** L2-normalised identity embedding of the face whose 5 points are given. */
  embed(frame: Frame, landmarks5: Point[]): Promise<Float32Array>;
}
