import type { SessionHandle } from '../../sessions';
import type { Frame, Point, Rect, Affine } from '../../vision/frame';
import { cloneFrame } from '../../vision/frame';
import { warpAffine } from '../../vision/affine';
import { toCHW, fromCHW } from '../../vision/tensor';
import { alignmentMatrix, type TemplateName } from '../../vision/templates';
import { boxMask } from '../../vision/mask';
import type { PixelTarget } from '../../vision/blend';
import type { IoContract, TensorType } from '../types';
import { checkPositional, floatOutput, floatTensorFor, imageInputName, fixedInputSize } from './common';
import { pasteBack } from './paste-back';

/** gfpgan_1.x / restoreformer / gpen_bfr_512: input (1,3,512,512) RGB [−1,1] → same. */
export const GFPGAN_CONTRACT: IoContract = {
  id: 'gfpgan',
  role: 'enhancer',
  inputs: [{ name: 'input', type: 'float32', shape: [1, 3, 512, 512] }],
  outputs: [],
};
/** codeformer: as gfpgan plus a one-element `weight` input; its dtype (float32/float64) is read from the session, so it is not pinned here. */
export const CODEFORMER_CONTRACT: IoContract = { ...GFPGAN_CONTRACT, id: 'codeformer' };

export interface EnhanceOptions {
  /** 0..1, default 0.8 (FaceFusion's blend 80). */
  blend?: number;
  /** codeformer fidelity weight, default 0.5; ignored by models without a `weight` input. */
  weight?: number;
  maskBlur?: number;
  maskPadding?: [number, number, number, number];
}

/** Aligned crop and the model's input: RGB, x / 127.5 − 1. */
export function enhancerInput(frame: Frame, landmarks5: readonly Point[], template: TemplateName, size: number): { matrix: Affine; data: Float32Array } {
  const matrix = alignmentMatrix(landmarks5, template, size);
  const crop = warpAffine(frame, matrix, size, size, { border: 'replicate' });
  return { matrix, data: toCHW(crop, { mean: 127.5, std: 127.5 }) };
}

/** Output in [−1, 1] → RGB crop (clipped). */
export function enhancerOutputToCrop(data: Float32Array, size: number): Frame {
  return fromCHW(data, size, size, { mean: 127.5, std: 127.5 });
}

/**
 * Generic face restorer (gfpgan, codeformer, restoreformer, gpen): ffhq_512 template at the
 * model's size, box mask, paste-back, blended 80 % by default.
 */
export class GfpganEnhancer {
  readonly modelId: string;
  readonly size: number;
  /** dtype of the `weight` input, or undefined when the model has none. */
  readonly weightType?: TensorType;
  private readonly inputName: string;
  private readonly outputName: string;
  private readonly weightShape: number[] = [];

  constructor(
    private readonly session: SessionHandle,
    modelId = 'gfpgan_1.4',
    private readonly template: TemplateName = 'ffhq_512',
  ) {
    this.modelId = modelId;
    this.inputName = imageInputName(session, 'input');
    this.size = fixedInputSize(session, this.inputName, 512);
    checkPositional(session, modelId, [
      { kind: 'input', index: session.inputNames.indexOf(this.inputName), shape: [1, 3, this.size, this.size] },
      { kind: 'output', index: 0, shape: [1, 3, this.size, this.size] },
    ]);
    const weight = session.inputMetadata.find((m) => m.name === 'weight');
    if (weight) {
      this.weightType = weight.type;
      checkPositional(session, modelId, [{ kind: 'input', index: session.inputMetadata.indexOf(weight), shape: weight.shape.map(() => 1) }]);
      this.weightShape = weight.shape.map(() => 1);
    }
    this.outputName = session.outputNames[0];
  }

  get provider(): string {
    return this.session.provider;
  }

  async enhanceCrop(frame: Frame, landmarks5: readonly Point[], options: EnhanceOptions = {}): Promise<{ crop: Frame; matrix: Affine }> {
    const { matrix, data } = enhancerInput(frame, landmarks5, this.template, this.size);
    const feeds = { [this.inputName]: floatTensorFor(this.session, this.inputName, data, [1, 3, this.size, this.size]) };
    if (this.weightType) feeds.weight = floatTensorFor(this.session, 'weight', [options.weight ?? 0.5], this.weightShape);
    const out = await this.session.run(feeds);
    return { crop: enhancerOutputToCrop(floatOutput(out, this.outputName, this.session.label), this.size), matrix };
  }

  async enhanceInto(out: PixelTarget, frame: Frame, landmarks5: readonly Point[], options: EnhanceOptions = {}): Promise<Rect> {
    const { crop, matrix } = await this.enhanceCrop(frame, landmarks5, options);
    const mask = boxMask(this.size, this.size, options.maskBlur ?? 0.3, options.maskPadding ?? [0, 0, 0, 0]);
    return pasteBack(out, crop, matrix, mask, options.blend ?? 0.8);
  }

  async enhance(frame: Frame, landmarks5: readonly Point[], options: EnhanceOptions = {}): Promise<Frame> {
    const out = cloneFrame(frame);
    await this.enhanceInto(out, frame, landmarks5, options);
    return out;
  }
}
