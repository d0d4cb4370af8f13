import { randomUUID } from 'crypto';
import { Queue, QueueEvents, type Job } from 'bullmq';
import IORedis from 'ioredis';
import { JobArgsValidator, type JobArgs } from '../jobs/args';
import type { JobProgress } from '../jobs/progress';
import type { JobResult } from '../jobs/types';
import { cancelChannel, cancelKey, decodeFailure, DEFAULT_QUEUE_NAME, FACE_JOB_NAME, queueError } from './names';
import { redactRedisUrl, redisOptions } from './redis-url';

export interface QueueConnectionOptions {
  /** redis://[user:password@]host:port[/db] or rediss://… */
  url: string;
  /** BullMQ queue name (default facefusion-jobs): submitters and workers of one queue use the same. */
  name?: string;
  /** BullMQ key prefix (default bull). */
  prefix?: string;
  /** How long to wait for Redis before a call fails with E_JOB (ms, default 5000). */
  connectTimeoutMs?: number;
}

export interface JobQueueOptions extends QueueConnectionOptions {
  /** Attempts per job before it ends failed (default 3); a permanent error (bad args, missing model) ends it at once. */
  attempts?: number;
  /** Wait before another attempt (ms, default 1000). */
  backoffMs?: number;
  /** Finished jobs Redis keeps for `list` (default 1000 completed, 1000 failed). */
  keepCompleted?: number;
  keepFailed?: number;
}

/** What the queue knows of a job. */
export type QueuedJobState = 'queued' | 'running' | 'retrying' | 'completed' | 'failed' | 'cancelled' | 'unknown';

export interface QueuedJobInfo {
  id: string;
  state: QueuedJobState;
  args: JobArgs;
  /** Attempts used so far (a stalled worker's attempt counts as a stall, not here) and allowed. */
  attemptsMade: number;
  attempts: number;
  /** Times the job was taken back from a worker that stopped renewing its lock (killed, hung). */
  stalled: number;
  progress?: JobProgress;
  result?: JobResult;
  error?: { code: string; message: string };
  /** Name of the worker that took it last (hostname:pid). */
  worker?: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
}

export interface WaitOptions {
  onProgress?(progress: JobProgress): void;
  onState?(info: QueuedJobInfo): void;
  signal?: AbortSignal;
}

interface FaceJobData {
  args: JobArgs;
  submittedAt: string;
}

interface Watcher {
  progress(data: unknown): void;
  change(): void;
}

const TERMINAL = new Set<QueuedJobState>(['completed', 'failed', 'cancelled']);
/**
 * How often wait() also reads the job's state itself (ms). QueueEvents reads Redis's event stream
 * from the moment its first blocking read starts, which may be after it reported ready: an event
 * in between is never delivered, and a wait that relied on events alone hung (a CI run of
 * test/hostile-round2.test.js under load). One state read a second per waiting job closes that gap.
 */
const WAIT_POLL_MS = 1000;

/**
 * The submitting side of face jobs on Redis (BullMQ): validates FaceFusion-style args before
 * they are queued, lists jobs with their state and progress, waits for one (progress and the
 * result come back from whichever worker runs it), cancels one. Workers: QueueWorker.
 */
export class RedisJobQueue {
  readonly name: string;
  readonly prefix: string;
  /** The URL without its password. */
  readonly where: string;
  private readonly queue: Queue<FaceJobData, JobResult>;
  private readonly validator = new JobArgsValidator();
  private events?: Promise<QueueEvents>;
  /** Jobs being waited for: one set of QueueEvents listeners dispatches to them (no listener per wait). */
  private readonly watchers = new Map<string, Set<Watcher>>();
  private plain?: IORedis;
  private closed = false;

  constructor(private readonly options: JobQueueOptions) {
    this.name = options.name ?? DEFAULT_QUEUE_NAME;
    this.prefix = options.prefix ?? 'bull';
    this.where = redactRedisUrl(options.url);
    this.queue = new Queue<FaceJobData, JobResult>(this.name, { connection: redisOptions(options.url), prefix: this.prefix });
    // Connection trouble is reported by the calls that time out; without a listener it would crash the process.
    this.queue.on('error', () => undefined);
  }

  /** Resolves when Redis answers; E_JOB naming the (redacted) URL after connectTimeoutMs. */
  async ready(): Promise<void> {
    await withTimeout(this.queue.waitUntilReady(), this.options.connectTimeoutMs ?? 5000, `cannot reach Redis at ${this.where}`);
  }

  /** Validates the args (E_JOB / E_BAD_OUTPUT naming the field) and queues the job; returns its id. */
  async submit(args: unknown): Promise<string> {
    const job = this.validator.normalize(args);
    await this.ready();
    const id = randomUUID();
    await this.queue.add(
      FACE_JOB_NAME,
      { args: job.args, submittedAt: new Date().toISOString() },
      {
        jobId: id,
        attempts: Math.max(1, Math.floor(this.options.attempts ?? 3)),
        backoff: { type: 'fixed', delay: this.options.backoffMs ?? 1000 },
        removeOnComplete: { count: this.options.keepCompleted ?? 1000 },
        removeOnFail: { count: this.options.keepFailed ?? 1000 },
      },
    );
    return id;
  }

  async get(id: string): Promise<QueuedJobInfo | undefined> {
    await this.ready();
    const raw = await this.queue.getJobState(id);
    const job = await this.queue.getJob(id);
    return job ? this.describe(job, raw) : undefined;
  }

  /** Newest first: running, queued, retrying, then finished jobs (up to `limit`). */
  async list(limit = 100): Promise<QueuedJobInfo[]> {
    await this.ready();
    const jobs = await this.queue.getJobs(['active', 'waiting', 'prioritized', 'delayed', 'paused', 'completed', 'failed'], 0, Math.max(1, limit) - 1, false);
    const infos = await Promise.all(jobs.filter(Boolean).map((j) => this.describe(j)));
    return infos.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }

  /**
   * A queued job is removed (nothing ran); a running one is told to stop (its worker cancels it:
   * ffmpeg stopped, the temporary output removed) and ends cancelled. Resolves with what the
   * queue knows afterwards (undefined when the job was removed or never existed).
   */
  async cancel(id: string): Promise<QueuedJobInfo | undefined> {
    await this.ready();
    const job = await this.queue.getJob(id);
    if (!job) return undefined;
    const before = await this.describe(job);
    if (TERMINAL.has(before.state)) return before;
    const client = this.commands();
    await client.set(cancelKey(this.prefix, this.name, id), '1', 'EX', 7 * 24 * 3600);
    await client.publish(cancelChannel(this.prefix, this.name), id);
    if (before.state === 'queued' || before.state === 'retrying') {
      try {
        await job.remove();
        return { ...before, state: 'cancelled', error: { code: 'E_CLOSED', message: 'the job was cancelled before it ran' } };
      } catch {
        // Taken by a worker in the meantime: the published cancel reaches it.
      }
    }
    return this.get(id);
  }

  /** Resolves once the job completed, failed or was cancelled; progress and state changes along the way. */
  async wait(id: string, options: WaitOptions = {}): Promise<QueuedJobInfo> {
    await this.ready();
    await this.queueEvents();
    return new Promise<QueuedJobInfo>((resolve, reject) => {
      let settled = false;
      let lastState: QueuedJobState | undefined;
      const finish = (error: unknown, info?: QueuedJobInfo): void => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        this.unwatch(id, watcher);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(info!);
      };
      const check = (): void => {
        // The state first, then the job: its data is then at least as new as the state (a job
        // read while running and found failed a moment later would lack its failure reason).
        void this.queue
          .getJobState(id)
          .then(async (raw) => [raw, await this.queue.getJob(id)] as const)
          .then(async ([raw, job]) => {
            if (settled) return;
            if (!job) {
              finish(undefined, {
                id,
                state: 'cancelled',
                args: {} as JobArgs,
                attemptsMade: 0,
                attempts: 0,
                stalled: 0,
                createdAt: '',
                error: { code: 'E_CLOSED', message: 'the job was removed from the queue (cancelled)' },
              });
              return;
            }
            const info = await this.describe(job, raw);
            if (info.state !== lastState) {
              lastState = info.state;
              options.onState?.(info);
            }
            if (TERMINAL.has(info.state)) finish(undefined, info);
          })
          .catch((error: unknown) => finish(error));
      };
      const watcher: Watcher = {
        progress: (data) => {
          if (data && typeof data === 'object') options.onProgress?.({ ...(data as JobProgress), id });
        },
        change: check,
      };
      const onAbort = (): void => finish(queueError('stopped waiting for the job'));
      this.watch(id, watcher);
      options.signal?.addEventListener('abort', onAbort);
      // The job may have moved on before the listeners were in place, or its event be missed.
      const poll = setInterval(check, WAIT_POLL_MS);
      poll.unref?.();
      check();
    });
  }

  /** Closes the connections (queued jobs stay in Redis). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const events = this.events ? await this.events.catch(() => undefined) : undefined;
    await Promise.allSettled([events?.close(), this.queue.close(), this.plain?.quit()]);
  }

  /** A plain connection for the cancel key and channel (BullMQ's own client is typed for its commands only). */
  private commands(): IORedis {
    if (!this.plain) {
      this.plain = new IORedis(redisOptions(this.options.url));
      this.plain.on('error', () => undefined);
    }
    return this.plain;
  }

  private watch(id: string, watcher: Watcher): void {
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(watcher);
  }

  private unwatch(id: string, watcher: Watcher): void {
    const set = this.watchers.get(id);
    set?.delete(watcher);
    if (set?.size === 0) this.watchers.delete(id);
  }

  private queueEvents(): Promise<QueueEvents> {
    if (!this.events) {
      this.events = (async () => {
        const events = new QueueEvents(this.name, { connection: redisOptions(this.options.url), prefix: this.prefix });
        events.on('error', () => undefined);
        events.on('progress', ({ jobId, data }) => {
          for (const w of this.watchers.get(jobId) ?? []) w.progress(data);
        });
        for (const name of ['completed', 'failed', 'active', 'waiting', 'delayed', 'stalled', 'removed'] as const) {
          events.on(name, ({ jobId }: { jobId: string }) => {
            for (const w of this.watchers.get(jobId) ?? []) w.change();
          });
        }
        await withTimeout(events.waitUntilReady(), this.options.connectTimeoutMs ?? 5000, `cannot reach Redis at ${this.where}`);
        return events;
      })();
    }
    return this.events;
  }

  private async describe(job: Job<FaceJobData, JobResult>, known?: string): Promise<QueuedJobInfo> {
    const raw = known ?? (await job.getState());
    const error = decodeFailure(job.failedReason);
    let state: QueuedJobState;
    if (raw === 'active') state = 'running';
    else if (raw === 'completed') state = 'completed';
    else if (raw === 'failed') state = error?.code === 'E_CLOSED' ? 'cancelled' : 'failed';
    else if (raw === 'delayed') state = job.attemptsMade > 0 ? 'retrying' : 'queued';
    else if (raw === 'waiting' || raw === 'prioritized' || raw === 'waiting-children') state = job.attemptsMade > 0 ? 'retrying' : 'queued';
    else state = 'unknown';
    const progress = job.progress && typeof job.progress === 'object' ? { ...(job.progress as unknown as JobProgress), id: job.id! } : undefined;
    return {
      id: job.id!,
      state,
      // Whatever was written into Redis (by anyone): a job without args is listed, not a crash.
      args: ((job.data as { args?: JobArgs } | null | undefined)?.args ?? {}) as JobArgs,
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      stalled: job.stalledCounter ?? 0,
      ...(progress ? { progress } : {}),
      ...(state === 'completed' && job.returnvalue ? { result: job.returnvalue } : {}),
      ...(error && (state === 'failed' || state === 'cancelled' || state === 'retrying') ? { error } : {}),
      ...(job.processedBy ? { worker: job.processedBy } : {}),
      createdAt: new Date(job.timestamp).toISOString(),
      ...(job.processedOn ? { startedAt: new Date(job.processedOn).toISOString() } : {}),
      ...(job.finishedOn ? { endedAt: new Date(job.finishedOn).toISOString() } : {}),
    };
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(queueError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
