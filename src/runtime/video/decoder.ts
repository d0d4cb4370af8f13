import { FaceError, toFaceError } from '../errors';
import type { FrameStore, Reservation } from '../store';
import type { FrameRef } from '../token/types';
import { yuvLayout, type Pixels } from '../vision/yuv';
import { assertHostResolves, explainFfmpegFailure } from './host-check';
import type { FfmpegLocator } from './ffmpeg-path';
import { FrameReader } from './frame-reader';
import { describeExit, FfmpegProcess } from './process';
import { assertReadableFile, parseFfmpegDump, type StreamInfo } from './probe';
import { classifySource, guardedEnv, isHttpSource, type MediaSource } from './source';
import { decoderArgs } from './ffmpeg-args';
import { EVERY_NTH, FALLBACK_FPS, IO_TIMEOUT_MS, liveQueueFrames, MAX_RECONNECTS, OPEN_TIMEOUT_MS, RECONNECT_BASE_MS, RECONNECT_MAX_MS } from './io-defaults';

/**
 * What a live source does when frames arrive faster than they are taken:
 * - `block`: ffmpeg waits (nothing is dropped; latency grows while the consumer is slower — files always block);
 * - `drop-oldest`: at most `maxQueue` frames wait; a new frame pushes the oldest waiting one out (lowest latency);
 * - `drop-newest`: at most `maxQueue` frames wait; a new frame that does not fit is dropped;
 * - `every-nth`: only every `everyNth`-th source frame is kept (the rest dropped), then as `drop-oldest`.
 * Dropped frames keep their index: the consumer sees a gap (and the encoder fills it, so time is kept).
 */
export type OverloadPolicy = 'block' | 'drop-oldest' | 'drop-newest' | 'every-nth';
export const OVERLOAD_POLICIES: readonly OverloadPolicy[] = ['block', 'drop-oldest', 'drop-newest', 'every-nth'];

export interface OverloadOptions {
  /**
   * Default for live sources: drop-oldest — except an http(s):// or tcp:// source that reports a
   * duration (a file on a server, not paced in real time: nothing is dropped from it); files always block.
   */
  policy?: OverloadPolicy;
  /** Frames waiting for the consumer before the policy drops (default: 0.3 s of the source's frames, 8 at 25 fps; io-defaults LIVE_QUEUE_SEC). */
  maxQueue?: number;
  /** For `every-nth`: keep one frame in this many (default 2). */
  everyNth?: number;
}

/** One decoded frame, already in the frame store. The consumer releases `ref`. */
export interface DecodedFrame {
  ref: FrameRef;
  /** 0-based, continuous across reconnects. */
  index: number;
  /** Presentation time in seconds: index / fps. */
  pts: number;
  width: number;
  height: number;
}

export interface VideoDecoderOptions {
  locator: FfmpegLocator;
  store: FrameStore;
  /** File path, allowed stream URL (see INPUT_SCHEMES) or /dev/video*. */
  input: string;
  /** Scale frames to this size (both or neither); live sources keep their first size across reconnects. */
  width?: number;
  height?: number;
  /** Treat the source as live (reconnect when it drops). Default: URLs and devices are live, files are not. */
  live?: boolean;
  /** Reconnect attempts in a row before giving up (default 10; 0 = never reconnect). Reset by a delivered frame. */
  maxReconnects?: number;
  /** First reconnect delay (ms, default 500), doubled each attempt up to `reconnectMaxMs` (default 8000). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** Network read timeout given to ffmpeg (ms, default 10000). */
  ioTimeoutMs?: number;
  /** Stream analysis before the first frame of a live source (ms, default 1000; ffmpeg's own default is 5000). */
  analyzeMs?: number;
  /** How long to wait for ffmpeg's stream info after starting it (ms, default 30000). */
  openTimeoutMs?: number;
  /** Owner tag for the stored frames (job id), so `store.releaseOwner` can free them. */
  owner?: string;
  /** Lifetime of each stored frame (ms); the store's default when absent. */
  frameTtlMs?: number;
  /** Called before each reconnect of a live source. */
  onReconnect?: (attempt: number, delayMs: number, reason: string) => void;
  /** Extra options for ffmpeg placed before `-i` (e.g. ['-framerate', '30'] for a device). */
  inputOptions?: string[];
  /** Live sources only: what happens when frames come faster than they are taken (see OverloadPolicy). */
  overload?: OverloadOptions;
  /**
   * The source came from a message: its HTTP(S) requests (playlist, segments, redirects) go
   * through this guard, which connects only to addresses its host policy allows (see
   * policy/http-guard.ts). Other schemes are expected pinned to a checked address already.
   */
  network?: { url(): Promise<string> };
  /**
   * Checks the input before anything is opened and gives what to open instead (a file's real
   * path, a stream URL with its host's checked address): e.g. `runtime.paths.source` for an input
   * from a message. A throw ends `frames()` with that error.
   */
  pin?: (input: string) => Promise<string>;
  /**
   * `rgb24` (default): RGB frames. `yuv420p`: ffmpeg's planar YUV 4:2:0 as decoded (no
   * conversion, half the bytes through the pipe); the frames are YuvFrames (vision/yuv.ts).
   */
  pixelFormat?: 'rgb24' | 'yuv420p';
  /**
   * Frame buffers come from the store's pool and go back to it on release (PutOptions.pooled):
   * only for a consumer that reads no frame after releasing it (a video job).
   */
  pooled?: boolean;
}

/** What ffmpeg reported for the running decode: output size and rate, input duration and codec. */
export interface DecoderStreamInfo {
  width: number;
  height: number;
  fps: number;
  durationSec?: number;
  hasAudio: boolean;
  videoCodec?: string;
  /** BT.709 when ffmpeg printed it for the stream (YUV frames carry it; else BT.601). */
  matrix?: 'bt709';
}

type RunEnd = { kind: 'stopped' } | { kind: 'ended'; reason: string; ok: boolean; delivered: number; nextIndex?: number };

/**
 * Decodes a file, stream or device into frames in the frame store (RGB, or YUV 4:2:0 with
 * `pixelFormat: 'yuv420p'`). Each frame's bytes are
 * `reserve()`d before they are read from ffmpeg's pipe, and the pipe stays paused while the
 * store is full, so a slow consumer stalls ffmpeg instead of growing memory.
 *
 *   const decoder = new VideoDecoder({ locator, store, input: 'in.mp4' });
 *   for await (const f of decoder.frames()) { ...; store.release(f.ref); }
 *
 * `frames()` may be iterated once. `stop()` ends it early; breaking out of the loop does too.
 */
export class VideoDecoder {
  private readonly options: VideoDecoderOptions;
  private source: MediaSource;
  /** A live source (a stream or device, or `live` given): its overload policy drops frames, its scan is paced. */
  readonly live: boolean;
  private readonly abort = new AbortController();
  private child?: FfmpegProcess;
  private started = false;
  private stopped = false;
  private stream?: DecoderStreamInfo;
  private delayTimer?: { timer: NodeJS.Timeout; resolve: () => void };
  private droppedFrames = 0;
  /** Most frames waiting in the drop policy's queue at once, and how many wait now. */
  private queuePeakFrames = 0;
  private queuedFrames = 0;
  /** The policy was given: never changed by what the source turns out to be. */
  private readonly policyChosen: boolean;
  private readonly overload: Required<OverloadOptions>;

  /** Throws E_UNSUPPORTED_SOURCE / E_BAD_PARAMETER synchronously; file existence is checked when frames() starts. */
  constructor(options: VideoDecoderOptions) {
    this.options = options;
    this.source = classifySource(options.input);
    this.live = options.live ?? this.source.live;
    const o = options.overload ?? {};
    if (o.policy !== undefined && !OVERLOAD_POLICIES.includes(o.policy))
      throw new FaceError('E_BAD_PARAMETER', `overload policy must be one of ${OVERLOAD_POLICIES.join(', ')} (got ${String(o.policy)})`);
    for (const [name, value] of [
      ['maxQueue', o.maxQueue],
      ['everyNth', o.everyNth],
    ] as const) {
      if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new FaceError('E_BAD_PARAMETER', `overload ${name} must be a whole number >= 1 (got ${value})`);
    }
    this.overload = { policy: this.live ? (o.policy ?? 'drop-oldest') : 'block', maxQueue: o.maxQueue ?? liveQueueFrames(0), everyNth: o.everyNth ?? EVERY_NTH };
    this.policyChosen = o.policy !== undefined;
    if ((options.width === undefined) !== (options.height === undefined)) {
      throw new FaceError('E_BAD_PARAMETER', 'give both width and height to scale decoded frames, or neither');
    }
    for (const [name, value] of [
      ['width', options.width],
      ['height', options.height],
    ] as const) {
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new FaceError('E_BAD_PARAMETER', `decoder ${name} must be a positive integer (got ${value})`);
    }
  }

  /** pid of the current ffmpeg child, if one is running. */
  get pid(): number | undefined {
    return this.child?.running ? this.child.pid : undefined;
  }

  /** Source frames dropped by the overload policy (live sources). */
  get dropped(): number {
    return this.droppedFrames;
  }

  /** Most frames that waited at once in the overload queue (drop policies; 0 under block). */
  get queuePeak(): number {
    return this.queuePeakFrames;
  }

  /** Frames waiting in the overload queue now (drop policies). */
  get queued(): number {
    return this.queuedFrames;
  }

  /** The overload policy in effect (files: block). */
  get policy(): Readonly<Required<OverloadOptions>> {
    return this.overload;
  }

  /** Output size/rate once the first ffmpeg run has reported them. */
  get info(): DecoderStreamInfo | undefined {
    return this.stream;
  }

  /** The decoded frames in order. Throws E_VIDEO_OPEN / E_VIDEO_DECODE / E_FFMPEG_MISSING. */
  async *frames(): AsyncGenerator<DecodedFrame, void, undefined> {
    if (this.started) throw new FaceError('E_BAD_PARAMETER', 'VideoDecoder.frames() can be iterated only once; create a new decoder');
    this.started = true;
    try {
      if (this.stopped) return;
      if (this.options.pin) {
        const pinned = classifySource(await this.options.pin(this.options.input));
        if (pinned.kind !== this.source.kind || pinned.scheme !== this.source.scheme) throw new FaceError('E_PATH_DENIED', `"${this.options.input}" changed kind when checked`);
        this.source = pinned;
      }
      if (this.source.kind === 'file') assertReadableFile(this.source.input);
      await assertHostResolves(this.source, this.options.ioTimeoutMs ?? IO_TIMEOUT_MS);
      const ffmpeg = await this.options.locator.resolve();
      const guard = this.options.network && isHttpSource(this.source) ? { proxy: await this.options.network.url() } : undefined;
      let index = 0;
      let attempt = 0;
      for (;;) {
        const child = new FfmpegProcess(ffmpeg.path, this.buildArgs(ffmpeg.major, guard), { stdin: false, ...(guard ? { env: guardedEnv() } : {}) });
        this.child = child;
        if (this.stopped) {
          await child.kill();
          return;
        }
        let end: RunEnd;
        const run = this.runOnce(child, index);
        try {
          for (;;) {
            const next = await run.next();
            if (next.done) {
              end = next.value;
              break;
            }
            index = next.value.index + 1;
            yield next.value;
          }
        } finally {
          // Also reached when the consumer breaks out: never leave ffmpeg behind.
          await run.return({ kind: 'stopped' });
          await child.kill();
        }
        if (end.kind === 'stopped' || this.stopped) return;
        if (end.nextIndex !== undefined) index = Math.max(index, end.nextIndex);
        if (end.ok && !this.live) return;
        if (!this.live)
          throw new FaceError(index === 0 ? 'E_VIDEO_OPEN' : 'E_VIDEO_DECODE', `decoding "${this.options.input}" failed: ${end.reason}`, { details: { input: this.options.input, frames: index } });
        if (end.delivered > 0) attempt = 0;
        attempt++;
        const max = this.options.maxReconnects ?? MAX_RECONNECTS;
        if (attempt > max) {
          throw new FaceError('E_VIDEO_DECODE', `live source "${this.options.input}" was lost and ${max} reconnect attempt(s) failed: ${end.reason}`, {
            details: { input: this.options.input, frames: index },
          });
        }
        const delay = Math.min(this.options.reconnectMaxMs ?? RECONNECT_MAX_MS, (this.options.reconnectBaseMs ?? RECONNECT_BASE_MS) * 2 ** (attempt - 1));
        this.options.onReconnect?.(attempt, delay, end.reason);
        await this.sleep(delay);
        if (this.stopped) return;
      }
    } finally {
      this.child = undefined;
    }
  }

  /**
   * Ends decoding: ffmpeg gets SIGTERM, then SIGKILL after 2 s; a wait for store room or a
   * reconnect delay is cut short. Resolves once ffmpeg has exited; `frames()` then finishes at
   * its next step without yielding more. Idempotent. Frames already yielded stay in the store:
   * their consumer releases them.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.delayTimer) {
      clearTimeout(this.delayTimer.timer);
      this.delayTimer.resolve();
      this.delayTimer = undefined;
    }
    const child = this.child;
    if (child) await child.kill();
  }

  private buildArgs(major: number | undefined, guard?: { proxy: string }): string[] {
    const o = this.options;
    const size = o.width !== undefined && o.height !== undefined ? { width: o.width, height: o.height } : this.live ? this.stream : undefined;
    return decoderArgs({
      source: this.source,
      ioTimeoutMs: o.ioTimeoutMs ?? IO_TIMEOUT_MS,
      ...(major !== undefined ? { ffmpegMajor: major } : {}),
      ...(o.analyzeMs !== undefined ? { analyzeMs: o.analyzeMs } : {}),
      ...(guard ? { guard } : {}),
      ...(o.inputOptions ? { inputOptions: o.inputOptions } : {}),
      ...(size ? { scale: { width: size.width, height: size.height } } : {}),
      // A live source keeps its first frame rate across reconnects, so pts stay on one clock.
      ...(this.live && this.stream ? { fps: this.stream.fps } : {}),
      ...(o.pixelFormat ? { pixelFormat: o.pixelFormat } : {}),
    });
  }

  /** One ffmpeg run: wait for its stream info, then frames until the pipe ends. */
  private async *runOnce(child: FfmpegProcess, firstIndex: number): AsyncGenerator<DecodedFrame, RunEnd, undefined> {
    const stdout = child.child.stdout;
    if (!stdout) throw new FaceError('E_INTERNAL', 'ffmpeg has no stdout pipe');
    const reader = new FrameReader(stdout);
    const header = await this.waitForHeader(child);
    if (!header) {
      const exit = await child.exited;
      if (exit.error) throw new FaceError('E_FFMPEG_MISSING', describeExit(exit), { cause: exit.error });
      if (this.stopped) return { kind: 'stopped' };
      const tail = child.stderrTail(4);
      const explained = explainFfmpegFailure(tail);
      return { kind: 'ended', ok: false, delivered: 0, reason: `${explained ? `${explained}; ` : ''}${describeExit(exit)} before any frame: ${tail || 'no output'}` };
    }
    const { width, height, fps } = header;
    const bytes = this.frameBytes(width, height);
    const o = this.options;
    // A file served over http(s)/tcp is read as fast as ffmpeg can: dropping would lose frames for nothing.
    if (!this.policyChosen && this.overload.policy !== 'block' && (this.source.scheme === 'http' || this.source.scheme === 'https' || this.source.scheme === 'tcp')) {
      const duration = parseFfmpegDump(child.stderrHead()).input?.durationSec;
      if (duration !== undefined && duration > 0) this.overload.policy = 'block';
    }
    if (this.overload.policy !== 'block') return yield* this.runQueued(child, reader, header, firstIndex);
    let index = firstIndex;
    for (;;) {
      if (this.stopped) return { kind: 'stopped' };
      const reservation = await this.reserve(bytes);
      if (!reservation) return { kind: 'stopped' };
      let frame: Pixels;
      let filled: boolean;
      try {
        const data = o.pooled ? o.store.acquire(bytes) : new Uint8Array(bytes);
        filled = await reader.readInto(data);
        frame = this.frameOf(width, height, data, header.matrix);
      } catch (error) {
        reservation.cancel();
        throw toFaceError(error, 'E_VIDEO_DECODE');
      }
      if (!filled || this.stopped) {
        reservation.cancel();
        if (this.stopped) return { kind: 'stopped' };
        const exit = await child.exited;
        const ok = exit.code === 0;
        return { kind: 'ended', ok, delivered: index - firstIndex, reason: ok ? 'the stream ended' : `${describeExit(exit)}: ${child.stderrTail(4)}` };
      }
      const ref = reservation.put(frame, this.putOptions());
      yield { ref, index, pts: index / fps, width, height };
      index++;
    }
  }

  /**
   * A live run under a drop policy: a pump reads every frame from ffmpeg as it comes (so the source
   * is never held back and nothing queues up in pipes or sockets) into a queue of at most
   * `maxQueue` frames outside the store; the consumer takes from the queue, waiting for store
   * room. Frames that do not fit are dropped per the policy and counted; indexes keep counting.
   */
  private async *runQueued(
    child: FfmpegProcess,
    reader: FrameReader,
    size: { width: number; height: number; fps: number; matrix?: 'bt709' },
    firstIndex: number,
  ): AsyncGenerator<DecodedFrame, RunEnd, undefined> {
    const { width, height, fps } = size;
    const bytes = this.frameBytes(width, height);
    const o = this.options;
    // The default queue is a time (LIVE_QUEUE_SEC), in frames once the stream's rate is known.
    if (o.overload?.maxQueue === undefined) this.overload.maxQueue = liveQueueFrames(fps);
    const { policy, maxQueue, everyNth } = this.overload;
    const queue: { data: Uint8Array; index: number }[] = [];
    const spare: Uint8Array[] = [];
    let readIndex = firstIndex;
    let ended: RunEnd | undefined;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const signal = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const drop = (data: Uint8Array): void => {
      this.droppedFrames++;
      if (spare.length < 2) spare.push(data);
    };
    const pump = (async () => {
      try {
        for (;;) {
          if (this.stopped) return;
          const data = spare.pop() ?? (o.pooled ? o.store.acquire(bytes) : new Uint8Array(bytes));
          const filled = await reader.readInto(data);
          if (!filled || this.stopped) {
            if (this.stopped) return;
            const exit = await child.exited;
            const ok = exit.code === 0;
            ended = { kind: 'ended', ok, delivered: readIndex - firstIndex, nextIndex: readIndex, reason: ok ? 'the stream ended' : `${describeExit(exit)}: ${child.stderrTail(4)}` };
            return;
          }
          const index = readIndex++;
          if (policy === 'every-nth' && index % everyNth !== 0) {
            drop(data);
            continue;
          }
          if (queue.length >= maxQueue) {
            if (policy === 'drop-newest') {
              drop(data);
              continue;
            }
            drop(queue.shift()!.data);
          }
          queue.push({ data, index });
          this.queuedFrames = queue.length;
          if (queue.length > this.queuePeakFrames) this.queuePeakFrames = queue.length;
          signal();
        }
      } catch (error) {
        failure = error;
      } finally {
        signal();
      }
    })();
    try {
      for (;;) {
        while (queue.length === 0 && !ended && !failure && !this.stopped) await new Promise<void>((resolve) => (wake = resolve));
        if (this.stopped) return { kind: 'stopped' };
        if (failure) throw toFaceError(failure, 'E_VIDEO_DECODE');
        if (queue.length === 0) return ended ?? { kind: 'stopped' };
        const reservation = await this.reserve(bytes);
        if (!reservation) return { kind: 'stopped' };
        // The oldest waiting frame may have been pushed out while we waited for room.
        const item = queue.shift();
        this.queuedFrames = queue.length;
        if (!item || this.stopped) {
          reservation.cancel();
          if (this.stopped) return { kind: 'stopped' };
          continue;
        }
        const ref = reservation.put(this.frameOf(width, height, item.data, size.matrix), this.putOptions());
        yield { ref, index: item.index, pts: item.index / fps, width, height };
      }
    } finally {
      // The caller kills ffmpeg after this; the pump then ends on the closed pipe.
      queue.length = 0;
      this.queuedFrames = 0;
      void pump;
    }
  }

  /** Room for one frame in the store, waiting while it is full; undefined once the decoder was stopped. */
  private async reserve(bytes: number): Promise<Reservation | undefined> {
    try {
      return await this.options.store.reserve(bytes, this.abort.signal);
    } catch (error) {
      if (this.stopped) return undefined;
      throw toFaceError(error, 'E_VIDEO_DECODE');
    }
  }

  private frameBytes(width: number, height: number): number {
    return this.options.pixelFormat === 'yuv420p' ? yuvLayout(width, height).bytes : width * height * 3;
  }

  private frameOf(width: number, height: number, data: Uint8Array, matrix: 'bt709' | undefined): Pixels {
    if (this.options.pixelFormat !== 'yuv420p') return { width, height, channels: 3, data };
    return { format: 'yuv420p', width, height, data, ...(matrix ? { matrix } : {}) };
  }

  private putOptions(): { owner?: string; expiresAt?: number; pooled?: boolean } {
    const o = this.options;
    return {
      ...(o.owner !== undefined ? { owner: o.owner } : {}),
      ...(o.frameTtlMs !== undefined ? { expiresAt: Date.now() + o.frameTtlMs } : {}),
      ...(o.pooled ? { pooled: true } : {}),
    };
  }

  /** Resolves with the output stream once ffmpeg has printed it, or undefined if ffmpeg ends first. */
  private waitForHeader(child: FfmpegProcess): Promise<(StreamInfo & { fps: number }) | undefined> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (value: (StreamInfo & { fps: number }) | undefined): void => {
        if (settled) return;
        settled = true;
        unsubscribe();
        clearTimeout(timer);
        resolve(value);
      };
      const check = (head: string): void => {
        const dump = parseFfmpegDump(head);
        const out = dump.output?.video;
        if (!out) return;
        const fps = out.fps ?? dump.input?.video?.fps ?? this.stream?.fps ?? FALLBACK_FPS;
        if (!this.stream) {
          this.stream = {
            width: out.width,
            height: out.height,
            fps,
            hasAudio: dump.input?.audioCodec !== undefined,
            ...(dump.input?.durationSec !== undefined && !this.live ? { durationSec: dump.input.durationSec } : {}),
            ...(dump.input?.video ? { videoCodec: dump.input.video.codec } : {}),
            ...((out.matrix ?? dump.input?.video?.matrix) ? { matrix: 'bt709' as const } : {}),
          };
        }
        // Before reconnects the first run's rate wins so pts keep one clock.
        finish({ ...out, fps: this.stream.fps });
      };
      const unsubscribe = child.onHead(check);
      // No stream info in time: end this run (a live source then goes through reconnect).
      const timer = setTimeout(() => {
        void child.kill();
      }, this.options.openTimeoutMs ?? OPEN_TIMEOUT_MS);
      void child.exited.then(() => {
        check(child.stderrHead());
        finish(undefined);
      });
      check(child.stderrHead());
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.delayTimer = undefined;
        resolve();
      }, ms);
      this.delayTimer = { timer, resolve };
    });
  }
}
