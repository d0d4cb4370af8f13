'use strict';
// What the user gets, measured: is a ground-truth face still visible in an output?
//
// Pictures (lossless: the frames themselves or a PNG): a face is COVERED when at least half of
// its box's pixels changed (any channel differs from the input).
//
// Video (an encoded output): the output is decoded to luma and each frame is matched to its source
// frame by the frame code burnt into the clip (privacy-fixtures.js drawCode), so dropped frames,
// repeats and any offset are seen as they are. A ground-truth face COUNTS in a frame when at least
// half of its box is inside the frame; its box is then clipped to the frame (and kept above the
// frame code, see countedBox). It is VISIBLE when the detail left in its box is more than half the source's:
// detail = mean |step| between neighbouring luma pixels (right and down) over the box, output /
// source > 0.5 (a blur leaves a few per cent; an x264 round trip at CRF ≤ 23 keeps ≈ 0.8–1, see
// the bare-transcode check of bench/privacy-camera.js). A frame WITH A VISIBLE FACE has at least
// one visible counted face.
const { spawn } = require('child_process');
const { CODE, readCode } = require('./privacy-fixtures');

/** Boolean mask (1 byte per pixel) of the pixels that differ between two RGB frames of one size. */
function changedMask(before, after) {
  const n = before.width * before.height;
  const mask = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    if (before.data[p] !== after.data[p] || before.data[p + 1] !== after.data[p + 1] || before.data[p + 2] !== after.data[p + 2]) mask[i] = 1;
  }
  return mask;
}

/** Fraction of a box's pixels set in a mask. */
function coveredFraction(mask, width, box) {
  const x1 = Math.max(0, Math.round(box[0])),
    y1 = Math.max(0, Math.round(box[1]));
  const x2 = Math.min(width, Math.round(box[2])),
    y2 = Math.min(mask.length / width, Math.round(box[3]));
  let hit = 0,
    all = 0;
  for (let y = y1; y < y2; y++)
    for (let x = x1; x < x2; x++) {
      all++;
      hit += mask[y * width + x];
    }
  return all ? hit / all : 0;
}

/** How many boxes the change covered (≥ `minFraction` of the box changed); `missed` lists the others. */
function countCovered(before, after, boxes, minFraction = 0.5) {
  const mask = changedMask(before, after);
  let covered = 0;
  const missed = [];
  for (const b of boxes) {
    if (coveredFraction(mask, before.width, b) >= minFraction) covered++;
    else missed.push(b);
  }
  return { covered, total: boxes.length, missed };
}

/** Pixels that differ between two RGB frames of one size. */
function changedPixels(before, after) {
  return changedMask(before, after).reduce((a, b) => a + b, 0);
}

/**
 * The part of a ground-truth box that counts in a W × H frame: null when less than half of it is
 * inside the frame or when it meets the frame code (bottom-left, 128 × 8 px: the code hides part
 * of that face, which is our doing, not the detector's), else the box clipped to the frame.
 */
function countedBox(box, W, H) {
  const area = (box[2] - box[0]) * (box[3] - box[1]);
  const x1 = Math.max(0, Math.round(box[0])),
    y1 = Math.max(0, Math.round(box[1]));
  const x2 = Math.min(W, Math.round(box[2])),
    y2 = Math.min(H, Math.round(box[3]));
  if (x2 - x1 < 3 || y2 - y1 < 3 || (x2 - x1) * (y2 - y1) < 0.5 * area) return null;
  if (x1 < CODE.width && y2 > H - CODE.height) return null;
  return [x1, y1, x2, y2];
}

/** Mean |step| between neighbouring luma pixels (right and down) inside an integer box. */
function boxDetail(luma, W, b) {
  let sum = 0,
    n = 0;
  for (let y = b[1]; y < b[3] - 1; y++) {
    const row = y * W;
    for (let x = b[0]; x < b[2] - 1; x++) {
      const p = luma[row + x];
      sum += Math.abs(luma[row + x + 1] - p) + Math.abs(luma[row + W + x] - p);
      n += 2;
    }
  }
  return n ? sum / n : 0;
}

/** Decodes the first video stream of `file` to 8-bit luma and calls onFrame(luma, i) for each frame, in order. */
function decodeLuma(ffmpeg, file, width, height, onFrame) {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${width}x${height}`, '-'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const size = width * height;
    const frame = new Uint8Array(size);
    let filled = 0,
      index = 0,
      stderr = '',
      failed;
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.on('data', (chunk) => {
      for (let at = 0; at < chunk.length;) {
        const n = Math.min(size - filled, chunk.length - at);
        frame.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === size) {
          filled = 0;
          try {
            onFrame(frame, index++);
          } catch (error) {
            failed = failed ?? error;
          }
        }
      }
    });
    child.on('close', (code) => {
      if (failed) reject(failed);
      else if (code !== 0) reject(new Error(`ffmpeg could not decode ${file} (exit ${code}): ${stderr.trim()}`));
      else resolve({ frames: index, stderr });
    });
  });
}

/**
 * Detail of every counted face in every frame of the source clip: { [frameIndex]: { [faceId]: detail } }.
 * Also checks the frame codes read back in order.
 */
async function sourceDetail(ffmpeg, clipFile, truth) {
  const { width: W, height: H } = truth;
  const detail = [];
  let badCodes = 0;
  await decodeLuma(ffmpeg, clipFile, W, H, (luma, i) => {
    if (readCode(luma, W, H) !== i) badCodes++;
    const row = {};
    for (const f of truth.frames[i]?.boxes ?? []) {
      const b = countedBox(f.box, W, H);
      if (b) row[f.id] = Math.round(boxDetail(luma, W, b) * 1000) / 1000;
    }
    detail.push(row);
  });
  if (badCodes) throw new Error(`${badCodes} frames of ${clipFile} do not carry their own frame code`);
  return detail;
}

/**
 * Visible faces in an encoded output of a clip with ground truth `truth` and source detail
 * `detail` (sourceDetail). Each output frame is matched to its source frame by its code (modulo
 * the clip's length, so a looped camera clip works); an output frame with the same code as the one
 * before is a REPEAT (a live job writes repeats for dropped frames). Counts over the first
 * occurrence of each run of a code ("processed" frames) and, separately, over repeats;
 * `visibleAtEdge`: visible face-frames whose box was partly outside the frame (entering or leaving).
 * A code the blur of a nearby face made unreadable is inferred when the frames around it leave no
 * doubt: k unreadable frames between codes a and a + k + 1 are a + 1 … a + k (no drop or repeat
 * among them); otherwise they are counted as `framesUnreadable` and left out. `sequential`
 * (file jobs, which write every frame in order): output frame k is source frame k, codes only
 * checked (`framesCodeMismatch`).
 */
async function visibleFaces(ffmpeg, outputFile, truth, detail, { threshold = 0.5, sequential = false } = {}) {
  const { width: W, height: H } = truth;
  const n = truth.frames.length;
  const r = {
    framesOut: 0,
    framesUnreadable: 0,
    framesCodeInferred: 0,
    framesProcessed: 0,
    framesRepeated: 0,
    framesWithVisibleFace: 0,
    faceFrames: 0,
    visibleFaceFrames: 0,
    visibleAtEdge: 0,
    repeatsWithVisibleFace: 0,
    firstCode: undefined,
    sourceFramesSeen: 0,
    visibleFrameIndexes: [],
    bySize: {},
    ratios: [],
  };
  const seen = new Set();
  let previous = -2;
  const count = (luma, code) => {
    if (r.firstCode === undefined) r.firstCode = code;
    const i = code % n;
    const repeat = code === previous;
    previous = code;
    if (repeat) r.framesRepeated++;
    else r.framesProcessed++;
    seen.add(i);
    let visible = 0;
    for (const f of truth.frames[i].boxes) {
      const src = detail[i][f.id];
      if (src === undefined) continue;
      const b = countedBox(f.box, W, H);
      const ratio = src > 0 ? boxDetail(luma, W, b) / src : 0;
      const isVisible = ratio > threshold;
      if (!repeat) {
        r.faceFrames++;
        r.ratios.push(ratio);
        const s = (r.bySize[sizeBin(f.size)] ??= { faceFrames: 0, visible: 0 });
        s.faceFrames++;
        if (isVisible) {
          s.visible++;
          r.visibleFaceFrames++;
          if (f.inside < 1) r.visibleAtEdge++;
        }
      }
      if (isVisible) visible++;
    }
    if (visible && repeat) r.repeatsWithVisibleFace++;
    if (visible && !repeat) {
      r.framesWithVisibleFace++;
      if (r.visibleFrameIndexes.length < 50) r.visibleFrameIndexes.push(i);
    }
  };
  // Frames whose code did not read, kept (copies) until the next readable code settles them.
  let pending = [];
  const settle = (next) => {
    const gap = previous >= 0 && next !== undefined ? (((next - previous) % n) + n) % n : -1;
    if (pending.length && gap === pending.length + 1) {
      const first = previous;
      pending.forEach((luma, k) => {
        r.framesCodeInferred++;
        count(luma, first + k + 1);
      });
    } else {
      r.framesUnreadable += pending.length;
      if (pending.length) previous = -2;
    }
    pending = [];
  };
  const decoded = await decodeLuma(ffmpeg, outputFile, W, H, (luma, k) => {
    r.framesOut++;
    const code = readCode(luma, W, H);
    if (sequential) {
      // A file job writes every frame in order: output frame k is source frame k (the code is only checked).
      if (code !== k) r.framesCodeMismatch = (r.framesCodeMismatch ?? 0) + 1;
      count(luma, k);
      return;
    }
    if (code < 0) {
      if (pending.length < 250) pending.push(new Uint8Array(luma));
      else r.framesUnreadable++;
      return;
    }
    settle(code);
    count(luma, code);
  });
  settle(undefined);
  r.sourceFramesSeen = seen.size;
  r.decoderNotes = decoded.stderr.trim().split('\n').filter(Boolean).slice(0, 3);
  const sorted = r.ratios.sort((a, b) => a - b);
  const q = (p) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 1000) / 1000 : null);
  r.detailRatio = { p05: q(0.05), p50: q(0.5), p95: q(0.95), max: q(1) };
  delete r.ratios;
  return r;
}

/** Face size bins for the reports (px, box width). */
const SIZE_BINS = [0, 12, 16, 20, 24, 32, 48, 64, 96, 128, 256, 512, Infinity];

function sizeBin(size) {
  for (let i = 1; i < SIZE_BINS.length; i++) if (size < SIZE_BINS[i]) return SIZE_BINS[i] === Infinity ? `≥ ${SIZE_BINS[i - 1]}` : `${SIZE_BINS[i - 1]}–${SIZE_BINS[i] - 1}`;
  return '?';
}

/** Covered / total per size bin for pictures: faces [{ box, size }] and a changed-pixel mask. */
function coveredBySize(before, after, faces, minFraction = 0.5) {
  const mask = changedMask(before, after);
  const bins = {};
  let covered = 0;
  const missed = [];
  for (const f of faces) {
    const s = (bins[sizeBin(f.size)] ??= { covered: 0, total: 0 });
    s.total++;
    if (coveredFraction(mask, before.width, f.box) >= minFraction) {
      s.covered++;
      covered++;
    } else missed.push(f);
  }
  return { covered, total: faces.length, bins, missed, changedPixels: mask.reduce((a, b) => a + b, 0) };
}

module.exports = { changedMask, coveredFraction, countCovered, changedPixels, countedBox, boxDetail, decodeLuma, sourceDetail, visibleFaces, SIZE_BINS, sizeBin, coveredBySize };
