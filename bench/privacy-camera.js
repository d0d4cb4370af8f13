'use strict';
// Privacy at camera speed: what the user gets from a privacy blur, measured on the
// user's outputs with ground truth (fixtures: bench/privacy-fixtures.js; rules: test/helpers/
// privacy-measure.js). No flags = the defaults a user gets; the trade-off rows name their settings.
//   pictures  crowd picture 3000 × 2172 (90 faces of 24–470 px) and the same at 6000 × 4344 (26 MP):
//             faces covered (≥ half of the box changed), through a job (the CLI's path, PNG out)
//             and a token (a flow's path); face-free pictures of both sizes: pixels changed (must be 0)
//   sweep     "no blind band": one face per picture at every size from 16 px to 0.9 × the frame
//             height (× 1.25 steps), at 4 places, in 1280 × 720, 1920 × 1080 and 3000 × 2000 frames
//   file      the panning 720p crowd clip (500 frames, ≈ 29 faces of 40–55 px in view) as a file
//             job, CRF 23: frames with a visible face, and frames/s against a bare ffmpeg transcode
//             at the same CRF, interleaved rounds; the same with trade-off settings (tiling off;
//             detect_scan_interval 0 / 0.1 / 0.4 and detect_min_face 32 where the build knows them)
//   live      the 720p and 1080p clips from a 25 fps RTSP camera stand-in (GStreamer sends the H.264
//             as it is) → blur job → MP4: % of frames processed, delay behind the camera (p50/p95,
//             the live-camera.js way), frames with a visible face among the processed ones, and
//             the stop (cancel) leaves a valid file; the CLI stopped by SIGINT (Ctrl-C) too
//   cctv      1920 × 1080 with 48 faces of 8–32 px, a picture (token) and a 100-frame clip (job):
//             covered per face size — what size is covered, honestly
// Usage: node bench/privacy-camera.js [--quick] [--full] [--rounds N] [--only pictures,sweep,file,live,cctv] [--live-seconds S] [--live-cases defaults,off,ctrl-c,crf,preset] [--live-crf N]
//   --quick: 1 round on the first 125 frames, 2 places per size, live 10 s, no trade-off rows on live
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { createRuntime, JobManager } = require('../dist/runtime');
const { summary, machine, saveResults } = require('./lib');
const { bareTranscode, timedJob, loadLine } = require('./video-lib');
const { privacyFixtures, readFrame, looped, ffmpegPath, CACHE } = require('./privacy-fixtures');
const pf = require('../test/helpers/privacy-fixtures');
const pm = require('../test/helpers/privacy-measure');
const { rtspMissing, startRtspCamera, countFrames } = require('../test/helpers/cameras');

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = argv.includes('--quick');
const FULL = argv.includes('--full') || process.env.BENCH_FULL === '1';
const ROUNDS = Number(flag('--rounds') ?? (QUICK ? 1 : FULL ? 3 : 2));
const ONLY = flag('--only')?.split(',');
const LIVE_SECONDS = Number(flag('--live-seconds') ?? (QUICK ? 10 : 20));
/** --live-cases defaults,off,ctrl-c,crf,preset: which live rows to run (all but crf and preset by default; crf: 1080p at the default quality, CRF 23 and CRF 10; preset: 1080p at the default preset and veryfast; --rounds interleaved rounds). */
const LIVE_CASES = (flag('--live-cases') ?? 'defaults,off,ctrl-c').split(',');
const CRF = 23;
/** --live-crf N: the live rows' CRF; by default none, so a live job encodes at its own default quality (what a user gets). */
const LIVE_RATE = flag('--live-crf') !== undefined ? { crf: Number(flag('--live-crf')) } : {};
const section = (name) => !ONLY || ONLY.includes(name);
const r2 = (n) => Math.round(n * 100) / 100;
const r3 = (n) => Math.round(n * 1000) / 1000;
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN);
const out = (name) => path.join(CACHE, `out-${process.pid}-${name}`);
const fmtBins = (bins, key = 'covered') =>
  Object.entries(bins)
    .sort((a, b) => parseInt(a[0].replace('≥ ', ''), 10) - parseInt(b[0].replace('≥ ', ''), 10))
    .map(([k, v]) => `${k}: ${v[key]}/${v.total ?? v.faceFrames}`)
    .join(' · ');

/** Detect → blur on a frame through a token (a flow's path): { covered…, ms, faces, error }. */
async function blurToken(rt, frame, faces, parameters = {}) {
  const t0 = performance.now();
  const token = await rt.run(await rt.createToken({ target: frame, operations: ['detect', 'blur'], parameters }));
  const ms = performance.now() - t0;
  try {
    const note = token.journal.find((j) => j.stage === 'detect')?.note;
    if (token.state === 'failed' && token.error?.code !== 'E_NO_FACE') return { error: `${token.error.code}: ${token.error.message}`, ms, covered: 0, total: faces.length, bins: {}, changedPixels: 0 };
    const after = token.state === 'failed' ? frame : rt.frame(token.target.frame);
    return { ...pm.coveredBySize(frame, after, faces), ms, found: token.faces.length, note };
  } finally {
    rt.release(token);
  }
}

/** The same through a picture job (the CLI's path) writing a PNG. */
async function blurJob(jobs, file, frame, faces, parameters = {}) {
  const output = out('picture.png');
  const t0 = performance.now();
  const id = jobs.runJob({ target_path: file, output_path: output, processors: ['face_blur'], ...(Object.keys(parameters).length ? { parameters } : {}) });
  const info = await jobs.waitForJob(id);
  const ms = performance.now() - t0;
  if (info.state !== 'completed') return { error: `${info.state}: ${info.error?.code} ${info.error?.message}`, ms, covered: 0, total: faces.length, bins: {}, changedPixels: 0 };
  const after = await readFrame(output);
  fs.rmSync(output, { force: true });
  return { ...pm.coveredBySize(frame, after, faces), ms, noFace: info.result.framesNoFace, privacy: info.result.privacy };
}

async function pictures(rt, jobs, fx) {
  const res = {};
  console.log('\n— pictures: faces covered (≥ half of the box changed); face-free pictures: pixels changed');
  for (const [key, p] of [
    ['crowd3000', fx.crowd],
    ['crowd6000', fx.crowd6000],
  ]) {
    const frame = await readFrame(p.file);
    const job = await blurJob(jobs, p.file, frame, p.faces);
    const token = await blurToken(rt, frame, p.faces);
    res[key] = { size: `${p.width}x${p.height}`, faces: p.faces.length, job: strip(job), token: strip(token) };
    for (const [path_, r] of [
      ['job', job],
      ['token', token],
    ]) {
      console.log(`  ${p.width}x${p.height} ${path_.padEnd(5)} covered ${r.covered}/${r.total}${r.error ? ` · ${r.error}` : ''}${r.noFace ? ' · noFace 1' : ''} · ${(r.ms / 1000).toFixed(1)} s`);
      if (r.covered < r.total) console.log(`      by size: ${fmtBins(r.bins)}`);
    }
  }
  for (const [key, p] of [
    ['faceFree3000', fx.faceFree],
    ['faceFree6000', fx.faceFree6000],
  ]) {
    const frame = await readFrame(p.file);
    const job = await blurJob(jobs, p.file, frame, []);
    const token = await blurToken(rt, frame, []);
    res[key] = { size: `${p.width}x${p.height}`, job: { changedPixels: job.changedPixels, error: job.error }, token: { changedPixels: token.changedPixels, found: token.found, error: token.error } };
    console.log(
      `  face-free ${p.width}x${p.height}: changed pixels job ${job.changedPixels}${job.error ? ` (${job.error})` : ''}, token ${token.changedPixels}${token.error ? ` (${token.error})` : ''}${token.found ? ` · ${token.found} boxes found` : ''}`,
    );
  }
  return res;
}

function strip(r) {
  const { missed, ...rest } = r;
  return { ...rest, missedSizes: (missed ?? []).map((f) => f.size) };
}

async function sweep(rt) {
  const kit = await pf.loadKit();
  const frames = [
    [1280, 720],
    [1920, 1080],
    [3000, 2000],
  ];
  const positions = QUICK ? 2 : 4;
  const res = {};
  console.log(`\n— no blind band: one face per picture, 16 px → 0.9 × frame height (× 1.25), ${positions} places each; covered places per size`);
  for (const [w, h] of frames) {
    const rows = {};
    const t0 = performance.now();
    let errors = 0;
    for (const s of pf.sweepScenes({ width: w, height: h, positions })) {
      const r = await pf.renderScene(s.scene, 1, kit);
      const c = await blurToken(rt, r.frame, r.faces);
      if (c.error) errors++;
      const row = (rows[s.size] ??= { covered: 0, total: 0, missed: [] });
      row.total++;
      if (c.covered === 1) row.covered++;
      else row.missed.push(s.position);
    }
    const sizes = Object.keys(rows)
      .map(Number)
      .sort((a, b) => a - b);
    // The smallest size from which every larger size was covered at every place.
    let from = null;
    for (let i = sizes.length - 1; i >= 0 && rows[sizes[i]].covered === rows[sizes[i]].total; i--) from = sizes[i];
    const missedSizes = sizes.filter((s) => rows[s].covered < rows[s].total && s >= 20);
    res[`${w}x${h}`] = { rows, coveredFromPx: from, blindSizesFrom20: missedSizes, ms: Math.round(performance.now() - t0), errors };
    console.log(`  ${`${w}x${h}`.padEnd(9)} ${sizes.map((s) => `${s}:${rows[s].covered}/${rows[s].total}`).join(' ')}`);
    console.log(
      `            every place covered from ${from ?? '–'} px up · sizes ≥ 20 px with a miss: ${missedSizes.join(', ') || 'none'}${errors ? ` · ${errors} errors` : ''} · ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
  }
  return res;
}

async function fileJobs(rt, jobs, fx, ffmpeg) {
  const clip = QUICK ? fx.pan720short : fx.pan720;
  const frames = clip.truth.frames.length;
  const res = { clip: `${clip.truth.width}x${clip.truth.height} × ${frames} frames, 25 fps`, crf: CRF, rounds: ROUNDS, sides: {} };
  console.log(`\n— file job: panning crowd ${res.clip}, CRF ${CRF} everywhere, ${ROUNDS} interleaved round(s) · load ${loadLine()}`);
  const sides = [
    { key: 'bare', label: 'bare ffmpeg transcode' },
    { key: 'defaults', label: 'blur job, defaults', parameters: {} },
    { key: 'tilingOff', label: 'detect_tiling off', parameters: { detect_tiling: 'off' } },
    { key: 'scan0', label: 'detect_scan_interval 0', parameters: { detect_scan_interval: 0 }, needsNew: true },
    { key: 'scan0.1', label: 'detect_scan_interval 0.1', parameters: { detect_scan_interval: 0.1 }, needsNew: true },
    { key: 'scan0.4', label: 'detect_scan_interval 0.4', parameters: { detect_scan_interval: 0.4 }, needsNew: true },
    { key: 'minFace32', label: 'detect_min_face 32', parameters: { detect_min_face: 32 }, needsNew: true },
  ];
  let supportsNew;
  const data = {};
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`  round ${round + 1}/${ROUNDS} · load ${loadLine()}`);
    for (const side of sides) {
      if (side.needsNew && supportsNew === false) continue;
      const file = out(`${side.key}.mp4`);
      let wallSec, info;
      if (side.key === 'bare') wallSec = await bareTranscode(clip.file, file, CRF);
      else ({ wallSec, info } = await timedJob(jobs, { target_path: clip.file, output_path: file, processors: ['face_blur'], keep_audio: false, crf: CRF, parameters: side.parameters }));
      if (side.key === 'defaults' && supportsNew === undefined) supportsNew = Boolean(info.result.privacy);
      const v = await pm.visibleFaces(ffmpeg, file, clip.truth, clip.detail, { sequential: true });
      if (v.framesOut !== frames) throw new Error(`${side.label} wrote ${v.framesOut} frames, expected ${frames}`);
      fs.rmSync(file, { force: true });
      const d = (data[side.key] ??= { label: side.label, parameters: side.parameters, fps: [], visibleFrames: [], visibleFaceFrames: [], last: undefined });
      d.fps.push(frames / wallSec);
      d.visibleFrames.push(v.framesWithVisibleFace);
      d.visibleFaceFrames.push(v.visibleFaceFrames);
      d.last = {
        faceFrames: v.faceFrames,
        framesOut: v.framesOut,
        visibleAtEdge: v.visibleAtEdge,
        framesCodeMismatch: v.framesCodeMismatch ?? 0,
        bySize: v.bySize,
        detailRatio: v.detailRatio,
        visibleFrameIndexes: v.visibleFrameIndexes,
        privacy: info?.result.privacy,
        framesNoFace: info?.result.framesNoFace,
      };
      const ratio = side.key === 'bare' ? '' : ` · ${r3(frames / wallSec / data.bare.fps[round])}× bare`;
      console.log(
        `    ${side.label.padEnd(26)} ${(frames / wallSec).toFixed(1).padStart(6)} frames/s${ratio} · frames with a visible face ${v.framesWithVisibleFace}/${v.framesOut} · visible face-frames ${v.visibleFaceFrames}/${v.faceFrames}, ${v.visibleAtEdge} of them at the frame's edge (detail ratio p50 ${v.detailRatio.p50}, p95 ${v.detailRatio.p95})`,
      );
    }
  }
  if (supportsNew === false) res.note = 'detect_scan_interval / detect_min_face not in this build (the job result has no privacy summary): those rows skipped';
  for (const [k, d] of Object.entries(data)) {
    res.sides[k] = {
      label: d.label,
      parameters: d.parameters,
      framesPerSecond: summary(d.fps),
      ...(k === 'bare' ? {} : { overBare: r3(summary(d.fps.map((f, i) => (f / data.bare.fps[i]) * 1000)).median / 1000) }),
      framesWithVisibleFace: Math.max(...d.visibleFrames),
      visibleFaceFrames: Math.max(...d.visibleFaceFrames),
      ...d.last,
    };
  }
  return res;
}

/**
 * One live run: the clip from an RTSP camera stand-in → blur job → MP4 for `seconds`, then the
 * job's stop (cancel: a live job closes its output properly). Delay as in live-camera.js, through
 * a wrapper on runtime.process (n/a if a build stops going through it).
 */
async function liveRun(name, clip, { seconds, parameters = {}, ffmpeg, rate = LIVE_RATE }) {
  const camera = await startRtspCamera(await looped(clip, seconds + 40));
  const rt = createRuntime({ sweepIntervalMs: 0, frameBudgetBytes: 256 * 1024 * 1024 });
  const jobs = new JobManager(rt, { progressIntervalMs: 500 });
  const arrivals = [],
    leaves = [];
  const original = rt.process.bind(rt);
  rt.process = async (stage, token, options) => {
    if (stage === 'detect' && token.target.pts !== undefined) arrivals.push(performance.now() / 1000 - token.target.pts);
    const o = await original(stage, token, options);
    if (stage === 'blur' && token.target.pts !== undefined) leaves.push({ pts: token.target.pts, at: performance.now() / 1000 });
    return o;
  };
  const file = out(`live-${name}.mp4`);
  const cpu0 = process.cpuUsage();
  try {
    const id = jobs.runJob({ target_path: camera.url, output_path: file, processors: ['face_blur'], ...rate, keep_audio: false, ...(Object.keys(parameters).length ? { parameters } : {}) });
    const t0 = performance.now();
    while ((performance.now() - t0) / 1000 < seconds) {
      await new Promise((r) => setTimeout(r, 250));
      const info = jobs.getJob(id);
      if (!info || info.state !== 'running') break;
    }
    const info = await jobs.cancelJob(id);
    const cpu = process.cpuUsage(cpu0);
    if (info.state !== 'completed') throw new Error(`${name}: job ${info.state}: ${info.error?.code} ${info.error?.message}`);
    const r = info.result;
    const camT0 = Math.min(...arrivals);
    const delays = leaves.map((l) => l.at - camT0 - l.pts).sort((a, b) => a - b);
    const valid = countFrames(ffmpeg, file);
    const v = valid.frames ? await pm.visibleFaces(ffmpeg, file, clip.truth, clip.detail) : undefined;
    const res = {
      parameters,
      seconds,
      framesRead: r.framesRead,
      framesProcessed: r.framesProcessed,
      framesDropped: r.framesDropped,
      framesWritten: r.framesWritten,
      framesLate: r.framesLate,
      stopped: r.stopped,
      processedPercent: r2((100 * r.framesProcessed) / Math.max(1, r.framesRead)),
      processingFps: r2(r.processingFps),
      delaySec: delays.length ? { p50: r2(pct(delays, 0.5)), p95: r2(pct(delays, 0.95)), max: r2(delays[delays.length - 1]) } : null,
      file: { valid: Boolean(valid.frames) && !valid.error, frames: valid.frames, error: valid.error || undefined, bytes: valid.frames ? fs.statSync(file).size : 0 },
      preset: r.live?.preset,
      output: v && {
        framesOut: v.framesOut,
        framesProcessed: v.framesProcessed,
        framesRepeated: v.framesRepeated,
        framesUnreadable: v.framesUnreadable,
        framesWithVisibleFace: v.framesWithVisibleFace,
        visibleFaceFrames: v.visibleFaceFrames,
        visibleAtEdge: v.visibleAtEdge,
        faceFrames: v.faceFrames,
        repeatsWithVisibleFace: v.repeatsWithVisibleFace,
        bySize: v.bySize,
      },
      cpuMsPerProcessedFrame: r2((cpu.user + cpu.system) / 1000 / Math.max(1, r.framesProcessed)),
      privacy: r.privacy,
    };
    console.log(
      `    ${name.padEnd(22)} read ${r.framesRead}, processed ${r.framesProcessed} (${res.processedPercent} %), written ${r.framesWritten} · delay p50 ${res.delaySec?.p50 ?? 'n/a'} / p95 ${res.delaySec?.p95 ?? 'n/a'} s · tiles every ≤ ${r.privacy?.scanIntervalMaxSec ?? 'n/a'} s (${r.privacy?.framesStretchedScan ?? 0} frames stretched)` +
        ` · file ${res.file.valid ? `valid, ${valid.frames} frames, ${r2(res.file.bytes / 1e6)} MB (${res.preset})` : `INVALID (${valid.error})`}${v ? ` · frames with a visible face ${v.framesWithVisibleFace}/${v.framesProcessed} processed (+${v.repeatsWithVisibleFace} repeats) · visible face-frames ${v.visibleFaceFrames}/${v.faceFrames}` : ''}`,
    );
    return res;
  } finally {
    await jobs.close();
    await rt.close();
    await camera.stop();
    fs.rmSync(file, { force: true });
  }
}

/** The CLI on the 720p camera, stopped by SIGINT (Ctrl-C) after `seconds`: exit code, file, visible faces. */
async function cliCtrlC(clip, { seconds, ffmpeg }) {
  const camera = await startRtspCamera(await looped(clip, seconds + 40));
  const file = out('live-cli.mp4');
  try {
    const child = spawn(
      process.execPath,
      [path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js'), 'run', '--target', camera.url, '--output', file, '--processors', 'face_blur', '--crf', String(CRF), '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    child.kill('SIGINT');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 30000);
    const exit = await exited;
    clearTimeout(timeout);
    let summaryJson;
    try {
      summaryJson = JSON.parse(stdout.trim().split('\n').pop());
    } catch {
      /* reported below */
    }
    const valid = fs.existsSync(file) ? countFrames(ffmpeg, file) : { frames: null, error: 'no file' };
    const v = valid.frames ? await pm.visibleFaces(ffmpeg, file, clip.truth, clip.detail) : undefined;
    const res = {
      exitCode: exit.code,
      signal: exit.signal,
      file: { valid: Boolean(valid.frames) && !valid.error, frames: valid.frames, error: valid.error || undefined },
      summary: summaryJson,
      ...(summaryJson ? {} : { stderr: stderr.slice(-500) }),
      output: v && { framesOut: v.framesOut, framesProcessed: v.framesProcessed, framesWithVisibleFace: v.framesWithVisibleFace, visibleFaceFrames: v.visibleFaceFrames, faceFrames: v.faceFrames },
    };
    console.log(
      `    CLI, Ctrl-C after ${seconds} s      exit ${exit.code ?? exit.signal} · file ${res.file.valid ? `valid, ${valid.frames} frames` : `INVALID (${valid.error})`}${summaryJson ? ` · read ${summaryJson.read}, written ${summaryJson.written}, dropped ${summaryJson.dropped}` : ''}${v ? ` · frames with a visible face ${v.framesWithVisibleFace}/${v.framesProcessed} processed` : ''}`,
    );
    return res;
  } finally {
    await camera.stop();
    fs.rmSync(file, { force: true });
  }
}

async function live(fx, ffmpeg) {
  const missing = rtspMissing();
  if (missing) {
    console.log(`\n— live: skipped (${missing})`);
    return { skipped: missing };
  }
  console.log(`\n— live: 25 fps RTSP camera stand-in (H.264 sent as it is) → blur job → MP4, ${LIVE_SECONDS} s each, then stopped · load ${loadLine()}`);
  const res = {};
  const cases = [];
  if (LIVE_CASES.includes('defaults')) cases.push(['720p defaults', fx.pan720, {}], ['1080p defaults', fx.pan1080, {}]);
  if (!QUICK && LIVE_CASES.includes('off')) cases.push(['720p tiling off', fx.pan720, { detect_tiling: 'off' }], ['1080p tiling off', fx.pan1080, { detect_tiling: 'off' }]);
  for (const [name, clip, parameters] of cases) res[name] = await liveRun(name, clip, { seconds: LIVE_SECONDS, parameters, ffmpeg });
  // The encoder's share at 1080p: the default quality against CRF 23 and CRF 10, interleaved rounds.
  if (LIVE_CASES.includes('crf'))
    for (let round = 0; round < ROUNDS; round++)
      for (const [key, rate] of [
        ['default quality', {}],
        ['CRF 23', { crf: 23 }],
        ['CRF 10', { crf: 10 }],
      ])
        res[`1080p ${key} #${round + 1}`] = await liveRun(`1080p ${key}`, fx.pan1080, { seconds: LIVE_SECONDS, ffmpeg, rate });
  // The encoder's preset at 1080p: the live default (ultrafast at this pixel rate on 2 cores) against veryfast, interleaved rounds.
  if (LIVE_CASES.includes('preset'))
    for (let round = 0; round < ROUNDS; round++)
      for (const [key, rate] of [
        ['default preset', LIVE_RATE],
        ['veryfast', { ...LIVE_RATE, preset: 'veryfast' }],
      ])
        res[`1080p ${key} #${round + 1}`] = await liveRun(`1080p ${key}`, fx.pan1080, { seconds: LIVE_SECONDS, ffmpeg, rate });
  if (LIVE_CASES.includes('ctrl-c')) res['720p CLI Ctrl-C'] = await cliCtrlC(fx.pan720, { seconds: QUICK ? 8 : 12, ffmpeg });
  return res;
}

async function cctv(rt, jobs, fx, ffmpeg) {
  console.log('\n— CCTV-like 1920 × 1080, 48 faces of 8–32 px (6 per size)');
  const p = fx.cctvPicture;
  const frame = await readFrame(p.file);
  const token = await blurToken(rt, frame, p.faces);
  console.log(`  picture (token)  covered ${token.covered}/${token.total} · ${fmtBins(token.bins)}`);
  const file = out('cctv.mp4');
  const { wallSec, info } = await timedJob(jobs, { target_path: fx.cctv.file, output_path: file, processors: ['face_blur'], keep_audio: false, crf: CRF });
  const v = await pm.visibleFaces(ffmpeg, file, fx.cctv.truth, fx.cctv.detail, { sequential: true });
  fs.rmSync(file, { force: true });
  const hidden = Object.fromEntries(Object.entries(v.bySize).map(([k, s]) => [k, { covered: s.faceFrames - s.visible, total: s.faceFrames }]));
  console.log(
    `  clip (job, ${fx.cctv.truth.frames.length} frames, ${(fx.cctv.truth.frames.length / wallSec).toFixed(1)} frames/s)  hidden face-frames by size: ${fmtBins(hidden)} · frames with a visible face ${v.framesWithVisibleFace}/${v.framesOut}`,
  );
  return {
    picture: strip(token),
    clip: { framesPerSecond: r2(fx.cctv.truth.frames.length / wallSec), framesWithVisibleFace: v.framesWithVisibleFace, hiddenBySize: hidden, privacy: info.result.privacy },
  };
}

(async () => {
  console.log(`machine: ${machine()} · load ${loadLine()} · ${QUICK ? 'quick' : FULL ? 'full' : 'normal'} run`);
  const ffmpeg = await ffmpegPath();
  const t0 = performance.now();
  const fx = await privacyFixtures({ quick: QUICK });
  console.log(`fixtures in ${fx.cache} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const rt = createRuntime({ sweepIntervalMs: 0 });
  const jobs = new JobManager(rt, { maxConcurrent: 1, progressIntervalMs: 0 });
  const results = { quick: QUICK, crf: CRF, loadAtStart: loadLine() };
  try {
    if (section('pictures')) results.pictures = await pictures(rt, jobs, fx);
    if (section('sweep')) results.sweep = await sweep(rt);
    if (section('file')) results.file = await fileJobs(rt, jobs, fx, ffmpeg);
    if (section('cctv')) results.cctv = await cctv(rt, jobs, fx, ffmpeg);
  } finally {
    await jobs.close();
    await rt.close();
  }
  if (section('live')) results.live = await live(fx, ffmpeg);
  results.loadAtEnd = loadLine();
  saveResults('privacyCamera', results);
  printTable(results);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

function printTable(r) {
  const rows = [];
  const p = r.pictures;
  if (p) {
    for (const k of ['crowd3000', 'crowd6000'])
      if (p[k])
        rows.push([
          `picture ${p[k].size}, ${p[k].faces} faces`,
          `job ${p[k].job.covered}/${p[k].faces}${p[k].job.error ? ' (error)' : ''} · token ${p[k].token.covered}/${p[k].faces}${p[k].token.error ? ' (error)' : ''}`,
          'target: all covered',
        ]);
    for (const k of ['faceFree3000', 'faceFree6000']) if (p[k]) rows.push([`face-free ${p[k].size}`, `changed pixels job ${p[k].job.changedPixels} · token ${p[k].token.changedPixels}`, 'target: 0']);
  }
  if (r.sweep)
    for (const [k, s] of Object.entries(r.sweep))
      rows.push([`no blind band ${k}`, `covered from ${s.coveredFromPx ?? '–'} px`, `sizes ≥ 20 px with a miss: ${s.blindSizesFrom20.join(', ') || 'none'}`]);
  if (r.file) {
    for (const [k, s] of Object.entries(r.file.sides))
      rows.push([
        `file 720p crowd: ${s.label}`,
        `${s.framesPerSecond.median} frames/s${s.overBare !== undefined ? ` · ${s.overBare}× bare` : ''}`,
        `frames with a visible face ${s.framesWithVisibleFace}/${s.framesOut}${k === 'defaults' ? ' (target 0 at ≥ 0.35× bare)' : ''}`,
      ]);
  }
  if (r.cctv) rows.push(['CCTV 1080p, 8–32 px faces', `picture: ${fmtBins(r.cctv.picture.bins)}`, '']);
  if (r.live && !r.live.skipped) {
    for (const [k, s] of Object.entries(r.live)) {
      if (k.includes('CLI'))
        rows.push([
          `live ${k}`,
          `exit ${s.exitCode} · file ${s.file.valid ? 'valid' : 'INVALID'}`,
          s.output ? `frames with a visible face ${s.output.framesWithVisibleFace}/${s.output.framesProcessed}` : '',
        ]);
      else
        rows.push([
          `live ${k}`,
          `${s.processedPercent} % processed · p95 delay ${s.delaySec?.p95 ?? 'n/a'} s`,
          `visible-face frames ${s.output?.framesWithVisibleFace ?? '?'}/${s.output?.framesProcessed ?? '?'} processed · file ${s.file.valid ? 'valid' : 'INVALID'}`,
        ]);
    }
  }
  const w = [0, 1].map((i) => Math.max(...rows.map((x) => x[i].length)));
  console.log(`\n=== privacy at camera speed · ${machine()} · load at start ${r.loadAtStart}, at end ${r.loadAtEnd}`);
  for (const x of rows) console.log(`  ${x[0].padEnd(w[0])}  ${x[1].padEnd(w[1])}  ${x[2]}`);
}
