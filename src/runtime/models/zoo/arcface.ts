import type { SessionHandle } from '../../sessions';
import type { Frame, Point } from '../../vision/frame';
import { warpAffine } from '../../vision/affine';
import { toCHW } from '../../vision/tensor';
import { alignmentMatrix } from '../../vision/templates';
import type { FaceEmbedder, IoContract } from '../types';
import { checkPositional, floatOutput, imageInputName, imageTensor } from './common';

export const ARCFACE_SIZE = 112;

/** FaceFusion's arcface_w600k_r50 (InsightFace buffalo_l recognition): (1,3,112,112) → (1,512). */
export const ARCFACE_CONTRACT: IoContract = {
  id: 'arcface_w600k_r50',
  role: 'embedder',
  inputs: [{ name: 'input', type: 'float32', shape: [1, 3, ARCFACE_SIZE, ARCFACE_SIZE] }],
  outputs: [],
};

/** Aligned crop (arcface_112_v2 @112) as the model takes it: RGB, x / 127.5 − 1. */
export function arcfacePreprocess(frame: Frame, landmarks5: readonly Point[]): Float32Array {
  const matrix = alignmentMatrix(landmarks5, 'arcface_112_v2', ARCFACE_SIZE);
  const crop = warpAffine(frame, matrix, ARCFACE_SIZE, ARCFACE_SIZE, { border: 'replicate' });
  return toCHW(crop, { mean: 127.5, std: 127.5 });
}

export interface EmbeddingPair {
  /** As the model gave it: inswapper's source is built from this one. */
  raw: Float32Array;
  /** L2-normalised, for cosine similarity. */
  normed: Float32Array;
}

export function l2normalised(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const norm = Math.sqrt(sum) || 1;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / norm;
  return out;
}

export class ArcfaceEmbedder implements FaceEmbedder {
  readonly modelId: string;
  private readonly inputName: string;
  private readonly outputName: string;

  constructor(
    private readonly session: SessionHandle,
    modelId = 'arcface_w600k_r50',
  ) {
    this.modelId = modelId;
    checkPositional(session, ARCFACE_CONTRACT.id, [
      { kind: 'input', index: 0, type: 'float32', shape: [null, 3, ARCFACE_SIZE, ARCFACE_SIZE] },
      { kind: 'output', index: 0, type: 'float32', shape: [null, 512] },
    ]);
    this.inputName = imageInputName(session, 'input');
    this.outputName = session.outputNames[0];
  }

  get provider(): string {
    return this.session.provider;
  }

  async embed(frame: Frame, landmarks5: Point[]): Promise<Float32Array> {
    return (await this.embedPair(frame, landmarks5)).normed;
  }

  async embedPair(frame: Frame, landmarks5: readonly Point[]): Promise<EmbeddingPair> {
    const out = await this.session.run({ [this.inputName]: imageTensor(arcfacePreprocess(frame, landmarks5), ARCFACE_SIZE) });
    const raw = Float32Array.from(floatOutput(out, this.outputName, this.session.label));
    return { raw, normed: l2normalised(raw) };
  }
}
