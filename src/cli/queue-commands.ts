import { parseArgs } from 'node:util';
import { statSync } from 'fs';
import { homedir } from 'os';
import { resolve } from 'path';
import { createRuntime, isFaceError, type DeviceRequest } from '../runtime';
import { HostPolicy } from '../runtime/policy/host-policy';
import { chooseModelsDir, describeModelsDir } from '../runtime/models/models-dir';
import { RedisJobQueue, QueueWorker, type QueuedJobInfo } from '../runtime/queue';
import { FfmpegLocator } from '../runtime/video';
import { DEFAULT_PIXEL_WORKERS, MAX_PIXEL_WORKERS } from '../runtime/jobs';
import { ProgressLine, summary } from './progress-line';
import { parseRunArgs, UsageError } from './run-options';
import type { CliIo } from './facefusion-node';

export const QUEUE_USAGE = `usage: jobs on a Redis queue (BullMQ), taken by any number of workers:

  facefusion-node worker --queue URL --allowed-folder DIR [--allowed-folder DIR …] [--allowed-host HOST …]
                         [--concurrency N] [--threads N] [--device D] [--models-dir DIR]
                         [--stop-timeout S] [--lock-duration MS] [--stalled-interval MS] [--frames-in-flight N]
                         [--pixel-workers N|auto] [--queue-name NAME] [--verbose]
  facefusion-node run … --queue URL [--detach] [--attempts N] [--queue-name NAME]
  facefusion-node jobs --queue URL [--cancel ID] [--json] [--limit N] [--queue-name NAME]

  URL is redis://[user:password@]host:port[/db] or rediss://… (TLS); --queue env reads it from
  FACEFUSION_QUEUE_URL (keeps a password out of the process list). Paths in a job are opened by
  the worker that takes it: use folders every worker sees at the same path.
  worker: a queued job comes from whoever can write to Redis, so its paths must lie inside an
  --allowed-folder (repeatable; realpath, no links out), its *_model options must be model ids or
  files in the models folder or those folders, and its URLs may not reach loopback, link-local,
  private or multicast addresses unless the host is an --allowed-host (repeatable: a name, an
  address, a CIDR range, optionally :port). Without --allowed-folder the worker refuses to start;
  --allow-any-path turns every check off: any job on the queue may then read and write any file
  this user can, load any model file and reach any host.
  worker: SIGINT/SIGTERM stops taking jobs and lets the running ones finish for --stop-timeout
  seconds (default 30), then hands them back to the queue; a second signal hands back at once.
  run --queue: waits printing progress (Ctrl-C cancels the job); --detach prints the job id and returns.`;

const QUEUE_OPTIONS = { queue: { type: 'string' as const }, 'queue-name': { type: 'string' as const } };

/** `--queue URL` (or `--queue env` → FACEFUSION_QUEUE_URL). */
function queueUrl(value: string | undefined): string {
  if (!value) throw new UsageError('--queue is required: redis://host:port (or --queue env with FACEFUSION_QUEUE_URL set)');
  if (value === 'env') {
    const url = process.env.FACEFUSION_QUEUE_URL;
    if (!url) throw new UsageError('--queue env: FACEFUSION_QUEUE_URL is not set');
    return url;
  }
  if (!/^rediss?:\/\//i.test(value)) throw new UsageError(`--queue must be a redis:// or rediss:// URL (got "${value.replace(/:[^:@/]*@/, ':***@')}")`);
  return value;
}

function whole(name: string, text: string | undefined, min: number, max: number, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got "${text}")`);
  return n;
}

/** Takes the queue options out of `run`'s argv; the rest is parsed by parseRunArgs. Undefined when --queue is absent. */
export function splitQueueRunArgs(argv: string[]): { rest: string[]; url: string; name?: string; detach: boolean; attempts: number } | undefined {
  const rest: string[] = [];
  let url: string | undefined;
  let name: string | undefined;
  let attempts: string | undefined;
  let detach = false;
  let queued = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '--queue') {
      queued = true;
      url = value();
    } else if (flag === '--queue-name') name = value();
    else if (flag === '--attempts') attempts = value();
    else if (flag === '--detach') detach = true;
    else rest.push(a);
  }
  if (!queued) {
    if (detach) throw new UsageError('--detach needs --queue (a job in this process ends with the command)');
    return undefined;
  }
  return { rest, url: queueUrl(url), ...(name ? { name } : {}), detach, attempts: whole('--attempts', attempts, 1, 20, 3) };
}

/** `run … --queue URL`: submit, then wait printing progress (or print the id with --detach). */
export async function runQueued(q: NonNullable<ReturnType<typeof splitQueueRunArgs>>, io: CliIo): Promise<number> {
  const command = parseRunArgs(q.rest);
  const queue = new RedisJobQueue({ url: q.url, ...(q.name ? { name: q.name } : {}), attempts: q.attempts });
  let id: string | undefined;
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    io.stderr.write('\ninterrupted: cancelling the job…\n');
    if (id)
      void queue
        .cancel(id)
        .catch(() => undefined)
        .finally(() => abort.abort());
    else abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    try {
      id = await queue.submit(command.job);
    } catch (error) {
      if (isFaceError(error) && (error.code === 'E_BAD_OUTPUT' || (error.code === 'E_JOB' && !/cannot reach Redis/.test(error.message)))) throw new UsageError(`${error.code}: ${error.message}`);
      throw error;
    }
    if (q.detach) {
      io.stdout.write(`${id}\n`);
      return 0;
    }
    io.stderr.write(`queued: job ${id} on ${queue.where} (${queue.name})\n`);
    const bar = new ProgressLine(io.stderr);
    let info: QueuedJobInfo;
    try {
      info = await queue.wait(id, {
        onProgress: (p) => bar.update(p),
        onState: (s) => {
          if (s.state === 'running' || s.state === 'retrying')
            io.stderr.write(`${s.state}${s.worker ? ` on ${s.worker}` : ''}${s.attemptsMade ? ` (attempt ${s.attemptsMade + 1} of ${s.attempts})` : ''}\n`);
        },
        signal: abort.signal,
      });
    } catch (error) {
      if (interrupted) {
        io.stderr.write('cancelled\n');
        return 130;
      }
      throw error;
    }
    bar.end();
    if (info.state === 'completed' && info.result) {
      io.stdout.write(`${summary(info.result)}\n`);
      return 0;
    }
    if (interrupted || info.state === 'cancelled') {
      io.stderr.write('cancelled\n');
      return 130;
    }
    io.stderr.write(`error: ${info.error?.code ?? 'E_JOB'}: ${info.error?.message ?? 'the job failed'} (after ${info.attemptsMade} attempt${info.attemptsMade === 1 ? '' : 's'})\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await queue.close();
  }
}

/** `worker --queue URL`: takes jobs until SIGINT/SIGTERM. */
export async function worker(argv: string[], io: CliIo): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...QUEUE_OPTIONS,
        concurrency: { type: 'string' },
        threads: { type: 'string' },
        device: { type: 'string' },
        'models-dir': { type: 'string' },
        'stop-timeout': { type: 'string' },
        'lock-duration': { type: 'string' },
        'stalled-interval': { type: 'string' },
        'frames-in-flight': { type: 'string' },
        'pixel-workers': { type: 'string' },
        'allowed-folder': { type: 'string', multiple: true },
        'allowed-host': { type: 'string', multiple: true },
        'allow-any-path': { type: 'boolean' },
        verbose: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const url = queueUrl(v.queue);
  const device = (v.device ?? 'auto') as DeviceRequest;
  if (!['auto', 'cpu', 'cuda'].includes(device)) throw new UsageError(`--device must be auto, cpu or cuda (got "${v.device}")`);
  const threads = whole('--threads', v.threads, 0, 256, 0);
  const concurrency = whole('--concurrency', v.concurrency, 1, 64, 1);
  const stopTimeoutMs = whole('--stop-timeout', v['stop-timeout'], 0, 86400, 30) * 1000;
  const log = (level: string, message: string): void => {
    if (v.verbose || level === 'error') io.stderr.write(`${level}: ${message}\n`);
  };
  const pixelWorkers =
    v['pixel-workers']?.trim() === 'auto' ? 'auto' : v['pixel-workers'] === undefined ? DEFAULT_PIXEL_WORKERS : whole('--pixel-workers', v['pixel-workers'], 0, MAX_PIXEL_WORKERS, 0);
  const lockDurationMs = whole('--lock-duration', v['lock-duration'], 1000, 3_600_000, 30_000);
  const stalledIntervalMs = whole('--stalled-interval', v['stalled-interval'], 500, 3_600_000, 30_000);
  const framesInFlight = whole('--frames-in-flight', v['frames-in-flight'], 1, 64, 2);
  const allowAny = v['allow-any-path'] === true;
  const folders = allowedFolders(v['allowed-folder'] ?? []);
  if (!allowAny && folders.length === 0) {
    throw new UsageError(
      'worker needs --allowed-folder DIR (repeatable): queued jobs may only use paths inside those folders. --allow-any-path trusts every job on the queue with any file, model and host instead',
    );
  }
  if (allowAny && folders.length) throw new UsageError('--allow-any-path and --allowed-folder exclude each other');
  for (const host of v['allowed-host'] ?? []) {
    try {
      new HostPolicy({ allowed: [host] });
    } catch (error) {
      throw new UsageError(`--allowed-host: ${(error as Error).message}`);
    }
  }
  log('info', describeModelsDir(chooseModelsDir({ dir: v['models-dir'] })));
  const runtime = createRuntime({
    device,
    threads,
    ...(v['models-dir'] ? { modelsDir: v['models-dir'] } : {}),
    allowedFolders: folders,
    allowedFoldersSetting: "the worker's --allowed-folder list",
    allowedHosts: v['allowed-host'] ?? [],
    allowedHostsSetting: "the worker's --allowed-host list",
    confineModels: !allowAny,
    logger: log,
  });
  io.stderr.write(
    allowAny
      ? 'warning: --allow-any-path: every job on this queue may read and write any file this user can, load any model file and reach any host (only for a queue nobody else can write to)\n'
      : `allowed folders: ${folders.join(', ')}\n`,
  );
  const w = new QueueWorker(runtime, {
    url,
    allowAnyPath: allowAny,
    ...(v['queue-name'] ? { name: v['queue-name'] } : {}),
    concurrency,
    lockDurationMs,
    stalledIntervalMs,
    jobs: { locator: new FfmpegLocator({ logger: log }), framesInFlight, pixelWorkers, progressIntervalMs: 500 },
  });
  w.on('job', (e) => io.stderr.write(`job ${e.id} ${e.state}${e.result ? ` → ${e.result.output} (${e.result.frames} frames)` : ''}${e.error ? `: ${e.error.code}: ${e.error.message}` : ''}\n`));
  w.on('error', (e) => log('error', e.message));
  let signals = 0;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const onSignal = (signal: string): void => {
    signals++;
    io.stderr.write(signals === 1 ? `${signal}: finishing running jobs (up to ${stopTimeoutMs / 1000} s), then handing them back…\n` : `${signal}: handing running jobs back now…\n`);
    void w.stop({ graceMs: signals === 1 ? stopTimeoutMs : 0 }).finally(stopped);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await w.ready();
    io.stderr.write(`worker ${w.name} taking jobs from ${w.where} (concurrency ${concurrency})\n`);
    await done;
    io.stderr.write('worker stopped\n');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await w.stop({ graceMs: 0 });
    await runtime.close();
  }
}

/** `--allowed-folder` values: absolute, `~` expanded; each must be an existing folder. */
function allowedFolders(values: readonly string[]): string[] {
  return values.map((value) => {
    const folder = resolve(value.trim().replace(/^~(?=$|\/)/, homedir()));
    let isDir = false;
    try {
      isDir = statSync(folder).isDirectory();
    } catch {
      // reported below
    }
    if (!value.trim() || !isDir) throw new UsageError(`--allowed-folder ${value}: no such folder`);
    return folder;
  });
}

/** `jobs --queue URL [--cancel ID] [--json]`. */
export async function jobs(argv: string[], io: CliIo): Promise<number> {
  let v;
  try {
    v = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { ...QUEUE_OPTIONS, cancel: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' } } }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const queue = new RedisJobQueue({ url: queueUrl(v.queue), ...(v['queue-name'] ? { name: v['queue-name'] } : {}) });
  try {
    if (v.cancel) {
      const info = await queue.cancel(v.cancel);
      if (!info) {
        io.stderr.write(`error: no job with id "${v.cancel}" in the queue\n`);
        return 1;
      }
      io.stdout.write(v.json ? `${JSON.stringify(info)}\n` : `${line(info)}\n`);
      return 0;
    }
    const list = await queue.list(whole('--limit', v.limit, 1, 10000, 100));
    if (v.json) io.stdout.write(`${JSON.stringify(list)}\n`);
    else if (list.length === 0) io.stdout.write('no jobs\n');
    else io.stdout.write(`${['ID                                    STATE      PROGRESS  ATTEMPTS  WORKER / OUTPUT / ERROR', ...list.map(line)].join('\n')}\n`);
    return 0;
  } finally {
    await queue.close();
  }
}

function line(j: QueuedJobInfo): string {
  const progress = j.state === 'completed' ? '100%' : j.progress?.percent !== undefined ? `${j.progress.percent.toFixed(0)}%` : j.progress ? `${j.progress.framesDone} fr` : '-';
  const detail = j.result ? `${j.result.output} (${j.result.frames} frames)` : j.error ? `${j.error.code}: ${j.error.message}` : (j.worker ?? j.args.output_path ?? '');
  return `${j.id.padEnd(38)}${j.state.padEnd(11)}${progress.padEnd(10)}${`${j.attemptsMade}/${j.attempts}`.padEnd(10)}${detail}`;
}
