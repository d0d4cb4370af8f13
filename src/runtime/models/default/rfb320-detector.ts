import { Tensor } from 'onnxruntime-node';
import type { SessionHandle } from '../../sessions';
import type { Frame, Box } from '../../vision/frame';
import { resizeBilinear } from '../../vision/resize';
import { toCHW } from '../../vision/tensor';
import { nms } from '../../vision/nms';
import type { DetectOptions, DetectedFace, FaceDetector } from '../types';

const INPUT_W = 320;
const INPUT_H = 240;
/** Spare input buffers kept (frames in flight rarely exceed this). */
const MAX_SPARE_INPUTS = 4;

/**
 * Ultra-light RFB-320 detector (faceplugin `fr_detect.onnx`): the whole image is resized to
 * 320×240 (no letterbox — the model was trained that way), RGB, (x − 127) / 128. Outputs are
 * already decoded: `scores` (N,2) softmax with the face class at 1, `boxes` (N,4) corners in
 * 0..1 of the input. No keypoints: the landmark stage derives the 5 points.
 */
export class Rfb320Detector implements FaceDetector {
  readonly modelId: string;
  readonly inputSize = { width: INPUT_W, height: INPUT_H } as const;
  /** Measured on the labelled faces pasted into a 320×240 input: 36/36 found from 14 px up, 31/36 at 12 (BENCHMARKS.md §15). */
  readonly minFaceSize = 16;
  /** Input tensors whose run has finished, for the next calls. */
  private readonly spare: Float32Array[] = [];

  constructor(
    private readonly session: SessionHandle,
    modelId = 'fr_detect',
  ) {
    this.modelId = modelId;
  }

  get provider(): string {
    return this.session.provider;
  }

  /** The whole frame is resized to 320×240, whatever its aspect. */
  sampleSize(): { width: number; height: number } {
    return { width: INPUT_W, height: INPUT_H };
  }

  async detect(frame: Frame, options: DetectOptions): Promise<DetectedFace[]> {
    const small = frame.width === INPUT_W && frame.height === INPUT_H ? frame : resizeBilinear(frame, INPUT_W, INPUT_H);
    // Input buffers are reused once their run is over (a 0.9 MB array per frame was most of a
    // video job's garbage); concurrent calls each take their own.
    const data = toCHW(small, { mean: 127, std: 128, out: this.spare.pop() ?? new Float32Array(3 * INPUT_W * INPUT_H) });
    const feeds = { input: new Tensor('float32', data, [1, 3, INPUT_H, INPUT_W]) };
    let out;
    try {
      out = await this.session.run(feeds);
    } finally {
      if (this.spare.length < MAX_SPARE_INPUTS) this.spare.push(data);
    }
    const scores = out.scores.data as Float32Array;
    const boxes = out.boxes.data as Float32Array;
    const count = scores.length / 2;

    const keptBoxes: number[] = [];
    const keptScores: number[] = [];
    for (let i = 0; i < count; i++) {
      const s = scores[i * 2 + 1];
      if (s < options.scoreThreshold) continue;
      const x1 = clamp(boxes[i * 4] * frame.width, 0, frame.width);
      const y1 = clamp(boxes[i * 4 + 1] * frame.height, 0, frame.height);
      const x2 = clamp(boxes[i * 4 + 2] * frame.width, 0, frame.width);
      const y2 = clamp(boxes[i * 4 + 3] * frame.height, 0, frame.height);
      if (x2 - x1 < 2 || y2 - y1 < 2) continue;
      keptBoxes.push(x1, y1, x2, y2);
      keptScores.push(s);
    }
    const keep = nms(keptBoxes, keptScores, options.nmsIou ?? 0.4, options.maxFaces);
    return keep.map((k) => ({
      bbox: [keptBoxes[k * 4], keptBoxes[k * 4 + 1], keptBoxes[k * 4 + 2], keptBoxes[k * 4 + 3]] as Box,
      score: keptScores[k],
    }));
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
