import type { Pixels } from '../vision/yuv';
import type { FrameRef } from '../token/types';

export interface FrameStoreOptions {
  /** Byte budget for frame pixels. `reserve()` waits while it is used up. */
  budgetBytes: number;
  /** Default lifetime of a stored frame when `put` gives no expiry (ms). */
  defaultTtlMs?: number;
  /** How often the sweeper frees expired frames (ms); 0 disables the timer (call `sweep()` yourself). */
  sweepIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface PutOptions {
  /** Epoch ms after which the sweeper frees the frame (usually the token's expires_at). */
  expiresAt?: number;
  /** Free-form owner tag (job id, node id) used by `releaseOwner`. */
  owner?: string;
  /**
   * The frame's buffer came from `store.acquire()` and goes back to the store's pool when the
   * frame is released: the producer promises that nothing reads the pixels after the release.
   */
  pooled?: boolean;
}

export interface FrameStoreStats {
  frames: number;
  bytes: number;
  /** Highest `bytes + reservedBytes` ever seen. */
  peakBytes: number;
  budgetBytes: number;
  reservedBytes: number;
  /** Producers currently waiting in `reserve()`. */
  waiting: number;
  /** Frames freed by the TTL sweeper since creation. */
  swept: number;
  closed: boolean;
}

export interface ReserveOptions {
  /** Aborts the wait (rejects E_CLOSED). */
  signal?: AbortSignal;
  /** Longest wait for room (ms); then the reservation is refused with E_STORE_FULL. Default: no bound. */
  timeoutMs?: number;
  /**
   * Wait ahead of ordinary producers: for frames derived from work already admitted (a stage's
   * output), so it can finish and free its input instead of waiting behind new decodes.
   */
  priority?: boolean;
}

/** Room held for one frame; turn it into a stored frame with `put`, or give it back with `cancel`. */
export interface Reservation {
  readonly bytes: number;
  put(frame: Pixels, options?: PutOptions): FrameRef;
  cancel(): void;
}

/** Why a frame left the store: `release*()`, the TTL sweeper, or `close()`. */
export type ReleaseReason = 'released' | 'expired' | 'closed';

/** Told after a frame left the store (see `FrameStore.onRelease`). */
export type ReleaseListener = (ref: FrameRef, reason: ReleaseReason) => void;

export interface ReleaseOptions {
  /** Refs to leave in the store (still owned), e.g. a job's shared source frame. */
  keep?: Iterable<FrameRef>;
}
