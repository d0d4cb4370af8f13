import { randomUUID } from 'crypto';
import { FaceError } from '../errors';
import type { Runtime } from '../runtime';
import { createToken } from '../token/token';
import type { FaceToken, FrameRef, Parameters, Stage } from '../token/types';
import type { FfmpegLocator } from '../video/ffmpeg-path';
import { VideoDecoder, type DecoderStreamInfo } from '../video/decoder';
import { VideoEncoder, type EncodeResult } from '../video/encoder';
import { classifySource } from '../video/source';

export interface FrameTokenSourceOptions {
  runtime: Runtime;
  locator: FfmpegLocator;
  /** File path, stream URL or /dev/video*. */
  input: string;
  /** Tokens out whose frames are still in the store; the next frame waits (default 4). */
  maxInFlight?: number;
  operations?: Stage[];
  parameters?: Parameters;
  onReconnect?: (attempt: number, delayMs: number, reason: string) => void;
}

export interface SourcedToken {
  token: FaceToken;
  index: number;
  /** True for the final frame of a file (known because one frame is read ahead). */
  last: boolean;
  stream: DecoderStreamInfo;
}

/**
 * A video as a stream of face tokens, for flows (face-video-in): each decoded frame becomes a
 * token that OWNS its frame (owner = request_id), so whoever ends the token's life —
 * `runtime.release(token)` in face-video-out, or the TTL sweeper — frees it. At most
 * `maxInFlight` tokens are out at once (a token is out until its frame leaves the store), and
 * the decoder itself waits for store room, so a slow flow slows the decoder down instead of
 * growing memory or overflowing the stage nodes' queues.
 */
export class FrameTokenSource {
  private readonly decoder: VideoDecoder;
  private readonly out: FrameRef[] = [];
  private readonly options: FrameTokenSourceOptions;
  private readonly owner = `video-in:${randomUUID()}`;
  private stopped = false;
  private wakeTimer?: { timer: NodeJS.Timeout; resolve: () => void };
  frames = 0;

  /** Throws E_UNSUPPORTED_SOURCE synchronously for a refused URL scheme. */
  constructor(options: FrameTokenSourceOptions) {
    this.options = options;
    classifySource(options.input);
    this.decoder = new VideoDecoder({
      locator: options.locator,
      store: options.runtime.store,
      input: options.input,
      owner: this.owner,
      ...(options.onReconnect ? { onReconnect: options.onReconnect } : {}),
    });
  }

  get pid(): number | undefined {
    return this.decoder.pid;
  }

  get info(): DecoderStreamInfo | undefined {
    return this.decoder.info;
  }

  async *tokens(): AsyncGenerator<SourcedToken, void, undefined> {
    const { runtime } = this.options;
    const limit = Math.max(1, this.options.maxInFlight ?? 4);
    let held: SourcedToken | undefined;
    try {
      for await (const frame of this.decoder.frames()) {
        if (this.stopped) {
          runtime.store.release(frame.ref);
          break;
        }
        const request_id = randomUUID();
        // Re-own the decoded frame by the token (same pixels, no copy), so releasing the token frees it.
        const pixels = runtime.store.get(frame.ref);
        runtime.store.release(frame.ref);
        const ttlMs = runtime.tokenTtlMs;
        const ref = runtime.store.put(pixels, { owner: request_id, expiresAt: Date.now() + ttlMs });
        const token = createToken({
          request_id,
          target: { frame: ref, index: frame.index, pts: frame.pts, width: frame.width, height: frame.height },
          operations: this.options.operations ?? [],
          parameters: this.options.parameters ?? {},
          ttlMs,
        });
        this.frames++;
        const next: SourcedToken = { token, index: frame.index, last: false, stream: this.decoder.info! };
        if (held) {
          yield held;
          this.out.push(held.token.target.frame);
          await this.waitForRoom(limit);
        }
        held = next;
      }
      if (held && !this.stopped) {
        const last = { ...held, last: true };
        held = undefined;
        yield last;
      }
    } finally {
      if (held) runtime.release(held.token);
      runtime.store.releaseOwner(this.owner);
    }
  }

  /** Stops ffmpeg; tokens() ends at its next step. Tokens already out stay valid. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) {
      clearTimeout(this.wakeTimer.timer);
      this.wakeTimer.resolve();
    }
    await this.decoder.stop();
  }

  /** Waits while `limit` tokens are still out (their frame still in the store). */
  private async waitForRoom(limit: number): Promise<void> {
    const store = this.options.runtime.store;
    for (;;) {
      while (this.out.length > 0 && !store.has(this.out[0])) this.out.shift();
      const present = this.out.filter((ref) => store.has(ref)).length;
      if (present < limit || this.stopped) return;
      // The store has no release events; a short poll costs little next to a frame's work.
      await new Promise<void>((resolve) => {
        this.wakeTimer = { timer: setTimeout(resolve, 5), resolve };
      });
      this.wakeTimer = undefined;
    }
  }
}

export interface FrameTokenSinkOptions {
  runtime: Runtime;
  locator: FfmpegLocator;
  output: string;
  /** Default 25 when the frames do not say. */
  fps?: number;
  audioFrom?: string;
  keepAudio?: boolean;
  quality?: number;
  preset?: string;
}

/**
 * Face tokens → a video file or stream (face-video-out): opens the encoder on the first frame
 * (its size), writes each token's target frame at its index (in order, whatever the arrival
 * order) and frees everything else the token holds at once.
 */
export class FrameTokenSink {
  private encoder?: VideoEncoder;
  private readonly owner = `video-out:${randomUUID()}`;
  received = 0;
  skipped = 0;

  constructor(private readonly options: FrameTokenSinkOptions) {}

  get pid(): number | undefined {
    return this.encoder?.pid;
  }

  get open(): boolean {
    return this.encoder !== undefined;
  }

  async write(token: FaceToken, index: number, fps?: number): Promise<void> {
    const { runtime } = this.options;
    const store = runtime.store;
    const pixels = store.get(token.target.frame);
    if (!this.encoder) {
      const audioFrom = this.options.audioFrom && !classifySource(this.options.audioFrom).live ? this.options.audioFrom : undefined;
      this.encoder = new VideoEncoder({
        locator: this.options.locator,
        store,
        output: this.options.output,
        width: pixels.width,
        height: pixels.height,
        fps: fps ?? this.options.fps ?? 25,
        startIndex: index,
        ...(audioFrom ? { audioFrom } : {}),
        keepAudio: this.options.keepAudio !== false,
        ...(this.options.quality !== undefined ? { quality: this.options.quality } : {}),
        ...(this.options.preset ? { preset: this.options.preset } : {}),
      });
    }
    // Keep the pixels to write under our own ref; free the rest of the token (source, originals).
    store.release(token.target.frame);
    const ref = store.put(pixels, { owner: this.owner });
    runtime.release(token);
    this.received++;
    await this.encoder.write(index, ref);
  }

  async skip(index: number): Promise<void> {
    this.skipped++;
    await this.encoder?.skip(index);
  }

  async finish(): Promise<EncodeResult> {
    if (!this.encoder) throw new FaceError('E_VIDEO_ENCODE', `no frames were written to "${this.options.output}"`);
    try {
      return await this.encoder.finish();
    } finally {
      this.options.runtime.store.releaseOwner(this.owner);
    }
  }

  async abort(): Promise<void> {
    await this.encoder?.abort();
    this.options.runtime.store.releaseOwner(this.owner);
  }
}
