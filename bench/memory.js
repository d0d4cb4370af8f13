'use strict';
// Memory over a long job: a 3,000-frame blur job with RSS, heap and frame-store
// stats (current, peak, budget) sampled every second; reports RSS growth from frame 300 to the
// end and checks that the store never went above its budget.
// Usage: node bench/memory.js [--full] [--gc]
//   quick: 640x360 clip (3,000 frames); full: 1280x720 clip (3,000 frames), then a second run
//   under `node --expose-gc` with a forced GC before each sample (--gc).
const path = require('path');
const { spawnSync } = require('child_process');
const { createRuntime, JobManager } = require('../dist/runtime');
const { machine, saveResults } = require('./lib');
const { CACHE, FULL, makeClip, loadLine } = require('./video-lib');

const FORCED_GC = process.argv.includes('--gc') && typeof global.gc === 'function';
const CLIP = FULL ? { width: 1280, height: 720, frames: 3000 } : { width: 640, height: 360, frames: 3000 };
const MB = 1024 * 1024;
const mb = (v) => Math.round((v / MB) * 10) / 10;

(async () => {
  console.log(`machine: ${machine()} · load ${loadLine()}${FORCED_GC ? ' · forced GC before each sample' : ''}`);
  const clip = await makeClip(CLIP);
  const runtime = createRuntime({ sweepIntervalMs: 0 });
  const manager = new JobManager(runtime, { maxConcurrent: 1 });
  const samples = [];
  let id;
  const sample = () => {
    if (FORCED_GC) global.gc();
    const m = process.memoryUsage();
    const s = runtime.store.stats();
    const framesDone = id ? manager.getJob(id).progress.framesDone : 0;
    samples.push({
      t: Math.round(performance.now() - t0),
      framesDone,
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      storeBytes: s.bytes,
      storeReserved: s.reservedBytes,
      storePeak: s.peakBytes,
      storeFrames: s.frames,
      budget: s.budgetBytes,
    });
  };
  const t0 = performance.now();
  sample();
  const timer = setInterval(sample, 1000);
  let info;
  try {
    id = manager.runJob({ target_path: clip, output_path: path.join(CACHE, `out-${process.pid}-memory.mp4`), processors: ['face_blur'] });
    info = await manager.waitForJob(id);
  } finally {
    clearInterval(timer);
  }
  sample();
  const final = runtime.store.stats();
  const pool = runtime.store.poolStats();
  await manager.close();
  await runtime.close();
  require('fs').rmSync(path.join(CACHE, `out-${process.pid}-memory.mp4`), { force: true });
  if (info.state !== 'completed') throw new Error(`memory job ${info.state}: ${info.error?.code} ${info.error?.message}`);

  const at300 = samples.find((s) => s.framesDone >= 300);
  const end = samples[samples.length - 1];
  const after = samples.filter((s) => s.framesDone >= 300);
  const maxRss = Math.max(...after.map((s) => s.rss));
  const overBudget = samples.filter((s) => s.storeBytes + s.storeReserved > s.budget);
  const neverAbove = final.peakBytes <= final.budgetBytes && overBudget.length === 0;
  const result = {
    clip: CLIP,
    forcedGc: FORCED_GC,
    frames: info.result.frames,
    processingFps: info.result.processingFps,
    samples: samples.length,
    rssMB: { atStart: mb(samples[0].rss), atFrame300: mb(at300.rss), atEnd: mb(end.rss), maxAfterFrame300: mb(maxRss) },
    rssGrowthFrame300ToEndMB: mb(end.rss - at300.rss),
    rssMaxGrowthAfterFrame300MB: mb(maxRss - at300.rss),
    heapUsedMB: { atFrame300: mb(at300.heapUsed), atEnd: mb(end.heapUsed) },
    store: {
      peakMB: mb(final.peakBytes),
      budgetMB: mb(final.budgetBytes),
      currentAtEndMB: mb(final.bytes),
      framesAtEnd: final.frames,
      maxSampledMB: mb(Math.max(...samples.map((s) => s.storeBytes + s.storeReserved))),
    },
    storeNeverAboveBudget: neverAbove,
    // Frame buffers (decoded frames, blurred copies): allocated once, then reused from the store's pool.
    frameBuffers: { allocated: pool.allocated, reused: pool.reused, spareMB: mb(pool.spareBytes) },
    load: loadLine(),
  };
  console.log(
    `\nmemory: ${CLIP.frames}-frame blur job, ${CLIP.width}x${CLIP.height}, ${samples.length} samples (1/s)${FORCED_GC ? ', forced GC' : ', no forced GC'}, ${result.processingFps} frames/s`,
  );
  console.log(`  RSS (MB): start ${result.rssMB.atStart} · frame 300 ${result.rssMB.atFrame300} · end ${result.rssMB.atEnd} · max after 300 ${result.rssMB.maxAfterFrame300}`);
  console.log(`  RSS growth frame 300 → end: ${result.rssGrowthFrame300ToEndMB} MB (target < 50) · largest excursion ${result.rssMaxGrowthAfterFrame300MB} MB`);
  console.log(
    `  frame store (MB): peak ${result.store.peakMB} / budget ${result.store.budgetMB} · largest sample ${result.store.maxSampledMB} · at end ${result.store.currentAtEndMB} (${final.frames} frames)`,
  );
  console.log(`  frame buffers: ${pool.allocated} allocated, ${pool.reused} reused from the store's pool (${result.frameBuffers.spareMB} MB spare at the end)`);
  console.log(`  ASSERT store never above budget: ${neverAbove ? 'PASS' : `FAIL (peak ${result.store.peakMB} MB, ${overBudget.length} samples over)`}`);
  console.log(`  ASSERT RSS growth < 50 MB: ${result.rssGrowthFrame300ToEndMB < 50 ? 'PASS' : 'FAIL'}`);
  saveResults(FORCED_GC ? 'memoryForcedGc' : 'memory', {
    ...result,
    trace: samples.map((s) => ({ t: s.t, frames: s.framesDone, rssMB: mb(s.rss), heapMB: mb(s.heapUsed), storeMB: mb(s.storeBytes + s.storeReserved) })),
  });
  if (FULL && !process.argv.includes('--gc')) {
    const child = spawnSync(process.execPath, ['--expose-gc', __filename, '--gc', ...process.argv.slice(2)], { stdio: 'inherit' });
    if (child.status !== 0) process.exitCode = 1;
  }
  if (!neverAbove) process.exitCode = 1;
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
