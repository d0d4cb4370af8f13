'use strict';
// The privacy stream of a video source: face tracks (held, interpolated, placed back with
// look-ahead), the rolling scan, frame order; state per source, released when the source ends.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime, JobManager } = require('../dist/runtime');
const { FaceTracks, FaceStream, FaceStreamRegistry, RollingScan, planScan, FfmpegLocator, FrameTokenSource } = require('../dist/runtime/internal');
const lib = require('../bench/privacy-lib');

const face = (bbox) => ({ bbox, score: 0.9 });

describe('temporal privacy state of a video source', function () {
  this.timeout(180000);

  describe('FaceTracks', function () {
    const opts = (o = {}) => ({ holdFrames: 3, motion: 'constant_velocity', confirmScore: 0.6, ...o });
    const regions = (t, i, lookahead = 0) => t.regions(i, 1000, 1000, lookahead);

    it('constant velocity: a face not detected stays, moved along its motion, for holdFrames frames, growing, then goes', function () {
      const t = new FaceTracks(opts());
      for (let i = 0; i < 5; i++) {
        t.observe(i, [face([100 + 10 * i, 50, 140 + 10 * i, 90])], 0);
        assert.deepStrictEqual(regions(t, i), [], 'sighted in its own frame: nothing to add');
      }
      const [held] = regions(t, 5);
      assert.strictEqual(held.face.held, 1);
      assert.strictEqual(held.face.score, 0);
      // Last seen at x 140..180; one frame on at 10 px a frame, grown a little.
      const cx = (held.face.bbox[0] + held.face.bbox[2]) / 2;
      assert.ok(Math.abs(cx - 170) < 1, `centre ${cx}`);
      assert.ok(held.face.bbox[2] - held.face.bbox[0] > 40);
      t.observe(5, [], 0);
      assert.strictEqual(regions(t, 7)[0].face.held, 3);
      const grown = regions(t, 7)[0].face.bbox;
      assert.ok(grown[2] - grown[0] > held.face.bbox[2] - held.face.bbox[0], 'the further from a sighting, the larger');
      assert.deepStrictEqual(regions(t, 8), [], 'gone after holdFrames');
    });

    it('between two sightings a face is interpolated; with look-ahead it is placed before its first sighting, back along its motion', function () {
      const t = new FaceTracks(opts({ holdFrames: 12 }));
      t.observe(0, [face([0, 0, 40, 40])], 0);
      // 5 px a frame, seen again six frames later (the rolling scan's cycle at 25 fps).
      t.observe(6, [face([30, 0, 70, 40])], 0);
      assert.strictEqual(t.size, 1, 'the same face');
      assert.strictEqual(regions(t, 3, 0)[0].before, false, 'without look-ahead frame 3 only knows the sighting before it');
      const [mid] = regions(t, 3, 3);
      assert.ok(Math.abs((mid.face.bbox[0] + mid.face.bbox[2]) / 2 - 35) < 1, JSON.stringify(mid));
      // A new face first sighted at frame 10 and again at 12, moving 5 px a frame.
      const u = new FaceTracks(opts({ holdFrames: 12 }));
      u.observe(10, [face([200, 0, 240, 40])], 0);
      u.observe(12, [face([210, 0, 250, 40])], 0);
      assert.deepStrictEqual(regions(u, 7, 0), [], 'no look-ahead: nothing before the first sighting');
      const [before] = regions(u, 7, 5);
      assert.strictEqual(before.before, true);
      assert.ok(Math.abs((before.face.bbox[0] + before.face.bbox[2]) / 2 - 205) < 1, JSON.stringify(before));
    });

    it('a face entering a pan, boxed with a jitter of a few pixels: placed before its first sighting by the motion of its first sightings together, not of the first two alone', function () {
      // The scene pans 4 px a frame to the left; the face enters at the right side of a 1000 px
      // frame and is first sighted at frame 20, its boxes jittering by ±4 px (as a detector's do).
      const t = new FaceTracks(opts({ holdFrames: 12 }));
      const jitter = [4, -4, 3, -3, 4, -4, 2, -2, 3, -3];
      const truth = (i) => 1000 - 4 * (i - 10); // the face's left side in frame i (fully in from frame 12)
      for (let i = 20; i < 30; i++) t.observe(i, [face([truth(i) + jitter[i - 20], 100, truth(i) + jitter[i - 20] + 50, 150])], 0);
      for (let i = 12; i < 20; i++) {
        const [r] = t.regions(i, 1000, 1000, 25);
        assert.ok(r && r.before, `frame ${i}: placed before the first sighting`);
        // The part of the face inside the frame is covered (to within the jitter).
        const x1 = truth(i),
          x2 = Math.min(1000, truth(i) + 50);
        assert.ok(r.face.bbox[0] <= x1 + 3 && r.face.bbox[2] >= x2 - 3, `frame ${i}: face ${x1}..${x2}, mask ${r.face.bbox}`);
      }
    });

    it('static motion keeps the last box; a detection again continues the track; a face sighted twice apart is matched by its centre', function () {
      const t = new FaceTracks(opts({ holdFrames: 5, motion: 'static' }));
      t.observe(0, [face([0, 0, 40, 40])], 0);
      t.observe(1, [face([10, 0, 50, 40])], 0);
      assert.deepStrictEqual(regions(t, 2)[0].face.bbox.map(Math.round), [9, 0, 51, 41]);
      t.observe(3, [face([12, 0, 52, 40])], 0);
      assert.strictEqual(t.size, 1, 'one track');
      // 30 px apart after five frames (IoU below 0.2): the same face by its centre.
      t.observe(8, [face([42, 0, 82, 40])], 0);
      assert.strictEqual(t.size, 1);
      assert.strictEqual(t.started, 1);
    });

    it("only sure faces are held: a low-score detection seen once is not, the same seen twice is; confirms() knows a sure track's face", function () {
      // Away from the frame's sides (a face at a side, entering or leaving the view, is sure at once).
      const low = (x) => ({ bbox: [300 + x, 300, 340 + x, 340], score: 0.5 });
      const t = new FaceTracks(opts({ holdFrames: 5, motion: 'static' }));
      t.observe(0, [low(0)], 0);
      assert.deepStrictEqual(regions(t, 1), [], 'a flicker at 0.5 is not held');
      assert.strictEqual(t.confirms(1, [300, 300, 340, 340]), false);
      t.observe(1, [low(1)], 0);
      assert.strictEqual(regions(t, 2).length, 1, 'twice makes it sure');
      assert.strictEqual(t.confirms(2, [301, 300, 341, 340]), true);
      const edge = new FaceTracks(opts({ holdFrames: 5, motion: 'static' }));
      edge.observe(0, [{ bbox: [0, 300, 30, 340], score: 0.5 }], 0);
      assert.strictEqual(regions(edge, 1).length, 1, "at the frame's side one low sighting is enough");
      assert.strictEqual(t.observe(0, [], 0).late, true, 'a frame older than the newest does not move the tracks');
    });
  });

  describe('RollingScan and FaceStream', function () {
    const plan = planScan(1280, 720, { input: { width: 320, height: 240 }, minFace: 16 }, 20);

    it('the whole plan on the first frame, then a share of the tiles a frame so that every tile is scanned within the interval, paid by time', function () {
      const scan = new RollingScan(0.2);
      const first = scan.select(plan, 0);
      assert.strictEqual(first.full, true);
      assert.strictEqual(first.tiles.length, 12);
      const last = new Array(12).fill(0);
      let counts = [];
      for (let i = 1; i <= 100; i++) {
        const pts = i / 25;
        const s = scan.select(plan, pts);
        counts.push(s.tiles.length);
        for (const t of s.tiles) last[t] = pts;
        assert.ok(Math.max(...last.map((p) => pts - p)) <= 0.2 + 0.04 + 1e-9, `frame ${i}: a tile waited ${Math.max(...last.map((p) => pts - p))} s`);
        assert.strictEqual(scan.covers(pts, 0.04), true);
      }
      assert.ok(Math.max(...counts) <= 3 && Math.min(...counts) >= 2, `2–3 tiles a frame at 25 fps: ${counts.join(',')}`);
      // After 8 dropped frames (a live source under overload) the next frame scans what fell due.
      const after = scan.select(plan, 5 + 9 / 25 - 1 / 25 + 0.32);
      assert.ok(after.tiles.length >= 8, `${after.tiles.length} tiles after a gap`);
      // 5 fps: a full scan every frame.
      const slow = new RollingScan(0.2);
      slow.select(plan, 0);
      assert.strictEqual(slow.select(plan, 0.2).tiles.length, 12);
      assert.strictEqual(new RollingScan(0).select(plan, 1).full, true, 'interval 0: the whole plan every frame');
    });

    it("a live source that falls behind: the interval stretches (at most 8×), a frame after a gap scans one frame's share, the tracks hold two stretched cycles; it comes back once the job keeps up", function () {
      const stream = new FaceStream({ holdFrames: 8, motion: 'constant_velocity', confirmScore: 0.6, scanInterval: 0.2, lookahead: 0, ordered: true, frameSec: 0.04 }, 0);
      stream.selection(plan, 0, 0);
      assert.strictEqual(stream.tracks.options.holdFrames, 12, 'two cycles of 5 frames, plus two');
      let changes = 0;
      for (let i = 0; i < 20; i++) if (stream.pace(true)) changes++;
      assert.ok(changes > 0);
      assert.strictEqual(stream.scan.currentIntervalSec, 1.6, 'stretched to 8 × 0.2 s and no further');
      assert.strictEqual(stream.tracks.options.holdFrames, 82, 'held for two stretched cycles (40 frames each), plus two');
      // A frame after 8 dropped ones: one frame's share of the stretched cadence, not what fell due.
      const after = stream.selection(plan, 9, 9 * 0.04);
      assert.ok(after.tiles.length <= 1, `${after.tiles.length} tiles after a gap`);
      for (let i = 0; i < 200; i++) stream.pace(false);
      assert.strictEqual(stream.scan.currentIntervalSec, 0.2, 'back to the promised interval');
      assert.strictEqual(stream.tracks.options.holdFrames, 12);
      const stats = stream.stats();
      assert.strictEqual(stats.scanIntervalSec, 0.2);
      assert.strictEqual(stats.scanIntervalMaxSec, 1.6);
      assert.strictEqual(stats.framesStretchedScan, 1);
      // A file job is never paced: its frames all come, and the scan keeps the promised interval.
      const file = new RollingScan(0.2);
      file.select(plan, 0);
      assert.ok(file.select(plan, 0.36).tiles.length >= 8, 'a file frame after a gap scans what fell due');
      stream.release();
    });

    it('an ordered stream: a frame is observed after the one before it (or its finish); with look-ahead its masks wait for the frames after it, or the end', async function () {
      const stream = new FaceStream({ holdFrames: 8, motion: 'constant_velocity', confirmScore: 0.6, scanInterval: 0.2, lookahead: 2, ordered: true, frameSec: 0.04 }, 0);
      for (let i = 0; i < 6; i++) stream.admit(i);
      const order = [];
      const one = stream.observe(1, []).then(() => order.push(1));
      await new Promise((r) => setTimeout(r, 20));
      assert.deepStrictEqual(order, [], 'frame 1 waits for frame 0');
      await stream.observe(0, [face([0, 0, 40, 40])]).then(() => order.push(0));
      await one;
      assert.deepStrictEqual(order, [0, 1]);
      let masked;
      const masks1 = stream.masks(1, 100, 100).then((m) => (masked = m));
      await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(masked, undefined, 'frame 1 waits until frame 3 was observed');
      stream.finish(2);
      await stream.observe(3, [face([6, 0, 46, 40])]);
      await masks1;
      assert.strictEqual(masked.faces.length, 1, 'interpolated between frames 0 and 3');
      assert.strictEqual(await stream.masks(1, 100, 100), masked, 'asking again gives the same answer');
      const masks5 = stream.masks(5, 100, 100);
      stream.finish(4);
      stream.end();
      assert.ok(Array.isArray((await masks5).faces), 'the end lets the last frames go');
      const stats = stream.stats();
      assert.strictEqual(stats.lookaheadFrames, 2);
      stream.release();
    });

    it("the source's end does not cut a frame's look-ahead short: its masks still wait for the frames admitted before the end (the answer never depends on timing)", async function () {
      const stream = new FaceStream({ holdFrames: 8, motion: 'constant_velocity', confirmScore: 0.6, scanInterval: 0.2, lookahead: 4, ordered: true, frameSec: 0.04 }, 0);
      for (let i = 0; i < 4; i++) stream.admit(i);
      await stream.observe(0, [face([0, 0, 40, 40])]);
      await stream.observe(1, []);
      let masked;
      const masks1 = stream.masks(1, 100, 100).then((m) => (masked = m));
      stream.end(); // the decoder is done; frames 2 and 3 are still being detected
      await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(masked, undefined, 'frame 1 waits for frames 2 and 3 although the source ended');
      await stream.observe(2, []);
      stream.finish(3);
      await masks1;
      assert.strictEqual(masked.faces.length, 1, 'held from frame 0');
      const released = new FaceStream({ holdFrames: 8, motion: 'static', confirmScore: 0.6, scanInterval: 0.2, lookahead: 4, ordered: true, frameSec: 0.04 }, 0);
      released.admit(0);
      released.admit(1);
      const waiting = released.masks(0, 100, 100);
      released.release();
      assert.ok(Array.isArray((await waiting).faces), 'a released stream lets every frame go at once');
      stream.release();
    });

    it('the registry drops a stream on release and after idling longer than its limit; the runtime clears it on close', async function () {
      const reg = new FaceStreamRegistry(1000);
      const o = { holdFrames: 3, motion: 'static', confirmScore: 0.6, scanInterval: 0.2, lookahead: 0, ordered: false };
      reg.get('a', o, 0);
      reg.get('b', o, 0);
      assert.strictEqual(reg.size, 2);
      assert.strictEqual(reg.release('a'), true);
      reg.get('c', o, 5000);
      assert.strictEqual(reg.size, 1, 'b idled out');
      reg.release('c', 5000);
      const late = reg.get('c', o, 5100);
      assert.strictEqual(reg.size, 0, 'a frame of an ended source leaves nothing behind');
      assert.ok(late instanceof FaceStream);
      const rt = createRuntime({ sweepIntervalMs: 0 });
      rt.streams.get('x', o, Date.now());
      await rt.close();
      assert.strictEqual(rt.streams.size, 0);
    });
  });

  describe('on a clip with a face the detector misses for 7 frames', function () {
    let rt, dir, clip;
    before(async function () {
      rt = createRuntime({ sweepIntervalMs: 0 });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-hold-'));
      clip = await lib.makeDegradedClip(dir);
    });
    after(async function () {
      await rt.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('live source: without hold the 7 degraded frames leak; with the default hold none does, the journal says held, and the tracks go when the source ends', async function () {
      const none = await lib.leakCount(rt, clip, { blur_hold_frames: 0 });
      assert.deepStrictEqual(none.leaked, clip.degraded, 'the detector misses exactly the degraded frames');
      const held = await lib.leakCount(rt, clip, {});
      assert.deepStrictEqual(held.leaked, [], 'no frame shows the face');
      assert.deepStrictEqual(held.held, clip.degraded, 'the degraded frames are masked by held regions');
      assert.strictEqual(held.tracksDuring, 1);
      assert.strictEqual(held.tracksAfter, 0, 'released when the source ended');
      assert.strictEqual(rt.stats().store.frames, 0);
    });

    it('the journal of a held frame says the region was held, not seen', async function () {
      const source = new FrameTokenSource({ runtime: rt, locator: new FfmpegLocator(), input: clip.file, operations: ['detect', 'blur'] });
      const notes = [];
      for await (const item of source.tokens()) {
        const out = await rt.run(item.token);
        notes[item.index] = out.journal.find((j) => j.stage === 'blur').note;
        rt.release(out);
      }
      assert.match(notes[clip.degraded[0]], /1 face gaussian \(1 held, not seen\)/);
      assert.doesNotMatch(notes[0], /held/);
    });

    it('a source stopped part way releases its tracks', async function () {
      const source = new FrameTokenSource({ runtime: rt, locator: new FfmpegLocator(), input: clip.file, operations: ['detect', 'blur'] });
      let n = 0;
      for await (const item of source.tokens()) {
        rt.release(await rt.run(item.token));
        if (++n === 5) {
          assert.strictEqual(rt.streams.size, 1);
          await source.stop();
        }
      }
      assert.strictEqual(rt.streams.size, 0);
    });

    it('video job with a pixel worker: the hold runs on the main thread, the blur in the worker; no degraded frame leaks; tracks released', async function () {
      const locator = new FfmpegLocator();
      const jobs = new JobManager(rt, { locator, progressIntervalMs: 0, pixelWorkers: 1 });
      const output = path.join(dir, 'held.mp4');
      try {
        const info = await jobs.waitForJob(jobs.runJob({ target_path: clip.file, output_path: output, processors: ['face_blur'], quality: 100, keep_audio: false, preset: 'ultrafast' }));
        assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      } finally {
        await jobs.close();
      }
      assert.strictEqual(rt.streams.size, 0, 'the job released its tracks');
      const leaked = await lib.leakedInOutput(clip, output);
      assert.deepStrictEqual(leaked.frames, [], `detail out/in ${leaked.ratios.map((d) => d.toFixed(1)).join(' ')}`);
    });

    it('video job blurring everyone except another person (detect → embed → blur): the degraded frames are held too', async function () {
      const jobs = new JobManager(rt, { progressIntervalMs: 0 });
      const output = path.join(dir, 'held-except.mp4');
      try {
        const info = await jobs.waitForJob(
          jobs.runJob({
            target_path: clip.file,
            output_path: output,
            processors: ['face_blur'],
            blur_except_paths: [lib.mediaPath('fr_biden.jpg')],
            quality: 100,
            keep_audio: false,
            preset: 'ultrafast',
          }),
        );
        assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
        assert.deepStrictEqual(info.stages, ['detect', 'embed', 'blur']);
      } finally {
        await jobs.close();
      }
      assert.strictEqual(rt.streams.size, 0);
      const leaked = await lib.leakedInOutput(clip, output);
      assert.deepStrictEqual(leaked.frames, [], `detail out/in ${leaked.ratios.map((d) => d.toFixed(1)).join(' ')}`);
    });
  });
});

describe('temporal hold in a Node-RED flow', function () {
  this.timeout(120000);
  const { helper, allNodes, nextMessage } = require('./helpers/red');
  let dir, clip;
  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-hold-red-'));
    clip = await lib.makeDegradedClip(dir);
    await new Promise((resolve) => helper.startServer(resolve));
  });
  after(async function () {
    await new Promise((resolve) => helper.stopServer(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async function () {
    await helper.unload();
  });

  for (const withEmbed of [false, true])
    it(`face-detect (No face: pass) →${withEmbed ? ' face-embed →' : ''} face-blur: the frames where no face is found are still masked by the held region`, async function () {
      await helper.load(allNodes, [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'auto', threads: 0, modelsDir: '', frameBudgetMB: 256, tokenTtl: 300 },
        { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [[withEmbed ? 'emb' : 'blur']] },
        { id: 'emb', z: 'tab', type: 'face-embed', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['blur']] },
        { id: 'blur', z: 'tab', type: 'face-blur', config: 'cfg', onNoFace: 'pass', queueSize: 10, ...(withEmbed ? { except: lib.mediaPath('fr_biden.jpg') } : {}), wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ]);
      const config = helper.getNode('cfg');
      await config.ready;
      const runtime = config.runtime;
      // The tokens face-video-in sends (job_id = the source, index = the frame).
      const source = new FrameTokenSource({ runtime, locator: new FfmpegLocator(), input: clip.file, operations: ['detect', 'blur'] });
      const leaked = [];
      const held = [];
      for await (const item of source.tokens()) {
        const before = runtime.frame(item.token.target.frame);
        const got = nextMessage(helper.getNode('out'));
        helper.getNode('det').receive({ payload: item.token });
        const msg = await got;
        const after = runtime.frame(msg.payload.target.frame);
        if (lib.countCovered(before, after, [clip.boxes[item.index]]).covered === 0) leaked.push(item.index);
        if (/held/.test(msg.payload.journal.at(-1).note || '')) held.push(item.index);
        runtime.release(msg.payload);
      }
      assert.deepStrictEqual(leaked, []);
      assert.deepStrictEqual(held, clip.degraded);
      assert.strictEqual(runtime.streams.size, 0, 'released when the source ended');
    });
});
