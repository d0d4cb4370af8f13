import { EventEmitter } from 'events';
import { hostname } from 'os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import IORedis from 'ioredis';
import { FaceError, toFaceError } from '../errors';
import type { Runtime } from '../runtime';
import type { JobArgs } from '../jobs/args';
import { JobManager, type JobManagerOptions } from '../jobs/job-manager';
import { isUrlOutput, removeStalePartials } from '../jobs/output';
import type { JobProgress } from '../jobs/progress';
import type { JobResult } from '../jobs/types';
import type { QueueConnectionOptions } from './job-queue';
import { withTimeout } from './job-queue';
import { cancelChannel, cancelKey, DEFAULT_QUEUE_NAME, encodeFailure, PERMANENT_CODES } from './names';
import { redactRedisUrl, redisOptions } from './redis-url';

export interface QueueWorkerOptions extends QueueConnectionOptions {
  /** Jobs this worker runs at once (default 1); they share the runtime (one session per model). */
  concurrency?: number;
  /** How long a job's lock lasts without renewal (ms, default 30000): a killed worker's job is taken up after about this long. */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs (ms, default 30000). */
  stalledIntervalMs?: number;
  /** Stalls a job may have before it ends failed (default 2). */
  maxStalledCount?: number;
  /** Options of the worker's own JobManager (ffmpeg locator, frames in flight, pixel workers). */
  jobs?: Omit<JobManagerOptions, 'maxConcurrent'>;
  /**
   * Checks or rewrites a job's args before it runs; a throw fails the job for good. Default: the
   * runtime's path policy (`runtime.paths.jobArgs`): paths inside its allowed folders, model
   * options ids or files in the models folder or the allowed folders, URLs of allowed schemes.
   */
  prepareArgs?(args: JobArgs): Promise<unknown>;
  /**
   * Run queued jobs without any confinement (paths, models, URLs), trusting everyone who can
   * write to the Redis queue. Without it, and without `prepareArgs`, a runtime with no allowed
   * folders is refused (E_BAD_PARAMETER): such a worker would take jobs it can only refuse.
   */
  allowAnyPath?: boolean;
  /** Worker name shown by `jobs` (default hostname:pid). */
  workerName?: string;
}

export interface QueueWorkerEvents {
  /** A job taken, finished, failed (will retry or not), cancelled or handed back. */
  job: [event: { id: string; state: 'running' | 'completed' | 'failed' | 'cancelled' | 'handed-back'; result?: JobResult; error?: { code: string; message: string } }];
  progress: [progress: JobProgress];
  error: [error: Error];
}

interface Running {
  localId: string;
  handBack: boolean;
}

/**
 * Takes face jobs from a Redis queue (BullMQ) and runs them on its own JobManager over the given
 * runtime. Progress goes back to Redis (`job.updateProgress`), the result is the job's return
 * value. A worker killed mid-job stops renewing its lock: another worker's stalled-job check
 * takes the job up and runs it again (outputs are written under a temporary name and renamed
 * when complete, so the killed attempt leaves no file under the final name).
 */
export class QueueWorker extends EventEmitter<QueueWorkerEvents> {
  readonly name: string;
  readonly where: string;
  readonly manager: JobManager;
  private readonly worker: Worker<{ args: JobArgs }, JobResult>;
  private readonly subscriber: IORedis;
  private readonly commands: IORedis;
  private readonly running = new Map<string, Running>();
  private readonly prefix: string;
  private stopping?: Promise<void>;

  constructor(
    readonly runtime: Runtime,
    private readonly options: QueueWorkerOptions,
  ) {
    super();
    if (!options.prepareArgs && !options.allowAnyPath && runtime.paths.allowed.length === 0) {
      throw new FaceError(
        'E_BAD_PARAMETER',
        'a queue worker needs allowed folders for the paths of queued jobs (runtime option allowedFolders, CLI --allowed-folder DIR), or an explicit allowAnyPath (CLI --allow-any-path) to trust every job on the queue',
      );
    }
    const queueName = options.name ?? DEFAULT_QUEUE_NAME;
    this.prefix = options.prefix ?? 'bull';
    this.where = redactRedisUrl(options.url);
    this.name = options.workerName ?? `${hostname()}:${process.pid}`;
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.manager = new JobManager(runtime, { ...options.jobs, maxConcurrent: concurrency });
    this.manager.on('progress', (p) => this.onProgress(p));
    const connection = redisOptions(options.url);
    this.commands = new IORedis(connection);
    this.commands.on('error', () => undefined);
    this.subscriber = new IORedis(connection);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, id: string) => this.cancelLocal(id));
    void this.subscriber.subscribe(cancelChannel(this.prefix, queueName)).catch((e: unknown) => this.emit('error', e as Error));
    this.worker = new Worker<{ args: JobArgs }, JobResult>(queueName, (job, token, signal) => this.process(job, token, signal), {
      connection,
      prefix: this.prefix,
      concurrency,
      name: this.name,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 2,
      autorun: true,
    });
    this.worker.on('error', (e) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
    });
  }

  /** Resolves when the worker is connected and taking jobs; E_JOB after connectTimeoutMs. */
  async ready(): Promise<void> {
    await withTimeout(this.worker.waitUntilReady(), this.options.connectTimeoutMs ?? 5000, `cannot reach Redis at ${this.where}`);
  }

  /** Ids of the queue jobs running here. */
  jobs(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Stops taking jobs. Running jobs may finish for `graceMs` (default 30 s); what still runs
   * then is cancelled here and handed back to the queue (another worker takes it, no attempt
   * used). `graceMs: 0` hands back at once. Idempotent; a second call with a shorter grace
   * shortens the wait.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = Math.max(0, options.graceMs ?? 30_000);
    if (this.stopping) {
      if (graceMs === 0) this.handBackAll();
      return this.stopping;
    }
    this.stopping = (async () => {
      const closing = this.worker.close();
      const timer = setTimeout(() => this.handBackAll(), graceMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
        await this.manager.close();
        await Promise.allSettled([this.subscriber.quit(), this.commands.quit()]);
      }
    })();
    return this.stopping;
  }

  private handBackAll(): void {
    for (const [id, run] of this.running) {
      run.handBack = true;
      void this.manager.cancelJob(run.localId).catch(() => undefined);
      this.emit('job', { id, state: 'handed-back' });
    }
  }

  private cancelLocal(id: string): void {
    const run = this.running.get(id);
    if (run) void this.manager.cancelJob(run.localId).catch(() => undefined);
  }

  private onProgress(p: JobProgress): void {
    for (const [id, run] of this.running) {
      if (run.localId !== p.id) continue;
      this.emit('progress', { ...p, id });
    }
  }

  private async process(job: Job<{ args: JobArgs }, JobResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<JobResult> {
    const id = job.id!;
    if (await this.commands.exists(cancelKey(this.prefix, job.queueName, id))) {
      throw new UnrecoverableError(encodeFailure({ code: 'E_CLOSED', message: 'the job was cancelled' }));
    }
    let localId: string;
    try {
      const args = this.options.prepareArgs
        ? await this.options.prepareArgs(job.data?.args)
        : this.options.allowAnyPath
          ? job.data?.args
          : await this.runtime.paths.jobArgs(job.data?.args, 'queued job');
      localId = this.manager.createJob(args, { untrusted: !this.options.allowAnyPath });
      const output = (args as JobArgs).output_path;
      // An earlier attempt killed mid-write left its temporary file: nobody else will remove it.
      if (!isUrlOutput(output)) await removeStalePartials(output);
    } catch (error) {
      const e = toFaceError(error, 'E_JOB');
      this.emit('job', { id, state: 'failed', error: { code: e.code, message: e.message } });
      throw new UnrecoverableError(encodeFailure(e));
    }
    const run: Running = { localId, handBack: false };
    this.running.set(id, run);
    const onAbort = (): void => void this.manager.cancelJob(localId).catch(() => undefined);
    signal?.addEventListener('abort', onAbort);
    const forward = (p: JobProgress): void => {
      if (p.id === localId) void job.updateProgress({ ...p, id } as unknown as object).catch(() => undefined);
    };
    this.manager.on('progress', forward);
    this.emit('job', { id, state: 'running' });
    try {
      this.manager.startJob(localId);
      const info = await this.manager.waitForJob(localId);
      if (info.state === 'completed' && info.result) {
        this.emit('job', { id, state: 'completed', result: info.result });
        return info.result;
      }
      if (info.state === 'cancelled' && run.handBack && token) {
        // Back to the queue for another worker; BullMQ does not count it as an attempt.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const error = info.error ?? { code: 'E_JOB', message: `job ${info.state}` };
      if (info.state === 'cancelled') {
        this.emit('job', { id, state: 'cancelled', error });
        throw new UnrecoverableError(encodeFailure({ code: 'E_CLOSED', message: 'the job was cancelled' }));
      }
      this.emit('job', { id, state: 'failed', error });
      if (PERMANENT_CODES.has(error.code)) throw new UnrecoverableError(encodeFailure(error));
      throw new Error(encodeFailure(error));
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.manager.off('progress', forward);
      this.running.delete(id);
    }
  }
}
