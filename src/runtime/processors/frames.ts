import type { FaceToken, FrameRef } from '../token/types';
import type { Frame } from '../vision/frame';
import type { ProcessorContext } from './context';

/**
 * Stores a frame a stage derived from the token's target and returns the new target.
 * The frame is owned by the token's request (released with it) and expires with it.
 */
export function storeDerivedTarget(ctx: ProcessorContext, token: FaceToken, frame: Frame): FaceToken['target'] {
  const ref: FrameRef = ctx.store.put(frame, { expiresAt: Date.parse(token.expires_at), owner: token.request_id });
  return { ...token.target, frame: ref, width: frame.width, height: frame.height };
}
