import type { SessionHandle } from '../sessions';
import { openSwapper, type SwapSource, type ZooSwapOptions, type ZooSwapper } from './zoo';

/** What a model swapper takes from the source: a raw embedding (identity swappers) or the face picture. */
export type SwapSourceInput = SwapSource;
export type SwapperEngineOptions = ZooSwapOptions;
export type SwapperEngine = ZooSwapper;

/** A model swapper by contract id, on a loaded session (and its converter's session when it needs one). */
export function openSwapperEngine(contract: string, handle: SessionHandle, modelId: string, deps: { converter?: SessionHandle } = {}): Promise<SwapperEngine> {
  return openSwapper(contract, handle, modelId, deps);
}
