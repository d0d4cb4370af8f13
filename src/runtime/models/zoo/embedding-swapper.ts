import type { SessionHandle } from '../../sessions';
import type { Affine, Frame, Point, Rect } from '../../vision/frame';
import { cloneFrame } from '../../vision/frame';
import { warpAffine } from '../../vision/affine';
import { toCHW, fromCHW } from '../../vision/tensor';
import { alignmentMatrix, type TemplateName } from '../../vision/templates';
import { boxMask } from '../../vision/mask';
import type { PixelTarget } from '../../vision/blend';
import { FaceError } from '../../errors';
import type { IoContract } from '../types';
import { checkPositional, floatOutput, floatTensorFor } from './common';
import { pasteBack } from './paste-back';
import { l2normalised } from './arcface';

/** How a swapper model wants its target crop and gives its result. Means/stds on the 0–255 scale, RGB order. */
export interface SwapperSpec {
  id: string;
  template: TemplateName;
  size: number;
  mean: number | [number, number, number];
  std: number | [number, number, number];
  /** unit: output in [0, 1]; signed: output in [−1, 1]. */
  output: 'unit' | 'signed';
  /** What `source` gets from the caller's raw embedding: emap (inswapper), normalised, or raw. */
  source: 'emap' | 'normalised' | 'raw';
}

export const INSWAPPER_128_SPEC: SwapperSpec = { id: 'inswapper_128', template: 'arcface_128', size: 128, mean: 0, std: 255, output: 'unit', source: 'emap' };
/**
 * simswap_256: FaceFusion passes the arcface embedding through its crossface_simswap
 * converter first; without it, give this swapper an already converted embedding (it is then
 * normalised here as FaceFusion does).
 */
export const SIMSWAP_256_SPEC: SwapperSpec = {
  id: 'simswap_256', template: 'arcface_112_v1', size: 256,
  mean: [0.485 * 255, 0.456 * 255, 0.406 * 255], std: [0.229 * 255, 0.224 * 255, 0.225 * 255],
  output: 'unit', source: 'normalised',
};
export const HYPERSWAP_256_SPEC: SwapperSpec = { id: 'hyperswap_256', template: 'arcface_128', size: 256, mean: 127.5, std: 127.5, output: 'signed', source: 'normalised' };

export function swapperContract(spec: SwapperSpec): IoContract {
  return {
    id: spec.id,
    role: 'swapper',
    inputs: [
      { name: 'target', type: 'float32', shape: [1, 3, spec.size, spec.size] },
      { name: 'source', type: 'float32', shape: [1, 512] },
    ],
    outputs: [],
  };
}

export interface SwapOptions {
  /** 0..1 (FaceFusion-style blend_ratio of the pasted face), default 1. */
  blend?: number;
  /** Box mask blur as a fraction of half the crop (FaceFusion default 0.3). */
  maskBlur?: number;
  /** Box mask padding in percent [top, right, bottom, left], default 0. */
  maskPadding?: [number, number, number, number];
}

/**
 * inswapper's source: raw embedding × emap ÷ ‖raw embedding‖ (a row vector times the 512×512
 * matrix, as FaceFusion does; InsightFace re-normalises afterwards — they differ by a scalar).
 */
export function emapSource(raw: Float32Array, emap: Float32Array): Float32Array {
  const n = raw.length;
  if (emap.length !== n * n) throw new FaceError('E_MODEL_CONTRACT', `emap has ${emap.length} values, expected ${n}×${n} for a ${n}-d embedding`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += raw[i] * raw[i];
  const norm = Math.sqrt(sum) || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = raw[i];
    if (e === 0) continue;
    for (let j = 0, row = i * n; j < n; j++) out[j] += e * emap[row + j];
  }
  const result = new Float32Array(n);
  for (let j = 0; j < n; j++) result[j] = out[j] / norm;
  return result;
}

/** Aligned target crop and the model's `target` tensor data. */
export function swapperTarget(frame: Frame, landmarks5: readonly Point[], spec: SwapperSpec): { crop: Frame; matrix: Affine; data: Float32Array } {
  const matrix = alignmentMatrix(landmarks5, spec.template, spec.size);
  const crop = warpAffine(frame, matrix, spec.size, spec.size, { border: 'replicate' });
  return { crop, matrix, data: toCHW(crop, { mean: spec.mean, std: spec.std }) };
}

/** Model output (1,3,size,size) → RGB crop, clipped to the output range. */
export function swapperOutputToCrop(data: Float32Array, spec: Pick<SwapperSpec, 'size' | 'output'>): Frame {
  return fromCHW(data, spec.size, spec.size, spec.output === 'unit' ? { mean: 0, std: 255 } : { mean: 127.5, std: 127.5 });
}

/**
 * A swapper fed (target crop, source identity vector). One model run per face; the result is
 * pasted back with FaceFusion's box mask (blur 0.3, padding 0) over the covered rectangle only.
 */
export class EmbeddingSwapper {
  readonly modelId: string;
  private readonly targetName: string;
  private readonly sourceName: string;
  private readonly outputName: string;

  constructor(protected readonly session: SessionHandle, readonly spec: SwapperSpec, modelId = spec.id, private readonly emap?: Float32Array) {
    this.modelId = modelId;
    if (spec.source === 'emap' && !emap) throw new FaceError('E_BAD_PARAMETER', `${spec.id} needs its emap matrix`);
    // FaceFusion's swappers name their inputs `target` and `source`; other exports are told apart by rank.
    const inputs = session.inputMetadata;
    const target = inputs.findIndex((m) => m.name === 'target') >= 0 ? inputs.findIndex((m) => m.name === 'target') : inputs.findIndex((m) => m.shape.length === 4);
    const source = inputs.findIndex((m) => m.name === 'source') >= 0 ? inputs.findIndex((m) => m.name === 'source') : inputs.findIndex((m) => m.shape.length === 2);
    if (target < 0 || source < 0) {
      throw new FaceError('E_MODEL_CONTRACT', `${session.label} does not fit the swapper contract ${spec.id}: it needs a target image input and a source vector input (model has: ${inputs.map((m) => `${m.name} [${m.shape.join(',')}]`).join(', ')})`);
    }
    checkPositional(session, spec.id, [
      { kind: 'input', index: target, shape: [1, 3, spec.size, spec.size] },
      { kind: 'input', index: source, shape: [1, 512] },
      { kind: 'output', index: 0, shape: [1, 3, spec.size, spec.size] },
    ]);
    this.targetName = inputs[target].name;
    this.sourceName = inputs[source].name;
    this.outputName = session.outputNames[0];
  }

  get provider(): string {
    return this.session.provider;
  }

  /** The vector this swapper's `source` input gets for a raw arcface embedding. */
  sourceVector(rawEmbedding: Float32Array): Float32Array {
    if (this.spec.source === 'emap') return emapSource(rawEmbedding, this.emap as Float32Array);
    return this.spec.source === 'normalised' ? l2normalised(rawEmbedding) : rawEmbedding;
  }

  /** Runs the model on one face; the swapped crop and the crop matrix (frame → crop). */
  async swapCrop(frame: Frame, landmarks5: readonly Point[], rawEmbedding: Float32Array): Promise<{ crop: Frame; matrix: Affine }> {
    const { matrix, data } = swapperTarget(frame, landmarks5, this.spec);
    const size = this.spec.size;
    const out = await this.session.run({
      [this.targetName]: floatTensorFor(this.session, this.targetName, data, [1, 3, size, size]),
      [this.sourceName]: floatTensorFor(this.session, this.sourceName, this.sourceVector(rawEmbedding), [1, rawEmbedding.length]),
    });
    return { crop: swapperOutputToCrop(floatOutput(out, this.outputName, this.session.label), this.spec), matrix };
  }

  /** Swaps the face at `landmarks5` of `frame`, writing into `out` (which may be a copy of frame). Returns the rectangle changed. */
  async swapInto(out: PixelTarget, frame: Frame, landmarks5: readonly Point[], rawEmbedding: Float32Array, options: SwapOptions = {}): Promise<Rect> {
    const { crop, matrix } = await this.swapCrop(frame, landmarks5, rawEmbedding);
    const mask = boxMask(this.spec.size, this.spec.size, options.maskBlur ?? 0.3, options.maskPadding ?? [0, 0, 0, 0]);
    return pasteBack(out, crop, matrix, mask, options.blend ?? 1);
  }

  async swap(frame: Frame, landmarks5: readonly Point[], rawEmbedding: Float32Array, options: SwapOptions = {}): Promise<Frame> {
    const out = cloneFrame(frame);
    await this.swapInto(out, frame, landmarks5, rawEmbedding, options);
    return out;
  }
}
