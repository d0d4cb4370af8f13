'use strict';
// Session reuse: per-frame latency (detect → landmark → embed on astronaut.png) with the shared,
// warmed sessions vs loading the models for every frame (what a node without a shared pool does).
// Usage: node bench/session-reuse.js [frames]
const path = require('path');
const { createRuntime, decodeImage } = require('../dist/runtime/internal');
const { summary, machine, saveResults, MEDIA } = require('./lib');

const FRAMES = Number(process.argv[2] || 15);
const STAGES = ['detect', 'landmark', 'embed'];

async function frameOn(rt, frame) {
  const t0 = performance.now();
  const token = await rt.run(await rt.createToken({ target: frame, operations: STAGES }));
  if (token.state === 'failed') throw new Error(token.error.message);
  rt.release(token);
  return performance.now() - t0;
}

(async () => {
  console.log(`machine: ${machine()}`);
  const frame = await decodeImage(require('fs').readFileSync(path.join(MEDIA, 'astronaut.png')));
  const shared = createRuntime({ sweepIntervalMs: 0 });
  await shared.warmup();
  const sharedTimes = [];
  for (let i = 0; i < FRAMES; i++) sharedTimes.push(await frameOn(shared, frame));
  await shared.close();

  const perFrame = [];
  for (let i = 0; i < FRAMES; i++) {
    const t0 = performance.now();
    const rt = createRuntime({ sweepIntervalMs: 0 });
    await frameOn(rt, frame);
    await rt.close();
    perFrame.push(performance.now() - t0);
  }
  const a = summary(sharedTimes),
    b = summary(perFrame);
  console.log(`\nper-frame ms over ${FRAMES} frames (min / median / max):`);
  console.log(`  shared sessions      ${a.min} / ${a.median} / ${a.max}`);
  console.log(`  session per frame    ${b.min} / ${b.median} / ${b.max}`);
  console.log(`  ratio (median)       ${(b.median / a.median).toFixed(1)}× slower without reuse`);
  saveResults('session_reuse', { shared: a, perFrame: b, ratio: round2(b.median / a.median) });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

function round2(v) {
  return Math.round(v * 100) / 100;
}
