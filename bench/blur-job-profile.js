'use strict';
// Where a video blur job's main thread spends its CPU (the blur kernels' share): one
// blur job on the 720p bench clip (detect_tiling off, as side (b) of bench/video-throughput.js),
// or with --crowd N on a crowd clip (N faces of ≈ 50 px tiled from fr_two_people.jpg; default
// tiling, so the detector finds them), under V8's sampling profiler (node:inspector, in process).
// Prints CPU ms per frame of the mask kernels (src/runtime/vision/blur, yuv-masks, convolve),
// of the whole blur stage's synchronous work, and of the main thread in all. Wall time on a
// shared machine says little; profile samples are CPU time of this thread only.
// Usage: node bench/blur-job-profile.js [--frames N] [--crowd N]   (default 300 frames, the two-face clip)
const fs = require('fs');
const path = require('path');
const inspector = require('node:inspector');
const { createRuntime, JobManager } = require('../dist/runtime');
const { machine } = require('./lib');
const { CACHE, makeClip, loadLine, ffmpegPath } = require('./video-lib');
const { spawnSync } = require('child_process');
const { MEDIA } = require('./lib');

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const FRAMES = flag('--frames', 300);
const CROWD = flag('--crowd', 0);

const KERNELS = /vision[/\\](blur|yuv-masks|convolve|box-filter)\.js$/;

/**
 * A 720p clip of a crowd: fr_two_people.jpg (two faces ≈ 250 px wide) scaled to a tile whose
 * faces are ≈ 50 px wide and tiled over a grey 1400×800 canvas (n/2 tiles), panned slowly.
 */
async function crowdClip(n, frames) {
  const file = path.join(CACHE, `crowd-${n}-${frames}.mp4`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(CACHE, { recursive: true });
  const sharp = require('sharp');
  const tiles = Math.ceil(n / 2),
    cols = Math.ceil(Math.sqrt(tiles * 1.8)),
    rows = Math.ceil(tiles / cols);
  const width = Math.min(225, Math.floor(1280 / cols)),
    height = Math.round((width * 661) / 1126);
  const tile = await sharp(path.join(MEDIA, 'fr_two_people.jpg')).resize(width, height).toBuffer();
  const still = path.join(CACHE, `crowd-${n}.png`);
  await sharp({ create: { width: 1400, height: 800, channels: 3, background: '#808080' } })
    .composite(Array.from({ length: tiles }, (_, i) => ({ input: tile, left: 60 + (i % cols) * Math.floor(1280 / cols), top: 40 + Math.floor(i / cols) * Math.floor(720 / rows) })))
    .png()
    .toFile(still);
  const r = spawnSync(await ffmpegPath(), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-framerate',
    '25',
    '-i',
    still,
    '-vf',
    "crop=1280:720:'60+60*sin(t/3)':'40+40*cos(t/4)',format=yuv420p",
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '20',
    file,
  ]);
  if (r.status !== 0) throw new Error(String(r.stderr));
  return file;
}

(async () => {
  console.log(`machine: ${machine()} · load ${loadLine()}`);
  const clip = CROWD ? await crowdClip(CROWD, FRAMES) : await makeClip({ width: 1280, height: 720, frames: FRAMES });
  const runtime = createRuntime({ sweepIntervalMs: 0 });
  const manager = new JobManager(runtime, { maxConcurrent: 1, pixelWorkers: 0 });
  const out = path.join(CACHE, `out-${process.pid}-profile.mp4`);
  let faces = 0,
    frames = 0;
  manager.on('frame', (f) => {
    frames++;
    for (const entry of f.journal) {
      const m = entry.stage === 'blur' && /^(\d+) face/.exec(entry.note ?? '');
      if (m) faces += Number(m[1]);
    }
  });
  const args = { target_path: clip, output_path: out, processors: ['face_blur'], keep_audio: false, ...(CROWD ? {} : { parameters: { detect_tiling: 'off' } }) };
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  try {
    await manager.waitForJob(manager.runJob({ ...args, target_path: await makeClip({ width: 1280, height: 720, frames: 30 }) })); // sessions warm
    frames = 0;
    faces = 0;
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 200 });
    await post('Profiler.start');
    const info = await manager.waitForJob(manager.runJob(args));
    const { profile } = await post('Profiler.stop');
    if (info.state !== 'completed') throw new Error(`job ${info.state}: ${info.error?.message}`);
    // Self time per node, then: kernels (self), the blur stage's synchronous subtree, everything but idle.
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
    const total = (node) => (self.get(node.id) ?? 0) + (node.children ?? []).reduce((s, c) => s + total(byId.get(c)), 0);
    let kernels = 0,
      busy = 0;
    for (const node of profile.nodes) {
      const ms = self.get(node.id) ?? 0;
      if (!['(idle)', '(program)'].includes(node.callFrame.functionName)) busy += ms;
      if (KERNELS.test(node.callFrame.url)) kernels += ms;
    }
    let stage = 0;
    const seen = new Set();
    for (const node of profile.nodes) {
      if (/processors[/\\]blur\.js$/.test(node.callFrame.url) && !seen.has(node.id)) {
        // Count each subtree once: skip nodes under another blur.js node already counted.
        const stack = [...(node.children ?? [])];
        while (stack.length) {
          const c = stack.pop();
          seen.add(c);
          stack.push(...(byId.get(c).children ?? []));
        }
        stage += self.get(node.id) ?? 0;
        for (const c of node.children ?? []) stage += total(byId.get(c));
      }
    }
    const per = (ms) => (ms / frames).toFixed(2);
    console.log(
      `${CROWD ? `crowd clip (${CROWD} faces tiled), blur job, default tiling` : 'bench clip (two faces, zoom/pan), blur job, tiling off'} · 1280×720 × ${frames} frames · ${(faces / frames).toFixed(1)} faces blurred per frame`,
    );
    console.log(`  main-thread CPU ms per frame: mask kernels ${per(kernels)} · blur stage (sync, kernels included) ${per(stage)} · all JS + GC + native ${per(busy)}`);
  } finally {
    session.disconnect();
    await manager.close();
    await runtime.close();
    fs.rmSync(out, { force: true });
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
