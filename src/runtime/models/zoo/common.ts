import { Tensor } from 'onnxruntime-node';
import { FaceError } from '../../errors';
import type { SessionHandle } from '../../sessions';
import type { Box, Frame, Point } from '../../vision/frame';
import { resizeBilinear } from '../../vision/resize';
import { nms } from '../../vision/nms';
import type { DetectedFace, DetectOptions, TensorSpec } from '../types';

/** A frame shrunk (never enlarged) to fit size×size, at the top-left of a black square canvas. */
export interface Letterbox {
  canvas: Frame;
  /** original pixels per canvas pixel, per axis: multiply a canvas coordinate to map it back. */
  ratioX: number;
  ratioY: number;
}

/**
 * FaceFusion's detector input: shrink keeping the aspect only when larger than `size`, place
 * at the top-left of a zero size×size canvas (no centring, so mapping back is just a scale).
 */
export function letterbox(frame: Frame, size: number): Letterbox {
  const { width: w, height: h } = letterboxSize(frame.width, frame.height, size);
  const small = w === frame.width && h === frame.height ? frame : resizeBilinear(frame, w, h);
  const data = new Uint8Array(size * size * 3);
  const row = w * 3;
  for (let y = 0; y < h; y++) data.set(small.data.subarray(y * row, y * row + row), y * size * 3);
  return { canvas: { width: size, height: size, channels: 3, data }, ratioX: frame.width / w, ratioY: frame.height / h };
}

/** The size a width × height frame is shrunk to by `letterbox` (FaceDetector.sampleSize). */
export function letterboxSize(width: number, height: number, size: number): { width: number; height: number } {
  const scale = Math.min(1, size / width, size / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Decoded candidates before NMS, in canvas coordinates: boxes 4 per face, points 10 per face. */
export interface Candidates {
  boxes: number[];
  scores: number[];
  points: number[];
}

export function emptyCandidates(): Candidates {
  return { boxes: [], scores: [], points: [] };
}

/**
 * Candidates → faces in frame coordinates: NMS (IoU default 0.4), at most maxFaces, boxes
 * scaled by the letterbox ratios and clipped to the frame; points scaled but not clipped
 * (a point just outside the frame is still information).
 */
export function finishDetections(c: Candidates, options: DetectOptions, ratioX: number, ratioY: number, frame: Frame): DetectedFace[] {
  const keep = nms(c.boxes, c.scores, options.nmsIou ?? 0.4, options.maxFaces);
  const faces: DetectedFace[] = [];
  for (const k of keep) {
    const bbox: Box = [
      clamp(c.boxes[k * 4] * ratioX, 0, frame.width),
      clamp(c.boxes[k * 4 + 1] * ratioY, 0, frame.height),
      clamp(c.boxes[k * 4 + 2] * ratioX, 0, frame.width),
      clamp(c.boxes[k * 4 + 3] * ratioY, 0, frame.height),
    ];
    if (bbox[2] - bbox[0] < 2 || bbox[3] - bbox[1] < 2) continue;
    const face: DetectedFace = { bbox, score: c.scores[k] };
    if (c.points.length > 0) {
      const landmarks5: Point[] = [];
      for (let j = 0; j < 5; j++) landmarks5.push([c.points[k * 10 + j * 2] * ratioX, c.points[k * 10 + j * 2 + 1] * ratioY]);
      face.landmarks5 = landmarks5;
    }
    faces.push(face);
  }
  return faces;
}

/** One stride of an anchor detector's output: cells of `stride` canvas pixels over a size × size canvas. */
export interface StrideGrid {
  stride: number;
  size: number;
}

/**
 * The rows of one stride whose score reaches `threshold`, each with its anchor (the canvas
 * position it is decoded from): row r is anchor r % anchorsPerCell of cell ⌊r / anchorsPerCell⌋,
 * cells row-major over a ⌈size / stride⌉² grid, the anchor at the cell's top-left × stride (no
 * half-cell offset). How SCRFD and YuNet lay out their outputs; each decodes its own boxes.
 */
export function forEachAnchorAbove(
  rows: number,
  grid: StrideGrid,
  anchorsPerCell: number,
  threshold: number,
  scoreOf: (r: number) => number,
  take: (r: number, score: number, ax: number, ay: number) => void,
): void {
  const { stride } = grid;
  const cols = Math.ceil(grid.size / stride);
  for (let r = 0; r < rows; r++) {
    const score = scoreOf(r);
    if (!(score >= threshold)) continue;
    const cell = Math.floor(r / anchorsPerCell);
    take(r, score, (cell % cols) * stride, Math.floor(cell / cols) * stride);
  }
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** The session's single image input name (models differ: `input`, `input.1`, `data`). */
export function imageInputName(session: SessionHandle, preferred: string): string {
  if (session.inputNames.includes(preferred)) return preferred;
  const rank4 = session.inputMetadata.find((m) => m.shape.length === 4);
  return rank4?.name ?? session.inputNames[0];
}

/** Square spatial size of a rank-4 NCHW input when fixed, else `fallback`. */
export function fixedInputSize(session: SessionHandle, name: string, fallback: number): number {
  const spec = session.inputMetadata.find((m) => m.name === name);
  const h = spec?.shape[2];
  return typeof h === 'number' && h > 0 ? h : fallback;
}

/** Expected shape of one input or output, checked by position: fixed numbers must match, null = any. */
export interface PositionalSpec {
  kind: 'input' | 'output';
  index: number;
  type?: TensorSpec['type'];
  shape: Array<number | null>;
}

/**
 * For models whose tensor names vary between exports (FaceFusion re-exports, InsightFace
 * originals): checks inputs/outputs by position and throws E_MODEL_CONTRACT naming each
 * mismatch, so a wrong file is refused even when built without a name contract.
 */
export function checkPositional(session: SessionHandle, contractId: string, specs: PositionalSpec[]): void {
  const problems: string[] = [];
  for (const spec of specs) {
    const list = spec.kind === 'input' ? session.inputMetadata : session.outputMetadata;
    const actual = list[spec.index];
    if (!actual) {
      problems.push(`${spec.kind} #${spec.index} is missing (model has ${list.length} ${spec.kind}s)`);
      continue;
    }
    if (spec.type && actual.type !== spec.type) problems.push(`${spec.kind} "${actual.name}" is ${actual.type}, expected ${spec.type}`);
    const fits = actual.shape.length === spec.shape.length && spec.shape.every((d, i) => d === null || typeof actual.shape[i] !== 'number' || actual.shape[i] === d);
    if (!fits)
      problems.push(`${spec.kind} "${actual.name}" has shape [${actual.shape.map((d) => (typeof d === 'number' ? d : '?')).join(',')}], expected [${spec.shape.map((d) => d ?? '?').join(',')}]`);
  }
  if (problems.length > 0) {
    throw new FaceError('E_MODEL_CONTRACT', `${session.label} does not fit the contract ${contractId}: ${problems.join('; ')}`, { details: { contract: contractId, problems } });
  }
}

/** A float32 NCHW batch-1 tensor. */
export function imageTensor(data: Float32Array, size: number): Tensor {
  return new Tensor('float32', data, [1, 3, size, size]);
}

/** Output `name` of a run as float32 data, or a clear error when the model did not produce it. */
export function outputData(out: Record<string, Tensor>, name: string, label: string): Float32Array {
  const t = out[name];
  if (!t) throw new FaceError('E_SESSION', `${label} produced no output "${name}" (got ${Object.keys(out).join(', ')})`);
  return t.data as Float32Array;
}

/** An output of `width`-wide rows: (N, width) or (1, N, width) — exports differ in the batch axis. */
export function rowsSpec(session: SessionHandle, index: number, width: number): PositionalSpec {
  const rank = session.outputMetadata[index]?.shape.length;
  return { kind: 'output', index, type: 'float32', shape: rank === 3 ? [1, null, width] : [null, width] };
}

/**
 * A float tensor for input `name` in the dtype the model declares (float32, float16 or
 * float64 — e.g. codeformer's `weight` is float64 in FaceFusion's export, fp16 swappers may
 * take halves). Symbolic dimensions in `dims` are the caller's.
 */
export function floatTensorFor(session: SessionHandle, name: string, values: Float32Array | number[], dims: number[]): Tensor {
  const type = session.inputMetadata.find((m) => m.name === name)?.type ?? 'float32';
  if (type === 'float64') return new Tensor('float64', Float64Array.from(values), dims);
  if (type === 'float16') {
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = floatToHalf(values[i]);
    return new Tensor('float16', half, dims);
  }
  if (type !== 'float32') throw new FaceError('E_MODEL_CONTRACT', `${session.label}: input "${name}" is ${type}, expected a float type`);
  return new Tensor('float32', values instanceof Float32Array ? values : Float32Array.from(values), dims);
}

/** Output data as float32 whatever float type the model produced. */
export function floatOutput(out: Record<string, Tensor>, name: string, label: string): Float32Array {
  const t = out[name];
  if (!t) throw new FaceError('E_SESSION', `${label} produced no output "${name}" (got ${Object.keys(out).join(', ')})`);
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float64') return Float32Array.from(t.data as Float64Array);
  if (t.type === 'float16') {
    const half = t.data as Uint16Array;
    const f = new Float32Array(half.length);
    for (let i = 0; i < half.length; i++) f[i] = halfToFloat(half[i]);
    return f;
  }
  throw new FaceError('E_MODEL_CONTRACT', `${label}: output "${name}" is ${t.type}, expected a float type`);
}

/** IEEE 754 binary16 bits → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → binary16 bits (round to nearest; overflow → ∞, underflow → subnormal/0). */
export function floatToHalf(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  const exp = Math.floor(Math.log2(a));
  let frac = Math.round((a / 2 ** exp - 1) * 1024);
  let e = exp;
  if (frac === 1024) {
    frac = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | frac;
}
