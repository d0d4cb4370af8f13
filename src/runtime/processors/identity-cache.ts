import type { Face, FrameRef } from '../token/types';

/** A source face analysed by one recognizer: what `token.source` keeps of it. */
export interface SourceIdentity {
  face: Face;
  embedding: number[];
  embedding_model: string;
  embedding_norm: number;
}

/**
 * Source identities by (source frame, recognizer). Every frame token of a video job, and every
 * message of a flow reusing one source picture, shares its source frame: the recognizer runs
 * once for it, not once per frame. Small LRU; frame refs are never reused, so an entry of a
 * released frame is only dead weight until it is pushed out. Owned by the runtime.
 */
export class IdentityCache {
  private readonly entries = new Map<string, SourceIdentity>();

  constructor(private readonly capacity = 16) {}

  get(frame: FrameRef, model: string): SourceIdentity | undefined {
    const key = `${frame}|${model}`;
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
    }
    return found;
  }

  set(frame: FrameRef, model: string, identity: SourceIdentity): void {
    const key = `${frame}|${model}`;
    this.entries.delete(key);
    this.entries.set(key, identity);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
