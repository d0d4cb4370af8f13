'use strict';
// The scratch arena and the out-buffer forms of the vision functions the embedded swap uses:
// with borrowed (and dirty) buffers they give exactly the bytes/floats of the allocating forms,
// and the embedded swap through the runtime's arena gives the same frame, run after run, on an
// RGB picture and on a YUV 4:2:0 video frame, as a swap without any arena.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const {
  Scratch,
  polygonMask,
  featherMask,
  combineMin,
  crop,
  colorTransferInto,
  rgbToYuv,
  createRuntime,
  decodeImage,
  analyseJobSource,
  frameToken,
  swap,
  swapFaceEmbedded,
} = require('../dist/runtime/internal');
const { MEDIA } = require('./helpers/fixtures');

const frame = (w, h, fill = (x, y, c) => (x * 7 + y * 13 + c * 50) & 255) => {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = fill(x, y, c);
  return { width: w, height: h, channels: 3, data };
};
/** Exact equality of two typed arrays, bit for bit (so -0 vs 0 or NaN payloads would show). */
const sameBits = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
/** A borrowed buffer that held other data before: garbage everywhere, also past the view. */
function dirtyF32(scratch, name, n) {
  scratch
    .float32(name, n * 2)
    .fill(0.625)
    .fill(NaN, 0, n >> 1);
  return scratch.float32(name, n);
}
const HEXAGON = [
  [3.5, 1],
  [17, 2.2],
  [23.4, 11],
  [16, 19.6],
  [4, 18],
  [0.6, 9.3],
];

describe('scratch arena and out-buffer vision functions', () => {
  it('Scratch hands out exact-length views by role, reuses and grows their memory, keeps roles apart, and frees on clear', () => {
    const s = new Scratch();
    const a = s.float32('a', 100);
    assert.strictEqual(a.length, 100);
    a.fill(3);
    const again = s.float32('a', 60);
    assert.strictEqual(again.length, 60);
    assert.strictEqual(again.buffer, a.buffer, "a smaller request reuses the role's memory");
    assert.strictEqual(again[0], 3, 'contents are left as the last user left them');
    const grown = s.float32('a', 5000);
    assert.strictEqual(grown.length, 5000);
    assert.notStrictEqual(grown.buffer, a.buffer);
    assert.strictEqual(s.float32('a', 4000).buffer, grown.buffer);
    const b = s.float32('b', 100);
    assert.notStrictEqual(b.buffer, s.float32('a', 100).buffer, 'two roles never share memory');
    assert.ok(s.uint8('a', 10) instanceof Uint8Array && s.float64('a', 10) instanceof Float64Array);
    assert.strictEqual(s.uint8('z', 0).length, 0);
    assert.ok(s.bytes() >= 5000 * 4 + 100 * 4 + 10 + 80);
    assert.throws(() => s.float32('a', -1), RangeError);
    assert.throws(() => s.uint8('a', 1.5), RangeError);
    s.clear();
    assert.strictEqual(s.bytes(), 0);
    // A buffer over 8 MB (a 4K face) is handed out fresh and not kept.
    assert.strictEqual(s.float32('huge', 3e6).length, 3e6);
    assert.strictEqual(s.bytes(), 0);
  });

  it('polygonMask into a dirty buffer equals the fresh mask (outside cleared), and refuses a wrong size', () => {
    const s = new Scratch();
    for (const [w, h] of [
      [25, 21],
      [12, 30],
    ]) {
      const fresh = polygonMask(w, h, HEXAGON);
      const out = dirtyF32(s, 'poly', w * h);
      assert.strictEqual(polygonMask(w, h, HEXAGON, out), out);
      assert.ok(sameBits(out, fresh), `${w}×${h}`);
    }
    const degenerate = dirtyF32(s, 'poly', 16);
    polygonMask(
      4,
      4,
      [
        [0, 0],
        [3, 3],
      ],
      degenerate,
    );
    assert.ok(
      degenerate.every((v) => v === 0),
      'fewer than 3 points: an all-zero mask, also in a dirty buffer',
    );
    assert.throws(() => polygonMask(5, 5, HEXAGON, new Float32Array(24)), RangeError);
  });

  it('featherMask into a dirty out with dirty work buffers equals the allocating form (radii 0, 2, 7.5, 30; in place too)', () => {
    const w = 25,
      h = 21;
    const mask = polygonMask(w, h, HEXAGON);
    mask[40] = 0.5; // a soft value, so m·(…) is exercised
    for (const radius of [0, 2, 7.5, 30]) {
      const fresh = featherMask(mask, w, h, radius);
      const work = new Scratch();
      for (const role of ['featherMask.blurred']) dirtyF32(work, role, w * h * 3);
      work.float64('featherMask.line', 500).fill(-7);
      work.float64('featherMask.tmp', 500).fill(1e9);
      const out = dirtyF32(new Scratch(), 'o', w * h);
      assert.strictEqual(featherMask(mask, w, h, radius, out, work), out);
      assert.ok(sameBits(out, fresh), `radius ${radius}`);
      // Twice more through the same (now used) work buffers, once in place.
      assert.ok(sameBits(featherMask(mask, w, h, radius, out, work), fresh));
      const inPlace = new Float32Array(mask);
      assert.ok(sameBits(featherMask(inPlace, w, h, radius, inPlace, work), fresh), `in place, radius ${radius}`);
    }
    assert.throws(() => featherMask(mask, w, h, 3, new Float32Array(3)), RangeError);
  });

  it('combineMin into a dirty buffer (or in place) equals the fresh minimum', () => {
    const a = Float32Array.from({ length: 300 }, (_, i) => Math.abs(Math.sin(i)));
    const b = Float32Array.from({ length: 300 }, (_, i) => (i % 7) / 6);
    const fresh = combineMin(a, b);
    const out = dirtyF32(new Scratch(), 'm', 300);
    assert.strictEqual(combineMin(a, b, out), out);
    assert.ok(sameBits(out, fresh));
    const inPlace = new Float32Array(a);
    assert.ok(sameBits(combineMin(inPlace, b, inPlace), fresh));
    assert.throws(() => combineMin(a, b, new Float32Array(299)), RangeError);
  });

  it('crop into a dirty buffer equals the fresh crop', () => {
    const f = frame(40, 30);
    const rect = { x: 5, y: 7, width: 17, height: 11 };
    const fresh = crop(f, rect);
    const out = new Scratch().uint8('c', 17 * 11 * 3).fill(0xab);
    const made = crop(f, rect, out);
    assert.strictEqual(made.data, out);
    assert.deepStrictEqual({ ...made, data: undefined }, { ...fresh, data: undefined });
    assert.ok(sameBits(out, fresh.data));
    assert.throws(() => crop(f, rect, new Uint8Array(10)), RangeError);
  });

  it('colorTransferInto with a dirty Lab buffer equals the allocating form, and a target rect reads the same as a crop', () => {
    const w = 25,
      h = 21;
    const mask = featherMask(polygonMask(w, h, HEXAGON), w, h, 4);
    const target = frame(60, 50, (x, y, c) => (90 + x * 2 + y + c * 30) & 255);
    const rect = { x: 20, y: 13, width: w, height: h };
    const src = () => frame(w, h, (x, y, c) => (x * 11 + y * 5 + c * 70) & 255);
    const fresh = src();
    colorTransferInto(fresh, mask, crop(target, rect), mask);
    const lab = dirtyF32(new Scratch(), 'lab', w * h * 3);
    for (let run = 0; run < 2; run++) {
      const viaRect = src();
      colorTransferInto(viaRect, mask, target, mask, undefined, rect, lab);
      assert.ok(sameBits(viaRect.data, fresh.data), `run ${run}`);
    }
    assert.ok(!sameBits(src().data, fresh.data), 'the transfer changed nothing');
    assert.throws(
      () => colorTransferInto(src(), mask, target, mask, undefined, rect, new Float32Array(5)),
      (e) => e.code === 'E_BAD_PARAMETER',
    );
  });
});

describe('embedded swap through the scratch arena', function () {
  it('swapFaceEmbedded with a dirty arena equals the fresh swap also where the warp leaves holes (coverage is cleared)', () => {
    // 68 points: a ring of 20 (the hull) and 48 inside; one inner source point is NaN, so the
    // warp skips the triangles around it and coverage must be 0 there, whatever the arena held.
    const points = (cx, cy, scale) => {
      const p = [];
      for (let i = 0; i < 20; i++) p.push([cx + scale * 60 * Math.cos((i / 20) * 2 * Math.PI), cy + scale * 60 * Math.sin((i / 20) * 2 * Math.PI)]);
      for (let i = 0; p.length < 68; i++) p.push([cx + scale * (((i % 7) - 3) * 12 + (i % 3)), cy + scale * ((Math.floor(i / 7) - 3) * 11 + (i % 2))]);
      return p;
    };
    const target = frame(220, 200, (x, y, c) => (60 + x + y * 2 + c * 40) & 255);
    const sourceFrame = frame(160, 150, (x, y, c) => (x * 5 + y * 3 + c * 90) & 255);
    const sourcePoints = points(80, 75, 0.9);
    sourcePoints[40] = [NaN, NaN];
    const targetPoints = points(110, 100, 1);
    const fresh = { ...target, data: new Uint8Array(target.data) };
    const rect = swapFaceEmbedded(sourceFrame, sourcePoints, target, targetPoints, fresh, 0.8);
    assert.ok(rect && !sameBits(fresh.data, target.data));
    const dirty = new Scratch();
    dirty.float32('swap.coverage', 1 << 16).fill(1);
    dirty.uint8('swap.warped', 3 << 16).fill(0xcd);
    for (let run = 0; run < 2; run++) {
      const out = { ...target, data: new Uint8Array(target.data) };
      assert.deepStrictEqual(swapFaceEmbedded(sourceFrame, sourcePoints, target, targetPoints, out, 0.8, dirty), rect);
      assert.ok(sameBits(out.data, fresh.data), `run ${run}`);
    }
  });

  this.timeout(60000);
  let rt;
  before(() => {
    rt = createRuntime({ sweepIntervalMs: 0 });
  });
  after(async () => {
    await rt.close();
  });

  /** A frame token as a video job makes it (source analysed once, carried along), detected and landmarked. */
  async function jobToken(file) {
    const stages = ['detect', 'landmark', 'swap'];
    const { token: sourceToken, source } = await analyseJobSource(rt, path.join(MEDIA, 'fr_obama.jpg'), 'job-s', false, {});
    const picture = await decodeImage(fs.readFileSync(path.join(MEDIA, file)));
    const ref = rt.store.put(picture, { owner: 'job-s' });
    const token = frameToken({ jobId: 'job-s', ref, index: 0, pts: 0, width: picture.width, height: picture.height, source, stages, parameters: {}, ttlMs: 60000 });
    return { token: await rt.run(token, ['detect', 'landmark']), sourceToken };
  }

  /** The swapped frame's bytes (RGB or YUV), the frame released. */
  async function swapped(run) {
    const out = await run();
    assert.notStrictEqual(out.state, 'failed', JSON.stringify(out.error));
    const bytes = Buffer.from(rt.store.pixels(out.target.frame).data);
    rt.store.release(out.target.frame);
    return bytes;
  }

  it('gives the same bytes run after run (RGB and YUV frames), as without an arena and as with a dirty one, and allocates its buffers once', async () => {
    const { token, sourceToken } = await jobToken('fr_two_people.jpg');
    try {
      assert.strictEqual(token.faces.length, 2, "two faces of different sizes share the arena's buffers");
      const context = rt['context'];
      assert.ok(context.scratch instanceof Scratch, 'the runtime gives its processors an arena');
      const noArena = { ...context, scratch: undefined };
      const dirty = new Scratch();
      for (const role of ['swap.coverage', 'swap.hull', 'swap.feather', 'swap.mask', 'swap.lab', 'featherMask.blurred']) dirtyF32(dirty, role, 1 << 20);
      dirty.uint8('swap.warped', 3 << 20).fill(0xcd);
      dirty.float64('featherMask.line', 4096).fill(NaN);
      dirty.float64('featherMask.tmp', 4096).fill(-1);
      const yuvRef = rt.store.put(rgbToYuv(rt.frame(token.target.frame)), { owner: 'job-s' });
      const yuvToken = { ...token, target: { ...token.target, frame: yuvRef } };

      for (const [label, t] of [
        ['RGB', token],
        ['YUV', yuvToken],
      ]) {
        const reference = await swapped(() => swap(t, noArena, { force: true }));
        assert.ok(!reference.equals(Buffer.from(rt.store.pixels(t.target.frame).data)), `${label}: the swap changed nothing`);
        const first = await swapped(() => rt.process('swap', t, { force: true }));
        assert.ok(first.equals(reference), `${label}: the arena's first run differs from the swap without an arena`);
        const held = context.scratch.bytes();
        assert.ok(held > 0, "the swap borrowed from the runtime's arena");
        for (let i = 0; i < 8; i++) {
          assert.ok((await swapped(() => rt.process('swap', t, { force: true }))).equals(first), `${label}: run ${i + 2} differs from the first`);
        }
        assert.strictEqual(context.scratch.bytes(), held, `${label}: a warm arena does not grow`);
        assert.ok((await swapped(() => swap(t, { ...context, scratch: dirty }, { force: true }))).equals(reference), `${label}: an arena holding other data gives other bytes`);
      }
    } finally {
      rt.store.releaseOwner('job-s');
      rt.release(sourceToken);
    }
  });
});
