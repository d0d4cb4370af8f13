'use strict';
// Hostile or broken messages: each of the ten measured cases as a test asserting the
// refusal or the bound. Times are generous bounds (this suite shares a small machine), not
// benchmarks: bench/hostile.js prints the figures. Every test also checks that the frame store
// never went over its budget (peakBytes <= budgetBytes).
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const sharp = require('sharp');
const { createRuntime, matchFaces, FrameStore, FfmpegLocator, VideoEncoder } = require('../dist/runtime/internal');
const { JobManager } = require('../dist/runtime');
const { helper, allNodes, nextMessage, sink } = require('./helpers/red');
const { MEDIA, media } = require('./helpers/fixtures');
const { ffmpegOrSkip, tempDir } = require('./helpers/clips');
const { measureLag, leastLag } = require('./helpers/lag');
const { sleep, until } = require('./helpers/wait');

const hasCode = (code) => (e) => e && e.code === code;
/**
 * The longest the event loop may be blocked while a hostile message is processed.
 * Checked on `blockMs` of test/helpers/lag.js: the smaller of the longest timer gap and the loop's
 * active time, so time the OS gives other processes on a shared machine does not count.
 */
const BLOCK_BOUND_MS = 100;

function assertBudgetHeld(runtime) {
  const s = runtime.store.stats();
  assert.ok(s.peakBytes <= s.budgetBytes, `store peak ${s.peakBytes} > budget ${s.budgetBytes}`);
}

/** A small WebP of a large uniform picture (a few hundred bytes for a few megapixels). */
function bigWebp(side) {
  return sharp({ create: { width: side, height: side, channels: 3, background: { r: 120, g: 90, b: 80 } } })
    .webp({ lossless: true })
    .toBuffer();
}

/** `n` face boxes side by side on a grid over a `side`² frame, each `size` px. */
function gridFaces(n, side, size) {
  const per = Math.ceil(Math.sqrt(n));
  const step = (side - size) / Math.max(1, per - 1);
  return Array.from({ length: n }, (_, i) => {
    const x = Math.round((i % per) * step),
      y = Math.round(Math.floor(i / per) * step);
    return { bbox: [x, y, x + size, y + size], score: 0.9 };
  });
}

/** The token as it would arrive in a message (plain JSON), with fields replaced. */
const forged = (token, patch) => JSON.parse(JSON.stringify({ ...token, ...patch }));

describe('hostile messages', function () {
  this.timeout(120000);

  describe('runtime', function () {
    let runtime;
    beforeEach(function () {
      runtime = createRuntime({ sweepIntervalMs: 0, frameBudgetBytes: 64 * 1024 * 1024, storeWaitMs: 300 });
    });
    afterEach(async function () {
      assertBudgetHeld(runtime);
      await runtime.close();
    });

    it('case 3: refs are random (128 bits) and a token names only frames of its own request (E_FRAME_MISSING, same answer whether the frame exists)', async function () {
      const jpeg = fs.readFileSync(media('fr_biden.jpg'));
      const mine = await runtime.createToken({ target: jpeg, operations: [] });
      const victim = await runtime.createToken({ target: jpeg, operations: [] });
      // No shared prefix, no counter: 22 base64url characters = 128 bits.
      for (const ref of [mine.target.frame, victim.target.frame]) assert.match(ref, /^frame:[A-Za-z0-9_-]{22}$/);
      const refs = new Set(Array.from({ length: 200 }, () => runtime.store.put({ width: 1, height: 1, channels: 3, data: new Uint8Array(3) })));
      assert.strictEqual(refs.size, 200);
      const prefixes = new Set([...refs].map((r) => r.slice(0, 10)));
      assert.ok(prefixes.size > 190, 'refs share no common prefix');
      runtime.store.releaseMany(refs);

      const stolen = forged(mine, { target: { ...mine.target, frame: victim.target.frame } });
      const missing = forged(mine, { target: { ...mine.target, frame: 'frame:AAAAAAAAAAAAAAAAAAAAAA' } });
      const errors = [stolen, missing].map((t) => {
        try {
          runtime.acceptToken(t);
          return undefined;
        } catch (e) {
          return e;
        }
      });
      for (const e of errors) assert.ok(hasCode('E_FRAME_MISSING')(e), String(e));
      assert.strictEqual(errors[0].message.replace(victim.target.frame, 'REF'), errors[1].message.replace('frame:AAAAAAAAAAAAAAAAAAAAAA', 'REF'), 'the answer does not tell whether the frame exists');
      // A source of another request is refused the same way; the victim's frames are untouched.
      assert.throws(() => runtime.acceptToken(forged(mine, { source: { frame: victim.target.frame } })), hasCode('E_FRAME_MISSING'));
      assert.ok(runtime.store.has(victim.target.frame));
      assert.strictEqual(runtime.acceptToken(forged(mine, {})).target.frame, mine.target.frame, 'its own frames still pass');
      runtime.release(mine);
      runtime.release(victim);
    });

    it("case 4: the runtime TTL caps a token's expires_at, so derived frames are swept on time", async function () {
      const ttl = createRuntime({ sweepIntervalMs: 0, tokenTtlMs: 2000 });
      try {
        const token = await ttl.createToken({ target: fs.readFileSync(media('fr_biden.jpg')), operations: [] });
        const accepted = ttl.acceptToken(forged(token, { expires_at: '9999-12-31T23:59:59.000Z', faces: [{ bbox: [10, 10, 60, 60], score: 0.9 }] }));
        assert.ok(Date.parse(accepted.expires_at) <= Date.now() + 2000, accepted.expires_at);
        const out = await ttl.process('blur', accepted, { force: true });
        assert.strictEqual(out.state, 'running', JSON.stringify(out.error));
        assert.notStrictEqual(out.target.frame, token.target.frame);
        assert.strictEqual(ttl.store.sweep(Date.now() + 2100), 2, 'the target and the derived frame expire with the runtime TTL');
        assert.strictEqual(ttl.store.stats().frames, 0);
      } finally {
        await ttl.close();
      }
    });

    it('case 2: decompression bombs (8 × 8000² WebP at once, 512 MiB budget) are refused with E_STORE_FULL; peak ≤ budget; RSS < 1 GB', async function () {
      const script = path.join(__dirname, 'helpers', 'hostile-bombs.js');
      const started = performance.now();
      const out = await new Promise((resolve, reject) =>
        execFile(process.execPath, [script], { timeout: 90000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))),
      );
      const figures = JSON.parse(out.trim().split('\n').pop());
      assert.strictEqual(figures.created, 2, JSON.stringify(figures));
      assert.strictEqual(figures.refused, 6, JSON.stringify(figures));
      assert.deepStrictEqual(figures.codes, ['E_STORE_FULL']);
      assert.ok(figures.peakBytes <= figures.budgetBytes, JSON.stringify(figures));
      assert.ok(figures.rssMaxBytes < 1024 ** 3, `RSS ${figures.rssMaxBytes}`);
      assert.strictEqual(figures.framesAfterRelease, 0);
      assert.ok(performance.now() - started < 60000);
    });

    it('the store: put() refuses what does not fit, reserve() waits with a bound, derived frames wait ahead of producers', async function () {
      const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0 });
      const frame = () => ({ width: 10, height: 10, channels: 3, data: new Uint8Array(300) });
      const a = store.put(frame());
      assert.throws(() => store.put(frame()), hasCode('E_STORE_FULL'));
      const t0 = performance.now();
      await assert.rejects(store.reserve(300, { timeoutMs: 50 }), hasCode('E_STORE_FULL'));
      assert.ok(performance.now() - t0 < 1000);
      assert.strictEqual(store.stats().waiting, 0, 'a timed-out waiter leaves the queue');
      const order = [];
      const producer = store.reserve(300).then((r) => {
        order.push('producer');
        return r;
      });
      const derived = store.reserve(300, { priority: true, timeoutMs: 5000 }).then((r) => {
        order.push('derived');
        return r;
      });
      store.release(a);
      (await derived).cancel();
      (await producer).cancel();
      assert.deepStrictEqual(order, ['derived', 'producer']);
      // move(): same pixels under a new ref, the old one reported released, no extra room used.
      const b = store.put(frame(), { owner: 'x' });
      const released = [];
      store.onRelease((ref) => released.push(ref));
      const c = store.move(b, 'y');
      assert.deepStrictEqual([store.has(b), store.has(c), store.ownedBy(c, 'y'), store.stats().bytes], [false, true, true, 300]);
      assert.deepStrictEqual(released, [b]);
      assert.ok(store.stats().peakBytes <= 300);
      store.close();
    });

    it('case 1: 256 frame-sized boxes on 2000² are refused before any work; the most face area allowed stays off the event loop', async function () {
      const token = await runtime.createToken({ target: await bigWebp(2000), operations: [] });
      const whole = Array.from({ length: 256 }, () => ({ bbox: [0, 0, 2000, 2000], score: 0.9 }));
      for (const stage of ['enhance', 'blur', 'swap']) {
        const { value: out, ms } = await measureLag(() => runtime.process(stage, runtime.acceptToken(forged(token, { faces: whole })), { force: true }));
        assert.strictEqual(out.state, 'failed', stage);
        assert.strictEqual(out.error.code, stage === 'swap' ? 'E_NO_SOURCE' : 'E_BAD_PARAMETER', `${stage}: ${JSON.stringify(out.error)}`);
        assert.ok(ms < 1000, `${stage} refused in ${ms} ms`);
      }
      // 256 boxes whose area (with the stages' margins) stays within the bound: done, and the event
      // loop stays responsive because the pixel work runs on the runtime's worker.
      const faces = gridFaces(256, 2000, 100);
      // face_check off: these bounds are the pixel path's (the face-likeness check would skip the
      // forged boxes before any pixel work; test/swap-harm.test.js tests it).
      for (const [stage, parameters] of [
        ['enhance', { face_check: false }],
        ['blur', {}],
        ['blur', { blur_mode: 'pixelate' }],
        ['debug', {}],
      ]) {
        const {
          value: out,
          ms,
          lagMs,
          blockMs,
        } = await leastLag(BLOCK_BOUND_MS, () => runtime.process(stage, runtime.acceptToken(forged(token, { faces, parameters })), { force: true, offMainThread: true }), {
          cleanup: (extra) => runtime.store.release(extra.target.frame),
        });
        assert.strictEqual(out.state, 'running', `${stage}: ${JSON.stringify(out.error)}`);
        assert.ok(ms < 60000, `${stage} took ${ms} ms`);
        assert.ok(blockMs < BLOCK_BOUND_MS, `${stage} blocked the event loop ${blockMs.toFixed(0)} ms (longest gap ${lagMs.toFixed(0)} ms)`);
        runtime.store.release(out.target.frame);
      }
      // The runtime's pixel worker ends with the runtime (checked again in afterEach's close).
      const pool = runtime.workers;
      assert.ok(pool && pool.size === 1, 'one pixel worker, started on first use');
      // On the main thread the embedded enhance now blurs face crops, not the frame: 245 s → seconds.
      const { value: main, ms, blockMs } = await measureLag(() => runtime.process('enhance', runtime.acceptToken(forged(token, { faces, parameters: { face_check: false } })), { force: true }));
      assert.strictEqual(main.state, 'running', JSON.stringify(main.error));
      assert.ok(ms < 30000, `embedded enhance of 256 faces took ${ms} ms`);
      // The measure does see a main-thread run (so the bounds above can fail).
      assert.ok(blockMs > BLOCK_BOUND_MS, `main-thread enhance blocked only ${blockMs} ms`);
      runtime.release(main);
      await runtime.close();
      assert.strictEqual(runtime.workers, undefined);
      assert.strictEqual(pool.closed, true, 'close() terminated the worker');
    });

    it('the embedded enhance on face crops gives the same pixels as the whole-frame algorithm (blurs, cored detail)', async function () {
      const { gaussianBlurRegion, boxMask, expandBox } = require('../dist/runtime/internal');
      const token = await runtime.createToken({ target: fs.readFileSync(media('fr_two_people.jpg')), operations: [] });
      const frame = runtime.frame(token.target.frame);
      const faces = [
        { bbox: [3, 2, 90, 100], score: 0.9 },
        { bbox: [150, 60, 260, 190], score: 0.9 },
      ];
      const out = await runtime.process('enhance', runtime.acceptToken(forged(token, { faces, parameters: { face_check: false } })), { force: true });
      // The former algorithm, verbatim: two blurs of a whole-frame copy per face; the detail
      // cored at the face's noise floor (1.4826 × median |pixel − denoised|).
      const expected = { ...frame, data: new Uint8Array(frame.data) };
      for (const face of faces) {
        const rect = expandBox(face.bbox, 0.15, frame.width, frame.height);
        const denoised = gaussianBlurRegion(expected, rect, 0.8, { exact: true }).data;
        const base = gaussianBlurRegion(expected, rect, 2.5, { exact: true }).data;
        const mask = boxMask(rect.width, rect.height, 0.3, [0, 0, 0, 0]);
        const residuals = [];
        for (let y = 0; y < rect.height; y++)
          for (let x = 0; x < rect.width * 3; x++) {
            const p = ((rect.y + y) * frame.width + rect.x) * 3 + x;
            residuals.push(Math.abs(expected.data[p] - denoised[p]));
          }
        residuals.sort((u, v) => u - v);
        let median = 0;
        for (let seen = 0; median < 255; median++) if ((seen += residuals.filter((r) => r === median).length) >= residuals.length / 2) break;
        const floor = 1.4826 * Math.max(median, 0.5);
        for (let y = 0; y < rect.height; y++) {
          for (let x = 0; x < rect.width; x++) {
            const w = mask[y * rect.width + x] * 0.8;
            if (!(w > 0)) continue;
            for (let c = 0, p = ((rect.y + y) * frame.width + rect.x + x) * 3; c < 3; c++, p++) {
              const d = denoised[p];
              const detail = d - base[p];
              const kept = detail > floor ? detail - floor : detail < -floor ? detail + floor : 0;
              const v = expected.data[p] * (1 - w) + (d + 0.7 * kept) * w;
              expected.data[p] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
            }
          }
        }
      }
      assert.ok(Buffer.from(runtime.frame(out.target.frame).data).equals(Buffer.from(expected.data)), 'byte-identical');
      runtime.release(out);
    });

    it("case 8: max_faces is capped at the schema's 256 (1e6 refused), and detect never returns more", async function () {
      const jpeg = fs.readFileSync(media('fr_two_people.jpg'));
      await assert.rejects(runtime.createToken({ target: jpeg, operations: ['detect'], parameters: { max_faces: 1e6, score_threshold: 0 } }), hasCode('E_TOKEN_INVALID'));
      assert.strictEqual(runtime.store.stats().frames, 0, 'a refused token leaves no frame behind');
      const token = await runtime.createToken({ target: jpeg, operations: ['detect'], parameters: { max_faces: 256, score_threshold: 0 } });
      assert.throws(() => runtime.acceptToken(forged(token, { parameters: { max_faces: 1e6 } })), hasCode('E_TOKEN_INVALID'));
      const out = await runtime.process('detect', token, { force: true });
      assert.ok(out.faces.length <= 256, `${out.faces.length} faces`);
      runtime.acceptToken(JSON.parse(JSON.stringify(out))); // the next node takes it
      runtime.release(out);
      // A job's parameters are checked against the same schema: refused before it runs.
      const jobs = new JobManager(runtime);
      assert.throws(
        () => jobs.createJob({ target_path: media('fr_biden.jpg'), output_path: path.join(os.tmpdir(), 'never.jpg'), processors: ['face_blur'], parameters: { max_faces: 1e6 } }),
        (e) => hasCode('E_JOB')(e) && /max_faces/.test(e.message),
      );
      await jobs.close();
    });

    it('case 9: face match refuses a reference of another length (E_BAD_PARAMETER)', function () {
      const face = { bbox: [0, 0, 10, 10], score: 0.9, embedding: Array.from({ length: 512 }, (_, i) => (i === 0 ? 1 : 0)) };
      assert.throws(
        () => matchFaces([face], { embedding: [1] }, 0.5),
        (e) => hasCode('E_BAD_PARAMETER')(e) && /512-value.*has 1/.test(e.message),
      );
      assert.strictEqual(matchFaces([face], { embedding: face.embedding }, 0.5)[0].similarity, 1);
    });

    it('case 6: SVG is refused unless enabled; enabled, a huge render is refused from its header and a small one renders', async function () {
      const svg = (side, blur) =>
        Buffer.from(
          `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}"><filter id="f"><feGaussianBlur stdDeviation="${blur}"/></filter><rect width="100%" height="100%" fill="#a63" filter="url(#f)"/></svg>`,
        );
      const t0 = performance.now();
      await assert.rejects(runtime.createToken({ target: svg(8000, 500) }), (e) => hasCode('E_BAD_IMAGE')(e) && /SVG images are refused/.test(e.message));
      const allowed = createRuntime({ sweepIntervalMs: 0, allowSvg: true });
      try {
        await assert.rejects(allowed.createToken({ target: svg(8000, 500) }), (e) => hasCode('E_BAD_IMAGE')(e) && /limit for SVG/.test(e.message));
        assert.ok(performance.now() - t0 < 2000, 'refused from the header, without rendering');
        const ok = await allowed.createToken({ target: svg(64, 2), operations: [] });
        assert.deepStrictEqual([ok.target.width, ok.target.height], [64, 64]);
        allowed.release(ok);
      } finally {
        await allowed.close();
      }
      // Raster formats users need still decode: PNG, TIFF and GIF (first frame); AVIF when sharp has it.
      const base = sharp({ create: { width: 32, height: 24, channels: 3, background: '#468' } });
      for (const format of ['png', 'tiff', 'gif', 'avif']) {
        const bytes = await base.clone().toFormat(format).toBuffer();
        const token = await runtime.createToken({ target: bytes, operations: [] });
        assert.deepStrictEqual([token.target.width, token.target.height], [32, 24], format);
        runtime.release(token);
      }
    });

    it('case 5: a frame index far beyond what the encoder can park is refused as late, at once', async function () {
      const locator = new FfmpegLocator();
      await ffmpegOrSkip(this, locator);
      const dir = tempDir('ff-hostile-');
      const store = new FrameStore({ budgetBytes: 64 * 48 * 3 * 50, sweepIntervalMs: 0 });
      const encoder = new VideoEncoder({ locator, store, output: path.join(dir, 'out.mp4'), width: 64, height: 48, fps: 25 });
      const frame = () => store.put({ width: 64, height: 48, channels: 3, data: new Uint8Array(64 * 48 * 3).fill(90) });
      try {
        await encoder.write(0, frame());
        const { ms, blockMs } = await measureLag(() => encoder.write(1e9, frame())); // once: a second 1e9 would be a duplicate
        assert.ok(ms < 1000 && blockMs < BLOCK_BOUND_MS, `${ms} ms, blocked ${blockMs} ms`);
        await encoder.skip(2e9);
        await encoder.write(1, frame());
        const result = await encoder.finish();
        assert.deepStrictEqual([result.frames, result.late], [2, 1]);
        assert.strictEqual(store.stats().frames, 0);
      } finally {
        await encoder.abort();
        store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('case 7: jobs refused because the queue is full leave nothing behind', async function () {
      const manager = new JobManager(runtime, { maxQueued: 2, maxConcurrent: 1 });
      const original = runtime.process.bind(runtime);
      runtime.process = async (stage, token, options) => {
        await sleep(100);
        return original(stage, token, options);
      };
      try {
        const dir = tempDir('ff-hostile-job-');
        let refused = 0;
        const ids = [];
        for (let i = 0; i < 300; i++) {
          try {
            ids.push(manager.runJob({ target_path: media('fr_biden.jpg'), output_path: path.join(dir, `${i}.jpg`), processors: ['face_blur'] }));
          } catch (e) {
            assert.strictEqual(e.code, 'E_JOB');
            refused++;
          }
        }
        assert.strictEqual(ids.length, 3, 'one running, two queued');
        assert.strictEqual(refused, 297);
        assert.strictEqual(manager.listJobs().length, 3, 'no drafted job left behind');
        await Promise.all(ids.map((id) => manager.cancelJob(id)));
        assert.strictEqual(runtime.store.stats().frames, 0);
        fs.rmSync(dir, { recursive: true, force: true });
      } finally {
        runtime.process = original;
        await manager.close();
      }
    });
  });

  describe('nodes', function () {
    // Jobs here name the fixtures and temp folders in messages: those are the allowed folders.
    const CFG = {
      id: 'cfg',
      type: 'facefusion-config',
      name: 'rt',
      device: 'auto',
      threads: 0,
      modelsDir: '',
      frameBudgetMB: 100,
      tokenTtl: 300,
      storeWait: 0.5,
      allowedFolders: [os.tmpdir(), MEDIA].join('\n'),
    };
    const TAB = { id: 'tab', type: 'tab', label: 'hostile' };
    const catcher = { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] };
    const jobNodes = ['face-job', 'face-video-out'].map((t) => require(`../dist/nodes/${t}.js`));
    const collect = (node) => {
      const got = [];
      node.on('input', (msg) => got.push(msg));
      return got;
    };

    before(function (done) {
      helper.startServer(done);
    });
    after(function (done) {
      helper.stopServer(done);
    });
    afterEach(async function () {
      const config = helper.getNode('cfg');
      if (config) assertBudgetHeld(config.runtime);
      await helper.unload();
    });

    it('case 2 (node): face-token decodes one image at a time into reserved room; a burst over the budget is refused E_STORE_FULL', async function () {
      await helper.load(allNodes, [TAB, CFG, { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect'], wires: [['out']] }, sink('out'), catcher, sink('caught')]);
      const config = helper.getNode('cfg');
      await config.ready;
      const out = collect(helper.getNode('out'));
      const caught = collect(helper.getNode('caught'));
      const bomb = await bigWebp(4000); // 48 MB decoded: two fit the 100 MiB budget
      for (let i = 0; i < 4; i++) helper.getNode('tok').receive({ payload: bomb });
      await until(() => out.length + caught.length === 4, 'four outcomes', 30000);
      assert.strictEqual(out.length, 2);
      assert.deepStrictEqual(
        caught.map((m) => m.error.code),
        ['E_STORE_FULL', 'E_STORE_FULL'],
      );
      for (const m of out) config.runtime.release(m.payload);
      assert.strictEqual(config.runtime.stats().store.frames, 0);
    });

    it("case 3 (node): face-image given another request's frame answers E_FRAME_MISSING and the victim keeps its picture", async function () {
      await helper.load(allNodes, [TAB, CFG, { id: 'img', z: 'tab', type: 'face-image', config: 'cfg', format: 'jpeg', wires: [['out']] }, sink('out'), catcher, sink('caught')]);
      const runtime = helper.getNode('cfg').runtime;
      const jpeg = fs.readFileSync(media('fr_biden.jpg'));
      const mine = await runtime.createToken({ target: jpeg, operations: [] });
      const victim = await runtime.createToken({ target: jpeg, operations: [] });
      const caught = nextMessage(helper.getNode('caught'));
      helper.getNode('img').receive({ payload: forged(mine, { target: { ...mine.target, frame: victim.target.frame } }) });
      assert.strictEqual((await caught).error.code, 'E_FRAME_MISSING');
      assert.ok(runtime.store.has(victim.target.frame));
      runtime.release(mine);
      runtime.release(victim);
    });

    it('case 1 (node): face-enhance and face-blur on 256 forged boxes keep the event loop responsive', async function () {
      await helper.load(allNodes, [
        TAB,
        CFG,
        { id: 'enh', z: 'tab', type: 'face-enhance', config: 'cfg', onNoFace: 'pass', wires: [['out']] },
        { id: 'blr', z: 'tab', type: 'face-blur', config: 'cfg', onNoFace: 'pass', wires: [['out']] },
        sink('out'),
        catcher,
        sink('caught'),
      ]);
      const config = helper.getNode('cfg');
      await config.ready;
      const runtime = config.runtime;
      const token = await runtime.createToken({ target: await bigWebp(2000), operations: [] });
      const faces = gridFaces(256, 2000, 100);
      for (const id of ['enh', 'blr']) {
        const {
          value: msg,
          lagMs,
          blockMs,
        } = await leastLag(
          BLOCK_BOUND_MS,
          () => {
            const got = nextMessage(helper.getNode('out'), 60000);
            // face_check off: the pixel path's bounds (see case 1, runtime).
            helper.getNode(id).receive({ payload: forged(token, { faces, parameters: { face_check: false } }) });
            return got;
          },
          { cleanup: (extra) => runtime.store.release(extra.payload.target.frame) },
        );
        assert.ok(['running', 'done'].includes(msg.payload.state), JSON.stringify(msg.payload.error));
        assert.ok(blockMs < BLOCK_BOUND_MS, `${id} blocked the event loop ${blockMs.toFixed(0)} ms (longest gap ${lagMs.toFixed(0)} ms)`);
        runtime.store.release(msg.payload.target.frame);
      }
      const caught = nextMessage(helper.getNode('caught'));
      helper.getNode('blr').receive({ payload: forged(token, { faces: Array.from({ length: 256 }, () => ({ bbox: [0, 0, 2000, 2000], score: 1 })) }) });
      assert.strictEqual((await caught).error.code, 'E_BAD_PARAMETER');
      runtime.release(token);
    });

    it('case 9 (node): face-match with a 1-value reference against 512-d faces is an E_BAD_PARAMETER error, not a match', async function () {
      await helper.load(allNodes, [TAB, CFG, { id: 'm', z: 'tab', type: 'face-match', config: 'cfg', wires: [['out']] }, sink('out'), catcher, sink('caught')]);
      const runtime = helper.getNode('cfg').runtime;
      await helper.getNode('cfg').ready;
      const token = await runtime.run(await runtime.createToken({ target: fs.readFileSync(media('fr_biden.jpg')), operations: ['detect', 'landmark', 'embed'] }));
      const caught = nextMessage(helper.getNode('caught'));
      helper.getNode('m').receive({ payload: JSON.parse(JSON.stringify(token)), reference: [1] });
      assert.strictEqual((await caught).error.code, 'E_BAD_PARAMETER');
      runtime.release(token);
    });

    it("case 10 (node): a face-job node cannot cancel another node's job unless set to cancel any job", async function () {
      const dir = tempDir('ff-hostile-jobs-');
      await helper.load(
        [...allNodes, ...jobNodes],
        [
          TAB,
          CFG,
          { id: 'a', z: 'tab', type: 'face-job', config: 'cfg', wires: [['resA'], []] },
          { id: 'b', z: 'tab', type: 'face-job', config: 'cfg', wires: [['resB'], []] },
          { id: 'c', z: 'tab', type: 'face-job', config: 'cfg', cancelAny: true, wires: [[], []] },
          sink('resA'),
          sink('resB'),
          catcher,
          sink('caught'),
        ],
      );
      const config = helper.getNode('cfg');
      await config.ready;
      const runtime = config.runtime;
      const original = runtime.process.bind(runtime);
      runtime.process = async (stage, token, options) => {
        if (stage === 'detect') await sleep(1500);
        return original(stage, token, options);
      };
      try {
        const results = collect(helper.getNode('resA'));
        const caught = collect(helper.getNode('caught'));
        const job = (name) => ({ payload: { target_path: media('fr_biden.jpg'), output_path: path.join(dir, name), processors: ['face_blur'] } });
        const first = job('a.jpg');
        helper.getNode('a').receive(first);
        await until(() => typeof first.jobId === 'string', 'the job id');
        helper.getNode('b').receive({ command: 'cancel', jobId: first.jobId });
        await until(() => caught.length === 1, 'the refusal');
        assert.strictEqual(caught[0].error.code, 'E_JOB');
        await until(() => results.length === 1, 'job A finishing', 30000);
        assert.strictEqual(results[0].job.state, 'completed', "B did not cancel A's job");
        // The "cancel any job" option does cancel it.
        const second = job('a2.jpg');
        helper.getNode('a').receive(second);
        await until(() => typeof second.jobId === 'string', 'the second job id');
        helper.getNode('c').receive({ command: 'cancel', jobId: second.jobId });
        await sleep(2500);
        assert.strictEqual(results.length, 1, 'the cancelled job sent no result');
        assert.strictEqual(caught.length, 1);
      } finally {
        runtime.process = original;
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('case 5 (node): face-video-out counts a token with index 1e9 as late instead of filling the gap', async function () {
      const locator = new FfmpegLocator();
      await ffmpegOrSkip(this, locator);
      const dir = tempDir('ff-hostile-vo-');
      const output = path.join(dir, 'out.mp4');
      await helper.load([...allNodes, ...jobNodes], [TAB, CFG, { id: 'vo', z: 'tab', type: 'face-video-out', config: 'cfg', output, fps: 25, wires: [['out']] }, sink('out'), catcher, sink('caught')]);
      const runtime = helper.getNode('cfg').runtime;
      const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#345' } })
        .jpeg()
        .toBuffer();
      const vo = helper.getNode('vo');
      const summary = nextMessage(helper.getNode('out'));
      const tokenAt = async (index) => JSON.parse(JSON.stringify(await runtime.createToken({ target: jpeg, operations: [], index })));
      const send = async (index) => vo.receive({ payload: await tokenAt(index), parts: { id: 'v', index } });
      await send(0);
      await sleep(500); // the encoder (ffmpeg) starts on the first frame: not part of the measure
      const far = await tokenAt(1e9);
      const { blockMs } = await measureLag(async () => {
        vo.receive({ payload: far, parts: { id: 'v', index: 1e9 } });
        await sleep(100);
      });
      assert.ok(blockMs < BLOCK_BOUND_MS, `blocked ${blockMs} ms`);
      await send(1);
      vo.receive({ command: 'stop' });
      const result = (await summary).payload;
      assert.deepStrictEqual([result.frames, result.late], [2, 1]);
      assert.strictEqual(runtime.stats().store.frames, 0);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
});
