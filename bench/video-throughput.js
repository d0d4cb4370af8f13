'use strict';
// Video throughput (issue 6, case 4): a 720p clip through (a) bare ffmpeg decode → encode with
// the job encoder's settings, (b) our blur job, (c) our swap job (source fr_obama.jpg), all
// interleaved in each round so machine drift hits every side alike. Reports frames/s and the
// ratios b/a and c/a per round → min/median/max.
// Usage: node bench/video-throughput.js [rounds] [--full]   (quick: 2 rounds; full: 5)
const fs = require('fs');
const path = require('path');
const { createRuntime } = require('../dist/runtime');
const { JobManager } = require('../dist/runtime/jobs');
const { summary, machine, saveResults, MEDIA } = require('./lib');
const { CACHE, FULL, argNumber, makeClip, bareTranscode, pipedTranscode, timedJob, loadLine } = require('./video-lib');

const ROUNDS = argNumber(FULL ? 5 : 2);
const CLIP = { width: 1280, height: 720, frames: 600 };

(async () => {
  console.log(`machine: ${machine()} · load ${loadLine()}`);
  const clip = await makeClip(CLIP);
  const warmClip = await makeClip({ width: 1280, height: 720, frames: 30 });
  const out = (name) => path.join(CACHE, `out-${process.pid}-${name}.mp4`);
  const runtime = createRuntime({ sweepIntervalMs: 0 });
  const manager = new JobManager(runtime, { maxConcurrent: 1 });
  // Variants of (b): ORT's own spin-waiting threads (our default before they were turned off),
  // and the blur on a pixel worker thread (JobManager pixelWorkers).
  const runtimeSpin = createRuntime({ sweepIntervalMs: 0, spinWait: true });
  const managerSpin = new JobManager(runtimeSpin, { maxConcurrent: 1 });
  const managerW = new JobManager(runtime, { maxConcurrent: 1, pixelWorkers: 1, framesInFlight: 3 });
  const source = path.join(MEDIA, 'fr_obama.jpg');
  const jobArgs = (processors, name, input = clip) => ({ target_path: input, output_path: out(name), processors, source_paths: [source] });
  try {
    // Sessions load once per runtime: warm them on a short clip so the rounds measure steady state.
    await timedJob(manager, jobArgs(['face_blur', 'face_swapper'], 'warm', warmClip));
    await timedJob(managerSpin, jobArgs(['face_blur'], 'warmSpin', warmClip));
    const fps = { bare: [], piped: [], blur: [], blurSpin: [], blurWorker: [], swap: [] };
    const ratio = { blur: [], swap: [], piped: [], blurSpin: [], blurWorker: [] };
    const cpuPerFrame = { blur: [], blurSpin: [] }; // ms of this process's CPU (all its threads) per frame
    const noFace = { blur: 0, swap: 0 }; // summed over all blur variants
    for (let r = 0; r < ROUNDS; r++) {
      const a = CLIP.frames / (await bareTranscode(clip, out('bare')));
      const p = CLIP.frames / (await pipedTranscode(clip, out('piped'), CLIP.width, CLIP.height));
      const b = await cpuTimed(() => timedJob(manager, jobArgs(['face_blur'], 'blur')));
      const c = await timedJob(manager, jobArgs(['face_swapper'], 'swap'));
      const bs = await cpuTimed(() => timedJob(managerSpin, jobArgs(['face_blur'], 'blurSpin')));
      const bw = await timedJob(managerW, jobArgs(['face_blur'], 'blurw'));
      cpuPerFrame.blur.push(b.cpuMs / CLIP.frames); cpuPerFrame.blurSpin.push(bs.cpuMs / CLIP.frames);
      for (const [k, v] of [['blur', b], ['swap', c], ['blur', bs], ['blur', bw]]) {
        if (v.info.result.frames !== CLIP.frames) throw new Error(`${k} job wrote ${v.info.result.frames} frames, expected ${CLIP.frames}`);
        noFace[k] += v.info.result.framesNoFace;
      }
      const bf = CLIP.frames / b.wallSec, cf = CLIP.frames / c.wallSec;
      fps.bare.push(a); fps.piped.push(p); fps.blur.push(bf); fps.swap.push(cf);
      ratio.blur.push(bf / a); ratio.swap.push(cf / a); ratio.piped.push(p / a);
      const bsf = CLIP.frames / bs.wallSec, bwf = CLIP.frames / bw.wallSec;
      fps.blurSpin.push(bsf); fps.blurWorker.push(bwf);
      ratio.blurSpin.push(bsf / a); ratio.blurWorker.push(bwf / a);
      console.log(`round ${r + 1}/${ROUNDS}: bare ${a.toFixed(1)} · piped ${p.toFixed(1)} · blur ${bf.toFixed(1)} · swap ${cf.toFixed(1)} · blur with spinning ORT threads ${bsf.toFixed(1)} · blur + pixel worker ${bwf.toFixed(1)} frames/s · load ${loadLine()}`);
    }
    const fpsSummary = Object.fromEntries(Object.entries(fps).map(([k, v]) => [k, summary(v)]));
    const ratioSummary = Object.fromEntries(Object.entries(ratio).map(([k, v]) => [k, ratioStats(v)]));
    console.log(`\nvideo throughput, ${CLIP.width}x${CLIP.height} × ${CLIP.frames} frames, ${ROUNDS} rounds (frames/s: min / median / max)`);
    const row = (label, s) => console.log(`  ${label.padEnd(34)} ${[s.min, s.median, s.max].map((v) => String(v).padStart(7)).join(' ')}`);
    row('(a) bare ffmpeg transcode', fpsSummary.bare);
    row("(a') ffmpeg → rgb24 pipe → ffmpeg", fpsSummary.piped);
    row('(b) blur job', fpsSummary.blur);
    row('(c) swap job', fpsSummary.swap);
    row('(b-spin) b, ORT threads spin-wait', fpsSummary.blurSpin);
    row('(b-worker) b + 1 pixel worker', fpsSummary.blurWorker);
    row('b/a (target ≥ 0.8)', ratioSummary.blur);
    row('c/a', ratioSummary.swap);
    row("a'/a", ratioSummary.piped);
    row('b-spin/a', ratioSummary.blurSpin);
    row('b-worker/a', ratioSummary.blurWorker);
    const cpuSummary = Object.fromEntries(Object.entries(cpuPerFrame).map(([k, v]) => [k, summary(v)]));
    row('node CPU ms/frame, b', cpuSummary.blur);
    row('node CPU ms/frame, b-spin', cpuSummary.blurSpin);
    saveResults('videoThroughput', {
      clip: { ...CLIP, fps: 30, content: 'zoom/pan over fr_two_people.jpg (two faces per frame), no audio' },
      encoder: `libx264 crf ${require('../dist/runtime/video').qualityToCrf(80)} veryfast yuv420p`,
      rounds: ROUNDS,
      framesPerSecond: fpsSummary,
      ratios: { blurOverBare: ratioSummary.blur, swapOverBare: ratioSummary.swap, pipedOverBare: ratioSummary.piped, blurSpinOverBare: ratioSummary.blurSpin, blurWorkerOverBare: ratioSummary.blurWorker },
      nodeCpuMsPerFrame: cpuSummary,
      framesNoFace: noFace,
      load: loadLine(),
    });
  } finally {
    await Promise.all([manager.close(), managerSpin.close(), managerW.close()]);
    await Promise.all([runtime.close(), runtimeSpin.close()]);
    for (const f of fs.readdirSync(CACHE)) if (f.startsWith(`out-${process.pid}-`)) fs.rmSync(path.join(CACHE, f), { force: true });
  }
})().catch((e) => { console.error(e); process.exit(1); });

/** Runs `fn` (a timed job) and adds the CPU this process used meanwhile, in ms. */
async function cpuTimed(fn) {
  const before = process.cpuUsage();
  const result = await fn();
  const used = process.cpuUsage(before);
  return { ...result, cpuMs: (used.user + used.system) / 1000 };
}

function ratioStats(values) {
  const s = [...values].sort((x, y) => x - y);
  const r3 = (v) => Math.round(v * 1000) / 1000;
  return { min: r3(s[0]), median: r3(s[Math.floor(s.length / 2)]), max: r3(s[s.length - 1]), n: s.length };
}
