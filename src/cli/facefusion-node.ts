#!/usr/bin/env node
/**
 * facefusion-node: FaceFusion-style face jobs from a shell, on the same JobManager the
 * Node-RED nodes use.
 *
 *   facefusion-node run --source me.jpg --target in.mp4 --output out.mp4 --processors face_swapper
 *   facefusion-node models list|fetch|verify
 */
import { createRuntime, isFaceError } from '../runtime';
import { chooseModelsDir, describeModelsDir } from '../runtime/models/models-dir';
import { DEFAULT_PIXEL_WORKERS, JobManager, jobSummary, knownProcessors } from '../runtime/jobs';
import { classifySource, FfmpegLocator } from '../runtime/video';
import { MODELS_USAGE, runModelsCli } from './models';
import { LIBRARY_USAGE, runLibraryCli } from './library-commands';
import { ProgressLine, summary } from './progress-line';
import { parseRunArgs, RUN_USAGE, UsageError } from './run-options';
import { jobs as queueJobs, QUEUE_USAGE, runQueued, splitQueueRunArgs, worker as queueWorker } from './queue-commands';

const USAGE = `facefusion-node — face swap, enhance and blur for pictures, videos and streams

usage:
  facefusion-node run --target FILE --output FILE --processors LIST [--source FILE] [options]
  facefusion-node models list|fetch|verify [ids…] [--dir DIR] [--mirror DIR] [--timeout SECONDS]
  facefusion-node worker|jobs --queue URL …   (see below)
  facefusion-node library enrol|who|list|forget|export|import --db FILE …   (see below)
  facefusion-node --help | run --help | models --help | worker --help | library --help

${RUN_USAGE}

${QUEUE_USAGE}

${LIBRARY_USAGE}

processors: ${knownProcessors().join(', ')}

stopping: Ctrl-C (SIGINT) or SIGTERM on a live source (rtsp, rtmp, http, udp, tcp, srt, /dev/video*)
  stops reading, finishes the frames in flight and closes the output properly: the file holds every
  processed frame (exit code 0). On a file source it cancels: the partial output is deleted
  (exit code 130). A second Ctrl-C aborts at once (partial output deleted, exit code 130).

exit codes: 0 done (also: a live run stopped with Ctrl-C/SIGTERM whose output was closed properly),
  1 the job failed, 2 bad arguments, 3 done but --alert-after-failures was reached, 130 cancelled or aborted

--json prints one object: { id, state, kind, read, written, failed, dropped, noFace, facesSkipped, downgraded,
late, held, timeSec, fps, provider, models, output, width, height, stages, alerts, downgrades, privacy?, error? }
  privacy (jobs that blur): { frames, framesFullScan, framesRollingScan, framesTrackedOnly,
  framesNotCovered, notCoveredFrames, facesBlurred, facesHeld, tracks, minFaceCovered,
  scanIntervalSec, scanIntervalMaxSec, framesStretchedScan, lookaheadFrames, tilesPerFrame, planTiles }`;

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Runs the command line; resolves with the exit code. */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === 'run') {
      if (rest.includes('--help') || rest.includes('-h')) {
        io.stdout.write(`${RUN_USAGE}\n`);
        return 0;
      }
      const queued = splitQueueRunArgs(rest);
      return queued ? await runQueued(queued, io) : await run(rest, io);
    }
    if ((command === 'models' || command === 'worker' || command === 'jobs') && (rest.includes('--help') || rest.includes('-h'))) {
      io.stdout.write(`${command === 'models' ? MODELS_USAGE : QUEUE_USAGE}\n`);
      return 0;
    }
    if (command === 'models') return await models(rest, io);
    if (command === 'worker') return await queueWorker(rest, io);
    if (command === 'jobs') return await queueJobs(rest, io);
    if (command === 'library') {
      if (rest.includes('--help') || rest.includes('-h')) {
        io.stdout.write(`${LIBRARY_USAGE}\n`);
        return 0;
      }
      return await runLibraryCli(rest, io);
    }
    throw new UsageError(`unknown command "${command}" (use run, worker, jobs, models or library)`);
  } catch (error) {
    if (error instanceof UsageError) {
      // The error first, on one line, and where the usage is: never the whole usage (it buried the error).
      io.stderr.write(`error: ${oneLine(error.message)}\n${usageHint(command)}\n`);
      return 2;
    }
    io.stderr.write(`error: ${describe(error)}\n`);
    return 1;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const command = parseRunArgs(argv);
  const log = (level: string, message: string): void => {
    if (command.verbose || level === 'error') io.stderr.write(`${level}: ${message}\n`);
  };
  log('info', describeModelsDir(chooseModelsDir({ dir: command.runtime.modelsDir })));
  const runtime = createRuntime({ ...command.runtime, logger: log });
  const jobs = new JobManager(runtime, { locator: new FfmpegLocator({ logger: log }), progressIntervalMs: 200, pixelWorkers: DEFAULT_PIXEL_WORKERS });
  let id: string | undefined;
  let signals = 0;
  const live = isLive(command.job.target_path);
  const onSignal = (): void => {
    signals++;
    if (signals === 1 && live) {
      io.stderr.write('\nstopping: finishing the frames in flight and closing the output (Ctrl-C again to abort)…\n');
      if (id) void jobs.cancelJob(id);
      return;
    }
    io.stderr.write(signals === 1 ? '\ninterrupted: cancelling the job…\n' : '\naborting…\n');
    if (id) void jobs.cancelJob(id, { abort: true });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      id = jobs.createJob(command.job);
    } catch (error) {
      // Argument problems found by the job schema are usage errors too.
      if (isFaceError(error) && (error.code === 'E_JOB' || error.code === 'E_BAD_OUTPUT')) throw new UsageError(`${error.code}: ${error.message}`);
      throw error;
    }
    const bar = new ProgressLine(io.stderr);
    // --json: one JSON line per progress tick on stderr (no bar); the summary as one object on stdout.
    jobs.on('progress', (p) => (command.json ? io.stderr.write(`${JSON.stringify({ progress: p })}\n`) : bar.update(p)));
    jobs.on('alert', (alert) => io.stderr.write(command.json ? `${JSON.stringify({ alert })}\n` : `alert: ${alert.message}\n`));
    jobs.on('notice', (n) => {
      bar.end();
      io.stderr.write(command.json ? `${JSON.stringify({ notice: n })}\n` : `${n.level === 'warn' ? 'warning' : 'info'}: ${n.message}\n`);
    });
    jobs.startJob(id);
    const info = await jobs.waitForJob(id);
    bar.end();
    if (command.json) io.stdout.write(`${JSON.stringify(jobSummary(info, runtime.provider()))}\n`);
    if (info.state === 'completed' && info.result) {
      if (!command.json) io.stdout.write(`${summary(info.result)}\n`);
      return info.alerts.length > 0 ? 3 : 0;
    }
    if (signals > 0 || info.state === 'cancelled') {
      io.stderr.write(`cancelled${info.error?.message ? `: ${info.error.message}` : ''}\n`);
      return 130;
    }
    io.stderr.write(`error: ${info.error?.code ?? 'E_JOB'}: ${info.error?.message ?? 'the job failed'}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await jobs.close();
    await runtime.close();
  }
}

/** `models …` runs the model-cache CLI (src/cli/models.ts) in this process, so progress streams as it comes. */
async function models(argv: string[], io: CliIo): Promise<number> {
  const [sub] = argv;
  if (!sub || !['list', 'fetch', 'verify'].includes(sub)) throw new UsageError(`models needs list, fetch or verify (got "${sub ?? ''}")`);
  return runModelsCli(argv, io);
}

/** Where the usage of `command` is printed. */
export function usageHint(command: string | undefined): string {
  const known = command === 'run' || command === 'worker' || command === 'jobs' || command === 'models' || command === 'library';
  return `see facefusion-node ${known ? `${command} ` : ''}--help`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function isLive(target: string | undefined): boolean {
  try {
    return typeof target === 'string' && classifySource(target).live;
  } catch {
    return false;
  }
}

function describe(error: unknown): string {
  if (isFaceError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${describe(error)}\n`);
      process.exitCode = 1;
    },
  );
}
