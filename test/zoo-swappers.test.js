'use strict';
// Every swapper kind through openSwapper on ONNX graphs built with the FaceFusion models'
// input/output names and shapes: what reaches `source` (emap product, crossface converter,
// normalisation, weight mix, the warped source face) and `target` (template, size,
// normalisation, pixel-boost tiles), how outputs are decoded and pasted back with the masks.
// Target: fr_biden.jpg; source face for image swappers: fr_obama.jpg; 5 points from SCRFD.
const assert = require('assert');

const { SessionPool, warpAffine, alignmentMatrix } = require('../dist/runtime/internal');
const zoo = require('../dist/runtime/internal');
const { int64, scalar, spy, faceWithPoints, modelFiles, countChanged } = require('./helpers/zoo-fixtures');

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * A swapper graph: output = target + lift + k × (first value of source). lift 0, k 0 echoes
 * the target; `emap` appends a 512×512 last initializer (inswapper).
 */
function swapperSpec({ size, source = [1, 512], lift = 0, k = 0, emap }) {
  const initializers = [int64('st', [0]), int64('en', [1]), int64('ax', [1]), int64('shape4', [1, 1, 1, 1]), scalar('lift', lift), scalar('k', k)];
  if (emap) initializers.push({ name: 'emap', dims: [512, 512], data: emap });
  return {
    inputs: [
      { name: 'target', shape: [1, 3, size, size] },
      { name: 'source', shape: source },
    ],
    outputs: [{ name: 'output', shape: [1, 3, size, size] }],
    initializers,
    nodes: [
      { op: 'Flatten', inputs: ['source'], outputs: ['flat'], attrs: { axis: 1 } },
      { op: 'Slice', inputs: ['flat', 'st', 'en', 'ax'], outputs: ['first'] },
      { op: 'Reshape', inputs: ['first', 'shape4'], outputs: ['first4'] },
      { op: 'Mul', inputs: ['first4', 'k'], outputs: ['scaled'] },
      { op: 'Add', inputs: ['target', 'scaled'], outputs: ['t1'] },
      { op: 'Add', inputs: ['t1', 'lift'], outputs: ['output'] },
    ],
  };
}

/** crossface graph: output = 2 × input + 1. */
const CROSSFACE = {
  inputs: [{ name: 'input', shape: [1, 512] }],
  outputs: [{ name: 'output', shape: [1, 512] }],
  initializers: [scalar('two', 2), scalar('one', 1)],
  nodes: [
    { op: 'Mul', inputs: ['input', 'two'], outputs: ['m'] },
    { op: 'Add', inputs: ['m', 'one'], outputs: ['output'] },
  ],
};

// emap = 2 × a cyclic permutation: (raw × emap)_j = 2 raw_(j−1).
const EMAP = new Float32Array(512 * 512);
for (let i = 0; i < 512; i++) EMAP[i * 512 + ((i + 1) % 512)] = 2;

const RAW = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 1.3) * 0.8 + 0.1);
const RAW_TARGET = Float32Array.from({ length: 512 }, (_, i) => Math.cos(i * 0.7) * 1.5);

function l2(v) {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
}

function assertClose(actual, expected, tol, what) {
  assert.strictEqual(actual.length, expected.length, `${what}: length`);
  let worst = 0,
    at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}: differs by ${worst} at ${at} (${actual[at]} vs ${expected[at]})`);
}

/** Planar CHW of an RGB frame: (x/255 − mean)/std per channel (mean/std on the unit scale). */
function chw(frame, mean = [0, 0, 0], std = [1, 1, 1]) {
  const plane = frame.width * frame.height;
  const out = new Float32Array(plane * 3);
  for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) out[c * plane + i] = (frame.data[i * 3 + c] / 255 - mean[c]) / std[c];
  return out;
}

describe('zoo swappers through openSwapper', function () {
  this.timeout(60000);
  let pool;
  let biden, obama, bidenPoints, obamaPoints;
  const files = modelFiles();
  const model = files.write;
  const paths = {};

  before(async () => {
    pool = new SessionPool({ device: 'cpu' });
    ({ frame: biden, points: bidenPoints } = await faceWithPoints(pool, 'fr_biden.jpg'));
    ({ frame: obama, points: obamaPoints } = await faceWithPoints(pool, 'fr_obama.jpg'));
    paths.crossface = model(CROSSFACE, 'crossface.onnx');
    paths.inswapperEcho = model(swapperSpec({ size: 128, emap: EMAP }), 'inswapper_128.onnx');
    paths.inswapperLift = model(swapperSpec({ size: 128, lift: 0.25, emap: EMAP }), 'inswapper_lift.onnx');
    paths.s128 = model(swapperSpec({ size: 128 }), 'plain_128.onnx');
    paths.s256 = model(swapperSpec({ size: 256, lift: 0.25 }), 'swapper_256.onnx');
    paths.s512 = model(swapperSpec({ size: 512, lift: 0.25 }), 'swapper_512.onnx');
    paths.echo256 = model(swapperSpec({ size: 256 }), 'echo_256.onnx');
    paths.blend = model(swapperSpec({ size: 256, source: [1, 3, 112, 112], lift: 0.25 }), 'blendswap_256.onnx');
    paths.uniface = model(swapperSpec({ size: 256, source: [1, 3, 256, 256], lift: 0.25 }), 'uniface_256.onnx');
  });
  after(async () => {
    await pool.close();
    files.cleanup();
  });

  async function open(contractId, path, withConverter) {
    const s = spy(await pool.acquire(path, { contract: zoo.ZOO_CONTRACTS[contractId], label: `${contractId} graph` }));
    const converter = withConverter ? await pool.acquire(paths.crossface, { contract: zoo.ZOO_CONTRACTS[zoo.SWAPPER_KINDS[contractId].converter] }) : undefined;
    const swapper = await zoo.openSwapper(contractId, s.handle, `${contractId}-test`, converter ? { converter } : {});
    return { swapper, feeds: s.feeds };
  }

  // contract id → graph, expected source for RAW, target template/size/normalisation, output decoding.
  const CASES = [
    {
      id: 'inswapper_128',
      path: 'inswapperLift',
      source: () => Float32Array.from({ length: 512 }, (_, j) => (2 * RAW[(j + 511) % 512]) / Math.hypot(...RAW)),
      template: 'arcface_128',
      size: 128,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    },
    { id: 'simswap_256', path: 's256', converter: true, source: () => l2(RAW.map((v) => 2 * v + 1)), template: 'arcface_112_v1', size: 256, mean: IMAGENET_MEAN, std: IMAGENET_STD },
    { id: 'simswap_512', path: 's512', converter: true, source: () => l2(RAW.map((v) => 2 * v + 1)), template: 'arcface_112_v1', size: 512, mean: [0, 0, 0], std: [1, 1, 1] },
    { id: 'hyperswap_256', path: 's256', source: () => l2(RAW), template: 'arcface_128', size: 256, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    { id: 'ghost_256', path: 's256', converter: true, source: () => RAW.map((v) => 2 * v + 1), template: 'arcface_112_v1', size: 256, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    { id: 'hififace_256', path: 's256', converter: true, source: () => l2(RAW.map((v) => 2 * v + 1)), template: 'mtcnn_512', size: 256, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    { id: 'blendswap_256', path: 'blend', image: { template: 'arcface_112_v2', size: 112 }, template: 'ffhq_512', size: 256, mean: [0, 0, 0], std: [1, 1, 1] },
    { id: 'uniface_256', path: 'uniface', image: { template: 'ffhq_512', size: 256 }, template: 'ffhq_512', size: 256, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  ];

  for (const c of CASES) {
    it(`${c.id}: the ${c.image ? 'warped source face' : 'expected source vector'} and the ${c.template}@${c.size} target reach the model; the result is pasted back`, async () => {
      const { swapper, feeds } = await open(c.id, paths[c.path], c.converter);
      try {
        assert.strictEqual(swapper.modelId, `${c.id}-test`);
        assert.strictEqual(swapper.sourceKind, c.image ? 'image' : 'embedding');
        assert.strictEqual(zoo.SWAPPER_KINDS[c.id].sourceKind, swapper.sourceKind);
        assert.strictEqual(swapper.provider, 'cpu');
        const source = c.image ? { frame: obama, landmarks5: obamaPoints } : { embedding: RAW };
        const out = { width: biden.width, height: biden.height, data: new Uint8Array(biden.data) };
        const rect = await swapper.swapInto(out, biden, bidenPoints, source);
        assert.strictEqual(feeds.length, 1, 'one run without pixel boost');
        const fed = feeds[0];
        // source
        if (c.image) {
          const warped = warpAffine(obama, alignmentMatrix(obamaPoints, c.image.template, c.image.size), c.image.size, c.image.size, { border: 'replicate' });
          assert.deepStrictEqual(fed.source.dims, [1, 3, c.image.size, c.image.size]);
          assertClose(fed.source.data, chw(warped), 1e-6, 'source image');
        } else {
          assert.deepStrictEqual(fed.source.dims, [1, 512]);
          assertClose(fed.source.data, c.source(), 1e-5, 'source vector');
        }
        // target
        const crop = warpAffine(biden, alignmentMatrix(bidenPoints, c.template, c.size), c.size, c.size, { border: 'replicate' });
        assert.deepStrictEqual(fed.target.dims, [1, 3, c.size, c.size]);
        assertClose(fed.target.data, chw(crop, c.mean, c.std), 1e-5, 'target crop');
        // paste-back: pixels change inside the covered rectangle only.
        assert.ok(rect.width > 50 && rect.height > 50, `rect ${JSON.stringify(rect)}`);
        let inside = 0,
          outside = 0;
        for (let y = 0; y < biden.height; y++) {
          for (let x = 0; x < biden.width; x++) {
            const o = (y * biden.width + x) * 3;
            if (out.data[o] === biden.data[o] && out.data[o + 1] === biden.data[o + 1] && out.data[o + 2] === biden.data[o + 2]) continue;
            if (x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height) inside++;
            else outside++;
          }
        }
        assert.strictEqual(outside, 0);
        assert.ok(inside > 1000, `${inside} pixels changed`);
      } finally {
        await swapper.release();
      }
    });
  }

  it('output decoding: [0,1] models clip, [−1,1] models (× 0.5 + 0.5) give back an echoed target exactly', async () => {
    // hyperswap: target in [−1,1]; the echo graph returns it; decoded it must be the crop itself.
    const { swapper } = await open('hyperswap_256', paths.echo256);
    try {
      const { target, crop } = await swapper.swapCrop(biden, bidenPoints, { embedding: RAW });
      assert.strictEqual(countChanged(crop.data, target.data), 0);
    } finally {
      await swapper.release();
    }
    // inswapper: target /255, echo → the crop itself.
    const ins = await open('inswapper_128', paths.inswapperEcho);
    try {
      const { target, crop } = await ins.swapper.swapCrop(biden, bidenPoints, { embedding: RAW });
      assert.strictEqual(countChanged(crop.data, target.data), 0);
    } finally {
      await ins.swapper.release();
    }
  });

  describe('pixel boost (space-to-depth tiles of the model size)', () => {
    it('boost 256 on a 128 model: 4 runs of 128, tile i·2+j = pixels (2y+i, 2x+j), reassembled exactly to the 256 crop', async () => {
      const { swapper, feeds } = await open('inswapper_128', paths.inswapperEcho);
      try {
        const { target, crop, matrix } = await swapper.swapCrop(biden, bidenPoints, { embedding: RAW }, { pixelBoost: 256 });
        assert.strictEqual(feeds.length, 4);
        const want = warpAffine(biden, alignmentMatrix(bidenPoints, 'arcface_128', 256), 256, 256, { border: 'replicate' });
        assert.strictEqual(target.width, 256);
        assert.strictEqual(countChanged(target.data, want.data), 0, 'the crop is aligned at the boost size');
        assert.deepStrictEqual(matrix, alignmentMatrix(bidenPoints, 'arcface_128', 256));
        for (let k = 0; k < 4; k++) {
          const i = k >> 1,
            j = k & 1;
          assert.deepStrictEqual(feeds[k].target.dims, [1, 3, 128, 128]);
          const tile = feeds[k].target.data;
          let worst = 0;
          for (let c = 0; c < 3; c++) {
            for (let y = 0; y < 128; y++) {
              for (let x = 0; x < 128; x++) {
                const v = want.data[((2 * y + i) * 256 + 2 * x + j) * 3 + c] / 255;
                worst = Math.max(worst, Math.abs(tile[c * 128 * 128 + y * 128 + x] - v));
              }
            }
          }
          assert.ok(worst < 1e-6, `tile ${k} differs by ${worst}`);
          assertClose(feeds[k].source.data, feeds[0].source.data, 0, `tile ${k} source`);
        }
        assert.strictEqual(crop.width, 256);
        assert.strictEqual(countChanged(crop.data, target.data), 0, 'the echoed tiles reassemble to the 256 crop exactly');
        // 384 = 3×3 tiles; 200 is no multiple of 128; 128 (default) = one run.
        feeds.length = 0;
        await swapper.swapCrop(biden, bidenPoints, { embedding: RAW }, { pixelBoost: 384 });
        assert.strictEqual(feeds.length, 9);
        await assert.rejects(swapper.swapCrop(biden, bidenPoints, { embedding: RAW }, { pixelBoost: 200 }), (e) => e.code === 'E_BAD_PARAMETER' && /multiple of the model size 128/.test(e.message));
        const out = { width: biden.width, height: biden.height, data: new Uint8Array(biden.data) };
        const rect = await swapper.swapInto(out, biden, bidenPoints, { embedding: RAW }, { pixelBoost: 512 });
        assert.ok(rect.width > 50, 'a boosted swap pastes back');
      } finally {
        await swapper.release();
      }
    });

    it('spaceToDepth / depthToSpace are inverse and FaceFusion-ordered (pure)', () => {
      const { spaceToDepth, depthToSpace } = require('../dist/runtime/internal');
      const w = 6,
        data = Uint8Array.from({ length: w * w * 3 }, (_, i) => i % 251);
      const frame = { width: w, height: w, channels: 3, data };
      const tiles = spaceToDepth(frame, 3);
      assert.strictEqual(tiles.length, 9);
      // tile 5 = (i 1, j 2): its pixel (1, 0) is frame pixel (y 1·3+1, x 0·3+2).
      assert.deepStrictEqual(Array.from(tiles[5].data.subarray((1 * 2 + 0) * 3, (1 * 2 + 0) * 3 + 3)), Array.from(data.subarray((4 * w + 2) * 3, (4 * w + 2) * 3 + 3)));
      assert.deepStrictEqual(Buffer.from(depthToSpace(tiles, 3).data), Buffer.from(data));
      assert.throws(() => spaceToDepth(frame, 4), RangeError);
    });
  });

  describe('weight: factor +0.35 (w 0) … −0.35 (w 1) on the model source vector', () => {
    const mix = (src, tgt, w) => {
      const f = Math.fround(0.35 * (1 - 2 * w));
      return src.map((v, i) => v * (1 - f) + tgt[i] * f);
    };

    it('hyperswap: normalised source mixed with the normalised target embedding', async () => {
      const { swapper, feeds } = await open('hyperswap_256', paths.s256);
      try {
        for (const w of [0, 0.25, 1]) {
          feeds.length = 0;
          await swapper.swapCrop(biden, bidenPoints, { embedding: RAW }, { weight: w, targetEmbedding: RAW_TARGET });
          assertClose(feeds[0].source.data, mix(l2(RAW), l2(RAW_TARGET), w), 1e-6, `weight ${w}`);
        }
        // w 0: 0.65 / 0.35 as FaceFusion's numpy.interp gives.
        const v = await swapper.sourceInput({ embedding: RAW }, { weight: 0, targetEmbedding: RAW_TARGET });
        assert.ok(Math.abs(v[3] - (0.65 * l2(RAW)[3] + 0.35 * l2(RAW_TARGET)[3])) < 1e-6);
        // 0.5 (and the default) leaves the source as it is and needs no target.
        assertClose(await swapper.sourceInput({ embedding: RAW }, { weight: 0.5 }), l2(RAW), 1e-7, 'weight 0.5');
        assertClose(await swapper.sourceInput({ embedding: RAW }), l2(RAW), 1e-7, 'default weight');
        await assert.rejects(swapper.sourceInput({ embedding: RAW }, { weight: 0.2 }), (e) => e.code === 'E_BAD_PARAMETER' && /targetEmbedding/.test(e.message));
        await assert.rejects(swapper.sourceInput({}), (e) => e.code === 'E_NO_SOURCE');
      } finally {
        await swapper.release();
      }
    });

    it('ghost: converted (not normalised) source mixed with the RAW target; inswapper: emap source with the normalised target', async () => {
      const ghost = await open('ghost_256', paths.s256, true);
      try {
        assertClose(
          await ghost.swapper.sourceInput({ embedding: RAW }, { weight: 0, targetEmbedding: RAW_TARGET }),
          mix(
            RAW.map((v) => 2 * v + 1),
            RAW_TARGET,
            0,
          ),
          1e-5,
          'ghost w 0',
        );
      } finally {
        await ghost.swapper.release();
      }
      const ins = await open('inswapper_128', paths.inswapperEcho);
      try {
        const emapped = zoo.emapSource(RAW, EMAP);
        assertClose(await ins.swapper.sourceInput({ embedding: RAW }, { weight: 1, targetEmbedding: RAW_TARGET }), mix(emapped, l2(RAW_TARGET), 1), 1e-6, 'inswapper w 1');
      } finally {
        await ins.swapper.release();
      }
    });

    it('image swappers ignore the weight', async () => {
      const { swapper } = await open('blendswap_256', paths.blend);
      try {
        const a = await swapper.sourceInput({ frame: obama, landmarks5: obamaPoints }, { weight: 0 });
        const b = await swapper.sourceInput({ frame: obama, landmarks5: obamaPoints });
        assertClose(a, b, 0, 'blendswap source');
        await assert.rejects(swapper.sourceInput({ embedding: RAW }), (e) => e.code === 'E_NO_SOURCE' && /source face image/.test(e.message));
      } finally {
        await swapper.release();
      }
    });

    it('the converter runs once per source embedding, not once per face or tile', async () => {
      const s = spy(await pool.acquire(paths.s256, { contract: zoo.ZOO_CONTRACTS.simswap_256 }));
      const conv = spy(await pool.acquire(paths.crossface));
      const swapper = await zoo.openSwapper('simswap_256', s.handle, 'simswap_256', { converter: conv.handle });
      try {
        await swapper.swapCrop(biden, bidenPoints, { embedding: RAW }, { pixelBoost: 512 });
        await swapper.swapCrop(biden, bidenPoints, { embedding: Float32Array.from(RAW) });
        assert.strictEqual(s.feeds.length, 5);
        assert.strictEqual(conv.feeds.length, 1);
        assertClose(conv.feeds[0].input.data, RAW, 0, 'the converter gets the raw embedding');
        await swapper.swapCrop(biden, bidenPoints, { embedding: RAW_TARGET });
        assert.strictEqual(conv.feeds.length, 2);
      } finally {
        await swapper.release();
      }
    });
  });

  describe("masks: box mask min-combined with the caller's masks", () => {
    it('a zero mask leaves the frame unchanged; a 0.5 mask halves the change; masks see the target and the swapped crop', async () => {
      const { swapper } = await open('inswapper_128', paths.inswapperLift);
      try {
        const fresh = () => ({ width: biden.width, height: biden.height, data: new Uint8Array(biden.data) });
        const zero = fresh();
        await swapper.swapInto(zero, biden, bidenPoints, { embedding: RAW }, { pixelBoost: 256, masks: [async (c) => new Float32Array(c.width * c.height)] });
        assert.strictEqual(countChanged(zero.data, biden.data), 0);
        const zeroAfter = fresh();
        await swapper.swapInto(zeroAfter, biden, bidenPoints, { embedding: RAW }, { swappedMasks: [async (c) => new Float32Array(c.width * c.height)] });
        assert.strictEqual(countChanged(zeroAfter.data, biden.data), 0);

        const full = fresh(),
          half = fresh();
        await swapper.swapInto(full, biden, bidenPoints, { embedding: RAW }, { masks: [async (c) => new Float32Array(c.width * c.height).fill(1)] });
        await swapper.swapInto(half, biden, bidenPoints, { embedding: RAW }, { masks: [async (c) => new Float32Array(c.width * c.height).fill(0.5)] });
        const [nx, ny] = bidenPoints[2].map(Math.round);
        const o = (ny * biden.width + nx) * 3;
        for (let ch = 0; ch < 3; ch++) {
          const d = full.data[o + ch] - biden.data[o + ch];
          assert.ok(d > 20, `full lift at the nose ${d}`);
          assert.ok(Math.abs(half.data[o + ch] - biden.data[o + ch] - d / 2) <= 1.5, `half mask: ${half.data[o + ch] - biden.data[o + ch]} vs ${d}/2`);
        }

        const seen = [];
        const swapped = await swapper.swapCrop(biden, bidenPoints, { embedding: RAW }, { pixelBoost: 256 });
        const mask = await swapper.cropMask(swapped, {
          masks: [
            async (c) => {
              seen.push(['target', c]);
              return Float32Array.from({ length: 256 * 256 }, (_, i) => (i % 256 < 128 ? 1 : 0));
            },
          ],
          swappedMasks: [
            async (c) => {
              seen.push(['swapped', c]);
              return Float32Array.from({ length: 256 * 256 }, (_, i) => (i < 128 * 256 ? 0.7 : 0));
            },
          ],
        });
        assert.deepStrictEqual(
          seen.map(([w, c]) => [w, c.width, c.height]),
          [
            ['target', 256, 256],
            ['swapped', 256, 256],
          ],
        );
        assert.strictEqual(seen[0][1], swapped.target);
        assert.strictEqual(seen[1][1], swapped.crop);
        const box = require('../dist/runtime/internal').boxMask(256, 256, 0.3, [0, 0, 0, 0]);
        for (const [x, y] of [
          [60, 60],
          [127, 100],
          [128, 100],
          [60, 128],
          [200, 200],
          [2, 2],
        ]) {
          const i = y * 256 + x;
          const want = Math.min(box[i], x < 128 ? 1 : 0, y < 128 ? 0.7 : 0);
          assert.ok(Math.abs(mask[i] - want) < 1e-7, `mask at ${x},${y}: ${mask[i]} vs ${want}`);
        }
        await assert.rejects(
          swapper.swapInto(fresh(), biden, bidenPoints, { embedding: RAW }, { masks: [async () => new Float32Array(10)] }),
          (e) => e.code === 'E_BAD_PARAMETER' && /128×128/.test(e.message),
        );
      } finally {
        await swapper.release();
      }
    });
  });

  describe('wrong files are refused with E_MODEL_CONTRACT and every handle released', () => {
    let refusals;
    before(() => {
      refusals = new SessionPool({ device: 'cpu' });
    });
    after(() => refusals.close());
    const acquire = (path, label) => refusals.acquire(path, { label, warmup: false });
    const released = () => assert.strictEqual(refusals.stats().entries.length, 0, `still open: ${refusals.stats().entries.map((e) => e.label)}`);

    it('unknown contract id', async () => {
      await assert.rejects(
        zoo.openSwapper('deepfake_9000', await acquire(paths.s256, 's256.onnx'), 'x'),
        (e) => e.code === 'E_MODEL_CONTRACT' && /unknown swapper contract "deepfake_9000"/.test(e.message) && /hyperswap_256/.test(e.message),
      );
      released();
    });

    it('a 128 swapper offered as hyperswap_256, an embedding swapper as blendswap_256, an image swapper as ghost', async () => {
      await assert.rejects(
        zoo.openSwapper('hyperswap_256', await acquire(paths.s128, 'plain_128.onnx'), 'x'),
        (e) =>
          e.code === 'E_MODEL_CONTRACT' &&
          /plain_128\.onnx does not fit the contract hyperswap_256/.test(e.message) &&
          /input "target" has shape \[1,3,128,128\], expected \[1,3,256,256\]/.test(e.message),
      );
      released();
      await assert.rejects(
        zoo.openSwapper('blendswap_256', await acquire(paths.s256, 's256.onnx'), 'x'),
        (e) => e.code === 'E_MODEL_CONTRACT' && /input "source" has shape \[1,512\], expected \[1,3,112,112\]/.test(e.message),
      );
      released();
      await assert.rejects(
        zoo.openSwapper('ghost_256', await acquire(paths.uniface, 'uniface.onnx'), 'x', { converter: await acquire(paths.crossface, 'crossface.onnx') }),
        (e) => e.code === 'E_MODEL_CONTRACT' && /input "source" has shape \[1,3,256,256\], expected \[1,512\]/.test(e.message),
      );
      released();
      // The pool's name contract refuses it too, before any adapter.
      await assert.rejects(
        refusals.acquire(paths.s128, { contract: zoo.ZOO_CONTRACTS.uniface_256, label: 'plain_128.onnx' }),
        (e) => e.code === 'E_MODEL_CONTRACT' && /input "source" has shape \[1,512\], expected \[1,3,256,256\]/.test(e.message),
      );
      released();
    });

    it('converters: missing, wrong file, or given to a swapper that takes none', async () => {
      await assert.rejects(zoo.openSwapper('simswap_256', await acquire(paths.s256, 's256.onnx'), 'x'), (e) => e.code === 'E_MODEL_MISSING' && /crossface_simswap/.test(e.message));
      released();
      await assert.rejects(
        zoo.openSwapper('hififace_256', await acquire(paths.s256, 's256.onnx'), 'x', { converter: await acquire(paths.s128, 'plain_128.onnx') }),
        (e) => e.code === 'E_MODEL_CONTRACT' && /plain_128\.onnx does not fit the contract crossface_hififace/.test(e.message) && /expected \[\?,512\]/.test(e.message),
      );
      released();
      await assert.rejects(
        zoo.openSwapper('hyperswap_256', await acquire(paths.s256, 's256.onnx'), 'x', { converter: await acquire(paths.crossface, 'crossface.onnx') }),
        (e) => e.code === 'E_BAD_PARAMETER' && /takes no embedding converter/.test(e.message),
      );
      released();
      // A converter file refused by the pool's name contract.
      await assert.rejects(
        refusals.acquire(paths.s128, { contract: zoo.ZOO_CONTRACTS.crossface_ghost, label: 'plain_128.onnx' }),
        (e) => e.code === 'E_MODEL_CONTRACT' && /input "input" is missing/.test(e.message),
      );
      released();
    });

    it('an inswapper without a 512×512 emap as its last initializer', async () => {
      await assert.rejects(
        zoo.openSwapper('inswapper_128', await acquire(paths.s128, 'plain_128.onnx'), 'x'),
        (e) => e.code === 'E_MODEL_CONTRACT' && /plain_128\.onnx: the last initializer "k" has dims \[1\], expected the 512×512 emap/.test(e.message),
      );
      released();
    });

    it('ZOO_CONTRACTS holds every swapper, converter and masker contract; SWAPPER_KINDS names the converters', () => {
      for (const id of ['inswapper_128', 'simswap_256', 'simswap_512', 'hyperswap_256', 'ghost_256', 'hififace_256', 'blendswap_256', 'uniface_256']) {
        assert.strictEqual(zoo.ZOO_CONTRACTS[id].role, 'swapper', id);
        assert.ok(zoo.SWAPPER_KINDS[id], id);
      }
      for (const id of ['crossface_simswap', 'crossface_ghost', 'crossface_hififace']) assert.strictEqual(zoo.ZOO_CONTRACTS[id].role, 'converter');
      assert.deepStrictEqual(zoo.SWAPPER_KINDS.ghost_256, { sourceKind: 'embedding', converter: 'crossface_ghost' });
      assert.deepStrictEqual(zoo.SWAPPER_KINDS.uniface_256, { sourceKind: 'image' });
      assert.deepStrictEqual(zoo.SWAPPER_KINDS.inswapper_128, { sourceKind: 'embedding' });
      assert.strictEqual(zoo.ZOO_CONTRACTS.xseg.role, 'masker');
      assert.strictEqual(zoo.ZOO_CONTRACTS.bisenet.role, 'masker');
    });
  });

  it('EmbeddingConverter on its own: raw in, converted out', async () => {
    const h = await pool.acquire(paths.crossface, { contract: zoo.CROSSFACE_GHOST_CONTRACT });
    const conv = new zoo.EmbeddingConverter(h, 'crossface_ghost');
    try {
      assertClose(
        await conv.convert(RAW),
        RAW.map((v) => 2 * v + 1),
        1e-6,
        'converted',
      );
      await assert.rejects(conv.convert(new Float32Array(3)), (e) => e.code === 'E_BAD_PARAMETER');
    } finally {
      await conv.release();
    }
  });
});
