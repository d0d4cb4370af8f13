'use strict';
// The privacy stream of a video source end to end: a small face that only the fine tiles can see
// appears in the middle of a clip. The rolling scan finds it within the scan interval; a file job
// looks ahead and masks it from its first frame; a flow (no look-ahead) shows it for at most one
// scan cycle; the job's result says what was covered.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { createRuntime, createFrame, FfmpegLocator, FrameTokenSource, resizeBilinear, crop } = require('../dist/runtime/internal');
const { JobManager } = require('../dist/runtime');
const lib = require('../bench/privacy-lib');
const { ffmpegOrSkip } = require('./helpers/clips');

const W = 1280,
  H = 720,
  FPS = 25,
  FRAMES = 60,
  APPEARS = 20,
  FACE = 20;

/**
 * The clip: a textured grey 720p scene; from frame APPEARS on, the first labelled face of
 * 2008_001322.jpg (with its surroundings) scaled so its labelled box is FACE px wide, moving 2 px
 * a frame. FFV1 (lossless), so the test compares the very pixels. Returns the GT box per frame.
 */
async function popInClip(dir, ffmpeg, { face = FACE, fromLeft = false, step = 2, name = 'pop-in.mkv' } = {}) {
  const pictures = await lib.labelledPictures();
  const pic = pictures.find((p) => p.file === '2008_001322.jpg');
  const [bx1, by1, bx2, by2] = pic.boxes[0];
  const pad = (bx2 - bx1) * 0.8;
  const region = { x: Math.max(0, Math.round(bx1 - pad)), y: Math.max(0, Math.round(by1 - pad)) };
  region.width = Math.min(pic.width - region.x, Math.round(bx2 - bx1 + 2 * pad));
  region.height = Math.min(pic.height - region.y, Math.round(by2 - by1 + 2 * pad));
  const s = face / (bx2 - bx1);
  const patch = resizeBilinear(crop(pic.frame, region), Math.round(region.width * s), Math.round(region.height * s));
  const faceIn = [(bx1 - region.x) * s, (by1 - region.y) * s, (bx2 - region.x) * s, (by2 - region.y) * s];
  const file = path.join(dir, name);
  const child = spawn(ffmpeg, ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-r', String(FPS), '-i', '-', '-c:v', 'ffv1', file], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(stderr)))));
  const boxes = [];
  for (let i = 0; i < FRAMES; i++) {
    const frame = createFrame(W, H);
    for (let p = 0, k = 0; p < frame.data.length; p += 3, k++) frame.data[p] = frame.data[p + 1] = frame.data[p + 2] = 100 + ((k * 2654435761) >>> 28);
    if (i >= APPEARS) {
      // In the middle, or sliding in through the frame's left side (the part left of x = 0 cut off).
      const ox = fromLeft ? -patch.width + step * (i - APPEARS) : 700 + step * (i - APPEARS),
        oy = 300;
      const skip = Math.max(0, -ox);
      for (let y = 0; y < patch.height && skip < patch.width; y++) frame.data.set(patch.data.subarray((y * patch.width + skip) * 3, (y + 1) * patch.width * 3), ((oy + y) * W + ox + skip) * 3);
      boxes.push([ox + faceIn[0], oy + faceIn[1], ox + faceIn[2], oy + faceIn[3]].map(Math.round));
    } else {
      boxes.push(null);
    }
    if (!child.stdin.write(Buffer.from(frame.data.buffer))) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  await done;
  return { file, boxes };
}

/** Frames (from APPEARS on) whose face box kept more than half of its detail: the face shows. */
function leakedFrames(ffmpeg, source, output, boxes) {
  const gray = (file) => spawnSync(ffmpeg, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { maxBuffer: 2 ** 30 }).stdout;
  const a = gray(source),
    b = gray(output);
  assert.strictEqual(b.length, a.length, 'every frame written');
  const n = W * H;
  const leaked = [];
  boxes.forEach((box, i) => {
    // A face counts in a frame when at least half of its box is inside (the benches' rule).
    if (!box || Math.min(box[2], W) - Math.max(box[0], 0) < (box[2] - box[0]) / 2) return;
    let da = 0,
      db = 0;
    for (let y = box[1]; y < box[3]; y++)
      for (let x = Math.max(0, box[0]); x < Math.min(W, box[2]) - 1; x++) {
        const p = i * n + y * W + x;
        da += Math.abs(a[p + 1] - a[p]);
        db += Math.abs(b[p + 1] - b[p]);
      }
    if (db / da > 0.5) leaked.push(i);
  });
  return leaked;
}

describe('privacy stream: a small face appearing mid-clip', function () {
  this.timeout(180000);
  let rt, dir, clip, ffmpeg;
  before(async function () {
    ffmpeg = (await ffmpegOrSkip(this, new FfmpegLocator())).path;
    rt = createRuntime({ sweepIntervalMs: 0 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-stream-'));
    clip = await popInClip(dir, ffmpeg);
  });
  after(async function () {
    await rt?.close();
    if (dir && !process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the whole-frame pass alone misses it (it is far below the pass's 64 px): only the tiles see it", async function () {
    const jobs = new JobManager(rt, { progressIntervalMs: 0 });
    const output = path.join(dir, 'off.mkv');
    try {
      const info = await jobs.waitForJob(jobs.runJob({ target_path: clip.file, output_path: output, processors: ['face_blur'], keep_audio: false, crf: 0, parameters: { detect_tiling: 'off' } }));
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      assert.strictEqual(info.result.privacy.minFaceCovered, 64, 'the summary says what "off" covers');
    } finally {
      await jobs.close();
    }
    const leaked = leakedFrames(ffmpeg, clip.file, output, clip.boxes).length;
    assert.ok(leaked >= 0.8 * (FRAMES - APPEARS), `${leaked} of ${FRAMES - APPEARS} frames show it`);
  });

  it('file job: found by the rolling scan and masked from its first frame (look-ahead); the result reports the coverage', async function () {
    const jobs = new JobManager(rt, { progressIntervalMs: 0 });
    const output = path.join(dir, 'job.mkv');
    let info;
    try {
      info = await jobs.waitForJob(jobs.runJob({ target_path: clip.file, output_path: output, processors: ['face_blur'], keep_audio: false, crf: 0 }));
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
    } finally {
      await jobs.close();
    }
    assert.deepStrictEqual(leakedFrames(ffmpeg, clip.file, output, clip.boxes), []);
    const p = info.result.privacy;
    assert.strictEqual(p.minFaceCovered, 20);
    assert.strictEqual(p.scanIntervalSec, 0.2);
    assert.strictEqual(p.planTiles, 12);
    assert.ok(p.lookaheadFrames >= 5, `look-ahead ${p.lookaheadFrames}`);
    assert.strictEqual(p.frames, FRAMES);
    assert.strictEqual(p.framesFullScan, 1, 'the first frame is scanned in full');
    assert.strictEqual(p.framesRollingScan, FRAMES - 1);
    assert.strictEqual(p.framesTrackedOnly, 0);
    assert.strictEqual(p.framesNotCovered, 0);
    assert.ok(p.tilesPerFrame > 2 && p.tilesPerFrame < 3, `${p.tilesPerFrame} tiles a frame`);
    assert.ok(p.facesBlurred >= FRAMES - APPEARS, `${p.facesBlurred} faces blurred`);
    assert.ok(p.facesHeld > 0 && p.tracks >= 1);
    assert.strictEqual(rt.streams.size, 0, 'the stream is released with the job');
  });

  it('file job, detect_scan_interval 0 (every tile on every frame): a face sliding in through the side is masked from the first frame it is half inside (the look-ahead serves this cadence too)', async function () {
    // 32 px, 3 px a frame: without a look-ahead it showed in 3 frames (34–36) before the scan found it.
    const entering = await popInClip(dir, ffmpeg, { face: 32, step: 3, fromLeft: true, name: 'enter-left.mkv' });
    const jobs = new JobManager(rt, { progressIntervalMs: 0 });
    const output = path.join(dir, 'enter-left-out.mkv');
    let info;
    try {
      info = await jobs.waitForJob(jobs.runJob({ target_path: entering.file, output_path: output, processors: ['face_blur'], keep_audio: false, crf: 0, parameters: { detect_scan_interval: 0 } }));
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
    } finally {
      await jobs.close();
    }
    assert.deepStrictEqual(leakedFrames(ffmpeg, entering.file, output, entering.boxes), []);
    assert.strictEqual(info.result.privacy.framesFullScan, FRAMES);
    assert.ok(info.result.privacy.lookaheadFrames >= 25, `look-ahead ${info.result.privacy.lookaheadFrames}`);
  });

  it('a flow (no look-ahead) shows it only until the scan reaches it: at most one scan cycle (0.2 s = 5 frames), then never again', async function () {
    const source = new FrameTokenSource({ runtime: rt, locator: new FfmpegLocator(), input: clip.file, operations: ['detect', 'blur'], parameters: { blur_score_threshold: 0.45 } });
    const leaked = [];
    for await (const item of source.tokens()) {
      const before = rt.frame(item.token.target.frame);
      const out = await rt.run(item.token);
      assert.notStrictEqual(out.state, 'failed', JSON.stringify(out.error));
      const box = clip.boxes[item.index];
      if (box && lib.countCovered(before, rt.frame(out.target.frame), [box]).covered === 0) leaked.push(item.index);
      rt.release(out);
    }
    assert.ok(leaked.length <= 5, `leaked ${leaked.join(',')}`);
    assert.ok(
      leaked.every((i) => i >= APPEARS && i < APPEARS + 5),
      `only right after it appeared: ${leaked.join(',')}`,
    );
    assert.strictEqual(rt.streams.size, 0);
  });

  it('detect_scan_interval 0: the whole pyramid on every frame, so a flow never shows it', async function () {
    const source = new FrameTokenSource({ runtime: rt, locator: new FfmpegLocator(), input: clip.file, operations: ['detect', 'blur'], parameters: { detect_scan_interval: 0 } });
    const leaked = [];
    const notes = new Set();
    for await (const item of source.tokens()) {
      const before = rt.frame(item.token.target.frame);
      const out = await rt.run(item.token);
      notes.add(out.journal.find((j) => j.stage === 'detect').note.replace(/^\d+ faces? · /, ''));
      const box = clip.boxes[item.index];
      if (box && lib.countCovered(before, rt.frame(out.target.frame), [box]).covered === 0) leaked.push(item.index);
      rt.release(out);
    }
    assert.deepStrictEqual(leaked, []);
    assert.deepStrictEqual([...notes], ['fr_detect · cpu · 12 tiles + whole frame · faces ≥ 20 px']);
  });
});
