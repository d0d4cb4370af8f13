import * as protobuf from 'protobufjs';

/**
 * The part of onnx.proto (field numbers from onnx/onnx.proto, IR version 8) needed to write a
 * small ONNX model: a graph of nodes with attributes, initializers, and typed inputs and outputs.
 * The face library writes its Gemm model with it (`library/gemm-model.ts`), and the tests build
 * their contract graphs with it (test/helpers/onnx-graph.js). Reading large model files does not
 * go through it (`zoo/onnx-initializer.ts` walks them with a Reader). One message a line.
 */
export const ONNX_MODEL_SCHEMA = `
syntax = "proto2";
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message TensorProto { repeated int64 dims = 1; optional int32 data_type = 2; repeated float float_data = 4 [packed = true]; repeated int64 int64_data = 7 [packed = true]; optional string name = 8; optional bytes raw_data = 9; repeated double double_data = 10 [packed = true]; }
message AttributeProto { optional string name = 1; optional float f = 2; optional int64 i = 3; optional bytes s = 4; optional TensorProto t = 5; repeated float floats = 7; repeated int64 ints = 8; optional int32 type = 20; }
message NodeProto { repeated string input = 1; repeated string output = 2; optional string name = 3; optional string op_type = 4; repeated AttributeProto attribute = 5; }
message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; }
message TensorShapeProto { repeated Dimension dim = 1; }
message TypeTensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
message TypeProto { optional TypeTensor tensor_type = 1; }
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message GraphProto { repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message ModelProto { optional int64 ir_version = 1; optional string producer_name = 2; optional GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }
`;

/** ModelProto of ONNX_MODEL_SCHEMA: `encode(fromObject(model)).finish()` gives a model file's bytes. */
export function onnxModelProto(): protobuf.Type {
  return protobuf.parse(ONNX_MODEL_SCHEMA).root.lookupType('ModelProto');
}
