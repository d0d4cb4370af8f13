/**
 * Spare pixel buffers by byte size, owned by a FrameStore: a video job at 25–120 frames/s would
 * otherwise allocate (and the GC later sweep) a fresh 1.4–2.7 MB buffer per decoded and per
 * derived frame. A buffer comes back only from a frame stored with `pooled: true` when it
 * leaves the store — a promise by its producer that nobody reads the pixels after the release
 * (the encoder releases a frame once ffmpeg's stdin has taken its bytes).
 *
 * Bounded: at most `perSize` spare buffers of one size and `maxBytes` in all; beyond that a
 * returned buffer is simply dropped for the GC. Spare buffers are not frames: they do not count
 * against the store's budget (they are what the budget's frames will reuse).
 */
export class BufferPool {
  private readonly spare = new Map<number, Uint8Array[]>();
  private bytes = 0;
  private reused = 0;
  private allocated = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly perSize = 8,
  ) {}

  /** A buffer of exactly `bytes` bytes, contents undefined (the caller overwrites all of it). */
  acquire(bytes: number): Uint8Array {
    const list = this.spare.get(bytes);
    const buffer = list?.pop();
    if (buffer) {
      this.bytes -= bytes;
      this.reused++;
      return buffer;
    }
    this.allocated++;
    // Not zero-filled: every byte is written before it is read (a decoded or copied frame).
    return new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes);
  }

  /** Takes a buffer back for reuse (dropped when the pool is full). */
  give(buffer: Uint8Array): void {
    const bytes = buffer.byteLength;
    if (bytes === 0 || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== bytes) return;
    if (this.bytes + bytes > this.maxBytes) return;
    let list = this.spare.get(bytes);
    if (!list) this.spare.set(bytes, (list = []));
    if (list.length >= this.perSize) return;
    list.push(buffer);
    this.bytes += bytes;
  }

  /** Drops every spare buffer. */
  clear(): void {
    this.spare.clear();
    this.bytes = 0;
  }

  stats(): { spareBytes: number; reused: number; allocated: number } {
    return { spareBytes: this.bytes, reused: this.reused, allocated: this.allocated };
  }
}
