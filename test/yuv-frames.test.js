'use strict';
// YUV 4:2:0 frames end to end: the conversions against ffmpeg's own, the frame store's
// forms and buffer pool, decoder and encoder passing yuv420p through, and every stage that works
// on a video job's YUV frame against the same stage on the RGB frame (within 2 levels).
const assert = require('assert');
const path = require('path');
const fs = require('fs');
const { spawnSync } = require('child_process');
const sharp = require('sharp');
const { MEDIA } = require('./helpers/fixtures');
const { ffmpegOrSkip, tempDir } = require('./helpers/clips');
const { createRuntime, JobManager } = require('../dist/runtime');
const { FrameStore, FfmpegLocator, VideoDecoder, VideoEncoder, parseFfmpegDump, frameToken, analyseJobSource, resizeBilinear } = require('../dist/runtime/internal');
const Y = require('../dist/runtime/internal');

/** |a − b| over a byte range: max, mean, and the share of samples more than `tol` apart. */
function diff(a, b, from = 0, to = a.length, tol = 2) {
  let max = 0,
    sum = 0,
    over = 0;
  for (let i = from; i < to; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    sum += d;
    if (d > tol) over++;
  }
  return { max, mean: sum / (to - from), overShare: over / (to - from) };
}

async function rgbOf(file, width, height) {
  const { data } = await sharp(path.join(MEDIA, file)).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width, height, channels: 3, data: new Uint8Array(data) };
}

function ffmpegConvert(bin, input, from, to, width, height, filter = []) {
  const r = spawnSync(bin, ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', from, '-s', `${width}x${height}`, '-i', '-', ...filter, '-f', 'rawvideo', '-pix_fmt', to, '-'], {
    input: Buffer.from(input),
    maxBuffer: 1 << 28,
  });
  assert.strictEqual(r.status, 0, String(r.stderr));
  return new Uint8Array(r.stdout);
}

describe('YUV 4:2:0 frames', function () {
  this.timeout(120000);
  let ffmpeg;
  before(async function () {
    ffmpeg = await ffmpegOrSkip(this, new FfmpegLocator());
  });

  describe('conversions against ffmpeg', () => {
    for (const matrix of ['bt601', 'bt709']) {
      it(`rgb24 → yuv420p and back agree with ffmpeg's own conversions (${matrix})`, async () => {
        const rgb = await rgbOf('fr_two_people.jpg', 640, 360);
        const L = Y.yuvLayout(640, 360);
        const toYuv = matrix === 'bt709' ? ['-vf', 'scale=out_color_matrix=bt709'] : [];
        const theirs = ffmpegConvert(ffmpeg.path, rgb.data, 'rgb24', 'yuv420p', 640, 360, toYuv);
        const ours = Y.rgbToYuv(rgb, matrix).data;
        const luma = diff(ours, theirs, 0, L.ySize);
        const chroma = diff(ours, theirs, L.ySize, L.bytes);
        // Measured: luma max 1; chroma mean ≈ 0.1–0.15, max 5 at sharp colour edges (ffmpeg filters chroma, we average 2×2).
        assert.ok(luma.max <= 1, `luma ${JSON.stringify(luma)}`);
        assert.ok(chroma.mean < 0.3 && chroma.overShare < 0.002, `chroma ${JSON.stringify(chroma)}`);

        const toRgb = matrix === 'bt709' ? ['-vf', 'scale=in_color_matrix=bt709'] : [];
        const back = ffmpegConvert(ffmpeg.path, theirs, 'yuv420p', 'rgb24', 640, 360, toRgb);
        const ourBack = Y.yuvToRgb({ format: 'yuv420p', width: 640, height: 360, data: theirs, matrix }).data;
        const d = diff(ourBack, back, 0, back.length, 1);
        // Measured (bt601): max 2, 0.46 % of samples more than 1 apart, mean 0.3.
        assert.ok(d.max <= 2 && d.overShare < 0.01 && d.mean < 0.5, `yuv→rgb ${JSON.stringify(d)}`);
      });
    }

    it('sampling the planes to a detector input equals resizing the converted frame (bilinear)', async () => {
      const yuv = Y.rgbToYuv(await rgbOf('fr_two_people.jpg', 1280, 720));
      for (const [w, h] of [
        [320, 240],
        [640, 360],
        [333, 187],
      ]) {
        const sampled = Y.resizeYuvToRgb(yuv, w, h);
        const resized = resizeBilinear(Y.yuvToRgb(yuv), w, h);
        const d = diff(sampled.data, resized.data);
        // Measured: mean ≈ 0.2–0.3; only corners clipped at 0/255 differ by more than 2.
        assert.ok(d.mean < 0.5 && d.overShare < 0.005, `${w}×${h}: ${JSON.stringify(d)}`);
      }
    });

    it('a region written back changes only the pixels that changed, and odd sizes work', () => {
      for (const [w, h] of [
        [64, 48],
        [101, 75],
      ]) {
        const yuv = Y.createYuvFrame(w, h);
        for (let i = 0; i < yuv.data.length; i++) yuv.data[i] = 16 + ((i * 7919) % 200);
        const before = new Uint8Array(yuv.data);
        const rgb = Y.yuvToRgb(yuv);
        // Paint a red square at odd coordinates; everything else is the frame's own conversion.
        for (let y = 11; y < 31; y++) for (let x = 13; x < 33; x++) rgb.data.set([220, 30, 40], (y * w + x) * 3);
        Y.writeRgbRegionToYuv(rgb, { x: 0, y: 0, width: w, height: h }, yuv);
        const back = Y.yuvToRgb(yuv);
        const L = Y.yuvLayout(w, h);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const inBlock = x >= 12 && x < 34 && y >= 10 && y < 32; // the square widened to whole 2×2 blocks
            if (!inBlock) assert.strictEqual(yuv.data[y * w + x], before[y * w + x], `luma ${x},${y} changed`);
            if (x >= 14 && x < 32 && y >= 12 && y < 30) {
              const p = (y * w + x) * 3;
              assert.ok(Math.abs(back.data[p] - 220) <= 3 && Math.abs(back.data[p + 1] - 30) <= 3 && Math.abs(back.data[p + 2] - 40) <= 3, `pixel ${x},${y}: ${back.data.slice(p, p + 3)}`);
            }
          }
        }
        for (let cy = 0; cy < L.ch; cy++) {
          for (let cx = 0; cx < L.cw; cx++) {
            if (cx >= 6 && cx < 17 && cy >= 5 && cy < 16) continue;
            const c = cy * L.cw + cx;
            assert.strictEqual(yuv.data[L.uOffset + c], before[L.uOffset + c], `U ${cx},${cy} changed`);
            assert.strictEqual(yuv.data[L.vOffset + c], before[L.vOffset + c], `V ${cx},${cy} changed`);
          }
        }
      }
    });
  });

  it("a YUV frame's editor thumbnail is shrunk from its planes, the same picture as from RGB", async () => {
    const { encodeThumbnail } = require('../dist/runtime/internal');
    const rgb = await rgbOf('fr_two_people.jpg', 1280, 720);
    const yuv = Y.rgbToYuv(rgb);
    const [a, b] = [await encodeThumbnail(yuv, 320), await encodeThumbnail(Y.yuvToRgb(yuv), 320)];
    assert.deepStrictEqual([a.width, a.height], [320, 180]);
    assert.deepStrictEqual([b.width, b.height], [320, 180]);
    const [da, db] = await Promise.all([a, b].map((t) => sharp(t.data).raw().toBuffer()));
    const d = diff(new Uint8Array(da), new Uint8Array(db), 0, da.length, 12);
    // Measured: mean 1.2, 0.1 % more than 12 apart (the planes sampled to 640×360, then sharp's
    // filter; the RGB frame shrunk by sharp alone; both JPEG).
    assert.ok(d.mean < 2 && d.overShare < 0.005, JSON.stringify(d));
  });

  describe('frame store', () => {
    it('holds YUV frames at 1.5 bytes per pixel; get() converts, pixels() does not; wrong sizes are refused', () => {
      const store = new FrameStore({ budgetBytes: 1 << 24, sweepIntervalMs: 0 });
      const yuv = Y.createYuvFrame(64, 48);
      yuv.data.fill(128);
      const ref = store.put(yuv);
      assert.strictEqual(store.stats().bytes, 64 * 48 * 1.5);
      assert.strictEqual(store.pixels(ref), yuv);
      const rgb = store.get(ref);
      assert.strictEqual(rgb.channels, 3);
      assert.deepStrictEqual(rgb.data, Y.yuvToRgb(yuv).data);
      assert.throws(
        () => store.put({ format: 'yuv420p', width: 64, height: 48, data: new Uint8Array(64 * 48 * 3) }),
        (e) => e.code === 'E_BAD_PARAMETER' && /yuv420p/.test(e.message),
      );
      store.close();
    });

    it('keeps derived data with a frame (attach): made once, disposed on release, dropped without dispose on expiry', () => {
      let now = 1000;
      const store = new FrameStore({ budgetBytes: 1 << 24, sweepIntervalMs: 0, now: () => now });
      const disposed = [];
      let made = 0;
      const make = () => ({ n: ++made });
      const a = store.put(Y.createYuvFrame(8, 8));
      assert.strictEqual(store.attach(a, 'k', make, (v) => disposed.push(v.n)).n, 1);
      assert.strictEqual(store.attach(a, 'k', make, (v) => disposed.push(v.n)).n, 1, 'made once');
      const moved = store.move(a, 'other');
      assert.strictEqual(store.attach(moved, 'k', make, (v) => disposed.push(v.n)).n, 1, 'moves with the pixels');
      store.release(moved);
      assert.deepStrictEqual(disposed, [1]);
      const b = store.put(Y.createYuvFrame(8, 8), { expiresAt: now + 5 });
      store.attach(b, 'k', make, (v) => disposed.push(v.n));
      now += 10;
      store.sweep();
      assert.deepStrictEqual(disposed, [1], 'an expired frame may still be read by a stage: its attachment is not disposed');
      assert.throws(
        () => store.attach(b, 'k', make, () => undefined),
        (e) => e.code === 'E_FRAME_MISSING',
      );
      store.close();
    });

    it('pools the buffers of pooled frames on release (not on expiry), and drops them on close', () => {
      let now = 1000;
      const store = new FrameStore({ budgetBytes: 1 << 24, sweepIntervalMs: 0, now: () => now });
      const bytes = Y.yuvLayout(64, 48).bytes;
      const a = store.acquire(bytes);
      const ref = store.put(Y.createYuvFrame(64, 48, a), { pooled: true });
      store.release(ref);
      assert.strictEqual(store.acquire(bytes), a, 'the released buffer is handed out again');
      assert.deepStrictEqual({ reused: store.poolStats().reused, allocated: store.poolStats().allocated }, { reused: 1, allocated: 1 });
      // An expired frame may still be read by a stage that holds it: its buffer is not reused.
      const b = store.acquire(bytes);
      store.put(Y.createYuvFrame(64, 48, b), { pooled: true, expiresAt: now + 10 });
      now += 20;
      assert.strictEqual(store.sweep(), 1);
      assert.notStrictEqual(store.acquire(bytes), b);
      // An unpooled frame's buffer never enters the pool.
      const c = new Uint8Array(bytes);
      store.release(store.put(Y.createYuvFrame(64, 48, c)));
      assert.notStrictEqual(store.acquire(bytes), c);
      store.recycle(a);
      assert.ok(store.poolStats().spareBytes > 0);
      store.close();
      assert.strictEqual(store.poolStats().spareBytes, 0);
    });
  });

  describe('decoder and encoder', () => {
    let dir, clip;
    before(function () {
      if (!ffmpeg) return this.skip();
      dir = tempDir('yuv-io-');
      clip = path.join(dir, 'clip.mp4');
      const made = spawnSync(ffmpeg.path, [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-loop',
        '1',
        '-framerate',
        '10',
        '-i',
        path.join(MEDIA, 'fr_two_people.jpg'),
        '-vf',
        "scale=480:-2,zoompan=z='1+0.2*on/12':d=1:s=320x180:fps=10,format=yuv420p",
        '-frames:v',
        '12',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '18',
        clip,
      ]);
      assert.strictEqual(made.status, 0, String(made.stderr));
    });
    after(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the decoder gives ffmpeg's yuv420p bytes unconverted, from pooled buffers it reuses", async () => {
      const direct = spawnSync(ffmpeg.path, ['-hide_banner', '-loglevel', 'error', '-i', clip, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'], { maxBuffer: 1 << 26 }).stdout;
      const store = new FrameStore({ budgetBytes: 1 << 24, sweepIntervalMs: 0 });
      const decoder = new VideoDecoder({ locator: new FfmpegLocator(), store, input: clip, pixelFormat: 'yuv420p', pooled: true });
      const bytes = Y.yuvLayout(320, 180).bytes;
      let n = 0;
      for await (const f of decoder.frames()) {
        const pixels = store.pixels(f.ref);
        assert.strictEqual(pixels.format, 'yuv420p');
        assert.ok(Buffer.from(pixels.data).equals(direct.subarray(n * bytes, (n + 1) * bytes)), `frame ${n} differs from ffmpeg's own yuv420p`);
        store.release(f.ref);
        n++;
      }
      assert.strictEqual(n, 12);
      assert.ok(store.poolStats().reused >= 10, `buffers reused: ${JSON.stringify(store.poolStats())}`);
      assert.strictEqual(store.stats().frames, 0);
      store.close();
    });

    it('a BT.709 stream gives BT.709 frames, and a video job tags its output BT.709 too', async () => {
      const tagged = path.join(dir, 'bt709.mp4');
      const made = spawnSync(ffmpeg.path, [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-i',
        clip,
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '18',
        '-colorspace',
        'bt709',
        '-color_primaries',
        'bt709',
        '-color_trc',
        'bt709',
        tagged,
      ]);
      assert.strictEqual(made.status, 0, String(made.stderr));
      const store = new FrameStore({ budgetBytes: 1 << 24, sweepIntervalMs: 0 });
      const decoder = new VideoDecoder({ locator: new FfmpegLocator(), store, input: tagged, pixelFormat: 'yuv420p' });
      for await (const f of decoder.frames()) {
        assert.strictEqual(store.pixels(f.ref).matrix, 'bt709');
        store.release(f.ref);
      }
      assert.strictEqual(decoder.info.matrix, 'bt709');
      store.close();
      const rt = createRuntime({ sweepIntervalMs: 0 });
      const jobs = new JobManager(rt, { maxConcurrent: 1 });
      try {
        const id = jobs.runJob({ target_path: tagged, output_path: path.join(dir, 'bt709-out.mp4'), processors: ['face_blur'], parameters: { detect_tiling: 'off' } });
        const info = await jobs.waitForJob(id);
        assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
        // ffmpeg's own dump of the output names its colour matrix.
        const dump = spawnSync(ffmpeg.path, ['-hide_banner', '-i', info.result.output], { encoding: 'utf8' }).stderr;
        assert.strictEqual(parseFfmpegDump(dump).input.video.matrix, 'bt709', dump);
      } finally {
        await jobs.close();
        await rt.close();
      }
    });

    it('the encoder passes yuv420p through bit-exact (lossless check) and converts an RGB frame given to it', async () => {
      const store = new FrameStore({ budgetBytes: 1 << 24, sweepIntervalMs: 0 });
      const w = 64,
        h = 48;
      const frames = [];
      for (let k = 0; k < 3; k++) {
        const f = Y.createYuvFrame(w, h);
        for (let i = 0; i < f.data.length; i++) f.data[i] = 16 + ((i * 31 + k * 17) % 200);
        frames.push(f);
      }
      const out = path.join(dir, 'lossless.mkv');
      // quality 100 → CRF 0: x264 is lossless in 8-bit yuv420p, so what comes back is what went in.
      const enc = new VideoEncoder({ locator: new FfmpegLocator(), store, output: out, width: w, height: h, fps: 10, quality: 100, pixelFormat: 'yuv420p' });
      for (let k = 0; k < 2; k++) await enc.write(k, store.put(frames[k]));
      const rgb = Y.yuvToRgb(frames[2]);
      await enc.write(2, store.put(rgb));
      const result = await enc.finish();
      assert.strictEqual(result.frames, 3);
      assert.strictEqual(store.stats().frames, 0, 'the encoder frees what it wrote');
      const back = spawnSync(ffmpeg.path, ['-hide_banner', '-loglevel', 'error', '-i', out, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'], { maxBuffer: 1 << 24 }).stdout;
      const bytes = Y.yuvLayout(w, h).bytes;
      for (let k = 0; k < 2; k++) assert.ok(back.subarray(k * bytes, (k + 1) * bytes).equals(Buffer.from(frames[k].data)), `frame ${k} changed on the way through`);
      const converted = diff(new Uint8Array(back.subarray(2 * bytes, 3 * bytes)), Y.rgbToYuv(rgb).data);
      assert.strictEqual(converted.max, 0, 'the RGB frame is encoded as rgbToYuv made it');
      store.close();
    });
  });

  describe('stages on a YUV frame equal the RGB path (within 2 levels)', () => {
    let rt, yuv, rgb;
    before(async () => {
      rt = createRuntime({ sweepIntervalMs: 0 });
      // The same content in both forms: the RGB frame is the YUV frame converted.
      yuv = Y.rgbToYuv(await rgbOf('fr_two_people.jpg', 1280, 720));
      rgb = Y.yuvToRgb(yuv);
    });
    after(async () => {
      await rt.close();
    });

    function tokenOn(frame, stages, extra = {}, jobId = 'yuv-test') {
      const ref = rt.store.put(frame);
      return { ref, token: frameToken({ jobId, ref, index: 0, pts: 0, width: frame.width, height: frame.height, stages, parameters: { detect_tiling: 'off' }, ttlMs: 60000, ...extra }) };
    }

    let calls = 0;
    /**
     * Runs `stages` on both forms. With `sameFaces`, detect runs on the RGB frame only and both
     * sides get its faces: a later stage is then compared on equal input (a box a pixel off
     * moves a pixelation grid by a block).
     */
    async function runBoth(stages, extra, sameFaces = false) {
      const out = {};
      let faces;
      for (const [name, frame] of [
        ['rgb', rgb],
        ['yuv', yuv],
      ]) {
        // A job id per side and call: the blur's temporal hold tracks faces per job.
        let { token, ref } = tokenOn(frame, stages, extra, `yuv-test-${name}-${++calls}`);
        for (const stage of stages) {
          if (stage === 'detect' && sameFaces && faces) {
            token = { ...token, faces };
            continue;
          }
          token = await rt.process(stage, token, { force: true });
          if (stage === 'detect') faces ??= token.faces;
        }
        assert.strictEqual(token.state === 'failed', false, JSON.stringify(token.error));
        out[name] = { token, pixels: rt.store.pixels(token.target.frame), ref };
      }
      return out;
    }

    function releaseAll(both) {
      for (const side of Object.values(both)) {
        rt.release(side.token, { keepSource: true });
        rt.store.release(side.ref);
      }
    }

    it('detect: the same faces and scores', async () => {
      const both = await runBoth(['detect']);
      const a = both.yuv.token.faces,
        b = both.rgb.token.faces;
      assert.strictEqual(a.length, 2);
      assert.strictEqual(a.length, b.length);
      for (let i = 0; i < a.length; i++) {
        for (let k = 0; k < 4; k++) assert.ok(Math.abs(a[i].bbox[k] - b[i].bbox[k]) <= 3, `box ${i}: ${a[i].bbox} vs ${b[i].bbox}`);
        assert.ok(Math.abs(a[i].score - b[i].score) < 0.02, `score ${a[i].score} vs ${b[i].score}`);
      }
      releaseAll(both);
    });

    it('landmark and embed: the same points and identities', async () => {
      const both = await runBoth(['detect', 'landmark', 'embed']);
      const { cosineSimilarity } = require('../dist/runtime/internal');
      for (let i = 0; i < 2; i++) {
        const a = both.yuv.token.faces[i],
          b = both.rgb.token.faces[i];
        const worst = Math.max(...a.landmarks68.map((p, k) => Math.hypot(p[0] - b.landmarks68[k][0], p[1] - b.landmarks68[k][1])));
        assert.ok(worst < 2.5, `face ${i}: a landmark moved ${worst.toFixed(2)} px`);
        const sim = cosineSimilarity(a.embedding, b.embedding);
        assert.ok(sim > 0.99, `face ${i}: embedding similarity ${sim}`);
      }
      releaseAll(both);
    });

    it("blur except one person on a YUV frame: that face's samples stay bit-exact, the other face is blurred", async () => {
      const ref = await analyseJobSource(rt, path.join(MEDIA, 'fr_obama.jpg'), 'yuv-except', true, {});
      try {
        const parameters = { detect_tiling: 'off', blur_except_embeddings: [ref.source.embedding], blur_reference_model: ref.source.face.embedding_model ?? ref.token.faces[0].embedding_model };
        let { token, ref: frameRef } = tokenOn(yuv, ['detect', 'blur'], { parameters }, 'yuv-except-job');
        token = await rt.process('detect', token, { force: true });
        token = await rt.process('blur', token, { force: true });
        assert.notStrictEqual(token.state, 'failed', JSON.stringify(token.error));
        assert.match(token.journal[token.journal.length - 1].note, /1 face gaussian.*1 kept sharp/);
        const out = rt.store.pixels(token.target.frame);
        assert.strictEqual(out.format, 'yuv420p');
        const changedIn = (bbox) => {
          let n = 0;
          for (let y = Math.ceil(bbox[1]); y < Math.floor(bbox[3]); y++) for (let x = Math.ceil(bbox[0]); x < Math.floor(bbox[2]); x++) if (out.data[y * 1280 + x] !== yuv.data[y * 1280 + x]) n++;
          return n;
        };
        // fr_two_people.jpg: Obama on the left, Biden on the right.
        const [left, right] = [...token.faces].sort((a, b) => a.bbox[0] - b.bbox[0]);
        assert.strictEqual(changedIn(left.bbox), 0, 'the excepted face was touched');
        assert.ok(changedIn(right.bbox) > 0.5 * (right.bbox[2] - right.bbox[0]) * (right.bbox[3] - right.bbox[1]), 'the other face was not blurred');
        rt.release(token, { keepSource: true });
        rt.store.release(frameRef);
      } finally {
        rt.release(ref.token);
      }
    });

    const cases = [
      ['swap', 'embedded swap', {}],
      ['enhance', 'embedded enhance', {}],
      ['blur', 'gaussian blur', {}],
      ['blur', 'pixelate', { blur_mode: 'pixelate' }],
      ['blur', 'solid ellipse', { blur_mode: 'solid', blur_shape: 'ellipse' }],
    ];
    for (const [stage, label, parameters] of cases) {
      it(`${label}: the output planes within 2 levels of the RGB path's (99.8 % of samples), the rest of the frame bit-exact`, async () => {
        const source = stage === 'swap' ? await analyseJobSource(rt, path.join(MEDIA, 'fr_obama.jpg'), 'yuv-test', false, {}) : undefined;
        try {
          const stages = stage === 'blur' ? ['detect', 'blur'] : ['detect', 'landmark', stage];
          const both = await runBoth(stages, { ...(source ? { source: source.source } : {}), parameters: { detect_tiling: 'off', ...parameters } }, true);
          const out = both.yuv.pixels;
          assert.strictEqual(out.format, 'yuv420p', 'the stage keeps a YUV frame YUV');
          // The RGB path's frame as its encoder would take it (ffmpeg's rgb24 → yuv420p) against
          // the YUV path's frame, plane by plane, on the same faces. Measured for every stage:
          // ≤ 0.03 % of luma and ≤ 0.05 % of chroma samples more than 2 levels apart (max 12 luma,
          // 7–14 chroma: near-white pixels and the solid ellipse's edge); the luma means (≈ 0.9)
          // are ffmpeg's own round trip (its yuv → rgb → yuv lands a level low), not the stage.
          const rgbPath = ffmpegConvert(ffmpeg.path, both.rgb.pixels.data, 'rgb24', 'yuv420p', 1280, 720);
          const L = Y.yuvLayout(1280, 720);
          const luma = diff(out.data, rgbPath, 0, L.ySize),
            chroma = diff(out.data, rgbPath, L.ySize, L.bytes);
          assert.ok(luma.overShare < 0.002, `luma ${JSON.stringify(luma)}`);
          assert.ok(chroma.overShare < 0.002 && chroma.mean < 0.1, `chroma ${JSON.stringify(chroma)}`);
          // Away from the faces (beyond 1.25 × their size on every side) not one sample changed.
          const near = (x, y) =>
            both.yuv.token.faces.some((f) => {
              const m = 1.25 * Math.max(f.bbox[2] - f.bbox[0], f.bbox[3] - f.bbox[1]);
              return x >= f.bbox[0] - m && x <= f.bbox[2] + m && y >= f.bbox[1] - m && y <= f.bbox[3] + m;
            });
          let changedFar = 0;
          for (let y = 0; y < 720; y++) for (let x = 0; x < 1280; x++) if (!near(x, y) && out.data[y * 1280 + x] !== yuv.data[y * 1280 + x]) changedFar++;
          assert.strictEqual(changedFar, 0, 'luma samples changed away from the faces');
          releaseAll(both);
        } finally {
          if (source) rt.release(source.token);
        }
      });
    }
  });

  it('a video job reuses its frame buffers and leaves nothing in the store', async function () {
    if (!ffmpeg) return this.skip();
    const dir = tempDir('yuv-job-');
    try {
      const clip = path.join(dir, 'clip.mp4');
      const made = spawnSync(ffmpeg.path, [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-loop',
        '1',
        '-framerate',
        '10',
        '-i',
        path.join(MEDIA, 'fr_two_people.jpg'),
        '-vf',
        "scale=640:-2,zoompan=z='1+0.2*on/40':d=1:s=480x270:fps=10,format=yuv420p",
        '-frames:v',
        '40',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '18',
        clip,
      ]);
      assert.strictEqual(made.status, 0, String(made.stderr));
      const rt = createRuntime({ sweepIntervalMs: 0 });
      const jobs = new JobManager(rt, { maxConcurrent: 1 });
      try {
        const id = jobs.runJob({
          target_path: clip,
          output_path: path.join(dir, 'out.mp4'),
          processors: ['face_swapper'],
          source_paths: [path.join(MEDIA, 'fr_obama.jpg')],
          parameters: { detect_tiling: 'off' },
        });
        const info = await jobs.waitForJob(id);
        assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
        assert.strictEqual(info.result.frames, 40);
        const pool = rt.store.poolStats();
        // Decoded frames, swapped copies and scratch views: allocated a few times, then reused.
        assert.ok(pool.allocated <= 16 && pool.reused >= 100, JSON.stringify(pool));
        assert.strictEqual(rt.store.stats().frames, 0);
      } finally {
        await jobs.close();
        await rt.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
