import type { Tensor } from 'onnxruntime-node';
import type { SessionHandle } from '../../sessions';
import type { Frame } from '../../vision/frame';
import { toCHW } from '../../vision/tensor';
import type { IoContract } from '../types';
import { emptyCandidates, type Candidates } from './common';
import { LetterboxDetector } from './letterbox-detector';

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
    const cx = at(0, k),
      cy = at(1, k),
      w = at(2, k),
      h = at(3, k);
    into.scores.push(score);
    into.boxes.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
    for (let j = 0; j < 5; j++) into.points.push(at(5 + j * 3, k), at(6 + j * 3, k));
  }
  return into;
}

export class YolofaceDetector extends LetterboxDetector {
  constructor(session: SessionHandle, modelId = 'yoloface_8n') {
    super(session, modelId, {
      contract: YOLOFACE_CONTRACT.id,
      specs: [
        { kind: 'input', index: 0, type: 'float32', shape: [1, 3, null, null] },
        { kind: 'output', index: 0, type: 'float32', shape: [1, FEATURES, null] },
      ],
      inputName: 'input',
      size: 640,
    });
  }

  protected preprocess(canvas: Frame): Float32Array {
    return yolofacePreprocess(canvas);
  }

  protected decode(out: Record<string, Tensor>, threshold: number): Candidates {
    return decodeYoloface(this.output(out, 0), threshold, out[this.session.outputNames[0]].dims[2] ?? ROWS);
  }
}
