'use strict';
// Video I/O: ffmpeg resolution, probing, decoder into the frame store with
// backpressure and live reconnect, in-order encoder with audio. Clips are made here from
// test/fixtures/media with the resolved ffmpeg.
const { pending } = require('./helpers/fixtures');
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { FrameStore, FfmpegLocator, probeMedia, VideoDecoder, VideoEncoder, qualityToCrf, classifySource } = require('../dist/runtime/internal');
const { MEDIA, sleep, ffmpegOrSkip, makeZoomClip, tempDir, isAlive, freePort, serveLoop, killAll } = require('./helpers/clips');

const MEGAMIND = path.join(MEDIA, 'Megamind.avi');
const INSTALLER = (() => {
  try {
    return require('@ffmpeg-installer/ffmpeg').path;
  } catch {
    return undefined;
  }
})();

async function rejectsWithCode(promiseOrFn, code, includes) {
  await assert.rejects(typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn, (e) => {
    assert.strictEqual(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (includes) assert.ok(e.message.includes(includes), `message should name ${includes}: ${e.message}`);
    return true;
  });
}

async function decodeAll(locator, store, input, options = {}) {
  const decoder = new VideoDecoder({ locator, store, input, ...options });
  const frames = [];
  for await (const f of decoder.frames()) {
    const frame = store.get(f.ref);
    frames.push({ ...f, mean: meanOf(frame.data) });
    store.release(f.ref);
  }
  return { frames, info: decoder.info };
}

function meanOf(data) {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  return sum / data.length;
}

describe('video I/O', function () {
  this.timeout(60000);
  let locator;
  let ffmpeg;
  let dir;
  let clip;
  const children = [];

  before(async function () {
    locator = new FfmpegLocator();
    ffmpeg = await ffmpegOrSkip(this, locator);
    dir = tempDir('video-io-');
    // 2 s, 25 fps, 256x256 slow zoom on a real face.
    clip = makeZoomClip(ffmpeg.path, { image: path.join(MEDIA, 'astronaut.png'), output: path.join(dir, 'zoom.mp4'), width: 256, height: 256, frames: 50, fps: 25, zoom: 'min(zoom+0.004,1.5)' });
  });

  afterEach(async function () {
    await killAll(children);
  });

  after(async function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('FfmpegLocator', function () {
    it('honours FFMPEG_PATH first and reports the version', async function () {
      if (!INSTALLER) pending(this, '@ffmpeg-installer/ffmpeg is not installed');
      const logs = [];
      const l = new FfmpegLocator({ env: { FFMPEG_PATH: INSTALLER, PATH: '/usr/bin:/bin' }, logger: (level, m) => logs.push(m) });
      const info = await l.resolve();
      assert.deepStrictEqual([info.source, info.path], ['env', INSTALLER]);
      assert.match(info.version, /\S/);
      assert.strictEqual(await l.resolve(), info, 'the instance caches its answer');
      assert.strictEqual(logs.length, 1, 'the choice is reported once');
      assert.ok(logs[0].includes(info.version) && logs[0].includes(INSTALLER), logs[0]);
    });

    it('falls back ffmpeg-static → @ffmpeg-installer → PATH, and fails clearly with none', async function () {
      const absent = (id) => {
        throw new Error(`Cannot find module '${id}'`);
      };
      const fromInstaller = await new FfmpegLocator({ env: { PATH: '' }, requireModule: (id) => (id === '@ffmpeg-installer/ffmpeg' && INSTALLER ? { path: INSTALLER } : absent(id)) })
        .resolve()
        .catch((e) => e);
      if (INSTALLER) assert.strictEqual(fromInstaller.source, 'ffmpeg-installer');
      // ffmpeg-static reports its path as a string; a missing file there is skipped, not used.
      const staticMissing = new FfmpegLocator({ env: { PATH: '' }, requireModule: (id) => (id === 'ffmpeg-static' ? path.join(dir, 'nope', 'ffmpeg') : absent(id)) });
      await rejectsWithCode(staticMissing.resolve(), 'E_FFMPEG_MISSING', 'ffmpeg-static');
      if (INSTALLER) {
        const fromStatic = await new FfmpegLocator({ env: { PATH: '' }, requireModule: (id) => (id === 'ffmpeg-static' ? INSTALLER : absent(id)) }).resolve();
        assert.strictEqual(fromStatic.source, 'ffmpeg-static');
      }
      const binDir = path.join(dir, 'bin');
      fs.mkdirSync(binDir, { recursive: true });
      fs.symlinkSync(ffmpeg.path, path.join(binDir, 'ffmpeg'));
      const fromPath = await new FfmpegLocator({ env: { PATH: binDir }, requireModule: absent }).resolve();
      assert.deepStrictEqual([fromPath.source, fromPath.path], ['path', path.join(binDir, 'ffmpeg')]);
      await rejectsWithCode(new FfmpegLocator({ env: { PATH: '' }, requireModule: absent }).resolve(), 'E_FFMPEG_MISSING', 'FFMPEG_PATH');
      await rejectsWithCode(new FfmpegLocator({ env: { FFMPEG_PATH: path.join(dir, 'missing-ffmpeg') } }).resolve(), 'E_FFMPEG_MISSING', 'missing-ffmpeg');
    });
  });

  describe('probeMedia', function () {
    it('probes the generated clip', async function () {
      const info = await probeMedia(locator, clip, { countFrames: true });
      assert.deepStrictEqual([info.width, info.height, info.fps, info.frameCount, info.hasAudio], [256, 256, 25, 50, false]);
      assert.ok(Math.abs(info.durationSec - 2) < 0.05, String(info.durationSec));
      assert.strictEqual(info.videoCodec, 'h264');
    });

    it('probes Megamind.avi: 720x528, 23.98 fps, ac3 audio', async function () {
      const info = await probeMedia(locator, MEGAMIND);
      assert.deepStrictEqual([info.width, info.height, info.hasAudio, info.audioCodec], [720, 528, true, 'ac3']);
      assert.ok(Math.abs(info.fps - 24000 / 1001) < 1e-9, String(info.fps));
      assert.ok(Math.abs(info.durationSec - 11.26) < 0.05, String(info.durationSec));
      assert.ok(Math.abs(info.frameCount - 270) <= 1, String(info.frameCount));
    });

    it('refuses a missing file, a text file named .mp4 and an unsupported scheme with coded errors', async function () {
      const missing = path.join(dir, 'missing.mp4');
      await rejectsWithCode(probeMedia(locator, missing), 'E_VIDEO_OPEN', missing);
      const fake = path.join(dir, 'notes.mp4');
      fs.writeFileSync(fake, 'this is a text file, not a video\n'.repeat(20));
      await rejectsWithCode(probeMedia(locator, fake), 'E_VIDEO_OPEN', fake);
      await rejectsWithCode(probeMedia(locator, 'ftp://x'), 'E_UNSUPPORTED_SOURCE', 'ftp://x');
      await rejectsWithCode(probeMedia(locator, 'concat:a.mp4|b.mp4'), 'E_UNSUPPORTED_SOURCE');
      assert.deepStrictEqual(classifySource('rtsp://cam/1'), { input: 'rtsp://cam/1', kind: 'url', live: true, scheme: 'rtsp' });
      assert.deepStrictEqual(classifySource('/dev/video0'), { input: '/dev/video0', kind: 'device', live: true });
    });
  });

  describe('decode → encode', function () {
    it('round trip keeps frame count, size and fps; the store ends empty', async function () {
      const store = new FrameStore({ budgetBytes: 256 * 256 * 3 * 8, sweepIntervalMs: 0 });
      const decoder = new VideoDecoder({ locator, store, input: clip });
      const out = path.join(dir, 'roundtrip.mp4');
      const encoder = new VideoEncoder({ locator, store, output: out, width: 256, height: 256, fps: 25 });
      const pts = [];
      for await (const f of decoder.frames()) {
        assert.deepStrictEqual([f.width, f.height], [256, 256]);
        pts.push(f.pts);
        await encoder.write(f.index, f.ref);
      }
      const result = await encoder.finish();
      assert.deepStrictEqual([result.frames, result.dropped, result.durationSec, result.outputPath], [50, 0, 2, out]);
      assert.strictEqual(pts.length, 50);
      assert.deepStrictEqual(pts.slice(0, 3), [0, 0.04, 0.08]);
      assert.deepStrictEqual([store.stats().frames, store.stats().reservedBytes], [0, 0]);
      const info = await probeMedia(locator, out, { countFrames: true });
      assert.deepStrictEqual([info.width, info.height, info.fps, info.frameCount], [256, 256, 25, 50]);
      store.close();
    });

    it('writes frames that arrive out of order strictly in index order, skipping dropped ones', async function () {
      const store = new FrameStore({ budgetBytes: 64 * 48 * 3 * 40, sweepIntervalMs: 0 });
      const out = path.join(dir, 'order.mp4');
      const encoder = new VideoEncoder({ locator, store, output: out, width: 64, height: 48, fps: 25, quality: 95 });
      const level = (i) => 10 + i * 12; // grey level encodes the index
      const order = [5, 3, 0, 19, 1, 2, 4, 12, 8, 6, 7, 9, 11, 10, 13, 18, 17, 14, 15, 16];
      const writes = order.map((i) => {
        if (i === 7) return encoder.skip(7);
        const data = new Uint8Array(64 * 48 * 3).fill(level(i));
        return encoder.write(i, store.put({ width: 64, height: 48, channels: 3, data }));
      });
      await Promise.all(writes);
      assert.strictEqual(encoder.waiting, 0);
      const result = await encoder.finish();
      assert.deepStrictEqual([result.frames, result.dropped], [19, 1]);
      assert.strictEqual(store.stats().frames, 0, 'each written frame was released');
      const { frames } = await decodeAll(locator, store, out);
      const expected = [...Array(20).keys()].filter((i) => i !== 7).map(level);
      assert.strictEqual(frames.length, expected.length);
      frames.forEach((f, k) => assert.ok(Math.abs(f.mean - expected[k]) < 4, `frame ${k}: mean ${f.mean.toFixed(1)} vs ${expected[k]}`));
      store.close();
    });

    it('gives up a missing index after maxParked frames (and a quarter of the store budget); a late frame is freed', async function () {
      const store = new FrameStore({ budgetBytes: 64 * 48 * 3 * 40, sweepIntervalMs: 0 });
      const out = path.join(dir, 'gap.mp4');
      const encoder = new VideoEncoder({ locator, store, output: out, width: 64, height: 48, fps: 25, maxParked: 4 });
      const put = (i) => store.put({ width: 64, height: 48, channels: 3, data: new Uint8Array(64 * 48 * 3).fill(10 + i * 12) });
      await encoder.write(0, put(0));
      // Index 1 never comes (a flow dropped it): at most 4 frames wait for it.
      for (let i = 2; i <= 9; i++) {
        await encoder.write(i, put(i));
        assert.ok(encoder.waiting <= 4, `after frame ${i}: ${encoder.waiting} parked`);
      }
      assert.strictEqual(encoder.waiting, 0, 'the gap was given up and the parked frames written');
      const before = store.stats().frames;
      await encoder.write(1, put(1)); // too late: freed at once, not an error
      assert.strictEqual(store.stats().frames, before);
      await assert.rejects(encoder.write(3, put(3)), (e) => e.code === 'E_BAD_PARAMETER', 'a frame written twice is still refused');
      const result = await encoder.finish();
      assert.deepStrictEqual([result.frames, result.dropped, result.late], [9, 1, 1]);
      assert.strictEqual(store.stats().frames, 0, 'every frame freed');
      const { frames } = await decodeAll(locator, store, out);
      assert.strictEqual(frames.length, 9);
      assert.ok(Math.abs(frames[1].mean - (10 + 2 * 12)) < 4, 'frame 2 follows frame 0');

      // The store budget bounds it too: a quarter of 40 frames' budget = 10 frames, below maxParked 100.
      const budgeted = new VideoEncoder({ locator, store, output: path.join(dir, 'gap2.mp4'), width: 64, height: 48, fps: 25, maxParked: 100 });
      await budgeted.write(0, put(0));
      let most = 0;
      for (let i = 2; i <= 30; i++) {
        await budgeted.write(i, put(i));
        most = Math.max(most, budgeted.waiting);
      }
      assert.strictEqual(most, 10, 'at most a quarter of the budget parked');
      assert.strictEqual((await budgeted.finish()).dropped, 1);
      assert.strictEqual(store.stats().frames, 0);
      store.close();
    });

    it('counts a parked YUV frame at its real size (1.5 bytes a pixel): twice as many fit in the quarter budget', async function () {
      const store = new FrameStore({ budgetBytes: 64 * 48 * 3 * 40, sweepIntervalMs: 0 });
      const bytes = 64 * 48 * 1.5;
      const put = (i) => store.put({ format: 'yuv420p', width: 64, height: 48, data: new Uint8Array(bytes).fill(16 + i * 5) });
      const encoder = new VideoEncoder({ locator, store, output: path.join(dir, 'gap-yuv.mp4'), width: 64, height: 48, fps: 25, maxParked: 100, pixelFormat: 'yuv420p' });
      await encoder.write(0, put(0));
      let most = 0;
      for (let i = 2; i <= 40; i++) {
        await encoder.write(i, put(i));
        most = Math.max(most, encoder.waiting);
      }
      // A quarter of 40 RGB frames' budget holds 20 YUV frames (it was counted as 10 at 3 bytes a pixel).
      assert.strictEqual(most, 20, 'at most a quarter of the budget parked, in YUV frames');
      const result = await encoder.finish();
      assert.deepStrictEqual([result.frames, result.dropped], [40, 1]);
      assert.strictEqual(store.stats().frames, 0);
      store.close();
    });

    it('keeps the audio of Megamind.avi, or drops it with keepAudio:false', async function () {
      const store = new FrameStore({ budgetBytes: 360 * 264 * 3 * 12, sweepIntervalMs: 0 });
      const decoder = new VideoDecoder({ locator, store, input: MEGAMIND, width: 360, height: 264 });
      const withAudio = path.join(dir, 'mm-audio.mp4');
      const silent = path.join(dir, 'mm-silent.mp4');
      const common = { locator, store, width: 360, height: 264, fps: 24000 / 1001, audioFrom: MEGAMIND, preset: 'ultrafast', quality: 50 };
      const a = new VideoEncoder({ ...common, output: withAudio });
      const b = new VideoEncoder({ ...common, output: silent, keepAudio: false });
      for await (const f of decoder.frames()) {
        const copy = store.put(store.get(f.ref)); // each encoder owns (and releases) its own ref
        await Promise.all([a.write(f.index, f.ref), b.write(f.index, copy)]);
      }
      const [ra, rb] = await Promise.all([a.finish(), b.finish()]);
      assert.strictEqual(ra.frames, rb.frames);
      const ia = await probeMedia(locator, withAudio);
      const ib = await probeMedia(locator, silent);
      assert.strictEqual(ia.hasAudio, true);
      assert.strictEqual(ia.audioCodec, 'aac');
      assert.ok(Math.abs(ia.durationSec - 11.26) < 0.5, `duration ${ia.durationSec}`);
      assert.strictEqual(ib.hasAudio, false);
      assert.deepStrictEqual([ia.width, ia.height], [360, 264]);
      assert.strictEqual(store.stats().frames, 0);
      store.close();
    });
  });

  describe('backpressure and stopping', function () {
    it('never holds more than the store budget with a slow consumer, and delivers every frame', async function () {
      const frameBytes = 256 * 256 * 3;
      const budget = frameBytes * 3;
      const store = new FrameStore({ budgetBytes: budget, sweepIntervalMs: 0 });
      const decoder = new VideoDecoder({ locator, store, input: clip });
      let delivered = 0;
      let sawWaiting = false;
      const inFlight = [];
      for await (const f of decoder.frames()) {
        delivered++;
        // A slow downstream stage: each frame is released 40 ms later, so the decoder's next
        // reserve() has to wait (pipe paused) while three frames are out.
        inFlight.push(
          sleep(40).then(() => {
            if (store.stats().waiting > 0) sawWaiting = true;
            store.release(f.ref);
          }),
        );
      }
      await Promise.all(inFlight);
      const stats = store.stats();
      assert.strictEqual(delivered, 50);
      assert.ok(stats.peakBytes <= budget, `peak ${stats.peakBytes} > budget ${budget}`);
      assert.ok(sawWaiting, 'the decoder waited for room in the store');
      assert.deepStrictEqual([stats.frames, stats.bytes, stats.reservedBytes, stats.waiting], [0, 0, 0, 0]);
      store.close();
    });

    it('stop() mid-stream ends ffmpeg and leaves nothing in the store', async function () {
      const store = new FrameStore({ budgetBytes: 720 * 528 * 3 * 4, sweepIntervalMs: 0 });
      const decoder = new VideoDecoder({ locator, store, input: MEGAMIND });
      let pid;
      let count = 0;
      for await (const f of decoder.frames()) {
        pid = decoder.pid;
        store.release(f.ref);
        if (++count === 5) await decoder.stop();
      }
      assert.strictEqual(count, 5, 'no frame after stop()');
      assert.ok(pid > 0);
      assert.strictEqual(isAlive(pid), false, `ffmpeg ${pid} still running`);
      assert.strictEqual(decoder.pid, undefined);
      const stats = store.stats();
      assert.deepStrictEqual([stats.frames, stats.reservedBytes, stats.waiting], [0, 0, 0]);
      store.close();
    });

    it('stop() while the decoder waits for store room, and breaking out of the loop, both end ffmpeg', async function () {
      const store = new FrameStore({ budgetBytes: 720 * 528 * 3 * 2, sweepIntervalMs: 0 });
      const waiting = new VideoDecoder({ locator, store, input: MEGAMIND });
      const it = waiting.frames();
      const first = await it.next();
      const second = await it.next();
      const third = it.next(); // blocks in reserve(): two frames held, budget two
      await sleep(100);
      assert.strictEqual(store.stats().waiting, 1);
      const pid = waiting.pid;
      await waiting.stop();
      assert.strictEqual((await third).done, true);
      assert.strictEqual(isAlive(pid), false);
      store.release(first.value.ref);
      store.release(second.value.ref);

      const broken = new VideoDecoder({ locator, store, input: MEGAMIND });
      let pid2;
      for await (const f of broken.frames()) {
        pid2 = broken.pid;
        store.release(f.ref);
        break;
      }
      assert.strictEqual(isAlive(pid2), false);
      assert.deepStrictEqual([store.stats().frames, store.stats().reservedBytes], [0, 0]);
      store.close();
    });

    it('abort() kills the encoder and releases parked frames', async function () {
      const store = new FrameStore({ budgetBytes: 64 * 64 * 3 * 10, sweepIntervalMs: 0 });
      const encoder = new VideoEncoder({ locator, store, output: path.join(dir, 'aborted.mp4'), width: 64, height: 64, fps: 25 });
      await encoder.write(0, store.put({ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) }));
      await encoder.write(3, store.put({ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) }));
      const pid = encoder.pid;
      assert.strictEqual(encoder.waiting, 1);
      await encoder.abort();
      assert.strictEqual(isAlive(pid), false);
      assert.strictEqual(store.stats().frames, 0);
      await rejectsWithCode(encoder.write(1, store.put({ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) })), 'E_CLOSED');
      assert.strictEqual(store.stats().frames, 0, 'a refused frame is released too');
      store.close();
    });
  });

  describe('errors', function () {
    it('decoder: missing file, not a video, unsupported scheme', async function () {
      const store = new FrameStore({ budgetBytes: 1e6, sweepIntervalMs: 0 });
      const missing = path.join(dir, 'gone.mp4');
      await rejectsWithCode(decodeAll(locator, store, missing), 'E_VIDEO_OPEN', missing);
      const fake = path.join(dir, 'text.mp4');
      fs.writeFileSync(fake, 'not a video at all\n'.repeat(50));
      await rejectsWithCode(decodeAll(locator, store, fake), 'E_VIDEO_OPEN', fake);
      assert.throws(
        () => new VideoDecoder({ locator, store, input: 'ftp://x' }),
        (e) => e.code === 'E_UNSUPPORTED_SOURCE',
      );
      assert.deepStrictEqual([store.stats().frames, store.stats().reservedBytes], [0, 0]);
      store.close();
    });

    it('encoder: a missing output directory fails before spawning; ffmpeg dying mid-way is E_VIDEO_ENCODE', async function () {
      const store = new FrameStore({ budgetBytes: 64 * 64 * 3 * 4, sweepIntervalMs: 0 });
      const into = path.join(dir, 'no-such-dir', 'out.mp4');
      assert.throws(
        () => new VideoEncoder({ locator, store, output: into, width: 64, height: 64, fps: 25 }),
        (e) => e.code === 'E_BAD_OUTPUT' && e.message.includes('no-such-dir'),
      );
      assert.throws(
        () => new VideoEncoder({ locator, store, output: 'ftp://host/x.mp4', width: 64, height: 64, fps: 25 }),
        (e) => e.code === 'E_BAD_OUTPUT',
      );
      assert.strictEqual(qualityToCrf(80), 10);
      assert.deepStrictEqual([qualityToCrf(0), qualityToCrf(100)], [51, 0]);

      const encoder = new VideoEncoder({ locator, store, output: path.join(dir, 'killed.mp4'), width: 64, height: 64, fps: 25 });
      const frame = () => store.put({ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3).fill(90) });
      await encoder.write(0, frame());
      process.kill(encoder.pid, 'SIGKILL');
      let error;
      for (let i = 1; i < 200 && !error; i++) {
        try {
          await encoder.write(i, frame());
        } catch (e) {
          error = e;
        }
        await sleep(5);
      }
      assert.ok(error, 'writes fail once ffmpeg is gone');
      assert.strictEqual(error.code, 'E_VIDEO_ENCODE');
      assert.match(error.message, /killed\.mp4.*SIGKILL/);
      await rejectsWithCode(encoder.finish(), 'E_VIDEO_ENCODE');
      assert.strictEqual(store.stats().frames, 0);
      store.close();
    });
  });

  describe('live source', function () {
    function serve(port) {
      // Loops the clip in real time as MPEG-TS to the one client that connects.
      const child = serveLoop(ffmpeg.path, clip, port);
      children.push(child);
      return child;
    }

    it('reconnects with backoff when the stream drops, and reports it', async function () {
      const port = await freePort();
      let server = serve(port);
      await sleep(400);
      const store = new FrameStore({ budgetBytes: 256 * 256 * 3 * 4, sweepIntervalMs: 0 });
      const reconnects = [];
      const decoder = new VideoDecoder({
        locator,
        store,
        input: `tcp://127.0.0.1:${port}`,
        reconnectBaseMs: 200,
        maxReconnects: 6,
        ioTimeoutMs: 3000,
        onReconnect: (attempt, delayMs, reason) => {
          reconnects.push({ attempt, delayMs, reason, afterFrames: indexes.length });
          if (server.exitCode !== null || server.signalCode !== null) server = serve(port); // the source comes back
        },
      });
      const guard = setTimeout(() => void decoder.stop(), 20000); // bounded
      const indexes = [];
      let killedAt;
      try {
        for await (const f of decoder.frames()) {
          store.release(f.ref);
          indexes.push(f.index);
          if (indexes.length === 10 && killedAt === undefined) {
            killedAt = f.index;
            server.kill('SIGKILL');
          }
          if (reconnects.length > 0 && indexes.length >= 25) break;
        }
      } finally {
        clearTimeout(guard);
        await decoder.stop();
      }
      assert.ok(reconnects.length >= 1, 'onReconnect was called');
      assert.deepStrictEqual([reconnects[0].attempt, reconnects[0].delayMs], [1, 200]);
      assert.ok(reconnects[0].afterFrames >= 10, 'the first reconnect follows the server kill, not a failed start');
      assert.match(reconnects[0].reason, /\S/);
      assert.ok(indexes.length >= 25, `frames resumed after the reconnect (${indexes.length})`);
      assert.deepStrictEqual(
        indexes,
        indexes.map((_, i) => i),
        'indexes continue across the reconnect',
      );
      assert.deepStrictEqual([store.stats().frames, store.stats().reservedBytes], [0, 0]);
      store.close();
    });
  });
});
