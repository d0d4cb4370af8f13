'use strict';
// Concurrency: 1, 2 and 4 blur jobs started together on one runtime, through a
// JobManager whose concurrency limit equals the job count. Reports total frames/s of the batch
// and per-job latency (start → completed), min/median/max over rounds (latency: over all jobs).
// Usage: node bench/concurrency.js [rounds] [--full]
//   quick: 640x360 × 300-frame clip, 2 rounds; full: 1280x720 × 600 frames, 3 rounds.
const path = require('path');
const fs = require('fs');
const { createRuntime, JobManager } = require('../dist/runtime');
const { summary, machine, saveResults } = require('./lib');
const { CACHE, FULL, argNumber, makeClip, timedJob, loadLine } = require('./video-lib');

const ROUNDS = argNumber(FULL ? 3 : 2);
const CLIP = FULL ? { width: 1280, height: 720, frames: 600 } : { width: 640, height: 360, frames: 300 };
const LEVELS = [1, 2, 4];

(async () => {
  console.log(`machine: ${machine()} · load ${loadLine()}`);
  const clip = await makeClip(CLIP);
  const runtime = createRuntime({ sweepIntervalMs: 0 });
  const out = (n, i) => path.join(CACHE, `out-${process.pid}-c${n}-${i}.mp4`);
  const totals = Object.fromEntries(LEVELS.map((n) => [n, []]));
  const latencies = Object.fromEntries(LEVELS.map((n) => [n, []]));
  try {
    await runtime.warmup();
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of LEVELS) {
        const manager = new JobManager(runtime, { maxConcurrent: n });
        try {
          const t0 = performance.now();
          const jobs = await Promise.all(Array.from({ length: n }, (_, i) => timedJob(manager, { target_path: clip, output_path: out(n, i), processors: ['face_blur'] })));
          const wall = (performance.now() - t0) / 1000;
          const frames = jobs.reduce((a, j) => a + j.info.result.frames, 0);
          if (frames !== n * CLIP.frames) throw new Error(`${n} jobs wrote ${frames} frames, expected ${n * CLIP.frames}`);
          totals[n].push(frames / wall);
          latencies[n].push(...jobs.map((j) => j.wallSec * 1000));
          console.log(`round ${r + 1}/${ROUNDS}, ${n} job(s): ${(frames / wall).toFixed(1)} frames/s total, latency ${jobs.map((j) => j.wallSec.toFixed(1)).join(' / ')} s · load ${loadLine()}`);
        } finally {
          await manager.close();
        }
      }
    }
  } finally {
    await runtime.close();
    for (const f of fs.readdirSync(CACHE)) if (f.startsWith(`out-${process.pid}-`)) fs.rmSync(path.join(CACHE, f), { force: true });
  }
  const result = Object.fromEntries(LEVELS.map((n) => [`jobs${n}`, { totalFramesPerSecond: summary(totals[n]), perJobLatencyMs: summary(latencies[n]) }]));
  console.log(`\nconcurrency: blur jobs on ${CLIP.width}x${CLIP.height} × ${CLIP.frames} frames, ${ROUNDS} rounds`);
  console.log('  jobs | total frames/s min / median / max | per-job latency s min / median / max');
  for (const n of LEVELS) {
    const t = result[`jobs${n}`].totalFramesPerSecond,
      l = result[`jobs${n}`].perJobLatencyMs;
    console.log(
      `  ${String(n).padStart(4)} | ${[t.min, t.median, t.max].map((v) => String(v).padStart(7)).join(' ')}        | ${[l.min, l.median, l.max].map((v) => (v / 1000).toFixed(1).padStart(6)).join(' ')}`,
    );
  }
  saveResults('concurrency', { clip: CLIP, rounds: ROUNDS, ...result, load: loadLine() });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
