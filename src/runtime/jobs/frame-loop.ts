import type { FaceStream } from '../faces/face-stream';
import { selectFaces } from '../faces/select';
import type { ProcessorContext } from '../processors/context';
import { faceCheckOn, withLikeness } from '../processors/face-check';
import { finishStreamFrame, isStreamPrivacyFrame, withStreamFaces } from '../processors/privacy-stream';
import type { JournalInput } from '../token/token';
import type { FaceToken, Stage } from '../token/types';
import type { PixelWorkerPool } from './pixel-workers';

/** What a frame loop uses of the runtime that made it (`Runtime.frameLoop`). */
export interface FrameLoopHost {
  /** The runtime's processor context: the store, the privacy streams, the models (main thread). */
  readonly context: ProcessorContext;
  /** Runs `stage` on the main thread (the processor itself, `force`d). */
  runHere(stage: Stage, token: FaceToken): Promise<FaceToken>;
}

export interface FrameLoopOptions {
  /**
   * The pixel workers the loop's frames may go to: a job's own pool, or the runtime's (stage
   * nodes; started on first use). None: every stage runs on the main thread.
   */
  workers?: () => PixelWorkerPool | undefined;
  /** The source is live: `admit` paces its stream's rolling scan (see *The privacy scan*). */
  live?: boolean;
  /** Told once, the first time the scan is stretched behind a live source. */
  onNotice?: (level: 'info', message: string) => void;
  /** The source as notices name it (a redacted URL). */
  shown?: string;
}

/** A decoded frame as `admit` sees it. */
export interface AdmittedFrame {
  index: number;
  /** Indexes right before this one the source dropped (overload policy). */
  droppedBefore: number;
  /** Frames waiting in the decoder's overload queue now. */
  queued: number;
}

/** More frames than this waiting in the decoder mean the source is ahead (the first full scan alone queues a few). */
const BEHIND_QUEUE = 4;

/**
 * One source's frame loop, the same for jobs (VideoJob, `runFrameStages`) and flows
 * (face-video-in's FrameTokenSource, and `Runtime.process` with `offMainThread` for the stage
 * nodes): it owns what happens to a frame between the decoder and the stages, so a frame goes
 * down the layers once. See docs/ARCHITECTURE.md, *A video frame's route*.
 *
 * - `admit(frame)`: the frame joins its source's privacy stream (an ordered stream, a job's,
 *   sees its frames in decode order) and, for a live source, paces the stream's rolling scan
 *   (frames dropped before it or waiting behind it stretch the interval; it comes back when the
 *   source is kept up with) — the returned `cadence` journal entry marks a doubling crossed.
 * - `step(stage, token)`: one stage of one frame: before a blur the stream's tracked regions
 *   are added to the frame's faces (here, on the main thread that owns the streams); before a
 *   swap or enhance that goes to a pixel worker the faces get their face-likeness verdicts; then
 *   the stage runs on a pixel worker when one takes it, else on the main thread; a blur on a
 *   worker is counted in the stream's figures (the worker has no streams).
 * - `finish(token)`: a frame that ends before its detection told the stream: later frames of an
 *   ordered stream do not wait for it.
 */
export class FrameLoop {
  private toldCadence = false;

  constructor(
    private readonly host: FrameLoopHost,
    /** The source's key: a job's id, a face-video-in source's id (the frame tokens' `job_id`). */
    readonly key: string,
    private readonly options: FrameLoopOptions = {},
  ) {}

  /** The source's privacy stream while it is open (a job opens it; a flow's first blurring frame makes it). */
  get stream(): FaceStream | undefined {
    return this.host.context.streams?.peek(this.key);
  }

  /**
   * A decoded frame enters the loop (decode order). Returns the `cadence` journal entry when a
   * live source's scan interval crossed a doubling of the promised one (up or down).
   */
  admit(frame: AdmittedFrame): JournalInput | undefined {
    const stream = this.stream;
    if (!stream) return undefined;
    // Only an ordered stream waits on admitted frames; a flow's frames may never reach detect.
    if (stream.options.ordered) stream.admit(frame.index);
    if (!this.options.live) return undefined;
    const note = this.pace(stream, frame.droppedBefore > 0 || frame.queued > BEHIND_QUEUE);
    return note === undefined ? undefined : { stage: 'cadence', ms: 0, outcome: 'ok', note };
  }

  /** One stage of one frame (see the class comment); never throws for a frame problem. */
  async step(stage: Stage, token: FaceToken): Promise<FaceToken> {
    const ctx = this.host.context;
    const streamed = stage === 'blur' && isStreamPrivacyFrame(token);
    // Per index: the processor, if it runs here after all, gets the same regions. A skipped
    // frame (no face found, "No face: pass") is the blur processor's own case: it asks the
    // stream itself, and only while the frame has no faces.
    let work = streamed && token.state !== 'skipped' && token.state !== 'failed' ? await withStreamFaces(token, ctx) : token;
    const workers = this.options.workers?.();
    if (workers && !needsRecognizer(stage, work)) {
      // A pixel worker has no models: the faces a swap or enhance changes are checked here first.
      work = await withFaceLikeness(work, stage, ctx);
      if (workers.accepts(stage, work)) {
        const next = await workers.run(stage, work, ctx.store);
        if (streamed && next.state !== 'failed') this.noteBlurred(next);
        return next;
      }
    }
    return this.host.runHere(stage, work);
  }

  /** The frame will not be observed by its stream (it failed or ended before detection finished). */
  finish(token: FaceToken): void {
    finishStreamFrame(token, this.host.context);
  }

  /**
   * Paces a live source's scan (FaceStream.pace). Returns a note when the interval crossed a
   * doubling of the promised one, the first time up with a notice.
   */
  private pace(stream: FaceStream, behind: boolean): string | undefined {
    if (!(stream.scan.intervalSec > 0)) return undefined;
    const before = stream.scan.currentIntervalSec;
    if (!stream.pace(behind)) return undefined;
    const promised = stream.scan.intervalSec;
    const now = stream.scan.currentIntervalSec;
    const step = (v: number): number => Math.floor(Math.log2(v / promised + 1e-9));
    if (step(now) === step(before)) return undefined;
    const note =
      now > before
        ? `behind the camera: tiles scanned every ${now.toFixed(2)} s instead of ${promised} s (faces the whole-frame pass cannot see may show that long)`
        : `keeping up again: tiles scanned every ${now.toFixed(2)} s (promised ${promised} s)`;
    if (now > before && !this.toldCadence) {
      this.toldCadence = true;
      this.options.onNotice?.('info', `video source ${this.options.shown ?? this.key}: ${note}; the result's privacy counts the frames (framesStretchedScan, scanIntervalMaxSec)`);
    }
    return note;
  }

  /** A blur on a pixel worker masked the token's faces: its stream counts them. */
  private noteBlurred(token: FaceToken): void {
    if (token.job_id === undefined) return;
    const figures = [...token.journal].reverse().find((j) => j.stage === 'blur')?.figures;
    if (figures) this.host.context.streams?.peek(token.job_id)?.noteBlurred((figures.blurred ?? 0) - (figures.held ?? 0), figures.held ?? 0);
  }
}

/** A blur with a keep-sharp / blur-only list may need the recognizer, which a pixel worker lacks. */
function needsRecognizer(stage: Stage, token: FaceToken): boolean {
  const p = token.parameters;
  return stage === 'blur' && !!(p.blur_except_embeddings?.length || p.blur_only_embeddings?.length);
}

/**
 * The token with the face-likeness verdict on every face `stage` (swap or enhance) will change,
 * measured on the thread that has the models. Other stages, and face_check off: as it is.
 */
export async function withFaceLikeness(token: FaceToken, stage: Stage, ctx: ProcessorContext): Promise<FaceToken> {
  if ((stage !== 'swap' && stage !== 'enhance') || !faceCheckOn(token)) return token;
  try {
    const indices = selectFaces(token.faces, token.parameters, stage);
    if (indices.every((i) => token.faces[i].likeness)) return token;
    return { ...token, faces: await withLikeness(token, ctx, indices) };
  } catch {
    // A box the check cannot measure (a forged one): the stage measures it again and fails the token with a coded error.
    return token;
  }
}
