import { accessSync, constants, statSync } from 'fs';
import { dirname, resolve as resolvePath } from 'path';
import { FaceError, toFaceError } from '../errors';
import type { FrameStore } from '../store';
import type { FrameRef } from '../token/types';
import type { FfmpegLocator } from './ffmpeg-path';
import { childFdPath, describeExit, FfmpegProcess } from './process';
import { encoderArgs, fdOutputFor, outputTarget, STREAM_FORMATS, type OutputTarget } from './ffmpeg-args';
import { IO_TIMEOUT_MS, KILL_GRACE_MS, MIN_PARKED, PARK_BUDGET_SHARE, PARK_SECONDS, PRESET } from './io-defaults';
import { isYuv, rgbToYuv, yuvLayout, yuvToRgb, type Pixels } from '../vision/yuv';
import { RawMatroskaWriter } from './raw-matroska';

export interface VideoEncoderOptions {
  locator: FfmpegLocator;
  store: FrameStore;
  /** A file path (its directory must exist) or rtmp(s):// (flv), rtsp:// (rtsp), udp:// tcp:// srt:// (mpegts). */
  output: string;
  width: number;
  height: number;
  fps: number;
  /** The original input: its first audio stream (if any) is muxed in when `keepAudio` is not false. */
  audioFrom?: string;
  /** Default true; false drops the audio even when `audioFrom` is given. */
  keepAudio?: boolean;
  /** Video codec (default libx264). */
  codec?: string;
  /** 0–100, mapped linearly to CRF 51–0 for libx264/libx265 (default 80 → CRF 10). */
  quality?: number;
  /** The CRF itself for libx264/libx265, 0–51; wins over `quality`. */
  crf?: number;
  /** x264/x265 preset (default veryfast). */
  preset?: string;
  /** Container format; default from the URL scheme or the file extension. */
  format?: string;
  /** Index of the first frame (default 0). */
  startIndex?: number;
  /**
   * What a skipped index becomes (a frame a live source dropped, or a failed one):
   * - `drop` (default): nothing; the frames after it move up (the video gets shorter);
   * - `hold`: the previous frame stays on screen until the next one. Each frame goes to ffmpeg with
   *   its index as its timestamp (a Matroska stream, see raw-matroska.ts) and the output has a
   *   variable frame rate: the video keeps its time and nothing is encoded for the gap;
   * - `repeat`: the previous frame is written again (constant frame rate; x264 encodes each copy).
   * Both keep time; the previous frame is kept without a copy for them (taken out of the store
   * once written: one frame outside the store's budget).
   */
  onSkip?: SkipFill;
  /**
   * Frames parked behind a missing index before that index is given up as lost (default two
   * seconds of frames, at least 8; never more than a quarter of the store's budget). A flow that
   * drops a frame must not park every later frame until the store is full and the video stalls.
   */
  maxParked?: number;
  /**
   * A file output already opened (and checked) by the caller: ffmpeg writes through this
   * descriptor (Linux, a container known from the file's extension) instead of opening the path
   * itself, so the folder cannot be swapped for a link between the check and the write.
   */
  outputFd?: number;
  /** Extra ffmpeg output options, placed before the output. */
  outputOptions?: string[];
  /** Container metadata (key → value), e.g. provenance marks; MP4/MOV files keep custom keys too. */
  metadata?: Record<string, string>;
  /** How long abort() waits after SIGTERM before SIGKILL (ms, default 2000). */
  killGraceMs?: number;
  /**
   * What ffmpeg is fed: `rgb24` (default) or `yuv420p` (a video job's YUV frames, passed through
   * unconverted). A frame of the other form is converted on the way in.
   */
  pixelFormat?: 'rgb24' | 'yuv420p';
  /** The source's colour matrix, for yuv420p input: tagged on the output so players read the values as the source meant them. */
  matrix?: 'bt709';
}

export type SkipFill = 'drop' | 'hold' | 'repeat';

export interface EncodeResult {
  /** Frames written to ffmpeg, repeats included (with `hold`, the frames in the output). */
  frames: number;
  /** Indexes skipped (by `skip`, by gaps at `finish` or given up after `maxParked`, or because their frame was no longer in the store). */
  dropped: number;
  /** Skipped indexes the output shows as the previous frame (`hold`: by its timestamp, `repeat`: written again). */
  repeated: number;
  /** What a skipped index became (VideoEncoderOptions.onSkip). */
  onSkip: SkipFill;
  /** Frames that arrived after their index had been given up, or too far ahead of the next index due (freed, not written). */
  late: number;
  fps: number;
  durationSec: number;
  outputPath: string;
}

const SKIP = Symbol('skip');
/** Given-up indexes remembered so a late frame is freed quietly instead of refused (oldest forgotten first). */
const LOST_MEMORY = 4096;
type Slot = FrameRef | typeof SKIP;

/**
 * Encodes frames from the frame store (RGB, or YUV 4:2:0 with `pixelFormat: 'yuv420p'`) into a
 * file or stream with ffmpeg. Frames may arrive out of order: `write(index, ref)` parks them
 * until every earlier index was written or skipped, then feeds ffmpeg in index order, waiting
 * for stdin to drain. The encoder owns each ref from the moment it is passed in: it is released
 * once written (or on error/abort).
 *
 *   const enc = new VideoEncoder({ locator, store, output: 'out.mp4', width, height, fps, audioFrom: 'in.mp4' });
 *   await enc.write(0, ref0); enc.skip(1); await enc.write(2, ref2);
 *   const { frames, durationSec } = await enc.finish();
 */
export class VideoEncoder {
  private readonly options: VideoEncoderOptions;
  private readonly target: OutputTarget;
  private readonly pending = new Map<number, Slot>();
  /** The pixels of each parked frame, for when the store closes under them (see writeDue). */
  private readonly parkedPixels = new Map<number, Pixels>();
  private next: number;
  private chain: Promise<void> = Promise.resolve();
  private starting?: Promise<FfmpegProcess>;
  private child?: FfmpegProcess;
  private failure?: FaceError;
  private finishing?: Promise<EncodeResult>;
  private aborted = false;
  private written = 0;
  private dropped = 0;
  private late = 0;
  private repeated = 0;
  /** Indexes given up behind parked frames; a frame arriving for one of them is late. */
  private readonly lost = new Set<number>();
  private readonly fill: SkipFill;
  /** `hold`: frames go to ffmpeg in a Matroska stream with their index as timestamp. */
  private readonly mkv?: RawMatroskaWriter;
  /** Index of the first frame written (timestamp 0 with `hold`). */
  private firstIndex?: number;
  /** Index of the last frame sent to ffmpeg. */
  private lastSent = -1;
  /**
   * `hold` / `repeat`: the frame last written, shown again for the indexes skipped after it. Its
   * pixels are not copied: the frame leaves the store once ffmpeg has taken it (`detach`), and its
   * buffer goes back to the pool once the next frame's write has gone through (pipe writes
   * complete in order, so every copy sent before it has too).
   */
  private shown?: { data: Uint8Array; pooled: boolean };

  /** Validates options and the output location; throws E_BAD_OUTPUT / E_BAD_PARAMETER before anything is spawned. */
  constructor(options: VideoEncoderOptions) {
    this.options = options;
    for (const name of ['width', 'height'] as const) {
      const v = options[name];
      if (!(Number.isInteger(v) && v > 0)) throw new FaceError('E_BAD_PARAMETER', `encoder ${name} must be a positive integer (got ${v})`);
    }
    if (!(options.fps > 0 && Number.isFinite(options.fps))) throw new FaceError('E_BAD_PARAMETER', `encoder fps must be > 0 (got ${options.fps})`);
    if (options.quality !== undefined && !(options.quality >= 0 && options.quality <= 100)) {
      throw new FaceError('E_BAD_PARAMETER', `encoder quality must be 0–100 (got ${options.quality})`);
    }
    if (options.crf !== undefined && !(Number.isInteger(options.crf) && options.crf >= 0 && options.crf <= 51)) {
      throw new FaceError('E_BAD_PARAMETER', `encoder crf must be a whole number 0–51 (got ${options.crf})`);
    }
    this.next = options.startIndex ?? 0;
    this.fill = options.onSkip ?? 'drop';
    if (!(['drop', 'hold', 'repeat'] as const).includes(this.fill)) throw new FaceError('E_BAD_PARAMETER', `encoder onSkip must be drop, hold or repeat (got ${String(options.onSkip)})`);
    if (this.fill === 'hold') this.mkv = new RawMatroskaWriter({ width: options.width, height: options.height, fps: options.fps, pixelFormat: options.pixelFormat ?? 'rgb24' });
    this.target = classifyOutput(options.output);
    if (this.target.kind === 'file' && options.audioFrom && resolvePath(options.audioFrom) === resolvePath(this.target.path)) {
      throw new FaceError('E_BAD_OUTPUT', `output "${options.output}" is the input itself; choose another output path`);
    }
  }

  /** The x264/x265 preset it encodes with. */
  get preset(): string {
    return this.options.preset ?? PRESET;
  }

  /** pid of the ffmpeg child while it runs (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.child?.running ? this.child.pid : undefined;
  }

  /** The output file once ffmpeg was started on it (it may then hold a partial video); undefined for streams. */
  get startedFile(): string | undefined {
    return this.starting && this.target.kind === 'file' ? resolvePath(this.target.path) : undefined;
  }

  /** Frames parked because an earlier index has not arrived yet. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Resolves ffmpeg and spawns it; `write` calls this itself. Throws E_FFMPEG_MISSING. */
  start(): Promise<void> {
    return this.spawn().then(() => undefined);
  }

  /**
   * Queues frame `index`. Resolves once it is queued, or — when it was the next one due — once it
   * and any frames parked behind it have been handed to ffmpeg (stdin backpressure included).
   * Throws E_VIDEO_ENCODE when ffmpeg died, E_BAD_PARAMETER for an index already written or queued.
   */
  write(index: number, ref: FrameRef): Promise<void> {
    if (!this.failure && (this.lost.delete(index) || this.tooFarAhead(index, this.options.store.tryPixels(ref)))) {
      this.options.store.release(ref);
      this.late++;
      return Promise.resolve();
    }
    const problem = this.refuse(index);
    if (problem) {
      this.options.store.release(ref);
      return Promise.reject(problem);
    }
    this.pending.set(index, ref);
    const pixels = this.options.store.tryPixels(ref);
    if (pixels) this.parkedPixels.set(index, pixels);
    this.giveUpGaps(pixels);
    return this.flush();
  }

  /** Marks `index` as dropped so later frames are not held back by it. */
  skip(index: number): Promise<void> {
    if (!this.failure && (this.lost.delete(index) || this.tooFarAhead(index, undefined))) return Promise.resolve();
    const problem = this.refuse(index);
    if (problem) return Promise.reject(problem);
    this.pending.set(index, SKIP);
    return this.flush();
  }

  /**
   * When more frames are parked than allowed while the next index is missing, the missing
   * indexes before the first parked frame are given up (written as skipped).
   */
  private giveUpGaps(sample: Pixels | undefined): void {
    if (this.pending.has(this.next)) return;
    let parked = 0;
    let first = Infinity;
    for (const [index, slot] of this.pending) {
      if (slot === SKIP) continue;
      parked++;
      if (index < first) first = index;
    }
    if (parked <= this.parkLimit(sample)) return;
    for (let i = this.next; i < first; i++) {
      if (this.pending.has(i)) continue;
      this.pending.set(i, SKIP);
      this.lost.add(i);
      if (this.lost.size > LOST_MEMORY) this.lost.delete(this.lost.values().next().value as number);
    }
  }

  /**
   * An index further ahead of the next one due than the encoder could ever park (four park
   * limits, at least a minute of frames) is refused as late: filling the gap to it would cost
   * time and memory in proportion to a number any message can choose (1e9 froze the process).
   */
  private tooFarAhead(index: number, sample: Pixels | undefined): boolean {
    if (!Number.isInteger(index) || this.finishing) return false;
    const horizon = Math.max(4 * this.parkLimit(sample), Math.round(this.options.fps * 60));
    return index - this.next > horizon;
  }

  /** Frames that may park: the option, or PARK_SECONDS of frames, never more than PARK_BUDGET_SHARE of the store in frames like `sample`. */
  private parkLimit(sample: Pixels | undefined): number {
    const frames = this.options.maxParked ?? Math.max(MIN_PARKED, Math.round(this.options.fps * PARK_SECONDS));
    if (!sample) return Math.max(1, frames);
    // The frame's real size: a YUV 4:2:0 frame holds 1.5 bytes a pixel, an RGB one 3.
    const bytes = isYuv(sample) ? yuvLayout(sample.width, sample.height).bytes : sample.width * sample.height * sample.channels;
    const byBudget = Math.floor((this.options.store.stats().budgetBytes * PARK_BUDGET_SHARE) / bytes);
    return Math.max(1, Math.min(frames, byBudget));
  }

  /**
   * Writes what is still parked (missing indexes count as dropped), closes ffmpeg's input and
   * waits for it to finish the file/stream. Throws E_VIDEO_ENCODE with ffmpeg's last stderr lines.
   */
  finish(): Promise<EncodeResult> {
    if (!this.finishing) this.finishing = this.doFinish();
    return this.finishing;
  }

  /** Kills ffmpeg (SIGTERM, then SIGKILL) and releases parked frames. Idempotent; the output is left as is. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.fail(new FaceError('E_CLOSED', 'the video encoder was aborted'));
    const child = this.child ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    if (child) await child.kill(this.options.killGraceMs ?? KILL_GRACE_MS);
  }

  private async doFinish(): Promise<EncodeResult> {
    const child = await this.spawn();
    await this.chain;
    while (this.pending.size > 0 && !this.failure) {
      if (!this.pending.has(this.next)) this.pending.set(this.next, SKIP);
      await this.flush();
    }
    if (this.failure) throw this.failure;
    if (this.written === 0) {
      await child.kill();
      throw new FaceError('E_VIDEO_ENCODE', `no frames were written to "${this.options.output}"`);
    }
    // `hold`: indexes skipped at the end are shown by one more copy of the last frame at the last
    // index, so the video lasts until then (a frame's time otherwise ends where the next begins).
    if (this.mkv && this.shown && this.lastSent < this.next - 1) await this.send(child, this.shown.data, this.next - 1);
    if (this.failure) throw this.failure;
    child.child.stdin?.end();
    const exit = await child.exited;
    if (this.failure) throw this.failure;
    if (exit.code !== 0) throw this.exitError(child, describeExit(exit));
    this.letGoShown(true);
    return {
      frames: this.written,
      dropped: this.dropped,
      repeated: this.repeated,
      onSkip: this.fill,
      late: this.late,
      fps: this.options.fps,
      durationSec: (this.mkv ? this.lastSent + 1 - (this.firstIndex ?? 0) : this.written) / this.options.fps,
      outputPath: this.target.kind === 'file' ? resolvePath(this.target.path) : this.options.output,
    };
  }

  /** Forgets the frame kept for repeats; its buffer goes back to the pool when nothing can read it any more. */
  private letGoShown(recycle: boolean): void {
    const shown = this.shown;
    this.shown = undefined;
    if (recycle && shown?.pooled) this.options.store.recycle(shown.data);
  }

  private refuse(index: number): FaceError | undefined {
    if (this.failure) return this.failure;
    if (this.finishing) return new FaceError('E_CLOSED', 'the video encoder is finishing; no more frames are accepted');
    if (!Number.isInteger(index) || index < this.next || this.pending.has(index)) {
      return new FaceError('E_BAD_PARAMETER', `frame index ${index} was already written, skipped or queued (next due: ${this.next})`);
    }
    return undefined;
  }

  /** Serialises in-order writing: one drain loop at a time. */
  private flush(): Promise<void> {
    const run = this.chain.then(() => this.writeDue());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async writeDue(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.pending.has(this.next)) return;
    const child = await this.spawn();
    const store = this.options.store;
    while (this.pending.has(this.next)) {
      if (this.failure) throw this.failure;
      const slot = this.pending.get(this.next)!;
      this.pending.delete(this.next);
      this.next++;
      const index = this.next - 1;
      const parked = this.parkedPixels.get(index);
      this.parkedPixels.delete(index);
      // A frame freed from the store by the store closing (a redeploy closes the runtime while the
      // video is being finished) is still written: a closing store reuses no buffer. A frame freed
      // any other way (expired, released) is gone: its buffer may already hold another frame.
      const frame = slot === SKIP ? undefined : (store.tryPixels(slot) ?? (parked && store.stats().closed ? parked : undefined));
      if (!frame) {
        this.dropped++;
        if (!this.shown) continue;
        this.repeated++;
        // `hold` writes nothing: the previous frame's time runs on until the next frame's timestamp.
        // `repeat` sends the very same bytes again (ffmpeg's pipe keeps a reference, no copy).
        if (this.fill === 'repeat') await this.send(child, this.shown.data, index);
        continue;
      }
      if (frame.width !== this.options.width || frame.height !== this.options.height) {
        store.release(slot as FrameRef);
        throw new FaceError('E_BAD_PARAMETER', `frame ${index} is ${frame.width}x${frame.height} but the encoder was opened for ${this.options.width}x${this.options.height}`);
      }
      const data = this.bytesFor(frame);
      const converted = data !== frame.data;
      if (converted) store.release(slot as FrameRef); // converted: the copy is ours, the frame can go now
      if (this.fill === 'drop') {
        await this.send(child, data, index, converted ? undefined : () => store.release(slot as FrameRef));
        continue;
      }
      const previous = this.shown;
      const shown = { data, pooled: false };
      this.shown = shown;
      await this.send(child, data, index, () => {
        // ffmpeg has the bytes and every write before them (copies of `previous` included).
        if (previous?.pooled) store.recycle(previous.data);
        if (converted) return;
        // Kept for repeats outside the store; if the frame is already gone (expired, or freed by its
        // owner's teardown) its buffer may be reused: nothing is shown from it any more.
        const taken = store.detach(slot as FrameRef);
        if (taken && taken.pixels.data === data) shown.pooled = taken.pooled;
        else if (this.shown === shown && !store.stats().closed) this.shown = undefined;
      });
    }
  }

  /** The bytes ffmpeg expects for a frame: as stored, or converted when the frame is of the other form. */
  private bytesFor(frame: Pixels): Uint8Array {
    const yuvIn = this.options.pixelFormat === 'yuv420p';
    if (isYuv(frame) === yuvIn) return frame.data;
    return isYuv(frame) ? yuvToRgb(frame).data : rgbToYuv(frame, this.options.matrix ?? 'bt601').data;
  }

  /**
   * Hands a frame's bytes to ffmpeg (with `hold`, after a header carrying `index` as its
   * timestamp); `flushed` runs once they left the process (or could not).
   */
  private async send(child: FfmpegProcess, data: Uint8Array, index: number, flushed?: () => void): Promise<void> {
    const stdin = child.child.stdin;
    if (!stdin || stdin.destroyed || !child.running) {
      flushed?.();
      throw this.failure ?? this.exitError(child);
    }
    this.written++;
    this.firstIndex ??= index;
    this.lastSent = index;
    if (this.mkv) stdin.write(this.mkv.frameHeader(index - this.firstIndex, data.length));
    const ok = stdin.write(data, () => flushed?.());
    if (ok) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stdin.off('drain', done);
        resolve();
      };
      stdin.on('drain', done);
      void child.exited.then(done);
    });
    if (this.failure) throw this.failure;
  }

  private spawn(): Promise<FfmpegProcess> {
    if (!this.starting) {
      this.starting = (async () => {
        const ffmpeg = await this.options.locator.resolve();
        if (this.aborted) throw this.failure ?? new FaceError('E_CLOSED', 'the video encoder was aborted');
        const viaFd = this.fdOutput();
        const child = new FfmpegProcess(ffmpeg.path, this.buildArgs(ffmpeg.major), { stdin: true, tailLines: 8, ...(viaFd ? { fds: [this.options.outputFd as number] } : {}) });
        this.child = child;
        if (this.mkv) child.child.stdin?.write(this.mkv.header());
        void child.exited.then((exit) => {
          // Exiting before finish() closed stdin is a failure, whatever the code.
          if (!this.finishing || exit.code !== 0) this.fail(this.exitError(child, describeExit(exit)));
        });
        return child;
      })();
      this.starting.catch((error: unknown) => this.fail(toFaceError(error, 'E_VIDEO_ENCODE')));
    }
    return this.starting;
  }

  private buildArgs(major: number | undefined): string[] {
    const o = this.options;
    const fdOutput = this.fdOutput();
    return encoderArgs({
      output: o.output,
      target: this.target,
      width: o.width,
      height: o.height,
      fps: o.fps,
      audioIoTimeoutMs: IO_TIMEOUT_MS,
      ...(major !== undefined ? { ffmpegMajor: major } : {}),
      ...(this.mkv ? { timestamped: true } : {}),
      ...(fdOutput ? { fdOutput } : {}),
      ...pick(o, ['pixelFormat', 'matrix', 'audioFrom', 'keepAudio', 'codec', 'crf', 'quality', 'preset', 'format', 'metadata', 'outputOptions']),
    });
  }

  /** The descriptor output ffmpeg writes through (fd 3 of the child), when there is one it can use. */
  private fdOutput(): { path: string; format: string } | undefined {
    if (this.options.outputFd === undefined || this.target.kind !== 'file') return undefined;
    return fdOutputFor(this.target.path, childFdPath(3));
  }

  private fail(error: FaceError): void {
    if (!this.failure) this.failure = error;
    // Not recycled: a write of it may still be in the dying pipe.
    this.letGoShown(false);
    for (const slot of this.pending.values()) if (slot !== SKIP) this.options.store.release(slot);
    this.pending.clear();
    this.parkedPixels.clear();
  }

  private exitError(child: FfmpegProcess, reason?: string): FaceError {
    const tail = child.stderrTail(6);
    return new FaceError('E_VIDEO_ENCODE', `encoding "${this.options.output}" failed: ${reason ?? 'ffmpeg stopped before the end of the video'}${tail ? `: ${tail}` : ''}`, {
      details: { output: this.options.output, frames: this.written },
    });
  }
}

function classifyOutput(output: string): OutputTarget {
  if (typeof output !== 'string' || output.trim() === '') throw new FaceError('E_BAD_OUTPUT', 'video output is empty: give a file path or a stream URL');
  const target = outputTarget(output);
  if (target.kind === 'unsupported')
    throw new FaceError(
      'E_BAD_OUTPUT',
      `unsupported output URL "${output}": use a file path or ${Object.keys(STREAM_FORMATS)
        .map((s) => s + '://')
        .join(', ')}`,
    );
  if (target.kind === 'url') return target;
  const dir = dirname(resolvePath(output));
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new FaceError('E_BAD_OUTPUT', `cannot write "${output}": the directory ${dir} does not exist`, { details: { output } });
  }
  if (!isDir) throw new FaceError('E_BAD_OUTPUT', `cannot write "${output}": ${dir} is not a directory`, { details: { output } });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new FaceError('E_BAD_OUTPUT', `cannot write "${output}": the directory ${dir} is not writable`, { details: { output } });
  }
  return target;
}

/** The entries of `o` named in `keys` that are set (options are passed on without undefined values). */
function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (o[key] !== undefined) out[key] = o[key];
  return out;
}
