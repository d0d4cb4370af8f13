import type { SessionHandle } from '../../sessions';
import type { Frame } from '../../vision/frame';
import { resizeBilinear } from '../../vision/resize';
import { toCHW } from '../../vision/tensor';
import { resizePlaneBilinear, smoothSegmentationMask } from '../../vision/mask-smooth';
import { FaceError } from '../../errors';
import type { IoContract } from '../types';
import { checkPositional, floatOutput, floatTensorFor } from './common';

/** A face mask model: a crop in, a crop-sized mask in [0,1] out (1 = keep the swapped face). */
export interface FaceMasker {
  readonly modelId: string;
  readonly provider: string;
  /** crop.width × crop.height values in [0,1]. */
  maskFor(crop: Frame): Promise<Float32Array>;
}

/** xseg_1 (DeepFaceLab XSeg, FaceFusion's occluder): NHWC (1,256,256,3) BGR [0,1] → (1,256,256,1) face probability. Names vary: checked by position. */
export const XSEG_CONTRACT: IoContract = { id: 'xseg', role: 'masker', inputs: [], outputs: [] };
/** bisenet_resnet_34 (FaceFusion's face parser): (1,3,512,512) RGB ImageNet-normalised → (1,19,512,512) class logits. Checked by position. */
export const BISENET_CONTRACT: IoContract = { id: 'bisenet', role: 'masker', inputs: [], outputs: [] };

/** FaceFusion's face mask regions and their bisenet (CelebAMask-HQ) class ids. */
export const FACE_REGIONS = Object.freeze({
  skin: 1,
  'left-eyebrow': 2,
  'right-eyebrow': 3,
  'left-eye': 4,
  'right-eye': 5,
  glasses: 6,
  nose: 10,
  mouth: 11,
  'upper-lip': 12,
  'lower-lip': 13,
} as const);
export type FaceRegion = keyof typeof FACE_REGIONS;
/** FaceFusion's default: every region. */
export const FACE_REGION_NAMES: readonly FaceRegion[] = Object.freeze(Object.keys(FACE_REGIONS) as FaceRegion[]);
export const BISENET_CLASSES = 19;

/** xseg input: the crop resized to size×size, NHWC, channels B,G,R, / 255. */
export function xsegPreprocess(crop: Frame, size: number): Float32Array {
  const small = crop.width === size && crop.height === size ? crop : resizeBilinear(crop, size, size);
  const src = small.data;
  const out = new Float32Array(size * size * 3);
  for (let p = 0; p < out.length; p += 3) {
    out[p] = src[p + 2] / 255;
    out[p + 1] = src[p + 1] / 255;
    out[p + 2] = src[p] / 255;
  }
  return out;
}

/** Model-size probability plane → crop-size mask: clamp, resize, FaceFusion's smoothing (σ 5, half level → 0). */
export function decodeMaskPlane(plane: Float32Array, size: number, width: number, height: number): Float32Array {
  return smoothSegmentationMask(resizePlaneBilinear(plane, size, size, width, height), width, height, 5);
}

/** Per pixel: 1 when the argmax of the (classes, size, size) logits is one of `keep`, else 0. */
export function regionsFromLogits(logits: Float32Array, classes: number, size: number, keep: ReadonlySet<number>): Float32Array {
  const plane = size * size;
  if (logits.length < classes * plane) throw new FaceError('E_SESSION', `face parser output has ${logits.length} values, ${classes * plane} expected`);
  const keepClass = new Uint8Array(classes);
  for (const c of keep) if (c >= 0 && c < classes) keepClass[c] = 1;
  const out = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    let best = 0,
      bestValue = logits[i];
    for (let c = 1, o = plane + i; c < classes; c++, o += plane) {
      if (logits[o] > bestValue) {
        bestValue = logits[o];
        best = c;
      }
    }
    out[i] = keepClass[best];
  }
  return out;
}

/**
 * What xseg and bisenet share: one input, one output, a size×size plane decoded to a
 * crop-sized mask. Subclasses check the file's shapes and say how a crop becomes the input.
 */
abstract class SingleInputMasker implements FaceMasker {
  private readonly inputName: string;
  private readonly outputName: string;

  protected constructor(
    protected readonly session: SessionHandle,
    readonly modelId: string,
  ) {
    this.inputName = session.inputNames[0];
    this.outputName = session.outputNames[0];
  }

  /** The model's square input (and output plane) size. */
  abstract readonly size: number;

  get provider(): string {
    return this.session.provider;
  }

  /** Releases the masker's session handle. */
  release(): Promise<void> {
    return this.session.release();
  }

  abstract maskFor(crop: Frame): Promise<Float32Array>;

  /** Runs the model on `input` (shape `dims`), turns its output into a size×size plane with `toPlane`, decodes that to a crop-sized mask. */
  protected async runAndDecode(crop: Frame, input: Float32Array, dims: number[], toPlane: (output: Float32Array) => Float32Array): Promise<Float32Array> {
    const out = await this.session.run({ [this.inputName]: floatTensorFor(this.session, this.inputName, input, dims) });
    return decodeMaskPlane(toPlane(floatOutput(out, this.outputName, this.session.label)), this.size, crop.width, crop.height);
  }
}

/** Occlusion mask from xseg: 1 where the face shows, 0 where something covers it. */
export class XsegMasker extends SingleInputMasker {
  readonly size: number;

  constructor(session: SessionHandle, modelId = 'xseg_1') {
    super(session, modelId);
    // Size from an NHWC input's fixed height, else FaceFusion's 256 (a file of another layout is refused below).
    const shape = session.inputMetadata[0]?.shape ?? [];
    const h = shape[1];
    this.size = shape.length === 4 && shape[3] === 3 && typeof h === 'number' && h > 0 ? h : 256;
    const outRank = session.outputMetadata[0]?.shape.length;
    checkPositional(session, XSEG_CONTRACT.id, [
      { kind: 'input', index: 0, shape: [null, this.size, this.size, 3] },
      { kind: 'output', index: 0, shape: outRank === 3 ? [null, this.size, this.size] : [null, this.size, this.size, 1] },
    ]);
  }

  maskFor(crop: Frame): Promise<Float32Array> {
    const s = this.size;
    return this.runAndDecode(crop, xsegPreprocess(crop, s), [1, s, s, 3], (plane) => plane);
  }
}

/** Region mask from bisenet: 1 over the chosen face regions (argmax of 19 classes), smoothed. */
export class BisenetMasker extends SingleInputMasker {
  readonly regions: readonly FaceRegion[];
  readonly size = 512;
  private readonly keep: ReadonlySet<number>;

  constructor(session: SessionHandle, regions: readonly string[] = FACE_REGION_NAMES, modelId = 'bisenet_resnet_34') {
    super(session, modelId);
    const unknown = regions.filter((r) => !Object.prototype.hasOwnProperty.call(FACE_REGIONS, r));
    if (unknown.length > 0 || regions.length === 0) {
      throw new FaceError('E_BAD_PARAMETER', `face mask regions ${unknown.length > 0 ? `"${unknown.join('", "')}" unknown` : 'empty'}; choose from ${FACE_REGION_NAMES.join(', ')}`);
    }
    this.regions = Object.freeze([...regions] as FaceRegion[]);
    this.keep = new Set(this.regions.map((r) => FACE_REGIONS[r]));
    checkPositional(session, BISENET_CONTRACT.id, [
      { kind: 'input', index: 0, shape: [null, 3, this.size, this.size] },
      { kind: 'output', index: 0, shape: [null, BISENET_CLASSES, this.size, this.size] },
    ]);
  }

  maskFor(crop: Frame): Promise<Float32Array> {
    const s = this.size;
    const small = crop.width === s && crop.height === s ? crop : resizeBilinear(crop, s, s);
    const data = toCHW(small, { mean: [0.485 * 255, 0.456 * 255, 0.406 * 255], std: [0.229 * 255, 0.224 * 255, 0.225 * 255] });
    return this.runAndDecode(crop, data, [1, 3, s, s], (logits) => regionsFromLogits(logits, BISENET_CLASSES, s, this.keep));
  }
}

/**
 * The masker for a contract id on an acquired session; when the file is refused (or the
 * regions are bad) the session is released and the error rethrown.
 */
export async function openMasker(contractId: 'xseg' | 'bisenet', session: SessionHandle, modelId: string, regions?: readonly string[]): Promise<FaceMasker> {
  try {
    if (contractId === 'xseg') return new XsegMasker(session, modelId);
    if (contractId === 'bisenet') return new BisenetMasker(session, regions, modelId);
    throw new FaceError('E_MODEL_CONTRACT', `unknown masker contract "${String(contractId)}" for ${session.label}; known: xseg, bisenet`);
  } catch (err) {
    await session.release().catch(() => undefined);
    throw err;
  }
}
