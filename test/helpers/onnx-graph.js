'use strict';
// Builds small ONNX models in memory (protobufjs over the package's subset of onnx.proto,
// runtime/models/onnx-proto.ts), so tests can give an adapter a model with exactly a real
// model's input/output names, shapes and dtypes, and known behaviour.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { onnxModelProto } = require('../../dist/runtime/internal');

const ModelProto = onnxModelProto();

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
