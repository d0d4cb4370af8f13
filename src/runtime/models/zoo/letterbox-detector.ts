import type { Tensor } from 'onnxruntime-node';
import type { SessionHandle } from '../../sessions';
import type { Frame } from '../../vision/frame';
import type { DetectOptions, DetectedFace, FaceDetector } from '../types';
import { checkPositional, finishDetections, fixedInputSize, imageInputName, imageTensor, letterbox, letterboxSize, outputData, type Candidates, type PositionalSpec } from './common';

/** How a letterboxed detector finds its input and checks its file (LetterboxDetector's constructor). */
export interface LetterboxInput {
  /** The contract id named in E_MODEL_CONTRACT. */
  contract: string;
  /** Inputs and outputs checked by position (exports differ in their tensor names). */
  specs: PositionalSpec[];
  /** The image input's usual name (another rank-4 input is taken when absent); undefined: the first input. */
  inputName?: string;
  /** The square input size when the model's is dynamic. */
  size: number;
}

/**
 * The skeleton the FaceFusion-style detectors share: check the file by position, shrink the
 * frame onto the top-left of a size × size canvas (`letterbox`), normalise it, run the model,
 * decode its outputs into canvas-space candidates, then NMS and map back to the frame
 * (`finishDetections`). A detector gives only its normalisation (`preprocess`) and its output
 * decoding (`decode`).
 */
export abstract class LetterboxDetector implements FaceDetector {
  readonly inputSize: { readonly width: number; readonly height: number };
  protected readonly inputName: string;
  protected readonly size: number;

  protected constructor(
    protected readonly session: SessionHandle,
    readonly modelId: string,
    input: LetterboxInput,
  ) {
    checkPositional(session, input.contract, input.specs);
    this.inputName = input.inputName === undefined ? session.inputNames[0] : imageInputName(session, input.inputName);
    this.size = fixedInputSize(session, this.inputName, input.size);
    this.inputSize = { width: this.size, height: this.size };
  }

  get provider(): string {
    return this.session.provider;
  }

  sampleSize(width: number, height: number): { width: number; height: number } {
    return letterboxSize(width, height, this.size);
  }

  async detect(frame: Frame, options: DetectOptions): Promise<DetectedFace[]> {
    const box = letterbox(frame, this.size);
    const out = await this.session.run({ [this.inputName]: imageTensor(this.preprocess(box.canvas), this.size) });
    return finishDetections(this.decode(out, options.scoreThreshold), options, box.ratioX, box.ratioY, frame);
  }

  /** The letterboxed canvas as the model's NCHW float input. */
  protected abstract preprocess(canvas: Frame): Float32Array;

  /** The run's outputs → candidates in canvas pixels (scores at or above `threshold`). */
  protected abstract decode(out: Record<string, Tensor>, threshold: number): Candidates;

  /** Output number `index` (by position: names differ between exports) as float32 data. */
  protected output(out: Record<string, Tensor>, index: number): Float32Array {
    return outputData(out, this.session.outputNames[index], this.session.label);
  }
}
