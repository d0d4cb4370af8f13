import * as protobuf from 'protobufjs';

/**
 * The ONNX model of one Gemm: scores[F, N] = queries[F, D] · vectors[N, D]ᵀ. The face library
 * scores a face against every enrolled vector with it: onnxruntime's MLAS kernel reads the
 * 10,000 × 512 float matrix at memory speed (≈ 2.4 ms of CPU, measured against ≈ 6.2 ms for
 * the best plain JavaScript loop on the same machine; BENCHMARKS.md §17), and the vectors are
 * passed as an input tensor over the index's own Float32Array (no copy, no model rebuild when
 * someone is enrolled).
 *
 * Only the few onnx.proto fields a graph of one node needs are declared (field numbers from
 * onnx/onnx.proto).
 */
const SCHEMA = `
syntax = "proto2";
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message AttributeProto { optional string name = 1; optional int64 i = 3; optional int32 type = 20; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
}
message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; }
message TensorShapeProto { repeated Dimension dim = 1; }
message TypeTensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
message TypeProto { optional TypeTensor tensor_type = 1; }
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

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
  const root = protobuf.parse(SCHEMA).root;
  const ModelProto = root.lookupType('ModelProto');
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
