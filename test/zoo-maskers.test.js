'use strict';
// xseg (occlusion) and bisenet (region) maskers on ONNX graphs built with the models' shapes:
// the values that reach the model (NHWC BGR [0,1]; NCHW RGB ImageNet) and the decoding of
// known outputs (probability plane / 19-class logits → FaceFusion-smoothed crop-sized mask),
// and the masks at work in a swap. Crops are aligned from fr_biden.jpg.
const assert = require('assert');

const { SessionPool, warpAffine, resizeBilinear, alignmentMatrix, gaussianKernel1d } = require('../dist/runtime/internal');
const zoo = require('../dist/runtime/internal');
const { int64, scalar, spy, faceWithPoints, modelFiles, countChanged } = require('./helpers/zoo-fixtures');

// fr_biden.jpg's 5 points (SCRFD on the real file).
let BIDEN_5;

/** xseg-shaped graph: output (1,256,256,1) = k × B channel of the input + constant plane `plane` (256×256). */
function xsegSpec({ k = 1, plane = new Float32Array(256 * 256), rank3 = false }) {
  const nodes = [
    { op: 'Slice', inputs: ['in_face', 'st', 'en', 'ax'], outputs: ['blue'] },
    { op: 'Mul', inputs: ['blue', 'k'], outputs: ['kb'] },
    { op: 'Add', inputs: ['kb', 'plane'], outputs: rank3 ? ['m4'] : ['out_mask'] },
  ];
  if (rank3) nodes.push({ op: 'Reshape', inputs: ['m4', 'shape3'], outputs: ['out_mask'] });
  return {
    inputs: [{ name: 'in_face', shape: [1, 256, 256, 3] }],
    outputs: [{ name: 'out_mask', shape: rank3 ? [1, 256, 256] : [1, 256, 256, 1] }],
    initializers: [int64('st', [0]), int64('en', [1]), int64('ax', [3]), scalar('k', k), { name: 'plane', dims: [1, 256, 256, 1], data: plane }, ...(rank3 ? [int64('shape3', [1, 256, 256])] : [])],
    nodes,
  };
}

/**
 * bisenet-shaped graph: (1,3,512,512) → (1,19,512,512) logits whose argmax is a 2×2 class map
 * (nearest-upsampled: each quadrant one class) — plus 0 × mean(input) so the input is used.
 */
function bisenetSpec(quadrants) {
  const small = new Float32Array(19 * 4);
  quadrants.forEach((cls, q) => {
    small[cls * 4 + q] = 1;
  });
  return {
    inputs: [{ name: 'input', shape: [1, 3, 512, 512] }],
    outputs: [{ name: 'output', shape: [1, 19, 512, 512] }],
    initializers: [{ name: 'small', dims: [1, 19, 2, 2], data: small }, int64('sizes', [1, 19, 512, 512]), scalar('zero', 0)],
    nodes: [
      { op: 'Resize', inputs: ['small', '', '', 'sizes'], outputs: ['big'] },
      { op: 'ReduceMean', inputs: ['input'], outputs: ['mean'], attrs: { keepdims: 1 } },
      { op: 'Mul', inputs: ['mean', 'zero'], outputs: ['nothing'] },
      { op: 'Add', inputs: ['big', 'nothing'], outputs: ['output'] },
    ],
  };
}

describe('zoo maskers: xseg and bisenet', function () {
  this.timeout(60000);
  let pool;
  let biden, crop128, crop256, crop512;
  const files = modelFiles();
  const model = files.write;
  const paths = {};

  before(async () => {
    pool = new SessionPool({ device: 'cpu' });
    ({ frame: biden, points: BIDEN_5 } = await faceWithPoints(pool, 'fr_biden.jpg'));
    const aligned = (size) => warpAffine(biden, alignmentMatrix(BIDEN_5, 'arcface_128', size), size, size, { border: 'replicate' });
    crop128 = aligned(128);
    crop256 = aligned(256);
    crop512 = aligned(512);
    const step = new Float32Array(256 * 256);
    step.fill(1, 0, 128 * 256); // rows 0..127 = face
    paths.xsegEcho = model(xsegSpec({ k: 1 }), 'xseg_echo.onnx');
    paths.xsegStep = model(xsegSpec({ k: 0, plane: step }), 'xseg_step.onnx');
    paths.xsegStep3 = model(xsegSpec({ k: 0, plane: step, rank3: true }), 'xseg_step3.onnx');
    paths.xsegZero = model(xsegSpec({ k: 0 }), 'xseg_zero.onnx');
    paths.xsegOne = model(xsegSpec({ k: 0, plane: new Float32Array(256 * 256).fill(1) }), 'xseg_one.onnx');
    // quadrants: top-left skin, top-right hair (17), bottom-left skin, bottom-right left-eye (4).
    paths.bisenet = model(bisenetSpec([1, 17, 1, 4]), 'bisenet_resnet_34.onnx');
    paths.swapper = model(
      {
        inputs: [
          { name: 'target', shape: [1, 3, 256, 256] },
          { name: 'source', shape: [1, 512] },
        ],
        outputs: [{ name: 'output', shape: [1, 3, 256, 256] }],
        initializers: [scalar('lift', 0.5), int64('st', [0]), int64('en', [1]), int64('ax', [1]), scalar('zero', 0)],
        nodes: [
          { op: 'Slice', inputs: ['source', 'st', 'en', 'ax'], outputs: ['s0'] },
          { op: 'Mul', inputs: ['s0', 'zero'], outputs: ['z'] },
          { op: 'Add', inputs: ['lift', 'z'], outputs: ['l'] },
          { op: 'Add', inputs: ['target', 'l'], outputs: ['output'] },
        ],
      },
      'hyperswap_graph.onnx',
    );
  });
  after(async () => {
    await pool.close();
    files.cleanup();
  });

  describe('xseg (occlusion)', () => {
    it('feeds the crop resized to 256, NHWC, B,G,R / 255; decodes to a crop-sized mask', async () => {
      const s = spy(await pool.acquire(paths.xsegEcho, { contract: zoo.XSEG_CONTRACT }));
      const masker = await zoo.openMasker('xseg', s.handle, 'xseg_1');
      try {
        assert.strictEqual(masker.modelId, 'xseg_1');
        assert.strictEqual(masker.provider, 'cpu');
        const mask = await masker.maskFor(crop128);
        const fed = s.feeds[0].in_face;
        assert.deepStrictEqual(fed.dims, [1, 256, 256, 3]);
        const big = resizeBilinear(crop128, 256, 256);
        let worst = 0;
        for (let p = 0; p < 256 * 256; p++) {
          for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(fed.data[p * 3 + c] - big.data[p * 3 + (2 - c)] / 255));
        }
        assert.ok(worst < 1e-6, `NHWC BGR feed differs by ${worst}`);
        assert.strictEqual(mask.length, 128 * 128);
        assert.ok(mask.every((v) => v >= 0 && v <= 1));
        // The echo graph's output is the blue plane: decoded the library's way.
        const blue = Float32Array.from({ length: 256 * 256 }, (_, p) => fed.data[p * 3]);
        assert.deepStrictEqual(Array.from(mask), Array.from(zoo.decodeMaskPlane(blue, 256, 128, 128)));
      } finally {
        await s.handle.release();
      }
    });

    for (const rank3 of [false, true]) {
      it(`decodes a known step mask (${rank3 ? '(1,256,256)' : '(1,256,256,1)'} output): σ 5 blur, clamp [0.5,1], rescaled — the ramp lies inside the face`, async () => {
        const masker = await zoo.openMasker('xseg', await pool.acquire(rank3 ? paths.xsegStep3 : paths.xsegStep), 'xseg_1');
        try {
          const mask = await masker.maskFor(crop256);
          const k = gaussianKernel1d(5);
          assert.strictEqual(k.length, 41, 'cv2 float kernel: 2·round(4σ)+1 taps');
          const r = 20;
          const sumWithin = (d) => {
            let s = 0;
            for (let t = -d; t <= d; t++) s += k[r + t];
            return s;
          };
          for (const x of [0, 100, 255]) {
            assert.ok(Math.abs(mask[50 * 256 + x] - 1) < 1e-5, `deep inside row 50, x ${x}: ${mask[50 * 256 + x]}`);
            assert.ok(Math.abs(mask[107 * 256 + x] - 1) < 1e-5, 'row 107: the whole kernel is inside');
            // row 127 (last face row): blurred = ½ + k0/2 → (blurred − ½)·2 = k0; row 120: Σ|t|≤7 k.
            assert.ok(Math.abs(mask[127 * 256 + x] - k[r]) < 1e-5, `row 127: ${mask[127 * 256 + x]} vs ${k[r]}`);
            assert.ok(Math.abs(mask[120 * 256 + x] - sumWithin(7)) < 1e-5, `row 120: ${mask[120 * 256 + x]} vs ${sumWithin(7)}`);
            assert.strictEqual(mask[128 * 256 + x], 0, 'outside the face: 0');
            assert.strictEqual(mask[200 * 256 + x], 0);
          }
          // A 512 crop: the 256 output is resized first; the edge lands at row 256.
          const big = await masker.maskFor(crop512);
          assert.strictEqual(big.length, 512 * 512);
          assert.ok(big[200 * 512 + 10] > 0.9999 && big[260 * 512 + 10] === 0 && big[250 * 512 + 10] > 0 && big[250 * 512 + 10] < 1);
        } finally {
          await masker.release();
        }
      });
    }
  });

  describe('bisenet (regions)', () => {
    it('feeds the crop resized to 512, RGB, ImageNet mean/std; 19-class argmax → the chosen regions', async () => {
      const s = spy(await pool.acquire(paths.bisenet, { contract: zoo.BISENET_CONTRACT }));
      try {
        const skin = await zoo.openMasker('bisenet', s.handle, 'bisenet_resnet_34', ['skin']);
        const m = await skin.maskFor(crop256);
        const fed = s.feeds[0].input;
        assert.deepStrictEqual(fed.dims, [1, 3, 512, 512]);
        const big = resizeBilinear(crop256, 512, 512);
        const mean = [0.485, 0.456, 0.406],
          std = [0.229, 0.224, 0.225];
        let worst = 0;
        for (let c = 0; c < 3; c++) {
          for (let p = 0; p < 512 * 512; p++) worst = Math.max(worst, Math.abs(fed.data[c * 512 * 512 + p] - (big.data[p * 3 + c] / 255 - mean[c]) / std[c]));
        }
        assert.ok(worst < 1e-5, `ImageNet feed differs by ${worst}`);
        // 256 crop: quadrant edges at 128. Skin = the left half.
        assert.strictEqual(m.length, 256 * 256);
        const at = (mask, w, x, y) => mask[y * w + x];
        assert.ok(at(m, 256, 60, 60) > 0.9999 && at(m, 256, 60, 200) > 0.9999, 'skin quadrants');
        assert.strictEqual(at(m, 256, 200, 60), 0, 'hair is not skin');
        assert.strictEqual(at(m, 256, 200, 200), 0, 'left-eye is not skin');
        assert.strictEqual(at(m, 256, 128, 60), 0, 'the edge itself maps to 0');

        const eye = new zoo.BisenetMasker(s.handle, ['left-eye']);
        const e = await eye.maskFor(crop512);
        assert.ok(at(e, 512, 400, 400) > 0.9999);
        assert.strictEqual(at(e, 512, 400, 100), 0);
        assert.strictEqual(at(e, 512, 100, 400), 0);

        const all = new zoo.BisenetMasker(s.handle);
        assert.deepStrictEqual(all.regions, ['skin', 'left-eyebrow', 'right-eyebrow', 'left-eye', 'right-eye', 'glasses', 'nose', 'mouth', 'upper-lip', 'lower-lip']);
        const a = await all.maskFor(crop512);
        assert.ok(at(a, 512, 100, 100) > 0.9999 && at(a, 512, 400, 400) > 0.9999, 'skin and eye kept');
        assert.strictEqual(at(a, 512, 400, 100), 0, 'hair dropped');
      } finally {
        await s.handle.release();
      }
    });

    it('FACE_REGIONS: FaceFusion names and class ids; regionsFromLogits picks the argmax (pure)', () => {
      assert.deepStrictEqual(
        { ...zoo.FACE_REGIONS },
        { skin: 1, 'left-eyebrow': 2, 'right-eyebrow': 3, 'left-eye': 4, 'right-eye': 5, glasses: 6, nose: 10, mouth: 11, 'upper-lip': 12, 'lower-lip': 13 },
      );
      // 3 classes on a 2×2 plane (class-major): pixel winners 2, 0, 1, 2.
      const logits = Float32Array.from([0, 5, 0, 1, /* c1 */ 1, 0, 3, 0, /* c2 */ 2, 0, 0, 4]);
      assert.deepStrictEqual(Array.from(zoo.regionsFromLogits(logits, 3, 2, new Set([2]))), [1, 0, 0, 1]);
      assert.deepStrictEqual(Array.from(zoo.regionsFromLogits(logits, 3, 2, new Set([0, 1]))), [0, 1, 1, 0]);
    });
  });

  describe('refusals release the session', () => {
    let refusals;
    before(() => {
      refusals = new SessionPool({ device: 'cpu' });
    });
    after(() => refusals.close());
    const released = () => assert.strictEqual(refusals.stats().entries.length, 0);

    it('an xseg file offered as bisenet, a bisenet file as xseg, an unknown contract, unknown regions', async () => {
      await assert.rejects(
        zoo.openMasker('bisenet', await refusals.acquire(paths.xsegEcho, { label: 'xseg.onnx' }), 'b'),
        (e) =>
          e.code === 'E_MODEL_CONTRACT' && /xseg\.onnx does not fit the contract bisenet/.test(e.message) && /input "in_face" has shape \[1,256,256,3\], expected \[\?,3,512,512\]/.test(e.message),
      );
      released();
      await assert.rejects(
        zoo.openMasker('xseg', await refusals.acquire(paths.bisenet, { label: 'bisenet.onnx' }), 'x'),
        (e) => e.code === 'E_MODEL_CONTRACT' && /contract xseg/.test(e.message) && /expected \[\?,256,256,3\]/.test(e.message),
      );
      released();
      await assert.rejects(
        zoo.openMasker('bisenet', await refusals.acquire(paths.swapper, { label: 'swapper.onnx' }), 'b'),
        (e) => e.code === 'E_MODEL_CONTRACT' && /contract bisenet/.test(e.message),
      );
      released();
      await assert.rejects(
        zoo.openMasker('occluder', await refusals.acquire(paths.xsegEcho, { label: 'xseg.onnx' }), 'x'),
        (e) => e.code === 'E_MODEL_CONTRACT' && /unknown masker contract "occluder"/.test(e.message),
      );
      released();
      await assert.rejects(
        zoo.openMasker('bisenet', await refusals.acquire(paths.bisenet, { label: 'bisenet.onnx' }), 'b', ['skin', 'hair']),
        (e) => e.code === 'E_BAD_PARAMETER' && /"hair" unknown/.test(e.message) && /lower-lip/.test(e.message),
      );
      released();
    });
  });

  describe('maskers in a swap (masks combined by minimum)', () => {
    it('an xseg that sees only occlusion leaves the frame unchanged; one that sees the face lets the swap through; bisenet on the swapped crop', async () => {
      const swapper = await zoo.openSwapper('hyperswap_256', await pool.acquire(paths.swapper, { contract: zoo.ZOO_CONTRACTS.hyperswap_256 }), 'hyperswap_1a_256');
      const zero = await zoo.openMasker('xseg', await pool.acquire(paths.xsegZero), 'xseg_1');
      const one = await zoo.openMasker('xseg', await pool.acquire(paths.xsegOne), 'xseg_1');
      const parser = await zoo.openMasker('bisenet', await pool.acquire(paths.bisenet), 'bisenet_resnet_34', ['left-eye']);
      const raw = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i));
      const run = async (options) => {
        const out = { width: biden.width, height: biden.height, data: new Uint8Array(biden.data) };
        await swapper.swapInto(out, biden, BIDEN_5, { embedding: raw }, options);
        return countChanged(out.data, biden.data);
      };
      try {
        assert.strictEqual(await run({ masks: [(c) => zero.maskFor(c)] }), 0);
        const open = await run({ masks: [(c) => one.maskFor(c)] });
        const plain = await run({});
        assert.ok(open > 1000 && open === plain, `xseg all-face = box only: ${open} vs ${plain}`);
        // Only the crop's bottom-right quadrant is "left-eye": fewer pixels change, but some do.
        const region = await run({ masks: [(c) => one.maskFor(c)], swappedMasks: [(c) => parser.maskFor(c)] });
        assert.ok(region > 100 && region < plain / 2, `region mask: ${region} of ${plain}`);
        assert.strictEqual(await run({ masks: [(c) => one.maskFor(c), (c) => zero.maskFor(c)], swappedMasks: [(c) => parser.maskFor(c)] }), 0, 'min with a zero mask');
      } finally {
        await Promise.all([swapper.release(), zero.release(), one.release(), parser.release()]);
        assert.strictEqual(pool.stats().entries.length, 0, 'every session released');
      }
    });
  });
});
