import { FaceError } from '../errors';
import type { Runtime } from '../runtime';
import type { JournalInput } from '../token/token';
import { VideoDecoder, type DecodedFrame, type VideoDecoderOptions } from '../video/decoder';

/**
 * Where a video pipeline is. It only moves forward (a later state never goes back to an earlier one):
 * - `running`: reading frames;
 * - `stopping`: stop() was asked: reading stopped, the frames in flight finish, the output is closed properly;
 * - `grace-over`: after a stop, the frames in flight took longer than their grace: what they still
 *   write is refused (a job counts them late);
 * - `failing`: a frame's write (or anything else) failed: the consumer tears down and reports the first failure;
 * - `cancelled`: cancel(): ffmpeg was killed; nothing more is written.
 */
export type VideoPipelineState = 'running' | 'stopping' | 'grace-over' | 'failing' | 'cancelled';
const STATE_ORDER: readonly VideoPipelineState[] = ['running', 'stopping', 'grace-over', 'failing', 'cancelled'];

/** One decoded frame as the pipeline hands it out (the consumer owns `ref` from then on). */
export interface PipelineFrame extends DecodedFrame {
  /** Indexes right before this one that the source dropped (a live source's overload policy): gaps the output fills. */
  droppedBefore: number;
  /** Frames waiting in the decoder's overload queue when this one was taken. */
  queued: number;
  /** True for the final frame of the source; known only with `readAhead` (one frame is read ahead). */
  last: boolean;
}

/**
 * The frames-in-flight window: after a frame is handed out, the pipeline reads the next one
 * only once the window has room (or the pipeline stops reading: a stop, cancel, failure or
 * close ends the wait). Two kinds: `TaskWindow` (a job: frames being processed, each a promise)
 * and the store's `InFlightLimit` (a flow: frames handed out and still in the store; its owner
 * tracks and closes it).
 */
export interface FrameWindow {
  /** Resolves once another frame may be read. */
  waitForRoom(): Promise<void>;
}

/**
 * A job's window: at most `size` frames are being processed at once (decode, stages and encode
 * overlap). A task is a frame's work; it must not reject (its consumer catches). `size` may be
 * set once the first frame tells the frame size (the window depends on the store's free budget).
 */
export class TaskWindow implements FrameWindow {
  private readonly tasks: Promise<void>[] = [];

  constructor(public size = 1) {}

  /** Frames being processed. */
  get count(): number {
    return this.tasks.length;
  }

  add(task: Promise<void>): void {
    this.tasks.push(task);
  }

  /** Waits for the oldest frames until fewer than `size` are in flight. */
  async waitForRoom(): Promise<void> {
    while (this.tasks.length > 0 && this.tasks.length >= this.size) await this.tasks.shift();
  }

  /** Waits for every frame in flight (also those added meanwhile). */
  async settle(): Promise<void> {
    while (this.tasks.length > 0) await Promise.allSettled(this.tasks.splice(0));
  }

  /** Waits for the frames in flight up to `ms`; true when they all finished in time. */
  async settleWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([Promise.allSettled([...this.tasks]).then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms)))]);
    clearTimeout(timer);
    return !timedOut;
  }
}

/** Decoder options the pipeline's user gives (the store and the owner tag are the pipeline's). */
export type PipelineSourceOptions = Omit<VideoDecoderOptions, 'store' | 'owner'>;

/**
 * The input side of every video, the same for jobs (VideoJob) and flows (FrameTokenSource, i.e.
 * face-video-in): opens the source (a `VideoDecoder` storing frames under the pipeline's owner
 * tag), hands the frames out in decode order with the gaps a live source's overload policy left
 * (`droppedBefore`, journalled by `overloadEntry`), keeps the frames-in-flight window (the next
 * frame is read once the window has room), ends on stop/cancel/failure (one state,
 * `VideoPipelineState`) and releases everything on close. See docs/ARCHITECTURE.md, *A video
 * frame's route*.
 *
 *   const pipeline = new VideoPipeline(runtime, owner);
 *   pipeline.open({ locator, input, pixelFormat: 'yuv420p' });
 *   for await (const frame of pipeline.frames(window)) { … the consumer owns frame.ref … }
 *   … await pipeline.close();              // ffmpeg gone, the owner's frames and privacy stream freed
 *
 * The output end is VideoOutput (video-output.ts).
 */
export class VideoPipeline {
  private decoderNow?: VideoDecoder;
  private stateNow: VideoPipelineState = 'running';
  /** Resolves once frames are no longer read (the state left `running`, or close()): ends a wait for room. */
  private readonly notReading: Promise<void>;
  private endReading!: () => void;
  private readCount = 0;
  private gapCount = 0;
  private closed = false;

  /** `owner` tags the decoded frames until the consumer takes them (a job's id, a flow source's id); it also keys the source's privacy stream. */
  constructor(
    private readonly runtime: Runtime,
    readonly owner: string,
  ) {
    this.notReading = new Promise<void>((resolve) => (this.endReading = resolve));
  }

  get state(): VideoPipelineState {
    return this.stateNow;
  }

  /** stop() was asked (and nothing failed or cancelled the pipeline since). */
  get stopRequested(): boolean {
    return this.stateNow === 'stopping' || this.stateNow === 'grace-over';
  }

  /** The decoder, once open() made it. */
  get decoder(): VideoDecoder | undefined {
    return this.decoderNow;
  }

  /** Frames handed out (a frame read ahead and never handed out does not count). */
  get framesRead(): number {
    return this.readCount;
  }

  /** Indexes the source dropped before frames that were handed out (the sum of their `droppedBefore`). */
  get gaps(): number {
    return this.gapCount;
  }

  /** Moves forward to `next` (never back: a cancel stays a cancel, a failure is not undone by a stop). Returns whether it moved. */
  moveTo(next: VideoPipelineState): boolean {
    if (STATE_ORDER.indexOf(next) <= STATE_ORDER.indexOf(this.stateNow)) return false;
    this.stateNow = next;
    this.endReading();
    return true;
  }

  /**
   * Opens the source: makes the decoder (nothing is spawned before frames() runs). Throws
   * E_UNSUPPORTED_SOURCE / E_BAD_PARAMETER synchronously. A pipeline stopped before is opened
   * stopped (frames() then yields nothing).
   */
  open(options: PipelineSourceOptions): VideoDecoder {
    if (this.decoderNow) throw new FaceError('E_INTERNAL', 'a video pipeline opens its source once');
    const decoder = new VideoDecoder({ ...options, store: this.runtime.store, owner: this.owner });
    this.decoderNow = decoder;
    if (this.stateNow !== 'running') void decoder.stop();
    return decoder;
  }

  /**
   * The frames in decode order. After each frame is handed out, the next one is read once
   * `window` has room. A frame read while the pipeline is no longer running is freed and ends
   * the loop. With `readAhead` one frame is read ahead so the last one says so (`last`); a frame
   * read ahead and never handed out is freed. May be iterated once; breaking out of it stops
   * ffmpeg.
   */
  async *frames(window: FrameWindow, { readAhead = false }: { readAhead?: boolean } = {}): AsyncGenerator<PipelineFrame, void, undefined> {
    const decoder = this.decoderNow;
    if (!decoder) throw new FaceError('E_INTERNAL', 'open() the video pipeline before reading its frames');
    const store = this.runtime.store;
    let held: PipelineFrame | undefined;
    let nextIndex = 0;
    try {
      for await (const frame of decoder.frames()) {
        if (!this.reading) {
          store.release(frame.ref);
          break;
        }
        const item: PipelineFrame = { ...frame, droppedBefore: frame.index - nextIndex, queued: decoder.queued, last: false };
        nextIndex = frame.index + 1;
        const out = readAhead ? held : item;
        held = readAhead ? item : undefined;
        if (!out) continue;
        yield this.handOut(out);
        await Promise.race([window.waitForRoom(), this.notReading]);
        if (!this.reading) break;
      }
      if (held && this.reading) {
        const last = this.handOut({ ...held, last: true });
        held = undefined;
        yield last;
      }
    } finally {
      if (held) store.release(held.ref);
    }
  }

  /** The journal entry of the first frame after frames the overload policy dropped (`tail` adds what the output does for them). */
  overloadEntry(frame: PipelineFrame, tail = ''): JournalInput {
    const { policy, maxQueue } = this.decoderNow?.policy ?? { policy: 'block', maxQueue: 0 };
    const n = frame.droppedBefore;
    return {
      stage: 'overload',
      ms: 0,
      outcome: 'skipped',
      note: `${policy}: ${n} frame${n === 1 ? '' : 's'} before this one dropped (queue ${frame.queued}/${maxQueue})${tail}`,
    };
  }

  /** Finishes early: no more frames are read (a wait for room ends); frames handed out stay the consumer's. */
  async stop(): Promise<void> {
    this.moveTo('stopping');
    await this.decoderNow?.stop();
  }

  /** Aborts: ffmpeg is stopped at once (a wait for room ends); the consumer then frees what it holds. */
  async cancel(): Promise<void> {
    this.moveTo('cancelled');
    await this.decoderNow?.stop();
  }

  /** A frame's work failed for good: no more frames are read. */
  async fail(): Promise<void> {
    this.moveTo('failing');
    await this.decoderNow?.stop();
  }

  /**
   * Releases what the pipeline holds, once its consumer has finished with the frames in flight:
   * ffmpeg (stopped if it still runs), a wait for room, every frame still under the owner tag,
   * and the source's privacy stream (tracks, rolling scan). Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.endReading();
    await this.decoderNow?.stop();
    this.runtime.store.releaseOwner(this.owner);
    this.runtime.releaseStream(this.owner);
  }

  /** Frames are still read: running and not closed. */
  private get reading(): boolean {
    return this.stateNow === 'running' && !this.closed;
  }

  private handOut(frame: PipelineFrame): PipelineFrame {
    this.readCount++;
    this.gapCount += frame.droppedBefore;
    return frame;
  }
}
