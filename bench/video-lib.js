'use strict';
// Helpers for the video benches: a test clip made from the shared media (cached), bare ffmpeg
// transcodes with the job encoder's settings, and timed jobs through the JobManager.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const { FfmpegLocator, qualityToCrf } = require('../dist/runtime/video');
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
async function makeClip({ width, height, frames }) {
  fs.mkdirSync(CACHE, { recursive: true });
  const file = path.join(CACHE, `clip-${width}x${height}-${frames}.mp4`);
  if (fs.existsSync(file)) return file;
  const tmp = `${file}.part.mp4`;
  const zoom = `zoompan=z='1+0.15*on/${frames}':x='(iw-iw/zoom)*on/${frames}':y='(ih-ih/zoom)/2':d=1:s=${width}x${height}:fps=30`;
  await run(await ffmpegPath(), [
    '-hide_banner', '-loglevel', 'error', '-y', '-loop', '1', '-framerate', '30', '-i', path.join(MEDIA, 'fr_two_people.jpg'),
    '-vf', `scale=${Math.round(width * 1.25)}:-2,${zoom},format=yuv420p`, '-frames:v', String(frames),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', tmp,
  ]);
  fs.renameSync(tmp, file);
  return file;
}

/**
 * (a) bare ffmpeg: decode → encode in one process, no processing, with the job encoder's
 * defaults (libx264, quality 80 → CRF, preset veryfast, yuv420p). Returns wall seconds.
 */
async function bareTranscode(input, output) {
  const t0 = performance.now();
  await run(await ffmpegPath(), [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-map', '0:v:0',
    '-c:v', 'libx264', '-crf', String(qualityToCrf(80)), '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-y', output,
  ]);
  return (performance.now() - t0) / 1000;
}

/**
 * (a') the same through two ffmpeg processes and a raw RGB pipe, as our jobs move frames
 * (decode → rgb24 → pipe → encode), still without processing. Shows what the pipe costs.
 */
async function pipedTranscode(input, output, width, height) {
  const ff = await ffmpegPath();
  const { spawn } = require('child_process');
  const t0 = performance.now();
  const dec = spawn(ff, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const enc = spawn(ff, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', `${width}x${height}`, '-framerate', '30', '-i', 'pipe:0',
    '-c:v', 'libx264', '-crf', String(qualityToCrf(80)), '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-y', output], { stdio: ['pipe', 'ignore', 'inherit'] });
  dec.stdout.pipe(enc.stdin);
  const exit = (p) => new Promise((resolve, reject) => p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}`)))));
  await Promise.all([exit(dec), exit(enc)]);
  return (performance.now() - t0) / 1000;
}

/** Runs one job through `manager` and resolves with its JobInfo and wall seconds (start → end). */
async function timedJob(manager, args) {
  const t0 = performance.now();
  const id = manager.runJob(args);
  const info = await manager.waitForJob(id);
  const wallSec = (performance.now() - t0) / 1000;
  if (info.state !== 'completed') throw new Error(`job ${info.state}: ${info.error ? `${info.error.code} ${info.error.message}` : ''}`);
  return { info, wallSec };
}

function loadLine() {
  return os.loadavg().map((v) => v.toFixed(2)).join(' ');
}

module.exports = { CACHE, FULL, argNumber, makeClip, bareTranscode, pipedTranscode, timedJob, ffmpegPath, loadLine };
