import type { Readable } from 'stream';

/**
 * Reads fixed-size frames from a byte stream straight into caller-provided buffers: each chunk
 * is copied once into place (no per-frame concatenation), and the stream stays paused between
 * `readInto` calls, so nothing is read from the pipe while the caller waits for room.
 */
export class FrameReader {
  private leftover?: Buffer;
  private ended = false;
  private failure?: Error;
  private target?: Uint8Array;
  private offset = 0;
  private settle?: (filled: boolean) => void;
  private reject?: (error: Error) => void;

  constructor(private readonly stream: Readable) {
    stream.pause();
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.once('end', () => this.onEnd());
    stream.once('close', () => this.onEnd());
    stream.once('error', (error: Error) => {
      this.failure = error;
      this.onEnd();
    });
  }

  /**
   * Fills `target` completely. Resolves true when filled, false when the stream ended first
   * (a partial frame is discarded).
   */
  readInto(target: Uint8Array): Promise<boolean> {
    if (this.settle) return Promise.reject(new Error('FrameReader.readInto is already in progress'));
    this.target = target;
    this.offset = 0;
    return new Promise<boolean>((resolve, reject) => {
      this.settle = resolve;
      this.reject = reject;
      const leftover = this.leftover;
      this.leftover = undefined;
      if (leftover) this.onData(leftover);
      // Still waiting after the leftover: read on from the pipe (or report its end).
      if (this.waiting()) {
        if (this.ended) this.onEnd();
        else this.stream.resume();
      }
    });
  }

  private waiting(): boolean {
    return this.settle !== undefined;
  }

  private onData(chunk: Buffer): void {
    const target = this.target;
    if (!target || !this.settle) {
      // Arrived after pause() took effect: keep it for the next frame.
      this.leftover = this.leftover ? Buffer.concat([this.leftover, chunk]) : chunk;
      this.stream.pause();
      return;
    }
    const take = Math.min(chunk.length, target.length - this.offset);
    target.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.offset);
    this.offset += take;
    if (this.offset < target.length) return;
    this.stream.pause();
    if (take < chunk.length) this.leftover = chunk.subarray(take);
    this.finish(true);
  }

  private onEnd(): void {
    this.ended = true;
    if (!this.settle) return;
    if (this.failure && this.reject) {
      const reject = this.reject;
      this.clear();
      reject(this.failure);
      return;
    }
    this.finish(false);
  }

  private finish(filled: boolean): void {
    const settle = this.settle;
    this.clear();
    settle?.(filled);
  }

  private clear(): void {
    this.settle = undefined;
    this.reject = undefined;
    this.target = undefined;
    this.offset = 0;
  }
}
