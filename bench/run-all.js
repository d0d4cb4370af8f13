'use strict';
// `npm run bench`: every bench case in turn (each a separate process, so one case's memory and
// threads do not colour the next), then one summary table from bench/results.json.
// Usage: npm run bench            quick mode (~23 min on 2 cores, with privacy-recall.js and privacy-camera.js)
//        npm run bench -- --full  full mode (more rounds, 720p memory and concurrency, forced-GC run; ~45 min, estimated)
//        node bench/run-all.js --summary   the table again from bench/results.json
const path = require('path');
const fs = require('fs');
const { spawnSync } = require('child_process');
const { machine } = require('./lib');

const FULL = process.argv.includes('--full') || process.env.BENCH_FULL === '1';
const CASES = [
  ['stages.js', FULL ? ['20'] : ['10']],
  ['blur-region.js', FULL ? ['20'] : ['10']],
  ['session-reuse.js', FULL ? ['15'] : ['10']],
  ['flow-overhead.js', FULL ? ['20'] : ['10']],
  ['video-throughput.js', FULL ? ['5'] : ['2']],
  ['memory.js', []],
  ['concurrency.js', []],
  ['match-similarity.js', []],
  ['hostile.js', FULL ? ['5'] : ['3']],
  ['privacy-recall.js', FULL ? ['20'] : ['10']],
  // Pictures, no-blind-band sweep, the 720p crowd file job and the live RTSP camera
  // (live skips itself without the RTSP stand-in). Fixtures cached in the OS temp dir.
  ['privacy-camera.js', FULL ? ['--full'] : []],
  // Skips itself (exit 0) without the RTSP/RTMP servers; the 10-minute soak is separate: --soak 10.
  ['live-camera.js', FULL ? ['30'] : ['10']],
  ['pack.js', FULL ? ['20'] : ['10']],
  ['downgrade.js', FULL ? ['300'] : ['150']],
  ['scale-out.js', FULL ? ['12'] : ['6']],
  ['swap-harm.js', []],
  ['face-library.js', []],
];

// --summary: only print the table from the results already written.
const SUMMARY_ONLY = process.argv.includes('--summary');
const file = path.join(__dirname, 'results.json');
if (!SUMMARY_ONLY) fs.rmSync(file, { force: true });
const env = { ...process.env, ...(FULL ? { BENCH_FULL: '1' } : {}) };
let failed = 0;
for (const [script, args] of SUMMARY_ONLY ? [] : CASES) {
  console.log(`\n=== ${script} ${args.join(' ')}${FULL ? ' (full)' : ''}`);
  const r = spawnSync(process.execPath, [path.join(__dirname, script), ...args], { stdio: 'inherit', env });
  if (r.status !== 0) {
    failed++;
    console.log(`!!! ${script} exited with ${r.status ?? r.signal}`);
  }
}

const all = JSON.parse(fs.readFileSync(file, 'utf8'));
const rows = [];
const mmm = (s, unit = '') => (s ? `${s.min} / ${s.median} / ${s.max}${unit}` : 'n/a');
const st = all.stages;
if (st) {
  for (const img of Object.keys(st)) {
    if (typeof st[img] !== 'object' || !st[img].warm) continue;
    for (const [stage, w] of Object.entries(st[img].warm)) rows.push([`stage ${stage} · ${img}`, `${mmm(w)} ms`, `first ${st[img].first[stage].toFixed(1)} ms`]);
  }
}
const sr = all.session_reuse;
if (sr) rows.push(['session reuse: shared / per-frame', `${mmm(sr.shared)} | ${mmm(sr.perFrame ?? sr.per_frame)} ms`, `reuse ${sr.ratio}× faster (median)`]);
const fo = all.flow_overhead;
if (fo) rows.push(['flow overhead (target ≤ 5 %)', `direct ${mmm(fo.direct)} | flow ${mmm(fo.flow)} ms`, `${fo.overheadPercent} % · first ${fo.firstOverWarm}× warm (≤ 2×)`]);
const br = all.blurRegion;
if (br) {
  for (const [k, v] of Object.entries(br.results))
    rows.push([`blur two 720p faces, ${k.replace('sigma', 'σ=')}`, `full ${mmm(v.fullResolutionMs)} | coarse ${mmm(v.coarseGridMs)} ms`, `mean diff ${v.meanDifference}, worst ${v.worstDifference}`]);
}
const vt = all.videoThroughput;
if (vt) {
  const f = vt.framesPerSecond,
    r = vt.ratios,
    c = vt.cpuMsPerFrame ?? {};
  const cpu = (k) => (c[k] ? (c[k].ffmpeg ? `CPU ${c[k].ffmpeg.median} ms/frame` : `CPU ms/frame node ${c[k].node.median} · dec ${c[k].decoder?.median} · enc ${c[k].encoder?.median}`) : '');
  rows.push([`video ${vt.clip.width}x${vt.clip.height}×${vt.clip.frames} ${vt.encoder}: bare ffmpeg`, `${mmm(f.bare)} frames/s`, cpu('bare')]);
  const sides = [
    ['blur', 'blur job, tiling off', 'b/a', ' (target ≥ 0.55)'],
    ['blurTiled', 'blur job, tiling auto', 'b-tiled/a', ''],
    ['swap', 'swap job, tiling off', 'c/a', ' (target ≥ 0.35)'],
    ['swapTiled', 'swap job, tiling auto', 'c-tiled/a', ''],
    ['blurWorker', 'blur job + 1 pixel worker', 'b-w/a', ''],
    ['swapMain', 'swap job, no pixel worker', 'c-0/a', ''],
  ];
  for (const [k, label, ratio, target] of sides) if (f[k]) rows.push([`video: ${label}`, `${mmm(f[k])} frames/s · ${ratio} ${mmm(r[`${k}OverBare`])}${target}`, cpu(k)]);
}
for (const key of ['memory', 'memoryForcedGc']) {
  const m = all[key];
  if (!m) continue;
  rows.push([
    `memory ${m.clip.width}x${m.clip.height}×${m.frames} blur${m.forcedGc ? ' (forced GC)' : ''}`,
    `RSS ${m.rssMB.atFrame300} → ${m.rssMB.atEnd} MB: growth ${m.rssGrowthFrame300ToEndMB} MB (< 50)`,
    `store peak ${m.store.peakMB} / budget ${m.store.budgetMB} MB: ${m.storeNeverAboveBudget ? 'never above' : 'ABOVE BUDGET'}`,
  ]);
}
const cc = all.concurrency;
if (cc) {
  for (const n of [1, 2, 4]) {
    const c = cc[`jobs${n}`];
    if (c) rows.push([`concurrency ${n} job(s), ${cc.clip.width}x${cc.clip.height}×${cc.clip.frames}`, `${mmm(c.totalFramesPerSecond)} frames/s total`, `latency ${mmm(c.perJobLatencyMs)} ms`]);
  }
}
const ho = all.hostile;
if (ho) {
  for (const stage of ['enhance', 'blur']) {
    const f = ho.faceBoxes[stage];
    rows.push([`hostile: ${stage} 256 boxes on 2000², worker`, `${mmm(f.workerMs)} ms`, `event loop blocked ${mmm(f.workerBlockMs)} ms (≤ 100); frame-sized boxes refused in ${mmm(f.refuseMs)} ms`]);
  }
  const b = ho.bombs;
  rows.push([
    'hostile: 8 × 8000² WebP at once (512 MiB)',
    `${b.refused} refused ${b.codes.join(', ')} by ${mmm(b.lastRefusalMs)} ms`,
    `store peak ${mmm(b.storePeakMB)} / ${b.budgetMB} MB · RSS ${mmm(b.rssMaxMB)} MB (< 1024)`,
  ]);
}
const pv = all.privacy;
if (pv) {
  for (const [name, r] of Object.entries(pv.recall)) {
    rows.push([
      `privacy recall ${name}`,
      `native ${r.privacyDefaults.native}/${r.total} · mosaic ${r.privacyDefaults.mosaic}/${r.total}`,
      `before (0.6, no tiling): mosaic ${r.before.mosaic}/${r.total} · face-free boxes ${r.faceFreeBoxes.crops} + ${r.faceFreeBoxes.repeated1500x1000}`,
    ]);
  }
  for (const [label, l] of Object.entries(pv.leaks)) rows.push([`privacy leaks, 7 degraded frames, ${label}`, `${l.leaked} leaked frames`, `${l.held} held`]);
  for (const size of ['720p', '1080p']) {
    const c = pv.cost[size];
    if (!c) continue;
    for (const [name, v] of Object.entries(c)) {
      if (name === 'hold') rows.push([`privacy ${size} hold`, `tracker ${v.trackerUpdateMicroseconds} µs/frame`, `blur stage ${v.blurMs.off.median} → ${v.blurMs.on.median} ms`]);
      else rows.push([`privacy ${size} detect ${name}`, `whole ${v.off.ms.median} ms | tiled ${v.auto.ms.median} ms`, v.auto.note.split(' · ').pop()]);
    }
  }
  if (pv.videoBlurJob720pFps)
    rows.push([
      'privacy 720p blur job',
      Object.entries(pv.videoBlurJob720pFps)
        .map(([k, v]) => `${k}: ${v}`)
        .join(' | ') + ' frames/s',
      '',
    ]);
}
const pc = all.privacyCamera;
if (pc) {
  const p = pc.pictures;
  if (p) {
    for (const k of ['crowd3000', 'crowd6000'])
      if (p[k])
        rows.push([
          `privacy picture ${p[k].size}, ${p[k].faces} faces`,
          `covered: job ${p[k].job.covered} · token ${p[k].token.covered}`,
          `target ${p[k].faces}${p[k].job.error || p[k].token.error ? ` · error: ${p[k].job.error ?? p[k].token.error}`.slice(0, 90) : ''}`,
        ]);
    for (const k of ['faceFree3000', 'faceFree6000'])
      if (p[k]) rows.push([`privacy face-free ${p[k].size}`, `changed pixels: job ${p[k].job.changedPixels} · token ${p[k].token.changedPixels}`, 'target 0']);
  }
  for (const [k, s] of Object.entries(pc.sweep ?? {}))
    rows.push([`privacy no blind band ${k}`, `every place covered from ${s.coveredFromPx ?? '–'} px`, `sizes ≥ 20 px with a miss: ${s.blindSizesFrom20.join(', ') || 'none'}`]);
  const bare = pc.file?.sides?.bare;
  for (const [k, s] of Object.entries(pc.file?.sides ?? {})) {
    if (k === 'bare') continue;
    rows.push([
      `privacy 720p crowd file job, ${s.label}`,
      `${s.framesPerSecond.median} frames/s · ${s.overBare}× bare (${bare.framesPerSecond.median})`,
      `frames with a visible face ${s.framesWithVisibleFace}/${s.framesOut}${k === 'defaults' ? ' (target 0 at ≥ 0.35×)' : ''}`,
    ]);
  }
  for (const [k, s] of Object.entries(pc.live && !pc.live.skipped ? pc.live : {})) {
    if (k.includes('CLI')) rows.push([`privacy live ${k}`, `exit ${s.exitCode} · file ${s.file.valid ? 'valid' : 'INVALID'}`, '']);
    else
      rows.push([
        `privacy live ${k}`,
        `${s.processedPercent} % processed · delay p95 ${s.delaySec?.p95 ?? 'n/a'} s`,
        `frames with a visible face ${s.output?.framesWithVisibleFace ?? '?'}/${s.output?.framesProcessed ?? '?'} processed · file ${s.file.valid ? 'valid' : 'INVALID'}`,
      ]);
  }
  if (pc.cctv)
    rows.push([
      'privacy CCTV 1080p picture, 8–32 px faces',
      Object.entries(pc.cctv.picture.bins)
        .map(([b, v]) => `${b}: ${v.covered}/${v.total}`)
        .join(' · '),
      '',
    ]);
}
const pk = all.pack;
if (pk) for (const format of ['png', 'jpeg']) rows.push([`face pack 720p ${format}`, `${pk[format].kB} kB per frame`, `pack ${mmm(pk[format].packMs)} ms · unpack ${mmm(pk[format].unpackMs)} ms`]);
const lc = all.liveCamera;
if (lc) {
  for (const key of ['normal', 'normalBlock', 'overload', 'overloadBlock']) {
    const c = [lc[key]].flat()[0];
    if (c)
      rows.push([
        `live ${lc.camera.width}x${lc.camera.height}@${lc.camera.fps} RTSP → blur → RTMP, ${key}`,
        `${c.processingFps} frames/s · delay p50 ${c.delaySec.p50} / p95 ${c.delaySec.p95} s`,
        `source ${c.sourceOverProcessing}× processing · dropped ${c.framesDropped}/${c.framesRead} · CPU ${c.cpuMsPerFrame.node} + ${c.cpuMsPerFrame.ffmpeg} ms/frame`,
      ]);
  }
}
const dg = all.downgrade;
if (dg) {
  const [keep, down, plain] = dg.results;
  rows.push([
    `downgrade ${dg.clip}×${dg.frames}, slow enhancer, 40 ms budget`,
    `keep all ${keep.fps} | downgrade ${down.fps} (after the drop ${down.downgradedFps}) | detect only ${plain.fps} frames/s`,
    `${down.downgraded} frames downgraded · ${down.transitions.join(', ')}`,
  ]);
}
const so = all.scaleOut;
if (so) {
  const p = so.packets;
  rows.push([
    `MQTT packet, ${p.width}x${p.height} frame token`,
    `PNG ${Math.round(p.bytes.png / 1024)} kB | JPEG q90 ${Math.round(p.bytes.jpeg90 / 1024)} kB`,
    `broker in per ${p.fps} fps camera: ${p.brokerInMbitPerCamera.png} | ${p.brokerInMbitPerCamera.jpeg90} Mbit/s`,
  ]);
  if (so.overhead)
    rows.push([
      'Redis queue overhead, picture job',
      `${so.overhead.directMs.median} → ${so.overhead.queueMs.median} ms (+${so.overhead.overheadMs})`,
      `${so.overhead.redisCommandsPerJob} Redis commands per job`,
    ]);
  for (const n of [1, 2]) {
    const w = so[`workers${n}`];
    if (w)
      rows.push([
        `queue: ${n} worker process(es), ${so.clip.width}x${so.clip.height}×${so.clip.frames} blur jobs`,
        `${w.jobsPerMinute} jobs/min`,
        `${w.jobs} jobs in ${w.seconds} s on ${so.cores} cores`,
      ]);
  }
}
const fl = all.face_library;
if (fl) {
  const a = fl.accuracy,
    sp = fl.speed;
  if (a)
    rows.push([
      `face library accuracy, ${a.people} people × augmentations`,
      `TAR ${a.atFar1.tar} % at FAR ≤ 1 % (threshold ${a.atFar1.threshold})`,
      `default ${a.atDefault.threshold}: TAR ${a.atDefault.tar} %, FAR ${a.atDefault.far} %`,
    ]);
  if (sp)
    rows.push([
      `face library: recognise 1 face vs ${sp.enrolled} (target < 5 ms)`,
      `${mmm(sp.recognizeOneMs)} ms`,
      `${sp.recognizeOneCpuMs} ms CPU · plain JS scan ${sp.plainJsScanMs.median} ms · enrol a picture ${mmm(sp.enrolPictureMs)} ms (target < 200)`,
    ]);
}
const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`\n=== summary (min / median / max) · ${machine()} · results in bench/results.json`);
for (const r of rows) console.log(`  ${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2]}`);
if (failed) {
  console.log(`\n${failed} bench case(s) failed`);
  process.exitCode = 1;
}
