'use strict';
// Hostile messages (issue 18): how long the event loop is blocked, how high the frame store
// goes and how fast a hostile message is refused. Usage: node bench/hostile.js [rounds]
// (default 3). Figures in BENCHMARKS.md § 8; the same cases as test/hostile.test.js, measured.
//  - 256 face boxes on a 2000² frame (case 1): frame-sized boxes (refused before any work) and
//    the most face area the bound allows (100 px boxes), per stage, on the runtime's pixel worker
//    (as the nodes run them) and on the main thread;
//  - eight 8000² WebP decoded at once under the default 512 MiB budget (case 2), in a child
//    process (its own RSS);
//  - a token naming another request's frame (case 3), a far video index (case 5), an SVG (case 6).
const path = require('path');
const { execFileSync } = require('child_process');
const sharp = require('sharp');
const { createRuntime } = require('../dist/runtime');
const { FrameStore } = require('../dist/runtime/store');
const { FfmpegLocator, VideoEncoder } = require('../dist/runtime/video');
const { measureLag } = require('../test/helpers/lag');
const { summary, saveResults, machine } = require('./lib');

const ROUNDS = Math.max(1, Number(process.argv[2] || 3));
const round1 = (v) => Math.round(v * 10) / 10;

function grid(n, side, size) {
  const per = Math.ceil(Math.sqrt(n));
  const step = (side - size) / (per - 1);
  return Array.from({ length: n }, (_, i) => {
    const x = Math.round((i % per) * step), y = Math.round(Math.floor(i / per) * step);
    return { bbox: [x, y, x + size, y + size], score: 0.9 };
  });
}

async function faceBoxes(results) {
  const runtime = createRuntime({ sweepIntervalMs: 0 });
  const webp = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: { r: 120, g: 90, b: 80 } } }).webp({ lossless: true }).toBuffer();
  const token = await runtime.createToken({ target: webp, operations: [] });
  const forged = (faces) => runtime.acceptToken(JSON.parse(JSON.stringify({ ...token, faces })));
  const whole = Array.from({ length: 256 }, () => ({ bbox: [0, 0, 2000, 2000], score: 0.9 }));
  const allowed = grid(256, 2000, 100);
  // Warm the worker once (its start is a one-off per runtime).
  runtime.store.release((await runtime.process('debug', forged([]), { force: true, offMainThread: true })).target.frame);
  for (const stage of ['enhance', 'blur']) {
    const rows = { refuseMs: [], workerMs: [], workerLagMs: [], workerBlockMs: [], mainMs: [], mainBlockMs: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const refused = await measureLag(() => runtime.process(stage, forged(whole), { force: true }));
      if (refused.value.error?.code !== 'E_BAD_PARAMETER') throw new Error(`${stage}: frame-sized boxes not refused`);
      rows.refuseMs.push(refused.ms);
      const off = await measureLag(() => runtime.process(stage, forged(allowed), { force: true, offMainThread: true }));
      runtime.store.release(off.value.target.frame);
      rows.workerMs.push(off.ms); rows.workerLagMs.push(off.lagMs); rows.workerBlockMs.push(off.blockMs);
      const main = await measureLag(() => runtime.process(stage, forged(allowed), { force: true }));
      runtime.store.release(main.value.target.frame);
      rows.mainMs.push(main.ms); rows.mainBlockMs.push(main.blockMs);
    }
    results.faceBoxes[stage] = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, summary(v)]));
  }
  results.faceBoxes.storePeakMB = round1(runtime.store.stats().peakBytes / 2 ** 20);
  results.faceBoxes.budgetMB = round1(runtime.store.stats().budgetBytes / 2 ** 20);

  // Case 3: a token naming another request's frame.
  const other = await runtime.createToken({ target: webp, operations: [] });
  const stolen = JSON.parse(JSON.stringify({ ...token, target: { ...token.target, frame: other.target.frame } }));
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) { try { runtime.acceptToken(stolen); } catch { /* E_FRAME_MISSING */ } }
  results.refuseForeignFrameUs = round1((performance.now() - t0));
  await runtime.close();
}

async function svgAndIndex(results) {
  const runtime = createRuntime({ sweepIntervalMs: 0 });
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8000" height="8000"><filter id="f"><feGaussianBlur stdDeviation="500"/></filter><rect width="100%" height="100%" fill="#a63" filter="url(#f)"/></svg>');
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    await runtime.createToken({ target: svg }).catch(() => undefined);
    times.push(performance.now() - t0);
  }
  results.svgRefuseMs = summary(times);
  await runtime.close();

  const locator = new FfmpegLocator();
  try { await locator.resolve(); } catch { return; }
  const store = new FrameStore({ budgetBytes: 64 * 48 * 3 * 50, sweepIntervalMs: 0 });
  const encoder = new VideoEncoder({ locator, store, output: path.join(require('os').tmpdir(), `ff-hostile-bench-${process.pid}.mp4`), width: 64, height: 48, fps: 25 });
  const frame = () => store.put({ width: 64, height: 48, channels: 3, data: new Uint8Array(64 * 48 * 3) });
  await encoder.write(0, frame());
  const far = await measureLag(() => encoder.write(1e9, frame()));
  results.farIndex = { ms: round1(far.ms), blockMs: round1(far.blockMs) };
  await encoder.abort();
  store.close();
}

async function main() {
  const results = { faceBoxes: {}, rounds: ROUNDS };
  await faceBoxes(results);
  await svgAndIndex(results);
  const bombs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const out = execFileSync(process.execPath, [path.join(__dirname, '..', 'test', 'helpers', 'hostile-bombs.js')], { encoding: 'utf8' });
    bombs.push(JSON.parse(out.trim().split('\n').pop()));
  }
  results.bombs = {
    created: bombs[0].created,
    refused: bombs[0].refused,
    codes: bombs[0].codes,
    lastRefusalMs: summary(bombs.map((b) => b.lastRefusalMs)),
    storePeakMB: summary(bombs.map((b) => b.peakBytes / 2 ** 20)),
    budgetMB: bombs[0].budgetBytes / 2 ** 20,
    rssMaxMB: summary(bombs.map((b) => b.rssMaxBytes / 2 ** 20)),
  };
  saveResults('hostile', results);
  const m = (s) => `${s.min} / ${s.median} / ${s.max}`;
  console.log(`hostile messages · ${machine()} · ${ROUNDS} rounds (min / median / max)`);
  for (const stage of ['enhance', 'blur']) {
    const f = results.faceBoxes[stage];
    console.log(`  ${stage}, 256 frame-sized boxes on 2000²: refused in ${m(f.refuseMs)} ms`);
    console.log(`  ${stage}, 256 × 100 px boxes, worker: ${m(f.workerMs)} ms, event loop blocked ${m(f.workerBlockMs)} ms (longest timer gap ${m(f.workerLagMs)} ms)`);
    console.log(`  ${stage}, 256 × 100 px boxes, main thread: ${m(f.mainMs)} ms, blocked ${m(f.mainBlockMs)} ms`);
  }
  console.log(`  store peak ${results.faceBoxes.storePeakMB} / budget ${results.faceBoxes.budgetMB} MB`);
  console.log(`  foreign frame ref refused: ${results.refuseForeignFrameUs / 1000} ms per token`);
  console.log(`  8000² SVG (250 bytes) refused in ${m(results.svgRefuseMs)} ms`);
  if (results.farIndex) console.log(`  video out, index 1e9: ${results.farIndex.ms} ms, blocked ${results.farIndex.blockMs} ms`);
  const b = results.bombs;
  console.log(`  8 × 8000² WebP at once: ${b.created} stored, ${b.refused} refused (${b.codes.join(', ')}) by ${m(b.lastRefusalMs)} ms; store peak ${m(b.storePeakMB)} / ${b.budgetMB} MB; RSS ${m(b.rssMaxMB)} MB`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
