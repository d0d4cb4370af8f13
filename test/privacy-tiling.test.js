'use strict';
// Detection as a scale pyramid (faces/scan-plan.ts, faces/scan-detect.ts): bands of face sizes
// from the min face up to the whole frame, tiles overlapping by the largest face of their band,
// second looks at tile boxes, and no boxes on face-free pictures.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {
  createRuntime,
  createFrame,
  readImageFile,
  FACE_TOKEN_SCHEMA,
  TokenValidator,
  planScan,
  parseDetectTiling,
  parseMinFace,
  minFaceForTileSize,
  merge,
  resizeBilinear,
} = require('../dist/runtime/internal');
const { MEDIA, YUNET, SCRFD_FILE, testModel, media } = require('./helpers/fixtures');
const lib = require('../bench/privacy-lib');

describe('detection scan pyramid', function () {
  this.timeout(180000);

  describe('scan plan and merge', function () {
    const rfb = { input: { width: 320, height: 240 }, minFace: 16 };
    const size = (t) => ({ w: t.width, h: t.height });
    /** Every level's tiles: inside the frame, the first and last of each row and column flush with its sides, neighbours overlapping by ≥ the level's largest face. */
    const checkLevels = (plan) => {
      for (const level of plan.levels.filter((l) => !l.whole)) {
        const xs = [...new Set(level.tiles.map((t) => t.x))].sort((a, b) => a - b);
        const ys = [...new Set(level.tiles.map((t) => t.y))].sort((a, b) => a - b);
        const { w, h } = size(level.tiles[0]);
        for (const t of level.tiles) assert.ok(t.x >= 0 && t.y >= 0 && t.x + t.width <= plan.width && t.y + t.height <= plan.height, JSON.stringify(t));
        assert.strictEqual(xs[0], 0);
        assert.strictEqual(ys[0], 0);
        assert.ok(Math.abs(xs.at(-1) + w - plan.width) <= 1 || w === plan.width);
        assert.ok(Math.abs(ys.at(-1) + h - plan.height) <= 1 || h === plan.height);
        for (let i = 1; i < xs.length; i++) assert.ok(xs[i - 1] + w - xs[i] >= level.maxFace, `x overlap ${xs[i - 1] + w - xs[i]} < largest face ${level.maxFace}`);
        for (let i = 1; i < ys.length; i++) assert.ok(ys[i - 1] + h - ys[i] >= level.maxFace, `y overlap ${ys[i - 1] + h - ys[i]} < largest face ${level.maxFace}`);
        // The tile is the detector's input at the level's scale (cut to the frame).
        assert.ok(Math.abs(w - Math.min(plan.width, 320 / level.scale)) <= 1 && Math.abs(h - Math.min(plan.height, 240 / level.scale)) <= 1);
      }
    };

    it('bands from the min face up to the whole frame, contiguous, no blind band; tiles overlap by the largest face of their band', function () {
      for (const [w, h] of [
        [1280, 720],
        [1920, 1080],
        [3000, 2171],
        [6000, 4154],
        [8000, 8000],
        [640, 480],
        [3840, 2160],
      ]) {
        const plan = planScan(w, h, rfb, 20);
        assert.strictEqual(plan.minFaceCovered, 20);
        const bands = plan.levels.map((l) => [l.minFace, l.maxFace]).sort((a, b) => a[0] - b[0]);
        assert.ok(bands[0][0] <= 20, `${w}×${h}: the finest band starts at ${bands[0][0]}`);
        for (let i = 1; i < bands.length; i++) assert.ok(bands[i][0] <= bands[i - 1][1] + 1e-9, `${w}×${h}: gap between ${bands[i - 1]} and ${bands[i]}`);
        assert.strictEqual(bands.at(-1)[1], Infinity, 'the whole frame takes every larger face');
        assert.strictEqual(plan.levels[0].whole, true);
        checkLevels(plan);
        assert.strictEqual(
          plan.tiles.length,
          plan.levels.reduce((n, l) => n + l.tiles.length, 0),
        );
      }
      // A frame whose whole-frame pass already sees 20 px faces needs no tiles.
      assert.strictEqual(planScan(320, 240, rfb, 20).tiles.length, 0);
      // 720p: the whole frame sees faces from 64 px; one level of 12 tiles takes 20–64.
      const hd = planScan(1280, 720, rfb, 20);
      assert.strictEqual(Math.round(hd.levels[0].minFace), 64);
      assert.strictEqual(hd.tiles.length, 12);
    });

    it('off and legacy sizes: the whole frame only, or the min face a tile size meant; too fine a plan is refused, never silently cut', function () {
      const whole = planScan(3000, 2000, rfb, undefined);
      assert.strictEqual(whole.tiles.length, 0);
      assert.strictEqual(whole.minFaceCovered, 150, 'a 320×240 pass of a 3000 px frame sees faces from 150 px');
      assert.strictEqual(minFaceForTileSize(640, rfb), 32);
      assert.throws(
        () => planScan(8000, 8000, rfb, 8),
        (e) => e.code === 'E_BAD_PARAMETER' && /detector runs/.test(e.message) && /detect_min_face/.test(e.message),
      );
      assert.doesNotThrow(() => planScan(8000, 8000, rfb, 16), '64 MP at 16 px fits');
      assert.strictEqual(parseMinFace(undefined), undefined);
      assert.strictEqual(parseMinFace('24'), 24);
      assert.throws(
        () => parseMinFace(4),
        (e) => e.code === 'E_BAD_PARAMETER',
      );
    });

    it('detect_tiling: off | auto | a size in pixels, checked by the token schema and the stage', function () {
      assert.strictEqual(parseDetectTiling(undefined), 'auto');
      assert.strictEqual(parseDetectTiling('off'), 'off');
      assert.strictEqual(parseDetectTiling('640'), 640);
      assert.throws(
        () => parseDetectTiling('huge'),
        (e) => e.code === 'E_BAD_PARAMETER',
      );
      assert.throws(
        () => parseDetectTiling(10),
        (e) => e.code === 'E_BAD_PARAMETER',
      );
      const schema = FACE_TOKEN_SCHEMA.properties.parameters.properties.detect_tiling;
      assert.ok(schema, 'detect_tiling is in the schema');
      const v = new TokenValidator();
      const token = (detect_tiling) => ({
        v: 1,
        request_id: '123e4567-e89b-12d3-a456-426614174000',
        target: { frame: 'frame:a' },
        operations: ['detect'],
        parameters: { detect_tiling },
        faces: [],
        state: 'initialized',
        journal: [],
        created_at: '2024-01-01T00:00:00.000Z',
        expires_at: '2024-01-01T00:05:00.000Z',
      });
      assert.doesNotThrow(() => v.assert(token('auto')));
      assert.doesNotThrow(() => v.assert(token(960)));
      assert.throws(() => v.assert(token('sometimes')));
      assert.throws(() => v.assert(token(32)));
      const { JobArgsValidator } = require('../dist/runtime/internal');
      const jobs = new JobArgsValidator();
      const job = (detect_tiling) => ({ target_path: 'a.jpg', output_path: 'b.jpg', processors: ['face_blur'], parameters: { detect_tiling } });
      assert.strictEqual(jobs.normalize(job(960)).args.parameters.detect_tiling, 960);
      assert.throws(
        () => jobs.normalize(job('sometimes')),
        (e) => e.code === 'E_JOB' && /detect_tiling/.test(e.message),
      );
    });

    it('merge keeps one box per face: the best of overlapping boxes, and drops a box lying mostly inside a better one', function () {
      const faces = [
        { bbox: [100, 100, 140, 140], score: 0.9 },
        { bbox: [102, 101, 141, 142], score: 0.7 },
        { bbox: [100, 100, 125, 140], score: 0.8 }, // the left part of the same face, as a tile cut it
        { bbox: [300, 300, 340, 340], score: 0.5 },
      ];
      const out = merge(faces, { scoreThreshold: 0.3, maxFaces: 10 });
      assert.deepStrictEqual(
        out.map((f) => f.score),
        [0.9, 0.5],
      );
    });
  });

  describe('on real detectors', function () {
    let rt, dir, pictures;
    const detectors = () => {
      const yunet = path.join(dir, 'yunet_2023_mar.onnx');
      if (!fs.existsSync(yunet)) fs.copyFileSync(YUNET, yunet);
      const list = [
        ['default RFB-320', undefined],
        ['YuNet', yunet],
      ];
      const scrfd = testModel(SCRFD_FILE);
      if (scrfd) list.push(['SCRFD', scrfd]);
      return list;
    };
    before(async function () {
      rt = createRuntime({ sweepIntervalMs: 0 });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-tiling-'));
      pictures = await lib.labelledPictures();
    });
    after(async function () {
      await rt.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('the labelled pictures: 18 faces, every one covered at native size, ≥ 95 % on the 1500×1000 mosaic, with each detector and the default settings', async function () {
      assert.strictEqual(
        pictures.reduce((n, p) => n + p.boxes.length, 0),
        18,
      );
      for (const [name, model] of detectors()) {
        const r = await lib.blurRecall(rt, model ? { face_detector_model: model } : {}, pictures);
        assert.strictEqual(r.native.covered, 18, `${name} native: missed ${JSON.stringify(r.native.missed)}`);
        assert.ok(r.mosaic.covered >= Math.ceil(0.95 * 18), `${name} mosaic: ${r.mosaic.covered}/18, missed ${JSON.stringify(r.mosaic.missed)}`);
        assert.match(r.mosaic.note, /tiles \+ whole frame/, 'the mosaic was tiled');
      }
    });

    it('a crowd: the labelled pictures twice over in one 3000×1000 frame, 36 faces, are all blurred (no cap at 20 faces when blurring)', async function () {
      const m = lib.mosaic([...pictures, ...pictures], 3000, 1000);
      assert.strictEqual(m.boxes.length, 36);
      const out = await rt.run(await rt.createToken({ target: m.frame, operations: ['detect', 'blur'] }));
      const c = lib.countCovered(m.frame, rt.frame(out.target.frame), m.boxes);
      rt.release(out);
      assert.ok(c.covered >= 35, `${c.covered}/36, missed ${JSON.stringify(c.missed)}`);
    });

    it('without tiling the default detector misses mosaic faces that tiling finds', async function () {
      const off = await lib.blurRecall(rt, { detect_tiling: 'off', blur_score_threshold: 0.6 }, pictures);
      const auto = await lib.blurRecall(rt, {}, pictures);
      assert.ok(off.mosaic.covered < auto.mosaic.covered, `off ${off.mosaic.covered}, auto ${auto.mosaic.covered}`);
    });

    it('a face cut by a tile border comes out as one box (the overlap holds it whole in the next tile)', async function () {
      // A face placed across the right border of the first tile of the level whose band holds its
      // size. Without dropping cut boxes and contained boxes a detector gives two boxes for it.
      const obama = await readImageFile(media('fr_obama.jpg'));
      for (const [name, model] of detectors()) {
        const m = model ? { face_detector_model: model } : {};
        let placed = 0;
        for (const width of [60, 100, 137]) {
          const small = resizeBilinear(obama, width, Math.round((width * 171) / 137));
          const alone = await rt.run(await rt.createToken({ target: small, operations: ['detect'], parameters: { ...m, score_threshold: 0.45 } }));
          rt.release(alone);
          assert.ok(alone.faces.length >= 1, `${name}: the face alone`);
          const best = alone.faces.reduce((a, b) => (b.score > a.score ? b : a));
          const [fx1, , fx2] = best.bbox;
          const faceSize = Math.sqrt((best.bbox[2] - fx1) * (best.bbox[3] - best.bbox[1]));
          const detector = await rt.context.detector(model);
          const plan = planScan(1600, 1200, { input: detector.inputSize, minFace: detector.minFaceSize ?? 16 }, 20);
          const level = plan.levels.find((l) => !l.whole && l.minFace <= faceSize && faceSize <= l.maxFace);
          if (!level) continue; // found by the whole-frame pass at this size
          const border = level.tiles[0].x + level.tiles[0].width;
          for (const inside of [0.5, 0.6]) {
            const frame = createFrame(1600, 1200);
            frame.data.fill(120);
            const ox = Math.round(border - fx1 - (fx2 - fx1) * inside),
              oy = 200;
            for (let y = 0; y < small.height; y++) frame.data.set(small.data.subarray(y * small.width * 3, (y + 1) * small.width * 3), ((oy + y) * 1600 + ox) * 3);
            const token = await rt.run(await rt.createToken({ target: frame, operations: ['detect', 'blur'], parameters: { ...m, blur_score_threshold: 0.45 } }), ['detect']);
            assert.strictEqual(token.faces.length, 1, `${name}, ${width} px picture, ${inside} of the face left of the border at ${border}: ${JSON.stringify(token.faces)}`);
            assert.match(token.journal.at(-1).note, /tiles/);
            rt.release(token);
            placed++;
          }
        }
        assert.ok(placed >= 2, `${name}: a face was placed across a tile border`);
      }
    });

    it('no box on face-free pictures (crops of the fixtures and a 1500×1000 picture of them) with the privacy defaults', async function () {
      const free = await lib.faceFreePictures(MEDIA);
      for (const [name, model] of detectors()) {
        for (const p of free) {
          const token = await rt.run(await rt.createToken({ target: p.frame, operations: ['detect', 'blur'], parameters: model ? { face_detector_model: model } : {} }));
          assert.strictEqual(token.faces.length, 0, `${name} on ${p.what}: ${JSON.stringify(token.faces)}`);
          rt.release(token);
        }
      }
    });
  });
});
