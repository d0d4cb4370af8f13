import { readFile } from 'fs/promises';
import * as protobuf from 'protobufjs';
import { FaceError } from '../../errors';
import { halfToFloat } from './common';

/**
 * The TensorProto fields we need (field numbers from onnx.proto). ModelProto and GraphProto
 * are walked by hand with a protobuf Reader so the hundreds of MB of other initializers and
 * the nodes are skipped, not decoded.
 */
const TENSOR_SCHEMA = `
syntax = "proto3";
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  string name = 8;
  bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  int32 data_location = 14;
}
`;

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const WIRE_LEN = 2;
const FLOAT = 1;
const FLOAT16 = 10;
const DOUBLE = 11;

export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

interface DecodedTensor {
  dims: Array<number | { toNumber(): number }>;
  dataType: number;
  floatData: number[];
  name: string;
  rawData: Uint8Array;
  doubleData: number[];
  dataLocation: number;
}

/** Reads the whole file and returns its graph's last initializer as float32 (inswapper's `emap`). */
export async function readLastInitializer(path: string): Promise<Initializer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new FaceError('E_MODEL_MISSING', `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return lastInitializerOf(bytes, path);
}

/** As readLastInitializer, from the model's bytes. */
export function lastInitializerOf(bytes: Uint8Array, label = 'the model'): Initializer {
  const bad = (why: string, cause?: unknown): FaceError => new FaceError('E_MODEL_CONTRACT', `${label}: cannot read the last graph initializer (${why})`, { cause });
  let last: [number, number] | undefined;
  try {
    const model = protobuf.Reader.create(bytes);
    let graph: [number, number] | undefined;
    while (model.pos < model.len) {
      const tag = model.uint32();
      if (tag >>> 3 === MODEL_GRAPH && (tag & 7) === WIRE_LEN) {
        const len = model.uint32();
        graph = [model.pos, model.pos + len];
        model.skip(len);
      } else {
        model.skipType(tag & 7);
      }
    }
    if (!graph) throw bad('the file has no graph');
    const g = protobuf.Reader.create(bytes.subarray(graph[0], graph[1]));
    while (g.pos < g.len) {
      const tag = g.uint32();
      if (tag >>> 3 === GRAPH_INITIALIZER && (tag & 7) === WIRE_LEN) {
        const len = g.uint32();
        last = [graph[0] + g.pos, graph[0] + g.pos + len];
        g.skip(len);
      } else {
        g.skipType(tag & 7);
      }
    }
  } catch (err) {
    if (err instanceof FaceError) throw err;
    throw bad(`not an ONNX protobuf: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  if (!last) throw bad('the graph has no initializers');
  const TensorProto = protobuf.parse(TENSOR_SCHEMA).root.lookupType('TensorProto');
  const t = TensorProto.toObject(TensorProto.decode(bytes.subarray(last[0], last[1])), { defaults: true }) as DecodedTensor;
  if (t.dataLocation === 1) throw bad(`"${t.name}" is stored in an external data file, which is not supported`);
  const dims = t.dims.map((d) => (typeof d === 'number' ? d : d.toNumber()));
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData;
  let data: Float32Array;
  if (t.dataType === FLOAT) {
    if (raw.length > 0) {
      // Copy: raw_data inside the file buffer is not 4-byte aligned in general.
      data = new Float32Array(Uint8Array.from(raw).buffer);
    } else data = Float32Array.from(t.floatData);
  } else if (t.dataType === FLOAT16) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    data = new Float32Array(raw.byteLength / 2);
    for (let i = 0; i < data.length; i++) data[i] = halfToFloat(view.getUint16(i * 2, true));
  } else if (t.dataType === DOUBLE) {
    if (raw.length > 0) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data = new Float32Array(raw.byteLength / 8);
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat64(i * 8, true);
    } else data = Float32Array.from(t.doubleData);
  } else {
    throw bad(`"${t.name}" has ONNX data type ${t.dataType}, expected a float type`);
  }
  if (data.length !== count) throw bad(`"${t.name}" holds ${data.length} values for dims [${dims.join(',')}]`);
  return { name: t.name, dims, data };
}
