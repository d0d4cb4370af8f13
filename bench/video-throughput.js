'use strict';
// Video throughput against bare ffmpeg at equal CRF (BENCHMARKS.md §14).
// One 300-frame 1280×720 clip, the same encoder settings on every side (libx264 veryfast,
// yuv420p, the CRF given with --crf, default 23), R interleaved rounds so machine drift hits
// every side alike. Per round, in this order:
//   (a)       bare ffmpeg transcode (decode → encode in one process)
//   (b)       blur job, detect_tiling off (detection on every frame, whole frame)
//   (b-tiled) blur job, default tiling (auto)
//   (c)       swap job (embedded swap, source fr_obama.jpg), detect_tiling off
//   (c-tiled) swap job, default tiling (auto)
//   (b-w)     (b) with 1 pixel worker thread
//   (c-0)     (c) without pixel workers
// (b) and (c) run with the CLI's and face-job node's default pixel workers (auto: none for the
// blur, one for the embedded swap).
// Every side prints frames/s and CPU ms per frame per process: bare ffmpeg; for the jobs node
// (process.cpuUsage, all threads) + the decoder ffmpeg + the encoder ffmpeg (/proc/<pid>/stat);
// the jobs also the mean and median ms of their pixel stage (blur, swap) per frame, from the
// frames' journals (the stage's own time: on the main thread, or in a pixel worker).
// Each job must write every frame. The jobs get the CRF as the `crf` job argument (or, on code
// without it, the `quality` that maps to it).
// Usage: node bench/video-throughput.js [rounds] [--crf N] [--sides b,c,b-w,c-0] [--threads N] [--noise N] [--full]
//        (3 rounds, every side; --full: 5 rounds; --sides: only these besides (a))
const fs = require('fs');
const path = require('path');
const { createRuntime } = require('../dist/runtime');
const { JobManager, JobArgsValidator, qualityToCrf } = require('../dist/runtime/internal');
const { summary, machine, saveResults, MEDIA } = require('./lib');
const { CACHE, FULL, makeClip, bareTranscode, timedJob, loadLine } = require('./video-lib');

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const positional = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--crf', '--sides', '--threads', '--noise'].includes(argv[i - 1])));
const ROUNDS = positional.length ? Number(positional[0]) : FULL ? 5 : 3;
const CRF = flag('--crf') !== undefined ? Number(flag('--crf')) : 23;
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1) || !(Number.isInteger(CRF) && CRF >= 0 && CRF <= 51)) {
  console.error('usage: node bench/video-throughput.js [rounds ≥ 1] [--crf 0..51] [--full]');
  process.exit(2);
}
const SIDE_FILTER = flag('--sides')
  ?.split(',')
  .map((x) => x.trim());
// --noise N: the same clip with temporal grain of strength N (camera-like; x264 works harder).
const CLIP = { width: 1280, height: 720, frames: 300, ...(flag('--noise') ? { noise: Number(flag('--noise')) } : {}) };
const TARGETS = { b: 0.55, c: 0.35 };

/** The job argument that sets the encoder's CRF: `crf` where the job schema has it, else the quality mapping to it. */
function crfArgument(crf) {
  try {
    new JobArgsValidator().normalize({ target_path: 'a.mp4', output_path: 'b.mp4', processors: ['face_blur'], crf });
    return { crf };
  } catch {
    for (let q = 0; q <= 100; q++) if (qualityToCrf(q) === crf) return { quality: q };
    throw new Error(`no quality maps to CRF ${crf} and the job arguments have no crf`);
  }
}

const SIDES = [
  { key: 'bare', short: 'a', label: '(a) bare ffmpeg transcode' },
  // (b), (c): what the CLI and the face-job node run by default (pixel workers auto: none for
  // the blur, one for the embedded swap); the -w / -0 sides are the other choice.
  { key: 'blur', short: 'b', label: '(b) blur job, tiling off', processors: ['face_blur'], tiling: 'off', workers: 'auto' },
  { key: 'blurTiled', short: 'b-tiled', label: '(b-tiled) blur job, tiling auto', processors: ['face_blur'], tiling: 'auto', workers: 'auto' },
  { key: 'swap', short: 'c', label: '(c) swap job, tiling off', processors: ['face_swapper'], tiling: 'off', workers: 'auto' },
  { key: 'swapTiled', short: 'c-tiled', label: '(c-tiled) swap job, tiling auto', processors: ['face_swapper'], tiling: 'auto', workers: 'auto' },
  { key: 'blurWorker', short: 'b-w', label: '(b-w) b + 1 pixel worker', processors: ['face_blur'], tiling: 'off', workers: 1 },
  { key: 'swapMain', short: 'c-0', label: '(c-0) c, no pixel worker', processors: ['face_swapper'], tiling: 'off', workers: 0 },
].filter((side) => side.short === 'a' || !SIDE_FILTER || SIDE_FILTER.includes(side.short));
const RATIOS = SIDES.filter((s) => s.key !== 'bare').map((s) => [s.key, `${s.short}/a`]);

(async () => {
  const crfArg = crfArgument(CRF);
  const encoder = `libx264 veryfast yuv420p CRF ${CRF}`;
  console.log(`machine: ${machine()} · load ${loadLine()}`);
  console.log(
    `clip ${CLIP.width}x${CLIP.height} × ${CLIP.frames} frames${CLIP.noise ? ` with grain ${CLIP.noise}` : ''} · ${encoder} everywhere · jobs get ${JSON.stringify(crfArg)} · ${ROUNDS} interleaved rounds`,
  );
  const clip = await makeClip(CLIP);
  const warmClip = await makeClip({ width: 1280, height: 720, frames: 30 });
  const out = (name) => path.join(CACHE, `out-${process.pid}-${name}.mp4`);
  const runtime = createRuntime({ sweepIntervalMs: 0, ...(flag('--threads') ? { threads: Number(flag('--threads')) } : {}) });
  const managers = Object.fromEntries([0, 1, 'auto'].map((w) => [w, new JobManager(runtime, { maxConcurrent: 1, pixelWorkers: w })]));
  const source = path.join(MEDIA, 'fr_obama.jpg');
  const jobArgs = (side, input = clip) => ({
    target_path: input,
    output_path: out(side.key),
    processors: side.processors,
    source_paths: [source],
    keep_audio: false,
    ...crfArg,
    ...(side.tiling ? { parameters: { detect_tiling: side.tiling } } : {}),
  });
  const perFrame = (ms) => (ms === undefined ? undefined : Math.round((ms / CLIP.frames) * 10) / 10);
  try {
    // Sessions load once per runtime: warm them on a short clip so the rounds measure steady state.
    await timedJob(managers[0], jobArgs({ key: 'warm', processors: ['face_blur', 'face_swapper'] }, warmClip));
    const fps = Object.fromEntries(SIDES.map((s) => [s.key, []]));
    const cpu = Object.fromEntries(SIDES.map((s) => [s.key, { node: [], decoder: [], encoder: [], ffmpeg: [], total: [] }]));
    const ratio = Object.fromEntries(RATIOS.map(([k]) => [k, []]));
    const noFace = {};
    // The pixel stage's ms of every frame of the running job (journal entries of blur / swap).
    const stageMs = [];
    const stage = Object.fromEntries(SIDES.map((s) => [s.key, []]));
    for (const m of Object.values(managers)) {
      m.on('frame', (frame) => {
        for (const entry of frame.journal) if (entry.stage === 'blur' || entry.stage === 'swap') stageMs.push(entry.ms);
      });
    }
    for (let r = 0; r < ROUNDS; r++) {
      console.log(`\nround ${r + 1}/${ROUNDS} · load ${loadLine()}`);
      for (const side of SIDES) {
        let wallSec, ms;
        if (side.key === 'bare') {
          ({ wallSec, cpuMs: ms } = await bareTranscode(clip, out('bare'), CRF, true));
          ms = { ffmpeg: ms, total: ms };
        } else {
          stageMs.length = 0;
          const job = await timedJob(managers[side.workers], jobArgs(side));
          const { frames, framesNoFace } = job.info.result;
          if (frames !== CLIP.frames) throw new Error(`${side.label} wrote ${frames} frames, expected ${CLIP.frames}`);
          noFace[side.key] = (noFace[side.key] ?? 0) + framesNoFace;
          wallSec = job.wallSec;
          ms = { ...job.cpuMs, total: job.cpuMs.node + (job.cpuMs.decoder ?? 0) + (job.cpuMs.encoder ?? 0) };
        }
        const f = CLIP.frames / wallSec;
        fps[side.key].push(f);
        for (const [k, v] of Object.entries(ms)) if (v !== undefined) cpu[side.key][k].push(v / CLIP.frames);
        const split =
          side.key === 'bare' ? `ffmpeg ${perFrame(ms.ffmpeg)}` : `node ${perFrame(ms.node)} · decoder ${perFrame(ms.decoder)} · encoder ${perFrame(ms.encoder)} · total ${perFrame(ms.total)}`;
        let stageNote = '';
        if (side.key !== 'bare' && stageMs.length) {
          const mean = stageMs.reduce((a, b) => a + b, 0) / stageMs.length;
          const median = summary(stageMs).median;
          stage[side.key].push({ mean, median });
          stageNote = ` · ${side.processors[0] === 'face_blur' ? 'blur' : 'swap'} stage ${mean.toFixed(2)} ms/frame (median ${median})`;
        }
        console.log(`  ${side.label.padEnd(34)} ${f.toFixed(1).padStart(6)} frames/s · CPU ms/frame ${split}${stageNote}`);
      }
      const a = fps.bare[r];
      console.log(
        `  ratios: ${RATIOS.map(([k, label]) => {
          const v = fps[k][r] / a;
          ratio[k].push(v);
          return `${label} ${v.toFixed(3)}`;
        }).join(' · ')}`,
      );
    }
    const fpsSummary = Object.fromEntries(Object.entries(fps).map(([k, v]) => [k, summary(v)]));
    const cpuSummary = Object.fromEntries(
      Object.entries(cpu).map(([k, parts]) => [
        k,
        Object.fromEntries(
          Object.entries(parts)
            .filter(([, v]) => v.length)
            .map(([p, v]) => [p, summary(v)]),
        ),
      ]),
    );
    const ratioSummary = Object.fromEntries(Object.entries(ratio).map(([k, v]) => [k, ratioStats(v)]));
    const mmm = (s) => [s.min, s.median, s.max].map((v) => String(v).padStart(6)).join(' ');
    console.log(`\nvideo throughput at equal CRF: ${CLIP.width}x${CLIP.height} × ${CLIP.frames} frames, ${encoder}, ${ROUNDS} rounds (min / median / max) · load ${loadLine()}`);
    console.log(`  ${'side'.padEnd(34)} ${'frames/s'.padEnd(20)}  CPU ms/frame (median): node · decoder · encoder · total`);
    for (const side of SIDES) {
      const c = cpuSummary[side.key];
      const split = side.key === 'bare' ? `ffmpeg ${c.ffmpeg.median}` : `${c.node.median} · ${c.decoder?.median} · ${c.encoder?.median} · ${c.total.median}`;
      const st = stage[side.key]?.length ? ` · pixel stage ${summary(stage[side.key].map((x) => x.mean)).median} ms/frame (median of round means)` : '';
      console.log(`  ${side.label.padEnd(34)} ${mmm(fpsSummary[side.key])}  ${split}${st}`);
    }
    for (const [k, label] of RATIOS) {
      const s = ratioSummary[k];
      const target = { blur: TARGETS.b, swap: TARGETS.c }[k];
      const verdict = target === undefined ? '' : `  target ≥ ${target}: ${s.median >= target ? '✔' : '✘'} (median${s.min >= target ? ', every round' : s.max >= target ? ', not every round' : ''})`;
      console.log(`  ${label.padEnd(34)} ${mmm(s)}${verdict}`);
    }
    const gain = (w, base) => (fps[w] && fps[base] ? ratioStats(fps[w].map((v, i) => v / fps[base][i])) : undefined);
    const workerGain = { blur: gain('blurWorker', 'blur'), swap: gain('swap', 'swapMain') };
    for (const [k, g] of Object.entries(workerGain)) if (g) console.log(`  1 pixel worker over 0, ${k} job (per-round ratio) ${mmm(g)}`);
    saveResults(CLIP.noise ? 'videoThroughputGrain' : 'videoThroughput', {
      clip: { ...CLIP, fps: 30, content: 'zoom/pan over fr_two_people.jpg (two faces per frame), no audio' },
      encoder,
      jobEncoderArgument: crfArg,
      rounds: ROUNDS,
      framesPerSecond: fpsSummary,
      cpuMsPerFrame: cpuSummary,
      ratios: Object.fromEntries(Object.entries(ratioSummary).map(([k, v]) => [`${k}OverBare`, v])),
      pixelWorkerGain: workerGain,
      targets: { blurOverBare: TARGETS.b, swapOverBare: TARGETS.c },
      framesNoFace: noFace,
      pixelStageMsPerFrame: Object.fromEntries(
        Object.entries(stage)
          .filter(([, v]) => v.length)
          .map(([k, v]) => [k, { mean: summary(v.map((x) => x.mean)), median: summary(v.map((x) => x.median)) }]),
      ),
      load: loadLine(),
    });
  } finally {
    await Promise.all(Object.values(managers).map((m) => m.close()));
    await runtime.close();
    for (const f of fs.readdirSync(CACHE)) if (f.startsWith(`out-${process.pid}-`)) fs.rmSync(path.join(CACHE, f), { force: true });
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

function ratioStats(values) {
  const s = [...values].sort((x, y) => x - y);
  const r3 = (v) => Math.round(v * 1000) / 1000;
  return { min: r3(s[0]), median: r3(s[Math.floor(s.length / 2)]), max: r3(s[s.length - 1]), n: s.length };
}
