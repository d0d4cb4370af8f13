import type { FaceToken, FrameRef } from '../token/types';
import type { Reservation } from '../store/types';
import { expectedPixelBytes, type Pixels } from '../vision/yuv';
import type { ProcessorContext } from './context';
import type { StageResult } from './stage';

/** Default bound on a derived frame's wait for room in the store. */
const DEFAULT_STORE_WAIT_MS = 10_000;

/**
 * Room in the store for a frame a stage will derive (the size and form of `frame`: RGB, or YUV
 * 4:2:0 for a video job's frame), held before the
 * stage allocates it: the wait goes ahead of new decodes (this work was admitted already) and
 * is bounded, then E_STORE_FULL. Pass the reservation to storeDerivedTarget; cancel it (a no-op
 * once used) when the stage ends without storing.
 */
export function reserveDerived(ctx: ProcessorContext, frame: Pixels | { width: number; height: number }): Promise<Reservation> {
  const bytes = 'data' in frame ? expectedPixelBytes(frame) : frame.width * frame.height * 3;
  return ctx.store.reserve(bytes, { priority: true, timeoutMs: ctx.storeWaitMs ?? DEFAULT_STORE_WAIT_MS });
}

/**
 * Runs `make` with room reserved for one derived frame of the size of `like`, and gives the room
 * back if `make` does not use it.
 */
export async function withDerivedRoom(ctx: ProcessorContext, like: Pixels | { width: number; height: number }, make: (room: Reservation) => Promise<StageResult>): Promise<StageResult> {
  const room = await reserveDerived(ctx, like);
  try {
    return await make(room);
  } finally {
    room.cancel();
  }
}

/**
 * Stores a frame a stage derived from the token's target (into the reserved room) and returns
 * the new target (`pooled`: its buffer came from `store.acquire()` and goes back on release). The frame is owned by the token's request (released with it) and expires with it.
 */
export function storeDerivedTarget(ctx: ProcessorContext, token: FaceToken, frame: Pixels, room: Reservation, pooled = false): FaceToken['target'] {
  const ref: FrameRef = room.put(frame, { expiresAt: Date.parse(token.expires_at), owner: token.request_id, ...(pooled ? { pooled: true } : {}) });
  return { ...token.target, frame: ref, width: frame.width, height: frame.height };
}
