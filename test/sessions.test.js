'use strict';
// SessionPool against the real default models and onnxruntime-node on this machine.
const assert = require('assert');
const path = require('path');
const ort = require('onnxruntime-node');

const { SessionPool, Tensor, ModelCache, CONTRACTS } = require('../dist/runtime/internal');

const { requireTestModel, pending, SCRFD_FILE } = require('./helpers/fixtures');

/** Wraps ORT session creation so tests can see options, releases and runs of the real sessions. */
function spyingCreate() {
  const spy = { options: [], released: [], runs: [] };
  spy.create = async (p, o) => {
    spy.options.push(o);
    const s = await ort.InferenceSession.create(p, o);
    const release = s.release.bind(s);
    const run = s.run.bind(s);
    s.release = async () => {
      spy.released.push(path.basename(p));
      return release();
    };
    s.run = async (feeds, ...rest) => {
      spy.runs.push({ model: path.basename(p), dims: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims])) });
      return run(feeds, ...rest);
    };
    return s;
  };
  return spy;
}

/** A stand-in ORT session with the given metadata, for paths real model files cannot reach. */
function fakeSession(inputs, outputs = [{ name: 'out', isTensor: true, type: 'float32', shape: [1] }]) {
  const s = {
    inputNames: inputs.map((i) => i.name),
    outputNames: outputs.map((o) => o.name),
    inputMetadata: inputs,
    outputMetadata: outputs,
    feeds: [],
    released: 0,
    async run(feeds) {
      s.feeds.push(feeds);
      return { out: new ort.Tensor('float32', new Float32Array(1), [1]) };
    },
    async release() {
      s.released++;
    },
  };
  return s;
}

describe('SessionPool', function () {
  this.timeout(60000);
  let models;
  before(async function () {
    models = new ModelCache();
    await models.ensureDefaults();
  });

  it('two acquires of fr_detect share one warmed-up session; releasing both closes it', async function () {
    const spy = spyingCreate();
    const pool = new SessionPool({ device: 'auto', createSession: spy.create });
    const detector = models.pathOf('fr_detect');
    const [a, b] = await Promise.all([pool.acquire(detector, { contract: CONTRACTS.rfb320, label: 'fr_detect' }), pool.acquire(detector, { contract: CONTRACTS.rfb320, label: 'fr_detect' })]);
    assert.strictEqual(spy.options.length, 1, 'one ORT session created');
    let stats = pool.stats();
    assert.strictEqual(stats.sessions, 1);
    assert.strictEqual(stats.entries[0].users, 2);
    assert.strictEqual(stats.entries[0].label, 'fr_detect');
    assert.strictEqual(stats.entries[0].warmups, 1);
    assert.strictEqual(spy.runs.length, 1, 'warm-up ran once');
    assert.deepStrictEqual(spy.runs[0].dims, { input: [1, 3, 240, 320] });
    assert.strictEqual(a.key, b.key);
    assert.deepStrictEqual([...a.inputNames], ['input']);
    assert.deepStrictEqual([...a.outputNames], ['scores', 'boxes']);
    assert.deepStrictEqual(a.outputMetadata, [
      { name: 'scores', type: 'float32', shape: [1, 4420, 2] },
      { name: 'boxes', type: 'float32', shape: [1, 4420, 4] },
    ]);

    // A real inference through the handle, counted in stats (the warm-up is not).
    const out = await a.run({ input: new Tensor('float32', new Float32Array(3 * 240 * 320).fill(0.5), [1, 3, 240, 320]) });
    assert.deepStrictEqual(out.scores.dims, [1, 4420, 2]);
    assert.ok(Number.isFinite(out.scores.data[0]));
    assert.strictEqual(pool.stats().entries[0].runs, 1);

    await a.release();
    await a.release(); // idempotent per handle: must not drop b's reference
    stats = pool.stats();
    assert.strictEqual(stats.sessions, 1);
    assert.strictEqual(stats.entries[0].users, 1);
    assert.deepStrictEqual(spy.released, []);
    await assert.rejects(a.run(out), (e) => e.code === 'E_CLOSED', 'a released handle cannot run');
    await b.release();
    assert.strictEqual(pool.stats().sessions, 0);
    assert.deepStrictEqual(spy.released, ['fr_detect.onnx'], 'the ORT session was released once');

    // A later acquire loads it again, lazily.
    const c = await pool.acquire(detector);
    assert.strictEqual(spy.options.length, 2);
    await pool.close();
    assert.deepStrictEqual(spy.released, ['fr_detect.onnx', 'fr_detect.onnx']);
    await c.release(); // after close: nothing left to release, no double release
    assert.strictEqual(spy.released.length, 2);
  });

  it('auto mode reports the provider it really got (cpu here) and passes threads to ORT', async function () {
    const spy = spyingCreate();
    const pool = new SessionPool({ device: 'auto', threads: 2, createSession: spy.create });
    const h = await pool.acquire(models.pathOf('fr_landmark'), { contract: CONTRACTS.pfld68 });
    const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
    if (!cuda || !cuda.bundled) assert.strictEqual(h.provider, 'cpu');
    assert.strictEqual(pool.stats().entries[0].provider, h.provider);
    const last = spy.options[spy.options.length - 1];
    assert.strictEqual(last.intraOpNumThreads, 2);
    assert.strictEqual(last.interOpNumThreads, 1);
    assert.deepStrictEqual(last.executionProviders, [h.provider]);
    await pool.close();

    const fallback = new SessionPool({ device: 'cpu', createSession: spy.create });
    await (await fallback.acquire(models.pathOf('fr_landmark'))).release();
    assert.strictEqual(spy.options[spy.options.length - 1].intraOpNumThreads, undefined, 'threads 0 leaves ORT its default');
    // ...unless the model's contract asks for its own (a light model: one thread costs less CPU).
    await (await fallback.acquire(models.pathOf('fr_landmark'), { contract: CONTRACTS.pfld68 })).release();
    assert.strictEqual(spy.options[spy.options.length - 1].intraOpNumThreads, 1, "threads 0 takes the light model's own 1");
    await fallback.close();
  });

  it('ORT threads sleep between runs unless spin-wait is asked for, and the real binding accepts both', async function () {
    const spy = spyingCreate();
    const spinning = (o) => [o.extra.session.intra_op.allow_spinning, o.extra.session.inter_op.allow_spinning];
    const sleeping = new SessionPool({ device: 'cpu', createSession: spy.create });
    const a = await sleeping.acquire(models.pathOf('fr_landmark'), { contract: CONTRACTS.pfld68 });
    assert.deepStrictEqual(spinning(spy.options[spy.options.length - 1]), ['0', '0']);
    const spinningPool = new SessionPool({ device: 'cpu', spinWait: true, createSession: spy.create });
    const b = await spinningPool.acquire(models.pathOf('fr_landmark'), { contract: CONTRACTS.pfld68 });
    assert.deepStrictEqual(spinning(spy.options[spy.options.length - 1]), ['1', '1']);
    // Both sessions were really created and warmed by onnxruntime-node with these entries.
    assert.ok(spy.runs.filter((r) => r.model === 'fr_landmark.onnx').length >= 2, 'both sessions ran');
    await a.release();
    await b.release();
    await Promise.all([sleeping.close(), spinningPool.close()]);
    assert.strictEqual(spy.released.length, 2);
  });

  it('auto mode falls back to CPU when CUDA is installed but fails to start', async function () {
    const tried = [];
    const logs = [];
    const pool = new SessionPool({
      device: 'auto',
      hasCudaProvider: () => true,
      logger: (level, msg) => logs.push([level, msg]),
      createSession: async (p, o) => {
        tried.push(o.executionProviders[0]);
        if (o.executionProviders[0] === 'cuda') throw new Error('CUDA driver version is insufficient for CUDA runtime version');
        return ort.InferenceSession.create(p, o);
      },
    });
    const h = await pool.acquire(models.pathOf('fr_landmark'), { label: 'fr_landmark' });
    assert.deepStrictEqual(tried, ['cuda', 'cpu']);
    assert.strictEqual(h.provider, 'cpu');
    assert.ok(
      logs.some(([level, msg]) => level === 'warn' && /CUDA could not load fr_landmark \(CUDA driver version/.test(msg)),
      JSON.stringify(logs),
    );
    await pool.close();
  });

  it("device 'cuda' without a CUDA build fails with E_SESSION saying so", async function () {
    const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
    if (cuda && cuda.bundled) {
      pending(this, 'this onnxruntime-node bundles CUDA, so the failure cannot be shown');
    }
    const spy = spyingCreate();
    const pool = new SessionPool({ device: 'cuda', createSession: spy.create });
    await assert.rejects(pool.acquire(models.pathOf('fr_landmark'), { label: 'fr_landmark' }), (e) => {
      assert.strictEqual(e.code, 'E_SESSION');
      assert.match(e.message, /^CUDA was requested for fr_landmark but is not available \(/);
      assert.match(e.message, /set the device to auto or cpu/);
      return true;
    });
    assert.deepStrictEqual(
      spy.options.map((o) => o.executionProviders),
      [['cuda']],
      'no silent CPU fallback',
    );
    assert.strictEqual(pool.stats().entries.length, 0);
    await pool.close();
  });

  it('a detector contract fed fr_feature.onnx fails with E_MODEL_CONTRACT; the session is released and a later acquire retries', async function () {
    const spy = spyingCreate();
    const pool = new SessionPool({ device: 'cpu', createSession: spy.create });
    const feature = models.pathOf('fr_feature');
    await assert.rejects(pool.acquire(feature, { contract: CONTRACTS.rfb320, label: 'fr_feature.onnx' }), (e) => {
      assert.strictEqual(e.code, 'E_MODEL_CONTRACT');
      assert.match(e.message, /^fr_feature\.onnx does not fit the detector contract rfb320: /);
      assert.match(e.message, /input "input" has shape \[1,3,112,112\], expected \[1,3,240,320\]/);
      assert.match(e.message, /output "scores" is missing \(model has: output\)/);
      return true;
    });
    assert.deepStrictEqual(spy.released, ['fr_feature.onnx'], 'the refused session was released');
    assert.strictEqual(spy.runs.length, 0, 'no warm-up of a refused model');
    assert.deepStrictEqual(pool.stats(), { sessions: 0, entries: [] });
    const ok = await pool.acquire(feature, { contract: CONTRACTS.faceplugin_arcface112 });
    assert.strictEqual(spy.options.length, 2, 'the failed entry was not cached');
    assert.strictEqual(ok.provider, 'cpu');
    await pool.close();
  });

  it('the shared SCRFD detector is refused by the rfb320 contract', async function () {
    const SCRFD = requireTestModel(this, SCRFD_FILE);
    const pool = new SessionPool({ device: 'cpu' });
    await assert.rejects(pool.acquire(SCRFD, { contract: CONTRACTS.rfb320, label: 'scrfd_2.5g_test.onnx' }), (e) => {
      assert.strictEqual(e.code, 'E_MODEL_CONTRACT');
      assert.match(e.message, /input "input" is missing \(model has: input\.1\)/);
      assert.match(e.message, /output "scores" is missing \(model has: score_8, score_16, score_32, /);
      return true;
    });
    assert.strictEqual(pool.stats().sessions, 0);
    await pool.close();
  });

  it('close() releases every session, is idempotent, and later acquires and runs fail with E_CLOSED', async function () {
    const spy = spyingCreate();
    const pool = new SessionPool({ device: 'cpu', createSession: spy.create });
    const d = await pool.acquire(models.pathOf('fr_detect'));
    await pool.acquire(models.pathOf('fr_landmark'));
    await pool.acquire(models.pathOf('fr_landmark'));
    assert.strictEqual(pool.stats().sessions, 2);
    await pool.close();
    await pool.close();
    assert.deepStrictEqual(spy.released.sort(), ['fr_detect.onnx', 'fr_landmark.onnx']);
    assert.deepStrictEqual(pool.stats(), { sessions: 0, entries: [] });
    await assert.rejects(pool.acquire(models.pathOf('fr_detect')), (e) => e.code === 'E_CLOSED');
    await assert.rejects(d.run({}), (e) => e.code === 'E_CLOSED');
  });

  it('close() during a load releases that session too and the waiting acquire gets E_CLOSED', async function () {
    const spy = spyingCreate();
    const pool = new SessionPool({ device: 'cpu', createSession: spy.create });
    const pending = pool.acquire(models.pathOf('fr_feature'));
    await pool.close();
    await assert.rejects(pending, (e) => e.code === 'E_CLOSED');
    assert.deepStrictEqual(spy.released, ['fr_feature.onnx']);
  });

  it('warm-up is optional, and fills symbolic dimensions from the contract, else 64 for H/W and 1 elsewhere', async function () {
    const dynamic = fakeSession([
      { name: 'data', isTensor: true, type: 'float32', shape: ['batch', 3, 'height', 'width'] },
      { name: 'ids', isTensor: true, type: 'int64', shape: [-1, 4] },
    ]);
    const contract = { id: 'test', role: 'detector', inputs: [{ name: 'data', type: 'float32', shape: [1, 3, 240, null] }], outputs: [] };
    const pool = new SessionPool({ device: 'cpu', createSession: async () => dynamic });
    const h = await pool.acquire(models.pathOf('fr_detect'), { contract });
    assert.strictEqual(dynamic.feeds.length, 1);
    assert.deepStrictEqual(dynamic.feeds[0].data.dims, [1, 3, 240, 64]);
    assert.deepStrictEqual(dynamic.feeds[0].ids.dims, [1, 4]);
    assert.strictEqual(dynamic.feeds[0].ids.type, 'int64');
    assert.deepStrictEqual(h.inputMetadata[0].shape, ['batch', 3, 'height', 'width']);
    await pool.close();
    assert.strictEqual(dynamic.released, 1);

    const cold = fakeSession([{ name: 'x', isTensor: true, type: 'float32', shape: [1, 3] }]);
    const pool2 = new SessionPool({ device: 'cpu', createSession: async () => cold });
    await (await pool2.acquire(models.pathOf('fr_detect'), { warmup: false })).release();
    assert.strictEqual(cold.feeds.length, 0);
    assert.strictEqual(cold.released, 1);
    await pool2.close();
  });

  it('a warm-up that throws is an E_SESSION naming the model, and the session is released', async function () {
    const broken = fakeSession([{ name: 'x', isTensor: true, type: 'float32', shape: [1, 3] }]);
    broken.run = async () => {
      throw new Error('Non-zero status code returned while running Conv node');
    };
    const pool = new SessionPool({ device: 'cpu', createSession: async () => broken });
    await assert.rejects(pool.acquire(models.pathOf('fr_detect'), { label: 'odd.onnx' }), (e) => e.code === 'E_SESSION' && /warm-up run of odd\.onnx on cpu failed: Non-zero status/.test(e.message));
    assert.strictEqual(broken.released, 1);
    await pool.close();
  });

  it('a missing file is E_MODEL_MISSING and a file that is not ONNX is refused by name', async function () {
    const pool = new SessionPool({ device: 'cpu' });
    await assert.rejects(pool.acquire('/nowhere/x.onnx'), (e) => e.code === 'E_MODEL_MISSING' && e.message.includes('/nowhere/x.onnx'));
    await assert.rejects(
      pool.acquire(path.join(__dirname, 'sessions.test.js'), { label: 'sessions.test.js' }),
      (e) => e.code === 'E_MODEL_CONTRACT' && /sessions\.test\.js could not be loaded as an ONNX model/.test(e.message),
    );
    assert.strictEqual(pool.stats().entries.length, 0);
    await pool.close();
  });

  it('refuses bad options', function () {
    assert.throws(
      () => new SessionPool({ device: 'gpu' }),
      (e) => e.code === 'E_BAD_PARAMETER',
    );
    assert.throws(
      () => new SessionPool({ threads: -1 }),
      (e) => e.code === 'E_BAD_PARAMETER',
    );
  });
});
