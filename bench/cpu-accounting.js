'use strict';
// Where the CPU of a video job goes (the accounting behind "b/a ≥ 0.8 is out of
// reach"): CPU ms per frame of bare ffmpeg, of our blur job split into node / decoder / encoder,
// and of the encoder alone fed rgb24 (as our jobs feed it) or yuv420p through a pipe.
// Node's CPU from process.cpuUsage(); ffmpeg's from /proc/<pid>/stat (utime + stime), sampled
// every 20 ms until it exits, so the last ≤ 20 ms of a process may be missed. Linux only.
// Usage: node bench/cpu-accounting.js
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { createRuntime, JobManager } = require('../dist/runtime');
const { qualityToCrf } = require('../dist/runtime/internal');
const { machine, saveResults } = require('./lib');
const { CACHE, makeClip, ffmpegPath, timedJob, loadLine, sampler, encodeArgs } = require('./video-lib');

const CLIP = { width: 1280, height: 720, frames: 600 };
const ENCODE = [...encodeArgs(qualityToCrf(80)), '-y'];

function exited(child) {
  return new Promise((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}`)))));
}

/** decode → raw `pixFmt` pipe → encode; returns the encoder's CPU ms. */
async function pipedEncoderCpu(ff, clip, pixFmt) {
  const dec = spawn(ff, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', clip, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', pixFmt, 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
      pixFmt,
      '-video_size',
      `${CLIP.width}x${CLIP.height}`,
      '-framerate',
      '30',
      '-i',
      'pipe:0',
      ...ENCODE,
      path.join(CACHE, `cpu-${process.pid}-${pixFmt}.mp4`),
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  dec.stdout.pipe(enc.stdin);
  const s = sampler(() => ({ encoder: enc.pid }));
  await Promise.all([exited(dec), exited(enc)]);
  return s.stop().encoder;
}

(async () => {
  console.log(`machine: ${machine()} · load ${loadLine()}`);
  const ff = await ffmpegPath();
  const clip = await makeClip(CLIP);
  const perFrame = (ms) => Math.round((ms / CLIP.frames) * 10) / 10;

  const bare = spawn(ff, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', clip, '-map', '0:v:0', ...ENCODE, path.join(CACHE, `cpu-${process.pid}-bare.mp4`)], { stdio: 'ignore' });
  const bareSampler = sampler(() => ({ bare: bare.pid }));
  await exited(bare);
  const bareMs = bareSampler.stop().bare;

  const runtime = createRuntime({ sweepIntervalMs: 0 });
  const manager = new JobManager(runtime, { maxConcurrent: 1 });
  const args = (input, name) => ({ target_path: input, output_path: path.join(CACHE, `cpu-${process.pid}-${name}.mp4`), processors: ['face_blur'] });
  let job;
  try {
    await timedJob(manager, args(await makeClip({ ...CLIP, frames: 30 }), 'warm'));
    const { info, cpuMs } = await timedJob(manager, args(clip, 'blur'));
    job = { ...cpuMs, fps: info.result.processingFps };
  } finally {
    await manager.close();
    await runtime.close();
  }
  const rgbEncoder = await pipedEncoderCpu(ff, clip, 'rgb24');
  const yuvEncoder = await pipedEncoderCpu(ff, clip, 'yuv420p');
  for (const f of fs.readdirSync(CACHE)) if (f.startsWith(`cpu-${process.pid}-`)) fs.rmSync(path.join(CACHE, f), { force: true });

  const result = {
    bareFfmpeg: perFrame(bareMs),
    blurJob: { node: perFrame(job.node), decoder: perFrame(job.decoder), encoder: perFrame(job.encoder), total: perFrame(job.node + job.decoder + job.encoder) },
    encoderFedRgb24: perFrame(rgbEncoder),
    encoderFedYuv420p: perFrame(yuvEncoder),
  };
  console.log(`\nCPU ms per frame, ${CLIP.width}x${CLIP.height} × ${CLIP.frames} frames`);
  console.log(`  bare ffmpeg (decode + encode, one process)   ${result.bareFfmpeg}`);
  console.log(`  blur job: node ${result.blurJob.node} · decoder ${result.blurJob.decoder} · encoder ${result.blurJob.encoder} · total ${result.blurJob.total}`);
  console.log(`  encoder alone, fed rgb24 ${result.encoderFedRgb24} · fed yuv420p ${result.encoderFedYuv420p}`);
  saveResults('cpuAccounting', { clip: CLIP, cpuMsPerFrame: result, load: loadLine() });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
