'use strict';
// "blur everyone except …" / "blur only …" (runtime, job, CLI, node) and
// the replacement modes (gaussian, pixelate, solid, ellipse), each covering the enlarged box.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { createRuntime, cosineSimilarity, readImageFile, privacySelection, expandBox } = require('../dist/runtime/internal');
const { JobManager } = require('../dist/runtime');
const { media } = require('./helpers/fixtures');
const { helper, allNodes, nextMessage } = require('./helpers/red');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');
function cli(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Fraction of a rectangle's pixels that differ between two frames. */
function changed(a, b, rect) {
  let n = 0,
    all = 0;
  for (let y = rect.y; y < rect.y + rect.height; y++)
    for (let x = rect.x; x < rect.x + rect.width; x++) {
      const p = (y * a.width + x) * 3;
      all++;
      if (a.data[p] !== b.data[p] || a.data[p + 1] !== b.data[p + 1] || a.data[p + 2] !== b.data[p + 2]) n++;
    }
  return n / all;
}

/** Pixels outside every rectangle that differ. */
function changedOutside(a, b, rects) {
  let n = 0;
  for (let y = 0; y < a.height; y++)
    for (let x = 0; x < a.width; x++) {
      if (rects.some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)) continue;
      const p = (y * a.width + x) * 3;
      if (a.data[p] !== b.data[p] || a.data[p + 1] !== b.data[p + 1] || a.data[p + 2] !== b.data[p + 2]) n++;
    }
  return n;
}

describe('privacy blur: except / only, and replacement modes', function () {
  this.timeout(120000);
  let rt, dir, two, faces, obamaIndex, obamaRef;

  before(async function () {
    rt = createRuntime({ sweepIntervalMs: 0 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-privacy-'));
    two = await readImageFile(media('fr_two_people.jpg'));
    const analysed = await rt.run(await rt.createToken({ target: two, operations: ['detect', 'landmark', 'embed'] }));
    faces = analysed.faces;
    rt.release(analysed);
    const ref = await rt.run(await rt.createToken({ target: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'embed'] }));
    obamaRef = ref.faces[0];
    rt.release(ref);
    // The premise: fr_obama.jpg is one of the two people in fr_two_people.jpg, and only one.
    const sims = faces.map((f) => cosineSimilarity(f.embedding, obamaRef.embedding));
    assert.strictEqual(faces.length, 2);
    assert.strictEqual(sims.filter((s) => s >= 0.5).length, 1, `similarities ${sims}`);
    obamaIndex = sims.findIndex((s) => s >= 0.5);
  });
  after(async function () {
    await rt.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const boxOf = (i, margin = 0.2) => expandBox(faces[i].bbox, margin, two.width, two.height);

  it("runtime: blur_except_embeddings keeps that face's pixels unchanged and blurs the other; blur_only the reverse", async function () {
    const run = async (parameters) => {
      const out = await rt.run(await rt.createToken({ target: two, operations: ['detect', 'blur'], parameters }));
      assert.notStrictEqual(out.state, 'failed', JSON.stringify(out.error));
      const frame = rt.frame(out.target.frame);
      const note = out.journal.find((j) => j.stage === 'blur').note;
      rt.release(out);
      return { frame, note };
    };
    const other = 1 - obamaIndex;
    const except = await run({ blur_except_embeddings: [obamaRef.embedding], blur_reference_model: obamaRef.embedding_model });
    assert.strictEqual(changed(two, except.frame, boxOf(obamaIndex)), 0, 'the kept face is untouched');
    assert.ok(changed(two, except.frame, boxOf(other, 0)) > 0.9, 'the other face is blurred');
    assert.match(except.note, /1 face gaussian · 1 kept sharp/);
    const only = await run({ blur_only_embeddings: [obamaRef.embedding] });
    assert.ok(changed(two, only.frame, boxOf(obamaIndex, 0)) > 0.9);
    assert.strictEqual(changed(two, only.frame, boxOf(other)), 0);
  });

  it('when in doubt, blur: a face too small, held, or without an embedding is blurred in both modes; both lists at once are refused', function () {
    const e = obamaRef.embedding;
    const list = [
      { bbox: [0, 0, 100, 100], score: 0.9, embedding: e },
      { bbox: [200, 0, 220, 20], score: 0.9, embedding: e }, // 20 px: not comparable
      { bbox: [300, 0, 400, 100], score: 0, held: 2 },
      { bbox: [500, 0, 600, 100], score: 0.9 },
    ];
    assert.deepStrictEqual(privacySelection(list, { blur_except_embeddings: [e] }), [1, 2, 3]);
    assert.deepStrictEqual(privacySelection(list, { blur_only_embeddings: [e] }), [0, 1, 2, 3]);
    assert.throws(
      () => privacySelection(list, { blur_except_embeddings: [e], blur_only_embeddings: [e] }),
      (err) => err.code === 'E_BAD_PARAMETER',
    );
    assert.throws(() => privacySelection([{ ...list[0], embedding_model: 'fr_feature' }], { blur_except_embeddings: [e], blur_reference_model: 'arcface_w600k_r50' }), /different recognizers/);
  });

  it("CLI: --blur-except fr_obama.jpg on fr_two_people.jpg leaves that face's pixels unchanged and blurs the other; --blur-only the reverse", async function () {
    const other = 1 - obamaIndex;
    const except = path.join(dir, 'except.png');
    const r = await cli(['run', '--target', media('fr_two_people.jpg'), '--output', except, '--processors', 'face_blur', '--blur-except', media('fr_obama.jpg')]);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = await readImageFile(except);
    assert.strictEqual(changed(two, out, boxOf(obamaIndex)), 0);
    assert.ok(changed(two, out, boxOf(other, 0)) > 0.9);
    const only = path.join(dir, 'only.png');
    const r2 = await cli(['run', '--target', media('fr_two_people.jpg'), '--output', only, '--processors', 'face_blur', '--blur-only', media('fr_obama.jpg'), '--blur-mode', 'solid']);
    assert.strictEqual(r2.code, 0, r2.stderr);
    const out2 = await readImageFile(only);
    assert.strictEqual(changed(two, out2, boxOf(other)), 0);
    assert.ok(changed(two, out2, boxOf(obamaIndex, 0)) > 0.9);
    const bad = await cli(['run', '--target', media('fr_two_people.jpg'), '--output', only, '--processors', 'face_blur', '--blur-only', media('fr_obama.jpg'), '--blur-except', media('fr_biden.jpg')]);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /exclude each other/);
    const tiling = await cli(['run', '--target', media('fr_two_people.jpg'), '--output', only, '--processors', 'face_blur', '--detect-tiling', '10']);
    assert.strictEqual(tiling.code, 2);
    assert.match(tiling.stderr, /--detect-tiling/);
  });

  it('CLI flags map to job fields and token parameters', function () {
    const { parseRunArgs } = require('../dist/cli/run-options');
    const { job } = parseRunArgs([
      '--target',
      'in.mp4',
      '--output',
      'out.mp4',
      '--processors',
      'face_blur',
      '--blur-except',
      'a.jpg',
      '--blur-except',
      'b.jpg',
      '--blur-mode',
      'solid',
      '--blur-shape',
      'ellipse',
      '--blur-threshold',
      '0.3',
      '--blur-hold',
      '12',
      '--blur-hold-motion',
      'static',
      '--detect-tiling',
      '640',
    ]);
    assert.deepStrictEqual(job.blur_except_paths, ['a.jpg', 'b.jpg']);
    assert.deepStrictEqual(job.parameters, { blur_mode: 'solid', blur_shape: 'ellipse', blur_score_threshold: 0.3, blur_hold_frames: 12, blur_hold_motion: 'static', detect_tiling: 640 });
    assert.strictEqual(parseRunArgs(['--target', 'a', '--output', 'b', '--processors', 'blur', '--detect-tiling', 'off']).job.parameters.detect_tiling, 'off');
    assert.throws(() => parseRunArgs(['--target', 'a', '--output', 'b', '--processors', 'blur', '--blur-shape', 'star']), /--blur-shape/);
    assert.throws(() => parseRunArgs(['--target', 'a', '--output', 'b', '--processors', 'blur', '--blur-hold', '1.5']), /--blur-hold/);
    const scan = parseRunArgs(['--target', 'a', '--output', 'b', '--processors', 'blur', '--detect-min-face', '24', '--scan-interval', '0.1']).job.parameters;
    assert.deepStrictEqual(scan, { detect_min_face: 24, detect_scan_interval: 0.1 });
    assert.throws(() => parseRunArgs(['--target', 'a', '--output', 'b', '--processors', 'blur', '--detect-min-face', '4']), /--detect-min-face/);
    assert.throws(() => parseRunArgs(['--target', 'a', '--output', 'b', '--processors', 'blur', '--scan-interval', '9']), /--scan-interval/);
  });

  it('job: a reference picture without a face fails the job with E_NO_SOURCE; both lists are refused as E_JOB', async function () {
    const jobs = new JobManager(rt, { progressIntervalMs: 0 });
    try {
      const noFace = path.join(dir, 'no-face.png');
      const { crop, encodeImage } = require('../dist/runtime/internal');
      fs.writeFileSync(noFace, await encodeImage(crop(two, { x: 0, y: 0, width: 200, height: 200 }), { format: 'png' }));
      const info = await jobs.waitForJob(jobs.runJob({ target_path: media('fr_two_people.jpg'), output_path: path.join(dir, 'x.png'), processors: ['face_blur'], blur_except_paths: [noFace] }));
      assert.strictEqual(info.state, 'failed');
      assert.strictEqual(info.error.code, 'E_NO_SOURCE');
      assert.throws(
        () => jobs.createJob({ target_path: media('fr_two_people.jpg'), output_path: path.join(dir, 'x.png'), processors: ['face_blur'], blur_except_paths: [noFace], blur_only_paths: [noFace] }),
        (e) => e.code === 'E_JOB',
      );
    } finally {
      await jobs.close();
    }
    assert.strictEqual(rt.stats().store.frames, 0);
  });

  it('modes: gaussian, pixelate, solid and ellipse each cover the whole enlarged box and nothing outside it', async function () {
    const rects = faces.map((_, i) => boxOf(i));
    for (const parameters of [{}, { blur_mode: 'pixelate' }, { blur_mode: 'solid' }, { blur_shape: 'ellipse' }, { blur_mode: 'solid', blur_shape: 'ellipse' }]) {
      const out = await rt.run(await rt.createToken({ target: two, operations: ['detect', 'blur'], parameters }));
      const frame = rt.frame(out.target.frame);
      const what = JSON.stringify(parameters);
      assert.strictEqual(changedOutside(two, frame, rects), 0, `${what}: pixels outside the enlarged boxes changed`);
      for (const r of rects) {
        if (parameters.blur_shape === 'ellipse') {
          // Inside the inscribed ellipse (its central cross) changed; the box corners not.
          const inner = { x: r.x + Math.round(r.width * 0.2), y: r.y + Math.round(r.height * 0.2), width: Math.round(r.width * 0.6), height: Math.round(r.height * 0.6) };
          assert.ok(changed(two, frame, inner) > 0.9, `${what}: ellipse centre`);
          const corner = { x: r.x, y: r.y, width: Math.round(r.width * 0.1), height: Math.round(r.height * 0.1) };
          assert.strictEqual(changed(two, frame, corner), 0, `${what}: box corner outside the ellipse`);
        } else {
          assert.ok(changed(two, frame, r) > 0.9, `${what}: enlarged box ${JSON.stringify(r)}`);
          const corner = { x: r.x, y: r.y, width: 4, height: 4 };
          assert.ok(changed(two, frame, corner) > 0.5, `${what}: the box's corner is masked too`);
        }
        if (parameters.blur_mode === 'solid' && parameters.blur_shape !== 'ellipse') {
          const p = ((r.y + 5) * two.width + r.x + 5) * 3;
          assert.deepStrictEqual([...frame.data.subarray(p, p + 3)], [0, 0, 0]);
        }
      }
      rt.release(out);
    }
  });

  describe('face-blur node', function () {
    before(function (done) {
      helper.startServer(done);
    });
    after(function (done) {
      helper.stopServer(done);
    });
    afterEach(async function () {
      await helper.unload();
    });

    it('face-detect Tiling option: off, or a tile size, sets detect_tiling for its stage', async function () {
      const CFG = { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'auto', threads: 0, modelsDir: '', frameBudgetMB: 256, tokenTtl: 300 };
      await helper.load(allNodes, [
        { id: 'tab', type: 'tab', label: 'test' },
        CFG,
        { id: 'detOff', z: 'tab', type: 'face-detect', config: 'cfg', onNoFace: 'pass', queueSize: 10, tiling: 'off', wires: [['out']] },
        { id: 'detSized', z: 'tab', type: 'face-detect', config: 'cfg', onNoFace: 'pass', queueSize: 10, tiling: '640', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ]);
      const config = helper.getNode('cfg');
      await config.ready;
      const runtime = config.runtime;
      for (const [id, expected] of [
        ['detOff', /^2 faces · fr_detect · \w+ · faces ≥ 57 px$/],
        ['detSized', /\d+ tiles \+ whole frame · faces ≥ 32 px/],
      ]) {
        const got = nextMessage(helper.getNode('out'));
        helper.getNode(id).receive({ payload: await runtime.createToken({ target: media('fr_two_people.jpg'), operations: ['detect'] }) });
        const msg = await got;
        assert.match(msg.payload.journal.at(-1).note, expected);
        runtime.release(msg.payload);
      }
    });

    it('a face-detect node wired (through other face nodes) to a face blur detects for privacy; one that is not, does not', async function () {
      const CFG = { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'auto', threads: 0, modelsDir: '', frameBudgetMB: 256, tokenTtl: 300 };
      await helper.load(allNodes, [
        { id: 'tab', type: 'tab', label: 'test' },
        CFG,
        { id: 'detA', z: 'tab', type: 'face-detect', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['lm']] },
        { id: 'lm', z: 'tab', type: 'face-landmark', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['blur']] },
        { id: 'blur', z: 'tab', type: 'face-blur', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['outA']] },
        { id: 'outA', z: 'tab', type: 'helper' },
        { id: 'detB', z: 'tab', type: 'face-detect', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['outB']] },
        { id: 'outB', z: 'tab', type: 'helper' },
      ]);
      const config = helper.getNode('cfg');
      await config.ready;
      const runtime = config.runtime;
      // A wired flow's token starts with face token's default operations, which hold no blur.
      const make = () => runtime.createToken({ target: media('fr_two_people.jpg'), operations: ['detect'] });
      const a = nextMessage(helper.getNode('outA'));
      const b = nextMessage(helper.getNode('outB'));
      helper.getNode('detA').receive({ payload: await make() });
      helper.getNode('detB').receive({ payload: await make() });
      const [ma, mb] = [await a, await b];
      assert.ok(ma.payload.operations.includes('blur'), JSON.stringify(ma.payload.operations));
      assert.ok(!mb.payload.operations.includes('blur'), JSON.stringify(mb.payload.operations));
      const { detectThreshold } = require('../dist/runtime/internal');
      assert.strictEqual(detectThreshold(ma.payload), 0.45, 'the privacy threshold applied to the wired blur flow');
      assert.strictEqual(detectThreshold(mb.payload), 0.6);
      runtime.release(ma.payload);
      runtime.release(mb.payload);
    });

    it('"Keep sharp" pictures in the dialog: that face unchanged, the other blurred; the journal says one kept', async function () {
      const CFG = { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'auto', threads: 0, modelsDir: '', frameBudgetMB: 256, tokenTtl: 300 };
      await helper.load(allNodes, [
        { id: 'tab', type: 'tab', label: 'test' },
        CFG,
        { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['blur']] },
        { id: 'blur', z: 'tab', type: 'face-blur', config: 'cfg', onNoFace: 'pass', queueSize: 10, except: media('fr_obama.jpg'), wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ]);
      const config = helper.getNode('cfg');
      await config.ready;
      const runtime = config.runtime;
      const token = await runtime.createToken({ target: media('fr_two_people.jpg'), operations: ['detect', 'blur'] });
      const got = nextMessage(helper.getNode('out'));
      helper.getNode('det').receive({ payload: token });
      const msg = await got;
      const frame = runtime.frame(msg.payload.target.frame);
      assert.match(msg.payload.journal.at(-1).note, /1 kept sharp/);
      assert.strictEqual(changed(two, frame, boxOf(obamaIndex)), 0);
      assert.ok(changed(two, frame, boxOf(1 - obamaIndex, 0)) > 0.9);
      runtime.release(msg.payload);
    });
  });
});
