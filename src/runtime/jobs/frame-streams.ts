import { randomUUID } from 'crypto';
import { FaceError, toFaceError } from '../errors';
import type { Runtime } from '../runtime';
import { advance, createToken } from '../token/token';
import type { FaceToken, FrameRef, Parameters, Stage } from '../token/types';
import type { FfmpegLocator } from '../video/ffmpeg-path';
import type { DecoderStreamInfo, VideoDecoder, VideoDecoderOptions } from '../video/decoder';
import { InFlightLimit } from '../store/in-flight-limit';
import { VideoEncoder, type EncodeResult, type SkipFill } from '../video/encoder';
import { classifySource, redactUrl } from '../video/source';
import { defaultPreset } from '../video/io-defaults';
import { isYuv, type Pixels } from '../vision/yuv';
import type { OutputCheck } from './output';
import { VideoOutput } from './video-output';
import { VideoPipeline, type PipelineSourceOptions } from './video-pipeline';

/** Decoder settings a source passes on as given (reconnects of a live source, timeouts, size). */
export type FrameTokenSourceDecoderOptions = Pick<
  VideoDecoderOptions,
  'live' | 'maxReconnects' | 'reconnectBaseMs' | 'reconnectMaxMs' | 'ioTimeoutMs' | 'openTimeoutMs' | 'analyzeMs' | 'width' | 'height' | 'inputOptions' | 'onReconnect' | 'overload' | 'pin' | 'network'
>;

export interface FrameTokenSourceOptions extends FrameTokenSourceDecoderOptions {
  runtime: Runtime;
  locator: FfmpegLocator;
  /** File path, stream URL or /dev/video*. */
  input: string;
  /** Tokens out whose frames are still in the store; the next frame waits (default 4). */
  maxInFlight?: number;
  /**
   * The in-flight gate to use instead of one of `maxInFlight` (face-video-in's, which it also
   * reads for its status and frees on a redeploy): tokens() tracks each token's frame in it and
   * waits on it, and leaves closing it to its owner.
   */
  window?: InFlightLimit;
  operations?: Stage[];
  parameters?: Parameters;
  /** Told once when a live source's privacy scan is first stretched (the source runs ahead of the flow). */
  onNotice?: (level: 'info', message: string) => void;
}

/** The option names forwarded to the VideoDecoder. */
const DECODER_KEYS: readonly (keyof FrameTokenSourceDecoderOptions)[] = [
  'live',
  'maxReconnects',
  'reconnectBaseMs',
  'reconnectMaxMs',
  'ioTimeoutMs',
  'openTimeoutMs',
  'analyzeMs',
  'width',
  'height',
  'inputOptions',
  'onReconnect',
  'overload',
  'pin',
  'network',
];

export interface SourcedToken {
  token: FaceToken;
  index: number;
  /** True for the final frame of a file (known because one frame is read ahead). */
  last: boolean;
  /** Indexes right before this one that the source dropped (overload policy of a live source). */
  droppedBefore: number;
  stream: DecoderStreamInfo;
}

/**
 * A video as a stream of face tokens, for flows (face-video-in): each decoded frame becomes a
 * token that OWNS its frame (owner = request_id), so whoever ends the token's life —
 * `runtime.release(token)` in face-video-out, or the TTL sweeper — frees it. The source side is
 * the shared `VideoPipeline` (decoder, overload gaps, window, state, release): at most
 * `maxInFlight` tokens are out at once (a token is out until its frame leaves the store; the
 * wait is woken by the store's release notifications), and the decoder itself waits for store
 * room, so a slow flow slows the decoder down instead of growing memory or overflowing the
 * stage nodes' queues.
 */
export class FrameTokenSource {
  private readonly pipeline: VideoPipeline;
  private readonly options: FrameTokenSourceOptions;
  /** The in-flight gate while tokens() runs. */
  private gate?: InFlightLimit;

  /** Throws E_UNSUPPORTED_SOURCE synchronously for a refused URL scheme. */
  constructor(options: FrameTokenSourceOptions) {
    this.options = options;
    classifySource(options.input);
    const forwarded: Partial<PipelineSourceOptions> = {};
    for (const key of DECODER_KEYS) {
      // One key at a time keeps each value's own type; the cast only widens the target.
      if (options[key] !== undefined) (forwarded as Record<string, unknown>)[key] = options[key];
    }
    this.pipeline = new VideoPipeline(options.runtime, `video-in:${randomUUID()}`);
    this.pipeline.open({
      ...forwarded,
      locator: options.locator,
      input: options.input,
      // YUV 4:2:0 as decoded (half the bytes of RGB, no conversion); nodes that need RGB get it
      // from the store (FrameStore.get converts), face stages convert only around the faces.
      // Not pooled: a flow's frames may still be read (a thumbnail, a debug node) after release.
      pixelFormat: 'yuv420p',
    });
  }

  private get decoder(): VideoDecoder {
    return this.pipeline.decoder!;
  }

  get pid(): number | undefined {
    return this.decoder.pid;
  }

  get info(): DecoderStreamInfo | undefined {
    return this.decoder.info;
  }

  /** Tokens handed out by tokens() (a frame read ahead and never yielded does not count). */
  get frames(): number {
    return this.pipeline.framesRead;
  }

  /** Source frames dropped by the overload policy (live sources). */
  get dropped(): number {
    return this.decoder.dropped;
  }

  /** Most frames that waited at once in the overload queue (live sources under a drop policy). */
  get queuePeak(): number {
    return this.decoder.queuePeak;
  }

  /** The overload policy in effect (files: block). */
  get policy(): VideoDecoder['policy'] {
    return this.decoder.policy;
  }

  /** Tokens handed out whose frame is still in the store. */
  get inFlight(): number {
    return this.gate?.count ?? 0;
  }

  async *tokens(): AsyncGenerator<SourcedToken, void, undefined> {
    const { runtime } = this.options;
    const pipeline = this.pipeline;
    // NaN → 1 (never a gate that cannot open); Infinity → no practical limit.
    const limit = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, Math.floor(this.options.maxInFlight ?? 4) || 1));
    const gate = this.options.window ?? new InFlightLimit(runtime.store, limit);
    this.gate = gate;
    // The source's frame loop: its privacy stream (made by the first blurring frame's detect) is paced here.
    const loop = runtime.frameLoop(pipeline.owner, {
      live: this.decoder.live,
      shown: redactUrl(this.options.input),
      ...(this.options.onNotice ? { onNotice: this.options.onNotice } : {}),
    });
    try {
      // One frame is read ahead, to know which one is last.
      for await (const frame of pipeline.frames(gate, { readAhead: true })) {
        const request_id = randomUUID();
        const ttlMs = runtime.tokenTtlMs;
        // The token takes over the decoded frame (same pixels, no copy): releasing the token frees it.
        runtime.store.reown(frame.ref, request_id);
        runtime.store.setExpiry(frame.ref, Date.now() + ttlMs);
        let token = createToken({
          request_id,
          target: { frame: frame.ref, index: frame.index, pts: frame.pts, width: frame.width, height: frame.height },
          // The source's id: the blur stage's temporal hold tracks faces per job_id.
          job_id: pipeline.owner,
          operations: this.options.operations ?? [],
          parameters: this.options.parameters ?? {},
          ttlMs,
        });
        // The overload decision is journalled on the first frame after the frames it dropped.
        if (frame.droppedBefore > 0) token = advance(token, {}, pipeline.overloadEntry(frame));
        // A live source paces its privacy scan as a job's does (the frame loop), journalled as `cadence`.
        const cadence = loop.admit({ index: frame.index, droppedBefore: frame.droppedBefore, queued: this.decoder.queued });
        if (cadence) token = advance(token, {}, cadence);
        gate.track(frame.ref);
        yield { token, index: frame.index, last: frame.last, stream: this.decoder.info!, droppedBefore: frame.droppedBefore };
      }
    } finally {
      if (!this.options.window) gate.close();
      if (this.gate === gate) this.gate = undefined;
      // The source ended or was stopped: ffmpeg, frames never handed out and its face tracks (blur hold) go.
      await pipeline.close();
    }
  }

  /** Stops ffmpeg; tokens() ends at its next step. Tokens already out stay valid. */
  async stop(): Promise<void> {
    await this.pipeline.stop();
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
  /** Default: veryfast, or for a live source of a high pixel rate per core ultrafast (io-defaults defaultPreset). */
  preset?: string;
  /** The frames come from a live source (camera, stream): its default preset follows its pixel rate. */
  live?: boolean;
  /** Provenance marks on a video whose frames went through swap or enhance (default true). */
  provenance?: boolean;
  /** What a skipped index becomes (see VideoEncoderOptions.onSkip); 'hold' and 'repeat' keep a live video's time. */
  onSkip?: SkipFill;
  /** Where a file output may be written (an output named in a message): checked when it is created and again at the rename. */
  outputCheck?: OutputCheck;
}

/** What a sink wrote: the encoder's result, without `outputPath` when no frame arrived (nothing was written). */
export type SinkResult = Omit<EncodeResult, 'outputPath'> & { outputPath?: string };

/**
 * Face tokens → a video file or stream (face-video-out): opens the encoder on the first frame
 * (its size), writes each token's target frame at its index (in order, whatever the arrival
 * order) and frees everything else the token holds at once. `write()` takes the token: its
 * frames are freed whether the write succeeds or not. When the encoder cannot be opened (a bad
 * output), that first error is kept: every later write and `finish()` reject with it.
 *
 * A file is written like a job's (VideoOutput): under a temporary name in its folder, renamed
 * by `finish()`; a failed write or `abort()` leaves nothing under the final name. `finish()`
 * before any frame writes nothing and resolves with an empty result (no `outputPath`).
 */
export class FrameTokenSink {
  private encoder?: VideoEncoder;
  /** The encoder being opened (the output file is created first): concurrent writes wait for the same one. */
  private opening?: Promise<VideoEncoder>;
  private out?: VideoOutput;
  private failure?: FaceError;
  private readonly owner = `video-out:${randomUUID()}`;
  received = 0;
  skipped = 0;

  constructor(private readonly options: FrameTokenSinkOptions) {}

  get pid(): number | undefined {
    return this.encoder?.pid;
  }

  /** The encoder was opened (or is being opened) on a first frame, and did not fail to. */
  get open(): boolean {
    return this.opening !== undefined && !this.failure;
  }

  /** The temporary file the video is written to until `finish()` renames it (undefined for a stream, or before the first frame). */
  get partial(): string | undefined {
    return this.out?.partial;
  }

  async write(token: FaceToken, index: number, fps?: number): Promise<void> {
    const { runtime } = this.options;
    const store = runtime.store;
    const target = token.target.frame;
    let opening: Promise<VideoEncoder>;
    let ref: FrameRef;
    try {
      if (this.failure) throw this.failure;
      const pixels = store.pixels(target);
      opening = this.opening ?? this.openEncoder(pixels, this.startIndexFor(index, fps), fps, token);
      // The pixels move to a ref of our own (no copy, no new room needed) and the token is freed
      // whole. Deliberately not a reown: the release of the token's ref is what tells an upstream in-flight gate
      // (face-video-in) that the frame arrived, so frames parked here behind an index the flow
      // dropped do not hold the source back until the video stalls.
      ref = store.move(target, this.owner);
      runtime.release(token);
    } catch (error) {
      runtime.release(token);
      throw error;
    }
    this.received++;
    let encoder: VideoEncoder;
    try {
      encoder = await opening;
    } catch (error) {
      store.release(ref);
      throw error;
    }
    // The encoder frees `ref` once written (our owner tag is the backstop on finish/abort).
    await encoder.write(index, ref);
  }

  async skip(index: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.skipped++;
    const encoder = this.encoder ?? (this.opening ? await this.opening : undefined);
    await encoder?.skip(index);
  }

  /**
   * Closes the video: the encoder finishes and a file takes its final name. Before any frame
   * arrived nothing is written and the result is empty (no `outputPath`). When finishing fails,
   * the temporary file goes.
   */
  async finish(): Promise<SinkResult> {
    if (this.failure) throw this.failure;
    try {
      const encoder = this.encoder ?? (this.opening ? await this.opening : undefined);
      if (!encoder) return this.emptyResult();
      try {
        const encoded = await encoder.finish();
        return { ...encoded, outputPath: this.out?.renamed ? await this.out.commit() : encoded.outputPath };
      } catch (error) {
        await this.out?.discard().catch(() => undefined);
        throw error;
      }
    } finally {
      this.options.runtime.store.releaseOwner(this.owner);
    }
  }

  /** Stops ffmpeg, frees the frames it holds and removes the unfinished file (nothing is left under the final name). */
  async abort(): Promise<void> {
    const encoder = this.encoder ?? (await this.opening?.catch(() => undefined));
    await encoder?.abort();
    await this.out?.discard().catch(() => undefined);
    this.options.runtime.store.releaseOwner(this.owner);
  }

  /** A sink finished before its first frame: nothing was written. */
  private emptyResult(): SinkResult {
    return { frames: 0, dropped: this.skipped, repeated: 0, onSkip: this.options.onSkip ?? 'drop', late: 0, fps: this.options.fps ?? 25, durationSec: 0 };
  }

  /**
   * Where the video starts. Frames may arrive out of order (parallel branches, workers on other
   * machines over MQTT): when the first one to arrive is near the start of the video (within two
   * seconds of frames, at least 8), the video starts at index 0 and the earlier frames are waited
   * for like any gap (given up after the encoder's park limit, counted as dropped), instead of
   * being refused as already past. A flow joining a stream later starts at its first frame.
   */
  private startIndexFor(index: number, fps: number | undefined): number {
    const window = Math.max(8, Math.round((fps ?? this.options.fps ?? 25) * 2));
    return Number.isInteger(index) && index > 0 && index < window ? 0 : index;
  }

  /**
   * The encoder, sized by the first frame, on the output created first (a file under its
   * temporary name); a refusal (bad output, bad size) is kept as the sink's failure. Started
   * synchronously: the first write's call sets `opening` before it awaits anything.
   */
  private openEncoder(first: Pixels, startIndex: number, fps: number | undefined, firstToken: FaceToken): Promise<VideoEncoder> {
    const { width, height } = first;
    const o = this.options;
    const opening = (async (): Promise<VideoEncoder> => {
      try {
        const audioFrom = o.audioFrom && !classifySource(o.audioFrom).live ? o.audioFrom : undefined;
        const out = new VideoOutput(o.output, {
          ...(audioFrom ? { input: audioFrom } : {}),
          ...(o.outputCheck ? { check: o.outputCheck } : {}),
          // Marked from the first frame's journal: a swap or enhance stage that ran on it (with or without a face).
          ...(o.provenance === false ? {} : { provenance: { firstFrame: firstToken } }),
        });
        this.out = out;
        out.checkFolder();
        await out.open();
        return this.makeEncoder(out, width, height, startIndex, fps, first, audioFrom);
      } catch (error) {
        await this.out?.discard().catch(() => undefined);
        this.failure = toFaceError(error, 'E_VIDEO_ENCODE');
        throw this.failure;
      }
    })();
    // Awaited by the write that started it; a write that fails before then must not leave it unhandled.
    opening.catch(() => undefined);
    this.opening = opening;
    return opening;
  }

  private makeEncoder(out: VideoOutput, width: number, height: number, startIndex: number, fps: number | undefined, first: Pixels, audioFrom: string | undefined): VideoEncoder {
    const o = this.options;
    const rate = fps ?? o.fps ?? 25;
    this.encoder = new VideoEncoder({
      locator: o.locator,
      store: o.runtime.store,
      ...out.encoderTarget(),
      width,
      height,
      fps: rate,
      startIndex,
      ...(audioFrom ? { audioFrom } : {}),
      keepAudio: o.keepAudio !== false,
      ...(o.quality !== undefined ? { quality: o.quality } : {}),
      preset: o.preset || defaultPreset(o.live === true, width, height, rate),
      ...(o.onSkip ? { onSkip: o.onSkip } : {}),
      // Fed in the form the frames come in (YUV from face-video-in); another form is converted.
      ...(isYuv(first) ? { pixelFormat: 'yuv420p' as const, ...(first.matrix === 'bt709' ? { matrix: 'bt709' as const } : {}) } : {}),
    });
    return this.encoder;
  }
}
