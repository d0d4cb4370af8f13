import { FaceError } from '../errors';
import type { SessionHandle } from '../sessions';
import type { Frame, Point, Rect } from '../vision/frame';
import type { PixelTarget } from '../vision/blend';
import { EmbeddingSwapper, HYPERSWAP_256_SPEC, InswapperSwapper, SIMSWAP_256_SPEC, type SwapOptions } from './zoo';

/** What a model swapper takes from the source: a raw embedding (identity swappers) or the face picture. */
export interface SwapSourceInput {
  /** Raw embedding of the swapper's recognizer (arcface_w600k_r50). */
  embedding?: Float32Array;
  frame?: Frame;
  landmarks5?: readonly Point[];
}

export interface SwapperEngineOptions extends SwapOptions {
  pixelBoost?: number;
  weight?: number;
  targetEmbedding?: Float32Array;
  masks?: Array<(crop: Frame) => Promise<Float32Array>>;
}

export interface SwapperEngine {
  readonly modelId: string;
  readonly provider: string;
  readonly sourceKind: 'embedding' | 'image';
  swapInto(out: PixelTarget, frame: Frame, landmarks5: readonly Point[], source: SwapSourceInput, options?: SwapperEngineOptions): Promise<Rect>;
}

function embeddingEngine(model: EmbeddingSwapper): SwapperEngine {
  return {
    modelId: model.modelId,
    get provider() { return model.provider; },
    sourceKind: 'embedding',
    swapInto: (out, frame, landmarks5, source, options) => {
      if (!source.embedding) throw new FaceError('E_NO_SOURCE', `${model.modelId} needs the source face's embedding`);
      return model.swapInto(out, frame, landmarks5, source.embedding, options);
    },
  };
}

/** A model swapper by contract id, on a loaded session (its converter's session when it needs one). */
export async function openSwapperEngine(contract: string, handle: SessionHandle, modelId: string, _deps: { converter?: SessionHandle } = {}): Promise<SwapperEngine> {
  switch (contract) {
    case 'inswapper_128': return embeddingEngine(await InswapperSwapper.open(handle, modelId));
    case 'simswap_256': return embeddingEngine(new EmbeddingSwapper(handle, SIMSWAP_256_SPEC, modelId));
    case 'hyperswap_256': return embeddingEngine(new EmbeddingSwapper(handle, HYPERSWAP_256_SPEC, modelId));
    default:
      throw new FaceError('E_MODEL_CONTRACT', `${modelId}: no swapper adapter for the contract "${contract}" (supported: inswapper_128, simswap_256, hyperswap_256)`, { details: { model: modelId } });
  }
}
