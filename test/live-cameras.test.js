'use strict';
// Live cameras you can trust: real servers stand in for cameras and stream servers,
// started by these tests on free 127.0.0.1 ports and killed after — GStreamer's RTSP server
// (test/helpers/rtsp-camera.py) and nginx with the RTMP module. Stopping a live run (Ctrl-C on the
// CLI, a stop message, a redeploy, a face-job cancel) must leave a valid file holding every
// processed frame; a camera restarted or not up yet must be waited for; an RTMP push must hold
// every written frame when read back.
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { createRuntime, JobManager } = require('../dist/runtime');
const { FfmpegLocator, VideoDecoder, FrameStore, defaultPreset } = require('../dist/runtime/internal');
const { helper, ourNodes, sink } = require('./helpers/red');
const { ffmpegOrSkip, tempDir, ffmpegChildren, freePort, x264Setting } = require('./helpers/clips');
const { pending } = require('./helpers/fixtures');
const { childProcesses, rtspMissing, rtmpMissing, makeCameraClip, makeLongCameraClip, startRtspCamera, startRtmpServer, playRtmp, countFrames, frameTimes } = require('./helpers/cameras');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');
const videoNodes = ['face-video-in', 'face-video-out', 'face-job'].map((t) => require(`../dist/nodes/${t}.js`));
const nodes = [...ourNodes, ...videoNodes];
const core = (p) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', p));
const { sleep, until } = require('./helpers/wait');
// Jobs here send their output paths in messages: the temp folder is the allowed folder.
const CFG = {
  id: 'cfg',
  type: 'facefusion-config',
  name: 'rt',
  device: 'auto',
  threads: 0,
  modelsDir: '',
  frameBudgetMB: 64,
  tokenTtl: 300,
  allowedFolders: require('os').tmpdir(),
  allowedHosts: '127.0.0.1',
}; // the cameras and stream server are on loopback
const TAB = { id: 'tab', type: 'tab', label: 'live' };

function watch(node) {
  const seen = { statuses: [], warnings: [] };
  const status = node.status.bind(node);
  const warn = node.warn.bind(node);
  node.status = (s) => {
    seen.statuses.push(s.text || '');
    return status(s);
  };
  node.warn = (w) => {
    seen.warnings.push(String(w));
    return warn(w);
  };
  return seen;
}

function collect(node) {
  const got = [];
  node.on('input', (msg) => got.push(msg));
  return got;
}

/** The CLI as a child process; `lines` collects stderr lines as they come, `done` resolves with the exit. */
function startCli(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run = { child, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (run.stdout += d));
  child.stderr.on('data', (d) => (run.stderr += d));
  run.done = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  /** Frames done in the last progress line. */
  run.framesDone = () => {
    const all = [...run.stderr.matchAll(/progress: (?:[\d.]+% )?(\d+)(?:\/\d+)? frames/g)];
    return all.length ? Number(all[all.length - 1][1]) : 0;
  };
  return run;
}

async function killCli(run) {
  if (run.child.exitCode === null && run.child.signalCode === null) {
    run.child.kill('SIGKILL');
    await Promise.race([run.done, sleep(3000)]);
  }
}

describe('live cameras (RTSP camera and RTMP server stand-ins)', function () {
  this.timeout(60000);
  let dir;
  let clip;
  let ffmpeg;
  let camera;
  const cleanups = [];

  before(async function () {
    const missing = rtspMissing();
    if (missing) pending(this, missing);
    ffmpeg = await ffmpegOrSkip(this, new FfmpegLocator());
    dir = tempDir('live-');
    clip = makeLongCameraClip(ffmpeg.path, path.join(dir, 'camera.mp4'), { width: 320, height: 240, fps: 12, seconds: 40 });
    camera = await startRtspCamera(clip);
  });

  afterEach(async function () {
    await helper.unload();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  after(async function () {
    if (camera) await camera.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    // Whatever a test started (CLI, servers, ffmpeg) is gone after it; only the shared camera runs.
    assert.deepStrictEqual(ffmpegChildren(), [], 'no ffmpeg left behind');
    const left = childProcesses().filter((c) => !camera || c.pid !== camera.child.pid);
    assert.deepStrictEqual(left, [], 'no child process left behind');
  });

  after(function () {
    if (camera) assert.strictEqual(camera.running, false, 'the camera was stopped');
  });

  describe('CLI', function () {
    it('Ctrl-C after N frames of an RTSP camera → a valid MP4 holding N ± 2 frames, exit 0, the summary counts read/written/dropped/late', async function () {
      const output = path.join(dir, 'cli-stop.mp4');
      const run = startCli(['run', '--target', camera.url, '--output', output, '--processors', 'face_blur', '--quality', '50', '--preset', 'ultrafast']);
      cleanups.push(() => killCli(run));
      await until(() => run.framesDone() >= 30, 'a progress line with 30 frames', 30000);
      const n = run.framesDone();
      run.child.kill('SIGINT');
      const code = await Promise.race([run.done, sleep(20000).then(() => 'timeout')]);
      assert.strictEqual(code, 0, run.stderr);
      assert.match(run.stderr, /stopping: finishing the frames in flight/);
      assert.match(run.stdout, /stopped on request/);
      const counts = /frames read (\d+), written (\d+), dropped (\d+), late (\d+), repeated (\d+)/.exec(run.stdout);
      assert.ok(counts, run.stdout);
      const [read, written, dropped, late, repeated] = counts.slice(1).map(Number);
      const processed = Number(/processed (\d+) frames/.exec(run.stdout)[1]);
      const file = countFrames(ffmpeg.path, output);
      assert.strictEqual(file.error, '', `the MP4 is clean: ${file.error}`);
      assert.strictEqual(file.frames, written, 'the file holds every frame the summary says was written');
      assert.ok(Math.abs(processed - n) <= 2, `Ctrl-C after ${n} processed frames; the summary says ${processed}`);
      // Frames dropped under overload (a busy machine) are held on screen by the previous frame's
      // timestamp, not encoded: only a trailing gap costs one more frame, so the video lasts every index.
      assert.ok(written - processed >= 0 && written - processed <= 1, `written ${written}, processed ${processed}`);
      assert.ok(repeated <= dropped, run.stdout);
      assert.ok(read >= processed + dropped, run.stdout);
      assert.strictEqual(late, 0);
      assert.match(run.stdout, /encoded with x264 preset ultrafast/, 'the preset given, named in the summary');
    });

    it('a second Ctrl-C aborts at once when closing hangs (an output nobody reads): exit 130, the partial output deleted', async function () {
      // The output is a FIFO nobody opens: ffmpeg blocks opening it, the frames in flight cannot
      // be written, so the first Ctrl-C waits; the second must not.
      const output = path.join(dir, 'cli-abort.mkv');
      const made = spawnSync('mkfifo', [output]);
      if (made.status !== 0) pending(this, 'mkfifo is not available');
      const run = startCli(['run', '--target', camera.url, '--output', output, '--processors', 'face_blur', '--preset', 'ultrafast']);
      cleanups.push(() => killCli(run));
      // Frames are in flight once the encoder runs (it starts with the first frame and then blocks
      // opening the FIFO): the decoder and the encoder are the CLI's ffmpeg children.
      await until(() => ffmpegChildren(run.child.pid).length >= 2, 'the CLI decoding and encoding', 30000);
      await sleep(500);
      run.child.kill('SIGINT');
      await sleep(1500);
      assert.strictEqual(run.child.exitCode, null, `the first Ctrl-C waits for the frames in flight: ${run.stderr}`);
      const t0 = Date.now();
      run.child.kill('SIGINT');
      const code = await Promise.race([run.done, sleep(8000).then(() => 'timeout')]);
      assert.strictEqual(code, 130, run.stderr);
      assert.ok(Date.now() - t0 < 5000, `aborted in ${Date.now() - t0} ms`);
      assert.match(run.stderr, /stopping: finishing[\s\S]*aborting[\s\S]*partial output .*cli-abort\.mkv was deleted/);
      assert.ok(!fs.existsSync(output));
    });

    it('Ctrl-C on a file source cancels: exit 130, the partial output is deleted and the message says so', async function () {
      const output = path.join(dir, 'cli-file.mp4');
      const run = startCli(['run', '--target', clip, '--output', output, '--processors', 'face_blur', '--preset', 'ultrafast']);
      cleanups.push(() => killCli(run));
      await until(() => run.framesDone() >= 1, 'the first progress line', 30000);
      run.child.kill('SIGTERM');
      const code = await Promise.race([run.done, sleep(8000).then(() => 'timeout')]);
      assert.strictEqual(code, 130, run.stderr);
      assert.match(run.stderr, /cancelled: the job was cancelled; its partial output .*cli-file\.mp4 was deleted/);
      assert.ok(!fs.existsSync(output));
    });
  });

  describe('decoder overload policies', function () {
    async function take(policy, count, consumeMs) {
      const store = new FrameStore({ budgetBytes: 32 * 1024 * 1024 });
      const decoder = new VideoDecoder({ locator: new FfmpegLocator(), store, input: camera.url, overload: policy });
      const indexes = [];
      try {
        for await (const f of decoder.frames()) {
          indexes.push(f.index);
          await sleep(consumeMs);
          store.release(f.ref);
          if (indexes.length >= count) break;
        }
      } finally {
        await decoder.stop();
        store.close();
      }
      return { indexes, dropped: decoder.dropped };
    }

    it("every-nth keeps one frame in N (indexes are the source's), drop-newest keeps the waiting frames and drops what does not fit; both count drops", async function () {
      const nth = await take({ policy: 'every-nth', everyNth: 3 }, 8, 0);
      assert.ok(
        nth.indexes.every((i) => i % 3 === 0),
        JSON.stringify(nth.indexes),
      );
      assert.ok(nth.dropped >= 2 * (nth.indexes.length - 1), JSON.stringify(nth));
      // A consumer at ~4 frames/s against 12: a queue of 2, the newest dropped.
      const newest = await take({ policy: 'drop-newest', maxQueue: 2 }, 10, 250);
      const gaps = newest.indexes.slice(1).map((v, i) => v - newest.indexes[i]);
      assert.ok(gaps.every((g) => g >= 1) && gaps.some((g) => g > 1), JSON.stringify(newest.indexes));
      assert.ok(newest.dropped > 0);
      const blocked = await take({ policy: 'block' }, 6, 250);
      assert.deepStrictEqual(blocked.indexes, [0, 1, 2, 3, 4, 5]);
      assert.strictEqual(blocked.dropped, 0);
    });
  });

  describe('decoder overload, a file over HTTP', function () {
    it('a file served over http:// (it has a duration) is never dropped from, however slow the consumer', async function () {
      const small = makeCameraClip(ffmpeg.path, path.join(dir, 'small.mp4'), { width: 160, height: 120, fps: 12, seconds: 4 });
      const server = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': fs.statSync(small).size });
        fs.createReadStream(small).pipe(res);
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(
        () =>
          new Promise((resolve) => {
            server.closeAllConnections();
            server.close(resolve);
          }),
      );
      const store = new FrameStore({ budgetBytes: 8 * 1024 * 1024 });
      const decoder = new VideoDecoder({ locator: new FfmpegLocator(), store, input: `http://127.0.0.1:${server.address().port}/small.mp4`, maxReconnects: 0 });
      const indexes = [];
      try {
        for await (const f of decoder.frames()) {
          indexes.push(f.index);
          await sleep(20);
          store.release(f.ref);
          if (indexes.length >= 48) break;
        }
      } finally {
        await decoder.stop();
        store.close();
      }
      // 48 frames against a queue of 25: a drop policy would have dropped some.
      assert.deepStrictEqual(
        indexes,
        Array.from({ length: 48 }, (_, i) => i),
      );
      assert.strictEqual(decoder.dropped, 0);
      assert.strictEqual(decoder.policy.policy, 'block');
    });
  });

  describe('jobs', function () {
    let runtime;
    let jobs;
    beforeEach(function () {
      runtime = createRuntime({ device: 'cpu', threads: 1, frameBudgetBytes: 64 * 1024 * 1024 });
      jobs = new JobManager(runtime, { progressIntervalMs: 50 });
      cleanups.push(async () => {
        await jobs.close();
        await runtime.close();
      });
    });

    it('the camera killed for 3 s mid-run: notices say it was lost and is back, frames continue after it returns; stop → a valid MP4 with every written frame, at the live default quality', async function () {
      const cam = await startRtspCamera(clip);
      cleanups.push(() => cam.stop());
      const output = path.join(dir, 'job-restart.mkv');
      const notices = [];
      let done = 0;
      jobs.on('notice', (n) => notices.push(n));
      jobs.on('progress', (p) => (done = p.framesDone));
      const id = jobs.runJob({ target_path: cam.url, output_path: output, processors: ['face_blur'], preset: 'ultrafast' });
      await until(() => done >= 20, '20 frames before the camera goes down');
      await cam.stop();
      const before = done;
      await until(() => notices.some((n) => /was lost/.test(n.message)), 'the lost notice');
      await sleep(3000);
      await cam.start();
      await until(() => notices.some((n) => /is back/.test(n.message)), 'the back notice', 20000);
      await until(() => done >= before + 20, '20 frames after the camera came back', 20000);
      const info = await jobs.cancelJob(id);
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      const r = info.result;
      assert.strictEqual(r.stopped, true);
      // The default overload queue is a third of a second of the camera's frames (12 fps: 4).
      assert.deepStrictEqual([r.live.policy, r.live.fps, r.live.maxQueue], ['drop-oldest', 12, 4], JSON.stringify(r.live));
      assert.ok(r.live.queuePeak <= 4, JSON.stringify(r.live));
      const lost = notices.find((n) => /was lost/.test(n.message));
      assert.strictEqual(lost.level, 'warn');
      assert.match(lost.message, /reconnect attempt 1 in \d+ ms/);
      const file = countFrames(ffmpeg.path, output);
      assert.strictEqual(file.error, '', file.error);
      assert.strictEqual(file.frames, r.framesWritten);
      assert.ok(r.framesWritten >= before + 20, JSON.stringify(r));
      // Every frame read was written, except those the overload policy dropped on a busy machine
      // (held on screen by the frame before, not encoded again).
      assert.strictEqual(r.framesRead, r.framesProcessed + r.live.dropped + r.framesLate, JSON.stringify(r));
      assert.ok(r.framesWritten - r.framesProcessed <= 1, JSON.stringify(r));
      assert.strictEqual(runtime.stats().store.frames, 0, 'every frame freed');
      // No quality given: a live source is encoded at LIVE_QUALITY (CRF 20), not the file default
      // (CRF 10); x264 writes its settings into the stream.
      assert.strictEqual(x264Setting(output, 'crf'), '20.0');
    });

    it('a 1080p camera at 25 fps: encoded with the live preset for its pixel rate per core (ultrafast on 2 cores), named in the summary; a preset given wins', async function () {
      // The rule of io-defaults defaultPreset on this machine's cores: 52 million pixels a second.
      const expected = defaultPreset(true, 1920, 1080, 25);
      const big = makeLongCameraClip(ffmpeg.path, path.join(dir, 'camera-1080p.mp4'), { width: 1920, height: 1080, fps: 25, seconds: 20 });
      const cam = await startRtspCamera(big);
      cleanups.push(() => cam.stop());
      const run = async (name, extra) => {
        const output = path.join(dir, name);
        let done = 0;
        const onProgress = (p) => (done = p.framesDone);
        jobs.on('progress', onProgress);
        try {
          const id = jobs.runJob({ target_path: cam.url, output_path: output, processors: ['face_blur'], parameters: { detect_tiling: 'off' }, ...extra });
          await until(() => done >= 5, '5 frames of the 1080p camera', 30000);
          const info = await jobs.cancelJob(id);
          assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
          const file = countFrames(ffmpeg.path, output);
          assert.strictEqual(file.error, '', file.error);
          // x264 writes its settings into the stream: subme=0 is ultrafast's, subme=2 veryfast's.
          return { live: info.result.live, subme: x264Setting(output, 'subme') };
        } finally {
          jobs.off('progress', onProgress);
        }
      };
      const byDefault = await run('live-1080p.mp4', {});
      assert.strictEqual(byDefault.live.preset, expected, JSON.stringify(byDefault.live));
      assert.strictEqual(byDefault.subme, expected === 'ultrafast' ? '0' : '2');
      const given = await run('live-1080p-veryfast.mp4', { preset: 'veryfast' });
      assert.strictEqual(given.live.preset, 'veryfast');
      assert.strictEqual(given.subme, '2');
    });

    it('overload: a camera 2× faster than processing → frames dropped (oldest first), delay behind the camera bounded, the output keeps real time', async function () {
      // Every frame takes ~340 ms in a stage, two at a time: ~6 frames/s against the camera's 12.
      const original = runtime.process.bind(runtime);
      const delays = [];
      let t0;
      runtime.process = async (stage, token, options) => {
        if (stage === 'blur') {
          await sleep(340); // two frames in flight: ~6 frames/s
          const now = performance.now() / 1000;
          t0 ??= now - token.target.pts;
          delays.push(now - t0 - token.target.pts);
        }
        return original(stage, token, options);
      };
      const output = path.join(dir, 'overload.mp4');
      const id = jobs.runJob({ target_path: camera.url, output_path: output, processors: ['face_blur'], preset: 'ultrafast', live_policy: 'drop_oldest', live_max_queue: 4 });
      await until(() => delays.length >= 24, '24 processed frames', 30000);
      const info = await jobs.cancelJob(id);
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      const r = info.result;
      assert.ok(r.framesDropped >= r.framesProcessed * 0.5, `dropped ${r.framesDropped} of ${r.framesRead} read (${r.framesProcessed} processed)`);
      // Delay behind the camera: queue (4) + in flight (2) frames at 12 fps + one stage ≈ 0.7 s; never growing.
      const sorted = [...delays].sort((a, b) => a - b);
      const p95 = sorted[Math.floor(sorted.length * 0.95)];
      const lastTen = delays.slice(-10);
      assert.ok(p95 < 1.5, `p95 delay ${p95.toFixed(2)} s`);
      assert.ok(Math.max(...lastTen) < 1.5, `late delays ${lastTen.map((d) => d.toFixed(2))}`);
      // Real time: a dropped index shows the previous frame (held by its timestamp, nothing encoded),
      // so the video lasts as long as the camera ran while only processed frames are in it.
      const file = countFrames(ffmpeg.path, output);
      assert.strictEqual(file.error, '', file.error);
      assert.strictEqual(file.frames, r.framesWritten);
      assert.ok(r.framesWritten - r.framesProcessed <= 1, `written ${r.framesWritten}, processed ${r.framesProcessed}`);
      assert.ok(r.framesProcessed + r.framesRepeated >= r.framesRead - 6, `processed ${r.framesProcessed} + repeated ${r.framesRepeated} of ${r.framesRead} read`);
      const times = frameTimes(ffmpeg.path, output);
      assert.ok(Math.abs(times[times.length - 1].t + 1 / 12 - r.durationSec) < 0.1, `last frame at ${times[times.length - 1].t} s, duration ${r.durationSec} s`);
    });

    it('a stop before the camera ever came up ends the job cancelled, with nothing written and nothing left running', async function () {
      const port = await freePort();
      const output = path.join(dir, 'never.mp4');
      const notices = [];
      jobs.on('notice', (n) => notices.push(n));
      const id = jobs.runJob({ target_path: `rtsp://user:secret@127.0.0.1:${port}/stream`, output_path: output, processors: ['face_blur'] });
      await until(() => notices.length >= 1, 'a notice that the camera is not up', 20000);
      assert.match(notices[0].message, /is not up/);
      assert.ok(!notices[0].message.includes('secret'), 'credentials are not in messages');
      const info = await jobs.cancelJob(id);
      assert.strictEqual(info.state, 'cancelled');
      assert.ok(!fs.existsSync(output));
    });
  });

  describe('nodes', function () {
    before(function (done) {
      helper.startServer(done);
    });
    after(function (done) {
      helper.stopServer(done);
    });

    function liveFlow(source, output, preset = 'ultrafast') {
      return [
        TAB,
        CFG,
        { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source, maxInFlight: 4, wires: [['det'], ['out', 'ends']] },
        { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['blur']] },
        { id: 'blur', z: 'tab', type: 'face-blur', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['out', 'blurred']] },
        { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output, quality: '', preset, endTimeout: 10, wires: [['summary']] },
        sink('summary'),
        sink('ends'),
        sink('blurred'),
      ];
    }

    it('face-video-in: a camera not up for the first 5 s → status and warning say so, the run starts when it appears; a stop message → a valid MP4 with every frame sent', async function () {
      const port = await freePort();
      const output = path.join(dir, 'late-camera.mp4');
      // Quality and preset blank: the live defaults (checked at the end).
      await helper.load(nodes, liveFlow(`rtsp://127.0.0.1:${port}/stream`, output, ''));
      const config = helper.getNode('cfg');
      await config.ready;
      const inNode = helper.getNode('in');
      const seen = watch(inNode);
      const frames = collect(helper.getNode('det'));
      inNode.receive({ topic: 'cam' });
      await sleep(5000);
      assert.strictEqual(frames.length, 0);
      assert.ok(
        seen.statuses.some((t) => /^source not up \(attempt \d+\)…$/.test(t)),
        JSON.stringify(seen.statuses),
      );
      assert.ok(
        seen.warnings.some((w) => /is not up \(.*Connection refused.*\); reconnect attempt \d+ in \d+ ms$/.test(w)),
        JSON.stringify(seen.warnings),
      );
      const cam = await startRtspCamera(clip, port);
      cleanups.push(() => cam.stop());
      await until(() => frames.length >= 25, '25 frames once the camera is up', 20000);
      const summary = new Promise((resolve) => helper.getNode('summary').once('input', resolve));
      inNode.receive({ command: 'stop' });
      const msg = await Promise.race([summary, sleep(20000).then(() => assert.fail('no summary after stop'))]);
      const file = countFrames(ffmpeg.path, output);
      assert.strictEqual(file.error, '', file.error);
      assert.strictEqual(file.frames, frames.length, 'every frame sent is in the file');
      assert.deepStrictEqual([msg.payload.frames, msg.payload.dropped], [frames.length, 0]);
      assert.strictEqual(config.runtime.stats().store.frames, 0);
      // Quality and preset left blank: a live source is encoded at CRF 20, and a 320×240 camera
      // with veryfast (subme=2; x264 writes its settings into the stream).
      assert.strictEqual(x264Setting(output, 'crf'), '20.0');
      assert.strictEqual(x264Setting(output, 'subme'), '2');
    });

    it('the live example (examples/08-live-camera-privacy.json) runs against the camera: start, blurred frames, stop → a valid MP4 and the summary', async function () {
      const output = path.join(dir, 'example-privacy.mp4');
      const text = fs.readFileSync(path.join(__dirname, '..', 'examples', '08-live-camera-privacy.json'), 'utf8');
      // The example plays the sample clip as imported; pointed at a camera, as its comment says,
      // by setting the source of "camera in" (and here the output of "privacy out").
      const flow = JSON.parse(text).map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper' } : n));
      const cameraIn = flow.find((n) => n.type === 'face-video-in');
      const privacyOut = flow.find((n) => n.type === 'face-video-out');
      assert.ok(cameraIn && privacyOut, 'the example has camera in and privacy out');
      cameraIn.source = camera.url;
      privacyOut.output = output;
      await helper.load([...nodes, core('common/20-inject.js'), core('common/90-comment.js')], [TAB, ...flow.map((n) => (n.type === 'facefusion-config' ? n : { ...n, z: 'tab' }))]);
      await helper.getNode(flow.find((n) => n.type === 'facefusion-config').id).ready;
      const start = flow.find((n) => n.type === 'inject' && n.name === 'start');
      const stop = flow.find((n) => n.type === 'inject' && n.name === 'stop');
      const videoIn = flow.find((n) => n.type === 'face-video-in');
      const blurNode = flow.find((n) => n.type === 'face-blur');
      const summaryNode = flow.find((n) => n.type === 'helper');
      const blurred = collect(helper.getNode(blurNode.id));
      const seen = watch(helper.getNode(videoIn.id));
      helper.getNode(start.id).receive({});
      await until(() => blurred.length >= 24, '24 frames through the blur', 30000);
      const summary = new Promise((resolve) => helper.getNode(summaryNode.id).once('input', resolve));
      helper.getNode(stop.id).receive({});
      const msg = await Promise.race([summary, sleep(20000).then(() => assert.fail('no summary after stop'))]);
      const file = countFrames(ffmpeg.path, output);
      assert.strictEqual(file.error, '', file.error);
      assert.strictEqual(file.frames, msg.payload.frames);
      assert.ok(msg.payload.frames >= 24, JSON.stringify(msg.payload));
      assert.ok(
        seen.statuses.some((t) => /frames · .* fps/.test(t)),
        JSON.stringify(seen.statuses),
      );
    });

    it('face-video-out holds the previous frame for the indexes a live source dropped (msg.video.droppedBefore), at once: the video keeps its length, nothing is encoded for them', async function () {
      const output = path.join(dir, 'repeats.mp4');
      await helper.load(nodes, [TAB, CFG, { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output, preset: 'ultrafast', wires: [['summary']] }, sink('summary')]);
      const config = helper.getNode('cfg');
      await config.ready;
      const out = helper.getNode('out');
      const summary = new Promise((resolve) => helper.getNode('summary').once('input', resolve));
      // Frames 0, 3 and 4 of a live source; 1 and 2 were dropped before 3.
      for (const [index, droppedBefore] of [
        [0, 0],
        [3, 2],
        [4, 0],
      ]) {
        const target = { width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3).fill(40 + index) };
        const token = await config.runtime.createToken({ target, operations: [] });
        out.receive({ payload: token, parts: { id: 'cam', index, type: 'frames' }, video: { fps: 10, source: camera.url, ...(droppedBefore ? { droppedBefore } : {}) } });
      }
      await until(() => config.runtime.stats().store.frames === 0, 'every frame written (none parked behind the dropped indexes)', 5000);
      out.receive({ payload: { frames: 3, dropped: 2 }, parts: { id: 'cam', count: 5, type: 'frames' }, complete: true });
      const msg = await Promise.race([summary, sleep(10000).then(() => assert.fail('no summary'))]);
      assert.deepStrictEqual([msg.payload.frames, msg.payload.dropped, msg.payload.repeated, msg.payload.gaps, msg.payload.durationSec], [3, 2, 2, 'hold', 0.5]);
      const file = countFrames(ffmpeg.path, output);
      assert.deepStrictEqual([file.frames, file.error], [3, '']);
      // Frame 3 is shown from 0.3 s: frame 0 is on screen for indexes 0–2.
      assert.deepStrictEqual(
        frameTimes(ffmpeg.path, output).map((f) => Math.round(f.t * 10) / 10),
        [0, 0.3, 0.4],
      );
    });

    it('a redeploy mid-stream closes the MP4 properly with the frames that reached face-video-out', async function () {
      const output = path.join(dir, 'redeploy.mp4');
      await helper.load(nodes, liveFlow(camera.url, output));
      await helper.getNode('cfg').ready;
      const inNode = helper.getNode('in');
      const blurred = collect(helper.getNode('blurred'));
      inNode.receive({});
      await until(() => blurred.length >= 30, '30 blurred frames', 30000);
      await helper.unload();
      const file = countFrames(ffmpeg.path, output);
      assert.strictEqual(file.error, '', file.error);
      // Frames still between face-video-in and face-video-out when the flow closed are not written.
      assert.ok(file.frames >= 30 && file.frames <= blurred.length, `${file.frames} frames in the file, ${blurred.length} reached face-video-out`);
    });

    it('face-job: a redeploy stops a live job and closes its MP4 properly (no result message, no Catch error)', async function () {
      const output = path.join(dir, 'job-redeploy.mp4');
      await helper.load(nodes, [TAB, CFG, { id: 'job', z: 'tab', type: 'face-job', config: 'cfg', wires: [['result'], ['progress']] }, sink('result'), sink('progress')]);
      await helper.getNode('cfg').ready;
      const job = helper.getNode('job');
      const progress = collect(helper.getNode('progress'));
      const results = collect(helper.getNode('result'));
      const errors = [];
      job.on('call:error', (call) => errors.push(call.args[0]));
      job.receive({ payload: { target_path: camera.url, output_path: output, processors: ['face_blur'], preset: 'ultrafast', quality: 50 } });
      await until(() => progress.some((m) => m.payload.framesDone >= 20), '20 frames', 30000);
      const done = progress[progress.length - 1].payload.framesDone;
      await helper.unload();
      const file = countFrames(ffmpeg.path, output);
      assert.strictEqual(file.error, '', file.error);
      assert.ok(file.frames >= done, `${file.frames} frames in the file, ${done} were done before the redeploy`);
      assert.deepStrictEqual([results.length, errors.length], [0, 0]);
    });

    it('face-job: RTSP camera → blur → RTMP; cancel stops it and the stream read back from the RTMP server holds every frame written', async function () {
      const missing = rtmpMissing();
      if (missing) pending(this, missing);
      const server = await startRtmpServer();
      cleanups.push(() => server.stop());
      const url = server.url('blurred');
      const player = playRtmp(ffmpeg.path, url, path.join(dir, 'readback.flv'));
      cleanups.push(() => player.stop());
      await helper.load(nodes, [TAB, CFG, { id: 'job', z: 'tab', type: 'face-job', config: 'cfg', wires: [['result'], ['progress']] }, sink('result'), sink('progress')]);
      await helper.getNode('cfg').ready;
      const job = helper.getNode('job');
      const seen = watch(job);
      const progress = collect(helper.getNode('progress'));
      const result = new Promise((resolve) => helper.getNode('result').once('input', resolve));
      job.receive({ payload: { target_path: camera.url, output_path: url, processors: ['face_blur'], preset: 'ultrafast', quality: 50 } });
      await until(() => progress.some((m) => m.payload.framesDone >= 30), '30 frames pushed', 30000);
      job.receive({ command: 'cancel' });
      const msg = await Promise.race([result, sleep(20000).then(() => assert.fail('no result after cancel'))]);
      assert.strictEqual(msg.payload.stopped, true);
      assert.ok(
        seen.statuses.some((t) => /^stopped · \d+ frames/.test(t)),
        JSON.stringify(seen.statuses),
      );
      // The player writes what the server relays as it comes (FLV is readable while written).
      let back = { frames: null, error: '' };
      for (const end = Date.now() + 15000; Date.now() < end && back.frames !== msg.payload.framesWritten; await sleep(500)) {
        back = countFrames(ffmpeg.path, path.join(dir, 'readback.flv'));
      }
      assert.ok(msg.payload.framesWritten >= 30, JSON.stringify(msg.payload));
      assert.strictEqual(back.frames, msg.payload.framesWritten, `read back ${back.frames} of ${msg.payload.framesWritten} frames: ${back.error}; player: ${player.stderr}`);
    });
  });
});
