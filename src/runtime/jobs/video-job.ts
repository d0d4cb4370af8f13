import { rmSync } from 'fs';
import { FaceError, toFaceError } from '../errors';
import type { Runtime } from '../runtime';
import type { FaceToken, FrameRef, Parameters } from '../token/types';
import type { FfmpegLocator } from '../video/ffmpeg-path';
import { probeMedia } from '../video/probe';
import { classifySource, redactUrl } from '../video/source';
import type { OverloadPolicy, VideoDecoder } from '../video/decoder';
import { VideoEncoder } from '../video/encoder';
import { defaultPreset, defaultQuality } from '../video/io-defaults';
import { yuvLayout } from '../vision/yuv';
import type { NormalizedJob } from './args';
import { analyseJobSource, dropDerived, facesSkipped, frameToken, runFrameStages, withBlurReferences, type JobSource } from './frame-work';
import type { OutputCheck } from './output';
import { VideoOutput } from './video-output';
import { TaskWindow, VideoPipeline, type PipelineFrame, type VideoPipelineState } from './video-pipeline';
import { PIXEL_WORKER_STAGES } from './pixel-protocol';
import { PixelWorkerPool } from './pixel-workers';
import { ProgressMeter } from './progress';
import type { JobAlert, JobResult, LiveSummary } from './types';
import { advance, type JournalInput } from '../token/token';
import type { FrameLoop } from './frame-loop';
import { DowngradePolicy } from '../policy/downgrade';
import type { FaceStream } from '../faces/face-stream';
import { DEFAULT_HOLD_FRAMES, scanInterval } from '../processors/privacy-stream';
import { DEFAULT_SCORE_THRESHOLD } from '../processors/detect-thresholds';
import type { JournalEntry, TokenState } from '../token/types';

/** One frame as it left the stages (the `frame` event of a JobManager). */
export interface JobFrameInfo {
  jobId: string;
  index: number;
  outcome: 'ok' | 'no_face' | 'failed';
  /** The final token's state (downgraded_for_performance when the policy dropped work). */
  state: TokenState;
  journal: JournalEntry[];
  /** Time of the frame's stages (all attempts), ms. */
  ms: number;
}

export interface VideoJobOptions {
  /** Frames processed at once (decode, inference and encode overlap); default 2, or 4 with pixel workers. */
  framesInFlight?: number;
  /** Worker threads for pixel-only stages (blur, enhance, debug, swap); default 0 = on the main thread. */
  pixelWorkers?: number;
  /** After a stop of a live source, how long frames in flight may take to finish (ms, default 10000); later ones are counted late. */
  stopGraceMs?: number;
  onProgress(meter: ProgressMeter): void;
  /** What a user should hear of while the job runs: a live source lost, waited for, back. */
  onNotice?(level: 'warn' | 'info', message: string): void;
  /** Each frame once processed (before it is written). */
  onFrame?(info: JobFrameInfo): void;
  /** An alert (`alert_after_failures` reached). */
  onAlert?(alert: JobAlert): void;
  /** Where a file output may be written, checked again when it is opened and renamed (jobs from messages and queues). */
  outputCheck?: OutputCheck;
  /** HTTP(S) sources of jobs from messages and queues: every request through this guard (see policy/http-guard.ts). */
  network?: { url(): Promise<string> };
}

/**
 * Where a video job is: its pipeline's state (VideoPipelineState), which only moves forward. For
 * a job: `grace-over` means the frames in flight after a stop took longer than `stopGraceMs` (what
 * they still write is refused and counted late); `failing` reports the first failure (`fatal`
 * when it came from a frame); `cancelled` killed both ffmpeg processes and run() rejects with E_CLOSED.
 */
export type VideoJobState = VideoPipelineState;

const PIXEL_STAGES = new Set(['swap', 'enhance', 'blur', 'debug']);
/**
 * A blurring file job looks this far ahead (and at least two scan cycles): a face first found
 * up to then is masked in the frames before it. A face entering the view slowly (a pan) is half in
 * it for a second before the detector sees it (BENCHMARKS.md §15).
 */
const LOOKAHEAD_SEC = 1;

/**
 * One video job: probe → analyse the source once → decode YUV frames into the store (its
 * VideoPipeline: the input side flows share) → one token per frame through the stages (a few
 * frames in flight, the pipeline's window) → encoder in index order, into its VideoOutput.
 * Every frame is freed once written. See docs/ARCHITECTURE.md, *A video frame's route*.
 *
 * Ending early: `stop()` (the way a live source ends) stops reading, lets the frames in flight
 * finish (bounded by `stopGraceMs`), flushes the encoder and closes the container, so the output
 * is a valid file holding every processed frame; run() then resolves with `stopped: true`.
 * `cancel()` aborts at once: both ffmpeg processes are killed, run() rejects with E_CLOSED and a
 * partial output file is deleted (the error message says so).
 */
export class VideoJob {
  /** The input side: decoder, overload gaps, the job's state, release of the source (video-pipeline.ts). */
  private readonly pipeline: VideoPipeline;
  /** The frames being processed (the window; its size is set by the first frame). */
  private readonly window = new TaskWindow(1);
  private encoder?: VideoEncoder;
  private workers?: PixelWorkerPool;
  /** Worker threads this job ran its pixel stages on (0: the main thread). */
  private workerThreads = 0;
  /** request_ids of frame tokens being processed: their derived frames are freed on teardown. */
  private readonly active = new Set<string>();
  private framesLateAfterStop = 0;
  /** The partial output file deleted by an abort, for the error message. */
  private deletedPartial?: string;
  /** The first failure of a frame's work or write (later errors are consequences, not causes). */
  private fatal?: FaceError;
  /** The job's token parameters, with its blur references' embeddings. */
  private parameters: Parameters = {};
  /** Where the video goes: a file under a temporary name renamed when complete, or a stream written in place; its provenance marks. */
  private out?: VideoOutput;
  /** The source's privacy stream (a job with the blur stage): rolling scan, tracks, look-ahead. */
  private stream?: FaceStream;
  readonly meter: ProgressMeter;
  /** Drops optional work under pressure (job arg `downgrade`); undefined when off. */
  readonly policy?: DowngradePolicy;
  private readonly alerts: JobAlert[] = [];
  /** A live source's frame interval (ms), known from its first frame. */
  private sourceIntervalMs?: number;
  /** The first overload drop was told (notice); later ones are counted and journalled. */
  private toldDropping = false;
  /** The source's frame loop: admit (scan cadence), each stage's thread, the privacy stream told (see frame-loop.ts). */
  private loop?: FrameLoop;

  constructor(
    private readonly id: string,
    private readonly job: NormalizedJob,
    private readonly runtime: Runtime,
    private readonly locator: FfmpegLocator,
    private readonly options: VideoJobOptions,
  ) {
    this.meter = new ProgressMeter(id);
    // Decoded frames are owned by the job's id until written; its privacy stream is keyed by it too.
    this.pipeline = new VideoPipeline(runtime, id);
    if (job.downgrade) this.policy = new DowngradePolicy(job.frameBudgetMs !== undefined ? { frameBudgetMs: job.frameBudgetMs } : {}, runtime.store);
  }

  /** The job reads a stream or device: stop() (not cancel()) is how it normally ends. */
  get live(): boolean {
    try {
      return classifySource(this.job.args.target_path).live;
    } catch {
      return false;
    }
  }

  /**
   * The live source's frame interval in ms (1000 / its frame rate), once its first frame arrived:
   * the time a frame may take for processing to keep up with the camera. Undefined before, and
   * for files (they are read as fast as they are processed).
   */
  get frameIntervalMs(): number | undefined {
    return this.sourceIntervalMs;
  }

  /** pids of the job's ffmpeg processes while they run. */
  pids(): { decoder?: number; encoder?: number } {
    return { ...(this.decoder?.pid ? { decoder: this.decoder.pid } : {}), ...(this.encoder?.pid ? { encoder: this.encoder.pid } : {}) };
  }

  /** Aborts: stops ffmpeg (both sides). run() then rejects with E_CLOSED after freeing every frame and deleting a partial output file. */
  async cancel(): Promise<void> {
    await Promise.all([this.pipeline.cancel(), this.encoder?.abort()]);
  }

  /**
   * Finishes early: stops reading; the frames in flight are processed and written, the output is
   * closed properly. run() resolves with the result (`stopped: true`), or rejects with E_CLOSED
   * when nothing was processed yet. A later cancel() still aborts at once.
   */
  async stop(): Promise<void> {
    await this.pipeline.stop();
  }

  async run(): Promise<JobResult> {
    const { args } = this.job;
    const store = this.runtime.store;
    let sourceToken: FaceToken | undefined;
    try {
      const input = classifySource(args.target_path);
      this.out = new VideoOutput(args.output_path, {
        input: args.target_path,
        ...(this.options.outputCheck ? { check: this.options.outputCheck } : {}),
        // Marked when the job swaps or enhances (off with `provenance: false`).
        ...(args.provenance === false ? {} : { provenance: { stages: this.job.stages, parameters: args.parameters } }),
      });
      // A missing or wrong model fails the job here, before ffmpeg runs or a frame is decoded.
      await this.runtime.prepareModels(this.job.stages, args.parameters ?? {});
      this.assertRunning();
      // Blur reference pictures (blur_except_paths / blur_only_paths) → embeddings, once per job.
      this.parameters = await withBlurReferences(this.runtime, args, this.id);
      this.assertRunning();
      // A live source is not probed: a camera that is not up yet is waited for by the decoder's
      // reconnects (with backoff), and its size and rate come with the first frame.
      const info = input.live ? { width: 16, height: 16, fps: 25, hasAudio: false, frameCount: undefined } : await probeMedia(this.locator, args.target_path);
      this.assertRunning();
      // Validates the output location before any decoding (nothing is spawned by the constructor).
      this.makeEncoder(info.width, info.height, info.fps, info.hasAudio, input.live);
      if (info.frameCount !== undefined) this.meter.framesTotal = info.frameCount;
      let source: JobSource | undefined;
      if (this.job.sourcePath) {
        const analysed = await analyseJobSource(this.runtime, this.job.sourcePath, this.id, this.job.stages.includes('embed'), args.parameters ?? {});
        sourceToken = analysed.token;
        source = analysed.source;
      }
      this.assertRunning();
      const shown = redactUrl(args.target_path);
      let reconnecting = 0;
      // The decoder stores the frames under the job's id (opened stopped when stop() came first).
      const decoder = this.pipeline.open({
        locator: this.locator,
        input: args.target_path,
        // YUV 4:2:0 as decoded, straight through to the encoder; stages that need RGB convert
        // only the pixels around the faces (vision/yuv.ts). The buffers are pooled: the job
        // reads no frame after the encoder released it.
        pixelFormat: 'yuv420p',
        pooled: true,
        ...(this.options.network ? { network: this.options.network } : {}),
        overload: {
          ...(args.live_policy ? { policy: args.live_policy.replace('_', '-') as OverloadPolicy } : {}),
          ...(args.live_max_queue !== undefined ? { maxQueue: args.live_max_queue } : {}),
          ...(args.live_every_nth !== undefined ? { everyNth: args.live_every_nth } : {}),
        },
        onReconnect: (attempt, delayMs, reason) => {
          reconnecting = attempt;
          const why = redactUrl(reason).replace(/\s*\n\s*/g, ' · ');
          const what = this.pipeline.framesRead === 0 ? `video source ${shown} is not up (${why})` : `video source ${shown} was lost (${why})`;
          this.options.onNotice?.('warn', `${what}; reconnect attempt ${attempt} in ${delayMs} ms`);
        },
      });
      const workerCount = Math.max(0, Math.floor(this.options.pixelWorkers ?? 0));
      if (workerCount > 0 && this.job.stages.some((s) => PIXEL_WORKER_STAGES.has(s))) this.workers = new PixelWorkerPool(workerCount);
      this.workerThreads = this.workers?.size ?? 0;
      this.loop = this.runtime.frameLoop(this.id, { workers: () => this.workers, live: input.live, shown, onNotice: (level, message) => this.options.onNotice?.(level, message) });
      // The detector loads while the source opens (a camera's first frames would wait for it).
      if (this.job.stages.includes('detect')) this.runtime.prepareVideoDetector(this.parameters.face_detector_model);
      for await (const frame of this.pipeline.frames(this.window)) {
        if (reconnecting > 0) {
          this.options.onNotice?.('info', `video source ${shown} is back after ${reconnecting} reconnect attempt(s); frames continue at ${frame.index}`);
          reconnecting = 0;
        }
        if (!this.encoder) {
          // The output is created now, in the folder as it is now (checked again), and written through its descriptor.
          await this.out.open();
          const stream = decoder.info;
          // A live source's frame interval (from the camera, known now) is the time budget unless frame_budget_ms is set.
          if (input.live && stream && stream.fps > 0) {
            this.sourceIntervalMs = 1000 / stream.fps;
            this.policy?.setSourceInterval(this.sourceIntervalMs);
          }
          this.encoder = this.makeEncoder(frame.width, frame.height, stream?.fps ?? info.fps, info.hasAudio, input.live, frame.index, stream?.matrix);
          this.window.size = this.windowFor(yuvLayout(frame.width, frame.height).bytes);
          this.stream = this.openStream(stream?.fps ?? info.fps, input.live, this.window.size);
          this.meter.start();
        }
        // Indexes the decoder dropped (overload policy): skipped; a live output shows the previous
        // frame for them (held by its timestamp, or written again) and keeps real time.
        const { droppedBefore } = frame;
        for (let i = frame.index - droppedBefore; i < frame.index; i++) void this.encoder.skip(i).catch(() => undefined);
        if (droppedBefore > 0) {
          this.meter.framesDropped += droppedBefore;
          if (!this.toldDropping) {
            this.toldDropping = true;
            const p = decoder.policy;
            this.options.onNotice?.(
              'info',
              `processing is slower than video source ${shown}: frames are dropped (${p.policy}, queue ${p.maxQueue}), the output shows the previous frame for each; the result counts them`,
            );
          }
        }
        const cadence = this.loop?.admit({ index: frame.index, droppedBefore, queued: decoder.queued });
        const task = this.processFrame(frame, source, cadence).catch((error: unknown) => {
          // Encoder death (or any non-frame error) ends the job; stop reading frames.
          if (this.state !== 'failing') this.fatal ??= toFaceError(error, 'E_VIDEO_ENCODE');
          void this.pipeline.fail();
        });
        // The pipeline reads the next frame once fewer than the window's size are in flight.
        this.window.add(task);
      }
      // No more frames: a frame waiting for its look-ahead goes on with what was seen.
      this.stream?.end();
      if (this.stopRequested) await this.settleWithin(this.options.stopGraceMs ?? 10_000);
      // Past the grace, frames still in a stage are left behind (freed when they finish, counted late).
      if (this.state !== 'grace-over') await this.settle();
      if (this.fatal) throw this.fatal;
      this.assertRunning();
      if (this.stopRequested && this.meter.framesDone === 0) throw new FaceError('E_CLOSED', 'the job was stopped before any frame was processed; nothing was written');
      if (!this.encoder || this.meter.framesDone === 0) throw new FaceError('E_VIDEO_DECODE', `no frames could be decoded from "${args.target_path}"`);
      const stopped = this.stopRequested;
      const encoded = await this.encoder.finish();
      const output = this.out.renamed ? await this.out.commit() : encoded.outputPath;
      return {
        kind: 'video',
        output,
        frames: encoded.frames,
        framesProcessed: this.meter.framesDone,
        framesFailed: this.meter.framesFailed,
        framesDropped: this.meter.framesDropped,
        framesNoFace: this.meter.framesNoFace,
        facesSkipped: this.meter.facesSkipped,
        framesRead: this.pipeline.framesRead + decoder.dropped,
        framesWritten: encoded.frames,
        framesLate: encoded.late + this.framesLateAfterStop,
        framesRepeated: encoded.repeated,
        ...(input.live ? { live: this.liveSummary(encoded.repeated, encoded.onSkip === 'repeat' ? 'repeat' : 'hold', encoded.fps) } : {}),
        ...(stopped ? { stopped: true } : {}),
        framesDowngraded: this.meter.framesDowngraded,
        downgrades: this.policy?.state().transitions ?? [],
        alerts: this.alerts.map((a) => ({ ...a })),
        width: decoder.info?.width ?? info.width,
        height: decoder.info?.height ?? info.height,
        fps: encoded.fps,
        durationSec: encoded.durationSec,
        audio: info.hasAudio && args.keep_audio !== false && !input.live,
        elapsedSec: this.meter.elapsedSec(),
        processingFps: this.meter.snapshot().fps,
        pixelWorkers: this.workerThreads,
        ...(this.stream ? { privacy: this.stream.stats() } : {}),
        stages: this.job.stages,
      };
    } catch (error) {
      // The first failure is the one to report: tearing down makes in-flight writes fail too.
      const failure = this.fatal ?? toFaceError(error, 'E_JOB');
      this.moveTo('failing');
      // No more frames will come: frames in flight waiting for their look-ahead go on now
      // (else they would wait out the stream's order guard before the job could end).
      this.stream?.end();
      await this.teardown();
      // A file output is written under a temporary name: an unfinished job leaves nothing under the final one.
      const discarded = !!this.out?.renamed && !!this.encoder?.startedFile;
      await this.out?.discard().catch(() => undefined);
      if (this.state === 'cancelled') {
        if (discarded) this.deletedPartial = args.output_path;
        else this.deletePartialOutput();
        throw new FaceError('E_CLOSED', `the job was cancelled${this.deletedPartial ? `; its partial output ${this.deletedPartial} was deleted` : ''}`);
      }
      throw failure;
    } finally {
      // The source ended: its privacy stream (tracks, rolling scan) goes with it.
      this.stream?.end();
      await this.settle();
      for (const rid of this.active) store.releaseOwner(rid);
      this.active.clear();
      // ffmpeg, the decoded frames still under the job's id and the source's privacy stream.
      await this.pipeline.close();
      if (sourceToken) this.runtime.release(sourceToken);
      await this.workers?.close();
      this.workers = undefined;
    }
  }

  /** The overload decisions of a live run, for the result. */
  private liveSummary(repeated: number, gaps: 'hold' | 'repeat', fps: number): LiveSummary {
    const decoder = this.decoder!;
    const { policy, maxQueue, everyNth } = decoder.policy;
    return {
      policy,
      maxQueue,
      ...(policy === 'every-nth' ? { everyNth } : {}),
      queuePeak: decoder.queuePeak,
      dropped: decoder.dropped,
      repeated,
      gaps,
      fps,
      frameIntervalMs: Math.round((this.sourceIntervalMs ?? 1000 / fps) * 1000) / 1000,
      preset: this.encoder?.preset ?? '',
    };
  }

  private assertRunning(): void {
    if (this.state === 'cancelled') throw new FaceError('E_CLOSED', 'the job was cancelled');
  }

  /** The job's state is its pipeline's (one enum, moving only forward). */
  private get state(): VideoJobState {
    return this.pipeline.state;
  }

  private moveTo(next: VideoJobState): void {
    this.pipeline.moveTo(next);
  }

  /** stop() was asked (and nothing failed or cancelled the job since). */
  private get stopRequested(): boolean {
    return this.pipeline.stopRequested;
  }

  /** The source's decoder, once the pipeline opened it. */
  private get decoder(): VideoDecoder | undefined {
    return this.pipeline.decoder;
  }

  /** Waits for the frames in flight up to `ms`; frames finishing later are refused by the encoder and counted late. */
  private async settleWithin(ms: number): Promise<void> {
    if (!(await this.window.settleWithin(ms))) this.moveTo('grace-over');
  }

  /** After an abort: a file output ffmpeg had started is unfinished (an MP4 without its index is unreadable), so it goes. */
  private deletePartialOutput(): void {
    const path = this.encoder?.startedFile;
    if (!path) return;
    try {
      rmSync(path, { force: true });
      this.deletedPartial = path;
    } catch {
      // Left in place: the message then does not claim it was deleted.
    }
  }

  private async settle(): Promise<void> {
    await this.window.settle();
  }

  private async teardown(): Promise<void> {
    await Promise.allSettled([this.decoder?.stop(), this.encoder?.abort()]);
    await this.settle();
  }

  private makeEncoder(width: number, height: number, fps: number, hasAudio: boolean, live: boolean, startIndex = 0, matrix?: 'bt709'): VideoEncoder {
    const { args } = this.job;
    return new VideoEncoder({
      locator: this.locator,
      store: this.runtime.store,
      // The temporary file (through its descriptor once created) or the stream; the provenance marks.
      ...this.out!.encoderTarget(),
      width,
      height,
      fps,
      // Muxing audio from a live URL would open a second connection: files only.
      ...(hasAudio && !live ? { audioFrom: args.target_path } : {}),
      keepAudio: args.keep_audio !== false,
      quality: args.quality ?? defaultQuality(live),
      ...(args.crf !== undefined ? { crf: args.crf } : {}),
      // A live camera of a high pixel rate per core gets a cheaper preset (io-defaults LIVE_FAST_PRESET).
      preset: args.preset ?? defaultPreset(live, width, height, fps),
      startIndex,
      pixelFormat: 'yuv420p',
      ...(matrix ? { matrix } : {}),
      // A live output keeps real time: a dropped frame's index shows the previous frame, held by its
      // timestamp (nothing encoded; default) or written again (live_gaps: repeat, constant rate).
      ...(live ? { onSkip: args.live_gaps ?? 'hold' } : {}),
    });
  }

  /**
   * The job's privacy stream, when it blurs: frames in decode order, the scan interval of its
   * parameters, and for a file a look-ahead of two scan cycles (a face first found up to then is
   * masked in the frames before, placed back along its motion) as far as the frames in flight
   * allow; a live source has none (it would add its length to the delay behind the camera).
   */
  private openStream(fps: number, live: boolean, window: number): FaceStream | undefined {
    if (!this.job.stages.includes('blur')) return undefined;
    const p = this.parameters;
    const interval = scanInterval(p);
    const holdFrames = p.blur_hold_frames ?? DEFAULT_HOLD_FRAMES;
    const frameSec = fps > 0 ? 1 / fps : 1 / 25;
    const cycle = interval > 0 ? Math.max(1, Math.ceil(interval / frameSec - 1e-9)) : 0;
    const lookahead = live || !(holdFrames > 0) ? 0 : Math.max(0, Math.min(Math.max(2 * cycle + 1, Math.ceil(LOOKAHEAD_SEC / frameSec)), window - 2));
    return this.runtime.streams.open(
      this.id,
      {
        holdFrames,
        motion: p.blur_hold_motion ?? 'constant_velocity',
        confirmScore: p.score_threshold ?? DEFAULT_SCORE_THRESHOLD,
        scanInterval: interval,
        lookahead,
        ordered: true,
        frameSec,
        inFlight: window,
      },
      Date.now(),
    );
  }

  /**
   * Frames in flight so that decoded + derived frames stay inside the store's free budget:
   * each frame costs its decoded copy plus up to two derived frames while a stage runs.
   */
  private windowFor(frameBytes: number): number {
    const stats = this.runtime.store.stats();
    const pixelStages = this.job.stages.filter((s) => PIXEL_STAGES.has(s)).length;
    const perFrame = frameBytes * (1 + Math.min(2, pixelStages));
    const free = stats.budgetBytes - stats.bytes - stats.reservedBytes + frameBytes; // the first frame is already in
    // With pixel workers more frames overlap: the main thread detects the next ones while a
    // worker swaps (swap job, 720p: 2 → 4 in flight, +7 % frames/s with one worker, BENCHMARKS.md §14).
    const wanted = Math.max(1, this.options.framesInFlight ?? (this.workers ? 4 : 2), this.lookaheadWanted());
    return Math.max(1, Math.min(wanted, Math.floor(free / perFrame)));
  }

  /** The journal of the first frame after frames the overload policy dropped says so. */
  private markDropped(token: FaceToken, frame: PipelineFrame): FaceToken {
    const gaps = this.job.args.live_gaps === 'repeat' ? 'written again' : 'held on screen';
    return advance(token, {}, this.pipeline.overloadEntry(frame, `; the previous frame is ${gaps} for them`));
  }

  /** Frames in flight a blurring file job wants for its look-ahead (LOOKAHEAD_SEC or two scan cycles at 30 fps, whichever is longer, plus three), at every scan cadence. */
  private lookaheadWanted(): number {
    if (!this.job.stages.includes('blur') || this.live || (this.parameters.blur_hold_frames ?? DEFAULT_HOLD_FRAMES) <= 0) return 0;
    const interval = scanInterval(this.parameters);
    // Scanning every tile on every frame (interval 0) still finds a face entering the view late: the look-ahead serves it too.
    return Math.max(2 * Math.ceil(interval * 30), Math.ceil(LOOKAHEAD_SEC * 30)) + 3;
  }

  /** Raises the job's alert once `alert_after_failures` frames failed. */
  private checkAlert(lastError: { code: string; message: string } | undefined): void {
    const threshold = this.job.alertAfterFailures;
    if (threshold === undefined || this.alerts.length > 0 || this.meter.framesFailed < threshold) return;
    const alert: JobAlert = {
      code: 'E_FAILURE_ALERT',
      jobId: this.id,
      message: `${this.meter.framesFailed} frames failed (alert_after_failures ${threshold})${lastError ? `; last: ${lastError.code}: ${lastError.message}` : ''}`,
      framesFailed: this.meter.framesFailed,
      threshold,
      ...(lastError ? { lastError } : {}),
    };
    this.alerts.push(alert);
    this.options.onAlert?.({ ...alert });
  }

  /** Sets the downgrade policy's frame budget while the job runs (E_BAD_PARAMETER when the job has no policy). */
  setFrameBudget(ms: number | undefined): void {
    if (!this.policy) throw new FaceError('E_BAD_PARAMETER', 'the job was not started with downgrade: true');
    this.policy.setFrameBudget(ms);
  }

  private async processFrame(frame: PipelineFrame, source: JobSource | undefined, cadence?: JournalInput): Promise<void> {
    const encoder = this.encoder!;
    const policy = this.job.failurePolicy;
    const attempts = typeof policy === 'object' ? 1 + policy.retry : 1;
    let written: FrameRef = frame.ref;
    let done: FaceToken | undefined;
    let outcome: 'ok' | 'no_face' | 'failed' = 'failed';
    let last: FaceToken | undefined;
    let lastError: { code: string; message: string } | undefined;
    // The policy's level when the frame starts decides its work (all attempts do the same).
    const plan = this.policy?.plan(this.job.stages, this.parameters);
    const started = performance.now();
    for (let attempt = 0; attempt < attempts && this.state !== 'cancelled'; attempt++) {
      let token = frameToken({
        jobId: this.id,
        ref: frame.ref,
        index: frame.index,
        pts: frame.pts,
        width: frame.width,
        height: frame.height,
        ...(source ? { source } : {}),
        stages: plan?.stages ?? this.job.stages,
        parameters: plan?.parameters ?? this.parameters,
        ttlMs: this.runtime.tokenTtlMs,
      });
      if (plan && this.policy) token = this.policy.mark(token, plan, attempt === 0);
      if (frame.droppedBefore > 0) token = this.markDropped(token, frame);
      if (cadence) token = advance(token, {}, cadence);
      this.active.add(token.request_id);
      const result = await runFrameStages(this.runtime, this.loop!, token, plan?.stages ?? this.job.stages, frame.ref);
      this.active.delete(token.request_id);
      last = result.token;
      if (result.kind === 'failed') lastError = { code: result.code, message: result.message };
      if (result.kind === 'ok') {
        done = result.token;
        written = result.token.target.frame;
        outcome = 'ok';
        break;
      }
      dropDerived(this.runtime, result.token, frame.ref);
      if (result.kind === 'no_face') {
        outcome = 'no_face';
        break;
      }
    }
    if (this.state === 'cancelled' || this.state === 'grace-over') {
      // Nothing will be written: free what the frame's token made (not the job's source) and the frame.
      if (this.state === 'grace-over') this.framesLateAfterStop++;
      if (done) this.runtime.release(done, { keepSource: true });
      this.runtime.store.release(frame.ref);
      return;
    }
    const ms = performance.now() - started;
    this.policy?.observe(ms);
    if (plan?.dropped.length) this.meter.framesDowngraded++;
    if (last) this.options.onFrame?.({ jobId: this.id, index: frame.index, outcome, state: last.state, journal: [...last.journal], ms });
    if (outcome === 'failed') {
      this.meter.framesFailed++;
      this.checkAlert(lastError);
    }
    if (outcome === 'no_face') this.meter.framesNoFace++;
    if (last) this.meter.facesSkipped += facesSkipped(last);
    if (outcome === 'failed' && policy === 'drop') {
      this.runtime.store.release(frame.ref);
      this.meter.framesDropped++;
      await encoder.skip(frame.index);
    } else {
      // The encoder owns (and frees) what it is given; the decoded frame is ours to free.
      if (written !== frame.ref) this.runtime.store.release(frame.ref);
      await encoder.write(frame.index, written);
    }
    this.meter.framesDone++;
    this.options.onProgress(this.meter);
  }
}
