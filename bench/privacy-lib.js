'use strict';
// The labelled pictures (dlib imglab XML, test/fixtures/media/labelled/training.xml) and what the
// privacy recall bench and its tests do with them: read the boxes, lay the pictures out as one
// large mosaic, and count a labelled face as covered when the pixels the blur stage changed
// cover at least half of its box. Used by bench/privacy-recall.js and test/privacy-recall.test.js.
const path = require('path');
const { readImageFile, createFrame } = require('../dist/runtime/internal');
// The labels, the face-free crops and the covered-face rule live with the test helpers (the privacy
// fixtures use them too).
const { readLabels, FACE_FREE } = require('../test/helpers/privacy-fixtures');
const { changedMask, coveredFraction, countCovered } = require('../test/helpers/privacy-measure');

const LABELLED = path.join(__dirname, '..', 'test', 'fixtures', 'media', 'labelled');

/** The labelled pictures as frames with their boxes. */
async function labelledPictures(dir = LABELLED) {
  const out = [];
  for (const img of readLabels(dir)) out.push({ ...img, frame: await readImageFile(path.join(dir, img.file)) });
  return out;
}

/**
 * The pictures side by side on a grey canvas of width × height (default 1500 × 1000), in rows,
 * left to right; returns the frame and every labelled box moved to where its picture went.
 */
function mosaic(pictures, width = 1500, height = 1000) {
  const frame = createFrame(width, height);
  frame.data.fill(128);
  const boxes = [];
  let x = 0,
    y = 0,
    rowHeight = 0;
  for (const p of pictures) {
    if (x + p.frame.width > width) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    if (y + p.frame.height > height) throw new Error(`mosaic ${width}×${height} is too small`);
    for (let r = 0; r < p.frame.height; r++) {
      frame.data.set(p.frame.data.subarray(r * p.frame.width * 3, (r + 1) * p.frame.width * 3), ((y + r) * width + x) * 3);
    }
    for (const b of p.boxes) boxes.push([b[0] + x, b[1] + y, b[2] + x, b[3] + y]);
    x += p.frame.width;
    rowHeight = Math.max(rowHeight, p.frame.height);
  }
  return { frame, boxes };
}

/** Fraction of a box covered by the union of `rects` ([x1, y1, x2, y2]), on a pixel grid. */
function boxCoveredByBoxes(box, rects) {
  let hit = 0,
    all = 0;
  for (let y = Math.floor(box[1]); y < Math.ceil(box[3]); y++) {
    for (let x = Math.floor(box[0]); x < Math.ceil(box[2]); x++) {
      all++;
      if (rects.some((r) => x + 0.5 >= r[0] && x + 0.5 < r[2] && y + 0.5 >= r[1] && y + 0.5 < r[3])) hit++;
    }
  }
  return all ? hit / all : 0;
}

/** The face-free crops as frames, plus one 1500×1000 picture of them repeated side by side (so tiling runs on it). */
async function faceFreePictures(media) {
  const { crop } = require('../dist/runtime/internal');
  const out = [];
  for (const c of FACE_FREE) out.push({ what: c.what, frame: crop(await readImageFile(path.join(media, c.file)), c.rect) });
  const big = createFrame(1500, 1000);
  for (let y = 0, row = 0; y < 1000; row++) {
    let h = 0;
    for (let x = 0, i = row; x < 1500; i++) {
      const f = out[i % out.length].frame;
      const w = Math.min(f.width, 1500 - x),
        hh = Math.min(f.height, 1000 - y);
      for (let r = 0; r < hh; r++) big.data.set(f.data.subarray(r * f.width * 3, (r * f.width + w) * 3), ((y + r) * 1500 + x) * 3);
      x += w;
      h = Math.max(h, hh);
    }
    y += h;
  }
  out.push({ what: 'the crops repeated over 1500×1000', frame: big });
  return out;
}

/**
 * Runs detect → blur (the job's default privacy settings unless `parameters` say otherwise) on
 * each labelled picture and on their mosaic; counts the labelled faces the blur covered.
 */
async function blurRecall(runtime, parameters = {}, pictures) {
  const pics = pictures ?? (await labelledPictures());
  const blurOnce = async (frame) => {
    const token = await runtime.run(await runtime.createToken({ target: frame, operations: ['detect', 'blur'], parameters }));
    if (token.state === 'failed') throw new Error(JSON.stringify(token.error));
    const out = runtime.frame(token.target.frame);
    const result = { out, faces: token.faces.length, note: token.journal.find((j) => j.stage === 'detect').note };
    runtime.release(token);
    return result;
  };
  let covered = 0,
    total = 0;
  const missedNative = [];
  for (const p of pics) {
    const { out } = await blurOnce(p.frame);
    const c = countCovered(p.frame, out, p.boxes);
    covered += c.covered;
    total += c.total;
    for (const b of c.missed) missedNative.push({ file: p.file, box: b });
  }
  const m = mosaic(pics);
  const started = performance.now();
  const big = await blurOnce(m.frame);
  const ms = performance.now() - started;
  const mc = countCovered(m.frame, big.out, m.boxes);
  return { native: { covered, total, missed: missedNative }, mosaic: { covered: mc.covered, total: mc.total, missed: mc.missed, boxes: big.faces, ms, note: big.note } };
}

/**
 * A clip for the temporal hold: fr_obama.jpg's face (≈ 110 px) walking right 3 px a frame over a
 * grey background, `frames` frames at 25 fps, 640×360, lossless (FFV1 in .mkv, so the test
 * compares the very pixels). Frames `degraded` carry heavy noise (every pixel ± a Gaussian of
 * σ = `sigma`, fixed seed): a person still sees the face, the detector does not.
 * Returns the path, the face's box in each frame and the degraded indices.
 */
async function makeDegradedClip(dir, { frames = 40, degradedFrom = 15, degradedCount = 7, sigma = 70, width = 640, height = 360 } = {}) {
  const { spawn } = require('child_process');
  const { resizeBilinear, FfmpegLocator } = require('../dist/runtime/internal');
  const ffmpeg = (await new FfmpegLocator().resolve()).path;
  const { crop } = require('../dist/runtime/internal');
  // The head of fr_obama.jpg (its face box there, by the default detector: ≈ x 382–605, y 85–419),
  // cropped with some room and scaled to 180×222, so the face is ≈ 103 × 154 px.
  const head = crop(await readImageFile(path.join(__dirname, '..', 'test', 'fixtures', 'media', 'fr_obama.jpg')), { x: 300, y: 20, width: 390, height: 480 });
  const portrait = resizeBilinear(head, 180, 222);
  const face = [38, 30, 141, 184];
  const file = path.join(dir, 'degraded-face.mkv');
  const child = spawn(ffmpeg, ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', '25', '-i', '-', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', file], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${code}: ${stderr}`)))));
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const boxes = [];
  const degraded = [];
  for (let i = 0; i < frames; i++) {
    const frame = createFrame(width, height);
    frame.data.fill(96);
    const ox = 60 + 3 * i,
      oy = 60;
    for (let y = 0; y < portrait.height; y++) frame.data.set(portrait.data.subarray(y * portrait.width * 3, (y + 1) * portrait.width * 3), ((oy + y) * width + ox) * 3);
    boxes.push([ox + face[0], oy + face[1], ox + face[2], oy + face[3]]);
    if (i >= degradedFrom && i < degradedFrom + degradedCount) {
      degraded.push(i);
      for (let p = 0; p < frame.data.length; p++) frame.data[p] = Math.max(0, Math.min(255, frame.data[p] + sigma * gauss()));
    }
    if (!child.stdin.write(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.length))) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  await done;
  return { file, width, height, frames, boxes, degraded };
}

/**
 * Runs the clip through detect → blur as a live source does (FrameTokenSource: one token per
 * frame, in order, the source's id as job_id) and counts the frames whose face was left
 * unblurred (less than half of its box changed). Returns the leaked indices and the trackers
 * the runtime still holds after the source ended.
 */
async function leakCount(runtime, clip, parameters = {}) {
  const { FrameTokenSource, FfmpegLocator } = require('../dist/runtime/internal');
  const source = new FrameTokenSource({ runtime, locator: new FfmpegLocator(), input: clip.file, operations: ['detect', 'blur'], parameters });
  const leaked = [];
  const held = [];
  let frames = 0;
  let tracksDuring = 0;
  for await (const item of source.tokens()) {
    const before = runtime.frame(item.token.target.frame);
    const out = await runtime.run(item.token);
    if (out.state === 'failed') throw new Error(JSON.stringify(out.error));
    const after = runtime.frame(out.target.frame);
    if (countCovered(before, after, [clip.boxes[item.index]]).covered === 0) leaked.push(item.index);
    if (out.faces.some((f) => f.held !== undefined)) held.push(item.index);
    tracksDuring = Math.max(tracksDuring, runtime.streams.size);
    runtime.release(out);
    frames++;
  }
  return { frames, leaked, held, tracksDuring, tracksAfter: runtime.streams.size };
}

/**
 * Frames of an encoded output of `clip` whose face was left unblurred: the mean luma step between
 * neighbouring pixels in the face's box, out / in, above 0.5 (a blur of σ ≈ 20 px leaves a few per
 * cent; x264 and its 4:2:0 chroma keep most of the luma detail, even of the noisy frames).
 */
async function leakedInOutput(clip, output) {
  const { spawnSync } = require('child_process');
  const { FfmpegLocator } = require('../dist/runtime/internal');
  const ffmpeg = (await new FfmpegLocator().resolve()).path;
  const raw = (file) => spawnSync(ffmpeg, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 28 }).stdout;
  const before = raw(clip.file),
    after = raw(output);
  const size = clip.width * clip.height * 3;
  if (after.length !== before.length) throw new Error(`output has ${after.length / size} frames, the clip ${before.length / size}`);
  const detail = (buf, i) => {
    const [x1, y1, x2, y2] = clip.boxes[i];
    const luma = (x, y) => {
      const p = i * size + (y * clip.width + x) * 3;
      return 0.299 * buf[p] + 0.587 * buf[p + 1] + 0.114 * buf[p + 2];
    };
    let sum = 0,
      n = 0;
    for (let y = y1; y < y2; y++)
      for (let x = x1; x < x2 - 1; x++) {
        sum += Math.abs(luma(x + 1, y) - luma(x, y));
        n++;
      }
    return sum / n;
  };
  const ratios = [];
  for (let i = 0; i < clip.frames; i++) ratios.push(detail(after, i) / detail(before, i));
  return { frames: ratios.map((d, i) => (d > 0.5 ? i : -1)).filter((i) => i >= 0), ratios };
}

const mediaPath = (file) => path.join(__dirname, '..', 'test', 'fixtures', 'media', file);

module.exports = {
  leakedInOutput,
  mediaPath,
  makeDegradedClip,
  leakCount,
  blurRecall,
  LABELLED,
  readLabels,
  labelledPictures,
  mosaic,
  changedMask,
  coveredFraction,
  boxCoveredByBoxes,
  countCovered,
  FACE_FREE,
  faceFreePictures,
};
