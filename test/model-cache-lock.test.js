'use strict';
// Two fetchers of one model into one folder (two ModelCache instances, and a child process)
// against a local server on 127.0.0.1: one download, both get the file, `<file>.lock` removed
// afterwards; stale locks (dead pid, untouched too long) are taken over; a live lock is waited
// for within a bound and its finished file used when it checks out.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const { ModelCache, FileLock } = require('../dist/runtime/internal');
const { tmpDir, crcOf, fakeModel, startServer, manifestFor } = require('./helpers/model-server');

const MODEL = fakeModel(600000, 5);
const files = () => ({ '/primary/test_swapper.onnx': MODEL, '/primary/test_swapper.hash': Buffer.from(`${crcOf(MODEL)}\n`) });
const onnxGets = (server) => server.requests.filter((r) => r.url.endsWith('.onnx')).length;
/** What is in the cache folder besides the model and its .hash: no lock, part or stale leftovers. */
const leftovers = (dir) => fs.readdirSync(dir).filter((f) => f !== 'test_swapper.onnx' && f !== 'test_swapper.hash');
const lockRecord = (pid, extra = {}) => `${JSON.stringify({ pid, host: os.hostname(), started: new Date().toISOString(), token: 'someone-else', ...extra })}\n`;
/** A pid that ran and is gone. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid;

describe('ModelCache: one download per folder across fetchers (<file>.lock)', function () {
  this.timeout(30000);
  const temps = [];
  let server;
  afterEach(async () => {
    if (server) await server.close();
    server = undefined;
  });
  after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('two ModelCache instances on one folder: exactly one download, both get the file, the lock is gone afterwards', async function () {
    server = await startServer(files(), (req) => (req.url.endsWith('.onnx') ? { slow: true } : {}));
    const dir = tmpDir(temps);
    const lock = { pollMs: 20 };
    const a = new ModelCache({ dir, manifest: manifestFor(server), lock });
    const b = new ModelCache({ dir, manifest: manifestFor(server), lock });
    const sawLock = [];
    const waited = [];
    const first = a.fetch('test_swapper', { onProgress: () => sawLock.push(fs.existsSync(path.join(dir, 'test_swapper.onnx.lock'))) });
    // b starts once a is downloading.
    await new Promise((resolve) => {
      const t = setInterval(() => {
        if (sawLock.length > 0) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    const second = b.fetch('test_swapper', { onProgress: (e) => waited.push(e) });
    const [pa, pb] = await Promise.all([first, second]);
    assert.strictEqual(pa, pb);
    assert.ok(fs.readFileSync(pa).equals(MODEL));
    assert.strictEqual(onnxGets(server), 1, 'one download');
    assert.ok(sawLock.some(Boolean), 'the lock file existed during the download');
    assert.ok(
      waited.some((e) => /another process \(pid \d+/.test(e.source)),
      `the waiter reported the other fetch: ${JSON.stringify(waited.slice(0, 2))}`,
    );
    assert.deepStrictEqual(leftovers(dir), []);
    // b trusts the file it found checked: a second fetch is immediate and downloads nothing.
    await b.fetch('test_swapper');
    assert.strictEqual(onnxGets(server), 1);
  });

  it('a child process and this one fetching together: one download, both get the file, no lock left', async function () {
    server = await startServer(files(), (req) => (req.url.endsWith('.onnx') ? { slow: true } : {}));
    const dir = tmpDir(temps);
    const manifest = manifestFor(server);
    const script = `
      const { ModelCache } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'runtime', 'internal'))});
      new ModelCache({ dir: process.argv[1], manifest: JSON.parse(process.argv[2]), lock: { pollMs: 20 } })
        .fetch('test_swapper').then((p) => { process.stdout.write(p); }, (e) => { process.stderr.write(String(e && e.message)); process.exitCode = 1; });`;
    const child = spawn(process.execPath, ['-e', script, dir, JSON.stringify(manifest)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      // This process starts once the child holds the lock (bounded wait).
      const lockPath = path.join(dir, 'test_swapper.onnx.lock');
      for (let i = 0; i < 500 && !fs.existsSync(lockPath) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(fs.existsSync(lockPath), `the child took the lock (${err})`);
      const waited = [];
      const mine = await new ModelCache({ dir, manifest, lock: { pollMs: 20 } }).fetch('test_swapper', { onProgress: (e) => waited.push(e.source) });
      assert.ok(
        waited.some((s) => s.includes(`pid ${child.pid} `)),
        `waited for the child: ${waited.slice(0, 2)}`,
      );
      assert.strictEqual(await exited, 0, err);
      assert.strictEqual(out, mine);
      assert.ok(fs.readFileSync(mine).equals(MODEL));
      assert.strictEqual(onnxGets(server), 1, 'one download between the two processes');
      assert.deepStrictEqual(leftovers(dir), []);
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });

  it('a lock left by a dead process is taken over; so is one untouched for longer than staleMs, and a garbled old one', async function () {
    server = await startServer(files());
    const cases = [
      ['dead pid', lockRecord(deadPid()), 0],
      ['untouched 10 min (pid alive)', lockRecord(process.pid), 600],
      ['garbled, untouched 10 min', 'not a lock record', 600],
    ];
    for (const [what, text, ageSeconds] of cases) {
      const dir = tmpDir(temps);
      const lockPath = path.join(dir, 'test_swapper.onnx.lock');
      fs.writeFileSync(lockPath, text);
      if (ageSeconds) {
        const then = new Date(Date.now() - ageSeconds * 1000);
        fs.utimesSync(lockPath, then, then);
      }
      const before = onnxGets(server);
      const file = await new ModelCache({ dir, manifest: manifestFor(server), lock: { waitMs: 2000, pollMs: 20 } }).fetch('test_swapper');
      assert.ok(fs.readFileSync(file).equals(MODEL), what);
      assert.strictEqual(onnxGets(server) - before, 1, `${what}: one download`);
      assert.deepStrictEqual(leftovers(dir), [], `${what}: lock removed`);
    }
  });

  it('a live lock is waited for within waitMs, then E_MODEL_MISSING names its holder; the lock is left alone', async function () {
    server = await startServer(files());
    const dir = tmpDir(temps);
    const lockPath = path.join(dir, 'test_swapper.onnx.lock');
    const record = lockRecord(process.pid);
    fs.writeFileSync(lockPath, record);
    const t0 = Date.now();
    await assert.rejects(
      new ModelCache({ dir, manifest: manifestFor(server), lock: { waitMs: 400, pollMs: 20 } }).fetch('test_swapper'),
      (e) => e.code === 'E_MODEL_MISSING' && e.message.includes(`pid ${process.pid}`) && e.message.includes(lockPath),
    );
    const took = Date.now() - t0;
    assert.ok(took >= 400 && took < 5000, `waited ${took} ms`);
    assert.strictEqual(onnxGets(server), 0, 'nothing downloaded');
    assert.strictEqual(fs.readFileSync(lockPath, 'utf8'), record, "another holder's lock is left as it was");
    // Aborting the wait is prompt.
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(
      new ModelCache({ dir, manifest: manifestFor(server), lock: { pollMs: 20 } }).fetch('test_swapper', { signal: controller.signal }),
      (e) => e.code === 'E_MODEL_MISSING' && /cancelled/.test(e.message),
    );
  });

  it('the waiter uses the file the holder installed when it checks out, and downloads itself when it does not', async function () {
    server = await startServer(files());
    for (const [what, bytes, downloads] of [
      ['right file', MODEL, 0],
      ['broken file', fakeModel(600000, 6), 1],
    ]) {
      const dir = tmpDir(temps);
      const lockPath = path.join(dir, 'test_swapper.onnx.lock');
      const held = await FileLock.tryAcquire(lockPath);
      assert.ok(held instanceof FileLock && held.isHeld);
      const before = onnxGets(server);
      const waiting = new ModelCache({ dir, manifest: manifestFor(server), lock: { waitMs: 5000, pollMs: 20 } }).fetch('test_swapper');
      await new Promise((r) => setTimeout(r, 150));
      fs.writeFileSync(path.join(dir, 'test_swapper.onnx'), bytes);
      await held.release();
      const file = await waiting;
      assert.ok(fs.readFileSync(file).equals(MODEL), what);
      assert.strictEqual(onnxGets(server) - before, downloads, `${what}: downloads`);
      assert.deepStrictEqual(leftovers(dir), [], `${what}: no lock left`);
    }
  });
});

describe('FileLock', function () {
  const temps = [];
  after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('is exclusive, keeps itself fresh while held, and release() stops the heartbeat and deletes only its own file', async function () {
    const dir = tmpDir(temps);
    const lockPath = path.join(dir, 'x.lock');
    const a = await FileLock.tryAcquire(lockPath, { staleMs: 200 });
    assert.ok(a instanceof FileLock);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(lockPath, 'utf8')), a.owner);
    assert.strictEqual(a.owner.pid, process.pid);
    // Past staleMs, the heartbeat (every staleMs / 4) keeps it from being taken over.
    await new Promise((r) => setTimeout(r, 400));
    const b = await FileLock.tryAcquire(lockPath, { staleMs: 200 });
    assert.ok(!(b instanceof FileLock), 'held by a');
    assert.strictEqual(b.holder.token, a.owner.token);
    await a.release();
    assert.ok(!fs.existsSync(lockPath));
    assert.strictEqual(a.isHeld, false);
    // The heartbeat is stopped: an old file put at the path stays old.
    fs.writeFileSync(lockPath, 'old');
    const then = new Date(Date.now() - 60000);
    fs.utimesSync(lockPath, then, then);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(Math.abs(fs.statSync(lockPath).mtimeMs - then.getTime()) < 1000, 'not touched after release');
    fs.unlinkSync(lockPath);
    // A holder whose lock was taken over does not delete the new holder's file.
    const c = await FileLock.tryAcquire(lockPath, { staleMs: 200 });
    fs.rmSync(lockPath);
    const d = await FileLock.tryAcquire(lockPath, { staleMs: 200 });
    await c.release();
    assert.strictEqual(JSON.parse(fs.readFileSync(lockPath, 'utf8')).token, d.owner.token);
    await d.release();
    await d.release();
    assert.deepStrictEqual(fs.readdirSync(dir), []);
  });
});
