'use strict';
// Face jobs on a Redis queue: a real redis-server on 127.0.0.1, workers as
// real CLI processes (one killed with SIGKILL mid-job) and in this process; args validated before
// they are queued; a job that keeps failing ends failed after its attempts; hand back on stop;
// cancel; passwords; outputs only ever appear complete under their final name.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { createRuntime } = require('../dist/runtime');
const { FfmpegLocator, probeMedia, RedisJobQueue, QueueWorker, redisOptions, redactRedisUrl } = require('../dist/runtime/internal');
const { media, ffmpegOrSkip, makeZoomClip, tempDir } = require('./helpers/clips');
const { until } = require('./helpers/wait');
const { gateStage } = require('./helpers/stage-gate');
const { pending } = require('./helpers/fixtures');
const { startRedis, redisBinary } = require('./helpers/redis');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');

/** A CLI process; `lines` collects stderr lines as they come. */
function cli(args, env = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { child, stdout: '', stderr: '', code: undefined };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  out.closed = new Promise((resolve) => child.on('close', (code, signal) => resolve((out.code = code ?? signal))));
  return out;
}

/** Clients connected to the Redis on `port` (INFO clients), the asking one included. */
function redisClients(port) {
  return new Promise((resolve, reject) => {
    const s = require('net').connect(port, '127.0.0.1');
    let text = '';
    s.on('data', (d) => {
      text += d;
      const m = /connected_clients:(\d+)/.exec(text);
      if (m) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on('error', reject);
    s.write('INFO clients\r\n');
  });
}

const partials = (dir) => fs.readdirSync(dir).filter((n) => n.includes('.partial-'));

describe('face jobs on a Redis queue (BullMQ)', function () {
  this.timeout(90000);
  let redis;
  let dir;
  let clip; // 96 frames 256x256 at 12 fps: a blur job takes a couple of seconds
  let locator;
  const workers = [];

  before(async function () {
    if (!redisBinary()) pending(this, 'redis-server is not installed (apt-get install redis-server)');
    locator = new FfmpegLocator();
    const ffmpeg = await ffmpegOrSkip(this, locator);
    dir = tempDir('ff-queue-');
    clip = makeZoomClip(ffmpeg.path, { image: media('astronaut.png'), output: path.join(dir, 'clip.mp4'), width: 256, height: 256, frames: 96, fps: 12 });
    redis = await startRedis();
  });

  afterEach(async function () {
    for (const w of workers.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await w.closed;
    }
  });

  after(async function () {
    if (redis) await redis.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Redis URLs: passwords, users, db and rediss:// (TLS); the password never shown', function () {
    const o = redisOptions('rediss://me:s%40cret@cache.example:6380/2');
    assert.deepStrictEqual([o.host, o.port, o.db, o.username, o.password, o.tls?.servername], ['cache.example', 6380, 2, 'me', 's@cret', 'cache.example']);
    assert.deepStrictEqual(redisOptions('rediss://127.0.0.1:6380').tls, {}, 'no SNI for an IP address');
    assert.strictEqual(redisOptions('redis://127.0.0.1').port, 6379);
    assert.strictEqual(redisOptions('redis://127.0.0.1').tls, undefined);
    assert.strictEqual(redactRedisUrl('rediss://me:s%40cret@cache.example:6380/2'), 'rediss://me:***@cache.example:6380/2');
    assert.strictEqual(redactRedisUrl('redis://:pw@h:1'), 'redis://:***@h:1');
    assert.throws(() => redisOptions('http://h:1'), { code: 'E_BAD_PARAMETER' });
    assert.throws(() => redisOptions('redis://h:1/x'), { code: 'E_BAD_PARAMETER' });
  });

  it('args are validated before they are queued: a bad job never reaches Redis', async function () {
    const queue = new RedisJobQueue({ url: redis.url, name: 'validate' });
    try {
      await assert.rejects(queue.submit({ target_path: clip, output_path: path.join(dir, 'x.mp4'), processors: ['face_morph'] }), { code: 'E_JOB', message: /face_morph/ });
      await assert.rejects(queue.submit({ target_path: clip, output_path: path.join(dir, 'x.jpg'), processors: ['face_blur'] }), { code: 'E_BAD_OUTPUT' });
      assert.deepStrictEqual(await queue.list(), []);
      const r = cli(['run', '--queue', redis.url, '--queue-name', 'validate', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'swap']);
      assert.strictEqual(await r.closed, 2, r.stderr);
      assert.match(r.stderr, /source_paths/);
      assert.deepStrictEqual(await queue.list(), []);
    } finally {
      await queue.close();
    }
  });

  it('wait() resolves even when the completion event never reaches it (it also reads the state itself)', async function () {
    const { Queue, Worker } = require('bullmq');
    const connection = { host: '127.0.0.1', port: redis.port };
    const queue = new RedisJobQueue({ url: redis.url, name: 'missed-events' });
    const raw = new Queue('missed-events', { connection });
    let worker;
    try {
      // Opens the queue's event reader, then closes it: no event is delivered from here on, as
      // when an event lands before the reader's first blocking read.
      await queue.wait('none-such');
      await (await queue.events).close();
      await raw.add('face-job', { args: { target_path: clip, output_path: path.join(dir, 'missed.mp4'), processors: ['face_blur'] } }, { jobId: 'missed-1' });
      worker = new Worker('missed-events', async () => ({ frames: 1 }), { connection });
      const info = await Promise.race([queue.wait('missed-1'), new Promise((_, reject) => setTimeout(() => reject(new Error('wait() never resolved')), 10000))]);
      assert.strictEqual(info.state, 'completed');
    } finally {
      await worker?.close();
      await raw.close();
      await queue.close();
    }
  });

  it('a password-protected Redis: the right password works, a wrong one fails naming the URL without it', async function () {
    const locked = await startRedis({ password: 'p@ss word' });
    const good = new RedisJobQueue({ url: locked.url, connectTimeoutMs: 3000 });
    const bad = new RedisJobQueue({ url: `redis://:wrong-secret@127.0.0.1:${locked.port}`, connectTimeoutMs: 1500 });
    try {
      const id = await good.submit({ target_path: clip, output_path: path.join(dir, 'pw.mp4'), processors: ['face_blur'] });
      assert.strictEqual((await good.get(id)).state, 'queued');
      const err = await bad.list().then(
        () => undefined,
        (e) => e,
      );
      assert.ok(err, 'a wrong password must fail');
      assert.strictEqual(err.code, 'E_JOB');
      assert.ok(!err.message.includes('wrong-secret'), err.message);
      assert.match(err.message, /redis:\/\/:\*\*\*@127\.0\.0\.1/);
    } finally {
      await Promise.all([good.close(), bad.close()]);
      await locked.stop();
    }
  });

  it('rediss:// (TLS) with a password: run --detach prints the id, jobs lists it, a worker completes it', async function () {
    if (require('child_process').spawnSync('openssl', ['version']).status !== 0) pending(this, 'openssl is not installed (it makes the test certificate)');
    const secure = await startRedis({ tls: true, password: 'tls secret' });
    const env = { NODE_EXTRA_CA_CERTS: secure.caFile, FACEFUSION_QUEUE_URL: secure.url };
    const w = cli(['worker', '--queue', 'env', '--allowed-folder', dir, '--device', 'cpu', '--threads', '1'], env);
    workers.push(w);
    try {
      const output = path.join(dir, 'tls.mp4');
      const r = cli(['run', '--queue', 'env', '--detach', '--target', clip, '--output', output, '--processors', 'face_blur'], env);
      assert.strictEqual(await r.closed, 0, r.stderr);
      const id = r.stdout.trim();
      assert.match(id, /^[0-9a-f-]{36}$/);
      await until(
        async () => {
          const l = cli(['jobs', '--queue', 'env', '--json'], env);
          await l.closed;
          const job = JSON.parse(l.stdout || '[]').find((j) => j.id === id);
          return job && job.state === 'completed';
        },
        'the job completed',
        30000,
      );
      assert.match(w.stderr, /taking jobs from rediss:\/\/:\*\*\*@127\.0\.0\.1/);
      assert.ok(!w.stderr.includes('tls secret'));
      assert.strictEqual((await probeMedia(locator, output, { countFrames: true })).frameCount, 96);
    } finally {
      w.child.kill('SIGTERM');
      await w.closed;
      await secure.stop();
    }
  });

  it('worker SIGTERM finishes the running job and exits 0; with --stop-timeout 0 it hands the job back instead', async function () {
    const queueArgs = ['--queue', redis.url, '--queue-name', 'signals'];
    const queue = new RedisJobQueue({ url: redis.url, name: 'signals' });
    try {
      const w = cli(['worker', ...queueArgs, '--allowed-folder', dir, '--device', 'cpu', '--threads', '1']);
      workers.push(w);
      const output = path.join(dir, 'sig1.mp4');
      const id = await queue.submit({ target_path: clip, output_path: output, processors: ['face_blur'] });
      await until(() => /job \S+ running/.test(w.stderr), 'the job running');
      w.child.kill('SIGTERM');
      assert.strictEqual(await w.closed, 0, w.stderr);
      assert.match(w.stderr, /finishing running jobs[\s\S]*completed[\s\S]*worker stopped/);
      assert.strictEqual((await queue.get(id)).state, 'completed');
      assert.ok(fs.existsSync(output));

      const quick = cli(['worker', ...queueArgs, '--allowed-folder', dir, '--device', 'cpu', '--threads', '1', '--stop-timeout', '0']);
      workers.push(quick);
      const id2 = await queue.submit({ target_path: clip, output_path: path.join(dir, 'sig2.mp4'), processors: ['face_blur'] });
      await until(() => /job \S+ running/.test(quick.stderr), 'the second job running');
      quick.child.kill('SIGINT');
      assert.strictEqual(await quick.closed, 0, quick.stderr);
      assert.match(quick.stderr, /handed-back/);
      const back = await queue.get(id2);
      assert.deepStrictEqual([back.state, back.attemptsMade], ['queued', 0]);
      assert.ok(!fs.existsSync(path.join(dir, 'sig2.mp4')));
      assert.deepStrictEqual(partials(dir), []);
      await queue.cancel(id2);
    } finally {
      await queue.close();
    }
  });

  it('two worker processes, three `run --queue` jobs, one worker SIGKILLed mid-job: all three complete, whole, listed completed', async function () {
    const queueArgs = ['--queue', redis.url, '--queue-name', 'kill'];
    const workerArgs = ['worker', ...queueArgs, '--allowed-folder', dir, '--device', 'cpu', '--threads', '1', '--lock-duration', '2000', '--stalled-interval', '1000'];
    const a = cli(workerArgs);
    const b = cli(workerArgs);
    workers.push(a, b);
    await until(() => /taking jobs/.test(a.stderr) && /taking jobs/.test(b.stderr), 'both workers ready');
    const outputs = [0, 1, 2].map((i) => path.join(dir, `out-${i}.mp4`));
    const runs = outputs.map((output) => cli(['run', ...queueArgs, '--target', clip, '--output', output, '--processors', 'face_blur', '--no-audio']));
    // Kill worker A once it has had a job running for a moment (its temporary output exists by then).
    const victim = await until(() => (/job \S+ running/.test(a.stderr) ? a : /job \S+ running/.test(b.stderr) ? b : undefined), 'a worker running a job');
    await until(() => partials(dir).length > 0, 'a temporary output being written', 10000);
    const finalBefore = outputs.filter((o) => fs.existsSync(o));
    victim.child.kill('SIGKILL');
    await victim.closed;
    for (const o of finalBefore) assert.ok(fs.statSync(o).size > 0);
    const codes = await Promise.all(runs.map((r) => r.closed));
    assert.deepStrictEqual(codes, [0, 0, 0], runs.map((r) => r.stderr).join('\n---\n'));
    for (const [i, output] of outputs.entries()) {
      assert.match(runs[i].stdout, /done: video → .*out-\d\.mp4\n\s+96 frames, 256x256, 12 fps/);
      const info = await probeMedia(locator, output, { countFrames: true });
      assert.deepStrictEqual([info.frameCount, info.width, info.height], [96, 256, 256], output);
    }
    // The killed attempt's temporary file was removed by the retry; nothing half-written remains.
    assert.deepStrictEqual(partials(dir), []);
    const list = cli(['jobs', ...queueArgs, '--json']);
    assert.strictEqual(await list.closed, 0, list.stderr);
    const jobs = JSON.parse(list.stdout);
    assert.strictEqual(jobs.length, 3);
    assert.deepStrictEqual(
      jobs.map((j) => j.state),
      ['completed', 'completed', 'completed'],
    );
    assert.ok(
      jobs.some((j) => j.stalled > 0),
      `the killed worker's job was taken up after a stall: ${JSON.stringify(jobs.map((j) => [j.stalled, j.attemptsMade, j.worker]))}`,
    );
    const table = cli(['jobs', ...queueArgs]);
    assert.strictEqual(await table.closed, 0);
    assert.match(table.stdout, /completed\s+100%/);
    // The survivor stops on SIGTERM (nothing running) and exits 0.
    const survivor = victim === a ? b : a;
    survivor.child.kill('SIGTERM');
    assert.strictEqual(await survivor.closed, 0, survivor.stderr);
    assert.match(survivor.stderr, /worker stopped/);
  });

  describe('in-process workers', function () {
    let runtime;
    before(function () {
      // Queued jobs come from outside: the worker confines them to these folders.
      runtime = createRuntime({ device: 'cpu', threads: 1, allowedFolders: [dir, path.dirname(media('fr_obama.jpg'))] });
    });
    after(async function () {
      await runtime?.close();
    });

    it('a job that keeps failing ends failed with its reason after a bounded number of attempts', async function () {
      const broken = path.join(dir, 'broken.mp4');
      fs.writeFileSync(broken, Buffer.alloc(4096, 7));
      const queue = new RedisJobQueue({ url: redis.url, name: 'failing', attempts: 3, backoffMs: 50 });
      const worker = new QueueWorker(runtime, { url: redis.url, name: 'failing', jobs: { locator } });
      try {
        await worker.ready();
        const id = await queue.submit({ target_path: broken, output_path: path.join(dir, 'never.mp4'), processors: ['face_blur'] });
        const info = await queue.wait(id);
        assert.strictEqual(info.state, 'failed', JSON.stringify(info));
        assert.strictEqual(info.attemptsMade, 3);
        assert.match(info.error.code, /^E_VIDEO_/);
        assert.ok(info.error.message.length > 0);
        assert.ok(!fs.existsSync(path.join(dir, 'never.mp4')));
        // A permanent error (a refused model) is not retried.
        const id2 = await queue.submit({
          target_path: clip,
          output_path: path.join(dir, 'never2.mp4'),
          processors: ['face_swapper'],
          source_paths: [media('fr_obama.jpg')],
          face_swapper_model: 'no-such-model',
        });
        const info2 = await queue.wait(id2);
        assert.strictEqual(info2.state, 'failed');
        assert.strictEqual(info2.attemptsMade, 1);
        assert.strictEqual(info2.error.code, 'E_MODEL_MISSING');
      } finally {
        await worker.stop({ graceMs: 0 });
        await queue.close();
      }
    });

    it('progress and the result come back to the submitter; stop() hands a running job back, another worker completes it', async function () {
      const queue = new RedisJobQueue({ url: redis.url, name: 'handback' });
      const first = new QueueWorker(runtime, { url: redis.url, name: 'handback', workerName: 'first', jobs: { locator, progressIntervalMs: 50 } });
      let second;
      try {
        await first.ready();
        const output = path.join(dir, 'handback.mp4');
        const id = await queue.submit({ target_path: clip, output_path: output, processors: ['face_blur'], keep_audio: false });
        const progress = [];
        const states = [];
        const waiting = queue.wait(id, { onProgress: (p) => progress.push(p), onState: (s) => states.push(`${s.state}:${s.worker ?? ''}`) });
        await until(() => progress.length > 0, 'progress from the first worker');
        await first.stop({ graceMs: 0 });
        assert.deepStrictEqual(first.jobs(), []);
        const back = await until(async () => {
          const info = await queue.get(id);
          return info.state === 'queued' ? info : undefined;
        }, 'the job back in the queue');
        assert.strictEqual(back.attemptsMade, 0, 'handing back uses no attempt');
        assert.ok(!fs.existsSync(output), 'nothing under the final name');
        assert.deepStrictEqual(partials(dir), [], 'the handed-back attempt removed its temporary file');
        second = new QueueWorker(runtime, { url: redis.url, name: 'handback', workerName: 'second', jobs: { locator } });
        const info = await waiting;
        assert.strictEqual(info.state, 'completed', JSON.stringify(info));
        assert.strictEqual(info.result.frames, 96);
        assert.strictEqual(info.worker, 'second');
        assert.ok(states.includes('running:first') && states.includes('running:second'), states.join(' '));
        assert.ok(progress.every((p) => p.id === id && p.framesDone >= 0));
        assert.strictEqual((await probeMedia(locator, output, { countFrames: true })).frameCount, 96);
      } finally {
        await Promise.all([first.stop({ graceMs: 0 }), second?.stop({ graceMs: 0 })]);
        await queue.close();
      }
    });

    it('cancel: a queued job is removed; a running one is stopped on its worker and ends cancelled, no output left', async function () {
      const queue = new RedisJobQueue({ url: redis.url, name: 'cancel' });
      const idle = await queue.submit({ target_path: clip, output_path: path.join(dir, 'c0.mp4'), processors: ['face_blur'] });
      assert.strictEqual((await queue.cancel(idle)).state, 'cancelled');
      assert.strictEqual(await queue.get(idle), undefined);
      const worker = new QueueWorker(runtime, { url: redis.url, name: 'cancel', jobs: { locator, progressIntervalMs: 50 } });
      // Frames after the third wait at the blur stage until the worker cancels the job: it is surely running then.
      const gate = gateStage(runtime, 'blur', { pass: 3 });
      const cancelJob = worker.manager.cancelJob.bind(worker.manager);
      worker.manager.cancelJob = (localId) => {
        const cancelled = cancelJob(localId);
        gate.release();
        return cancelled;
      };
      try {
        const output = path.join(dir, 'c1.mp4');
        const id = await queue.submit({ target_path: clip, output_path: output, processors: ['face_blur'] });
        let seen = 0;
        const waiting = queue.wait(id, { onProgress: () => seen++ });
        await until(() => seen > 0, 'the job running');
        const r = cli(['jobs', '--queue', redis.url, '--queue-name', 'cancel', '--cancel', id]);
        assert.strictEqual(await r.closed, 0, r.stderr);
        const info = await waiting;
        assert.strictEqual(info.state, 'cancelled', JSON.stringify(info));
        assert.strictEqual(info.attemptsMade <= 1, true);
        assert.ok(!fs.existsSync(output));
        assert.deepStrictEqual(partials(dir), []);
      } finally {
        gate.restore();
        await worker.stop({ graceMs: 0 });
        await queue.close();
      }
    });

    it('every connection is closed by close() / stop(): only the asking client is left on Redis', async function () {
      const queue = new RedisJobQueue({ url: redis.url, name: 'conns' });
      const worker = new QueueWorker(runtime, { url: redis.url, name: 'conns', jobs: { locator } });
      await worker.ready();
      await queue.wait(await queue.submit({ target_path: media('fr_two_people.jpg'), output_path: path.join(dir, 'conns.jpg'), processors: ['face_blur'] }));
      assert.ok((await redisClients(redis.port)) > 3);
      await worker.stop();
      await queue.close();
      await until(async () => (await redisClients(redis.port)) === 1, 'the connections to close', 5000);
    });
  });
});
