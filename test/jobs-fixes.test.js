'use strict';
// Job runner correctness: models checked before a job decodes anything, FrameTokenSource
// (hand-out count, release-driven in-flight gate, re-owned frames, decoder settings passed on),
// FrameTokenSink (a refused encoder fails once, tokens freed on failure), keepSource releases.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { createRuntime } = require('../dist/runtime');
const { FfmpegLocator, probeMedia, JobManager, FrameTokenSource, FrameTokenSink, analyseJobSource, dropDerived, defaultPreset } = require('../dist/runtime/internal');
const { media, ffmpegOrSkip, makeSmallClip, within, tempDir, ffmpegChildren, freePort, x264Setting } = require('./helpers/clips');

/** A locator that counts resolve() calls: every ffmpeg/ffprobe spawn of a job goes through one. */
function countingLocator(locator) {
  const counting = {
    calls: 0,
    resolve: () => {
      counting.calls++;
      return locator.resolve();
    },
  };
  return counting;
}

describe('job runner fixes', function () {
  this.timeout(30000);
  let locator;
  let ffmpeg;
  let dir;
  let small; // 40 frames, 160x160, 20 fps
  let runtime;

  before(async function () {
    locator = new FfmpegLocator();
    ffmpeg = await ffmpegOrSkip(this, locator);
    dir = tempDir('jobs-fixes-');
    small = makeSmallClip(ffmpeg.path, dir);
    runtime = createRuntime();
    await runtime.warmup();
  });

  afterEach(function () {
    assert.strictEqual(runtime.stats().store.frames, 0, 'every frame was freed');
    assert.deepStrictEqual(ffmpegChildren(), [], 'no ffmpeg left running');
  });

  after(async function () {
    await runtime?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('a job checks its models before it decodes anything', function () {
    async function failsAtOnce(args, code, includes) {
      const counting = countingLocator(locator);
      const jobs = new JobManager(runtime, { locator: counting });
      const created = [];
      const createToken = runtime.createToken.bind(runtime);
      runtime.createToken = (input) => {
        created.push(input);
        return createToken(input);
      };
      try {
        const started = performance.now();
        const info = await jobs.waitForJob(jobs.runJob(args));
        const ms = performance.now() - started;
        assert.strictEqual(info.state, 'failed', JSON.stringify(info.result ?? info));
        assert.strictEqual(info.error.code, code, info.error.message);
        assert.ok(info.error.message.includes(includes), info.error.message);
        assert.ok(ms < 3000, `failed after ${ms.toFixed(0)} ms`);
        assert.strictEqual(info.progress.framesDone, 0);
        assert.strictEqual(counting.calls, 0, 'ffmpeg was never resolved, so never spawned');
        assert.strictEqual(created.length, 0, 'neither the source nor the target was decoded');
        assert.ok(!fs.existsSync(args.output_path), 'no output file');
        assert.deepStrictEqual(info.processes, {});
      } finally {
        delete runtime.createToken;
        await jobs.close();
      }
    }

    it('video: face_swapper_model not in the models folder → E_MODEL_MISSING, no ffmpeg, nothing written', async function () {
      if (runtime.models.isPresent('inswapper_128')) this.skip(); // a machine that has it cannot show it missing
      await failsAtOnce(
        { source_paths: [media('fr_obama.jpg')], target_path: small, output_path: path.join(dir, 'missing.mp4'), processors: ['face_swapper'], parameters: { face_swapper_model: 'inswapper_128' } },
        'E_MODEL_MISSING',
        'inswapper_128',
      );
    });

    it('video: an .onnx path that does not exist → E_MODEL_MISSING', async function () {
      const model = path.join(dir, 'nowhere', 'inswapper_128.onnx');
      await failsAtOnce(
        { source_paths: [media('fr_obama.jpg')], target_path: small, output_path: path.join(dir, 'nopath.mp4'), processors: ['face_swapper'], face_swapper_model: model },
        'E_MODEL_MISSING',
        'does not exist',
      );
    });

    it('video: a model of another role → E_MODEL_CONTRACT', async function () {
      await failsAtOnce({ target_path: small, output_path: path.join(dir, 'role.mp4'), processors: ['blur'], parameters: { face_detector_model: 'fr_feature' } }, 'E_MODEL_CONTRACT', 'not a detector');
    });

    it('image: a missing enhancer model → E_MODEL_MISSING before the picture is decoded', async function () {
      await failsAtOnce(
        { target_path: media('fr_biden.jpg'), output_path: path.join(dir, 'missing.jpg'), processors: ['face_enhancer'], face_enhancer_model: path.join(dir, 'gfpgan_1.4.onnx') },
        'E_MODEL_MISSING',
        'does not exist',
      );
    });

    it('analyseJobSource loads its models before it decodes the source image', async function () {
      const calls = [];
      runtime.prepareModels = async (stages) => {
        calls.push(stages);
        throw Object.assign(new Error('model fr_feature is gone'), { code: 'E_MODEL_MISSING' });
      };
      const createToken = runtime.createToken.bind(runtime);
      let decoded = 0;
      runtime.createToken = (input) => {
        decoded++;
        return createToken(input);
      };
      try {
        await assert.rejects(analyseJobSource(runtime, media('fr_obama.jpg'), 'job-1', true, {}), /fr_feature is gone/);
        assert.deepStrictEqual(calls, [['detect', 'landmark', 'embed']]);
        assert.strictEqual(decoded, 0);
      } finally {
        delete runtime.prepareModels;
        delete runtime.createToken;
      }
    });

    it("analyseJobSource analyses the source with the job's detector/landmarker/recognizer choices", async function () {
      const seen = [];
      const prepare = runtime.prepareModels.bind(runtime);
      runtime.prepareModels = (stages, parameters) => {
        seen.push(parameters);
        return prepare(stages, parameters);
      };
      try {
        const { token, source } = await analyseJobSource(runtime, media('fr_obama.jpg'), 'job-2', true, {
          face_detector_model: 'fr_detect',
          face_recognizer_model: 'fr_feature',
          score_threshold: 0.6,
          blend_ratio: 1,
        });
        const expected = { score_threshold: 0.6, face_detector_model: 'fr_detect', face_recognizer_model: 'fr_feature' };
        assert.deepStrictEqual(seen, [expected]);
        assert.deepStrictEqual(token.parameters, expected);
        assert.ok(source.face && source.embedding, 'a face with its embedding');
        runtime.release(token);
      } finally {
        delete runtime.prepareModels;
      }
    });

    it('a job with good models still completes', async function () {
      const jobs = new JobManager(runtime, { locator });
      try {
        const output = path.join(dir, 'ok.mp4');
        const info = await jobs.waitForJob(jobs.runJob({ target_path: small, output_path: output, processors: ['detect'], preset: 'ultrafast' }));
        assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
        assert.strictEqual(info.result.frames, 40);
      } finally {
        await jobs.close();
      }
    });
  });

  describe('dropDerived keeps the decoded frame and the shared source', function () {
    it('frees the frames a frame token made, never the job source', async function () {
      const source = await runtime.createToken({ target: media('fr_obama.jpg'), operations: [] });
      const decoded = runtime.store.put({ width: 2, height: 2, channels: 3, data: new Uint8Array(12) }, { owner: 'job' });
      const base = { ...source, request_id: '00000000-0000-4000-8000-000000000001', source: { frame: source.target.frame }, target: { ...source.target, frame: decoded } };
      const derived = runtime.store.put({ width: 2, height: 2, channels: 3, data: new Uint8Array(12) }, { owner: base.request_id });
      const extra = runtime.store.put({ width: 2, height: 2, channels: 3, data: new Uint8Array(12) }, { owner: base.request_id });
      // Target still the decoded frame: only the token's own frames go.
      dropDerived(runtime, base, decoded);
      assert.deepStrictEqual([runtime.store.has(decoded), runtime.store.has(derived), runtime.store.has(extra), runtime.store.has(source.target.frame)], [true, false, false, true]);
      // Target replaced by a stage: it goes, the decoded frame and the source stay.
      const derived2 = runtime.store.put({ width: 2, height: 2, channels: 3, data: new Uint8Array(12) }, { owner: base.request_id });
      dropDerived(runtime, { ...base, target: { ...base.target, frame: derived2 } }, decoded);
      assert.deepStrictEqual([runtime.store.has(decoded), runtime.store.has(derived2), runtime.store.has(source.target.frame)], [true, false, true]);
      runtime.store.release(decoded);
      runtime.release(source);
    });
  });

  describe('FrameTokenSource', function () {
    it('counts only the tokens it handed out when stopped (not the frame read ahead)', async function () {
      const src = new FrameTokenSource({ runtime, locator, input: small });
      const got = [];
      for await (const item of src.tokens()) {
        got.push(item.token);
        if (got.length === 3) await src.stop();
      }
      assert.strictEqual(got.length, 3);
      assert.strictEqual(src.frames, 3);
      for (const t of got) runtime.release(t);
    });

    it('hands the decoded frame to the token (re-owned, not released and stored again)', async function () {
      const released = [];
      const off = runtime.store.onRelease((ref, reason) => released.push([ref, reason]));
      const src = new FrameTokenSource({ runtime, locator, input: small });
      const got = [];
      try {
        for await (const item of src.tokens()) {
          got.push(item.token);
          assert.strictEqual(runtime.store.ownerOf(item.token.target.frame), item.token.request_id);
          if (got.length === 4) break;
        }
      } finally {
        off();
      }
      // Only the read-ahead frame (never handed out) left the store.
      assert.ok(released.length <= 1, `releases while handing out: ${JSON.stringify(released)}`);
      for (const [ref] of released) assert.ok(!got.some((t) => t.target.frame === ref));
      for (const t of got) assert.ok(runtime.store.has(t.target.frame));
      for (const t of got) runtime.release(t);
      await src.stop();
    });

    it('waits for a release (no polling) when maxInFlight tokens are out, and tracks only frames still out', async function () {
      const src = new FrameTokenSource({ runtime, locator, input: small, maxInFlight: 2 });
      const it = src.tokens()[Symbol.asyncIterator]();
      const held = [];
      const originalSetTimeout = global.setTimeout;
      let shortTimers = 0;
      try {
        held.push((await it.next()).value.token);
        held.push((await it.next()).value.token);
        assert.strictEqual(src.inFlight, 2);
        // Two out: the next token waits. Count short timers armed meanwhile (a poll would arm many).
        global.setTimeout = (fn, ms, ...rest) => {
          if (typeof ms === 'number' && ms <= 10) shortTimers++;
          return originalSetTimeout(fn, ms, ...rest);
        };
        const next = it.next();
        assert.strictEqual(await within(next, 300), 'pending', 'the third token waits while two are out');
        global.setTimeout = originalSetTimeout;
        assert.strictEqual(shortTimers, 0, 'no polling timer while waiting');
        // Releasing the second (not the first) makes room at once.
        runtime.release(held[1]);
        const third = await within(next, 2000);
        assert.notStrictEqual(third, 'pending', 'a release wakes the source');
        held.push(third.value.value.token);
        // The first token stays held; the others are released as they come: the gate counts 2 at most.
        for (let i = 0; i < 20; i++) {
          runtime.release(held.pop());
          const r = await it.next();
          if (r.done) break;
          held.push(r.value.token);
          assert.ok(src.inFlight <= 2, `in flight ${src.inFlight}`);
        }
        assert.strictEqual(src.inFlight, 2, 'the held first token and the latest one');
        assert.strictEqual(src.frames, 23);
      } finally {
        global.setTimeout = originalSetTimeout;
        await src.stop();
        await it.return();
        for (const t of held) runtime.release(t);
      }
    });

    it('stop() ends a wait for room at once', async function () {
      const src = new FrameTokenSource({ runtime, locator, input: small, maxInFlight: 1 });
      const it = src.tokens()[Symbol.asyncIterator]();
      const first = (await it.next()).value.token;
      const next = it.next();
      assert.strictEqual(await within(next, 200), 'pending');
      await src.stop();
      const ended = await within(next, 2000);
      assert.notStrictEqual(ended, 'pending');
      assert.strictEqual(ended.value.done, true);
      assert.strictEqual(src.frames, 1);
      runtime.release(first);
    });

    it('passes reconnect settings on to the decoder', async function () {
      const port = await freePort(); // nothing listens: every connect fails at once
      const reconnects = [];
      const src = new FrameTokenSource({
        runtime,
        locator,
        input: `tcp://127.0.0.1:${port}`,
        maxReconnects: 1,
        reconnectBaseMs: 30,
        ioTimeoutMs: 2000,
        onReconnect: (attempt, delayMs) => reconnects.push({ attempt, delayMs }),
      });
      const guard = setTimeout(() => void src.stop(), 8000); // bounded if the settings were ignored
      try {
        await assert.rejects(
          async () => {
            for await (const item of src.tokens()) runtime.release(item.token);
          },
          (e) => {
            assert.strictEqual(e.code, 'E_VIDEO_DECODE', e.message);
            assert.match(e.message, /1 reconnect attempt/);
            return true;
          },
        );
      } finally {
        clearTimeout(guard);
        await src.stop();
      }
      assert.deepStrictEqual(reconnects, [{ attempt: 1, delayMs: 30 }]);
    });
  });

  describe('FrameTokenSink', function () {
    function greyToken(rid) {
      const frame = { width: 16, height: 16, channels: 3, data: new Uint8Array(16 * 16 * 3).fill(128) };
      return runtime.createToken({ target: frame, operations: [] }).then((t) => (rid ? { ...t, request_id: rid } : t));
    }

    it('an encoder that cannot open fails once: later writes and finish() reject with the same error; tokens are freed', async function () {
      const counting = countingLocator(locator);
      const sink = new FrameTokenSink({ runtime, locator: counting, output: path.join(dir, 'no', 'such', 'dir', 'out.mp4') });
      const a = await greyToken();
      const b = await greyToken();
      let first;
      await assert.rejects(sink.write(a, 0), (e) => {
        first = e;
        return e.code === 'E_BAD_OUTPUT';
      });
      await assert.rejects(sink.write(b, 1), (e) => e === first);
      await assert.rejects(sink.skip(2), (e) => e === first);
      await assert.rejects(sink.finish(), (e) => e === first);
      assert.strictEqual(sink.open, false);
      assert.strictEqual(counting.calls, 0, 'ffmpeg never started');
      assert.strictEqual(runtime.store.has(a.target.frame) || runtime.store.has(b.target.frame), false, 'both tokens were freed');
      await sink.abort();
    });

    it('a file is written under a temporary name in its folder: abort() removes it and leaves nothing under the final name', async function () {
      const folder = fs.mkdtempSync(path.join(dir, 'sink-abort-'));
      const output = path.join(folder, 'aborted.mp4');
      const sink = new FrameTokenSink({ runtime, locator, output, preset: 'ultrafast' });
      await sink.write(await greyToken(), 0);
      await sink.write(await greyToken(), 1);
      assert.strictEqual(path.dirname(sink.partial), folder, "the temporary file is in the output's folder");
      assert.deepStrictEqual(fs.readdirSync(folder), [path.basename(sink.partial)]);
      await sink.abort();
      assert.deepStrictEqual(fs.readdirSync(folder), [], 'no temporary file, nothing under the final name');
    });

    it('a live sink (face video out of a camera) with no preset: veryfast, or ultrafast for 1080p at 25 fps on 2 cores (defaultPreset); a file sink keeps veryfast', async function () {
      const folder = fs.mkdtempSync(path.join(dir, 'sink-preset-'));
      const frameToken = () => runtime.createToken({ target: { width: 1920, height: 1080, channels: 3, data: new Uint8Array(1920 * 1080 * 3).fill(90) }, operations: [] });
      const written = async (name, options) => {
        const output = path.join(folder, name);
        const sink = new FrameTokenSink({ runtime, locator, output, fps: 25, ...options });
        await sink.write(await frameToken(), 0);
        await sink.write(await frameToken(), 1);
        await sink.finish();
        // x264 writes its settings into the stream: subme=0 is ultrafast's, subme=2 veryfast's.
        return x264Setting(output, 'subme');
      };
      assert.strictEqual(await written('live.mp4', { live: true }), defaultPreset(true, 1920, 1080, 25) === 'ultrafast' ? '0' : '2');
      assert.strictEqual(await written('file.mp4', {}), '2');
      assert.strictEqual(await written('live-given.mp4', { live: true, preset: 'veryfast' }), '2');
    });

    it('finish() before any frame: an empty result, no file, no ffmpeg', async function () {
      const folder = fs.mkdtempSync(path.join(dir, 'sink-empty-'));
      const counting = countingLocator(locator);
      const sink = new FrameTokenSink({ runtime, locator: counting, output: path.join(folder, 'empty.mp4'), fps: 12 });
      await sink.skip(0);
      const result = await sink.finish();
      assert.deepStrictEqual(result, { frames: 0, dropped: 1, repeated: 0, onSkip: 'drop', late: 0, fps: 12, durationSec: 0 });
      assert.deepStrictEqual(fs.readdirSync(folder), []);
      assert.strictEqual(counting.calls, 0, 'ffmpeg never started');
    });

    it('source → sink: a frame the flow drops does not stall the source; the gap is skipped at the end', async function () {
      const src = new FrameTokenSource({ runtime, locator, input: small, maxInFlight: 2 });
      const output = path.join(dir, 'gap.mp4');
      const sink = new FrameTokenSink({ runtime, locator, output, preset: 'ultrafast' });
      const guard = setTimeout(() => void src.stop(), 15000); // a stall ends here (and fails below)
      let n = 0;
      try {
        for await (const item of src.tokens()) {
          n++;
          if (item.index === 3) {
            runtime.release(item.token); // dropped in the flow: later frames wait in the encoder
            continue;
          }
          const ref = item.token.target.frame;
          await sink.write(item.token, item.index, item.stream.fps);
          assert.strictEqual(runtime.store.has(ref), false, "the token's frame is released on arrival");
        }
      } finally {
        clearTimeout(guard);
      }
      assert.strictEqual(n, 40, 'every frame came out');
      const result = await sink.finish();
      assert.deepStrictEqual([result.frames, result.dropped], [39, 1]);
      assert.strictEqual((await probeMedia(locator, output, { countFrames: true })).frameCount, 39);
    });
  });
});
