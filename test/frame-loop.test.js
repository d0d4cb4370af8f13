'use strict';
// The frame loop of a video source (runtime/jobs/frame-loop.ts), the same for jobs and flows:
// a live source read by face-video-in paces its privacy scan as a job's does (stretched while
// the flow is behind, journalled as `cadence`), a flow's blur on a pixel worker is counted in
// its stream's figures, and the loop's step picks the thread. See docs/ARCHITECTURE.md,
// *A video frame's route*.
const assert = require('assert');
const fs = require('fs');
const { createRuntime } = require('../dist/runtime');
const { FfmpegLocator, FrameTokenSource } = require('../dist/runtime/internal');
const { ffmpegOrSkip, makeSmallClip, tempDir, media } = require('./helpers/clips');
const { sleep } = require('./helpers/wait');

/** How a stage node runs its stage (nodes/lib/stage-node.ts). */
const NODE = { force: true, offMainThread: true };

describe('frame loop (one per source, jobs and flows)', function () {
  this.timeout(60000);
  let runtime;

  before(function () {
    runtime = createRuntime();
  });
  after(async function () {
    await runtime?.close();
  });

  it('admit: an ordered (job) stream sees its frames in decode order; a live source stretches the scan while behind and comes back, a `cadence` entry at each doubling crossed and one notice', async function () {
    const notices = [];
    const loop = runtime.frameLoop('job:cadence', { live: true, shown: 'cam', onNotice: (level, message) => notices.push({ level, message }) });
    assert.strictEqual(loop.admit({ index: 0, droppedBefore: 0, queued: 9 }), undefined, 'no stream yet (the job does not blur): nothing to pace');
    const stream = runtime.streams.open('job:cadence', { holdFrames: 8, motion: 'constant_velocity', confirmScore: 0.5, scanInterval: 0.2, lookahead: 0, ordered: true, frameSec: 0.04 }, Date.now());
    const entries = [];
    let index = 1;
    const admit = (frame) => {
      const entry = loop.admit({ index: index++, ...frame });
      if (entry) entries.push(entry);
    };
    // Behind: dropped frames, or more than 4 waiting in the decoder (4 is not behind).
    for (let i = 0; i < 4; i++) admit({ droppedBefore: 1, queued: 0 });
    assert.strictEqual(entries.length, 1, '1.25⁴ = 2.4× crosses the first doubling');
    assert.deepStrictEqual([entries[0].stage, entries[0].outcome, entries[0].ms], ['cadence', 'ok', 0]);
    assert.match(entries[0].note, /^behind the camera: tiles scanned every 0\.49 s instead of 0\.2 s/);
    for (let i = 0; i < 4; i++) admit({ droppedBefore: 0, queued: 5 });
    assert.strictEqual(entries.length, 2, 'more than 4 waiting is behind too: 6× crosses 4×');
    const widest = stream.scan.currentIntervalSec;
    admit({ droppedBefore: 0, queued: 4 });
    assert.ok(stream.scan.currentIntervalSec < widest, 'kept up with: the interval comes back');
    for (let i = 0; i < 200; i++) admit({ droppedBefore: 0, queued: 0 });
    assert.strictEqual(stream.scan.currentIntervalSec, 0.2);
    assert.deepStrictEqual(
      entries.slice(2).map((e) => e.note.split(':')[0]),
      ['keeping up again', 'keeping up again'],
    );
    assert.strictEqual(notices.length, 1, 'one notice, the first time it fell behind');
    assert.match(notices[0].message, /^video source cam: behind the camera/);
    // Ordered: frame 5 waits until the frames admitted before it were observed or finished.
    let turned = false;
    const turn = stream.turn(5).then(() => (turned = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.strictEqual(turned, false, 'frames 1…4 were admitted and not yet observed');
    for (let i = 1; i < 5; i++) loop.finish({ job_id: 'job:cadence', target: { index: i } });
    await turn;
    runtime.releaseStream('job:cadence');
  });

  it("a flow's blur on a pixel worker counts its faces in the source's privacy stream, as a job's does", async function () {
    const token = await runtime.createToken({ target: media('fr_two_people.jpg'), operations: ['detect', 'blur'], job_id: 'flow-source:blur', index: 0, pts: 0 });
    const detected = await runtime.process('detect', token, NODE);
    assert.ok(detected.faces.length >= 2, `faces found: ${detected.faces.length}`);
    const blurred = await runtime.process('blur', detected, NODE);
    assert.notStrictEqual(blurred.state, 'failed', JSON.stringify(blurred.error));
    assert.ok(runtime['workers'], 'the blur went to the runtime’s pixel worker pool');
    const figures = blurred.journal.find((j) => j.stage === 'blur').figures;
    assert.ok(figures.blurred >= 2, JSON.stringify(figures));
    const stream = runtime.streams.peek('flow-source:blur');
    assert.ok(stream, 'the source has a privacy stream');
    assert.strictEqual(stream.stats().facesBlurred, figures.blurred, 'the worker’s blur is counted once');
    runtime.release(blurred);
    runtime.releaseStream('flow-source:blur');
  });

  it('a flow on a live source paces its privacy scan like a job: stretched while the flow is behind, with a `cadence` journal entry and one notice', async function () {
    const locator = new FfmpegLocator();
    const ffmpeg = await ffmpegOrSkip(this, locator);
    const dir = tempDir('frame-loop-');
    try {
      const small = makeSmallClip(ffmpeg.path, dir); // 40 frames, 160x160, 20 fps
      const notices = [];
      // A file read as a camera (at its own rate) by a flow that takes ~150 ms a frame.
      const source = new FrameTokenSource({
        runtime,
        locator,
        input: small,
        live: true,
        inputOptions: ['-re'],
        maxReconnects: 0,
        overload: { policy: 'drop-oldest', maxQueue: 2 },
        operations: ['detect', 'blur'],
        onNotice: (level, message) => notices.push({ level, message }),
      });
      const cadence = [];
      let stream;
      let dropped = 0;
      let n = 0;
      // A live source is stopped (its end would be a lost camera).
      for await (const { token, droppedBefore } of source.tokens()) {
        dropped += droppedBefore;
        for (const entry of token.journal) if (entry.stage === 'cadence') cadence.push(entry);
        let t = await runtime.process('detect', token, NODE);
        t = await runtime.process('blur', t, NODE);
        assert.notStrictEqual(t.state, 'failed', JSON.stringify(t.error));
        stream ??= runtime.streams.peek(token.job_id);
        runtime.release(t);
        await sleep(120);
        if (++n === 16) await source.stop();
      }
      assert.ok(dropped > 0, 'the slow flow made the policy drop');
      assert.ok(stream, 'the first frame made the source’s stream');
      const stats = stream.stats();
      assert.ok(stats.scanIntervalMaxSec > 2 * stats.scanIntervalSec, `the scan was stretched: ${JSON.stringify(stats)}`);
      assert.ok(stats.framesStretchedScan > 0, JSON.stringify(stats));
      assert.ok(stats.facesBlurred > 0, 'the worker’s blurs are counted');
      assert.ok(cadence.length >= 1, 'a frame token journals the cadence');
      assert.deepStrictEqual([cadence[0].outcome, cadence[0].ms], ['ok', 0]);
      assert.match(cadence[0].note, /^behind the camera: tiles scanned every [\d.]+ s instead of 0\.2 s/);
      assert.strictEqual(notices.length, 1, JSON.stringify(notices));
      assert.match(notices[0].message, /behind the camera/);
      assert.strictEqual(runtime.streams.peek(source['pipeline'].owner), undefined, 'the stream went with the source');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
