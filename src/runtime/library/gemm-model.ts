import { onnxModelProto } from '../models/onnx-proto';

/**
 * The ONNX model of one Gemm: scores[F, N] = queries[F, D] · vectors[N, D]ᵀ. The face library
 * scores a face against every enrolled vector with it: onnxruntime's MLAS kernel reads the
 * 10,000 × 512 float matrix at memory speed (≈ 2.4 ms of CPU, measured against ≈ 6.2 ms for
 * the best plain JavaScript loop on the same machine; BENCHMARKS.md §17), and the vectors are
 * passed as an input tensor over the index's own Float32Array (no copy, no model rebuild when
 * someone is enrolled).
 */

const FLOAT = 1;
const ATTRIBUTE_INT = 2;

export const GEMM_INPUTS = { queries: 'queries', vectors: 'vectors' } as const;
export const GEMM_OUTPUT = 'scores';

function tensorInfo(name: string, dims: Array<number | string>): Record<string, unknown> {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** The model bytes for vectors of `dim` values (any number of queries and of vectors). */
export function gemmModel(dim: number): Uint8Array {
  const ModelProto = onnxModelProto();
  const model = {
    irVersion: 8,
    producerName: 'node-red-contrib-facefusion face library',
    graph: {
      name: 'face_library_scores',
      node: [
        {
          input: [GEMM_INPUTS.queries, GEMM_INPUTS.vectors],
          output: [GEMM_OUTPUT],
          name: 'scores',
          opType: 'Gemm',
          attribute: [{ name: 'transB', i: 1, type: ATTRIBUTE_INT }],
        },
      ],
      input: [tensorInfo(GEMM_INPUTS.queries, ['faces', dim]), tensorInfo(GEMM_INPUTS.vectors, ['enrolled', dim])],
      output: [tensorInfo(GEMM_OUTPUT, ['faces', 'enrolled'])],
    },
    opsetImport: [{ domain: '', version: 13 }],
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
