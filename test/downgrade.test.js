'use strict';
// The downgrade policy. Under pressure (frame time over a budget, frame store
// nearly full) optional work is dropped — enhance first — with hysteresis, journalled on the
// tokens (state downgraded_for_performance), and restored when the pressure is gone. Driven by a
// real video job with a slow gfpgan-shaped enhancer graph, and by a flow.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime, createToken, DowngradePolicy, FfmpegLocator, probeMedia } = require('../dist/runtime/internal');
const { JobManager } = require('../dist/runtime');
const { writeModel } = require('./helpers/onnx-graph');
const { slowEnhancerGraph, inswapperGraph, arcfaceGraph } = require('./helpers/model-graphs');
const { helper, ourNodes } = require('./helpers/red');
const { MEDIA, media, sleep, ffmpegOrSkip, makeZoomClip, tempDir } = require('./helpers/clips');

const MB = 1024 * 1024;

/** A policy fed by hand: memory figures from `mem`, no free-memory check. */
function policyWith(options = {}, mem = { storeBytes: 0, storeBudgetBytes: 100, rssBytes: 0, freeSystemBytes: 1e12 }) {
  return new DowngradePolicy({ memory: () => mem, ...options });
}

function downgradeNotes(journal) {
  return journal.filter((j) => j.stage === 'downgrade').map((j) => j.note);
}

describe('downgrade policy', function () {
  describe('hysteresis (no video)', function () {
    it('drops one step after pressure holds for 3 frames, never for a single slow frame', function () {
      const p = policyWith({ frameBudgetMs: 40 });
      for (let i = 0; i < 30; i++) p.observe(i % 3 === 1 ? 200 : 10); // one slow frame in three
      assert.deepStrictEqual(p.dropped(), []);
      p.observe(100);
      p.observe(100);
      assert.deepStrictEqual(p.dropped(), []);
      p.observe(100);
      assert.deepStrictEqual(p.dropped(), ['enhance']);
      assert.strictEqual(p.state().reason, 'frame_budget');
      // Still over budget: after 3 more frames the next step goes (the ladder's order).
      for (let i = 0; i < 3; i++) p.observe(100);
      assert.deepStrictEqual(p.dropped(), ['enhance', 'masks']);
    });

    it('restores a step dropped for time only when the frames measured with it fit the budget (raised), after 15 calm frames', function () {
      const p = policyWith({ frameBudgetMs: 40 });
      for (let i = 0; i < 3; i++) p.observe(100);
      assert.deepStrictEqual(p.dropped(), ['enhance']);
      for (let i = 0; i < 100; i++) p.observe(10); // fast without enhance: with it, frames took 100 ms
      assert.deepStrictEqual(p.dropped(), ['enhance'], 'no flapping: enhance would not fit 40 ms');
      p.setFrameBudget(150);
      for (let i = 0; i < 14; i++) p.observe(10);
      assert.deepStrictEqual(p.dropped(), ['enhance']);
      p.observe(10);
      assert.deepStrictEqual(p.dropped(), []);
      assert.deepStrictEqual(
        p.state().transitions.map((t) => [t.action, t.step, t.reason]),
        [
          ['drop', 'enhance', 'frame_budget'],
          ['restore', 'enhance', 'frame_budget'],
        ],
      );
    });

    it('probes a time-dropped step again after probeAfterFrames, and drops it again if it still does not fit', function () {
      const p = policyWith({ frameBudgetMs: 40, probeAfterFrames: 50 });
      for (let i = 0; i < 3; i++) p.observe(100);
      for (let i = 0; i < 49; i++) p.observe(10);
      assert.deepStrictEqual(p.dropped(), ['enhance']);
      p.observe(10);
      assert.deepStrictEqual(p.dropped(), []);
      for (let i = 0; i < 3; i++) p.observe(100);
      assert.deepStrictEqual(p.dropped(), ['enhance']);
    });

    it('memory: store fill ≥ 85 % → memory_constrained; fill < 60 % for 15 frames → restored; process RSS and free memory count too', function () {
      const mem = { storeBytes: 90, storeBudgetBytes: 100, rssBytes: 0, freeSystemBytes: 1e12 };
      const p = policyWith({}, mem);
      for (let i = 0; i < 3; i++) p.observe();
      assert.deepStrictEqual([p.dropped(), p.state().reason], [['enhance'], 'memory_constrained']);
      mem.storeBytes = 70; // below the high mark, above the low one: neither drop more nor restore
      for (let i = 0; i < 40; i++) p.observe();
      assert.deepStrictEqual(p.dropped(), ['enhance']);
      mem.storeBytes = 10;
      for (let i = 0; i < 15; i++) p.observe();
      assert.deepStrictEqual(p.dropped(), []);

      const rss = { storeBytes: 0, storeBudgetBytes: 100, rssBytes: 900 * MB, freeSystemBytes: 1e12 };
      const q = policyWith({ rssLimitBytes: 800 * MB }, rss);
      for (let i = 0; i < 3; i++) q.observe();
      assert.deepStrictEqual([q.dropped(), q.state().reason], [['enhance'], 'memory_constrained']);
      const free = { storeBytes: 0, storeBudgetBytes: 100, rssBytes: 0, freeSystemBytes: 10 * MB };
      const r = policyWith({}, free);
      for (let i = 0; i < 3; i++) r.observe();
      assert.deepStrictEqual(r.dropped(), ['enhance']);
    });

    it('plans only what changes a frame, and marks tokens: state, journal (reason, steps), restore journalled once', function () {
      const p = policyWith({ frameBudgetMs: 10, ladder: ['masks', 'pixel_boost', 'enhance'] });
      for (let i = 0; i < 9; i++) p.observe(100);
      assert.deepStrictEqual(p.dropped(), ['masks', 'pixel_boost', 'enhance']);
      const params = { face_swapper_model: 'inswapper_128', face_mask_types: ['box', 'occlusion', 'region'], face_swapper_pixel_boost: 256 };
      const plan = p.plan(['detect', 'landmark', 'swap', 'enhance'], params);
      assert.deepStrictEqual(plan.stages, ['detect', 'landmark', 'swap']);
      assert.deepStrictEqual(plan.parameters, { face_swapper_model: 'inswapper_128', face_mask_types: ['box'] });
      assert.deepStrictEqual(plan.dropped, ['masks', 'pixel_boost', 'enhance']);
      assert.deepStrictEqual(p.plan(['detect', 'blur'], {}).dropped, [], 'a blur job loses nothing');
      const token = createToken({ target: { frame: 'frame:abc' }, operations: ['detect', 'swap', 'enhance'], parameters: params });
      const marked = p.mark(token, plan);
      assert.strictEqual(marked.state, 'downgraded_for_performance');
      assert.deepStrictEqual(marked.operations, ['detect', 'swap']);
      assert.deepStrictEqual(downgradeNotes(marked.journal), ['frame_budget: dropped masks, pixel_boost, enhance (budget 10 ms)']);
      assert.throws(() => new DowngradePolicy({ ladder: ['colour'] }), /unknown downgrade step "colour"/);
      // Restore enhance (budget raised): the next token with enhance journals it, the one after does not.
      const q = policyWith({ frameBudgetMs: 40 });
      for (let i = 0; i < 3; i++) q.observe(100);
      q.setFrameBudget(1000);
      for (let i = 0; i < 15; i++) q.observe(10);
      const t = createToken({ target: { frame: 'frame:abc' }, operations: ['detect', 'enhance'] });
      const first = q.mark(t, q.plan(t.operations, {}));
      assert.deepStrictEqual(downgradeNotes(first.journal), ['restored enhance: frame time back within limits']);
      assert.strictEqual(first.state, 'initialized');
      assert.deepStrictEqual(downgradeNotes(q.mark(t, q.plan(t.operations, {})).journal), []);
    });
  });

  describe('video job with a slow enhancer', function () {
    this.timeout(120000);
    let locator;
    let ffmpeg;
    let dir;
    let clip;
    let model;
    let runtime;
    let jobs;

    before(async function () {
      locator = new FfmpegLocator();
      ffmpeg = await ffmpegOrSkip(this, locator);
      dir = tempDir('downgrade-');
      clip = makeZoomClip(ffmpeg.path, { image: media('fr_biden.jpg'), output: path.join(dir, 'face.mp4'), width: 160, height: 160, frames: 36, fps: 25 });
      // ≈ 12 × 512² × 9 × 81 multiply-adds per face: 150–400 ms on one core; detect alone takes 4–15 ms.
      model = writeModel(slowEnhancerGraph({ layers: 12, kernel: 9 }), 'gfpgan_1.4.onnx');
    });
    beforeEach(function () {
      runtime = createRuntime({ device: 'cpu', threads: 1 });
      jobs = new JobManager(runtime, { locator });
    });
    afterEach(async function () {
      await jobs?.close();
      await runtime?.close();
    });
    after(function () {
      model?.cleanup();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    function runWithFrames(args, onFrame) {
      const frames = [];
      jobs.on('frame', (f) => {
        frames.push({ ...f, t: performance.now() });
        onFrame?.(f, frames);
      });
      const id = jobs.runJob(args);
      return { id, frames, done: jobs.waitForJob(id) };
    }

    it('a budget the enhancer cannot meet: frames after the first few are downgraded, every frame is written, fps recovers; raising the budget brings enhance back', async function () {
      const budget = 60;
      const output = path.join(dir, 'downgraded.mp4');
      let raisedAt;
      const run = runWithFrames({ target_path: clip, output_path: output, processors: ['face_enhancer'], face_enhancer_model: model.path, downgrade: true, frame_budget_ms: budget }, (f, frames) => {
        // Once enhance has been off for 8 frames, raise the budget above what enhance costs.
        const off = frames.filter((x) => x.state === 'downgraded_for_performance').length;
        if (raisedAt === undefined && off >= 8) {
          raisedAt = f.index;
          jobs.setFrameBudget(run.id, 60000);
        }
      });
      const info = await run.done;
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      const r = info.result;
      const frames = run.frames.sort((a, b) => a.index - b.index);
      assert.strictEqual(frames.length, 36);
      // The first frames run enhance (over budget); after 3 of them enhance is dropped.
      const firstDown = frames.findIndex((f) => f.state === 'downgraded_for_performance');
      assert.ok(firstDown >= 3 && firstDown <= 5, `first downgraded frame ${firstDown}`);
      assert.ok(frames.slice(0, 3).every((f) => f.journal.some((j) => j.stage === 'enhance' && j.outcome === 'ok')));
      const down = frames.filter((f) => f.state === 'downgraded_for_performance');
      for (const f of down) {
        assert.ok(!f.journal.some((j) => j.stage === 'enhance'), `frame ${f.index} ran enhance`);
        assert.match(downgradeNotes(f.journal)[0], /^frame_budget: dropped enhance \(budget \d+ ms\)$/);
      }
      // Raised mid-run: after 15 calm frames enhance is back, and the restore is journalled.
      assert.ok(raisedAt !== undefined);
      const back = frames.filter((f) => f.index > raisedAt && f.journal.some((j) => j.stage === 'enhance' && j.outcome === 'ok'));
      assert.ok(back.length > 0, 'enhance came back after the budget was raised');
      const restored = frames.filter((f) => downgradeNotes(f.journal).some((n) => /^restored enhance/.test(n)));
      assert.strictEqual(restored.length, 1, 'the restore is journalled once');
      assert.ok(restored[0].index >= back[0].index - 1);
      assert.deepStrictEqual(
        r.downgrades.map((d) => [d.action, d.step, d.reason]),
        [
          ['drop', 'enhance', 'frame_budget'],
          ['restore', 'enhance', 'frame_budget'],
        ],
      );
      assert.strictEqual(r.framesDowngraded, down.length);
      assert.ok(down.length >= 8);
      // Every frame written.
      assert.strictEqual(r.frames, 36);
      const probed = await probeMedia(locator, output, { countFrames: true });
      assert.strictEqual(probed.frameCount, 36);
      // The time of a downgraded frame is that of a frame without enhance (detect only), far below enhance's.
      const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const enhancedMs = mean(frames.slice(0, 3).map((f) => f.ms));
      const downMs = mean(down.slice(2).map((f) => f.ms));
      assert.ok(downMs < budget, `downgraded frames take ${downMs.toFixed(0)} ms, budget ${budget}`);
      assert.ok(downMs * 3 < enhancedMs, `downgraded ${downMs.toFixed(0)} ms vs enhanced ${enhancedMs.toFixed(0)} ms`);
      // fps recovers to the no-enhance rate: the same clip with detect only.
      const plain = runWithFrames({ target_path: clip, output_path: path.join(dir, 'plain.mp4'), processors: ['face_detector'] });
      await plain.done;
      const plainMs = mean(
        plain.frames
          .filter((f) => f.jobId === plain.id)
          .slice(2)
          .map((f) => f.ms),
      );
      assert.ok(downMs < plainMs * 2 + 15, `downgraded ${downMs.toFixed(1)} ms vs no enhance ${plainMs.toFixed(1)} ms`);
      assert.strictEqual(runtime.stats().store.frames, 0);
    });

    it('memory: a frame store nearly full triggers memory_constrained the same way', async function () {
      // A video job's frames are YUV 4:2:0: 160×160 = 37.5 KB a frame. When a frame is done, it and
      // its enhanced copy (75 KB) fill an 87 KB store to 86 %, over the 85 % mark; without enhance it is 43 %.
      await runtime.close();
      runtime = createRuntime({ device: 'cpu', threads: 1, frameBudgetBytes: 87 * 1024 });
      jobs = new JobManager(runtime, { locator, framesInFlight: 2 });
      const run = runWithFrames({ target_path: clip, output_path: path.join(dir, 'memory.mp4'), processors: ['face_enhancer'], face_enhancer_model: model.path, downgrade: true });
      const info = await run.done;
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      assert.strictEqual(info.result.frames, 36);
      assert.ok(info.result.framesDowngraded > 0, JSON.stringify(info.result));
      assert.strictEqual(info.result.downgrades[0].reason, 'memory_constrained');
      const down = run.frames.filter((f) => f.state === 'downgraded_for_performance');
      assert.ok(down.length > 0);
      assert.match(downgradeNotes(down[0].journal)[0], /^memory_constrained: dropped enhance$/);
    });

    it('without downgrade nothing is dropped (the default)', async function () {
      const run = runWithFrames({ target_path: clip, output_path: path.join(dir, 'kept.mp4'), processors: ['face_detector'], frame_budget_ms: 1 });
      const info = await run.done;
      assert.strictEqual(info.state, 'completed');
      assert.deepStrictEqual([info.result.framesDowngraded, info.result.downgrades], [0, []]);
      assert.ok(run.frames.every((f) => f.state !== 'downgraded_for_performance'));
    });
  });

  describe('flow: face-video-in → detect → face enhance → face-video-out, runtime set to downgrade', function () {
    this.timeout(120000);
    const videoNodes = ['face-video-in', 'face-video-out'].map((t) => require(`../dist/nodes/${t}.js`));
    let dir;
    let clip;
    let model;

    before(async function () {
      const locator = new FfmpegLocator();
      const ffmpeg = await ffmpegOrSkip(this, locator);
      dir = tempDir('downgrade-flow-');
      clip = makeZoomClip(ffmpeg.path, { image: media('fr_biden.jpg'), output: path.join(dir, 'face.mp4'), width: 160, height: 160, frames: 30, fps: 25 });
      model = writeModel(slowEnhancerGraph({ layers: 12, kernel: 9 }), 'gfpgan_1.4.onnx');
    });
    before(function (done) {
      helper.startServer(done);
    });
    after(function (done) {
      helper.stopServer(done);
    });
    afterEach(async function () {
      await helper.unload();
    });
    after(function () {
      model?.cleanup();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('enhance is dropped under the frame budget (status "downgraded: frame time (n)"), every frame written, and comes back when the budget is raised', async function () {
      const output = path.join(dir, 'flow.mp4');
      const flow = [
        { id: 'tab', type: 'tab', label: 'test' },
        {
          id: 'cfg',
          type: 'facefusion-config',
          device: 'cpu',
          threads: 1,
          frameBudgetMB: 64,
          tokenTtl: 300,
          allowedFolders: [os.tmpdir(), MEDIA].join('\n'),
          overload: 'downgrade',
          frameBudgetMs: 40,
        },
        { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source: clip, maxInFlight: 1, wires: [['det'], ['out']] },
        { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['enh']] },
        { id: 'enh', z: 'tab', type: 'face-enhance', config: 'cfg', model: model.path, queueSize: 40, wires: [['out', 'seen']] },
        { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output, preset: 'ultrafast', endTimeout: 10, wires: [['summary']] },
        { id: 'seen', z: 'tab', type: 'helper' },
        { id: 'summary', z: 'tab', type: 'helper' },
      ];
      await helper.load([...ourNodes, ...videoNodes], flow);
      const config = helper.getNode('cfg');
      await config.ready;
      const enh = helper.getNode('enh');
      const statuses = [];
      const status = enh.status.bind(enh);
      enh.status = (s) => {
        statuses.push(s.text || '');
        return status(s);
      };
      const seen = [];
      helper.getNode('seen').on('input', (msg) => {
        seen.push(msg.payload);
        const off = seen.filter((t) => t.state === 'downgraded_for_performance').length;
        if (off === 6) config.runtime.downgrade.setFrameBudget(60000);
      });
      const summary = new Promise((resolve) => helper.getNode('summary').once('input', resolve));
      helper.getNode('in').receive({ payload: 1 });
      const result = (await summary).payload;
      assert.strictEqual(result.frames, 30);
      const down = seen.filter((t) => t.state === 'downgraded_for_performance');
      assert.ok(
        down.length >= 6,
        `${down.length} downgraded; ${JSON.stringify(config.runtime.downgrade.state())}; ${seen.map((t) => t.journal.map((j) => `${j.stage}:${j.ms}`).join(' ')).join(' | ')}`,
      );
      assert.strictEqual(result.downgraded, down.length);
      const firstDown = seen.findIndex((t) => t.state === 'downgraded_for_performance');
      assert.ok(firstDown >= 3 && firstDown <= 5, `first downgraded token ${firstDown}`);
      for (const t of down) {
        assert.ok(!t.journal.some((j) => j.stage === 'enhance'));
        assert.match(downgradeNotes(t.journal)[0], /^frame_budget: dropped enhance/);
      }
      assert.ok(
        statuses.some((s) => /^downgraded: frame time \(\d+\)$/.test(s)),
        statuses.join(' | '),
      );
      const restored = seen.findIndex((t) => downgradeNotes(t.journal).some((n) => /^restored enhance/.test(n)));
      assert.ok(restored > firstDown, 'the restore is journalled');
      assert.ok(
        seen[restored].journal.some((j) => j.stage === 'enhance' && j.outcome === 'ok'),
        'enhance ran again',
      );
      const probed = await probeMedia(new FfmpegLocator(), output, { countFrames: true });
      assert.strictEqual(probed.frameCount, 30);
      await sleep(50);
      assert.strictEqual(config.runtime.stats().store.frames, 0);
    });

    it('a model face swap under pressure leaves out its pixel boost (third step of the ladder), journalled, and says so on its status', async function () {
      const models = tempDir('downgrade-models-');
      fs.writeFileSync(path.join(models, 'inswapper_128.onnx'), require('./helpers/onnx-graph').buildModel(inswapperGraph()));
      fs.writeFileSync(path.join(models, 'arcface_w600k_r50.onnx'), require('./helpers/onnx-graph').buildModel(arcfaceGraph()));
      try {
        const flow = [
          { id: 'tab', type: 'tab', label: 'test' },
          {
            id: 'cfg',
            type: 'facefusion-config',
            device: 'cpu',
            threads: 1,
            frameBudgetMB: 64,
            tokenTtl: 300,
            allowedFolders: [os.tmpdir(), MEDIA].join('\n'),
            overload: 'downgrade',
            frameBudgetMs: 1,
          },
          { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', source: media('fr_obama.jpg'), wires: [['det']] },
          { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['swap']] },
          { id: 'swap', z: 'tab', type: 'face-swap', config: 'cfg', model: path.join(models, 'inswapper_128.onnx'), pixelBoost: '256', wires: [['got']] },
          { id: 'got', z: 'tab', type: 'helper' },
        ];
        await helper.load(ourNodes, flow);
        const config = helper.getNode('cfg');
        await config.ready;
        const swap = helper.getNode('swap');
        const statuses = [];
        const status = swap.status.bind(swap);
        swap.status = (st) => {
          statuses.push(st.text || '');
          return status(st);
        };
        // Frames far over the 1 ms budget: enhance, then masks, then pixel boost are dropped (3 frames each).
        for (let i = 0; i < 9; i++) config.runtime.downgrade.observe(500);
        assert.deepStrictEqual(config.runtime.downgrade.dropped(), ['enhance', 'masks', 'pixel_boost']);
        const got = new Promise((resolve) => helper.getNode('got').once('input', resolve));
        helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_biden.jpg')) });
        const token = (await got).payload;
        assert.strictEqual(token.state, 'downgraded_for_performance');
        assert.strictEqual(token.parameters.face_swapper_pixel_boost, undefined);
        assert.deepStrictEqual(downgradeNotes(token.journal), ['frame_budget: dropped pixel_boost (budget 1 ms)']);
        assert.deepStrictEqual(token.journal.at(-1).stage, 'swap');
        assert.strictEqual(token.journal.at(-1).outcome, 'ok');
        assert.strictEqual(statuses.at(-1), 'downgraded: frame time (1)');
        config.runtime.release(token);
      } finally {
        fs.rmSync(models, { recursive: true, force: true });
      }
    });
  });
});
