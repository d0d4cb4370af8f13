import type { Tensor } from 'onnxruntime-node';
import type { SessionHandle } from '../../sessions';
import type { Frame } from '../../vision/frame';
import { toCHW } from '../../vision/tensor';
import type { IoContract } from '../types';
import { rowsSpec, emptyCandidates, forEachAnchorAbove, type Candidates, type StrideGrid } from './common';
import { LetterboxDetector } from './letterbox-detector';

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
 * One stride's rows → candidates (canvas pixels). Two anchors per cell (forEachAnchorAbove);
 * box = anchor ∓ distance × stride; keypoint = anchor + offset × stride.
 */
export function decodeScrfdStride(scores: Float32Array, boxes: Float32Array, kps: Float32Array | undefined, grid: StrideGrid, threshold: number, into: Candidates = emptyCandidates()): Candidates {
  const { stride } = grid;
  forEachAnchorAbove(
    scores.length,
    grid,
    ANCHORS,
    threshold,
    (r) => scores[r],
    (r, score, ax, ay) => {
      into.scores.push(score);
      into.boxes.push(ax - boxes[r * 4] * stride, ay - boxes[r * 4 + 1] * stride, ax + boxes[r * 4 + 2] * stride, ay + boxes[r * 4 + 3] * stride);
      if (kps) for (let j = 0; j < 5; j++) into.points.push(ax + kps[r * 10 + j * 2] * stride, ay + kps[r * 10 + j * 2 + 1] * stride);
    },
  );
  return into;
}

export class ScrfdDetector extends LetterboxDetector {
  /** `size` is used when the model's input is dynamic (FaceFusion allows 160–640). */
  constructor(session: SessionHandle, modelId = 'scrfd_2.5g', size = 640) {
    super(session, modelId, {
      contract: SCRFD_CONTRACT.id,
      specs: [{ kind: 'input', index: 0, type: 'float32', shape: [1, 3, null, null] }, ...[1, 1, 1, 4, 4, 4, 10, 10, 10].map((width, i) => rowsSpec(session, i, width))],
      inputName: 'input.1',
      size,
    });
  }

  protected preprocess(canvas: Frame): Float32Array {
    return scrfdPreprocess(canvas);
  }

  protected decode(out: Record<string, Tensor>, threshold: number): Candidates {
    const c = emptyCandidates();
    SCRFD_STRIDES.forEach((stride, i) => decodeScrfdStride(this.output(out, i), this.output(out, i + 3), this.output(out, i + 6), { stride, size: this.size }, threshold, c));
    return c;
  }
}
