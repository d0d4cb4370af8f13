import type { SessionHandle } from '../../sessions';
import type { Affine, Frame, Point, Rect } from '../../vision/frame';
import { cloneFrame } from '../../vision/frame';
import { warpAffine } from '../../vision/affine';
import { toCHW, fromCHW } from '../../vision/tensor';
import { alignmentMatrix, type TemplateName } from '../../vision/templates';
import { boxMask } from '../../vision/mask';
import { minMaskInto } from '../../vision/mask-smooth';
import { spaceToDepth, depthToSpace } from '../../vision/pixel-boost';
import type { PixelTarget } from '../../vision/blend';
import { FaceError } from '../../errors';
import type { IoContract } from '../types';
import { checkPositional, floatOutput, floatTensorFor } from './common';
import { pasteBack } from './paste-back';
import { l2normalised } from './arcface';
import { readLastInitializer } from './onnx-initializer';
import { EmbeddingConverter } from './crossface';

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

/** Reads `emap` (the last initializer of the graph) from an inswapper model file and checks it is 512×512. */
export async function readEmap(modelPath: string): Promise<Float32Array> {
  const init = await readLastInitializer(modelPath);
  if (init.dims.length !== 2 || init.dims[0] !== 512 || init.dims[1] !== 512) {
    throw new FaceError('E_MODEL_CONTRACT', `${modelPath}: the last initializer "${init.name}" has dims [${init.dims.join(',')}], expected the 512×512 emap of inswapper`);
  }
  return init.data;
}

/** The identity a swap gives the target face: an embedding, or (blendswap, uniface) the source face itself. */
export interface SwapSource {
  /** Raw arcface_w600k_r50 embedding (512 values, not normalised). */
  embedding?: Float32Array;
  /** The frame holding the source face (image-source swappers). */
  frame?: Frame;
  /** The source face's 5 points in `frame`. */
  landmarks5?: readonly Point[];
}

export interface ZooSwapOptions extends SwapOptions {
  /** Crop size: a multiple of the model size (e.g. 256 or 512 for a 128 model); default = model size. */
  pixelBoost?: number;
  /** FaceFusion face_swapper_weight 0..1, default 0.5 = source identity unmixed. */
  weight?: number;
  /** Raw embedding of the target face, needed only when weight ≠ 0.5 (embedding swappers). */
  targetEmbedding?: Float32Array;
  /**
   * Extra masks (crop.width × crop.height values in [0,1]) computed on the aligned TARGET crop
   * before the swap — FaceFusion's occlusion mask (xseg) is made this way. Combined with the
   * box mask by per-pixel minimum.
   */
  masks?: Array<(crop: Frame) => Promise<Float32Array>>;
  /**
   * As `masks`, computed on the SWAPPED crop — FaceFusion's region mask (bisenet) is made this
   * way. Addition to the agreed interface; optional.
   */
  swappedMasks?: Array<(crop: Frame) => Promise<Float32Array>>;
}

export interface ZooSwapper {
  readonly modelId: string;
  readonly provider: string;
  readonly sourceKind: 'embedding' | 'image';
  swapInto(out: PixelTarget, frame: Frame, landmarks5: readonly Point[], source: SwapSource, options?: ZooSwapOptions): Promise<Rect>;
}

/** How each swapper family wants its inputs and gives its output (FaceFusion 3.x model options). Means/stds on the 0–255 scale, RGB. */
export interface ZooSwapperSpec {
  id: string;
  template: TemplateName;
  size: number;
  mean: number | [number, number, number];
  std: number | [number, number, number];
  /** unit: output clipped to [0,1]; signed: output in [−1,1] (× std + mean, FaceFusion's ghost/hififace/hyperswap/uniface). */
  output: 'unit' | 'signed';
  /**
   * What the `source` input gets: emap (inswapper: raw × emap ÷ ‖raw‖), normalised (the arcface
   * embedding L2-normalised), converted (through the crossface converter, then normalised when
   * `normaliseConverted`), image (the source face warped to `sourceImage`, RGB [0,1]).
   */
  source: 'emap' | 'normalised' | 'converted' | 'image';
  converter?: string;
  normaliseConverted?: boolean;
  sourceImage?: { template: TemplateName; size: number };
  /** Whether the target embedding is L2-normalised before the weight mix (FaceFusion: hififace, hyperswap, inswapper, simswap). */
  normaliseTargetForWeight?: boolean;
}

const IMAGENET_MEAN: [number, number, number] = [0.485 * 255, 0.456 * 255, 0.406 * 255];
const IMAGENET_STD: [number, number, number] = [0.229 * 255, 0.224 * 255, 0.225 * 255];

export const ZOO_SWAPPER_SPECS: Readonly<Record<string, ZooSwapperSpec>> = Object.freeze({
  inswapper_128: { id: 'inswapper_128', template: 'arcface_128', size: 128, mean: 0, std: 255, output: 'unit', source: 'emap', normaliseTargetForWeight: true },
  simswap_256: {
    id: 'simswap_256',
    template: 'arcface_112_v1',
    size: 256,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    output: 'unit',
    source: 'converted',
    converter: 'crossface_simswap',
    normaliseConverted: true,
    normaliseTargetForWeight: true,
  },
  simswap_512: {
    id: 'simswap_512',
    template: 'arcface_112_v1',
    size: 512,
    mean: 0,
    std: 255,
    output: 'unit',
    source: 'converted',
    converter: 'crossface_simswap',
    normaliseConverted: true,
    normaliseTargetForWeight: true,
  },
  hyperswap_256: { id: 'hyperswap_256', template: 'arcface_128', size: 256, mean: 127.5, std: 127.5, output: 'signed', source: 'normalised', normaliseTargetForWeight: true },
  ghost_256: {
    id: 'ghost_256',
    template: 'arcface_112_v1',
    size: 256,
    mean: 127.5,
    std: 127.5,
    output: 'signed',
    source: 'converted',
    converter: 'crossface_ghost',
    normaliseConverted: false,
    normaliseTargetForWeight: false,
  },
  hififace_256: {
    id: 'hififace_256',
    template: 'mtcnn_512',
    size: 256,
    mean: 127.5,
    std: 127.5,
    output: 'signed',
    source: 'converted',
    converter: 'crossface_hififace',
    normaliseConverted: true,
    normaliseTargetForWeight: true,
  },
  blendswap_256: { id: 'blendswap_256', template: 'ffhq_512', size: 256, mean: 0, std: 255, output: 'unit', source: 'image', sourceImage: { template: 'arcface_112_v2', size: 112 } },
  uniface_256: { id: 'uniface_256', template: 'ffhq_512', size: 256, mean: 127.5, std: 127.5, output: 'signed', source: 'image', sourceImage: { template: 'ffhq_512', size: 256 } },
});

/** Per contract id: the kind of source the swapper takes and the crossface converter it needs, if any. */
export const SWAPPER_KINDS: Readonly<Record<string, { sourceKind: 'embedding' | 'image'; converter?: string }>> = Object.freeze(
  Object.fromEntries(Object.values(ZOO_SWAPPER_SPECS).map((s) => [s.id, s.converter ? { sourceKind: kindOf(s), converter: s.converter } : { sourceKind: kindOf(s) }])),
);

function kindOf(spec: ZooSwapperSpec): 'embedding' | 'image' {
  return spec.source === 'image' ? 'image' : 'embedding';
}

/** Name contract for SessionPool.acquire: `target` and `source` as FaceFusion's exports name them. */
export function zooSwapperContract(spec: ZooSwapperSpec): IoContract {
  const source = spec.sourceImage ? [1, 3, spec.sourceImage.size, spec.sourceImage.size] : [1, 512];
  return {
    id: spec.id,
    role: 'swapper',
    inputs: [
      { name: 'target', type: 'float32', shape: [1, 3, spec.size, spec.size] },
      { name: 'source', type: 'float32', shape: source },
    ],
    outputs: [],
  };
}

/** inswapper_128 / _fp16: target (1,3,128,128), source (1,512) → output (1,3,128,128) in [0,1]; the output name is pinned too. */
export const INSWAPPER_CONTRACT: IoContract = {
  ...zooSwapperContract(ZOO_SWAPPER_SPECS.inswapper_128),
  outputs: [{ name: 'output', type: 'float32', shape: [1, 3, 128, 128] }],
};

export const SIMSWAP_256_CONTRACT: IoContract = zooSwapperContract(ZOO_SWAPPER_SPECS.simswap_256);

/** Swapper name contracts by contract id. */
export const ZOO_SWAPPER_CONTRACTS: Readonly<Record<string, IoContract>> = Object.freeze(
  Object.fromEntries(Object.values(ZOO_SWAPPER_SPECS).map((s) => [s.id, s.id === 'inswapper_128' ? INSWAPPER_CONTRACT : zooSwapperContract(s)])),
);

/**
 * FaceFusion's face_swapper_weight, as FaceFusion 3.x's balance_source_embedding does it
 * (read from its source; the research file's one line leaves the order open): the factor
 * runs linearly from +0.35 (w = 0) to −0.35 (w = 1) and is applied AFTER the source has been
 * turned into the model's `source` vector (emap product, converter, normalisation):
 *   source ← source × (1 − factor) + target × factor,
 * where target is the raw target embedding, L2-normalised first for inswapper, simswap,
 * hififace and hyperswap (not for ghost). w = 0.5 gives factor 0: the source as it is.
 * Image-source swappers (blendswap, uniface) have no weight. w outside [0,1] is clamped, as
 * numpy.interp does.
 */
export function weightFactor(weight: number): number {
  const w = weight < 0 ? 0 : weight > 1 ? 1 : weight;
  return 0.35 * (1 - 2 * w);
}

/** The weight mix of `sourceVector` (already the model's source) with the target embedding; a new array. */
export function balanceSourceVector(sourceVector: Float32Array, targetEmbedding: Float32Array, weight: number, normaliseTarget: boolean): Float32Array {
  if (targetEmbedding.length !== sourceVector.length) {
    throw new FaceError('E_BAD_PARAMETER', `the target embedding has ${targetEmbedding.length} values, expected ${sourceVector.length}`);
  }
  const f = Math.fround(weightFactor(weight));
  const t = normaliseTarget ? l2normalised(targetEmbedding) : targetEmbedding;
  const out = new Float32Array(sourceVector.length);
  for (let i = 0; i < out.length; i++) out[i] = sourceVector[i] * (1 - f) + t[i] * f;
  return out;
}

/** The source face warped to the image swapper's template: (1,3,size,size) RGB in [0,1]. */
export function sourceImageInput(frame: Frame, landmarks5: readonly Point[], template: TemplateName, size: number): Float32Array {
  const crop = warpAffine(frame, alignmentMatrix(landmarks5, template, size), size, size, { border: 'replicate' });
  return toCHW(crop, { mean: 0, std: 255 });
}

/** Result of one swap before paste-back, at the pixel-boost size. */
export interface SwappedCrop {
  /** The aligned target crop the masks and the model saw (pixelBoost × pixelBoost). */
  target: Frame;
  /** The model's result, tiles reassembled. */
  crop: Frame;
  /** frame → crop. */
  matrix: Affine;
}

/**
 * Every FaceFusion swapper behind one interface: aligned target crop at the pixel-boost size,
 * split into (boost/size)² tiles of the model size, one model run per tile with the same
 * source, tiles reassembled, box mask min-combined with the caller's masks, paste-back.
 */
export class ZooSwapperModel implements ZooSwapper {
  readonly modelId: string;
  readonly sourceKind: 'embedding' | 'image';
  private readonly targetName: string;
  private readonly sourceName: string;
  private readonly outputName: string;
  /** Last raw source embedding (a copy) and the vector it gave, so a converter runs once per source, not per face. */
  private lastRaw?: Float32Array;
  private lastVector?: Float32Array;

  constructor(
    private readonly session: SessionHandle,
    readonly spec: ZooSwapperSpec,
    modelId: string = spec.id,
    private readonly deps: { emap?: Float32Array; converter?: EmbeddingConverter } = {},
  ) {
    this.modelId = modelId;
    this.sourceKind = kindOf(spec);
    if (spec.source === 'emap' && !deps.emap) throw new FaceError('E_BAD_PARAMETER', `${spec.id} needs its emap matrix`);
    if (spec.source === 'converted' && !deps.converter) throw new FaceError('E_MODEL_MISSING', `${spec.id} needs the ${spec.converter} embedding converter model`);
    const inputs = session.inputMetadata;
    const byName = (name: string): number => inputs.findIndex((m) => m.name === name);
    // FaceFusion names them `target` and `source`; embedding swappers exported otherwise are told apart by rank.
    let target = byName('target');
    let source = byName('source');
    if (spec.source !== 'image') {
      if (target < 0) target = inputs.findIndex((m) => m.shape.length === 4);
      if (source < 0) source = inputs.findIndex((m) => m.shape.length === 2);
    }
    if (target < 0 || source < 0 || target === source) {
      const wanted = spec.source === 'image' ? 'a "target" image input and a "source" face image input' : 'a target image input and a source vector input';
      throw new FaceError(
        'E_MODEL_CONTRACT',
        `${session.label} does not fit the swapper contract ${spec.id}: it needs ${wanted} (model has: ${inputs.map((m) => `${m.name} [${m.shape.join(',')}]`).join(', ')})`,
      );
    }
    const s = spec.sourceImage?.size;
    checkPositional(session, spec.id, [
      { kind: 'input', index: target, shape: [1, 3, spec.size, spec.size] },
      { kind: 'input', index: source, shape: s ? [1, 3, s, s] : [1, 512] },
      { kind: 'output', index: 0, shape: [1, 3, spec.size, spec.size] },
    ]);
    this.targetName = inputs[target].name;
    this.sourceName = inputs[source].name;
    this.outputName = session.outputNames[0];
  }

  get provider(): string {
    return this.session.provider;
  }

  /** The values the model's `source` input gets for this source and options (weight included). */
  async sourceInput(source: SwapSource, options: Pick<ZooSwapOptions, 'weight' | 'targetEmbedding'> = {}): Promise<Float32Array> {
    const spec = this.spec;
    if (spec.source === 'image') {
      if (!source.frame || !source.landmarks5 || source.landmarks5.length !== 5) {
        throw new FaceError('E_NO_SOURCE', `${this.modelId} swaps from a source face image: give the source frame and its face's 5 points`);
      }
      const img = spec.sourceImage as { template: TemplateName; size: number };
      return sourceImageInput(source.frame, source.landmarks5, img.template, img.size);
    }
    const raw = source.embedding;
    if (!raw) throw new FaceError('E_NO_SOURCE', `${this.modelId} swaps from a source embedding: give the raw arcface_w600k_r50 embedding`);
    if (raw.length !== 512) throw new FaceError('E_BAD_PARAMETER', `${this.modelId}: the source embedding has ${raw.length} values, expected 512`);
    const vector = await this.sourceVector(raw);
    const weight = options.weight ?? 0.5;
    if (!Number.isFinite(weight)) throw new FaceError('E_BAD_PARAMETER', `${this.modelId}: weight must be a number in 0..1, got ${weight}`);
    if (weightFactor(weight) === 0) return vector;
    if (!options.targetEmbedding) {
      throw new FaceError('E_BAD_PARAMETER', `${this.modelId}: weight ${weight} mixes in the target face's identity, so the target's embedding is needed (targetEmbedding)`);
    }
    return balanceSourceVector(vector, options.targetEmbedding, weight, this.spec.normaliseTargetForWeight === true);
  }

  /** Raw embedding → the model's source vector, before any weight mix. */
  private async sourceVector(raw: Float32Array): Promise<Float32Array> {
    if (this.lastRaw && this.lastVector && sameValues(this.lastRaw, raw)) return this.lastVector;
    let vector: Float32Array;
    if (this.spec.source === 'emap') vector = emapSource(raw, this.deps.emap as Float32Array);
    else if (this.spec.source === 'normalised') vector = l2normalised(raw);
    else {
      const converted = await (this.deps.converter as EmbeddingConverter).convert(raw);
      vector = this.spec.normaliseConverted ? l2normalised(converted) : converted;
    }
    this.lastRaw = Float32Array.from(raw);
    this.lastVector = vector;
    return vector;
  }

  /** The crop size for these options: pixelBoost, checked to be a multiple of the model size. */
  cropSize(options: Pick<ZooSwapOptions, 'pixelBoost'> = {}): number {
    const size = this.spec.size;
    const boost = options.pixelBoost ?? size;
    if (!Number.isInteger(boost) || boost < size || boost % size !== 0 || boost > size * 8) {
      throw new FaceError('E_BAD_PARAMETER', `${this.modelId}: pixel boost ${boost} must be a multiple of the model size ${size} (${size}…${size * 8})`);
    }
    return boost;
  }

  /** Aligns, runs the model on every pixel-boost tile and reassembles the swapped crop. */
  async swapCrop(frame: Frame, landmarks5: readonly Point[], source: SwapSource, options: ZooSwapOptions = {}): Promise<SwappedCrop> {
    const boost = this.cropSize(options);
    const size = this.spec.size;
    const total = boost / size;
    const sourceData = await this.sourceInput(source, options);
    const matrix = alignmentMatrix(landmarks5, this.spec.template, boost);
    const target = warpAffine(frame, matrix, boost, boost, { border: 'replicate' });
    const tiles = total === 1 ? [target] : spaceToDepth(target, total);
    const sourceDims = this.spec.sourceImage ? [1, 3, this.spec.sourceImage.size, this.spec.sourceImage.size] : [1, sourceData.length];
    const sourceTensor = floatTensorFor(this.session, this.sourceName, sourceData, sourceDims);
    const outputNorm = this.spec.output === 'unit' ? { mean: 0, std: 255 } : { mean: 127.5, std: 127.5 };
    const results: Frame[] = [];
    for (const tile of tiles) {
      // A fresh buffer per tile: calls for several faces may be in flight on this swapper at once.
      const data = toCHW(tile, { mean: this.spec.mean, std: this.spec.std });
      const out = await this.session.run({
        [this.targetName]: floatTensorFor(this.session, this.targetName, data, [1, 3, size, size]),
        [this.sourceName]: sourceTensor,
      });
      results.push(fromCHW(floatOutput(out, this.outputName, this.session.label), size, size, outputNorm));
    }
    return { target, crop: total === 1 ? results[0] : depthToSpace(results, total), matrix };
  }

  /** The paste-back mask: box mask (blur, padding) min-combined with the caller's masks, in [0,1]. */
  async cropMask(swapped: SwappedCrop, options: ZooSwapOptions = {}): Promise<Float32Array> {
    const n = swapped.crop.width;
    const mask = boxMask(n, n, options.maskBlur ?? 0.3, options.maskPadding ?? [0, 0, 0, 0]);
    const apply = async (makers: ZooSwapOptions['masks'], crop: Frame, which: string): Promise<void> => {
      for (const make of makers ?? []) {
        const m = await make(crop);
        if (!(m instanceof Float32Array) || m.length !== n * n) {
          throw new FaceError('E_BAD_PARAMETER', `${this.modelId}: a ${which} mask has ${m?.length} values, expected ${n}×${n} for the ${n} px crop`);
        }
        minMaskInto(mask, m);
      }
    };
    await apply(options.masks, swapped.target, 'target-crop');
    await apply(options.swappedMasks, swapped.crop, 'swapped-crop');
    return mask;
  }

  async swapInto(out: PixelTarget, frame: Frame, landmarks5: readonly Point[], source: SwapSource, options: ZooSwapOptions = {}): Promise<Rect> {
    const swapped = await this.swapCrop(frame, landmarks5, source, options);
    const mask = await this.cropMask(swapped, options);
    return pasteBack(out, swapped.crop, swapped.matrix, mask, options.blend ?? 1);
  }

  /** As swapInto, on a copy of `frame`: the swapped frame. */
  async swap(frame: Frame, landmarks5: readonly Point[], source: SwapSource, options: ZooSwapOptions = {}): Promise<Frame> {
    const out = cloneFrame(frame);
    await this.swapInto(out, frame, landmarks5, source, options);
    return out;
  }

  /** Releases the swapper's session and its converter's. */
  async release(): Promise<void> {
    await Promise.all([this.session.release(), this.deps.converter?.release()]);
  }
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Builds the swapper for a contract id on an acquired session (and, for simswap, ghost and
 * hififace, the crossface converter's session in deps.converter). inswapper's emap is read
 * from the session's model file. When the files are refused (unknown id, wrong shapes, missing
 * emap or converter) every handle given is released and the error (E_MODEL_CONTRACT, or
 * E_MODEL_MISSING for a missing converter) rethrown; on success the caller keeps the handles
 * (release them, or call the swapper's release()).
 */
export async function openSwapper(contractId: string, session: SessionHandle, modelId: string, deps: { converter?: SessionHandle } = {}): Promise<ZooSwapper> {
  try {
    const spec = Object.prototype.hasOwnProperty.call(ZOO_SWAPPER_SPECS, contractId) ? ZOO_SWAPPER_SPECS[contractId] : undefined;
    if (!spec) {
      throw new FaceError('E_MODEL_CONTRACT', `unknown swapper contract "${contractId}" for ${session.label}; known: ${Object.keys(ZOO_SWAPPER_SPECS).join(', ')}`);
    }
    if (!spec.converter && deps.converter) {
      throw new FaceError('E_BAD_PARAMETER', `${contractId} takes no embedding converter, but ${deps.converter.label} was given`);
    }
    if (spec.converter && !deps.converter) {
      throw new FaceError('E_MODEL_MISSING', `${contractId} (${session.label}) needs the ${spec.converter} embedding converter model`);
    }
    const converter = deps.converter ? new EmbeddingConverter(deps.converter, spec.converter, spec.converter) : undefined;
    const emap = spec.source === 'emap' ? await readEmap(session.modelPath) : undefined;
    return new ZooSwapperModel(session, spec, modelId, { emap, converter });
  } catch (err) {
    await Promise.all([session.release().catch(() => undefined), deps.converter?.release().catch(() => undefined)]);
    throw err;
  }
}
