import { Tensor } from 'onnxruntime-node';
import type { SessionHandle } from '../../sessions';
import type { Affine, Point } from '../../vision/frame';
import { applyAffine, invertAffine } from '../../vision/affine';
import { alignmentMatrix } from '../../vision/templates';
import type { IoContract } from '../types';
import { checkPositional, floatOutput } from './common';

/** FaceFusion's fan_68_5: 5 normalised points (1,5,2) → 68 points (68,2 or 1,68,2). */
export const FAN68FROM5_CONTRACT: IoContract = {
  id: 'fan_68_5',
  role: 'landmarker',
  inputs: [{ name: 'input', type: 'float32', shape: [1, 5, 2] }],
  outputs: [],
};

/** 5 points → the model's input: a similarity to the unit ffhq_512 template, applied to the points. */
export function fan68from5Preprocess(landmarks5: readonly Point[]): { data: Float32Array; matrix: Affine } {
  const matrix = alignmentMatrix(landmarks5, 'ffhq_512', 1);
  const data = new Float32Array(10);
  applyAffine(matrix, landmarks5).forEach(([x, y], i) => {
    data[i * 2] = x;
    data[i * 2 + 1] = y;
  });
  return { data, matrix };
}

/** 68 normalised points → frame points through the inverse similarity. */
export function decodeFan68from5(output: Float32Array, matrix: Affine): Point[] {
  const pts: Point[] = [];
  for (let i = 0; i < 68; i++) pts.push([output[i * 2], output[i * 2 + 1]]);
  return applyAffine(invertAffine(matrix), pts);
}

/** Turns a detector's 5 points into 68 without looking at the image. */
export class Fan68From5 {
  readonly modelId: string;
  private readonly inputName: string;
  private readonly outputName: string;

  constructor(
    private readonly session: SessionHandle,
    modelId = 'fan_68_5',
  ) {
    this.modelId = modelId;
    const rank = session.outputMetadata[0]?.shape.length;
    checkPositional(session, FAN68FROM5_CONTRACT.id, [
      { kind: 'input', index: 0, type: 'float32', shape: [1, 5, 2] },
      { kind: 'output', index: 0, type: 'float32', shape: rank === 3 ? [1, 68, 2] : [68, 2] },
    ]);
    this.inputName = session.inputNames[0];
    this.outputName = session.outputNames[0];
  }

  get provider(): string {
    return this.session.provider;
  }

  async landmarks68From5(landmarks5: readonly Point[]): Promise<Point[]> {
    const { data, matrix } = fan68from5Preprocess(landmarks5);
    const out = await this.session.run({ [this.inputName]: new Tensor('float32', data, [1, 5, 2]) });
    return decodeFan68from5(floatOutput(out, this.outputName, this.session.label), matrix);
  }
}
