'use strict';
// The privacy blur's kernels (src/runtime/vision/blur.ts, yuv-masks.ts), three parts:
// 1. Two 720p faces (fr_two_people.jpg stretched to 1280×720, boxes as the blur stage enlarges
//    them) blurred at several sigmas by the default kernel and by the exact Gaussian at full
//    resolution (the reference): ms per frame and how far the two results are apart.
// 2. The same two faces on the planes of the yuv420p frame against the RGB frame (one frame copy
//    + both faces in place, as the blur stage does).
// 3. Cost against strength and against face count on a 720p and a 1080p yuv420p frame,
//    gaussian and pixelate, with the stage's own σ / block formulas: crowds of 1, 10, 30, 100
//    faces of 40–60 px (720p) / 60–90 px (1080p) at seeded random places (they overlap), each
//    box enlarged by blur_margin 0.2, and 30 faces each with a held box around it. Masked as the
//    stage does: after, overlapping regions in one blur each (vision/blur-groups.ts). "after" is this build with a scratch arena (as the runtime
//    gives the stage); "before" the kernels of BEFORE (default 28b4fe2, the commit before issue
//    23's kernels), read from git and transpiled by bench/blur-before.js, in the same process,
//    rounds interleaved. Prints CPU ms per frame (min / median, process.cpuUsage: on a shared
//    machine wall time mostly measures the neighbours) and ns per masked pixel (the union of the
//    enlarged boxes, in luma pixels; from the minimum, less the frame copy's minimum).
// Usage: node bench/blur-region.js [runs] [--before COMMIT] [--only crowd]   (default 10 runs)
const path = require('path');
const sharp = require('sharp');
const { spawnSync } = require('child_process');
const {
  gaussianBlurRegion,
  blurRegionInPlace,
  blurYuvRegionInPlace,
  blurYuvRegionsInPlace,
  pixelateYuvRegionInPlace,
  Scratch,
  expandBox,
  clipRect,
  blurSigma,
  pixelateBlock,
  blurGroups,
} = require('../dist/runtime/internal');
const { loadKernelsAt } = require('./blur-before');
const { summary, machine, saveResults, MEDIA } = require('./lib');
const { ffmpegPath, loadLine } = require('./video-lib');

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const RUNS = Number(argv.find((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--'))) ?? 10);
const BEFORE = flag('--before') ?? '28b4fe2';
const ONLY = flag('--only');
const FACES = [
  { x: 250, y: 120, width: 300, height: 360 },
  { x: 800, y: 150, width: 290, height: 350 },
];

async function yuvOf(rgb, width, height) {
  const ffmpeg = spawnSync(
    await ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'],
    { input: rgb, maxBuffer: 1 << 27 },
  );
  if (ffmpeg.status !== 0) throw new Error(String(ffmpeg.stderr));
  return { format: 'yuv420p', width, height, data: new Uint8Array(ffmpeg.stdout) };
}

async function rgbPicture(width, height) {
  const { data } = await sharp(path.join(MEDIA, 'fr_two_people.jpg')).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width, height, channels: 3, data: new Uint8Array(data) };
}

/** n face boxes of minSize–maxSize px (height 1.2 × width) at seeded random places, enlarged by 0.2 as the blur stage does. */
function crowd(n, width, height, minSize, maxSize, seed = 7) {
  let s = seed;
  const random = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const rects = [];
  for (let i = 0; i < n; i++) {
    const w = minSize + random() * (maxSize - minSize),
      h = w * 1.2;
    const x = random() * (width - w),
      y = random() * (height - h);
    rects.push(expandBox([x, y, x + w, y + h], 0.2, width, height));
  }
  return rects;
}

function unionArea(rects, width, height) {
  const covered = new Uint8Array(width * height);
  for (const r of rects) for (let y = r.y; y < r.y + r.height; y++) covered.fill(1, y * width + r.x, y * width + r.x + r.width);
  let n = 0;
  for (const v of covered) n += v;
  return n;
}

/**
 * Min / median of `runs` interleaved rounds of each function (warmed once each first), in ms of
 * wall time, or with `cpu` of this process's CPU time (process.cpuUsage): on a shared machine a
 * round that is preempted loses wall time but not CPU time, and a long round is preempted more
 * often than a short one, so CPU time compares rounds of different lengths more fairly.
 */
function interleaved(fns, runs, cpu = true) {
  for (const fn of Object.values(fns)) fn();
  const ms = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [k, fn] of Object.entries(fns)) {
      const t0 = cpu ? process.cpuUsage() : performance.now();
      fn();
      if (cpu) {
        const u = process.cpuUsage(t0);
        ms[k].push((u.user + u.system) / 1000);
      } else ms[k].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, summary(v)]));
}

(async () => {
  console.log(`machine: ${machine()} · load ${loadLine()}`);
  const results = {};
  const frame = await rgbPicture(1280, 720);
  const yuv = await yuvOf(frame.data, 1280, 720);

  if (ONLY !== 'crowd') {
    const blurBoth = (sigma, options) => FACES.reduce((f, rect) => gaussianBlurRegion(f, rect, sigma, options), frame);
    console.log(`\n1. two 720p faces, ${RUNS} interleaved runs (CPU ms per frame, min / median) · difference from the exact Gaussian in grey levels`);
    for (const sigma of [12, 20, 45, 80]) {
      const t = interleaved({ exact: () => blurBoth(sigma, { exact: true }), fast: () => blurBoth(sigma) }, RUNS);
      const a = blurBoth(sigma, { exact: true }),
        b = blurBoth(sigma);
      let worst = 0,
        sum = 0,
        n = 0;
      for (const r of FACES)
        for (let y = r.y; y < r.y + r.height; y++)
          for (let i = (y * 1280 + r.x) * 3, end = i + r.width * 3; i < end; i++, n++) {
            const d = Math.abs(a.data[i] - b.data[i]);
            sum += d;
            if (d > worst) worst = d;
          }
      results[`sigma${sigma}`] = { exactMs: t.exact, defaultMs: t.fast, meanDifference: Math.round((sum / n) * 1000) / 1000, worstDifference: worst };
      console.log(
        `  σ=${String(sigma).padEnd(3)} exact ${t.exact.min} / ${t.exact.median} · default ${t.fast.min} / ${t.fast.median} · ${(t.exact.median / t.fast.median).toFixed(1)}× · mean ${(sum / n).toFixed(2)}, worst ${worst}`,
      );
    }
    // Like the blur stage: one copy of the frame, every face blurred into it in place.
    const scratch = new Scratch();
    const blurRgbOnce = (sigma) => {
      const f = { ...frame, data: new Uint8Array(frame.data) };
      for (const r of FACES) blurRegionInPlace(f, r, sigma, { scratch });
      return f;
    };
    const blurYuvOnce = (sigma) => {
      const f = { ...yuv, data: new Uint8Array(yuv.data) };
      for (const r of FACES) blurYuvRegionInPlace(f, r, sigma, { scratch });
      return f;
    };
    console.log(`\n2. the same on the yuv420p planes vs RGB (one frame copy + both faces in place, as the blur stage does;`);
    console.log(`   CPU ms per frame, min / median of ${RUNS} runs each, RGB and YUV alternating)`);
    for (const sigma of [12, 20, 45, 80]) {
      const t = interleaved({ rgb: () => blurRgbOnce(sigma), yuv: () => blurYuvOnce(sigma) }, RUNS);
      Object.assign(results[`sigma${sigma}`], { rgbInPlaceMs: t.rgb, yuvPlanesMs: t.yuv });
      console.log(
        `  σ=${String(sigma).padEnd(3)} RGB ${t.rgb.min} / ${t.rgb.median} · YUV planes ${t.yuv.min} / ${t.yuv.median} · ${(t.rgb.median / t.yuv.median).toFixed(1)}× (min ${(t.rgb.min / t.yuv.min).toFixed(1)}×)`,
      );
    }
  }

  const before = loadKernelsAt(BEFORE);
  if (!before.blur) console.log(`\n(no "before" kernels: ${before.reason})`);
  const scratch = new Scratch();
  const crowdResults = {};
  console.log(`\n3. crowds on yuv420p frames, stage formulas (σ = size·(0.02 + 0.18·strength), block = size·(0.02 + 0.14·strength)),`);
  console.log(`   one frame copy + every face in place; ${RUNS} interleaved runs; before = kernels at ${BEFORE}, after = this build.`);
  console.log('   CPU ms per frame min / median · ns per masked pixel (from the min, less the frame copy) · after/before (mins)');
  for (const [width, height, minSize, maxSize] of [
    [1280, 720, 40, 60],
    [1920, 1080, 60, 90],
  ]) {
    const picture = width === 1280 ? yuv : await yuvOf((await rgbPicture(width, height)).data, width, height);
    // As the blur stage masks a frame: pixelate face by face; the Gaussian by overlapping groups
    // (after; vision/blur-groups.ts) or face by face (before).
    const run = (kernels, rects, strength, mode) => {
      const f = { ...picture, data: new Uint8Array(picture.data) };
      if (mode === 'pixelate') {
        for (const r of rects) kernels.pixelate(f, r, pixelateBlock(Math.max(r.width, r.height), strength));
      } else if (kernels.blurGroup) {
        const sigmas = rects.map((r) => blurSigma(Math.max(r.width, r.height), strength));
        for (const g of blurGroups(rects, sigmas))
          kernels.blurGroup(
            f,
            g.members.map((k) => rects[k]),
            g.sigma,
          );
      } else {
        for (const r of rects) kernels.blur(f, r, blurSigma(Math.max(r.width, r.height), strength));
      }
    };
    const after = { blurGroup: (f, rs, s) => blurYuvRegionsInPlace(f, rs, s, { scratch }), pixelate: (f, r, b) => pixelateYuvRegionInPlace(f, r, b, scratch) };
    const old = before.yuvMasks && { blur: (f, r, s) => before.yuvMasks.blurYuvRegionInPlace(f, r, s), pixelate: (f, r, b) => before.yuvMasks.pixelateYuvRegionInPlace(f, r, b) };
    const copy = interleaved({ copy: () => new Uint8Array(picture.data) }, RUNS, true).copy;
    console.log(`\n  ${width}×${height}, faces ${minSize}–${maxSize} px (the frame copy alone: ${copy.min} / ${copy.median} ms)`);
    const cases = [
      ...[0.1, 0.3, 0.5, 0.7, 0.9, 1].map((strength) => ({ faces: 30, strength })),
      ...[1, 10, 100].map((faces) => ({ faces, strength: 0.7 })),
      // Every face also held: a second, 20 % larger box around it a few pixels off (what a
      // stream's tracks add for a face seen in other frames).
      { faces: 30, strength: 0.7, held: true },
    ];
    for (const mode of ['gaussian', 'pixelate']) {
      for (const { faces, strength, held } of cases) {
        const seen = crowd(faces, width, height, minSize, maxSize);
        const rects = held ? [...seen, ...seen.map((r) => clipRect({ x: r.x - r.width * 0.1 + 3, y: r.y - r.height * 0.1 + 2, width: r.width * 1.2, height: r.height * 1.2 }, width, height))] : seen;
        const masked = unionArea(rects, width, height);
        const t = interleaved({ ...(old ? { before: () => run(old, rects, strength, mode) } : {}), after: () => run(after, rects, strength, mode) }, RUNS, true);
        const sigmas = rects.map((r) => blurSigma(Math.max(r.width, r.height), strength));
        const ns = (s) => Math.round(((s.min - copy.min) * 1e6) / masked);
        const label = `${mode} ${String(faces).padStart(3)} faces${held ? ' + held' : ''}, strength ${strength.toFixed(1)}${mode === 'gaussian' ? ` (σ ${Math.min(...sigmas).toFixed(1)}–${Math.max(...sigmas).toFixed(1)})` : ''}`;
        const fmt = (s) => `${s.min} / ${s.median} ms · ${ns(s)} ns/px`;
        console.log(
          `    ${label.padEnd(50)} ${t.before ? `before ${fmt(t.before).padEnd(30)} ` : ''}after ${fmt(t.after).padEnd(28)}${t.before ? ` ${(t.after.min / t.before.min).toFixed(2)}×` : ''}`,
        );
        crowdResults[`${width}x${height} ${mode} ${faces} faces${held ? ' + held' : ''} ${strength}`] = { maskedPixels: masked, beforeMs: t.before, afterMs: t.after, copyMs: copy };
      }
    }
  }
  results.crowds = crowdResults;
  saveResults('blurRegion', { faces: FACES, runs: RUNS, before: BEFORE, load: loadLine(), results });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
