'use strict';
// The privacy blur's two paths side by side (issue 6, the before/after of the coarse-grid blur):
// the two faces of a 720p frame (fr_two_people.jpg stretched to 1280×720, boxes as the blur
// stage enlarges them) at several sigmas, blurred at full resolution and on the coarse grid.
// Prints ms per frame (min / median / max over the runs) and how far the two results are apart.
// Then the same two faces blurred on the planes of the yuv420p frame (issue 16, yuv-masks.ts:
// luma at σ, chroma at σ/2 on the quarter-size planes) against the RGB region blur, both with
// their default (coarse grid from σ = 12).
// Usage: node bench/blur-region.js [runs]   (default 10)
const path = require('path');
const sharp = require('sharp');
const { spawnSync } = require('child_process');
const { gaussianBlurRegion, blurRegionInPlace } = require('../dist/runtime/vision/blur');
const { blurYuvRegionInPlace } = require('../dist/runtime/vision/yuv-masks');
const { summary, machine, saveResults, MEDIA } = require('./lib');
const { ffmpegPath } = require('./video-lib');

const RUNS = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 10);
const FACES = [{ x: 250, y: 120, width: 300, height: 360 }, { x: 800, y: 150, width: 290, height: 350 }];

(async () => {
  console.log(`machine: ${machine()}`);
  const { data } = await sharp(path.join(MEDIA, 'fr_two_people.jpg')).resize(1280, 720, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frame = { width: 1280, height: 720, channels: 3, data: new Uint8Array(data) };
  const blurBoth = (sigma, options) => FACES.reduce((f, rect) => gaussianBlurRegion(f, rect, sigma, options), frame);
  const timed = (sigma, options) => {
    blurBoth(sigma, options); // warm
    const ms = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      blurBoth(sigma, options);
      ms.push(performance.now() - t0);
    }
    return summary(ms);
  };
  const results = {};
  console.log(`two 720p faces, ${RUNS} runs (ms per frame, min / median / max) · difference in grey levels`);
  for (const sigma of [12, 20, 45, 80]) {
    const full = timed(sigma, { downscale: false });
    const coarse = timed(sigma, {});
    const a = blurBoth(sigma, { downscale: false }), b = blurBoth(sigma, {});
    let worst = 0, sum = 0, n = 0;
    for (const r of FACES) for (let y = r.y; y < r.y + r.height; y++) for (let i = (y * 1280 + r.x) * 3, end = i + r.width * 3; i < end; i++, n++) {
      const d = Math.abs(a.data[i] - b.data[i]);
      sum += d;
      if (d > worst) worst = d;
    }
    results[`sigma${sigma}`] = { fullResolutionMs: full, coarseGridMs: coarse, meanDifference: Math.round((sum / n) * 1000) / 1000, worstDifference: worst };
    console.log(`  σ=${String(sigma).padEnd(3)} full resolution ${full.min} / ${full.median} / ${full.max} · coarse grid ${coarse.min} / ${coarse.median} / ${coarse.max} · ${(full.median / coarse.median).toFixed(1)}× · mean ${(sum / n).toFixed(2)}, worst ${worst}`);
  }
  // The frame as ffmpeg's yuv420p (what the decoder emits with issue 16).
  const ffmpeg = spawnSync(await ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '1280x720', '-i', '-',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'], { input: frame.data, maxBuffer: 1 << 26 });
  if (ffmpeg.status !== 0) throw new Error(String(ffmpeg.stderr));
  const yuv = { format: 'yuv420p', width: 1280, height: 720, data: new Uint8Array(ffmpeg.stdout) };
  // Like the blur stage: one copy of the frame, every face blurred into it in place.
  const blurRgbOnce = (sigma) => { const f = { ...frame, data: new Uint8Array(frame.data) }; for (const r of FACES) blurRegionInPlace(f, r, sigma); return f; };
  const blurYuvOnce = (sigma) => { const f = { ...yuv, data: new Uint8Array(yuv.data) }; for (const r of FACES) blurYuvRegionInPlace(f, r, sigma); return f; };
  console.log('the same on the yuv420p planes vs RGB (coarse grid from σ = 12 for both; one frame copy + both faces in place,');
  console.log(`as the blur stage does; ms per frame, min / median / max of ${RUNS} runs each, RGB and YUV alternating)`);
  for (const sigma of [12, 20, 45, 80]) {
    blurRgbOnce(sigma); blurYuvOnce(sigma); // warm
    const rgbMs = [], yuvMs = [];
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      blurRgbOnce(sigma);
      rgbMs.push(performance.now() - t0);
      t0 = performance.now();
      blurYuvOnce(sigma);
      yuvMs.push(performance.now() - t0);
    }
    const rgb = summary(rgbMs), planes = summary(yuvMs);
    Object.assign(results[`sigma${sigma}`], { rgbInPlaceMs: rgb, yuvPlanesMs: planes });
    console.log(`  σ=${String(sigma).padEnd(3)} RGB ${rgb.min} / ${rgb.median} / ${rgb.max} · YUV planes ${planes.min} / ${planes.median} / ${planes.max} · ${(rgb.median / planes.median).toFixed(1)}× (min ${(rgb.min / planes.min).toFixed(1)}×)`);
  }
  saveResults('blurRegion', { faces: FACES, runs: RUNS, results });
})().catch((e) => { console.error(e); process.exit(1); });
