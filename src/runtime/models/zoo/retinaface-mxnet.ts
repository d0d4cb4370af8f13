import type { Tensor } from 'onnxruntime-node';
import type { SessionHandle } from '../../sessions';
import type { Frame } from '../../vision/frame';
import { toCHW, type Normalisation } from '../../vision/tensor';
import type { IoContract } from '../types';
import { emptyCandidates, type Candidates } from './common';
import { LetterboxDetector } from './letterbox-detector';

/** Strides in the output order of the mxnet export, each with its two anchor sizes (base 16 × scales). */
export const RETINAFACE_MXNET_ANCHORS: ReadonlyArray<{ stride: number; sizes: readonly [number, number] }> = [
  { stride: 32, sizes: [16 * 32, 16 * 16] },
  { stride: 16, sizes: [16 * 8, 16 * 4] },
  { stride: 8, sizes: [16 * 2, 16 * 1] },
];

const A = 2;
/**
 * Landmark deltas are scaled by 0.2 before use (InsightFace's `landmark_std` for these
 * mobilenet files): with 1.0 the eyes of astronaut.png land ~5× too far from the centre.
 */
const LANDMARK_STD = 0.2;

/** The npm `retinaface@0.0.6` mobilenet-0.25 files (InsightFace's mxnet RetinaFace, converted). */
export const RETINAFACE_MXNET_CONTRACT: IoContract = {
  id: 'retinaface_mxnet',
  role: 'detector',
  inputs: [{ name: 'data', type: 'float32', shape: [1, 3, null, null] }],
  outputs: RETINAFACE_MXNET_ANCHORS.flatMap(({ stride: s }) => [
    { name: `face_rpn_cls_prob_reshape_stride${s}`, type: 'float32' as const, shape: [1, 4, null, null] },
    { name: `face_rpn_bbox_pred_stride${s}`, type: 'float32' as const, shape: [1, 8, null, null] },
    { name: `face_rpn_landmark_pred_stride${s}`, type: 'float32' as const, shape: [1, 20, null, null] },
  ]),
};

/**
 * Input normalisation, determined on astronaut.png and fr_two_people.jpg with the v2 file:
 * RGB, raw 0–255 — InsightFace's mxnet RetinaFace with pixel means 0 and stds 1. With
 * (x − 127.5)/128 no face is found; BGR drops messi5.jpg's small face from 0.995 to 0.73.
 */
export const RETINAFACE_MXNET_NORM: Omit<Normalisation, 'out'> = { mean: 0, std: 1 };

export function retinafaceMxnetPreprocess(canvas: Frame, norm: Omit<Normalisation, 'out'> = RETINAFACE_MXNET_NORM): Float32Array {
  return toCHW(canvas, norm);
}

/**
 * One stride's NCHW maps → candidates (canvas pixels). Anchor a of cell (x, y) is the square
 * of side `sizes[a]` centred at (x·stride + 7.5, y·stride + 7.5) (mxnet's base box [0,0,15,15]
 * with inclusive corners). Scores are channel A + a (the first A channels are background).
 * Deltas (channel a·4 + k): centre += d·(w, h), size ×= exp(d); landmarks (channel a·10 +
 * 2j + {0,1}): centre + 0.2·d·(w, h).
 */
export function decodeRetinafaceMxnetStride(
  cls: Float32Array,
  bbox: Float32Array,
  landmark: Float32Array,
  stride: number,
  sizes: readonly number[],
  height: number,
  width: number,
  threshold: number,
  into: Candidates = emptyCandidates(),
): Candidates {
  const plane = height * width;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      for (let a = 0; a < A; a++) {
        const score = cls[(A + a) * plane + p];
        if (!(score >= threshold)) continue;
        const side = sizes[a];
        // Inclusive-corner anchor of width `side`: x1 = c − (side − 1)/2, so w = side, ctr = c.
        const ctrX = x * stride + 7.5;
        const ctrY = y * stride + 7.5;
        const d = (k: number): number => bbox[(a * 4 + k) * plane + p];
        const cx = d(0) * side + ctrX;
        const cy = d(1) * side + ctrY;
        const w = Math.exp(d(2)) * side;
        const h = Math.exp(d(3)) * side;
        into.scores.push(score);
        into.boxes.push(cx - 0.5 * (w - 1), cy - 0.5 * (h - 1), cx + 0.5 * (w - 1), cy + 0.5 * (h - 1));
        for (let j = 0; j < 5; j++) {
          into.points.push(landmark[(a * 10 + j * 2) * plane + p] * LANDMARK_STD * side + ctrX, landmark[(a * 10 + j * 2 + 1) * plane + p] * LANDMARK_STD * side + ctrY);
        }
      }
    }
  }
  return into;
}

export class RetinafaceMxnetDetector extends LetterboxDetector {
  /** `size` is used when the input is dynamic; the v2 file is fixed at 640, v1 at 512. */
  constructor(session: SessionHandle, modelId = 'retinaface_mnet025_v2', size = 640) {
    super(session, modelId, {
      contract: RETINAFACE_MXNET_CONTRACT.id,
      specs: [
        { kind: 'input', index: 0, type: 'float32', shape: [1, 3, null, null] },
        ...[0, 1, 2].flatMap((s) => [4, 8, 20].map((channels, k) => ({ kind: 'output' as const, index: s * 3 + k, type: 'float32' as const, shape: [1, channels, null, null] }))),
      ],
      size,
    });
  }

  protected preprocess(canvas: Frame): Float32Array {
    return retinafaceMxnetPreprocess(canvas);
  }

  protected decode(out: Record<string, Tensor>, threshold: number): Candidates {
    const names = this.session.outputNames;
    const c = emptyCandidates();
    RETINAFACE_MXNET_ANCHORS.forEach(({ stride, sizes }, s) => {
      const [, , h, w] = out[names[s * 3]].dims;
      decodeRetinafaceMxnetStride(this.output(out, s * 3), this.output(out, s * 3 + 1), this.output(out, s * 3 + 2), stride, sizes, h, w, threshold, c);
    });
    return c;
  }
}
