import { resolve as resolvePath } from 'path';
import { FaceError, toFaceError } from '../errors';
import { provenanceOfJob, videoMetadata, type Provenance } from '../provenance';
import type { Runtime } from '../runtime';
import type { FaceToken, FrameRef } from '../token/types';
import type { FfmpegLocator } from '../video/ffmpeg-path';
import { probeMedia } from '../video/probe';
import { classifySource } from '../video/source';
import { VideoDecoder, type DecodedFrame } from '../video/decoder';
import { VideoEncoder } from '../video/encoder';
import type { NormalizedJob } from './args';
import { analyseJobSource, dropDerived, frameToken, runFrameStages, type JobSource } from './frame-work';
import { isUrlOutput, PartialOutput } from './output';
import { PIXEL_WORKER_STAGES } from './pixel-protocol';
import { PixelWorkerPool } from './pixel-workers';
import { ProgressMeter } from './progress';
import type { JobResult } from './types';

export interface VideoJobOptions {
  /** Frames processed at once (decode, inference and encode overlap); default 2. */
  framesInFlight?: number;
  /** Worker threads for pixel-only stages (blur, enhance, debug, swap); default 0 = on the main thread. */
  pixelWorkers?: number;
  onProgress(meter: ProgressMeter): void;
}

const PIXEL_STAGES = new Set(['swap', 'enhance', 'blur', 'debug']);

/**
 * One video job: probe → analyse the source once → decode frames into the store → one token
 * per frame through the stages (a few frames in flight) → encoder in index order. Every frame
 * is freed once written; cancel() stops both ffmpeg processes and the run frees the rest.
 */
export class VideoJob {
  private decoder?: VideoDecoder;
  private encoder?: VideoEncoder;
  private workers?: PixelWorkerPool;
  private readonly inflight: Promise<void>[] = [];
  /** request_ids of frame tokens being processed: their derived frames are freed on teardown. */
  private readonly active = new Set<string>();
  private cancelled = false;
  /** Set while tearing down after a failure: later errors are consequences, not causes. */
  private stopping = false;
  private fatal?: FaceError;
  /** File outputs are encoded under a temporary name and renamed when complete. */
  private file?: PartialOutput;
  readonly meter: ProgressMeter;

  constructor(
    private readonly id: string,
    private readonly job: NormalizedJob,
    private readonly runtime: Runtime,
    private readonly locator: FfmpegLocator,
    private readonly options: VideoJobOptions,
  ) {
    this.meter = new ProgressMeter(id);
  }

  /** pids of the job's ffmpeg processes while they run. */
  pids(): { decoder?: number; encoder?: number } {
    return { ...(this.decoder?.pid ? { decoder: this.decoder.pid } : {}), ...(this.encoder?.pid ? { encoder: this.encoder.pid } : {}) };
  }

  /** Stops ffmpeg (both sides). run() then rejects with E_CLOSED after freeing every frame. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    await Promise.all([this.decoder?.stop(), this.encoder?.abort()]);
  }

  async run(): Promise<JobResult> {
    const { args } = this.job;
    const store = this.runtime.store;
    let sourceToken: FaceToken | undefined;
    try {
      const input = classifySource(args.target_path);
      if (!isUrlOutput(args.output_path)) {
        this.file = new PartialOutput(args.output_path);
        if (this.file.final === resolvePath(args.target_path)) throw new FaceError('E_BAD_OUTPUT', `output "${args.output_path}" is the input itself; choose another output path`);
      }
      // A missing or wrong model fails the job here, before ffmpeg runs or a frame is decoded.
      await this.runtime.prepareModels(this.job.stages, args.parameters ?? {});
      this.assertRunning();
      const info = await probeMedia(this.locator, args.target_path);
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
      this.decoder = new VideoDecoder({ locator: this.locator, store, input: args.target_path, owner: this.id });
      const workerCount = Math.max(0, Math.floor(this.options.pixelWorkers ?? 0));
      if (workerCount > 0 && this.job.stages.some((s) => PIXEL_WORKER_STAGES.has(s))) this.workers = new PixelWorkerPool(workerCount);
      let window = 1;
      for await (const frame of this.decoder.frames()) {
        if (this.cancelled || this.fatal) {
          store.release(frame.ref);
          break;
        }
        if (this.meter.framesDone === 0 && this.inflight.length === 0) {
          const stream = this.decoder.info;
          this.encoder = this.makeEncoder(frame.width, frame.height, stream?.fps ?? info.fps, info.hasAudio, input.live);
          window = this.windowFor(frame.width * frame.height * 3);
          this.meter.start();
        }
        const task = this.processFrame(frame, source).catch((error: unknown) => {
          // Encoder death (or any non-frame error) ends the job; stop reading frames.
          if (!this.stopping) this.fatal ??= toFaceError(error, 'E_VIDEO_ENCODE');
          void this.decoder?.stop();
        });
        this.inflight.push(task);
        if (this.inflight.length >= window) await this.inflight.shift();
      }
      await this.settle();
      if (this.fatal) throw this.fatal;
      this.assertRunning();
      if (!this.encoder || this.meter.framesDone === 0) throw new FaceError('E_VIDEO_DECODE', `no frames could be decoded from "${args.target_path}"`);
      const encoded = await this.encoder.finish();
      const output = this.file ? await this.file.commit() : encoded.outputPath;
      return {
        kind: 'video',
        output,
        frames: encoded.frames,
        framesProcessed: this.meter.framesDone,
        framesFailed: this.meter.framesFailed,
        framesDropped: this.meter.framesDropped,
        framesNoFace: this.meter.framesNoFace,
        width: this.decoder.info?.width ?? info.width,
        height: this.decoder.info?.height ?? info.height,
        fps: encoded.fps,
        durationSec: encoded.durationSec,
        audio: info.hasAudio && args.keep_audio !== false && !input.live,
        elapsedSec: this.meter.elapsedSec(),
        processingFps: this.meter.snapshot().fps,
        stages: this.job.stages,
      };
    } catch (error) {
      // The first failure is the one to report: tearing down makes in-flight writes fail too.
      const failure = this.fatal ?? toFaceError(error, 'E_JOB');
      this.stopping = true;
      await this.teardown();
      await this.file?.discard().catch(() => undefined);
      if (this.cancelled) throw new FaceError('E_CLOSED', 'the job was cancelled');
      throw failure;
    } finally {
      await this.settle();
      for (const rid of this.active) store.releaseOwner(rid);
      this.active.clear();
      store.releaseOwner(this.id);
      if (sourceToken) this.runtime.release(sourceToken);
      await this.workers?.close();
      this.workers = undefined;
    }
  }

  private assertRunning(): void {
    if (this.cancelled) throw new FaceError('E_CLOSED', 'the job was cancelled');
  }

  private async settle(): Promise<void> {
    while (this.inflight.length > 0) await Promise.allSettled(this.inflight.splice(0));
  }

  private async teardown(): Promise<void> {
    await Promise.allSettled([this.decoder?.stop(), this.encoder?.abort()]);
    await this.settle();
  }

  private makeEncoder(width: number, height: number, fps: number, hasAudio: boolean, live: boolean): VideoEncoder {
    const { args } = this.job;
    return new VideoEncoder({
      locator: this.locator,
      store: this.runtime.store,
      output: this.file?.partial ?? args.output_path,
      width,
      height,
      fps,
      // Muxing audio from a live URL would open a second connection: files only.
      ...(hasAudio && !live ? { audioFrom: args.target_path } : {}),
      keepAudio: args.keep_audio !== false,
      quality: args.quality ?? 80,
      ...(args.preset ? { preset: args.preset } : {}),
      ...(this.provenance ? { metadata: videoMetadata(this.provenance) } : {}),
    });
  }

  /** Provenance marks for the output when the job swaps or enhances (off with `provenance: false`). */
  private get provenance(): Provenance | undefined {
    return this.job.args.provenance === false ? undefined : provenanceOfJob(this.job.stages, this.job.args.parameters);
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
    const wanted = Math.max(1, this.options.framesInFlight ?? 2);
    return Math.max(1, Math.min(wanted, Math.floor(free / perFrame)));
  }

  private async processFrame(frame: DecodedFrame, source: JobSource | undefined): Promise<void> {
    const { args } = this.job;
    const encoder = this.encoder!;
    const policy = this.job.failurePolicy;
    const attempts = typeof policy === 'object' ? 1 + policy.retry : 1;
    let written: FrameRef = frame.ref;
    let done: FaceToken | undefined;
    let outcome: 'ok' | 'no_face' | 'failed' = 'failed';
    for (let attempt = 0; attempt < attempts && !this.cancelled; attempt++) {
      const token = frameToken({
        jobId: this.id,
        ref: frame.ref,
        index: frame.index,
        pts: frame.pts,
        width: frame.width,
        height: frame.height,
        ...(source ? { source } : {}),
        stages: this.job.stages,
        parameters: args.parameters ?? {},
        ttlMs: this.runtime.tokenTtlMs,
      });
      this.active.add(token.request_id);
      const result = await runFrameStages(this.runtime, token, this.job.stages, frame.ref, this.workers);
      this.active.delete(token.request_id);
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
    if (this.cancelled) {
      // Nothing will be written: free what the frame's token made (not the job's source) and the frame.
      if (done) this.runtime.release(done, { keepSource: true });
      this.runtime.store.release(frame.ref);
      return;
    }
    if (outcome === 'failed') this.meter.framesFailed++;
    if (outcome === 'no_face') this.meter.framesNoFace++;
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
