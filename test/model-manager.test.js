'use strict';
// Model manager: URL downloads against a local HTTP server on 127.0.0.1 (progress, resume after a
// cut connection, CRC32 from .hash files, integrity failures, offline mirror, clear errors),
// manifest validation of the zoo fields, and the `models` CLI.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const { ModelCache, loadManifest, isPermissiveLicense, crc32Update, crc32Hex, crc32File, HAS_NATIVE_CRC32 } = require('../dist/runtime/internal');
const { main: facefusionNode } = require('../dist/cli/facefusion-node');
const { tmpDir, crcOf, fakeModel, startServer, manifestFor, closedPort } = require('./helpers/model-server');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'models.js');

describe('CRC32', function () {
  it('matches the standard check value, streams, and the table agrees with zlib when Node has it', async function () {
    assert.strictEqual(crc32Hex(crc32Update(Buffer.from('123456789'), 0, false)), 'cbf43926');
    assert.strictEqual(crc32Hex(crc32Update(Buffer.alloc(0), 0, false)), '00000000');
    const data = fakeModel(300000, 7);
    const whole = crc32Update(data, 0, false);
    const pieces = crc32Update(data.subarray(100001), crc32Update(data.subarray(0, 100001), 0, false), false);
    assert.strictEqual(pieces, whole, 'continuing from a previous value equals one pass');
    if (HAS_NATIVE_CRC32) assert.strictEqual(crc32Update(data, 0, true), whole);
    const t = [];
    try {
      const file = path.join(tmpDir(t), 'x.bin');
      fs.writeFileSync(file, data);
      assert.strictEqual(await crc32File(file), crc32Hex(whole));
    } finally {
      t.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    }
  });
});

describe('ModelCache.fetch over HTTP (local server)', function () {
  this.timeout(20000);
  const temps = [];
  let server;
  const savedMirror = process.env.FACEFUSION_MODELS_MIRROR;
  beforeEach(() => delete process.env.FACEFUSION_MODELS_MIRROR);
  afterEach(async () => {
    if (server) await server.close();
    server = undefined;
    if (savedMirror === undefined) delete process.env.FACEFUSION_MODELS_MIRROR;
    else process.env.FACEFUSION_MODELS_MIRROR = savedMirror;
  });
  after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  const MODEL = fakeModel(600000, 3);
  const files = (hash = crcOf(MODEL)) => ({ '/primary/test_swapper.onnx': MODEL, '/primary/test_swapper.hash': Buffer.from(`${hash}\n`) });

  it('reports progress up to the full size, checks the CRC32 from the .hash file and installs the file', async function () {
    server = await startServer(files());
    const dir = tmpDir(temps);
    const cache = new ModelCache({ dir, manifest: manifestFor(server) });
    const events = [];
    const file = await cache.fetch('test_swapper', { onProgress: (e) => events.push(e) });
    assert.strictEqual(file, path.join(dir, 'test_swapper.onnx'));
    assert.ok(fs.readFileSync(file).equals(MODEL), 'byte-identical');
    assert.ok(events.length >= 2, `several progress events (${events.length})`);
    for (let i = 1; i < events.length; i++) assert.ok(events[i].received >= events[i - 1].received, 'received never goes back');
    const last = events[events.length - 1];
    assert.deepStrictEqual(last, { id: 'test_swapper', received: MODEL.length, total: MODEL.length, source: server.url('/primary/test_swapper.onnx') });
    assert.deepStrictEqual(
      server.requests.map((r) => r.url),
      ['/primary/test_swapper.hash', '/primary/test_swapper.onnx'],
      '.hash first, like FaceFusion',
    );
    assert.strictEqual(fs.readFileSync(path.join(dir, 'test_swapper.hash'), 'utf8'), crcOf(MODEL), 'the .hash is kept beside the model');
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['test_swapper.hash', 'test_swapper.onnx'], 'no .part left');
    // Present and checked: no more requests; verify uses the .hash beside the model.
    await cache.fetch('test_swapper');
    assert.strictEqual(server.requests.length, 2);
    assert.deepStrictEqual((await new ModelCache({ dir, manifest: manifestFor(server) }).verify('test_swapper')).checked, ['crc32']);
    assert.ok(cache.isPresent('test_swapper'));
  });

  it('continues after the server cuts the connection mid-file with a Range request; the file is byte-identical', async function () {
    server = await startServer(files(), (req, n) => (req.url.endsWith('.onnx') && n === 1 ? { cutAfter: 250000 } : {}));
    const dir = tmpDir(temps);
    const cache = new ModelCache({ dir, manifest: manifestFor(server) });
    const events = [];
    const file = await cache.fetch('test_swapper', { onProgress: (e) => events.push(e) });
    const onnx = server.requests.filter((r) => r.url === '/primary/test_swapper.onnx');
    assert.strictEqual(onnx.length, 2, 'one cut request and one resumed');
    assert.strictEqual(onnx[0].range, undefined);
    const from = Number(/^bytes=(\d+)-$/.exec(onnx[1].range)?.[1]);
    assert.ok(from > 0 && from <= 250000, `second request carried Range ${onnx[1].range}`);
    assert.ok(fs.readFileSync(file).equals(MODEL), 'byte-identical after resume');
    assert.strictEqual(events[events.length - 1].received, MODEL.length);
    assert.ok(!fs.existsSync(`${file}.part`));
  });

  it('a partial file left by an earlier run is continued; a server that ignores Range gets a full download instead', async function () {
    const dir = tmpDir(temps);
    fs.writeFileSync(path.join(dir, 'test_swapper.onnx.part'), MODEL.subarray(0, 100000));
    server = await startServer(files());
    await new ModelCache({ dir, manifest: manifestFor(server) }).fetch('test_swapper');
    assert.strictEqual(server.requests.find((r) => r.url.endsWith('.onnx')).range, 'bytes=100000-');
    assert.ok(fs.readFileSync(path.join(dir, 'test_swapper.onnx')).equals(MODEL));
    await server.close();

    const dir2 = tmpDir(temps);
    fs.writeFileSync(path.join(dir2, 'test_swapper.onnx.part'), Buffer.alloc(100000, 0xee)); // wrong bytes, would break a resume
    server = await startServer(files(), () => ({ ignoreRange: true }));
    await new ModelCache({ dir: dir2, manifest: manifestFor(server) }).fetch('test_swapper');
    assert.strictEqual(server.requests.find((r) => r.url.endsWith('.onnx')).range, 'bytes=100000-');
    assert.ok(fs.readFileSync(path.join(dir2, 'test_swapper.onnx')).equals(MODEL), 'the 200 answer replaced the part');
  });

  it('a CRC32 mismatch deletes the download and says so (E_MODEL_INTEGRITY); so does a sha256 mismatch', async function () {
    server = await startServer(files('deadbeef'));
    const dir = tmpDir(temps);
    const cache = new ModelCache({ dir, manifest: manifestFor(server) });
    await assert.rejects(cache.fetch('test_swapper'), (e) => {
      assert.strictEqual(e.code, 'E_MODEL_INTEGRITY');
      assert.ok(e.message.includes(`crc32 ${crcOf(MODEL)}, expected deadbeef`), e.message);
      assert.ok(/downloaded file was deleted/.test(e.message), e.message);
      assert.ok(e.message.includes('test_swapper'), e.message);
      return true;
    });
    assert.deepStrictEqual(fs.readdirSync(dir), [], 'neither the model nor its .part is left');

    const cache2 = new ModelCache({ dir, manifest: manifestFor(server, { hash: { crc32: crcOf(MODEL) }, sha256: 'a'.repeat(64) }) });
    await assert.rejects(cache2.fetch('test_swapper'), (e) => e.code === 'E_MODEL_INTEGRITY' && /sha256 [0-9a-f]{64}, expected a{64}/.test(e.message));
    assert.deepStrictEqual(fs.readdirSync(dir), []);
    // The published CRC32 in the manifest wins: no .hash request was needed.
    assert.ok(server.requests.filter((r) => r.url.endsWith('.hash')).length === 1);
  });

  it('verify() deletes a corrupted model and names the CRC32 it expected', async function () {
    server = await startServer(files());
    const dir = tmpDir(temps);
    const cache = new ModelCache({ dir, manifest: manifestFor(server) });
    const file = await cache.fetch('test_swapper');
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('broken'), 0, 6, 1000);
    fs.closeSync(fd);
    await assert.rejects(cache.verify('test_swapper'), (e) => e.code === 'E_MODEL_INTEGRITY' && e.message.includes(`expected ${crcOf(MODEL)}`) && /the file was deleted/.test(e.message));
    assert.ok(!fs.existsSync(file));
  });

  it('uses the offline mirror first: the server sees no request; a bad mirror file is refused and left alone', async function () {
    server = await startServer(files());
    const dir = tmpDir(temps);
    const mirror = tmpDir(temps);
    fs.writeFileSync(path.join(mirror, 'test_swapper.onnx'), MODEL);
    fs.writeFileSync(path.join(mirror, 'test_swapper.hash'), crcOf(MODEL));
    const events = [];
    const file = await new ModelCache({ dir, mirrorDir: mirror, manifest: manifestFor(server) }).fetch('test_swapper', { onProgress: (e) => events.push(e) });
    assert.ok(fs.readFileSync(file).equals(MODEL));
    assert.strictEqual(server.requests.length, 0, 'the network was not used');
    assert.strictEqual(events[events.length - 1].source, `mirror ${path.join(mirror, 'test_swapper.onnx')}`);
    assert.ok(fs.existsSync(path.join(mirror, 'test_swapper.onnx')), 'the mirror keeps its file');

    // FACEFUSION_MODELS_MIRROR does the same; a mirror file that fails its check is reported, not installed.
    const dir2 = tmpDir(temps);
    const mirror2 = tmpDir(temps);
    fs.writeFileSync(path.join(mirror2, 'test_swapper.onnx'), Buffer.alloc(MODEL.length, 1));
    process.env.FACEFUSION_MODELS_MIRROR = mirror2;
    const viaEnv = new ModelCache({ dir: dir2, manifest: manifestFor(server, { hash: { crc32: crcOf(MODEL) } }) });
    assert.strictEqual(viaEnv.mirrorDir, mirror2);
    await assert.rejects(viaEnv.fetch('test_swapper'), (e) => e.code === 'E_MODEL_INTEGRITY' && e.message.includes('offline mirror') && e.message.includes(`expected ${crcOf(MODEL)}`));
    assert.deepStrictEqual(fs.readdirSync(dir2), [], 'nothing installed, temp copy removed');
    assert.ok(fs.existsSync(path.join(mirror2, 'test_swapper.onnx')));
    assert.strictEqual(server.requests.length, 0);
  });

  it('falls back to the second URL when the first answers 404', async function () {
    server = await startServer({ '/mirror/test_swapper.onnx': MODEL, '/mirror/test_swapper.hash': Buffer.from(crcOf(MODEL)) });
    const dir = tmpDir(temps);
    await new ModelCache({ dir, manifest: manifestFor(server) }).fetch('test_swapper');
    assert.ok(fs.readFileSync(path.join(dir, 'test_swapper.onnx')).equals(MODEL));
    assert.deepStrictEqual(
      server.requests.map((r) => r.url),
      ['/primary/test_swapper.hash', '/mirror/test_swapper.hash', '/primary/test_swapper.onnx', '/mirror/test_swapper.onnx'],
    );
  });

  it('nothing reachable (a closed port): a quick E_MODEL_MISSING naming the model, the URLs, the licence and how to place the file', async function () {
    const port = await closedPort();
    const fakeServer = { url: (p) => `http://127.0.0.1:${port}${p}` };
    const dir = tmpDir(temps);
    const cache = new ModelCache({ dir, manifest: manifestFor(fakeServer, { hash: { crc32: crcOf(MODEL) } }) });
    const started = Date.now();
    await assert.rejects(cache.fetch('test_swapper'), (e) => {
      assert.strictEqual(e.code, 'E_MODEL_MISSING');
      for (const part of [
        'test_swapper',
        fakeServer.url('/primary/test_swapper.onnx'),
        fakeServer.url('/mirror/test_swapper.onnx'),
        'Non-Commercial',
        'ECONNREFUSED',
        path.join(dir, 'test_swapper.onnx'),
        'FACEFUSION_MODELS_DIR',
        'FACEFUSION_MODELS_MIRROR',
      ]) {
        assert.ok(e.message.includes(part), `message names ${part}: ${e.message}`);
      }
      return true;
    });
    assert.ok(Date.now() - started < 5000, 'fails fast');
    assert.deepStrictEqual(fs.readdirSync(dir), []);
    // Unreachable .hash files are named too.
    const withHashUrls = new ModelCache({ dir, manifest: manifestFor(fakeServer) });
    await assert.rejects(withHashUrls.fetch('test_swapper'), (e) => e.code === 'E_MODEL_MISSING' && e.message.includes('.hash') && e.message.includes(fakeServer.url('/primary/test_swapper.hash')));
  });

  it('a server that accepts but never answers times out after timeoutMs and its sockets are closed', async function () {
    server = await startServer(files(), () => ({ hang: true }));
    const dir = tmpDir(temps);
    const cache = new ModelCache({ dir, timeoutMs: 300, manifest: manifestFor(server, { hash: { crc32: crcOf(MODEL) } }) });
    const started = Date.now();
    await assert.rejects(cache.fetch('test_swapper'), (e) => e.code === 'E_MODEL_MISSING' && /ETIMEDOUT/.test(e.message));
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 4000, `two URLs × 300 ms, took ${elapsed} ms`);
    for (let i = 0; i < 50 && server.sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.strictEqual(server.sockets.size, 0, 'the client closed every connection');
  });

  it('abort keeps the part for the next fetch, which continues it', async function () {
    server = await startServer(files(), (req, n) => (req.url.endsWith('.onnx') && n === 1 ? { slow: true } : {}));
    const dir = tmpDir(temps);
    const cache = new ModelCache({ dir, manifest: manifestFor(server) });
    const controller = new AbortController();
    await assert.rejects(
      cache.fetch('test_swapper', { signal: controller.signal, onProgress: (e) => e.received >= 200000 && controller.abort() }),
      (e) => e.code === 'E_MODEL_MISSING' && /cancelled/.test(e.message) && e.message.includes('.part'),
    );
    const part = path.join(dir, 'test_swapper.onnx.part');
    assert.ok(fs.existsSync(part) && fs.statSync(part).size > 0, 'the part stays');
    const kept = fs.statSync(part).size;
    await cache.fetch('test_swapper');
    assert.ok(fs.readFileSync(path.join(dir, 'test_swapper.onnx')).equals(MODEL));
    assert.strictEqual(server.requests.filter((r) => r.url.endsWith('.onnx'))[1].range, `bytes=${kept}-`, 'continued with a Range request');
  });

  it('concurrent fetches share one download and both get progress', async function () {
    server = await startServer(files());
    const dir = tmpDir(temps);
    const cache = new ModelCache({ dir, manifest: manifestFor(server) });
    const a = [];
    const b = [];
    const [p1, p2] = await Promise.all([cache.fetch('test_swapper', { onProgress: (e) => a.push(e) }), cache.fetch('test_swapper', { onProgress: (e) => b.push(e) })]);
    assert.strictEqual(p1, p2);
    assert.strictEqual(server.requests.filter((r) => r.url.endsWith('.onnx')).length, 1);
    assert.ok(a.length > 0 && b.length > 0);
  });

  it('list() gives licence, permissive flag, URLs and size', function () {
    const cache = new ModelCache({ dir: tmpDir(temps), manifest: manifestFor({ url: (p) => `http://127.0.0.1:9${p}` }, { size: 600000 }) });
    const [m] = cache.list();
    assert.strictEqual(m.license, 'Non-Commercial');
    assert.strictEqual(m.permissive, false);
    assert.deepStrictEqual(m.urls, ['http://127.0.0.1:9/primary/test_swapper.onnx', 'http://127.0.0.1:9/mirror/test_swapper.onnx']);
    assert.strictEqual(m.size, 600000);
    assert.strictEqual(m.present, false);
    for (const l of ['MIT', 'Apache-2.0', 'BSD-3-Clause']) assert.ok(isPermissiveLicense(l), l);
    for (const l of ['Non-Commercial', 'GPL-3.0', 'ResearchRAIL', 'S-Lab-1.0', 'Unknown', 'OpenRAIL-M']) assert.ok(!isPermissiveLicense(l), l);
  });
});

describe('model manifest: FaceFusion zoo entries and validation', function () {
  const temps = [];
  after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  const EXPECTED = {
    'scrfd_2.5g': ['detector', 'scrfd'],
    retinaface_10g: ['detector', 'scrfd'],
    yoloface_8n: ['detector', 'yoloface'],
    yunet_2023_mar: ['detector', 'yunet'],
    '2dfan4': ['landmarker', '2dfan4'],
    fan_68_5: ['landmarker', 'fan_68_5'],
    arcface_w600k_r50: ['embedder', 'arcface_w600k_r50'],
    crossface_simswap: ['converter', 'crossface_simswap'],
    crossface_ghost: ['converter', 'crossface_ghost'],
    crossface_hififace: ['converter', 'crossface_hififace'],
    inswapper_128: ['swapper', 'inswapper_128'],
    inswapper_128_fp16: ['swapper', 'inswapper_128'],
    simswap_256: ['swapper', 'simswap_256'],
    simswap_unofficial_512: ['swapper', 'simswap_512'],
    hyperswap_1a_256: ['swapper', 'hyperswap_256'],
    hyperswap_1b_256: ['swapper', 'hyperswap_256'],
    hyperswap_1c_256: ['swapper', 'hyperswap_256'],
    ghost_1_256: ['swapper', 'ghost_256'],
    ghost_2_256: ['swapper', 'ghost_256'],
    ghost_3_256: ['swapper', 'ghost_256'],
    hififace_unofficial_256: ['swapper', 'hififace_256'],
    blendswap_256: ['swapper', 'blendswap_256'],
    uniface_256: ['swapper', 'uniface_256'],
    'gfpgan_1.4': ['enhancer', 'gfpgan'],
    codeformer: ['enhancer', 'codeformer'],
    gpen_bfr_512: ['enhancer', 'gfpgan'],
    restoreformer_plus_plus: ['enhancer', 'gfpgan'],
    xseg_1: ['masker', 'xseg'],
    bisenet_resnet_34: ['masker', 'bisenet'],
  };

  it('lists every FaceFusion model with its role, contract, GitHub + Hugging Face URLs and .hash URLs', function () {
    const manifest = loadManifest();
    const byId = Object.fromEntries(manifest.models.map((m) => [m.id, m]));
    for (const [id, [role, contract]] of Object.entries(EXPECTED)) {
      const m = byId[id];
      assert.ok(m, `${id} is in the manifest`);
      assert.strictEqual(m.role, role, id);
      assert.strictEqual(m.contract, contract, id);
      assert.strictEqual(m.file, `${id}.onnx`);
      const [gh, hf] = m.source.urls;
      const base = /releases\/download\/(models-[0-9.]+)\//.exec(gh)?.[1];
      assert.ok(base, `${id}: GitHub release URL ${gh}`);
      assert.strictEqual(gh, `https://github.com/facefusion/facefusion-assets/releases/download/${base}/${id}.onnx`);
      assert.strictEqual(hf, `https://huggingface.co/facefusion/${base}/resolve/main/${id}.onnx`);
      assert.deepStrictEqual(m.hash.urls, [gh.replace(/\.onnx$/, '.hash'), hf.replace(/\.onnx$/, '.hash')]);
      assert.ok(m.license && m.note, `${id} has a licence and a note on where its URL was read`);
    }
    for (const id of ['inswapper_128', 'simswap_256', 'hyperswap_1a_256', 'ghost_2_256', 'hififace_unofficial_256']) assert.strictEqual(byId[id].recognizer, 'arcface_w600k_r50');
    assert.strictEqual(byId.simswap_unofficial_512.converter, 'crossface_simswap');
    assert.strictEqual(byId.ghost_1_256.converter, 'crossface_ghost');
    assert.strictEqual(byId.hififace_unofficial_256.converter, 'crossface_hififace');
    assert.strictEqual(byId.inswapper_128.converter, undefined);
    assert.strictEqual(byId.blendswap_256.recognizer, undefined, 'image-source swappers take no embedding');
    assert.strictEqual(byId.yunet_2023_mar.source.urls[0].includes('models-3.4.0'), true);
    assert.strictEqual(byId.hyperswap_1a_256.license, 'ResearchRAIL');
    assert.strictEqual(byId.inswapper_128.license, 'Non-Commercial');
    assert.strictEqual(byId['gfpgan_1.4'].license, 'Apache-2.0');
  });

  function expectRefused(models, pattern) {
    const file = path.join(tmpDir(temps), 'manifest.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, models }));
    assert.throws(
      () => loadManifest(file),
      (e) => e.code === 'E_INTERNAL' && e.message.includes(file) && pattern.test(e.message),
      `refused: ${pattern}`,
    );
  }

  it('refuses malformed zoo fields, naming the model and the problem', function () {
    const ok = { id: 'a', role: 'swapper', file: 'a.onnx', contract: 'c', license: 'MIT', source: { urls: ['https://example.org/a.onnx'] } };
    const emb = { id: 'e', role: 'embedder', file: 'e.onnx', contract: 'c', license: 'MIT', source: { urls: ['https://example.org/e.onnx'] } };
    const file = path.join(tmpDir(temps), 'good.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, models: [ok, emb, { ...ok, id: 'b', file: 'b.onnx', recognizer: 'e', hash: { crc32: '0123abcd', urls: ['http://example.org/b.hash'] } }] }));
    assert.strictEqual(loadManifest(file).models.length, 3, 'a well-formed manifest loads');
    expectRefused([{ ...ok, hash: { crc32: 'XYZ' } }], /malformed hash\.crc32/);
    expectRefused([{ ...ok, hash: {} }], /hash with neither crc32 nor urls/);
    expectRefused([{ ...ok, hash: { urls: ['ftp://example.org/a.hash'] } }], /hash\.urls entry that is not an http\(s\) URL/);
    expectRefused([{ ...ok, source: { urls: [] } }], /source\.urls that is not a non-empty list/);
    expectRefused([{ ...ok, source: { urls: ['file:///etc/passwd'] } }], /not an http\(s\) URL/);
    expectRefused([{ ...ok, source: {} }], /neither npm nor urls/);
    expectRefused([{ ...ok, source: { npm: 'x@1' } }], /both source\.npm and source\.path/);
    expectRefused([{ ...ok, source: { urls: ['https://example.org/a.onnx'], git: 'x' } }], /unknown source field "git"/);
    expectRefused([{ ...ok, licence: 'MIT' }], /unknown field "licence"/);
    expectRefused([{ ...ok, file: '../a.onnx' }], /not a plain name/);
    expectRefused([{ ...ok, recognizer: 'nope' }], /recognizer "nope", which is not in the manifest/);
    expectRefused([ok, emb, { ...ok, id: 'b', converter: 'e' }], /converter "e", whose role is embedder, not converter/);
    expectRefused([{ ...ok, role: 'converter', size: -3 }], /size that is not a positive/);
    expectRefused([{ ...ok, note: 5 }], /note that is not a non-empty string/);
    expectRefused([{ ...ok, license: ' ' }], /empty license/);
  });
});

describe('models CLI (list, fetch, verify)', function () {
  this.timeout(30000);
  const temps = [];
  after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const run = (args, env = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, FACEFUSION_MODELS_MIRROR: '', ...env } });

  it('list shows role, present/missing and licence, with non-permissive licences marked', function () {
    const dir = tmpDir(temps);
    const out = run(['list', '--dir', dir]);
    assert.strictEqual(out.status, 0, out.stderr);
    assert.match(out.stdout, /inswapper_128\s+swapper\s+missing\s+Non-Commercial \[!\]/);
    assert.match(out.stdout, /gfpgan_1\.4\s+enhancer\s+missing\s+Apache-2\.0\n/);
    assert.match(out.stdout, /\[!\] not a permissive licence/);
  });

  it('fetch from an offline mirror prints the licence first and progress on stderr; verify checks it; a broken file exits 1 naming it', function () {
    const dir = tmpDir(temps);
    const mirror = tmpDir(temps);
    const model = fakeModel(50000, 9);
    fs.writeFileSync(path.join(mirror, 'inswapper_128.onnx'), model);
    fs.writeFileSync(path.join(mirror, 'inswapper_128.hash'), crcOf(model));
    let out = run(['fetch', 'inswapper_128', '--dir', dir, '--mirror', mirror]);
    assert.strictEqual(out.status, 0, out.stderr);
    assert.match(out.stderr, /^inswapper_128: licence Non-Commercial — not a permissive licence/);
    assert.match(out.stderr, /inswapper_128: 48\.8 kB \/ 48\.8 kB \(100%\) from mirror /);
    assert.strictEqual(out.stdout.trim(), `inswapper_128: ${path.join(dir, 'inswapper_128.onnx')}`);
    assert.ok(fs.readFileSync(path.join(dir, 'inswapper_128.onnx')).equals(model));

    out = run(['verify', 'inswapper_128', '--dir', dir]);
    assert.strictEqual(out.status, 0, out.stderr);
    assert.match(out.stdout, /inswapper_128\s+swapper\s+ok \(crc32\)/);

    const fd = fs.openSync(path.join(dir, 'inswapper_128.onnx'), 'r+');
    fs.writeSync(fd, Buffer.from('xx'), 0, 2, 10);
    fs.closeSync(fd);
    out = run(['verify', '--dir', dir]);
    assert.strictEqual(out.status, 1);
    assert.match(out.stdout, /inswapper_128\s+swapper\s+BAD \(deleted\)/);
    assert.match(out.stderr, /error: inswapper_128: E_MODEL_INTEGRITY: .*inswapper_128\.onnx failed its integrity check \(crc32 /);
    assert.match(out.stderr, /failed: inswapper_128\n$/);

    out = run(['verify', 'yunet_2023_mar', '--dir', dir]);
    assert.strictEqual(out.status, 1);
    assert.match(out.stdout, /yunet_2023_mar\s+detector\s+MISSING/);
    assert.match(out.stderr, /failed: yunet_2023_mar/);
  });

  it('bad arguments and unknown ids exit 2; facefusion-node models runs the same code', async function () {
    let out = run(['fetch', 'no_such_model', '--dir', tmpDir(temps)]);
    assert.strictEqual(out.status, 2);
    assert.match(out.stderr, /unknown model "no_such_model"/);
    out = run(['list', '--timeout', 'soon']);
    assert.strictEqual(out.status, 2);
    assert.match(out.stderr, /--timeout needs a positive number/);
    const chunks = { out: '', err: '' };
    const io = { stdout: { write: (s) => (chunks.out += s) }, stderr: { write: (s) => (chunks.err += s) } };
    const code = await facefusionNode(['models', 'list', '--dir', tmpDir(temps)], io);
    assert.strictEqual(code, 0, chunks.err);
    assert.match(chunks.out, /hyperswap_1a_256\s+swapper\s+missing\s+ResearchRAIL \[!\]/);
  });
});

describe('config node admin endpoints (model list and fetch)', function () {
  this.timeout(60000);
  const { helper, ourNodes } = require('./helpers/red');
  const REPO_MODELS = path.join(__dirname, '..', 'models');
  const temps = [];
  const saved = process.env.FACEFUSION_MODELS_MIRROR;
  let deployedDir;
  let mirror;
  const model = fakeModel(40000, 11);

  before(function (done) {
    helper.startServer(done);
  });
  after(function (done) {
    if (saved === undefined) delete process.env.FACEFUSION_MODELS_MIRROR;
    else process.env.FACEFUSION_MODELS_MIRROR = saved;
    temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    helper.stopServer(done);
  });
  beforeEach(async function () {
    deployedDir = tmpDir(temps);
    for (const f of ['fr_detect.onnx', 'fr_landmark.onnx', 'fr_feature.onnx']) fs.copyFileSync(path.join(REPO_MODELS, f), path.join(deployedDir, f));
    mirror = tmpDir(temps);
    fs.writeFileSync(path.join(mirror, 'inswapper_128.onnx'), model);
    fs.writeFileSync(path.join(mirror, 'inswapper_128.hash'), crcOf(model));
    process.env.FACEFUSION_MODELS_MIRROR = mirror;
    await helper.load(ourNodes, [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'cfg2', type: 'facefusion-config', name: 'rt', device: 'cpu', threads: 1, modelsDir: deployedDir, frameBudgetMB: 64, tokenTtl: 60 },
    ]);
    await helper.getNode('cfg2').ready;
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('lists models with role, presence and licence for a deployed folder; refuses folders the runtime does not know', async function () {
    let res = await helper.request().get('/facefusion/models').query({ dir: deployedDir }).expect(200);
    assert.strictEqual(res.body.dir, deployedDir);
    const ins = res.body.models.find((m) => m.id === 'inswapper_128');
    assert.deepStrictEqual([ins.role, ins.present, ins.license, ins.permissive], ['swapper', false, 'Non-Commercial', false]);
    assert.ok(res.body.models.find((m) => m.id === 'fr_detect').present);
    res = await helper.request().get('/facefusion/models').query({ config: 'cfg2' }).expect(200);
    assert.strictEqual(res.body.dir, deployedDir);
    const elsewhere = tmpDir(temps);
    res = await helper.request().get('/facefusion/models').query({ dir: elsewhere }).expect(403);
    assert.match(res.body.error, /not a models folder known to the runtime/);
    await helper
      .request()
      .post('/facefusion/models/fetch')
      .send({ dir: path.join(elsewhere, 'new'), id: 'inswapper_128' })
      .expect(403);
    assert.ok(!fs.existsSync(path.join(elsewhere, 'new')), 'nothing written outside the known folders');
  });

  it('fetch button: POST fetches any model into the config node folder (from the mirror here) once its licence is accepted; unknown ids are 400', async function () {
    const refused = await helper.request().post('/facefusion/models/fetch').send({ config: 'cfg2', id: 'inswapper_128' }).expect(409);
    const license = refused.body.license;
    assert.ok(license && refused.body.error.includes(license), `the refusal names the licence: ${refused.body.error}`);
    assert.ok(!fs.existsSync(path.join(deployedDir, 'inswapper_128.onnx')), 'nothing fetched before the licence is accepted');
    const res = await helper.request().post('/facefusion/models/fetch').send({ config: 'cfg2', id: 'inswapper_128', acceptLicense: license }).expect(200);
    assert.strictEqual(res.body.ok, true);
    assert.ok(res.body.models.find((m) => m.id === 'inswapper_128').present);
    assert.ok(fs.readFileSync(path.join(deployedDir, 'inswapper_128.onnx')).equals(model));
    const list = await helper.request().get('/facefusion/models').query({ config: 'cfg2' }).expect(200);
    assert.deepStrictEqual(
      list.body.fetching.map((f) => [f.id, f.state, f.received]),
      [['inswapper_128', 'done', model.length]],
    );
    const bad = await helper.request().post('/facefusion/models/fetch').send({ config: 'cfg2', id: 'nope' }).expect(400);
    assert.match(bad.body.error, /unknown model "nope"/);
  });
});
