'use strict';
// Helpers for the video benches: a test clip made from the shared media (cached), bare ffmpeg
// transcodes with the job encoder's settings, timed jobs through the JobManager, and the CPU of
// child processes read from /proc/<pid>/stat (Linux only).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const { FfmpegLocator, qualityToCrf } = require('../dist/runtime/internal');
const { MEDIA } = require('./lib');

/** Clips and outputs live here, outside the repository. */
const CACHE = path.join(os.tmpdir(), 'facefusion-bench-cache');

/** True when the bench runs in full mode (`npm run bench -- --full` or BENCH_FULL=1). */
const FULL = process.argv.includes('--full') || process.env.BENCH_FULL === '1';

/** First non-flag CLI argument as a number, else `fallback`. */
function argNumber(fallback) {
  const v = process.argv.slice(2).find((a) => !a.startsWith('--'));
  return v === undefined ? fallback : Number(v);
}

function run(file, args) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 16 << 20 }, (error, stdout, stderr) => (error ? reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout)));
  });
}

/** The ffmpeg the jobs use (same resolution order), so the baseline runs the same binary. */
async function ffmpegPath() {
  return (await new FfmpegLocator().resolve()).path;
}

/**
 * A W×H clip of `frames` frames at 30 fps: a slow zoom and pan over fr_two_people.jpg, so both
 * faces are in every frame and every frame differs (the encoder cannot cheat on static input).
 * No audio. Cached by size and length.
 */
async function makeClip({ width, height, frames, noise = 0 }) {
  fs.mkdirSync(CACHE, { recursive: true });
  const file = path.join(CACHE, `clip-${width}x${height}-${frames}${noise ? `-noise${noise}` : ''}.mp4`);
  if (fs.existsSync(file)) return file;
  const tmp = `${file}.part.mp4`;
  const zoom = `zoompan=z='1+0.15*on/${frames}':x='(iw-iw/zoom)*on/${frames}':y='(ih-ih/zoom)/2':d=1:s=${width}x${height}:fps=30`;
  await run(await ffmpegPath(), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-framerate',
    '30',
    '-i',
    path.join(MEDIA, 'fr_two_people.jpg'),
    // noise: temporal grain of that strength (like a camera sensor's), so the encoder has real
    // detail to code in every frame instead of a smooth still picture.
    '-vf',
    `scale=${Math.round(width * 1.25)}:-2,${zoom}${noise ? `,noise=alls=${noise}:allf=t` : ''},format=yuv420p`,
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '20',
    tmp,
  ]);
  fs.renameSync(tmp, file);
  return file;
}

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

/** utime + stime of a live process in ms, or undefined once it is gone. */
function cpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * Samples the CPU of the processes `pids()` returns (name → pid) every 20 ms until stop(), which
 * returns the last reading of each in ms. The last ≤ 20 ms of a process may be missed.
 */
function sampler(pids) {
  const last = {};
  const read = () => {
    for (const [name, pid] of Object.entries(pids())) {
      const ms = pid === undefined ? undefined : cpuMs(pid);
      if (ms !== undefined) last[name] = ms;
    }
  };
  const timer = setInterval(read, 20);
  return { stop: () => (read(), clearInterval(timer), last) };
}

/** x264 output options every side of a comparison shares: the same CRF, preset and pixel format. */
function encodeArgs(crf = qualityToCrf(80)) {
  return ['-c:v', 'libx264', '-crf', String(crf), '-preset', 'veryfast', '-pix_fmt', 'yuv420p'];
}

/**
 * (a) bare ffmpeg: decode → encode in one process, no processing: libx264 veryfast yuv420p at
 * `crf` (default: the jobs' default quality 80 → CRF 10). Returns wall seconds and, with
 * `withCpu`, the process's CPU ms.
 */
async function bareTranscode(input, output, crf, withCpu = false) {
  const { spawn } = require('child_process');
  const t0 = performance.now();
  const child = spawn(await ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-map', '0:v:0', ...encodeArgs(crf), '-y', output], { stdio: ['ignore', 'ignore', 'pipe'] });
  const s = sampler(() => ({ ffmpeg: child.pid }));
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  await new Promise((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`bare ffmpeg exited ${code}: ${stderr}`)))));
  const wallSec = (performance.now() - t0) / 1000;
  const cpu = s.stop().ffmpeg;
  return withCpu ? { wallSec, cpuMs: cpu } : wallSec;
}

/**
 * (a') the same through two ffmpeg processes and a raw RGB pipe, as our jobs move frames
 * (decode → rgb24 → pipe → encode), still without processing. Shows what the pipe costs.
 */
async function pipedTranscode(input, output, width, height, crf) {
  const ff = await ffmpegPath();
  const { spawn } = require('child_process');
  const t0 = performance.now();
  const dec = spawn(ff, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const enc = spawn(
    ff,
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-f',
      'rawvideo',
      '-pixel_format',
      'rgb24',
      '-video_size',
      `${width}x${height}`,
      '-framerate',
      '30',
      '-i',
      'pipe:0',
      ...encodeArgs(crf),
      '-y',
      output,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  dec.stdout.pipe(enc.stdin);
  const exit = (p) => new Promise((resolve, reject) => p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}`)))));
  await Promise.all([exit(dec), exit(enc)]);
  return (performance.now() - t0) / 1000;
}

/**
 * Runs one job through `manager` and resolves with its JobInfo, wall seconds (start → end) and
 * CPU ms per process: node (process.cpuUsage, all its threads, workers included) and the job's
 * decoder and encoder ffmpeg (from /proc, pids from the job's info while it runs).
 */
async function timedJob(manager, args) {
  const t0 = performance.now();
  const before = process.cpuUsage();
  const id = manager.runJob(args);
  const s = sampler(() => manager.getJob(id)?.processes ?? {});
  const info = await manager.waitForJob(id);
  const used = process.cpuUsage(before);
  const wallSec = (performance.now() - t0) / 1000;
  const ff = s.stop();
  if (info.state !== 'completed') throw new Error(`job ${info.state}: ${info.error ? `${info.error.code} ${info.error.message}` : ''}`);
  return { info, wallSec, cpuMs: { node: (used.user + used.system) / 1000, decoder: ff.decoder, encoder: ff.encoder } };
}

function loadLine() {
  return os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
}

module.exports = { CACHE, FULL, argNumber, makeClip, bareTranscode, pipedTranscode, timedJob, ffmpegPath, loadLine, cpuMs, sampler, encodeArgs };
