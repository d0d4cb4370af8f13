'use strict';
// Job manager: FaceFusion-style jobs on images and videos, per-frame
// tokens, failure policy, backpressure, cancel, bad inputs. Clips are made here with ffmpeg.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { createRuntime, cosineSimilarity, FfmpegLocator, probeMedia, JobManager, JobManagerRegistry, resolveStages, knownProcessors } = require('../dist/runtime/internal');
const { media, sleep, ffmpegOrSkip, runFfmpeg, makeZoomClip, tempDir, isAlive } = require('./helpers/clips');

/** Seconds of the first audio stream, measured by decoding it. */
function audioSeconds(bin, file) {
  const r = spawnSync(bin, ['-hide_banner', '-nostdin', '-i', file, '-map', '0:a:0', '-f', 'null', '-'], { encoding: 'utf8' });
  const times = [...r.stderr.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)];
  if (times.length === 0) return undefined;
  const [, h, m, s] = times[times.length - 1];
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** Delays one stage, to make a job slow enough to watch (and to fill the store). */
const { gateStage } = require('./helpers/stage-gate');

function slowStage(runtime, stage, ms) {
  const original = runtime.process.bind(runtime);
  runtime.process = async (s, token, options) => {
    if (s === stage) await sleep(ms);
    return original(s, token, options);
  };
}

async function embeddingOf(runtime, target) {
  const t = await runtime.run(await runtime.createToken({ target, operations: ['detect', 'landmark', 'embed'] }));
  runtime.release(t);
  if (t.state === 'failed' || t.faces.length === 0) return undefined;
  // The surest face, not the largest box: on the zoomed clip's last frames detection also finds a
  // box on the suit (0.68), which the swap rightly leaves alone (the face-likeness check).
  const surest = t.faces.reduce((a, b) => (b.score > a.score ? b : a));
  return surest.embedding;
}

function expectFailed(info, code, includes) {
  assert.strictEqual(info.state, 'failed', JSON.stringify(info));
  assert.strictEqual(info.error.code, code, JSON.stringify(info.error));
  if (includes) assert.ok(info.error.message.includes(includes), info.error.message);
}

describe('job manager', function () {
  this.timeout(90000);
  let locator;
  let ffmpeg;
  let dir;
  let clip; // 80 frames, 320x320, 25 fps, slow zoom over a real face
  let small; // 40 frames, 160x160
  let long; // 240 frames, 160x160: more than a job holds in flight, so its decoder is still up mid-job
  let megamind3; // first 3 s of Megamind.avi, with audio
  let runtime;
  let jobs;

  before(async function () {
    locator = new FfmpegLocator();
    ffmpeg = await ffmpegOrSkip(this, locator);
    dir = tempDir('jobs-');
    clip = makeZoomClip(ffmpeg.path, { image: media('astronaut.png'), output: path.join(dir, 'zoom.mp4'), width: 320, height: 320, frames: 80, fps: 25, zoom: 'min(zoom+0.003,1.3)' });
    small = makeZoomClip(ffmpeg.path, { image: media('fr_two_people.jpg'), output: path.join(dir, 'small.mp4'), width: 160, height: 160, frames: 40, fps: 20, zoom: '1+0.002*on', prescale: 320 });
    long = makeZoomClip(ffmpeg.path, { image: media('fr_two_people.jpg'), output: path.join(dir, 'long.mp4'), width: 160, height: 160, frames: 240, fps: 20, zoom: '1+0.001*on', prescale: 320 });
    megamind3 = path.join(dir, 'megamind3.avi');
    runFfmpeg(ffmpeg.path, ['-i', media('Megamind.avi'), '-t', '3', '-c', 'copy', megamind3]);
    runtime = createRuntime();
    await runtime.warmup();
  });

  beforeEach(function () {
    jobs = new JobManager(runtime, { locator, progressIntervalMs: 0 });
  });

  afterEach(async function () {
    await jobs?.close();
    assert.strictEqual(runtime.stats().store.frames, 0, 'every job frees its frames');
  });

  after(async function () {
    await runtime?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('arguments', function () {
    it('maps FaceFusion processor names and short names, adds prerequisites, canonical order', function () {
      assert.deepStrictEqual(resolveStages(['face_swapper']), ['detect', 'landmark', 'swap']);
      assert.deepStrictEqual(resolveStages(['face_enhancer', 'face_swapper']), ['detect', 'landmark', 'swap', 'enhance']);
      assert.deepStrictEqual(resolveStages(['blur']), ['detect', 'blur']);
      assert.deepStrictEqual(resolveStages(['face_debugger', 'face_recognizer']), ['detect', 'embed', 'debug']);
      assert.deepStrictEqual(resolveStages(['swap'], { needEmbeddings: true }), ['detect', 'landmark', 'embed', 'swap']);
      assert.ok(knownProcessors().includes('face_embedder') && knownProcessors().includes('swap'));
    });

    it('refuses bad args with E_JOB naming the field', function () {
      const bad = (args, code, includes) =>
        assert.throws(
          () => jobs.createJob(args),
          (e) => {
            assert.strictEqual(e.code, code, e.message);
            assert.ok(e.message.includes(includes), e.message);
            return true;
          },
        );
      bad({ output_path: '/tmp/x.mp4', processors: ['blur'] }, 'E_JOB', 'target_path is required');
      bad({ target_path: 'a.mp4', output_path: '/tmp/x.mp4', processors: ['face_morpher'] }, 'E_JOB', 'unknown processor "face_morpher"');
      bad({ target_path: 'a.mp4', output_path: '/tmp/x.mp4', processors: ['face_morpher'] }, 'E_JOB', 'face_swapper');
      bad({ target_path: 'a.mp4', output_path: '/tmp/x.mp4', processors: ['face_swapper'] }, 'E_JOB', 'source_paths');
      bad({ target_path: 'a.mp4', output_path: '/tmp/x.mp4', processors: [] }, 'E_JOB', 'processors');
      bad({ target_path: 'a.mp4', output_path: '/tmp/x.mp4', processors: ['blur'], quality: 150 }, 'E_JOB', 'quality');
      bad({ target_path: 'a.mp4', output_path: '/tmp/x.mp4', processors: ['blur'], failure_policy: 'ignore' }, 'E_JOB', 'failure_policy');
      bad({ target_path: 'a.mp4', output_path: '/tmp/x.mp4', processors: ['blur'], colour: 'red' }, 'E_JOB', 'colour is not a job field');
      bad({ target_path: 'a.jpg', output_path: '/tmp/x.mp4', processors: ['blur'] }, 'E_BAD_OUTPUT', 'output_path');
      // A file that is neither a picture nor a video is named as such, whatever the output is.
      bad({ target_path: 'notes.txt', output_path: '/tmp/x.jpg', processors: ['blur'] }, 'E_JOB', 'target_path "notes.txt" is not a picture or video');
      bad({ target_path: 'notes.txt', output_path: '/tmp/x.mp4', processors: ['blur'] }, 'E_JOB', 'is not a picture or video');
      bad({ target_path: 'a.mp4', output_path: '/tmp/x.mp4', processors: ['face_swapp'] }, 'E_JOB', 'did you mean face_swapper?');
      bad('blur it', 'E_JOB', 'must be an object');
      assert.strictEqual(jobs.listJobs().length, 0);
    });
  });

  describe('images', function () {
    it('blurs a picture into an encoded file', async function () {
      const output = path.join(dir, 'blurred.png');
      const id = jobs.runJob({ target_path: media('fr_two_people.jpg'), output_path: output, processors: ['face_blur'] });
      const info = await jobs.waitForJob(id);
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      assert.deepStrictEqual(info.stages, ['detect', 'blur']);
      assert.strictEqual(info.result.kind, 'image');
      assert.strictEqual(info.result.output, output);
      const head = fs.readFileSync(output).subarray(0, 8);
      assert.strictEqual(head.toString('latin1', 1, 4), 'PNG');
      const faces = await runtime.run(await runtime.createToken({ target: output, operations: ['detect'] }));
      runtime.release(faces);
      assert.ok(faces.faces.length < 2, 'blurred faces are no longer both detected');
    });

    it('swaps the source identity into a picture', async function () {
      const output = path.join(dir, 'swapped.jpg');
      const id = jobs.runJob({ source_paths: [media('fr_obama.jpg')], target_path: media('fr_biden.jpg'), output_path: output, processors: ['face_swapper'], parameters: { blend_ratio: 1 } });
      const info = await jobs.waitForJob(id);
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      const [source, before, after] = [await embeddingOf(runtime, media('fr_obama.jpg')), await embeddingOf(runtime, media('fr_biden.jpg')), await embeddingOf(runtime, output)];
      assert.ok(cosineSimilarity(after, source) > cosineSimilarity(before, source), 'output is closer to the source identity');
    });
  });

  describe('videos', function () {
    it('swaps a face through a clip: same frames, fps and size; sampled faces move toward the source', async function () {
      this.timeout(120000);
      const output = path.join(dir, 'swapped.mp4');
      const progress = [];
      const states = [];
      jobs.on('progress', (p) => progress.push(p));
      jobs.on('state', (i) => states.push(i.state));
      const id = jobs.runJob({ source_paths: [media('fr_obama.jpg')], target_path: clip, output_path: output, processors: ['face_swapper'], parameters: { blend_ratio: 1 }, quality: 90 });
      const info = await jobs.waitForJob(id);
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      assert.deepStrictEqual(states, ['drafted', 'queued', 'running', 'completed']);
      const [inInfo, outInfo] = [await probeMedia(locator, clip, { countFrames: true }), await probeMedia(locator, output, { countFrames: true })];
      assert.strictEqual(inInfo.frameCount, 80);
      assert.strictEqual(outInfo.frameCount, inInfo.frameCount);
      assert.strictEqual(outInfo.fps, inInfo.fps);
      assert.deepStrictEqual([outInfo.width, outInfo.height], [320, 320]);
      assert.strictEqual(info.result.frames, 80);
      assert.strictEqual(info.result.framesFailed, 0);
      // Progress: increasing, with a total and an ETA, ending at 100 %.
      assert.ok(progress.length >= 5, `progress events: ${progress.length}`);
      const last = progress[progress.length - 1];
      assert.strictEqual(last.framesDone, 80);
      assert.strictEqual(last.percent, 100);
      assert.ok(progress.some((p) => p.etaSec > 0 && p.percent < 100 && p.fps > 0));
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i].framesDone >= progress[i - 1].framesDone);
      // Identity: sampled output frames are closer to the source than the same input frames.
      const source = await embeddingOf(runtime, media('fr_obama.jpg'));
      for (const n of [5, 40, 75]) {
        const a = path.join(dir, `in-${n}.png`);
        const b = path.join(dir, `out-${n}.png`);
        runFfmpeg(ffmpeg.path, ['-i', clip, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1', a]);
        runFfmpeg(ffmpeg.path, ['-i', output, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1', b]);
        const [before, after] = [await embeddingOf(runtime, a), await embeddingOf(runtime, b)];
        assert.ok(before && after, `a face in frame ${n}`);
        assert.ok(
          cosineSimilarity(after, source) > cosineSimilarity(before, source) + 0.02,
          `frame ${n}: ${cosineSimilarity(after, source).toFixed(3)} vs ${cosineSimilarity(before, source).toFixed(3)}`,
        );
      }
    });

    it('blurs Megamind and keeps an audio stream of the same duration', async function () {
      this.timeout(120000);
      const output = path.join(dir, 'megamind-blur.mp4');
      const id = jobs.runJob({ target_path: megamind3, output_path: output, processors: ['face_blur'], quality: 50, preset: 'ultrafast' });
      const info = await jobs.waitForJob(id);
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      assert.strictEqual(info.result.audio, true);
      const probed = await probeMedia(locator, output);
      assert.ok(probed.hasAudio, 'output has an audio stream');
      const [inAudio, outAudio] = [audioSeconds(ffmpeg.path, megamind3), audioSeconds(ffmpeg.path, output)];
      assert.ok(Math.abs(inAudio - outAudio) <= 0.5, `audio ${outAudio}s vs ${inAudio}s`);
      assert.deepStrictEqual([probed.width, probed.height], [720, 528]);
    });

    it('keep_audio false drops the audio', async function () {
      const output = path.join(dir, 'megamind-silent.mp4');
      const info = await jobs.waitForJob(jobs.runJob({ target_path: megamind3, output_path: output, processors: ['detect'], keep_audio: false, preset: 'ultrafast' }));
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      assert.strictEqual((await probeMedia(locator, output)).hasAudio, false);
    });

    it('backpressure: a tiny frame budget and a slow stage keep the store within its budget', async function () {
      const frameBytes = 160 * 160 * 3;
      const tight = createRuntime({ frameBudgetBytes: frameBytes * 4 });
      const manager = new JobManager(tight, { locator, framesInFlight: 4 });
      try {
        slowStage(tight, 'blur', 25);
        const rss = [];
        const timer = setInterval(() => rss.push(process.memoryUsage().rss), 50);
        const info = await manager.waitForJob(manager.runJob({ target_path: small, output_path: path.join(dir, 'tight.mp4'), processors: ['blur'] }));
        clearInterval(timer);
        assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
        assert.strictEqual(info.result.frames, 40);
        const stats = tight.stats().store;
        assert.ok(stats.peakBytes <= stats.budgetBytes, `peak ${stats.peakBytes} > budget ${stats.budgetBytes}`);
        assert.ok(stats.peakBytes >= frameBytes * 2, 'the store was used');
        assert.strictEqual(stats.frames, 0);
        // Memory stays flat: the second half of the run does not grow over the first.
        const half = Math.floor(rss.length / 2);
        const growth = Math.max(...rss.slice(half)) - Math.max(...rss.slice(0, half));
        assert.ok(growth < 64 * 1024 * 1024, `rss grew by ${growth} bytes`);
      } finally {
        await manager.close();
        await tight.close();
      }
    });

    it('cancelling a running job kills its ffmpeg processes and frees its frames', async function () {
      // Frames after the fifth wait at the blur stage: the job is surely running when cancelled.
      const gate = gateStage(runtime, 'blur', { pass: 5 });
      try {
        const output = path.join(dir, 'cancelled.mp4');
        const id = jobs.runJob({ target_path: long, output_path: output, processors: ['blur'] });
        let pids;
        for (let i = 0; i < 200; i++) {
          const info = jobs.getJob(id);
          if (info.progress.framesDone >= 3 && info.processes.decoder && info.processes.encoder) {
            pids = info.processes;
            break;
          }
          await sleep(25);
        }
        assert.ok(pids, 'job reached a running state with both ffmpeg processes');
        assert.ok(isAlive(pids.decoder) && isAlive(pids.encoder));
        const cancelling = jobs.cancelJob(id);
        gate.release();
        const info = await cancelling;
        assert.strictEqual(info.state, 'cancelled');
        assert.strictEqual(info.error.code, 'E_CLOSED');
        assert.ok(!isAlive(pids.decoder), `decoder ${pids.decoder} still alive`);
        assert.ok(!isAlive(pids.encoder), `encoder ${pids.encoder} still alive`);
        assert.strictEqual(runtime.stats().store.frames, 0);
        assert.deepStrictEqual(jobs.getJob(id).processes, {});
      } finally {
        gate.restore();
      }
    });

    it('runs maxConcurrent jobs at once; the others wait queued; drafted/queued jobs cancel at once', async function () {
      slowStage(runtime, 'detect', 20);
      try {
        const args = (n) => ({ target_path: small, output_path: path.join(dir, `q${n}.mp4`), processors: ['detect'] });
        const a = jobs.runJob(args(1));
        const b = jobs.runJob(args(2));
        const c = jobs.createJob(args(3));
        const d = jobs.createJob(args(4));
        jobs.submitJob(d);
        assert.strictEqual(jobs.getJob(a).state, 'running');
        assert.strictEqual(jobs.getJob(b).state, 'queued');
        assert.strictEqual(jobs.getJob(c).state, 'drafted');
        assert.strictEqual(jobs.getJob(d).state, 'queued');
        assert.strictEqual((await jobs.cancelJob(c)).state, 'cancelled');
        assert.strictEqual((await jobs.cancelJob(d)).state, 'cancelled');
        assert.throws(() => jobs.startJob(d), /cancelled/);
        const infoA = await jobs.waitForJob(a);
        assert.strictEqual(infoA.state, 'completed');
        const infoB = await jobs.waitForJob(b);
        assert.strictEqual(infoB.state, 'completed');
        assert.ok(Date.parse(infoB.startedAt) >= Date.parse(infoA.endedAt), 'b started after a ended');
        assert.deepStrictEqual(
          jobs
            .listJobs()
            .map((j) => j.state)
            .sort(),
          ['cancelled', 'cancelled', 'completed', 'completed'],
        );
      } finally {
        delete runtime.process;
      }
    });

    it('failure policy: pass writes the original frame, drop skips it, retry tries again', async function () {
      // A swap stage that fails on every third frame the first time it sees it.
      const original = runtime.process.bind(runtime);
      const seen = new Map();
      runtime.process = async (stage, token, options) => {
        if (stage === 'blur' && token.target.index % 3 === 0) {
          const n = (seen.get(token.target.index) ?? 0) + 1;
          seen.set(token.target.index, n);
          if (n === 1) return { ...token, state: 'failed', error: { stage, code: 'E_INTERNAL', message: 'flaky' } };
        }
        return original(stage, token, options);
      };
      try {
        const run = async (policy, name) => {
          seen.clear();
          const info = await jobs.waitForJob(jobs.runJob({ target_path: small, output_path: path.join(dir, name), processors: ['blur'], failure_policy: policy }));
          assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
          return info.result;
        };
        const pass = await run('pass', 'pass.mp4');
        assert.deepStrictEqual([pass.frames, pass.framesFailed, pass.framesDropped], [40, 14, 0]);
        const drop = await run('drop', 'drop.mp4');
        assert.deepStrictEqual([drop.frames, drop.framesFailed, drop.framesDropped], [26, 14, 14]);
        assert.strictEqual((await probeMedia(locator, path.join(dir, 'drop.mp4'), { countFrames: true })).frameCount, 26);
        const retry = await run({ retry: 1 }, 'retry.mp4');
        assert.deepStrictEqual([retry.frames, retry.framesFailed, retry.framesDropped], [40, 0, 0]);
      } finally {
        delete runtime.process;
      }
    });
  });

  describe('bad inputs end the job failed with a coded error', function () {
    const out = () => path.join(dir, `bad-${Math.random().toString(36).slice(2)}.mp4`);

    it('missing file, not a video, unsupported URL scheme, missing output directory', async function () {
      const notVideo = path.join(dir, 'notes.mp4');
      fs.writeFileSync(notVideo, 'this is not a video\n'.repeat(50));
      const run = (args) => jobs.waitForJob(jobs.runJob({ processors: ['blur'], output_path: out(), ...args }));
      expectFailed(await run({ target_path: path.join(dir, 'nope.mp4') }), 'E_VIDEO_OPEN', 'does not exist');
      expectFailed(await run({ target_path: notVideo }), 'E_VIDEO_OPEN', 'notes.mp4');
      expectFailed(await run({ target_path: 'ftp://example.com/in.mp4' }), 'E_UNSUPPORTED_SOURCE', 'ftp');
      expectFailed(await run({ target_path: small, output_path: path.join(dir, 'no', 'such', 'dir', 'o.mp4') }), 'E_BAD_OUTPUT', 'does not exist');
      expectFailed(await run({ target_path: media('fr_obama.jpg'), output_path: path.join(dir, 'no', 'o.jpg') }), 'E_BAD_OUTPUT', 'does not exist');
      expectFailed(await jobs.waitForJob(jobs.runJob({ source_paths: [media('Megamind.avi')], target_path: small, output_path: out(), processors: ['swap'] })), 'E_BAD_IMAGE', 'Megamind');
    });

    it('ffmpeg killed mid-job (decoder, then encoder): failed, and a job beside it is not affected', async function () {
      const manager = new JobManager(runtime, { locator, maxConcurrent: 2 });
      // Frames after the second wait at the blur stage until ffmpeg was killed: both processes are surely up.
      const gate = gateStage(runtime, 'blur', { pass: 2 });
      try {
        for (const which of ['decoder', 'encoder']) {
          gate.hold(4); // the picture job beside takes one pass
          const id = manager.runJob({ target_path: long, output_path: out(), processors: ['blur'] });
          const other = manager.runJob({ target_path: media('fr_two_people.jpg'), output_path: path.join(dir, `beside-${which}.jpg`), processors: ['blur'] });
          let pid;
          for (let i = 0; i < 200 && !pid; i++) {
            const info = manager.getJob(id);
            if (info.progress.framesDone >= 2) pid = info.processes[which];
            if (!pid) await sleep(25);
          }
          assert.ok(pid, `${which} pid`);
          process.kill(pid, 'SIGKILL');
          gate.release();
          const info = await manager.waitForJob(id);
          expectFailed(info, which === 'decoder' ? 'E_VIDEO_DECODE' : 'E_VIDEO_ENCODE', which === 'decoder' ? 'killed' : 'ffmpeg');
          assert.deepStrictEqual(info.processes, {});
          const beside = await manager.waitForJob(other);
          assert.strictEqual(beside.state, 'completed', JSON.stringify(beside.error));
        }
        assert.strictEqual(runtime.stats().store.frames, 0);
      } finally {
        gate.restore();
        await manager.close();
      }
    });
  });

  describe('registry', function () {
    it('one manager per runtime, closed by the last release', async function () {
      const registry = new JobManagerRegistry({ locator });
      const a = registry.acquire(runtime);
      const b = registry.acquire(runtime);
      assert.strictEqual(a, b);
      const id = a.createJob({ target_path: small, output_path: path.join(dir, 'r.mp4'), processors: ['blur'] });
      await registry.release(runtime);
      assert.strictEqual(a.getJob(id).state, 'drafted');
      await registry.release(runtime);
      assert.strictEqual(a.getJob(id).state, 'cancelled');
      assert.throws(() => a.createJob({ target_path: small, output_path: path.join(dir, 'r.mp4'), processors: ['blur'] }), /closed/);
      assert.notStrictEqual(registry.acquire(runtime), a);
      await registry.release(runtime);
    });
  });
});
