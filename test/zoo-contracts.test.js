'use strict';
// Every zoo contract without a real model file here is exercised on an ONNX graph built by the
// test with the model's input/output names, shapes and dtypes: what the adapter feeds (its
// preprocessing) and what it makes of known outputs (its decoding), on real images.
const assert = require('assert');
const fs = require('fs');

const { SessionPool, readImageFile, applyAffine, transformedBounds, invertAffine, warpAffine, clipRect, templatePoints, alignmentMatrix } = require('../dist/runtime/internal');
const zoo = require('../dist/runtime/internal');
const { writeModel, constantNode } = require('./helpers/onnx-graph');
const { shiftEmap, inswapperGraph } = require('./helpers/model-graphs');

const { MEDIA, requireTestModel, SCRFD_FILE } = require('./helpers/fixtures');
// astronaut.png's 5 points (SCRFD on the real file, rounded): eyes, nose, mouth corners.
const ASTRONAUT_5 = [
  [205, 100],
  [248, 102],
  [224, 129],
  [201, 139],
  [246, 141],
];

const int64 = (name, data) => ({ name, type: 'int64', dims: [data.length], data });
const px = (frame, x, y) => Array.from(frame.data.subarray((y * frame.width + x) * 3, (y * frame.width + x) * 3 + 3));

describe('zoo contracts on built ONNX graphs', function () {
  this.timeout(40000);
  let pool;
  let astronaut;
  const cleanups = [];
  before(async () => {
    pool = new SessionPool({ device: 'cpu' });
    astronaut = await readImageFile(`${MEDIA}/astronaut.png`);
  });
  after(async () => {
    await pool.close();
    for (const c of cleanups) c();
  });
  function model(spec, name) {
    const m = writeModel(spec, name);
    cleanups.push(m.cleanup);
    return m.path;
  }

  describe('inswapper_128: emap read from the graph and applied', () => {
    // emap = 2 × a cyclic permutation: latent_j = 2·raw_(j−1) / ‖raw‖.
    const emap = shiftEmap();
    // ‖raw‖ = 3 and raw_511 = 0.375 → latent_0 = 2·0.375/3 = 0.25 (raw_0 = 0: without emap it would be 0; without ÷‖raw‖, 0.75).
    const raw = new Float32Array(512);
    raw[511] = 0.375;
    raw[5] = Math.sqrt(9 - 0.375 ** 2);
    let path;
    before(() => {
      // output = target + source[0]: the swapped crop shows the first value that reached `source`.
      path = model(inswapperGraph(emap), 'inswapper_128.onnx');
    });

    it('reads the LAST initializer as the 512×512 emap', async () => {
      const init = await zoo.readLastInitializer(path);
      assert.strictEqual(init.name, 'emap');
      assert.deepStrictEqual(init.dims, [512, 512]);
      assert.deepStrictEqual(Array.from(init.data.subarray(0, 4)), [0, 2, 0, 0]);
      const read = await zoo.readEmap(path);
      assert.strictEqual(read[511 * 512 + 0], 2);
      assert.strictEqual(
        read.reduce((a, b) => a + b, 0),
        1024,
      );
    });

    it('source = raw × emap ÷ ‖raw‖ (pure)', () => {
      const s = zoo.emapSource(raw, emap);
      assert.ok(Math.abs(s[0] - 0.25) < 1e-6, `latent_0 ${s[0]}`);
      assert.ok(Math.abs(s[6] - (2 * raw[5]) / 3) < 1e-6);
      assert.strictEqual(s.filter((v) => v !== 0).length, 2);
      // A general dense check against a direct sum.
      const r = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i));
      const m = Float32Array.from({ length: 512 * 512 }, (_, k) => Math.cos(k * 0.37));
      const norm = Math.hypot(...r);
      const j = 77;
      let want = 0;
      for (let i = 0; i < 512; i++) want += r[i] * m[i * 512 + j];
      assert.ok(Math.abs(zoo.emapSource(r, m)[j] - want / norm) < 1e-3);
      assert.throws(
        () => zoo.emapSource(r, new Float32Array(10)),
        (e) => e.code === 'E_MODEL_CONTRACT',
      );
    });

    it('swaps through the contract graph (openSwapper): emap-made source reaches the model, paste-back changes only the covered rectangle', async () => {
      const handle = await pool.acquire(path, { contract: zoo.INSWAPPER_CONTRACT, label: 'inswapper graph' });
      const swapper = await zoo.openSwapper('inswapper_128', handle, 'inswapper_128');
      try {
        assert.strictEqual(swapper.modelId, 'inswapper_128');
        assert.ok(Math.abs((await swapper.sourceInput({ embedding: raw }))[0] - 0.25) < 1e-6);
        const source = { embedding: raw };
        // Crop: the aligned target crop + 0.25 × 255 (= 63.75) where it does not saturate.
        const { target, crop, matrix } = await swapper.swapCrop(astronaut, ASTRONAUT_5, source);
        const aligned = warpAffine(astronaut, alignmentMatrix(ASTRONAUT_5, 'arcface_128', 128), 128, 128, { border: 'replicate' });
        assert.deepStrictEqual(Buffer.from(target.data), Buffer.from(aligned.data), 'the target crop is arcface_128 at 128');
        let n = 0,
          sum = 0;
        for (let i = 0; i < crop.data.length; i++)
          if (target.data[i] < 180) {
            sum += crop.data[i] - target.data[i];
            n++;
          }
        assert.ok(n > 1000 && Math.abs(sum / n - 63.75) < 1, `mean lift ${sum / n}`);

        const out = await swapper.swap(astronaut, ASTRONAUT_5, source);
        const rect = clipRect(transformedBounds(invertAffine(matrix), 128, 128), astronaut.width, astronaut.height);
        // Face centre: lifted by ~64 (mask 1 there); corners of the frame and everything outside the rect: identical.
        const [cx, cy] = ASTRONAUT_5[2];
        const before = px(astronaut, cx, cy),
          after = px(out, cx, cy);
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(after[c] - Math.min(255, before[c] + 64)) <= 3, `centre ${before} → ${after}`);
        let changedOutside = 0;
        for (let y = 0; y < astronaut.height; y++) {
          for (let x = 0; x < astronaut.width; x++) {
            if (x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height) continue;
            const o = (y * astronaut.width + x) * 3;
            if (out.data[o] !== astronaut.data[o] || out.data[o + 1] !== astronaut.data[o + 1] || out.data[o + 2] !== astronaut.data[o + 2]) changedOutside++;
          }
        }
        assert.strictEqual(changedOutside, 0);
        assert.ok(out !== astronaut && out.data !== astronaut.data, 'swap() works on a copy');
        // Box mask: the crop's edge band is not blended, so the rect's corner pixels stay as they were.
        assert.deepStrictEqual(px(out, rect.x, rect.y), px(astronaut, rect.x, rect.y));
        // blend 0 leaves the frame as it was; blend 0.5 gives about half the lift.
        assert.deepStrictEqual(Buffer.from((await swapper.swap(astronaut, ASTRONAUT_5, source, { blend: 0 })).data), Buffer.from(astronaut.data));
        const half = px(await swapper.swap(astronaut, ASTRONAUT_5, source, { blend: 0.5 }), cx, cy);
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(half[c] - (before[c] + Math.min(64, 255 - before[c]) / 2)) <= 3, `half blend ${before} → ${half}`);
      } finally {
        await swapper.release();
      }
    });

    it('a file whose last initializer is not a 512×512 emap is refused', async function () {
      const SCRFD = requireTestModel(this, SCRFD_FILE);
      // The SCRFD file's last initializer is an int64 shape tensor: refused by type.
      await assert.rejects(zoo.readEmap(SCRFD), (e) => e.code === 'E_MODEL_CONTRACT' && /last graph initializer/.test(e.message) && /expected a float type/.test(e.message));
      // A float initializer of the wrong size is refused by its dims.
      const small = model({
        inputs: [{ name: 'x', shape: [1, 4] }],
        outputs: [{ name: 'y', shape: [1, 4] }],
        initializers: [{ name: 'w', dims: [4, 4], data: new Float32Array(16), asFloatData: true }],
        nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
      });
      await assert.rejects(zoo.readEmap(small), (e) => e.code === 'E_MODEL_CONTRACT' && /"w" has dims \[4,4\], expected the 512×512 emap/.test(e.message));
      assert.deepStrictEqual((await zoo.readLastInitializer(small)).dims, [4, 4], 'float_data initializers are read too');
      const notOnnx = model({ inputs: [{ name: 'x', shape: [1] }], outputs: [{ name: 'x2', shape: [1] }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['x2'] }] });
      await assert.rejects(zoo.readLastInitializer(notOnnx), (e) => e.code === 'E_MODEL_CONTRACT' && /no initializers/.test(e.message));
      fs.writeFileSync(`${notOnnx}.bad`, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]));
      await assert.rejects(zoo.readLastInitializer(`${notOnnx}.bad`), (e) => e.code === 'E_MODEL_CONTRACT');
    });
  });

  describe('enhancers: gfpgan and codeformer weight dtype', () => {
    const FACE = [1, 3, 512, 512];
    const codeformer = (type) => ({
      inputs: [
        { name: 'input', shape: FACE },
        { name: 'weight', type, shape: [1] },
      ],
      outputs: [{ name: 'output', shape: FACE }],
      nodes: [
        { op: 'Cast', inputs: ['weight'], outputs: ['w32'], attrs: { to: 1 } },
        { op: 'Mul', inputs: ['input', 'w32'], outputs: ['output'] },
      ],
    });

    for (const type of ['float64', 'float32']) {
      it(`codeformer with a ${type} weight: the dtype is read from the session and the weight reaches the model`, async () => {
        const handle = await pool.acquire(model(codeformer(type), `codeformer_${type}.onnx`), { contract: zoo.CODEFORMER_CONTRACT });
        try {
          const enhancer = new zoo.GfpganEnhancer(handle, 'codeformer');
          assert.strictEqual(enhancer.weightType, type);
          // weight 1: output = input, so the crop comes back as the aligned face (±1 from rounding).
          const same = await enhancer.enhanceCrop(astronaut, ASTRONAUT_5, { weight: 1 });
          const { data } = zoo.enhancerInput(astronaut, ASTRONAUT_5, 'ffhq_512', 512);
          const expected = zoo.enhancerOutputToCrop(data, 512);
          let maxDiff = 0;
          for (let i = 0; i < expected.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected.data[i] - same.crop.data[i]));
          assert.ok(maxDiff <= 1, `max diff ${maxDiff}`);
          // weight 0: output 0 → grey 128; blended 80 % at the face centre.
          const out = await enhancer.enhance(astronaut, ASTRONAUT_5, { weight: 0 });
          const [cx, cy] = ASTRONAUT_5[2];
          const b = px(astronaut, cx, cy),
            a = px(out, cx, cy);
          for (let c = 0; c < 3; c++) assert.ok(Math.abs(a[c] - (0.2 * b[c] + 0.8 * 128)) <= 2, `blend 80: ${b} → ${a}`);
          assert.deepStrictEqual(px(out, 5, 500), px(astronaut, 5, 500), 'far from the face nothing changes');
        } finally {
          await handle.release();
        }
      });
    }

    it('gfpgan (no weight input): RGB [−1,1] in and out, identity model leaves the face as it was', async () => {
      const path = model({ inputs: [{ name: 'input', shape: FACE }], outputs: [{ name: 'output', shape: FACE }], nodes: [{ op: 'Identity', inputs: ['input'], outputs: ['output'] }] });
      const handle = await pool.acquire(path, { contract: zoo.GFPGAN_CONTRACT });
      try {
        const enhancer = new zoo.GfpganEnhancer(handle);
        assert.strictEqual(enhancer.weightType, undefined);
        const { data } = zoo.enhancerInput(astronaut, ASTRONAUT_5, 'ffhq_512', 512);
        assert.ok(data.every((v) => v >= -1 && v <= 1));
        const out = await enhancer.enhance(astronaut, ASTRONAUT_5, { blend: 1 });
        // Warp there and back (two bilinear resamplings) softens sharp edges a little; nothing more.
        let maxDiff = 0,
          sum = 0,
          changed = 0;
        for (let i = 0; i < out.data.length; i++) {
          const d = Math.abs(out.data[i] - astronaut.data[i]);
          if (d > 0) {
            changed++;
            sum += d;
          }
          maxDiff = Math.max(maxDiff, d);
        }
        assert.ok(changed > 10000, 'the face region was pasted back');
        assert.ok(maxDiff <= 40 && sum / changed < 3, `identity enhancer moved pixels by up to ${maxDiff}, ${sum / changed} on average`);
      } finally {
        await handle.release();
      }
    });
  });

  describe('yoloface_8n: (1,20,8400) decoding', () => {
    function yoloOutput(rows) {
      const out = new Float32Array(20 * 8400);
      rows.forEach(({ k, box, score, kps }) => {
        box.forEach((v, f) => {
          out[f * 8400 + k] = v;
        });
        out[4 * 8400 + k] = score;
        kps.forEach(([x, y], j) => {
          out[(5 + j * 3) * 8400 + k] = x;
          out[(6 + j * 3) * 8400 + k] = y;
          out[(7 + j * 3) * 8400 + k] = 0.9;
        });
      });
      return out;
    }
    const kps = [
      [180, 100],
      [220, 100],
      [200, 120],
      [185, 140],
      [215, 140],
    ];
    const rows = [
      { k: 10, box: [200, 120, 80, 100], score: 0.9, kps },
      { k: 11, box: [202, 121, 80, 100], score: 0.8, kps }, // duplicate: NMS removes it
      { k: 500, box: [450, 200, 60, 60], score: 0.3, kps }, // below threshold
      { k: 8000, box: [500, 300, 50, 70], score: 0.7, kps: kps.map(([x, y]) => [x + 300, y + 200]) },
    ];

    it('decodes rows cx,cy,w,h,score,5×(x,y,vis) above the threshold (pure)', () => {
      const c = zoo.decodeYoloface(yoloOutput(rows), 0.5);
      assert.deepStrictEqual(
        c.scores.map((s) => +s.toFixed(2)),
        [0.9, 0.8, 0.7],
      );
      assert.deepStrictEqual(c.boxes.slice(0, 4), [160, 70, 240, 170]);
      assert.deepStrictEqual(c.points.slice(0, 10), kps.flat());
    });

    it('preprocesses BGR x/255 and maps the boxes back through the letterbox ratio', async () => {
      const p = zoo.yolofacePreprocess({ width: 1, height: 1, channels: 3, data: Uint8Array.from([255, 51, 0]) });
      [0, 0.2, 1].forEach((v, i) => assert.ok(Math.abs(p[i] - v) < 1e-6, `plane ${i}: ${p[i]}`));
      const path = model({
        inputs: [{ name: 'input', shape: [1, 3, 640, 640] }],
        outputs: [{ name: 'output0', shape: [1, 20, 8400] }],
        nodes: [constantNode('output0', [1, 20, 8400], yoloOutput(rows))],
      });
      const handle = await pool.acquire(path, { contract: zoo.YOLOFACE_CONTRACT });
      try {
        const detector = new zoo.YolofaceDetector(handle);
        const two = await readImageFile(`${MEDIA}/fr_two_people.jpg`); // 1126×661 → 640×376 on the canvas
        const faces = await detector.detect(two, { scoreThreshold: 0.5, maxFaces: 10 });
        assert.strictEqual(faces.length, 2);
        const rx = 1126 / 640,
          ry = 661 / 376;
        const want = [160 * rx, 70 * ry, 240 * rx, 170 * ry];
        faces[0].bbox.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-3, `${faces[0].bbox} vs ${want}`));
        faces[0].landmarks5.forEach(([x, y], j) => assert.ok(Math.abs(x - kps[j][0] * rx) < 1e-3 && Math.abs(y - kps[j][1] * ry) < 1e-3));
        assert.ok(Math.abs(faces[1].score - 0.7) < 1e-6);
      } finally {
        await handle.release();
      }
    });
  });

  describe('landmarkers', () => {
    it('2dfan4: 256 crop at 195/longer side, BGR [0,1]; landmarks ×4 back to the frame; heatmap confidence', async () => {
      const landmarks = new Float32Array(68 * 3);
      for (let i = 0; i < 68; i++) {
        landmarks[i * 3] = 10 + i * 0.5;
        landmarks[i * 3 + 1] = 20 + i * 0.25;
      }
      const heat = new Float32Array(68 * 64 * 64);
      for (let i = 0; i < 68; i++) heat[i * 4096 + 100 + i] = 0.45; // every peak 0.45 → mean 0.45 → confidence 0.5
      const path = model({
        inputs: [{ name: 'input', shape: [1, 3, 256, 256] }],
        outputs: [
          { name: 'landmarks', shape: [1, 68, 3] },
          { name: 'heatmaps', shape: [1, 68, 64, 64] },
        ],
        nodes: [constantNode('landmarks', [1, 68, 3], landmarks), constantNode('heatmaps', [1, 68, 64, 64], heat)],
      });
      const bbox = [100, 50, 300, 250];
      const m = zoo.fan2d4CropMatrix(bbox);
      assert.deepStrictEqual(
        m.map((v) => +v.toFixed(4)),
        [0.975, 0, -67, 0, 0.975, -18.25],
      );
      const { data } = zoo.fan2d4Preprocess(astronaut, [180, 56, 271, 179]);
      // Plane 0 is blue: the crop centre pixel's B / 255.
      const mc = zoo.fan2d4CropMatrix([180, 56, 271, 179]);
      const centre = applyAffine(invertAffine(mc), [[128, 128]])[0].map(Math.round);
      assert.ok(Math.abs(data[128 * 256 + 128] - px(astronaut, centre[0], centre[1])[2] / 255) < 0.02);
      const handle = await pool.acquire(path, { contract: zoo.FAN2D4_CONTRACT });
      try {
        const fan = new zoo.Fan2d4Landmarker(handle);
        const { points, confidence } = await fan.landmarks68WithConfidence(astronaut, bbox);
        assert.ok(Math.abs(confidence - 0.5) < 1e-6, `confidence ${confidence}`);
        assert.strictEqual(points.length, 68);
        for (const i of [0, 33, 67]) {
          const wantX = ((10 + i * 0.5) * 4 + 67) / 0.975,
            wantY = ((20 + i * 0.25) * 4 + 18.25) / 0.975;
          assert.ok(Math.abs(points[i][0] - wantX) < 1e-3 && Math.abs(points[i][1] - wantY) < 1e-3, `point ${i}: ${points[i]} vs ${wantX},${wantY}`);
        }
        assert.deepStrictEqual(await fan.landmarks68(astronaut, bbox), points);
      } finally {
        await handle.release();
      }
      assert.strictEqual(
        zoo.decodeFan2d4(
          landmarks,
          heat.map((v) => v * 3),
          m,
        ).confidence,
        1,
        'confidence clamps at 1',
      );
    });

    it('fan_68_5: 5 points normalised to ffhq_512 (unit), 68 out mapped back by the inverse', async () => {
      // Template points in a 300 px crop at (40, 60) normalise to the unit template exactly.
      const unit = templatePoints('ffhq_512', 1);
      const lm5 = unit.map(([x, y]) => [40 + x * 300, 60 + y * 300]);
      const { data } = zoo.fan68from5Preprocess(lm5);
      unit.flat().forEach((v, i) => assert.ok(Math.abs(data[i] - v) < 1e-6));
      // Graph: output (68,2) = the 5 input points tiled 14× and cut to 68 → decoded they must return to the frame points.
      const path = model({
        inputs: [{ name: 'input', shape: [1, 5, 2] }],
        outputs: [{ name: 'output', shape: [68, 2] }],
        initializers: [int64('reps', [1, 14, 1]), int64('st', [0]), int64('en', [68]), int64('ax', [1]), int64('shp', [68, 2])],
        nodes: [
          { op: 'Tile', inputs: ['input', 'reps'], outputs: ['t'] },
          { op: 'Slice', inputs: ['t', 'st', 'en', 'ax'], outputs: ['s'] },
          { op: 'Reshape', inputs: ['s', 'shp'], outputs: ['output'] },
        ],
      });
      const handle = await pool.acquire(path, { contract: zoo.FAN68FROM5_CONTRACT });
      try {
        const fan = new zoo.Fan68From5(handle);
        const pts = await fan.landmarks68From5(ASTRONAUT_5);
        assert.strictEqual(pts.length, 68);
        for (let i = 0; i < 68; i++) {
          const [x, y] = ASTRONAUT_5[i % 5];
          assert.ok(Math.abs(pts[i][0] - x) < 1e-3 && Math.abs(pts[i][1] - y) < 1e-3, `point ${i}: ${pts[i]}`);
        }
      } finally {
        await handle.release();
      }
    });
  });

  describe('arcface_w600k_r50', () => {
    it('feeds arcface_112_v2 RGB x/127.5−1 and keeps the raw and the normalised embedding', async () => {
      const path = model({
        inputs: [{ name: 'input', shape: [1, 3, 112, 112] }],
        outputs: [{ name: 'embedding', shape: [1, 512] }],
        initializers: [int64('st', [0]), int64('en', [512]), int64('ax', [1])],
        nodes: [
          { op: 'Flatten', inputs: ['input'], outputs: ['flat'], attrs: { axis: 1 } },
          { op: 'Slice', inputs: ['flat', 'st', 'en', 'ax'], outputs: ['embedding'] },
        ],
      });
      const handle = await pool.acquire(path, { contract: zoo.ARCFACE_CONTRACT });
      try {
        const embedder = new zoo.ArcfaceEmbedder(handle);
        const { raw, normed } = await embedder.embedPair(astronaut, ASTRONAUT_5);
        const fed = zoo.arcfacePreprocess(astronaut, ASTRONAUT_5);
        assert.ok(fed.every((v) => v >= -1 && v <= 1));
        assert.deepStrictEqual(Array.from(raw), Array.from(fed.subarray(0, 512)), 'the raw output is what reached the model (first 512 values of the R plane)');
        assert.ok(Math.abs(Math.hypot(...normed) - 1) < 1e-5);
        assert.deepStrictEqual(await embedder.embed(astronaut, ASTRONAUT_5), normed);
      } finally {
        await handle.release();
      }
    });
  });

  describe('wrong files are refused with E_MODEL_CONTRACT naming the mismatch', () => {
    it('the SCRFD detector file offered as an embedder, a swapper and a landmarker', async function () {
      const SCRFD = requireTestModel(this, SCRFD_FILE);
      await assert.rejects(
        pool.acquire(SCRFD, { contract: zoo.ARCFACE_CONTRACT, label: 'scrfd.onnx' }),
        (e) => e.code === 'E_MODEL_CONTRACT' && /scrfd\.onnx/.test(e.message) && /input "input" is missing \(model has: input\.1\)/.test(e.message),
      );
      await assert.rejects(
        pool.acquire(SCRFD, { contract: zoo.INSWAPPER_CONTRACT, label: 'scrfd.onnx' }),
        (e) => e.code === 'E_MODEL_CONTRACT' && /input "target" is missing/.test(e.message) && /input "source" is missing/.test(e.message),
      );
      // Without a name contract the adapters' own checks refuse it, and adoptSession releases the handle.
      const handle = await pool.acquire(SCRFD, { label: 'scrfd.onnx' });
      await assert.rejects(
        zoo.adoptSession(handle, (h) => new zoo.ArcfaceEmbedder(h)),
        (e) => e.code === 'E_MODEL_CONTRACT' && /arcface_w600k_r50/.test(e.message) && /input "input\.1" has shape \[1,3,640,640\], expected \[\?,3,112,112\]/.test(e.message),
      );
      assert.strictEqual(pool.stats().entries.length, 0, 'the refused session was released');
      const h2 = await pool.acquire(SCRFD, { label: 'scrfd.onnx' });
      try {
        assert.throws(
          () => new zoo.Fan2d4Landmarker(h2),
          (e) => e.code === 'E_MODEL_CONTRACT' && /2dfan4/.test(e.message),
        );
        assert.throws(
          () => new zoo.ZooSwapperModel(h2, zoo.ZOO_SWAPPER_SPECS.hyperswap_256),
          (e) => e.code === 'E_MODEL_CONTRACT' && /hyperswap_256/.test(e.message) && /target image input and a source vector/.test(e.message),
        );
        assert.throws(
          () => new zoo.GfpganEnhancer(h2),
          (e) => e.code === 'E_MODEL_CONTRACT' && /output "score_8" has shape \[1,12800,1\], expected \[1,3,640,640\]/.test(e.message),
        );
        assert.throws(
          () => new zoo.YolofaceDetector(h2),
          (e) => e.code === 'E_MODEL_CONTRACT' && /expected \[1,20,\?\]/.test(e.message),
        );
      } finally {
        await h2.release();
      }
    });

    it('a codeformer whose weight input is not a single value is refused', async () => {
      const path = model({
        inputs: [
          { name: 'input', shape: [1, 3, 512, 512] },
          { name: 'weight', type: 'float64', shape: [2] },
        ],
        outputs: [{ name: 'output', shape: [1, 3, 512, 512] }],
        nodes: [{ op: 'Identity', inputs: ['input'], outputs: ['output'] }],
      });
      const handle = await pool.acquire(path, { warmup: false });
      try {
        assert.throws(
          () => new zoo.GfpganEnhancer(handle, 'codeformer'),
          (e) => e.code === 'E_MODEL_CONTRACT' && /"weight" has shape \[2\], expected \[1\]/.test(e.message),
        );
      } finally {
        await handle.release();
      }
    });
  });

  it('ZOO_CONTRACTS lists every contract by id and role', () => {
    for (const [id, c] of Object.entries(zoo.ZOO_CONTRACTS)) {
      assert.strictEqual(c.id, id === 'codeformer' || id === 'gfpgan' ? id : c.id);
      assert.ok(['detector', 'landmarker', 'embedder', 'converter', 'swapper', 'enhancer', 'masker'].includes(c.role), id);
    }
    assert.strictEqual(zoo.ZOO_CONTRACTS.inswapper_128.role, 'swapper');
    assert.ok(zoo.ZOO_CONTRACTS.scrfd && zoo.ZOO_CONTRACTS.yunet && zoo.ZOO_CONTRACTS.retinaface_mxnet && zoo.ZOO_CONTRACTS.yoloface);
  });

  it('float16 helpers round-trip', () => {
    for (const v of [0, 1, -2.5, 0.1, 65504, 1e-5]) assert.ok(Math.abs(zoo.halfToFloat(zoo.floatToHalf(v)) - v) <= Math.abs(v) * 1e-3 + 1e-7, String(v));
  });
});
