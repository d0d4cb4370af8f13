import type { SessionHandle } from '../../sessions';
import type { Frame } from '../../vision/frame';
import { toCHW } from '../../vision/tensor';
import type { DetectOptions, DetectedFace, FaceDetector, IoContract } from '../types';
import { checkPositional, emptyCandidates, finishDetections, fixedInputSize, imageInputName, imageTensor, letterbox, letterboxSize, outputData, type Candidates } from './common';

const ROWS = 8400;
const FEATURES = 20;

/** FaceFusion's yoloface_8n (YOLOv8-face): one output (1, 20, 8400). Output name varies: read by position. */
export const YOLOFACE_CONTRACT: IoContract = {
  id: 'yoloface',
  role: 'detector',
  inputs: [{ name: 'input', type: 'float32', shape: [1, 3, 640, 640] }],
  outputs: [],
};

/** yoloface input: FaceFusion feeds its BGR frame as is, x / 255. */
export function yolofacePreprocess(canvas: Frame): Float32Array {
  return toCHW(canvas, { mean: 0, std: 255, bgr: true });
}

/**
 * (1, 20, anchors) feature-major output → candidates (canvas pixels): per anchor cx, cy, w, h,
 * score, then 5 × (x, y, visibility). Values are already in input pixels.
 */
export function decodeYoloface(output: Float32Array, threshold: number, anchors = output.length / FEATURES, into: Candidates = emptyCandidates()): Candidates {
  const at = (f: number, k: number): number => output[f * anchors + k];
  for (let k = 0; k < anchors; k++) {
    const score = at(4, k);
    if (!(score >= threshold)) continue;
    const cx = at(0, k), cy = at(1, k), w = at(2, k), h = at(3, k);
    into.scores.push(score);
    into.boxes.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
    for (let j = 0; j < 5; j++) into.points.push(at(5 + j * 3, k), at(6 + j * 3, k));
  }
  return into;
}

export class YolofaceDetector implements FaceDetector {
  readonly modelId: string;
  private readonly inputName: string;
  private readonly size: number;
  readonly inputSize: { readonly width: number; readonly height: number };

  constructor(private readonly session: SessionHandle, modelId = 'yoloface_8n') {
    this.modelId = modelId;
    checkPositional(session, YOLOFACE_CONTRACT.id, [
      { kind: 'input', index: 0, type: 'float32', shape: [1, 3, null, null] },
      { kind: 'output', index: 0, type: 'float32', shape: [1, FEATURES, null] },
    ]);
    this.inputName = imageInputName(session, 'input');
    this.size = fixedInputSize(session, this.inputName, 640);
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
    const out = await this.session.run({ [this.inputName]: imageTensor(yolofacePreprocess(box.canvas), this.size) });
    const name = this.session.outputNames[0];
    const data = outputData(out, name, this.session.label);
    const c = decodeYoloface(data, options.scoreThreshold, out[name].dims[2] ?? ROWS);
    return finishDetections(c, options, box.ratioX, box.ratioY, frame);
  }
}
