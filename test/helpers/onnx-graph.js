'use strict';
// Builds small ONNX models in memory (protobufjs + a hand-written subset of onnx.proto), so
// tests can give an adapter a model with exactly a real model's input/output names, shapes and
// dtypes, and known behaviour.
const fs = require('fs');
const os = require('os');
const path = require('path');
const protobuf = require('protobufjs');

// Field numbers from onnx/onnx.proto (IR version 8).
const SCHEMA = `
syntax = "proto2";
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
}
message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional int32 type = 20;
}
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
  repeated TensorProto initializer = 5;
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
const root = protobuf.parse(SCHEMA).root;
const ModelProto = root.lookupType('ModelProto');

const DTYPES = { float32: 1, uint8: 2, int32: 6, int64: 7, float16: 10, float64: 11 };
const ATTR = { FLOAT: 1, INT: 2, TENSOR: 4, INTS: 7 };

function valueInfo({ name, type = 'float32', shape }) {
  return {
    name,
    type: { tensorType: { elemType: DTYPES[type], shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: String(d) })) } } },
  };
}

/** A tensor: float32 data goes in raw_data (little endian) unless `asFloatData`, int64 in int64_data, float64 in double_data. */
function tensor(name, type, dims, data, asFloatData = false) {
  const t = { name, dims, dataType: DTYPES[type] };
  if (type === 'float32') {
    if (asFloatData) t.floatData = Array.from(data);
    else t.rawData = Buffer.from(Float32Array.from(data).buffer);
  } else if (type === 'int64') t.int64Data = Array.from(data, (v) => Number(v));
  else if (type === 'float64') t.doubleData = Array.from(data);
  else throw new Error(`tensor type ${type} not supported by this helper`);
  return t;
}

function attribute(name, value) {
  if (value && value.tensor) return { name, type: ATTR.TENSOR, t: value.tensor };
  if (Array.isArray(value)) return { name, type: ATTR.INTS, ints: value };
  if (Number.isInteger(value)) return { name, type: ATTR.INT, i: value };
  return { name, type: ATTR.FLOAT, f: value };
}

/**
 * spec: { inputs: [{name,type,shape}], outputs: [...], nodes: [{op, inputs, outputs, attrs}],
 * initializers: [{name, type, dims, data, asFloatData}], opset }. Returns the model bytes.
 */
function buildModel(spec) {
  const graph = {
    name: spec.name || 'test_graph',
    node: (spec.nodes || []).map((n, i) => ({
      input: n.inputs || [],
      output: n.outputs,
      name: n.name || `${n.op}_${i}`,
      opType: n.op,
      attribute: Object.entries(n.attrs || {}).map(([k, v]) => attribute(k, v)),
    })),
    initializer: (spec.initializers || []).map((t) => tensor(t.name, t.type || 'float32', t.dims, t.data, t.asFloatData)),
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
  };
  const model = { irVersion: 8, producerName: 'facefusion-node-tests', graph, opsetImport: [{ domain: '', version: spec.opset || 13 }] };
  const err = ModelProto.verify(model);
  if (err) throw new Error(`bad ONNX model spec: ${err}`);
  return Buffer.from(ModelProto.encode(ModelProto.fromObject(model)).finish());
}

/** A Constant node producing `output` with the given float32 values. */
function constantNode(output, dims, data) {
  return { op: 'Constant', outputs: [output], attrs: { value: { tensor: tensor(`${output}_value`, 'float32', dims, data) } } };
}

/** Writes the model to a fresh temp dir; returns { path, dir, cleanup }. */
function writeModel(spec, fileName = 'model.onnx') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-graph-'));
  const file = path.join(dir, fileName);
  fs.writeFileSync(file, buildModel(spec));
  return { path: file, dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

module.exports = { buildModel, writeModel, constantNode, tensor, DTYPES };
