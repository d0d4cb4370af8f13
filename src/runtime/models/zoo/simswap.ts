import type { SessionHandle } from '../../sessions';
import type { IoContract } from '../types';
import { EmbeddingSwapper, SIMSWAP_256_SPEC, swapperContract } from './embedding-swapper';

export const SIMSWAP_256_CONTRACT: IoContract = swapperContract(SIMSWAP_256_SPEC);

/** simswap_256: arcface_112_v1 @256, ImageNet mean/std, output [0,1], normalised source embedding. */
export class SimswapSwapper extends EmbeddingSwapper {
  constructor(session: SessionHandle, modelId = 'simswap_256') {
    super(session, SIMSWAP_256_SPEC, modelId);
  }
}
