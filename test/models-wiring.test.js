'use strict';
// FaceFusion models chosen by token parameters / node options: real detector files from
// $FACEFUSION_TEST_MODELS (SCRFD) and test/fixtures/models (YuNet), and contract graphs standing in for inswapper_128 + arcface_w600k_r50 and
// gfpgan (no real weights can be downloaded here), run through the runtime and the example flow.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime } = require('../dist/runtime');
const { entryForFile, readImageFile } = require('../dist/runtime/internal');
const { buildModel } = require('./helpers/onnx-graph');
const { inswapperGraph, arcfaceGraph, identityEnhancerGraph } = require('./helpers/model-graphs');
const { helper, allNodes, nextMessage } = require('./helpers/red');

const { MEDIA, YUNET, requireTestModel, SCRFD_FILE } = require('./helpers/fixtures');
const media = (f) => path.join(MEDIA, f);
function write(dir, file, spec) {
  fs.writeFileSync(path.join(dir, file), buildModel(spec));
  return path.join(dir, file);
}

function meanAbsDiff(a, b, rect) {
  let sum = 0,
    n = 0;
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let x = rect.x; x < rect.x + rect.w; x++) {
      const o = (y * a.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        sum += Math.abs(a.data[o + c] - b.data[o + c]);
        n++;
      }
    }
  }
  return sum / n;
}

describe('models chosen by parameter', function () {
  this.timeout(60000);
  let runtime, dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-wiring-'));
    runtime = createRuntime({ device: 'cpu' });
  });
  after(async () => {
    await runtime.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('recognises FaceFusion file names: longest id first, renamed copies, unknown names', () => {
    const entries = runtime.models.entries();
    assert.strictEqual(entryForFile(entries, '/x/inswapper_128.onnx').id, 'inswapper_128');
    assert.strictEqual(entryForFile(entries, '/x/scrfd_2.5g_test.onnx').id, 'scrfd_2.5g');
    assert.strictEqual(entryForFile(entries, 'C:\\m\\yunet_2023_mar.onnx').id, 'yunet_2023_mar');
    assert.strictEqual(entryForFile(entries, '/x/my-model.onnx'), undefined);
  });

  it('face_detector_model = the real SCRFD file: 1 face on astronaut, 2 on fr_two_people, with 5 points in the box', async function () {
    const SCRFD = requireTestModel(this, SCRFD_FILE);
    for (const [file, count] of [
      ['astronaut.png', 1],
      ['fr_two_people.jpg', 2],
    ]) {
      const token = await runtime.run(await runtime.createToken({ target: media(file), operations: ['detect'], parameters: { face_detector_model: SCRFD } }));
      assert.strictEqual(token.state, 'done', JSON.stringify(token.error));
      assert.strictEqual(token.faces.length, count, file);
      assert.match(token.journal.at(-1).note, /scrfd_2\.5g/);
      for (const f of token.faces) {
        assert.strictEqual(f.landmarks5.length, 5);
        for (const [x, y] of f.landmarks5) assert.ok(x >= f.bbox[0] && x <= f.bbox[2] && y >= f.bbox[1] && y <= f.bbox[3]);
      }
      runtime.release(token);
    }
  });

  it('YuNet under its FaceFusion name finds both faces; the landmark stage adds 68 points to its 5', async () => {
    const yunet = path.join(dir, 'yunet_2023_mar.onnx');
    fs.copyFileSync(YUNET, yunet);
    const token = await runtime.run(await runtime.createToken({ target: media('fr_two_people.jpg'), operations: ['detect', 'landmark'], parameters: { face_detector_model: yunet } }));
    assert.strictEqual(token.state, 'done', JSON.stringify(token.error));
    assert.strictEqual(token.faces.length, 2);
    assert.ok(token.faces.every((f) => f.landmarks68.length === 68 && f.landmarks5.length === 5));
    runtime.release(token);
  });

  it("2dfan4: the detector's 5 points are kept when its confidence is low, replaced when it is high (FaceFusion's rule)", async function () {
    const SCRFD = requireTestModel(this, SCRFD_FILE);
    const { constantNode } = require('./helpers/onnx-graph');
    // Every one of the 68 points at the crop centre; heatmap peaks `peak` → confidence peak / 0.9.
    const fan = (peak) =>
      write(fs.mkdtempSync(path.join(dir, 'fan-')), '2dfan4.onnx', {
        inputs: [{ name: 'input', shape: [1, 3, 256, 256] }],
        outputs: [
          { name: 'landmarks_xyscore', shape: [1, 68, 3] },
          { name: 'heatmaps', shape: [1, 68, 64, 64] },
        ],
        nodes: [
          constantNode(
            'landmarks_xyscore',
            [1, 68, 3],
            Array.from({ length: 68 * 3 }, (_, i) => (i % 3 === 2 ? 1 : 32)),
          ),
          constantNode('heatmaps', [1, 68, 64, 64], new Float32Array(68 * 64 * 64).fill(peak)),
        ],
      });
    const run = async (landmarker) => {
      const token = await runtime.run(
        await runtime.createToken({ target: media('astronaut.png'), operations: ['detect', 'landmark'], parameters: { face_detector_model: SCRFD, face_landmarker_model: landmarker } }),
      );
      assert.strictEqual(token.state, 'done', JSON.stringify(token.error));
      runtime.release(token);
      return token.faces[0];
    };
    const detected = await runtime.run(await runtime.createToken({ target: media('astronaut.png'), operations: ['detect'], parameters: { face_detector_model: SCRFD } }));
    runtime.release(detected);
    const unsure = await run(fan(0.2));
    assert.deepStrictEqual(unsure.landmarks5, detected.faces[0].landmarks5, "confidence 0.22: the detector's points stay");
    const sure = await run(fan(0.9));
    const [cx, cy] = sure.landmarks68[0];
    assert.ok(sure.landmarks68.every(([x, y]) => x === cx && y === cy));
    assert.deepStrictEqual(
      sure.landmarks5,
      [
        [cx, cy],
        [cx, cy],
        [cx, cy],
        [cx, cy],
        [cx, cy],
      ],
      'confidence 1: the 5 points come from the 68',
    );
  });

  it('a model of the wrong role, an unknown file name and an unknown id fail the token with clear codes', async function () {
    const SCRFD = requireTestModel(this, SCRFD_FILE);
    const cases = [
      [{ face_swapper_model: SCRFD }, 'swap', 'E_MODEL_CONTRACT', /is a detector model \(scrfd_2\.5g\), not a swapper/],
      [{ face_detector_model: path.join(dir, 'mystery.onnx') }, 'detect', 'E_MODEL_MISSING', /does not exist/],
      [{ face_enhancer_model: 'gfpgan_9' }, 'enhance', 'E_MODEL_MISSING', /unknown enhancer model "gfpgan_9".*gfpgan_1\.4/],
      [{ face_swapper_model: 'inswapper_128' }, 'swap', 'E_MODEL_MISSING', /inswapper_128.*licence Non-Commercial, not a permissive licence.*models fetch inswapper_128/],
    ];
    fs.copyFileSync(SCRFD, path.join(dir, 'mystery-detector.onnx'));
    cases.push([{ face_detector_model: path.join(dir, 'mystery-detector.onnx') }, 'detect', 'E_MODEL_CONTRACT', /cannot tell which detector model mystery-detector\.onnx is/]);
    for (const [parameters, stage, code, message] of cases) {
      const operations = stage === 'detect' ? ['detect'] : ['detect', stage];
      const token = await runtime.run(await runtime.createToken({ target: media('astronaut.png'), source: media('fr_obama.jpg'), operations, parameters }));
      assert.strictEqual(token.state, 'failed', JSON.stringify(parameters));
      assert.strictEqual(token.error.code, code, token.error.message);
      assert.match(token.error.message, message);
      runtime.release(token);
    }
    assert.strictEqual(runtime.store.stats().frames, 0);
  });

  it('job args: FaceFusion model fields at the top level become parameters; bad values are refused up front', () => {
    const { JobArgsValidator } = require('../dist/runtime/internal');
    const v = new JobArgsValidator();
    const job = v.normalize({
      source_paths: ['a.jpg'],
      target_path: 'b.mp4',
      output_path: 'c.mp4',
      processors: ['face_swapper'],
      face_swapper_model: 'inswapper_128',
      face_swapper_pixel_boost: 256,
      parameters: { blend_ratio: 0.5 },
    });
    assert.deepStrictEqual(job.args.parameters, { face_swapper_model: 'inswapper_128', face_swapper_pixel_boost: 256, blend_ratio: 0.5 });
    assert.strictEqual(job.args.face_swapper_model, undefined);
    assert.throws(
      () => v.normalize({ target_path: 'b.jpg', output_path: 'c.jpg', processors: ['face_blur'], face_swapper_pixel_boost: 5000 }),
      (e) => e.code === 'E_JOB' && /face_swapper_pixel_boost must be <= 1024/.test(e.message),
    );
    assert.throws(
      () => v.normalize({ target_path: 'b.jpg', output_path: 'c.jpg', processors: ['face_blur'], parameters: { face_mask_types: ['hull'] } }),
      (e) => e.code === 'E_JOB' && /parameters\.face_mask_types\.0 must be one of box, occlusion, region/.test(e.message),
    );
  });

  it('prepareModels loads what the stages will use, and fails at once for a missing model', async function () {
    const SCRFD = requireTestModel(this, SCRFD_FILE);
    await runtime.prepareModels(['detect', 'landmark'], { face_detector_model: SCRFD });
    assert.ok(runtime.stats().sessions.entries.some((e) => e.label === 'scrfd_2.5g'));
    await assert.rejects(runtime.prepareModels(['swap'], { face_swapper_model: 'inswapper_128' }), (e) => e.code === 'E_MODEL_MISSING' && /inswapper_128/.test(e.message));
    await assert.rejects(runtime.prepareModels(['enhance'], { face_enhancer_model: SCRFD }), (e) => e.code === 'E_MODEL_CONTRACT');
  });

  describe('inswapper_128 contract graph with arcface_w600k_r50 beside it', () => {
    let swapper, target;
    before(async () => {
      swapper = write(dir, 'inswapper_128.onnx', inswapperGraph());
      write(dir, 'arcface_w600k_r50.onnx', arcfaceGraph());
      target = await readImageFile(media('fr_biden.jpg'));
    });

    it('swaps through the model: the source identity comes from the recognizer beside it, multiplied by the emap', async () => {
      const token = await runtime.run(
        await runtime.createToken({
          target: media('fr_biden.jpg'),
          source: media('fr_obama.jpg'),
          operations: ['detect', 'landmark', 'swap'],
          parameters: { face_swapper_model: swapper },
        }),
      );
      assert.strictEqual(token.state, 'done', JSON.stringify(token.error));
      assert.match(token.journal.at(-1).note, /inswapper_128/);
      const src = token.source;
      assert.strictEqual(src.embedding_model, 'arcface_w600k_r50');
      assert.ok(src.embedding_norm > 1);
      // The graph adds source[0] = 2 · raw_511 / ‖raw‖ = 2 · normed_511 to every crop value (0..1 scale).
      const lift = 2 * src.embedding[511] * 255;
      assert.ok(lift > 20 && lift < 150, `expected a visible lift, got ${lift}`);
      const out = runtime.frame(token.target.frame);
      const [x1, y1, x2, y2] = token.faces[0].bbox;
      const core = { x: Math.round(x1 + (x2 - x1) * 0.35), y: Math.round(y1 + (y2 - y1) * 0.4), w: Math.round((x2 - x1) * 0.3), h: Math.round((y2 - y1) * 0.2) };
      let sum = 0,
        n = 0;
      for (let y = core.y; y < core.y + core.h; y++) {
        for (let x = core.x; x < core.x + core.w; x++) {
          for (let c = 0; c < 3; c++) {
            const o = (y * target.width + x) * 3 + c;
            if (target.data[o] + lift < 250) {
              sum += out.data[o] - target.data[o];
              n++;
            }
          }
        }
      }
      assert.ok(n > 500 && Math.abs(sum / n - lift) < 6, `face centre lifted by ${sum / n}, expected ${lift}`);
      // Far from the face nothing changes.
      assert.strictEqual(meanAbsDiff(out, target, { x: 0, y: 0, w: 20, h: 20 }), 0);
      runtime.release(token);
    });

    it("tokens sharing a source frame (a video job's frames) run the recognizer on it once", async () => {
      const arcRuns = () =>
        runtime
          .stats()
          .sessions.entries.filter((e) => e.label === 'arcface_w600k_r50')
          .reduce((n, e) => n + e.runs, 0);
      const first = await runtime.run(
        await runtime.createToken({ target: media('fr_biden.jpg'), source: media('fr_obama.jpg'), operations: ['detect', 'swap'], parameters: { face_swapper_model: swapper } }),
      );
      assert.strictEqual(first.state, 'done', JSON.stringify(first.error));
      const before = arcRuns();
      for (let i = 0; i < 3; i++) {
        const created = await runtime.createToken({ target: media('fr_biden.jpg'), operations: ['detect', 'swap'], parameters: { face_swapper_model: swapper } });
        // Same source frame, no analysis carried in the token: as a job's frame tokens are made
        // (inside the runtime; acceptToken would refuse another request's frame from a message).
        const shared = runtime.validator.assert({ ...created, source: { frame: first.source.frame } });
        const done = await runtime.run(shared);
        assert.strictEqual(done.state, 'done', JSON.stringify(done.error));
        assert.deepStrictEqual(done.source.embedding, first.source.embedding);
        runtime.store.releaseOwner(done.request_id);
      }
      assert.strictEqual(arcRuns(), before, 'no recognizer run for the shared source');
      runtime.release(first);
    });

    it("the embedded embedder's source embedding is not mistaken for the recognizer's", async () => {
      const token = await runtime.run(
        await runtime.createToken({
          target: media('fr_biden.jpg'),
          source: media('fr_obama.jpg'),
          operations: ['detect', 'landmark', 'embed', 'swap'],
          parameters: { face_swapper_model: swapper },
        }),
      );
      assert.strictEqual(token.state, 'done', JSON.stringify(token.error));
      // embed wrote the fr_feature embedding; swap replaced it with the arcface one it needs.
      assert.strictEqual(token.faces[0].embedding_model, 'fr_feature');
      assert.strictEqual(token.source.embedding_model, 'arcface_w600k_r50');
      runtime.release(token);
    });

    it('an embedding alone from another model is refused with E_NO_SOURCE', async () => {
      const first = await runtime.run(await runtime.createToken({ target: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'embed'] }));
      const embedding = first.faces[0].embedding;
      runtime.release(first);
      const created = await runtime.createToken({ target: media('fr_biden.jpg'), operations: ['detect', 'landmark', 'swap'], parameters: { face_swapper_model: swapper } });
      const withEmbedding = runtime.acceptToken({ ...created, source: { embedding, embedding_model: 'fr_feature' } });
      const token = await runtime.run(withEmbedding);
      assert.strictEqual(token.state, 'failed');
      assert.strictEqual(token.error.code, 'E_NO_SOURCE');
      assert.match(token.error.message, /made by fr_feature.*arcface_w600k_r50/);
      runtime.release(token);
    });

    it('a missing recognizer is E_MODEL_MISSING naming arcface_w600k_r50', async () => {
      const lonely = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-lonely-'));
      try {
        const model = write(lonely, 'inswapper_128.onnx', inswapperGraph());
        const token = await runtime.run(
          await runtime.createToken({
            target: media('fr_biden.jpg'),
            source: media('fr_obama.jpg'),
            operations: ['detect', 'swap'],
            parameters: { face_swapper_model: model },
          }),
        );
        assert.strictEqual(token.state, 'failed');
        assert.strictEqual(token.error.code, 'E_MODEL_MISSING');
        assert.match(token.error.message, /arcface_w600k_r50/);
        runtime.release(token);
      } finally {
        fs.rmSync(lonely, { recursive: true, force: true });
      }
    });

    it('the CLI runs a picture job with --face-swapper-model, and refuses a bad weight with exit 2', async () => {
      const { execFile } = require('child_process');
      const cli = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');
      const run = (args) =>
        new Promise((resolve) => execFile(process.execPath, [cli, 'run', ...args], { timeout: 60000 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr })));
      const out = path.join(dir, 'cli-swapped.png');
      const ok = await run(['--source', media('fr_obama.jpg'), '--target', media('fr_biden.jpg'), '--output', out, '--processors', 'face_swapper', '--face-swapper-model', swapper, '--device', 'cpu']);
      assert.strictEqual(ok.code, 0, ok.stderr);
      const written = await readImageFile(out);
      assert.ok(meanAbsDiff(written, target, { x: 0, y: 0, w: target.width, h: target.height }) > 0.5, 'the picture changed');
      const bad = await run(['--target', media('fr_biden.jpg'), '--output', out, '--processors', 'face_swapper', '--source', media('fr_obama.jpg'), '--face-swapper-weight', '5']);
      assert.strictEqual(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /face_swapper_weight must be <= 1/);
    });

    it('face_mask_types occlusion: an xseg graph masking everything out leaves the picture as it was; masking nothing equals the box-only swap', async function () {
      const SCRFD = requireTestModel(this, SCRFD_FILE);
      const xseg = (value, name) =>
        write(fs.mkdtempSync(path.join(dir, 'xseg-')), name, {
          inputs: [{ name: 'in_face', shape: [1, 256, 256, 3] }],
          outputs: [{ name: 'out_mask', shape: [1, 256, 256, 1] }],
          initializers: [
            { name: 'zero', dims: [1], data: [0] },
            { name: 'plane', dims: [1, 256, 256, 1], data: new Float32Array(256 * 256).fill(value) },
          ],
          nodes: [
            { op: 'ReduceMean', inputs: ['in_face'], outputs: ['m'], attrs: { axes: [3], keepdims: 1 } },
            { op: 'Mul', inputs: ['m', 'zero'], outputs: ['z'] },
            { op: 'Add', inputs: ['z', 'plane'], outputs: ['out_mask'] },
          ],
        });
      const swapWith = async (parameters) => {
        const token = await runtime.run(
          await runtime.createToken({ target: media('fr_biden.jpg'), source: media('fr_obama.jpg'), operations: ['detect', 'swap'], parameters: { face_swapper_model: swapper, ...parameters } }),
        );
        assert.strictEqual(token.state, 'done', JSON.stringify(token.error));
        const data = Buffer.from(runtime.frame(token.target.frame).data);
        runtime.release(token);
        return data;
      };
      const boxOnly = await swapWith({});
      const none = await swapWith({ face_mask_types: ['box', 'occlusion'], face_occluder_model: xseg(0, 'xseg_1.onnx') });
      assert.ok(none.equals(Buffer.from(target.data)), 'an all-occluded face is not swapped');
      const all = await swapWith({ face_mask_types: ['box', 'occlusion'], face_occluder_model: xseg(1, 'xseg_1.onnx') });
      assert.ok(all.equals(boxOnly), 'a mask of ones changes nothing against the box mask');
      // prepareModels (what nodes and jobs call at start) loads the mask models too.
      await runtime.prepareModels(['detect', 'swap'], { face_swapper_model: swapper, face_mask_types: ['box', 'occlusion'], face_occluder_model: xseg(1, 'xseg_1.onnx') });
      await assert.rejects(
        runtime.prepareModels(['detect', 'swap'], { face_swapper_model: swapper, face_mask_types: ['box', 'occlusion'], face_occluder_model: path.join(dir, 'no-such-xseg', 'xseg_1.onnx') }),
        (e) => e.code === 'E_MODEL_MISSING' && /xseg_1/.test(e.message),
      );
      await assert.rejects(runtime.prepareModels(['detect', 'swap'], { face_swapper_model: swapper, face_mask_types: ['region'], face_parser_model: SCRFD }), (e) => e.code === 'E_MODEL_CONTRACT');
    });

    it('one session per model file, shared by every token; none left after close', async () => {
      const sessions = runtime.stats().sessions.entries.map((e) => e.label);
      assert.strictEqual(sessions.filter((l) => l === 'inswapper_128').length, 1);
      assert.strictEqual(sessions.filter((l) => l === 'arcface_w600k_r50').length, 1);
      const other = createRuntime({ device: 'cpu' });
      const token = await other.run(
        await other.createToken({ target: media('fr_biden.jpg'), source: media('fr_obama.jpg'), operations: ['detect', 'swap'], parameters: { face_swapper_model: swapper } }),
      );
      assert.strictEqual(token.state, 'done');
      other.release(token);
      await other.close();
      assert.strictEqual(other.stats().sessions.sessions, 0);
    });
  });

  it('face_enhancer_model = a gfpgan contract graph: faces restored through the model and pasted back', async () => {
    // Restores every crop to mid grey: the face area moves towards 128, the corners stay.
    const gfpgan = write(dir, 'gfpgan_1.4.onnx', {
      inputs: [{ name: 'input', shape: [1, 3, 512, 512] }],
      outputs: [{ name: 'output', shape: [1, 3, 512, 512] }],
      initializers: [{ name: 'zero', dims: [1], data: [0] }],
      nodes: [{ op: 'Mul', inputs: ['input', 'zero'], outputs: ['output'] }],
    });
    const target = await readImageFile(media('fr_biden.jpg'));
    const token = await runtime.run(
      await runtime.createToken({ target: media('fr_biden.jpg'), operations: ['detect', 'enhance'], parameters: { face_enhancer_model: gfpgan, face_enhancer_blend: 1 } }),
    );
    assert.strictEqual(token.state, 'done', JSON.stringify(token.error));
    assert.match(token.journal.at(-1).note, /gfpgan_1\.4/);
    const out = runtime.frame(token.target.frame);
    const [x1, y1, x2, y2] = token.faces[0].bbox;
    const cx = Math.round((x1 + x2) / 2),
      cy = Math.round((y1 + y2) / 2);
    const o = (cy * out.width + cx) * 3;
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(out.data[o + c] - 128) <= 2, `face centre ${out.data[o + c]}`);
    assert.strictEqual(meanAbsDiff(out, target, { x: 0, y: 0, w: 10, h: 10 }), 0);
    runtime.release(token);
  });
});

describe('example flow 1 with face-swap pointed at inswapper_128.onnx', function () {
  this.timeout(120000);
  let dir;
  before(function (done) {
    helper.startServer(done);
  });
  after(function (done) {
    helper.stopServer(done);
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-wiring-flow-'));
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs unchanged except the Model field, and the written picture shows the model swap', async () => {
    const swapper = write(dir, 'inswapper_128.onnx', inswapperGraph());
    write(dir, 'arcface_w600k_r50.onnx', arcfaceGraph());
    const out = path.join(dir, 'swapped.jpg');
    let text = fs.readFileSync(path.join(__dirname, '..', 'examples', '01-swap-face-in-picture.json'), 'utf8');
    text = text.split(JSON.stringify('/tmp/facefusion-swapped.jpg')).join(JSON.stringify(out));
    const flow = JSON.parse(text).map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper' } : n));
    const swapNode = flow.find((n) => n.type === 'face-swap');
    assert.ok(swapNode, 'example 1 has a face-swap node');
    swapNode.model = swapper;
    // A probe on the swap node's output sees the token the model made.
    swapNode.wires = [[...swapNode.wires[0], 'probe']];
    const tab = { id: 'tab', type: 'tab', label: 'test' };
    await helper.load(allNodes, [tab, { id: 'probe', type: 'helper', z: 'tab' }, ...flow.map((n) => (n.type === 'facefusion-config' ? n : { ...n, z: 'tab' }))]);
    const swapped = nextMessage(helper.getNode('probe'), 60000);
    const done = nextMessage(helper.getNode(flow.find((n) => n.type === 'helper').id), 60000);
    helper.getNode(flow.find((n) => n.type === 'inject' && n.name === 'sample').id).receive({});
    const token = (await swapped).payload;
    await done;
    const swap = token.journal.find((j) => j.stage === 'swap');
    assert.strictEqual(token.state, 'done', JSON.stringify(token.error));
    assert.match(swap.note, /inswapper_128/);
    assert.strictEqual(token.source.embedding_model, 'arcface_w600k_r50');
    // The written JPEG: the face centre moved by about the graph's lift, a corner did not.
    const written = await readImageFile(out);
    const original = await readImageFile('sample:biden.jpg'); // the example's target picture
    assert.deepStrictEqual([written.width, written.height], [original.width, original.height]);
    const [x1, y1, x2, y2] = token.faces[0].bbox;
    const core = { x: Math.round(x1 + (x2 - x1) * 0.35), y: Math.round(y1 + (y2 - y1) * 0.4), w: Math.round((x2 - x1) * 0.3), h: Math.round((y2 - y1) * 0.2) };
    assert.ok(meanAbsDiff(written, original, core) > 15, `face centre changed by ${meanAbsDiff(written, original, core)}`);
    assert.ok(meanAbsDiff(written, original, { x: 0, y: 0, w: 16, h: 16 }) < 4, 'a far corner is unchanged (JPEG noise only)');
  });

  it("example 5 (inswapper_128 + gfpgan_1.4 by id) runs with the models in the config node's folder", async function () {
    // The models folder a user gets after `facefusion-node models fetch …`, with contract graphs for the weights.
    const models = path.join(dir, 'models');
    fs.mkdirSync(models);
    for (const f of ['fr_detect.onnx', 'fr_landmark.onnx', 'fr_feature.onnx']) fs.copyFileSync(path.join(__dirname, '..', 'models', f), path.join(models, f));
    write(models, 'inswapper_128.onnx', inswapperGraph());
    write(models, 'arcface_w600k_r50.onnx', arcfaceGraph());
    write(models, 'gfpgan_1.4.onnx', identityEnhancerGraph());
    const out = path.join(dir, 'swapped.jpg');
    let text = fs.readFileSync(path.join(__dirname, '..', 'examples', '05-swap-with-facefusion-models.json'), 'utf8');
    text = text.split(JSON.stringify('/tmp/facefusion-inswapper.jpg')).join(JSON.stringify(out));
    const flow = JSON.parse(text).map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper' } : n));
    flow.find((n) => n.type === 'facefusion-config').modelsDir = models;
    const enhance = flow.find((n) => n.type === 'face-enhance');
    enhance.wires = [[...enhance.wires[0], 'probe']];
    await helper.load(allNodes, [{ id: 'tab', type: 'tab', label: 'test' }, { id: 'probe', type: 'helper', z: 'tab' }, ...flow.map((n) => (n.type === 'facefusion-config' ? n : { ...n, z: 'tab' }))]);
    const probed = nextMessage(helper.getNode('probe'), 60000);
    const done = nextMessage(helper.getNode(flow.find((n) => n.type === 'helper').id), 60000);
    helper.getNode(flow.find((n) => n.type === 'inject' && n.name === 'sample').id).receive({});
    const token = (await probed).payload;
    await done;
    assert.strictEqual(token.state, 'done', JSON.stringify(token.error));
    assert.match(token.journal.find((j) => j.stage === 'swap').note, /inswapper_128/);
    assert.match(token.journal.find((j) => j.stage === 'enhance').note, /gfpgan_1\.4/);
    assert.ok(fs.statSync(out).size > 1000);
  });

  it('a face-swap node naming a model that is not there shows E_MODEL_MISSING at deploy, before any message', async function () {
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'cfg', type: 'facefusion-config', device: 'cpu' },
      { id: 'swap', type: 'face-swap', z: 'tab', config: 'cfg', model: 'inswapper_128', wires: [[]] },
    ];
    await helper.load(allNodes, flow);
    const node = helper.getNode('swap');
    const seen = [];
    const original = node.status.bind(node);
    node.status = (s) => {
      seen.push(s);
      return original(s);
    };
    const logged = [];
    node.error = (text) => logged.push(String(text));
    for (let i = 0; i < 200 && !seen.some((s) => s.fill === 'red'); i++) await new Promise((r) => setTimeout(r, 100));
    const red = seen.find((s) => s.fill === 'red');
    assert.ok(red, `statuses: ${JSON.stringify(seen)}`);
    assert.strictEqual(red.text, 'E_MODEL_MISSING', 'the status shows the code; the message goes to the log and debug sidebar');
    assert.ok(
      logged.some((t) => /^E_MODEL_MISSING: .*inswapper_128/.test(t)),
      logged.join('\n'),
    );
    assert.ok(
      logged.some((t) => /licence Non-Commercial/.test(t)),
      logged.join('\n'),
    );
  });
});
