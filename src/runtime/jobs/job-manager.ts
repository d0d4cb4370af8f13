import { EventEmitter } from 'events';
import { randomUUID } from 'crypto';
import { FaceError, toFaceError } from '../errors';
import type { Runtime } from '../runtime';
import { isDefaultModelRef } from '../models/model-ref';
import type { Parameters, Stage } from '../token/types';
import { FfmpegLocator } from '../video/ffmpeg-path';
import { JobArgsValidator, MAX_PIXEL_WORKERS, type NormalizedJob } from './args';
import { ImageJob } from './image-job';
import type { JobProgress, ProgressMeter } from './progress';
import { TERMINAL_STATES, type JobInfo, type JobResult, type JobState } from './types';
import { VideoJob, type JobFrameInfo } from './video-job';
import type { JobAlert } from './types';

export interface JobManagerOptions {
  /** ffmpeg resolution (default: a new FfmpegLocator with the runtime's environment). */
  locator?: FfmpegLocator;
  /** Jobs running at once (default 1); more started jobs wait in the queue. */
  maxConcurrent?: number;
  /** Jobs that may wait to run (default 100); startJob beyond it throws E_JOB. */
  maxQueued?: number;
  /** Finished jobs kept for getJob/listJobs (default 100); the oldest are forgotten first. */
  keepFinished?: number;
  /** Frames of one video job processed at once (default 2, or 4 when the job has pixel workers). */
  framesInFlight?: number;
  /**
   * Worker threads per video job for pixel-only stages (blur, enhance, debug, swap), 0–8, or
   * 'auto' (see pixelWorkersFor); default 0 (the face-job node and the CLI pass
   * DEFAULT_PIXEL_WORKERS). A job's `pixel_workers` argument wins.
   */
  pixelWorkers?: number | 'auto';
  /** After a live job is stopped, how long its frames in flight may take to finish (ms, default 10000). */
  stopGraceMs?: number;
  /** Least time between two progress events of a job (ms, default 250); the last one always goes out. */
  progressIntervalMs?: number;
}

/**
 * Pixel worker threads of a video job run from the face-job node or the CLI (run and worker) when
 * the job does not say: 'auto', one worker for a job with an embedded swap or enhance and none
 * otherwise (see pixelWorkersFor). A JobManager built in code without `pixelWorkers` runs none.
 */
export const DEFAULT_PIXEL_WORKERS = 'auto' as const;

/**
 * What 'auto' pixel workers resolve to for a job's stages: one worker thread when the job swaps
 * or enhances with the embedded processors (a worker then takes the swap, ≈ 6–9 ms per 720p
 * frame, off the main thread: +8–13 % frames/s with YUV frames, BENCHMARKS.md §14), none
 * otherwise — a blur on YUV planes costs ≈ 2 ms, less than handing the frame to a thread and
 * back (−3 to −13 %).
 */
export function pixelWorkersFor(setting: number | 'auto', stages: readonly Stage[], parameters: Parameters): number {
  if (setting !== 'auto') return setting;
  const embeddedSwap = stages.includes('swap') && isDefaultModelRef(parameters.face_swapper_model);
  const embeddedEnhance = stages.includes('enhance') && isDefaultModelRef(parameters.face_enhancer_model);
  return embeddedSwap || embeddedEnhance ? 1 : 0;
}

/**
 * Refuses a pixel worker count that is not a whole number from 0 to MAX_PIXEL_WORKERS
 * (E_BAD_PARAMETER naming `what` and `shown`, the value as the user gave it); undefined passes.
 */
export function checkPixelWorkers(value: unknown, what: string, shown: unknown = value): void {
  if (value === undefined || value === 'auto') return;
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_PIXEL_WORKERS)) {
    throw new FaceError('E_BAD_PARAMETER', `${what} must be "auto" or a whole number from 0 to ${MAX_PIXEL_WORKERS} (got ${typeof shown === 'number' ? String(shown) : JSON.stringify(shown)})`);
  }
}

interface Runner {
  run(): Promise<JobResult>;
  cancel(): Promise<void>;
  /** Finish early keeping the output (live sources). */
  stop?(): Promise<void>;
  /** The job reads a live source (stream or device): cancel means stop and keep the recording. */
  readonly live?: boolean;
  pids(): { decoder?: number; encoder?: number };
  readonly meter: ProgressMeter;
}

/** How far a job's args are trusted. */
export interface CreateJobOptions {
  /**
   * The args came from a message or a queue (already through `runtime.paths.jobArgs`): the
   * output file is checked again against the runtime's allowed folders when it is opened and
   * when it is renamed into place, and stream URLs connect only to the checked address.
   */
  untrusted?: boolean;
}

interface JobRecord {
  id: string;
  untrusted: boolean;
  state: JobState;
  job: NormalizedJob;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** startJob was called: the scheduler may run it. */
  wanted: boolean;
  runner?: Runner;
  alerts: JobAlert[];
  cancelRequested: boolean;
  /** A live job was asked to stop: it finishes its recording and completes (stopped). */
  stopRequested: boolean;
  result?: JobResult;
  error?: { code: string; message: string };
  progress: JobProgress;
  lastProgressAt: number;
  finished: Promise<void>;
  resolveFinished: () => void;
}

export interface JobManagerEvents {
  state: [info: JobInfo];
  progress: [progress: JobProgress];
  /** A video frame once processed (its final token state and journal); nothing is sent without a listener. */
  frame: [frame: JobFrameInfo];
  /** `alert_after_failures` was reached (once per job). */
  alert: [alert: JobAlert];
  /** Something a user should hear of while a job runs (a live source lost, waited for, back). */
  notice: [notice: JobNotice];
}

export interface JobNotice {
  id: string;
  level: 'warn' | 'info';
  message: string;
}

/**
 * Headless face jobs over one Runtime (FaceFusion's job manager, in process): a job is drafted
 * from FaceFusion-style args, submitted (queued), started (runs when one of `maxConcurrent`
 * slots is free), and ends completed, failed (with a coded error) or cancelled. Events:
 * `state` (JobInfo) on every transition and `progress` (frames done, fps, ETA) while running.
 * The CLI, the face-job node and scripts share this class.
 */
export class JobManager extends EventEmitter<JobManagerEvents> {
  readonly maxConcurrent: number;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly validator = new JobArgsValidator();
  private readonly locator: FfmpegLocator;
  private readonly options: JobManagerOptions;
  private running = 0;
  private closed = false;

  constructor(
    readonly runtime: Runtime,
    options: JobManagerOptions = {},
  ) {
    super();
    this.options = options;
    this.locator = options.locator ?? new FfmpegLocator();
    this.maxConcurrent = Math.max(1, Math.floor(options.maxConcurrent ?? 1));
    checkPixelWorkers(options.pixelWorkers, 'JobManager pixelWorkers');
  }

  /** Validates args (E_JOB / E_BAD_OUTPUT naming the field) and drafts a job; returns its id. */
  createJob(args: unknown, options: CreateJobOptions = {}): string {
    this.assertOpen();
    const job = this.validator.normalize(args);
    const id = randomUUID();
    let resolveFinished!: () => void;
    const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
    const record: JobRecord = {
      id,
      untrusted: options.untrusted === true,
      state: 'drafted',
      job,
      createdAt: new Date().toISOString(),
      wanted: false,
      alerts: [],
      cancelRequested: false,
      stopRequested: false,
      progress: { id, framesDone: 0, fps: 0, framesFailed: 0, framesDropped: 0, framesDowngraded: 0 },
      lastProgressAt: 0,
      finished,
      resolveFinished,
    };
    this.jobs.set(id, record);
    this.emitState(record);
    this.prune();
    return id;
  }

  /** drafted → queued (waits for startJob). */
  submitJob(id: string): JobInfo {
    const record = this.record(id);
    if (record.state !== 'drafted') throw new FaceError('E_JOB', `job ${id} is ${record.state}; only a drafted job can be submitted`);
    if (this.queuedCount() >= (this.options.maxQueued ?? 100)) throw new FaceError('E_JOB', `the job queue is full (${this.options.maxQueued ?? 100} jobs wait already)`);
    this.transition(record, 'queued');
    return this.info(record);
  }

  /** Runs the job as soon as a slot is free (submits a drafted job first). Resolves at once. */
  startJob(id: string): JobInfo {
    this.assertOpen();
    const record = this.record(id);
    if (record.state === 'drafted') this.submitJob(id);
    if (record.state !== 'queued') throw new FaceError('E_JOB', `job ${id} is ${record.state}; it cannot be started`);
    record.wanted = true;
    this.schedule();
    return this.info(record);
  }

  /** create + submit + start in one call; returns the id. A job refused at start (queue full) is discarded, not kept drafted. */
  runJob(args: unknown, options: CreateJobOptions = {}): string {
    const id = this.createJob(args, options);
    try {
      this.startJob(id);
    } catch (error) {
      this.discardJob(id);
      throw error;
    }
    return id;
  }

  /**
   * Forgets a job that never ran (drafted, or queued and not started): nothing of it stays, no
   * state event follows. False when there is no such job or it is running or finished.
   */
  discardJob(id: string): boolean {
    const record = this.jobs.get(id);
    if (!record || !(record.state === 'drafted' || (record.state === 'queued' && !record.wanted))) return false;
    this.jobs.delete(id);
    record.resolveFinished();
    return true;
  }

  getJob(id: string): JobInfo | undefined {
    const record = this.jobs.get(id);
    return record ? this.info(record) : undefined;
  }

  listJobs(): JobInfo[] {
    return [...this.jobs.values()].map((r) => this.info(r));
  }

  /** Resolves with the job once it is completed, failed or cancelled. */
  async waitForJob(id: string): Promise<JobInfo> {
    const record = this.record(id);
    await record.finished;
    return this.info(record);
  }

  /**
   * Changes the frame budget of a running video job started with `downgrade: true` (undefined
   * clears it): e.g. raise it and the dropped work comes back once frames fit.
   */
  setFrameBudget(id: string, ms: number | undefined): void {
    const runner = this.record(id).runner;
    if (!(runner instanceof VideoJob)) throw new FaceError('E_JOB', `job ${id} is not a running video job`);
    runner.setFrameBudget(ms);
  }

  /**
   * A drafted or queued job ends cancelled at once. A running job on a live source (stream,
   * device) is stopped: it stops reading, finishes the frames in flight, closes its output
   * properly and ends `completed` with `result.stopped` (or `cancelled` when nothing was processed
   * yet). A running file job — or any job with `abort: true`, e.g. a second cancel — has its ffmpeg
   * processes killed, its frames freed and a partial output file deleted; it ends `cancelled`.
   * Resolves once the job has ended. Finished jobs are left as they are.
   */
  async cancelJob(id: string, options: { abort?: boolean } = {}): Promise<JobInfo> {
    const record = this.record(id);
    if (TERMINAL_STATES.has(record.state)) return this.info(record);
    const runner = record.runner;
    if (record.state === 'running' && runner?.live && runner.stop && !options.abort && !record.stopRequested) {
      record.stopRequested = true;
      await runner.stop();
    } else if (record.state === 'running') {
      record.cancelRequested = true;
      await runner?.cancel();
    } else {
      record.cancelRequested = true;
      this.finish(record, 'cancelled', undefined, { code: 'E_CLOSED', message: 'the job was cancelled before it ran' });
    }
    await record.finished;
    return this.info(record);
  }

  /** Cancels every job and refuses new ones. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.jobs.keys()].map((id) => this.cancelJob(id)));
  }

  private schedule(): void {
    if (this.closed) return;
    for (const record of this.jobs.values()) {
      if (this.running >= this.maxConcurrent) return;
      if (record.state === 'queued' && record.wanted) void this.execute(record);
    }
  }

  private async execute(record: JobRecord): Promise<void> {
    this.running++;
    const onProgress = (meter: ProgressMeter): void => this.progress(record, meter, false);
    const outputCheck = record.untrusted ? (path: string): Promise<boolean> => this.runtime.paths.contains(path) : undefined;
    const runner: Runner =
      record.job.kind === 'image'
        ? new ImageJob(record.id, record.job, this.runtime, onProgress, outputCheck)
        : new VideoJob(record.id, record.job, this.runtime, this.locator, {
            framesInFlight: this.options.framesInFlight,
            pixelWorkers: pixelWorkersFor(record.job.args.pixel_workers ?? this.options.pixelWorkers ?? 0, record.job.stages, record.job.args.parameters ?? {}),
            ...(this.options.stopGraceMs !== undefined ? { stopGraceMs: this.options.stopGraceMs } : {}),
            ...(outputCheck ? { outputCheck, network: this.runtime.network } : {}),
            onProgress,
            onNotice: (level, message) => this.emit('notice', { id: record.id, level, message }),
            onFrame: (frame) => {
              if (this.listenerCount('frame') > 0) this.emit('frame', frame);
            },
            onAlert: (alert) => {
              record.alerts.push(alert);
              this.emit('alert', alert);
            },
          });
    record.runner = runner;
    record.startedAt = new Date().toISOString();
    this.transition(record, 'running');
    try {
      const result = await runner.run();
      if (record.cancelRequested) throw new FaceError('E_CLOSED', 'the job was cancelled');
      this.progress(record, runner.meter, true);
      this.finish(record, 'completed', result);
    } catch (error) {
      const e = toFaceError(error, 'E_JOB');
      const cancelled = record.cancelRequested || (record.stopRequested && e.code === 'E_CLOSED');
      this.finish(record, cancelled ? 'cancelled' : 'failed', undefined, { code: e.code, message: e.message });
    } finally {
      record.runner = undefined;
      this.running--;
      this.schedule();
    }
  }

  private progress(record: JobRecord, meter: ProgressMeter, final: boolean): void {
    record.progress = meter.snapshot(final);
    const now = performance.now();
    if (!final && now - record.lastProgressAt < (this.options.progressIntervalMs ?? 250)) return;
    record.lastProgressAt = now;
    this.emit('progress', { ...record.progress });
  }

  private finish(record: JobRecord, state: JobState, result?: JobResult, error?: { code: string; message: string }): void {
    record.endedAt = new Date().toISOString();
    if (result) record.result = result;
    if (error) record.error = error;
    record.wanted = false;
    this.transition(record, state);
    record.resolveFinished();
  }

  private transition(record: JobRecord, state: JobState): void {
    record.state = state;
    this.emitState(record);
  }

  private emitState(record: JobRecord): void {
    this.emit('state', this.info(record));
  }

  private info(record: JobRecord): JobInfo {
    return {
      id: record.id,
      state: record.state,
      kind: record.job.kind,
      args: structuredClone(record.job.args),
      stages: [...record.job.stages],
      createdAt: record.createdAt,
      ...(record.startedAt ? { startedAt: record.startedAt } : {}),
      ...(record.endedAt ? { endedAt: record.endedAt } : {}),
      progress: { ...record.progress },
      alerts: record.alerts.map((a) => ({ ...a })),
      ...(record.result ? { result: { ...record.result } } : {}),
      ...(record.error ? { error: { ...record.error } } : {}),
      processes: record.runner?.pids() ?? {},
    };
  }

  private record(id: string): JobRecord {
    const record = this.jobs.get(id);
    if (!record) throw new FaceError('E_JOB', `no job with id "${id}"`);
    return record;
  }

  private queuedCount(): number {
    let n = 0;
    for (const r of this.jobs.values()) if (r.state === 'queued') n++;
    return n;
  }

  /** Forgets the oldest finished jobs beyond `keepFinished`, so a long-running flow does not grow. */
  private prune(): void {
    const keep = this.options.keepFinished ?? 100;
    const finished = [...this.jobs.values()].filter((r) => TERMINAL_STATES.has(r.state));
    for (const r of finished.slice(0, Math.max(0, finished.length - keep))) this.jobs.delete(r.id);
  }

  private assertOpen(): void {
    if (this.closed) throw new FaceError('E_CLOSED', 'the job manager is closed');
  }
}
