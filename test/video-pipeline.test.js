'use strict';
// The one video pipeline (runtime/jobs/video-pipeline.ts), the input side jobs and flows share:
// frames handed out in order with the window kept, the gaps a live source's overload policy
// leaves (counted and journalled), one state that only moves forward, an end before the first
// frame, and the release of ffmpeg, frames and the privacy stream on close.
const assert = require('assert');
const fs = require('fs');
const { createRuntime } = require('../dist/runtime');
const { FfmpegLocator, VideoPipeline, TaskWindow, InFlightLimit } = require('../dist/runtime/internal');
const { sleep, ffmpegOrSkip, makeSmallClip, within, tempDir, isAlive } = require('./helpers/clips');

function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

describe('video pipeline (the input side of jobs and flows)', function () {
  this.timeout(30000);
  let locator;
  let ffmpeg;
  let dir;
  let small; // 40 frames, 160x160, 20 fps
  let runtime;
  let baseline;

  before(async function () {
    locator = new FfmpegLocator();
    ffmpeg = await ffmpegOrSkip(this, locator);
    dir = tempDir('video-pipeline-');
    small = makeSmallClip(ffmpeg.path, dir);
    runtime = createRuntime();
  });

  beforeEach(function () {
    baseline = runtime.store.stats().frames;
  });

  after(async function () {
    await runtime?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hands a file out in order within the window, the last frame marked when read ahead; close() leaves nothing', async function () {
    const pipeline = new VideoPipeline(runtime, 'test:order');
    pipeline.open({ locator, input: small, pixelFormat: 'yuv420p' });
    const window = new TaskWindow(3);
    const got = [];
    let widest = 0;
    for await (const frame of pipeline.frames(window, { readAhead: true })) {
      assert.strictEqual(runtime.store.ownerOf(frame.ref), 'test:order', 'decoded under the pipeline’s owner tag');
      widest = Math.max(widest, window.count);
      got.push(frame);
      window.add(sleep(3).then(() => runtime.store.release(frame.ref)));
    }
    await window.settle();
    assert.deepStrictEqual(
      got.map((f) => f.index),
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.deepStrictEqual(
      got.filter((f) => f.last).map((f) => f.index),
      [39],
      'only the last frame says so',
    );
    assert.ok(
      got.every((f) => f.droppedBefore === 0),
      'a file drops nothing',
    );
    assert.ok(widest < 3, `a frame is handed out only while the window has room (saw ${widest} in flight)`);
    assert.deepStrictEqual([pipeline.framesRead, pipeline.gaps, pipeline.state], [40, 0, 'running']);
    await pipeline.close();
    assert.strictEqual(runtime.store.stats().frames, baseline);
  });

  it('drop accounting: a live source faster than its consumer leaves gaps; each frame says how many indexes went before it, and the journal entry names the policy', async function () {
    const pipeline = new VideoPipeline(runtime, 'test:drops');
    // A file read as a camera (at its own rate, 20 fps) by a consumer that takes a frame every 120 ms.
    const decoder = pipeline.open({ locator, input: small, live: true, inputOptions: ['-re'], maxReconnects: 0, overload: { policy: 'drop-oldest', maxQueue: 2 }, pixelFormat: 'yuv420p' });
    const got = [];
    try {
      for await (const frame of pipeline.frames(new TaskWindow(1))) {
        got.push(frame);
        await sleep(120);
        runtime.store.release(frame.ref);
        if (got.length === 6) await pipeline.stop();
      }
    } finally {
      await pipeline.close();
    }
    assert.strictEqual(got.length, 6, 'no frame after the stop');
    let expected = 0;
    for (const frame of got) {
      assert.strictEqual(frame.index, expected + frame.droppedBefore, `frame ${frame.index}: droppedBefore ${frame.droppedBefore} after index ${expected - 1}`);
      expected = frame.index + 1;
    }
    const gaps = got.reduce((n, f) => n + f.droppedBefore, 0);
    assert.ok(gaps > 0, 'the slow consumer made the policy drop');
    assert.strictEqual(pipeline.gaps, gaps);
    // Frames dropped after the last one handed out are counted by the decoder but are no gap yet.
    assert.ok(gaps <= decoder.dropped, `gaps ${gaps} ≤ dropped ${decoder.dropped}`);
    assert.deepStrictEqual([pipeline.framesRead, pipeline.state, pipeline.stopRequested], [6, 'stopping', true]);
    const gapFrame = got.find((f) => f.droppedBefore > 0);
    const entry = pipeline.overloadEntry(gapFrame, '; held');
    assert.deepStrictEqual([entry.stage, entry.outcome, entry.ms], ['overload', 'skipped', 0]);
    const n = gapFrame.droppedBefore;
    assert.strictEqual(entry.note, `drop-oldest: ${n} frame${n === 1 ? '' : 's'} before this one dropped (queue ${gapFrame.queued}/2); held`);
    assert.strictEqual(runtime.store.stats().frames, baseline, 'nothing left in the store');
  });

  it('an end before the first frame: stopped before reading, it yields nothing and starts no ffmpeg', async function () {
    const counting = {
      calls: 0,
      resolve: () => {
        counting.calls++;
        return locator.resolve();
      },
    };
    const pipeline = new VideoPipeline(runtime, 'test:early');
    await pipeline.stop();
    const decoder = pipeline.open({ locator: counting, input: small, pixelFormat: 'yuv420p' });
    const gate = new InFlightLimit(runtime.store, 1);
    const got = [];
    for await (const frame of pipeline.frames(gate)) got.push(frame);
    assert.deepStrictEqual(got, []);
    assert.strictEqual(counting.calls, 0, 'ffmpeg never started');
    assert.strictEqual(decoder.pid, undefined);
    assert.deepStrictEqual([pipeline.framesRead, pipeline.state], [0, 'stopping']);
    await pipeline.close();
    gate.close();
  });

  it('stop() ends a wait for room in a window it does not own, and leaves that window to its owner', async function () {
    const pipeline = new VideoPipeline(runtime, 'test:stop-wait');
    pipeline.open({ locator, input: small, pixelFormat: 'yuv420p' });
    const gate = new InFlightLimit(runtime.store, 1);
    const it = pipeline.frames(gate)[Symbol.asyncIterator]();
    const first = (await it.next()).value;
    gate.track(first.ref);
    const next = it.next();
    assert.strictEqual(await within(next, 200), 'pending', 'one frame out, limit 1: waits');
    await pipeline.stop();
    const ended = await within(next, 2000);
    assert.notStrictEqual(ended, 'pending', 'stop() ended the wait');
    assert.strictEqual(ended.value.done, true);
    assert.strictEqual(gate.count, 1, "the owner's gate still counts its frame");
    runtime.store.release(first.ref);
    assert.strictEqual(gate.count, 0);
    gate.close();
    await pipeline.close();
    assert.strictEqual(runtime.store.stats().frames, baseline);
  });

  it('one state, moving only forward: a cancel stops ffmpeg at once and stays a cancel', async function () {
    const pipeline = new VideoPipeline(runtime, 'test:cancel');
    const decoder = pipeline.open({ locator, input: small, pixelFormat: 'yuv420p' });
    const it = pipeline.frames(new TaskWindow(1))[Symbol.asyncIterator]();
    const first = await it.next();
    const pid = decoder.pid;
    assert.ok(pid && isAlive(pid), 'ffmpeg runs');
    runtime.store.release(first.value.ref);
    await pipeline.cancel();
    assert.strictEqual(isAlive(pid), false, 'ffmpeg was stopped by cancel()');
    assert.strictEqual((await it.next()).done, true, 'no frame after a cancel');
    assert.strictEqual(pipeline.moveTo('stopping'), false);
    await pipeline.stop();
    assert.deepStrictEqual([pipeline.state, pipeline.stopRequested], ['cancelled', false]);
    assert.strictEqual(pipeline.moveTo('running'), false);
    await pipeline.close();
    assert.strictEqual(runtime.store.stats().frames, baseline);
  });

  it('close() mid-stream releases ffmpeg, the frame read ahead, the frames still under its owner and the source’s privacy stream, and ends a wait for room', async function () {
    const owner = 'test:close';
    runtime.streams.open(owner, { holdFrames: 2, motion: 'constant_velocity', confirmScore: 0.5, scanInterval: 0, lookahead: 0, ordered: false }, Date.now());
    assert.ok(runtime.streams.peek(owner), 'the source has a privacy stream');
    const released = [];
    const off = runtime.store.onRelease((ref) => released.push(ref));
    const pipeline = new VideoPipeline(runtime, owner);
    const decoder = pipeline.open({ locator, input: small, pixelFormat: 'yuv420p' });
    const gate = new InFlightLimit(runtime.store, 2);
    const it = pipeline.frames(gate, { readAhead: true })[Symbol.asyncIterator]();
    const out = [];
    try {
      for (let i = 0; i < 2; i++) {
        const { value } = await it.next();
        gate.track(value.ref);
        out.push(value.ref);
      }
      const next = it.next();
      assert.strictEqual(await within(next, 200), 'pending', 'two frames out: the pipeline waits for room');
      const pid = decoder.pid;
      assert.ok(pid && isAlive(pid), 'ffmpeg runs while the pipeline waits');
      assert.ok(runtime.store.stats().frames >= baseline + 3, 'two frames out and one read ahead');
      await pipeline.close();
      const ended = await within(next, 2000);
      assert.notStrictEqual(ended, 'pending', 'close() ends the wait');
      assert.strictEqual(ended.value.done, true, 'no frame is handed out after close()');
      assert.strictEqual(isAlive(pid), false, 'ffmpeg is gone');
    } finally {
      off();
    }
    assert.strictEqual(runtime.store.stats().frames, baseline, 'every frame under the owner tag was freed');
    for (const ref of out) assert.ok(released.includes(ref));
    assert.ok(released.length >= 3, 'the frame read ahead was freed too');
    assert.strictEqual(runtime.streams.peek(owner), undefined, 'the privacy stream went');
    assert.strictEqual(pipeline.framesRead, 2);
  });

  it('a job’s window: waitForRoom waits for the oldest frame; settleWithin reports a timeout; open() and frames() are checked', async function () {
    const window = new TaskWindow(2);
    const a = deferred();
    const b = deferred();
    window.add(a.promise);
    window.add(b.promise);
    const wait = window.waitForRoom();
    assert.strictEqual(await within(wait, 50), 'pending', 'two in flight, size 2: waits');
    a.resolve();
    assert.notStrictEqual(await within(wait, 500), 'pending', 'the oldest finished: room');
    assert.strictEqual(window.count, 1);
    assert.strictEqual(await window.settleWithin(30), false, 'a frame still running past the grace');
    b.resolve();
    assert.strictEqual(await window.settleWithin(1000), true);
    await window.settle();
    assert.strictEqual(window.count, 0);

    const pipeline = new VideoPipeline(runtime, 'test:checks');
    await assert.rejects(async () => {
      for await (const f of pipeline.frames(window)) runtime.store.release(f.ref);
    }, /open\(\) the video pipeline/);
    pipeline.open({ locator, input: small });
    assert.throws(() => pipeline.open({ locator, input: small }), /opens its source once/);
    assert.throws(
      () => new VideoPipeline(runtime, 'test:bad').open({ locator, input: 'gopher://x/y' }),
      (e) => e.code === 'E_UNSUPPORTED_SOURCE',
    );
    await pipeline.close();
  });
});
