import type { SessionHandle } from '../../sessions';
import type { Frame } from '../../vision/frame';
import { toCHW } from '../../vision/tensor';
import type { DetectOptions, DetectedFace, FaceDetector, IoContract } from '../types';
import { checkPositional, rowsSpec, emptyCandidates, finishDetections, fixedInputSize, imageInputName, imageTensor, letterbox, letterboxSize, outputData, type Candidates } from './common';

export const SCRFD_STRIDES = [8, 16, 32] as const;
const ANCHORS = 2;

/**
 * SCRFD / InsightFace det_10g family (FaceFusion's scrfd_2.5g and retinaface_10g): 9 outputs
 * in the order scores s8,s16,s32, boxes s8..s32, keypoints s8..s32. Tensor names differ
 * between exports, so the class reads them by position; this contract names the ones of the
 * InsightFace export (`input.1`, score_8 …) at 640.
 */
export const SCRFD_CONTRACT: IoContract = {
  id: 'scrfd',
  role: 'detector',
  inputs: [{ name: 'input.1', type: 'float32', shape: [1, 3, null, null] }],
  outputs: [
    ...SCRFD_STRIDES.map((s) => ({ name: `score_${s}`, type: 'float32' as const, shape: [1, null, 1] as Array<number | null> })),
    ...SCRFD_STRIDES.map((s) => ({ name: `bbox_${s}`, type: 'float32' as const, shape: [1, null, 4] as Array<number | null> })),
    ...SCRFD_STRIDES.map((s) => ({ name: `kps_${s}`, type: 'float32' as const, shape: [1, null, 10] as Array<number | null> })),
  ],
};

/** SCRFD input: RGB, (x − 127.5) / 128, NCHW. */
export function scrfdPreprocess(canvas: Frame): Float32Array {
  return toCHW(canvas, { mean: 127.5, std: 128 });
}

/**
 * One stride's rows → candidates (canvas pixels). Row r is anchor r % 2 of cell r / 2, cells
 * row-major over a ceil(size/stride)² grid; the anchor centre is the cell's top-left × stride
 * (no half-cell offset). Box = centre ∓ distance × stride; keypoint = centre + offset × stride.
 */
export function decodeScrfdStride(scores: Float32Array, boxes: Float32Array, kps: Float32Array | undefined, stride: number, size: number, threshold: number, into: Candidates = emptyCandidates()): Candidates {
  const cols = Math.ceil(size / stride);
  for (let r = 0; r < scores.length; r++) {
    const score = scores[r];
    if (!(score >= threshold)) continue;
    const cell = Math.floor(r / ANCHORS);
    const ax = (cell % cols) * stride;
    const ay = Math.floor(cell / cols) * stride;
    into.scores.push(score);
    into.boxes.push(ax - boxes[r * 4] * stride, ay - boxes[r * 4 + 1] * stride, ax + boxes[r * 4 + 2] * stride, ay + boxes[r * 4 + 3] * stride);
    if (kps) for (let j = 0; j < 5; j++) into.points.push(ax + kps[r * 10 + j * 2] * stride, ay + kps[r * 10 + j * 2 + 1] * stride);
  }
  return into;
}

export class ScrfdDetector implements FaceDetector {
  readonly modelId: string;
  private readonly inputName: string;
  private readonly size: number;
  readonly inputSize: { readonly width: number; readonly height: number };

  /** `size` is used when the model's input is dynamic (FaceFusion allows 160–640). */
  constructor(private readonly session: SessionHandle, modelId = 'scrfd_2.5g', size = 640) {
    this.modelId = modelId;
    checkPositional(session, SCRFD_CONTRACT.id, [
      { kind: 'input', index: 0, type: 'float32', shape: [1, 3, null, null] },
      ...[1, 1, 1, 4, 4, 4, 10, 10, 10].map((width, i) => rowsSpec(session, i, width)),
    ]);
    this.inputName = imageInputName(session, 'input.1');
    this.size = fixedInputSize(session, this.inputName, size);
    this.inputSize = { width: this.size, height: this.size };
  }

  get provider(): string {
    return this.session.provider;
  }

  sampleSize(width: number, height: number): { width: number; height: number } {
    return letterboxSize(width, height, this.size);
  }

  async detect(frame: Frame, options: DetectOptions): Promise<DetectedFace[]> {
    const box = letterbox(frame, this.size);
    const out = await this.session.run({ [this.inputName]: imageTensor(scrfdPreprocess(box.canvas), this.size) });
    const names = this.session.outputNames;
    const c = emptyCandidates();
    SCRFD_STRIDES.forEach((stride, i) => {
      decodeScrfdStride(outputData(out, names[i], this.session.label), outputData(out, names[i + 3], this.session.label), outputData(out, names[i + 6], this.session.label), stride, this.size, options.scoreThreshold, c);
    });
    return finishDetections(c, options, box.ratioX, box.ratioY, frame);
  }
}
