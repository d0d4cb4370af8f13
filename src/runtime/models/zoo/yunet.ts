import type { Tensor } from 'onnxruntime-node';
import type { SessionHandle } from '../../sessions';
import type { Frame } from '../../vision/frame';
import { toCHW } from '../../vision/tensor';
import type { IoContract } from '../types';
import { emptyCandidates, forEachAnchorAbove, rowsSpec, type Candidates, type StrideGrid } from './common';
import { LetterboxDetector } from './letterbox-detector';

export const YUNET_STRIDES = [8, 16, 32] as const;

/** YuNet 2023 (FaceFusion's yunet_2023_mar): 12 outputs cls, obj, bbox, kps × strides 8/16/32. */
export const YUNET_CONTRACT: IoContract = {
  id: 'yunet',
  role: 'detector',
  inputs: [{ name: 'input', type: 'float32', shape: [1, 3, null, null] }],
  outputs: (['cls', 'obj', 'bbox', 'kps'] as const).flatMap((kind) =>
    YUNET_STRIDES.map((s) => ({ name: `${kind}_${s}`, type: 'float32' as const, shape: [1, null, kind === 'bbox' ? 4 : kind === 'kps' ? 10 : 1] as Array<number | null> })),
  ),
};

/** YuNet input: BGR, raw 0–255. */
export function yunetPreprocess(canvas: Frame): Float32Array {
  return toCHW(canvas, { mean: 0, std: 1, bgr: true });
}

/**
 * One stride → candidates (canvas pixels). One anchor per cell (forEachAnchorAbove). cls and
 * obj come out of the network already through a sigmoid (measured on the shared yunet file:
 * both in 0..1), so score = cls × obj as FaceFusion does. Centre = pred × stride + anchor,
 * size = exp(pred) × stride, keypoints = pred × stride + anchor.
 */
export function decodeYunetStride(cls: Float32Array, obj: Float32Array, bbox: Float32Array, kps: Float32Array, grid: StrideGrid, threshold: number, into: Candidates = emptyCandidates()): Candidates {
  const { stride } = grid;
  forEachAnchorAbove(
    cls.length,
    grid,
    1,
    threshold,
    (r) => cls[r] * obj[r],
    (r, score, ax, ay) => {
      const cx = bbox[r * 4] * stride + ax;
      const cy = bbox[r * 4 + 1] * stride + ay;
      const w = Math.exp(bbox[r * 4 + 2]) * stride;
      const h = Math.exp(bbox[r * 4 + 3]) * stride;
      into.scores.push(score);
      into.boxes.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
      for (let j = 0; j < 5; j++) into.points.push(kps[r * 10 + j * 2] * stride + ax, kps[r * 10 + j * 2 + 1] * stride + ay);
    },
  );
  return into;
}

export class YunetDetector extends LetterboxDetector {
  constructor(session: SessionHandle, modelId = 'yunet_2023_mar', size = 640) {
    super(session, modelId, {
      contract: YUNET_CONTRACT.id,
      specs: [{ kind: 'input', index: 0, type: 'float32', shape: [1, 3, null, null] }, ...[1, 1, 1, 1, 1, 1, 4, 4, 4, 10, 10, 10].map((width, i) => rowsSpec(session, i, width))],
      inputName: 'input',
      size,
    });
  }

  protected preprocess(canvas: Frame): Float32Array {
    return yunetPreprocess(canvas);
  }

  protected decode(out: Record<string, Tensor>, threshold: number): Candidates {
    const get = (i: number): Float32Array => this.output(out, i);
    const c = emptyCandidates();
    YUNET_STRIDES.forEach((stride, i) => decodeYunetStride(get(i), get(i + 3), get(i + 6), get(i + 9), { stride, size: this.size }, threshold, c));
    return c;
  }
}
