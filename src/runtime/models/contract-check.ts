import type { InferenceSession } from 'onnxruntime-node';
import { FaceError } from '../errors';
import type { IoContract, TensorSpec, TensorType } from './types';

export interface ModelIo {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** ORT session metadata → TensorSpec lists (symbolic dimensions become strings). */
export function metaFromSession(session: InferenceSession): ModelIo {
  const convert = (meta: readonly InferenceSession.ValueMetadata[]): TensorSpec[] =>
    meta.map((m) => ({
      name: m.name,
      type: (m.isTensor ? m.type : 'float32') as TensorType,
      shape: m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) : [],
    }));
  return { inputs: convert(session.inputMetadata), outputs: convert(session.outputMetadata) };
}

const wildcard = (d: number | string | null): boolean => d === null || typeof d === 'string' || d < 0;
const showShape = (shape: Array<number | string | null>): string => `[${shape.map((d) => (wildcard(d) ? '?' : d)).join(',')}]`;

/**
 * Refuses a model whose inputs/outputs do not fit a role's contract, naming every difference
 * (missing names, wrong shapes, wrong types) so a user who picked the wrong file knows why.
 */
export function checkContract(io: ModelIo, contract: IoContract, modelLabel: string): void {
  const problems: string[] = [];
  const compare = (kind: 'input' | 'output', expected: TensorSpec[], actual: TensorSpec[]): void => {
    for (const spec of expected) {
      const found = actual.find((a) => a.name === spec.name);
      if (!found) {
        problems.push(`${kind} "${spec.name}" is missing (model has: ${actual.map((a) => a.name).join(', ') || 'none'})`);
        continue;
      }
      if (found.type !== spec.type) problems.push(`${kind} "${spec.name}" is ${found.type}, expected ${spec.type}`);
      const rankOk = found.shape.length === spec.shape.length;
      const dimsOk = rankOk && spec.shape.every((d, i) => wildcard(d) || wildcard(found.shape[i]) || d === found.shape[i]);
      if (!dimsOk) problems.push(`${kind} "${spec.name}" has shape ${showShape(found.shape)}, expected ${showShape(spec.shape)}`);
    }
  };
  compare('input', contract.inputs, io.inputs);
  compare('output', contract.outputs, io.outputs);
  if (problems.length > 0) {
    throw new FaceError('E_MODEL_CONTRACT', `${modelLabel} does not fit the ${contract.role} contract ${contract.id}: ${problems.join('; ')}`, {
      details: { contract: contract.id, problems },
    });
  }
}
