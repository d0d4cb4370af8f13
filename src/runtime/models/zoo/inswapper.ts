import type { SessionHandle } from '../../sessions';
import { FaceError } from '../../errors';
import type { IoContract } from '../types';
import { EmbeddingSwapper, INSWAPPER_128_SPEC, swapperContract } from './embedding-swapper';
import { readLastInitializer } from './onnx-initializer';

/** inswapper_128 / _fp16: target (1,3,128,128), source (1,512) → output (1,3,128,128) in [0,1]. */
export const INSWAPPER_CONTRACT: IoContract = {
  ...swapperContract(INSWAPPER_128_SPEC),
  outputs: [{ name: 'output', type: 'float32', shape: [1, 3, 128, 128] }],
};

/** Reads `emap` (the last initializer of the graph) from the model file and checks it is 512×512. */
export async function readEmap(modelPath: string): Promise<Float32Array> {
  const init = await readLastInitializer(modelPath);
  if (init.dims.length !== 2 || init.dims[0] !== 512 || init.dims[1] !== 512) {
    throw new FaceError('E_MODEL_CONTRACT', `${modelPath}: the last initializer "${init.name}" has dims [${init.dims.join(',')}], expected the 512×512 emap of inswapper`);
  }
  return init.data;
}

export class InswapperSwapper extends EmbeddingSwapper {
  constructor(session: SessionHandle, emap: Float32Array, modelId = 'inswapper_128') {
    super(session, INSWAPPER_128_SPEC, modelId, emap);
  }

  /** Builds the swapper, reading emap from the session's model file. */
  static async open(session: SessionHandle, modelId = 'inswapper_128'): Promise<InswapperSwapper> {
    return new InswapperSwapper(session, await readEmap(session.modelPath), modelId);
  }
}
