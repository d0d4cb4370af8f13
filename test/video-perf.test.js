'use strict';
// Pixel stages on worker threads: PixelWorkerPool gives the same
// pixels and token as the runtime's own stage, frees what it holds, and a video job using it
// writes every frame, in order, with the same content as a job on the main thread.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { createRuntime, decodeImage, analyseJobSource, frameToken, JobManager, PixelWorkerPool, DEFAULT_PIXEL_WORKERS, FfmpegLocator, withFaceLikeness } = require('../dist/runtime/internal');

const { MEDIA, pending } = require('./helpers/fixtures');
const { x264Setting } = require('./helpers/clips');

/** Linux: threads of this process (worker threads included). */
function threadCount() {
  try {
    return fs.readdirSync('/proc/self/task').length;
  } catch {
    return undefined;
  }
}

describe('pixel stages on worker threads', function () {
  this.timeout(60000);
  let rt;
  let pool;
  before(() => {
    rt = createRuntime({ sweepIntervalMs: 0 });
  });
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });
  after(async () => {
    await rt.close();
  });

  async function analysed(file, stages) {
    const token = await rt.createToken({ target: path.join(MEDIA, file), source: path.join(MEDIA, 'fr_obama.jpg'), operations: stages });
    return rt.run(token, stages);
  }

  /** A frame token as a video job makes it: the source analysed once (face with 68 points) and carried along. */
  async function jobToken(file, stages) {
    const { token: sourceToken, source } = await analyseJobSource(rt, path.join(MEDIA, 'fr_obama.jpg'), 'job-1', false, {});
    const frame = await decodeImage(fs.readFileSync(path.join(MEDIA, file)));
    const ref = rt.store.put(frame, { owner: 'job-1' });
    const token = frameToken({ jobId: 'job-1', ref, index: 0, pts: 0, width: frame.width, height: frame.height, source, stages, parameters: {}, ttlMs: 60000 });
    const analysed = await rt.run(
      token,
      stages.filter((s) => s === 'detect' || s === 'landmark'),
    );
    // As the frame loop (FrameLoop.step) does before a pixel worker gets a swap: the faces' face-likeness check, on the main thread.
    return { token: stages.includes('swap') ? await withFaceLikeness(analysed, 'swap', rt['context']) : analysed, sourceToken };
  }

  it("a job's source picture crosses to a worker once: later swaps name it, with the same pixels, also on a YUV frame", async () => {
    pool = new PixelWorkerPool(1);
    const sent = [];
    const worker = pool['slots'][0].worker;
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (req) => {
      sent.push(req.source !== undefined);
      return post(req);
    };
    const { token, sourceToken } = await jobToken('fr_two_people.jpg', ['detect', 'landmark', 'swap']);
    const outputs = [];
    for (let i = 0; i < 3; i++) {
      const out = await pool.run('swap', token, rt.store);
      assert.notStrictEqual(out.state, 'failed', JSON.stringify(out.error));
      outputs.push(Buffer.from(rt.frame(out.target.frame).data));
      rt.store.release(out.target.frame);
    }
    assert.deepStrictEqual(sent, [true, false, false], 'the source is sent with the first request only');
    assert.ok(outputs[1].equals(outputs[0]) && outputs[2].equals(outputs[0]));
    // The same frame as YUV 4:2:0 (a video job's): the worker swaps it and returns YUV.
    const { rgbToYuv } = require('../dist/runtime/internal');
    const yuvRef = rt.store.put(rgbToYuv(rt.frame(token.target.frame)), { owner: 'job-1' });
    const out = await pool.run('swap', { ...token, target: { ...token.target, frame: yuvRef } }, rt.store);
    assert.notStrictEqual(out.state, 'failed', JSON.stringify(out.error));
    assert.strictEqual(rt.store.pixels(out.target.frame).format, 'yuv420p');
    assert.deepStrictEqual(sent, [true, false, false, false]);
    rt.store.release(out.target.frame);
    rt.store.releaseOwner('job-1');
    rt.release(sourceToken);
  });

  for (const stage of ['blur', 'swap', 'debug']) {
    it(`${stage} in a worker gives the same pixels, token and journal as on the main thread (fr_two_people.jpg)`, async () => {
      pool = new PixelWorkerPool(1);
      const stages = ['detect', 'landmark', stage];
      const { token, sourceToken } = await jobToken('fr_two_people.jpg', stages);
      assert.strictEqual(token.faces.length, 2);
      assert.strictEqual(pool.accepts(stage, token), true, `${stage} should go to a worker`);
      const main = await rt.process(stage, token, { force: true });
      assert.notStrictEqual(main.state, 'failed', JSON.stringify(main.error));
      const inWorker = await pool.run(stage, token, rt.store);
      assert.notStrictEqual(inWorker.state, 'failed', JSON.stringify(inWorker.error));
      const a = rt.frame(main.target.frame),
        b = rt.frame(inWorker.target.frame);
      assert.strictEqual(b.width, a.width);
      assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), 'worker pixels differ from main-thread pixels');
      assert.ok(!Buffer.from(b.data).equals(Buffer.from(rt.frame(token.target.frame).data)), 'the stage changed nothing');
      // New frame in the main store, owned by the token's request; refs point into the main store.
      assert.notStrictEqual(inWorker.target.frame, token.target.frame);
      assert.ok(rt.store.has(inWorker.target.frame));
      assert.strictEqual(inWorker.source.frame, token.source.frame);
      assert.deepStrictEqual(inWorker.faces, main.faces);
      const last = inWorker.journal[inWorker.journal.length - 1];
      assert.strictEqual(last.stage, stage);
      assert.strictEqual(last.outcome, main.journal[main.journal.length - 1].outcome);
      assert.strictEqual(last.note, main.journal[main.journal.length - 1].note);
      assert.ok(Object.isFrozen(inWorker) && Object.isFrozen(inWorker.target), 'token must be frozen like every token');
      rt.store.release(main.target.frame);
      rt.store.release(inWorker.target.frame);
      rt.store.releaseOwner('job-1');
      rt.release(sourceToken);
    });
  }

  it('the swap needs an analysed source face and 68 landmarks to go to a worker', async () => {
    pool = new PixelWorkerPool(1);
    const detected = await analysed('astronaut.png', ['detect']);
    assert.strictEqual(pool.accepts('swap', detected), false, 'no landmarks yet: the swap would need the landmarker');
    assert.strictEqual(pool.accepts('detect', detected), false, 'detect needs a model session');
    assert.strictEqual(pool.accepts('blur', detected), true);
    rt.release(detected);
  });

  it('a missing frame, a closed pool and a pool closed mid-request give failed tokens, and close ends the threads', async () => {
    pool = new PixelWorkerPool(2);
    assert.strictEqual(pool.size, 2);
    const workers = pool.slots.map((s) => s.worker); // the pool's own threads (private field, read for the test)
    const token = await analysed('astronaut.png', ['detect']);
    const ok = await pool.run('blur', token, rt.store);
    assert.notStrictEqual(ok.state, 'failed');
    rt.store.release(ok.target.frame);
    // Frame gone from the store: a failed token, not a throw.
    const copy = await analysed('astronaut.png', ['detect']);
    rt.store.release(copy.target.frame);
    const missing = await pool.run('blur', copy, rt.store);
    assert.strictEqual(missing.state, 'failed');
    assert.strictEqual(missing.error.code, 'E_FRAME_MISSING');
    // Closed while a request runs: it resolves failed (E_CLOSED), later runs too.
    const pending = pool.run('blur', token, rt.store);
    await pool.close();
    const cut = await pending;
    assert.strictEqual(cut.state, 'failed');
    assert.strictEqual(cut.error.code, 'E_CLOSED');
    const after = await pool.run('blur', token, rt.store);
    assert.strictEqual(after.error.code, 'E_CLOSED');
    await pool.close(); // idempotent
    // The pool's own threads have exited (a Worker's threadId turns -1 once its thread is gone);
    // the process's total thread count also moves with libuv and ORT, so it is not compared here.
    assert.deepStrictEqual(
      workers.map((w) => w.threadId),
      workers.map(() => -1),
      'worker threads still alive after close()',
    );
    rt.release(token);
    rt.release(copy);
  });
});

describe('video job with pixel workers', function () {
  this.timeout(60000);
  let ffmpeg;
  let dir;
  let clip;

  before(async function () {
    try {
      ffmpeg = await new FfmpegLocator().resolve();
    } catch (error) {
      if (error.code === 'E_FFMPEG_MISSING') return pending(this, 'no ffmpeg on this machine (apt-get install ffmpeg, or set FFMPEG_PATH)');
      throw error;
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'video-perf-'));
    clip = path.join(dir, 'pan.mp4');
    // 24 different frames, two faces in each.
    const made = spawnSync(ffmpeg.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-framerate',
      '12',
      '-i',
      path.join(MEDIA, 'fr_two_people.jpg'),
      '-vf',
      "scale=480:-2,zoompan=z='1+0.2*on/24':d=1:s=384x224:fps=12,format=yuv420p",
      '-frames:v',
      '24',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '18',
      clip,
    ]);
    assert.strictEqual(made.status, 0, String(made.stderr));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function frameHashes(file) {
    const r = spawnSync(ffmpeg.path, ['-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-'], { encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    return r.stdout
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(',').pop().trim());
  }

  it('writes every frame in order with the same pixels as the main-thread job, and frees frames and threads', async () => {
    const rt = createRuntime({ sweepIntervalMs: 0 });
    await rt.warmup();
    const threadsBefore = threadCount();
    const outputs = {};
    try {
      for (const workers of [0, 2]) {
        const jobs = new JobManager(rt, { pixelWorkers: workers, framesInFlight: 4 });
        const id = jobs.runJob({ target_path: clip, output_path: path.join(dir, `blur-${workers}.mp4`), processors: ['face_blur'] });
        const info = await jobs.waitForJob(id);
        await jobs.close();
        assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
        assert.strictEqual(info.result.frames, 24);
        assert.strictEqual(info.result.framesFailed, 0);
        assert.strictEqual(info.result.framesNoFace, 0, 'every frame has faces: all must be blurred');
        assert.strictEqual(rt.store.stats().frames, 0, 'frames left in the store after the job');
        outputs[workers] = frameHashes(info.result.output);
      }
    } finally {
      await rt.close();
    }
    assert.strictEqual(outputs[2].length, 24);
    assert.deepStrictEqual(outputs[2], outputs[0], 'worker-thread job output differs from the main-thread job (order or pixels)');
    assert.notDeepStrictEqual(frameHashes(clip).slice(0, 3), outputs[2].slice(0, 3), 'the blur job changed nothing');
    if (threadsBefore !== undefined) assert.ok(threadCount() <= threadsBefore, `worker threads left running (${threadCount()} > ${threadsBefore})`);
  });

  it("a job's pixel_workers runs it on that many worker threads (seen in /proc and in the result), no job field means the JobManager's (0), and crf reaches x264", async () => {
    const rt = createRuntime({ sweepIntervalMs: 0 });
    await rt.warmup();
    const jobs = new JobManager(rt);
    const peak = {};
    let current;
    jobs.on('frame', () => {
      peak[current] = Math.max(peak[current] ?? 0, threadCount() ?? 0);
    });
    const run = async (name, extra) => {
      current = name;
      const info = await jobs.waitForJob(jobs.runJob({ target_path: clip, output_path: path.join(dir, `${name}.mp4`), processors: ['face_blur'], keep_audio: false, ...extra }));
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      assert.strictEqual(info.result.frames, 24);
      return info;
    };
    try {
      // First, so the runtime's detection thread (started by the first video job) is there for both counts.
      const plain = await run('plain', {});
      const none = await run('none', { pixel_workers: 0, quality: 55 });
      const worker = await run('worker', { pixel_workers: 1, crf: 37, quality: 90 });
      assert.strictEqual(none.result.pixelWorkers, 0);
      assert.strictEqual(worker.result.pixelWorkers, 1);
      assert.strictEqual(plain.result.pixelWorkers, 0, 'a JobManager built in code without pixelWorkers runs none');
      if (threadCount() !== undefined) assert.ok(peak.worker >= peak.none + 1, `threads while the job ran: ${JSON.stringify(peak)}`);
      // x264 writes its settings into the stream (an SEI message): the CRF given wins over quality.
      const settings = (file) => x264Setting(file, 'crf');
      assert.strictEqual(settings(none.result.output), '23.0', 'quality 55 maps to CRF 23');
      assert.strictEqual(settings(worker.result.output), '37.0');
      assert.strictEqual(settings(plain.result.output), '10.0', 'the default quality 80 maps to CRF 10');
    } finally {
      await jobs.close();
      await rt.close();
    }
    // The face-job dialog's default (the one table) is the runtime's.
    assert.strictEqual(require('../resources/node-defaults.js')['face-job'].pixelWorkers, DEFAULT_PIXEL_WORKERS);
  });

  it('bad pixel worker counts and CRFs are refused: E_BAD_PARAMETER from the JobManager, E_JOB naming the job field', async () => {
    const rt = createRuntime({ sweepIntervalMs: 0 });
    try {
      for (const bad of [-1, 1.5, 9, '2', NaN]) {
        assert.throws(
          () => new JobManager(rt, { pixelWorkers: bad }),
          (e) => e.code === 'E_BAD_PARAMETER' && /JobManager pixelWorkers must be "auto" or a whole number from 0 to 8/.test(e.message),
          String(bad),
        );
      }
      const jobs = new JobManager(rt, { pixelWorkers: 2 });
      const args = { target_path: clip, output_path: path.join(dir, 'bad.mp4'), processors: ['face_blur'] };
      for (const [extra, field] of [
        [{ pixel_workers: 9 }, /pixel_workers must be "auto" or a whole number from 0 to 8$/],
        [{ pixel_workers: -1 }, /pixel_workers must be "auto"/],
        [{ pixel_workers: 0.5 }, /pixel_workers must be "auto"/],
        [{ pixel_workers: 'many' }, /pixel_workers must be "auto"/],
        [{ crf: 52 }, /crf must be <= 51/],
        [{ crf: 'low' }, /crf must be integer/],
      ]) {
        assert.throws(
          () => jobs.createJob({ ...args, ...extra }),
          (e) => e.code === 'E_JOB' && field.test(e.message),
          JSON.stringify(extra),
        );
      }
      await jobs.close();
    } finally {
      await rt.close();
    }
  });
});
