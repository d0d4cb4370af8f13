import type { FrameRef } from '../token/types';
import type { FrameStore } from './frame-store';

/**
 * Counts the frames a producer has handed out that are still in the store, and lets it wait
 * until fewer than `limit` are, woken by the store's release notifications (no polling):
 *
 *   const gate = new InFlightLimit(store, 4);
 *   for (...) { send(token); gate.track(token.target.frame); await gate.waitForRoom(); }
 *   gate.close();
 *
 * `close()` (or the store closing) ends every wait and unsubscribes from the store.
 */
export class InFlightLimit {
  private readonly out = new Set<FrameRef>();
  private readonly unsubscribe: () => void;
  private wake?: () => void;
  private closed = false;

  constructor(
    private readonly store: FrameStore,
    readonly limit: number,
  ) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`in-flight limit must be a whole number >= 1 (got ${limit})`);
    this.unsubscribe = store.onRelease((ref, reason) => {
      if (reason === 'closed') this.close();
      else if (this.out.delete(ref) && this.out.size < this.limit) this.resolveWait();
    });
  }

  /** Frames handed out and still stored. */
  get count(): number {
    return this.out.size;
  }

  /** Counts `ref` as out until the store frees it (a ref the store no longer holds is ignored). */
  track(ref: FrameRef): void {
    if (!this.closed && this.store.has(ref)) this.out.add(ref);
  }

  /** Resolves at once when fewer than `limit` frames are out or the limit is closed; else at the release that makes room. */
  waitForRoom(): Promise<void> {
    if (this.closed || this.out.size < this.limit) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const previous = this.wake;
      this.wake = () => {
        previous?.();
        resolve();
      };
    });
  }

  /**
   * Frees the frames still out, each with every frame of its owner (a token's derived frames
   * share the owner of its picture), then closes. For a producer that stops for good (a
   * redeploy): nobody will finish those frames. Returns how many tracked frames were freed.
   */
  freeOutstanding(): number {
    const refs = [...this.out];
    this.close();
    let n = 0;
    for (const ref of refs) {
      if (!this.store.has(ref)) continue;
      const owner = this.store.ownerOf(ref);
      if (owner !== undefined) this.store.releaseOwner(owner);
      this.store.release(ref);
      n++;
    }
    return n;
  }

  /** Ends any wait and stops listening to the store. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.clear();
    this.unsubscribe();
    this.resolveWait();
  }

  private resolveWait(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
