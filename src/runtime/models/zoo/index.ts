import type { IoContract } from '../types';
import type { SessionHandle } from '../../sessions';
import { SCRFD_CONTRACT } from './scrfd';
import { YUNET_CONTRACT } from './yunet';
import { RETINAFACE_MXNET_CONTRACT } from './retinaface-mxnet';
import { YOLOFACE_CONTRACT } from './yoloface';
import { FAN2D4_CONTRACT } from './fan2d4';
import { FAN68FROM5_CONTRACT } from './fan68from5';
import { ARCFACE_CONTRACT } from './arcface';
import { CODEFORMER_CONTRACT, GFPGAN_CONTRACT } from './gfpgan';
import { CROSSFACE_GHOST_CONTRACT, CROSSFACE_HIFIFACE_CONTRACT, CROSSFACE_SIMSWAP_CONTRACT } from './crossface';
import { ZOO_SWAPPER_CONTRACTS } from './swappers';
import { BISENET_CONTRACT, XSEG_CONTRACT } from './maskers';

export * from './common';
export * from './letterbox-detector';
export * from './paste-back';
export * from './onnx-initializer';
export * from './scrfd';
export * from './yunet';
export * from './retinaface-mxnet';
export * from './yoloface';
export * from './fan2d4';
export * from './fan68from5';
export * from './arcface';
export * from './gfpgan';
export * from './crossface';
export * from './swappers';
export * from './maskers';

/**
 * Name contracts for SessionPool.acquire, by contract id. Where exports of a model name their
 * tensors differently (detectors, landmarkers, arcface, enhancers) the contract pins only what
 * is known (often just the input) and the adapter's constructor checks the rest by position.
 */
export const ZOO_CONTRACTS: Readonly<Record<string, IoContract>> = Object.freeze({
  scrfd: SCRFD_CONTRACT,
  yunet: YUNET_CONTRACT,
  retinaface_mxnet: RETINAFACE_MXNET_CONTRACT,
  yoloface: YOLOFACE_CONTRACT,
  '2dfan4': FAN2D4_CONTRACT,
  fan_68_5: FAN68FROM5_CONTRACT,
  arcface_w600k_r50: ARCFACE_CONTRACT,
  ...ZOO_SWAPPER_CONTRACTS,
  crossface_simswap: CROSSFACE_SIMSWAP_CONTRACT,
  crossface_ghost: CROSSFACE_GHOST_CONTRACT,
  crossface_hififace: CROSSFACE_HIFIFACE_CONTRACT,
  gfpgan: GFPGAN_CONTRACT,
  codeformer: CODEFORMER_CONTRACT,
  xseg: XSEG_CONTRACT,
  bisenet: BISENET_CONTRACT,
});

/**
 * Builds an adapter on a handle and releases the handle when the adapter refuses it (a
 * constructor throwing E_MODEL_CONTRACT must not leak the session).
 */
export async function adoptSession<T>(handle: SessionHandle, create: (handle: SessionHandle) => T | Promise<T>): Promise<T> {
  try {
    return await create(handle);
  } catch (err) {
    await handle.release().catch(() => undefined);
    throw err;
  }
}
