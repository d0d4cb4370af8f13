import type { SessionHandle } from '../../sessions';
import type { Affine, Box, Frame, Point } from '../../vision/frame';
import { applyAffine, invertAffine, warpAffine } from '../../vision/affine';
import { toCHW } from '../../vision/tensor';
import type { FaceLandmarker, IoContract } from '../types';
import { checkPositional, floatOutput, imageInputName, imageTensor } from './common';

export const FAN2D4_SIZE = 256;
const GRID = 64;

/** FaceFusion's 2dfan4: input (1,3,256,256); outputs landmarks (1,68,3) and heatmaps (1,68,64,64), names vary. */
export const FAN2D4_CONTRACT: IoContract = {
  id: '2dfan4',
  role: 'landmarker',
  inputs: [{ name: 'input', type: 'float32', shape: [1, 3, FAN2D4_SIZE, FAN2D4_SIZE] }],
  outputs: [],
};

/** Frame → 256 crop: scale 195 / longer box side, box centre at the crop centre (no rotation). */
export function fan2d4CropMatrix(bbox: Box): Affine {
  const scale = 195 / Math.max(bbox[2] - bbox[0], bbox[3] - bbox[1]);
  const tx = (FAN2D4_SIZE - (bbox[0] + bbox[2]) * scale) * 0.5;
  const ty = (FAN2D4_SIZE - (bbox[1] + bbox[3]) * scale) * 0.5;
  return [scale, 0, tx, 0, scale, ty];
}

/** The crop as the model takes it: BGR planes in [0, 1]. */
export function fan2d4Preprocess(frame: Frame, bbox: Box): { data: Float32Array; matrix: Affine } {
  const matrix = fan2d4CropMatrix(bbox);
  const crop = warpAffine(frame, matrix, FAN2D4_SIZE, FAN2D4_SIZE, { border: 'replicate' });
  return { data: toCHW(crop, { mean: 0, std: 255, bgr: true }), matrix };
}

export interface Landmarks68Result {
  points: Point[];
  /** Mean of the 68 heatmap maxima, mapped [0, 0.9] → [0, 1] and clamped. */
  confidence: number;
}

/**
 * Model outputs → frame points: (x, y) on the 64 grid × 4 into the crop, then through the
 * inverse crop matrix; confidence from the heatmap peaks (FaceFusion refines 5 points from
 * these 68 only when confidence > 0.5).
 */
export function decodeFan2d4(landmarks: Float32Array, heatmaps: Float32Array, matrix: Affine): Landmarks68Result {
  const toFrame = invertAffine(matrix);
  const scale = FAN2D4_SIZE / GRID;
  const crop: Point[] = [];
  for (let i = 0; i < 68; i++) crop.push([landmarks[i * 3] * scale, landmarks[i * 3 + 1] * scale]);
  const plane = heatmaps.length / 68;
  let sum = 0;
  for (let i = 0; i < 68; i++) {
    let max = -Infinity;
    for (let k = i * plane, end = k + plane; k < end; k++) if (heatmaps[k] > max) max = heatmaps[k];
    sum += max;
  }
  const mean = sum / 68;
  const confidence = mean <= 0 ? 0 : mean >= 0.9 ? 1 : mean / 0.9;
  return { points: applyAffine(toFrame, crop), confidence };
}

export class Fan2d4Landmarker implements FaceLandmarker {
  readonly modelId: string;
  private readonly inputName: string;
  private readonly landmarksName: string;
  private readonly heatmapsName: string;

  constructor(
    private readonly session: SessionHandle,
    modelId = '2dfan4',
  ) {
    this.modelId = modelId;
    // Outputs told apart by rank: landmarks (1,68,3), heatmaps (1,68,64,64).
    const lm = session.outputMetadata.findIndex((m) => m.shape.length === 3);
    const hm = session.outputMetadata.findIndex((m) => m.shape.length === 4);
    checkPositional(session, FAN2D4_CONTRACT.id, [
      { kind: 'input', index: 0, type: 'float32', shape: [1, 3, FAN2D4_SIZE, FAN2D4_SIZE] },
      { kind: 'output', index: lm < 0 ? 0 : lm, type: 'float32', shape: [1, 68, 3] },
      { kind: 'output', index: hm < 0 ? 1 : hm, type: 'float32', shape: [1, 68, GRID, GRID] },
    ]);
    this.inputName = imageInputName(session, 'input');
    this.landmarksName = session.outputNames[lm];
    this.heatmapsName = session.outputNames[hm];
  }

  get provider(): string {
    return this.session.provider;
  }

  async landmarks68(frame: Frame, bbox: Box): Promise<Point[]> {
    return (await this.landmarks68WithConfidence(frame, bbox)).points;
  }

  async landmarks68WithConfidence(frame: Frame, bbox: Box): Promise<Landmarks68Result> {
    const { data, matrix } = fan2d4Preprocess(frame, bbox);
    const out = await this.session.run({ [this.inputName]: imageTensor(data, FAN2D4_SIZE) });
    return decodeFan2d4(floatOutput(out, this.landmarksName, this.session.label), floatOutput(out, this.heatmapsName, this.session.label), matrix);
  }
}
