'use strict';
// The privacy fixtures themselves (test/helpers/privacy-fixtures.js) and the measure of
// visible faces (test/helpers/privacy-measure.js) that the engine tests and bench/privacy-camera.js
// rely on: builds are deterministic, the ground-truth boxes land on faces a detector finds, the
// frame code survives H.264, and the measure tells a blurred face from a sharp one.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { createRuntime } = require('../dist/runtime');
const { FfmpegLocator } = require('../dist/runtime/internal');
const pf = require('./helpers/privacy-fixtures');
const pm = require('./helpers/privacy-measure');
const { ffmpegOrSkip, runFfmpeg, tempDir } = require('./helpers/clips');

const iou = (a, b) => {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])),
    ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const i = iw * ih;
  return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i);
};
const sha = (frame) => crypto.createHash('sha256').update(frame.data).digest('hex');

describe('privacy fixtures', function () {
  this.timeout(60000);
  let kit, rt;

  before(async function () {
    kit = await pf.loadKit();
    rt = createRuntime({ sweepIntervalMs: 0 });
  });
  after(async function () {
    await rt?.close();
  });

  /** Boxes the default detector finds with `tilings` (numbers: legacy tile sizes), merged. */
  async function detectAll(frame, tilings) {
    const boxes = [];
    for (const detect_tiling of tilings) {
      const token = await rt.run(await rt.createToken({ target: frame, operations: ['detect'], parameters: { detect_tiling, max_faces: 256 } }));
      boxes.push(...token.faces.map((f) => f.bbox));
      rt.release(token);
    }
    return boxes;
  }

  it('the crowd picture: 90 faces of 24–470 px (30 of 75–95 px), the same pixels and boxes on every build', async function () {
    const a = await pf.renderScene(pf.crowdScene(), 1, kit),
      b = await pf.renderScene(pf.crowdScene(), 1, kit);
    assert.strictEqual(sha(a.frame), sha(b.frame));
    assert.deepStrictEqual(a.faces, b.faces);
    assert.deepStrictEqual([a.frame.width, a.frame.height], [3000, 2172]);
    assert.strictEqual(a.faces.length, 90);
    const sizes = a.faces.map((f) => f.size);
    assert.strictEqual(Math.min(...sizes), 24);
    assert.strictEqual(Math.max(...sizes), 470);
    assert.strictEqual(sizes.filter((s) => s >= 75 && s <= 95).length, 30);
    for (const f of a.faces) {
      assert.ok(f.box[0] >= 0 && f.box[1] >= 0 && f.box[2] <= 3000 && f.box[3] <= 2172, `box ${f.box} inside the picture`);
      assert.ok(Math.abs(f.box[2] - f.box[0] - f.size) <= 1, 'the box is `size` wide');
    }
    for (let i = 0; i < a.faces.length; i++) for (let j = i + 1; j < a.faces.length; j++) assert.strictEqual(iou(a.faces[i].box, a.faces[j].box), 0, 'faces do not overlap');
  });

  it('ground-truth boxes land on faces: the default detector finds ≥ 90 % of them (crowd picture, 640-px tiles)', async function () {
    const { frame, faces } = await pf.renderScene(pf.crowdScene(), 1, kit);
    const boxes = await detectAll(frame, [640]);
    const found = faces.filter((f) => boxes.some((b) => iou(b, f.box) >= 0.3));
    assert.ok(found.length >= 0.9 * faces.length, `found ${found.length}/${faces.length}; missed sizes ${faces.filter((f) => !found.includes(f)).map((f) => f.size)}`);
  });

  it('the no-blind-band set: one face per picture from 16 px to 0.9 × the height (× 1.25); its box lands on a face the detector finds', async function () {
    const set = pf.sweepScenes({ width: 1280, height: 720, positions: 2 });
    const sizes = [...new Set(set.map((s) => s.size))];
    assert.strictEqual(sizes[0], 16);
    assert.ok(sizes[sizes.length - 1] <= 648 && sizes[sizes.length - 1] > 648 / 1.25);
    for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i] / sizes[i - 1] <= 1.26);
    // Every other size at the centre, with native tiles (small faces) and the whole frame (large ones).
    const missed = [];
    for (const s of set.filter((x, i) => x.position === 'centre' && i % 4 === 0)) {
      const { frame, faces } = await pf.renderScene(s.scene, 1, kit);
      assert.strictEqual(faces.length, 1);
      const boxes = await detectAll(frame, [320, 'off']);
      if (!boxes.some((b) => iou(b, faces[0].box) >= 0.3)) missed.push(s.size);
    }
    assert.deepStrictEqual(missed, []);
  });

  describe('panning clip, frame code and visible-face measure', function () {
    let ffmpeg, dir, clip, truth;

    before(async function () {
      ffmpeg = (await ffmpegOrSkip(this, new FfmpegLocator())).path;
      dir = tempDir('ff-privacy-fixtures-');
      clip = path.join(dir, 'pan.mp4');
      truth = await pf.writePanClip(ffmpeg, pf.panScene(), 1, clip, kit, { frames: 30, crf: 23, preset: 'ultrafast' });
    });
    after(function () {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('ground truth follows the pan: ≈ 29 faces in view, faces enter and leave at the edges', function () {
      const counted = truth.frames.map((f) => f.boxes.filter((b) => pm.countedBox(b.box, truth.width, truth.height)).length);
      assert.ok(Math.min(...counted) >= 22 && Math.max(...counted) <= 36, `faces counted per frame ${counted}`);
      const ids = (i) => new Set(truth.frames[i].boxes.map((b) => b.id));
      const first = ids(0),
        last = ids(29);
      assert.ok([...first].some((id) => !last.has(id)) && [...last].some((id) => !first.has(id)), 'some faces left, some came in');
      // A face's box moves with the window: 4 px left a frame.
      const id = truth.frames[10].boxes[0].id;
      const b10 = truth.frames[10].boxes.find((b) => b.id === id).box,
        b11 = truth.frames[11].boxes.find((b) => b.id === id)?.box;
      if (b11) assert.ok(Math.abs(b10[0] - b11[0] - 4) < 0.2);
    });

    it('the frame code reads back from H.264 and the measure sees every face in an unblurred transcode, none in a blurred one', async function () {
      const detail = await pm.sourceDetail(ffmpeg, clip, truth); // throws when a frame code does not read back
      const plain = path.join(dir, 'plain.mp4'),
        blurred = path.join(dir, 'blurred.mp4');
      runFfmpeg(ffmpeg, ['-i', clip, '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-pix_fmt', 'yuv420p', plain]);
      // Everything but the frame code (bottom-left) blurred strongly.
      const { CODE } = pf;
      runFfmpeg(ffmpeg, [
        '-i',
        clip,
        '-filter_complex',
        `[0:v]split[a][b];[a]boxblur=12:2[c];[b]crop=${CODE.width}:${CODE.height}:0:${truth.height - CODE.height}[d];[c][d]overlay=0:${truth.height - CODE.height}`,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-crf',
        '23',
        '-pix_fmt',
        'yuv420p',
        blurred,
      ]);
      const p = await pm.visibleFaces(ffmpeg, plain, truth, detail);
      assert.strictEqual(p.framesOut, 30);
      assert.strictEqual(p.framesUnreadable, 0);
      assert.strictEqual(p.visibleFaceFrames, p.faceFrames, `detail ratio ${JSON.stringify(p.detailRatio)}`);
      assert.ok(p.detailRatio.p05 > 0.7);
      const b = await pm.visibleFaces(ffmpeg, blurred, truth, detail);
      assert.strictEqual(b.framesProcessed, 30);
      assert.strictEqual(b.visibleFaceFrames, 0, `detail ratio ${JSON.stringify(b.detailRatio)}`);
      assert.ok(b.detailRatio.max < 0.35);
    });

    it('repeats (a live job writes them for dropped frames) are told apart from processed frames', async function () {
      const detail = await pm.sourceDetail(ffmpeg, clip, truth);
      const doubled = path.join(dir, 'doubled.mp4');
      // Every frame twice, as a job does when it drops every other frame and repeats the last.
      runFfmpeg(ffmpeg, ['-i', clip, '-vf', 'setpts=2*PTS', '-r', '25', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-pix_fmt', 'yuv420p', doubled]);
      const d = await pm.visibleFaces(ffmpeg, doubled, truth, detail);
      assert.ok(Math.abs(d.framesOut - 60) <= 2, `${d.framesOut} frames out`);
      assert.strictEqual(d.framesProcessed, 30);
      assert.strictEqual(d.framesRepeated, d.framesOut - 30);
    });
  });
});
