'use strict';
// Live overload that degrades gracefully. When processing falls behind a
// camera, the drop policy must never process fewer frames per second than `block` on the same
// camera and load; the frames it drops cost nothing in the output (held on screen by the
// previous frame's timestamp, or written again without a copy); the decisions are counted in the
// result and journalled; a stopped run leaves a valid file as long as every index it covered.
// Real servers on 127.0.0.1: GStreamer's RTSP server (test/helpers/rtsp-camera.py).
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { createRuntime } = require('../dist/runtime');
const { FfmpegLocator, VideoEncoder, probeMedia, FrameStore, JobManager, jobSummary, FaceStream, ORDER_WAIT_MS } = require('../dist/runtime/internal');
const { ffmpegOrSkip, tempDir, ffmpegChildren } = require('./helpers/clips');
const { pending } = require('./helpers/fixtures');
const { rtspMissing, makeLongCameraClip, startRtspCamera, countFrames, frameTimes } = require('./helpers/cameras');
const { sleep, until } = require('./helpers/wait');

const W = 64;
const H = 48;
const YUV_BYTES = (W * H * 3) / 2;

/** A pooled YUV frame whose luma is `level` (the index shows in the decoded picture). */
function putFrame(store, level) {
  const data = store.acquire(YUV_BYTES);
  data.fill(level, 0, W * H);
  data.fill(128, W * H);
  return store.put({ format: 'yuv420p', width: W, height: H, data }, { pooled: true });
}

describe('live overload (drop policies against block, what a dropped frame costs)', function () {
  this.timeout(60000);
  let locator;
  let ffmpeg;
  let dir;

  before(async function () {
    locator = new FfmpegLocator();
    ffmpeg = await ffmpegOrSkip(this, locator);
    dir = tempDir('live-overload-');
  });

  after(function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('encoder: an index a live source dropped', function () {
    // Indexes 0 1 _ _ _ _ 6 7 _ _ at 10 fps: frames 0, 1, 6 and 7, the rest dropped.
    const present = [0, 1, 6, 7];
    const level = (i) => 30 + i * 20;

    async function encode(onSkip, output) {
      const store = new FrameStore({ budgetBytes: 64 << 20, sweepIntervalMs: 0 });
      const encoder = new VideoEncoder({ locator, store, output, width: W, height: H, fps: 10, quality: 95, onSkip, pixelFormat: 'yuv420p' });
      const inStore = [];
      for (let i = 0; i < 10; i++) {
        if (present.includes(i)) await encoder.write(i, putFrame(store, level(i)));
        else await encoder.skip(i);
        // Give the pipe's write callbacks a turn: the written frame leaves the store once ffmpeg has it.
        await sleep(5);
        inStore.push(store.stats().frames);
      }
      const result = await encoder.finish();
      const pool = store.poolStats();
      assert.strictEqual(store.stats().frames, 0, 'every frame left the store');
      store.close();
      return { result, inStore, pool };
    }

    it('hold: each frame carries its index as timestamp, a gap is a longer frame (nothing encoded for it), the video lasts every index; the frame kept for repeats leaves the store', async function () {
      const output = path.join(dir, 'hold.mp4');
      const { result, inStore, pool } = await encode('hold', output);
      // 4 frames + one copy of frame 7 at index 9, so the video lasts until the end of index 9.
      assert.deepStrictEqual([result.frames, result.dropped, result.repeated, result.onSkip], [5, 6, 6, 'hold']);
      assert.strictEqual(result.durationSec, 1);
      // The frame shown for the gaps is not held in the store (nor copied): the budget stays free.
      assert.ok(
        inStore.every((n) => n === 0),
        `frames in the store after each index: ${inStore}`,
      );
      // Its buffer went back to the pool when the next frame was written (5 buffers served 4 frames + none for gaps).
      assert.ok(pool.reused >= 1, JSON.stringify(pool));
      const times = frameTimes(ffmpeg.path, output);
      assert.deepStrictEqual(
        times.map((f) => Math.round(f.t * 100) / 100),
        [0, 0.1, 0.6, 0.7, 0.9],
      );
      const info = await probeMedia(locator, output);
      assert.ok(Math.abs(info.durationSec - 1) < 0.05, `duration ${info.durationSec} s`);
    });

    it('repeat: the previous frame is written again for each dropped index (constant rate, same pixels)', async function () {
      const output = path.join(dir, 'repeat.mp4');
      const { result, inStore } = await encode('repeat', output);
      assert.deepStrictEqual([result.frames, result.dropped, result.repeated, result.onSkip], [10, 6, 6, 'repeat']);
      assert.strictEqual(result.durationSec, 1);
      assert.ok(
        inStore.every((n) => n === 0),
        `frames in the store after each index: ${inStore}`,
      );
      const times = frameTimes(ffmpeg.path, output);
      assert.deepStrictEqual(
        times.map((f) => Math.round(f.t * 100) / 100),
        [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
      );
      assert.strictEqual(countFrames(ffmpeg.path, output).frames, 10);
    });
  });

  describe('privacy stream: indexes a live source dropped', function () {
    it('are never waited for: the frame after a gap waits only for the frames admitted before it', async function () {
      const stream = new FaceStream({ holdFrames: 8, motion: 'constant_velocity', confirmScore: 0.6, scanInterval: 0.2, lookahead: 0, ordered: true, frameSec: 1 / 25 }, Date.now());
      const face = (x) => ({ bbox: [x, 10, x + 20, 30], score: 0.9 });
      // Frames 0, 1 and 6 came from the decoder; 2–5 were dropped by the overload policy.
      for (const i of [0, 1, 6]) stream.admit(i);
      await stream.observe(0, [face(0)]);
      const t0 = performance.now();
      const sixth = stream.observe(6, [face(24)]);
      await sleep(50);
      const first = await stream.observe(1, [face(4)]);
      const r6 = await sixth;
      const waited = performance.now() - t0;
      assert.deepStrictEqual([first.late, r6.late], [false, false]);
      assert.ok(waited < ORDER_WAIT_MS / 2, `frame 6 waited ${waited.toFixed(0)} ms (for frame 1 only, not for the dropped ones)`);
    });
  });

  describe('a live job on an overloaded camera', function () {
    let clip;
    const cameras = [];
    before(async function () {
      const missing = rtspMissing();
      if (missing) pending(this, missing);
      clip = makeLongCameraClip(ffmpeg.path, path.join(dir, 'camera.mp4'), { width: 320, height: 240, fps: 12, seconds: 30 });
    });
    after(async function () {
      for (const camera of cameras.splice(0)) await camera.stop();
      assert.deepStrictEqual(ffmpegChildren(), [], 'no ffmpeg left behind');
    });

    it('drop_oldest processes no fewer frames per second than block on the same overloaded camera at the same time; the result counts drops, repeats and the queue peak, the frames journal it, and a stop leaves a valid MP4 lasting every index', async function () {
      // Two cameras serving the same clip (one each: a shared RTSP media could pace one client by
      // the other), both jobs at once on one runtime, so the machine's load is the same for both.
      const [camDrop, camBlock] = [await startRtspCamera(clip), await startRtspCamera(clip)];
      cameras.push(camDrop, camBlock);
      const runtime = createRuntime({ device: 'cpu', threads: 1, frameBudgetBytes: 64 * 1024 * 1024 });
      // Every frame waits 250 ms in its last stage; two frames in flight: ≤ 8 frames/s against the camera's 12.
      const STAGE_MS = 250;
      const original = runtime.process.bind(runtime);
      runtime.process = async (stage, token, options) => {
        if (stage === 'blur') await sleep(STAGE_MS);
        return original(stage, token, options);
      };
      const managers = [new JobManager(runtime, { locator }), new JobManager(runtime, { locator })];
      try {
        const done = { drop: [], block: [] };
        const journals = [];
        managers[0].on('frame', (f) => {
          done.drop.push(performance.now());
          journals.push(f.journal);
        });
        managers[1].on('frame', () => done.block.push(performance.now()));
        const notices = [];
        managers[0].on('notice', (n) => notices.push(n));
        const outputs = { drop: path.join(dir, 'drop.mp4'), block: path.join(dir, 'block.mp4') };
        const common = { processors: ['face_blur'], preset: 'ultrafast', quality: 50, parameters: { detect_tiling: 'off' } };
        const ids = {
          drop: managers[0].runJob({ ...common, target_path: camDrop.url, output_path: outputs.drop, live_policy: 'drop_oldest', live_max_queue: 6 }),
          block: managers[1].runJob({ ...common, target_path: camBlock.url, output_path: outputs.block, live_policy: 'block' }),
        };
        // Measured once both run: frames done in the same 6 s of wall time.
        await until(() => done.drop.length >= 3 && done.block.length >= 3, 'both jobs processing', 30000);
        const from = performance.now() + 500;
        await sleep(6500);
        const to = performance.now();
        const inWindow = (times) => times.filter((t) => t >= from && t < to).length;
        const counts = { drop: inWindow(done.drop), block: inWindow(done.block) };
        const [dropInfo, blockInfo] = await Promise.all([managers[0].cancelJob(ids.drop), managers[1].cancelJob(ids.block)]);
        assert.strictEqual(dropInfo.state, 'completed', JSON.stringify(dropInfo.error));
        assert.strictEqual(blockInfo.state, 'completed', JSON.stringify(blockInfo.error));
        // The drop path processes at least as fast as block (a frame of scheduling noise allowed).
        assert.ok(counts.block >= 10, `block processed ${counts.block} frames in 6 s: the comparison needs the stage to be the bottleneck`);
        assert.ok(counts.drop >= counts.block - 2, `in the same 6 s drop_oldest processed ${counts.drop} frames, block ${counts.block}`);

        const r = dropInfo.result;
        // It was overloaded: frames were dropped, counted by policy, with the queue's peak.
        assert.strictEqual(r.live.policy, 'drop-oldest');
        assert.strictEqual(r.live.maxQueue, 6);
        assert.ok(r.live.dropped > 5, JSON.stringify(r.live));
        assert.ok(r.live.queuePeak >= 1 && r.live.queuePeak <= 6, JSON.stringify(r.live));
        assert.deepStrictEqual([r.live.gaps, r.live.fps, r.live.frameIntervalMs], ['hold', 12, 83.333]);
        assert.ok(r.framesRead >= r.framesProcessed + r.live.dropped, JSON.stringify(r));
        // Every dropped index between processed frames is shown as the previous frame; none is encoded.
        assert.strictEqual(r.framesRepeated, r.live.repeated);
        assert.ok(r.framesRepeated > 0 && r.framesRepeated <= r.live.dropped, JSON.stringify(r));
        assert.ok(r.framesWritten - r.framesProcessed >= 0 && r.framesWritten - r.framesProcessed <= 1, `written ${r.framesWritten}, processed ${r.framesProcessed}`);
        // The file: valid, every written frame in it, and as long as every index it covered.
        const file = countFrames(ffmpeg.path, outputs.drop);
        assert.strictEqual(file.error, '', file.error);
        assert.strictEqual(file.frames, r.framesWritten);
        assert.ok(Math.abs(r.durationSec * 12 - (r.framesProcessed + r.framesRepeated)) < 1e-6, `duration ${r.durationSec} s for ${r.framesProcessed} + ${r.framesRepeated} indexes`);
        const probed = await probeMedia(locator, outputs.drop);
        assert.ok(Math.abs(probed.durationSec - r.durationSec) < 0.2, `file lasts ${probed.durationSec} s, result says ${r.durationSec} s`);
        // Journalled: the first frame after each gap says what was dropped and why; one notice.
        const notes = journals.flat().filter((j) => j.stage === 'overload');
        assert.ok(notes.length > 0 && notes.every((j) => /^drop-oldest: \d+ frames? before this one dropped \(queue \d+\/6\)/.test(j.note)), JSON.stringify(notes.slice(0, 3)));
        assert.strictEqual(notices.filter((n) => /frames are dropped \(drop-oldest, queue 6\)/.test(n.message)).length, 1, JSON.stringify(notices));
        // The summary (--json, face-job result) carries the same.
        const summary = jobSummary(dropInfo);
        assert.strictEqual(summary.repeated, r.framesRepeated);
        assert.deepStrictEqual(summary.live, r.live);

        const b = blockInfo.result;
        assert.deepStrictEqual([b.live.policy, b.live.dropped, b.live.queuePeak, b.framesRepeated], ['block', 0, 0, 0]);
        const blockFile = countFrames(ffmpeg.path, outputs.block);
        assert.deepStrictEqual([blockFile.frames, blockFile.error], [b.framesWritten, '']);
      } finally {
        await Promise.all(managers.map((m) => m.close()));
        await runtime.close();
      }
    });
  });
});
