'use strict';
// The privacy blur's kernels (src/runtime/vision/blur.ts, yuv-masks.ts; BENCHMARKS.md §18): the
// Gaussian on a grid of σ/2-pixel cells against the exact Gaussian (in the middle of a picture
// and at every edge of an odd-sized one), pixelate against a plain reference, many overlapping
// faces leaving everything outside them bit-exact, the ellipse restore against the all-faces
// test it replaced, and no work buffer allocated per face (the scratch arena, also through the
// runtime's blur stage). Their cost against strength and face count is a benchmark
// (bench/blur-region.js), not a test.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');
const {
  blurRasterRegion,
  blurRasterRegions,
  pixelateRasterRegion,
  restoreOutsideEllipses,
  gaussianBlurRegion,
  frameRaster,
  blurGroups,
  blurYuvRegionInPlace,
  blurYuvRegionsInPlace,
  pixelateYuvRegionInPlace,
  fillYuvRegionInPlace,
  chromaRect,
  Scratch,
  rgbToYuv,
  yuvLayout,
  expandBox,
  clipRect,
} = require('../dist/runtime/internal');
const { createRuntime } = require('../dist/runtime');
const { MEDIA } = require('./helpers/fixtures');

/** n face boxes of minSize–maxSize px at seeded random places, enlarged by 0.2 as the blur stage does (they overlap). */
function crowd(n, width, height, minSize, maxSize, seed = 7) {
  let s = seed;
  const random = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => {
    const w = minSize + random() * (maxSize - minSize),
      h = w * 1.2;
    const x = random() * (width - w),
      y = random() * (height - h);
    return expandBox([x, y, x + w, y + h], 0.2, width, height);
  });
}

/** Mean and max |a − b| over a rect of two rasters of the same layout. */
function difference(a, b, raster, rect) {
  let max = 0,
    sum = 0,
    n = 0;
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    for (let p = raster.offset + (y * raster.width + rect.x) * raster.channels, end = p + rect.width * raster.channels; p < end; p++, n++) {
      const d = Math.abs(a[p] - b[p]);
      sum += d;
      if (d > max) max = d;
    }
  }
  return { mean: sum / n, max };
}

/** Bytes of `a` and `b` that differ outside every rect (rects in the raster's samples). */
function changedOutside(a, b, raster, rects) {
  let changed = 0;
  for (let y = 0; y < raster.height; y++) {
    for (let x = 0; x < raster.width; x++) {
      if (rects.some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)) continue;
      for (let c = 0, p = raster.offset + (y * raster.width + x) * raster.channels; c < raster.channels; c++) if (a[p + c] !== b[p + c]) changed++;
    }
  }
  return changed;
}

describe('privacy blur kernels', function () {
  this.timeout(60000);
  let picture; // fr_two_people.jpg cut to an odd 1125 × 659
  before(async () => {
    const { data, info } = await sharp(path.join(MEDIA, 'fr_two_people.jpg')).extract({ left: 0, top: 0, width: 1125, height: 659 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    picture = { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) };
  });

  it('the Gaussian on the grid stays within 3 grey levels of the exact Gaussian (σ 3 … 60), in the middle and at every edge', function () {
    // Measured on this picture (FF_PRINT=1 prints it): from σ = 3 to 60 at every place below,
    // max 1–2 (3 once), mean 0.01–0.4 — 0.68 for σ = 60 on the 70-pixel face, which then spans
    // 2–3 cells; σ = 2 (the grid's first, 2-pixel cells) mean ≤ 0.16, max 4. The earlier
    // coarse grid (σ ≥ 12) was up to 11 levels off at the frame's top edge (it repeated the
    // edge cell, not the edge row).
    const scratch = new Scratch();
    const { width: W, height: H } = picture;
    const places = {
      middle: { x: 480, y: 200, width: 70, height: 84 },
      'top-left corner': { x: 0, y: 0, width: 90, height: 100 },
      'bottom-right corner (odd size)': { x: W - 77, y: H - 91, width: 77, height: 91 },
      'left edge, odd corner': { x: 0, y: 301, width: 61, height: 73 },
      'large face at the top': { x: 180, y: 10, width: 250, height: 270 },
    };
    const lines = [];
    for (const sigma of [2, 3, 5, 8, 12, 20, 45, 60]) {
      for (const [place, rect] of Object.entries(places)) {
        if (sigma > 20 && rect.width > 100) continue; // the exact reference would take seconds
        const exact = gaussianBlurRegion(picture, rect, sigma, { exact: true });
        const grid = { ...picture, data: new Uint8Array(picture.data) };
        blurRasterRegion(frameRaster(grid), rect, sigma, { scratch });
        const d = difference(grid.data, exact.data, frameRaster(picture), rect);
        lines.push(`σ=${sigma} ${place}: mean ${d.mean.toFixed(3)} max ${d.max}`);
        if (process.env.FF_PRINT) console.log(lines[lines.length - 1]);
        assert.ok(d.mean <= (sigma < 3 ? 0.3 : 0.8) && d.max <= (sigma < 3 ? 5 : 3), lines[lines.length - 1]);
        assert.strictEqual(changedOutside(grid.data, picture.data, frameRaster(picture), [rect]), 0, `σ=${sigma} ${place}: outside unchanged`);
      }
    }
    // Below σ = 2 the exact kernel itself runs (≤ 13 taps): byte for byte.
    const small = { ...picture, data: new Uint8Array(picture.data) };
    blurRasterRegion(frameRaster(small), places.middle, 1.5, { scratch });
    assert.ok(Buffer.from(small.data).equals(Buffer.from(gaussianBlurRegion(picture, places.middle, 1.5, { exact: true }).data)));
  });

  it('the grid blur of a region equals the same pixels of a whole-raster blur, at the border too (cells anchored at the origin)', function () {
    const plane = { data: new Uint8Array(picture.data.filter((_, i) => i % 3 === 1)), offset: 0, width: picture.width, height: picture.height, channels: 1 };
    for (const sigma of [4, 11, 30]) {
      const whole = { ...plane, data: new Uint8Array(plane.data) };
      blurRasterRegion(whole, { x: 0, y: 0, width: plane.width, height: plane.height }, sigma);
      for (const rect of [
        { x: 0, y: 0, width: 83, height: 97 },
        { x: 611, y: 257, width: 71, height: 85 },
        { x: plane.width - 65, y: plane.height - 49, width: 65, height: 49 },
      ]) {
        const part = { ...plane, data: new Uint8Array(plane.data) };
        blurRasterRegion(part, rect, sigma);
        const d = difference(part.data, whole.data, plane, rect);
        assert.ok(d.max <= 1, `σ=${sigma} ${JSON.stringify(rect)}: max ${d.max}`);
      }
    }
  });

  it('overlapping regions are grouped into one blur (at the largest σ) when that is cheaper; disjoint ones never', function () {
    const face = { x: 100, y: 100, width: 60, height: 72 };
    const held = { x: 94, y: 95, width: 72, height: 86 }; // the same face, held: enlarged around it
    const neighbour = { x: 150, y: 110, width: 60, height: 72 }; // overlaps the face by 10 px
    const far = { x: 400, y: 100, width: 60, height: 72 };
    const below = { x: 160, y: 300, width: 60, height: 72 }; // overlaps nothing
    const groups = blurGroups([face, held, neighbour, far, below], [8, 9.5, 8.5, 8, 8]);
    assert.deepStrictEqual(
      groups.map((g) => g.members),
      [[0, 1, 2], [3], [4]],
    );
    assert.deepStrictEqual(
      groups.map((g) => g.sigma),
      [9.5, 8, 8],
    );
    // A small face barely touching a big one's corner: one blur of the bounding box would read
    // far more than the two apart, so they stay apart (each its own σ).
    const big = { x: 0, y: 0, width: 400, height: 400 },
      corner = { x: 398, y: 398, width: 40, height: 40 };
    assert.deepStrictEqual(
      blurGroups([big, corner], [60, 6]).map((g) => g.members),
      [[0], [1]],
    );
    assert.deepStrictEqual(blurGroups([], []), []);
  });

  it("a union blur writes the union only, each sample once, equal to the bounding box's blur there; one rect is the region blur", function () {
    const plane = { data: new Uint8Array(picture.data.filter((_, i) => i % 3 === 2)), offset: 0, width: picture.width, height: picture.height, channels: 1 };
    const rects = [
      { x: 300, y: 200, width: 80, height: 96 },
      { x: 350, y: 250, width: 80, height: 96 },
      { x: 296, y: 320, width: 30, height: 30 },
    ];
    const box = { x: 296, y: 200, width: 134, height: 150 };
    for (const sigma of [1.5, 6, 14]) {
      const union = { ...plane, data: new Uint8Array(plane.data) };
      blurRasterRegions(union, rects, sigma);
      const whole = { ...plane, data: new Uint8Array(plane.data) };
      blurRasterRegion(whole, box, sigma);
      assert.strictEqual(changedOutside(union.data, plane.data, plane, rects), 0, `σ=${sigma}: outside the union unchanged (the box's corners too)`);
      for (const r of rects) assert.strictEqual(difference(union.data, whole.data, plane, r).max, 0, `σ=${sigma}: the union holds the box's blur`);
      const one = { ...plane, data: new Uint8Array(plane.data) };
      blurRasterRegions(one, [rects[0]], sigma);
      const alone = { ...plane, data: new Uint8Array(plane.data) };
      blurRasterRegion(alone, rects[0], sigma);
      assert.ok(Buffer.from(one.data).equals(Buffer.from(alone.data)), `σ=${sigma}: one rect`);
    }
  });

  it('pixelate of a one-channel plane equals the plain block means, with the grid anchored before the region', function () {
    const plane = { data: new Uint8Array(picture.data.filter((_, i) => i % 3 === 0)), offset: 0, width: picture.width, height: picture.height, channels: 1 };
    const rect = { x: 301, y: 203, width: 61, height: 47 };
    for (const [block, ax, ay] of [
      [6, 300, 202],
      [5, 301, 203],
      [16, 290, 190],
      [1, 301, 203],
    ]) {
      const out = { ...plane, data: new Uint8Array(plane.data) };
      pixelateRasterRegion(out, rect, block, ax, ay, new Scratch());
      for (let by = ay; by < rect.y + rect.height; by += block) {
        for (let bx = ax; bx < rect.x + rect.width; bx += block) {
          const cell = clipRect({ x: bx, y: by, width: block, height: block }, plane.width, plane.height);
          const x0 = Math.max(cell.x, rect.x),
            x1 = Math.min(cell.x + cell.width, rect.x + rect.width);
          const y0 = Math.max(cell.y, rect.y),
            y1 = Math.min(cell.y + cell.height, rect.y + rect.height);
          if (x1 <= x0 || y1 <= y0) continue;
          let sum = 0;
          for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += plane.data[y * plane.width + x];
          const mean = Math.round(sum / ((x1 - x0) * (y1 - y0)));
          for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) assert.strictEqual(out.data[y * plane.width + x], mean, `block ${block} at ${bx},${by}`);
        }
      }
      assert.strictEqual(changedOutside(out.data, plane.data, plane, [rect]), 0);
    }
  });

  it('a crowd of 100 overlapping faces (YUV planes and RGB): every face masked, nothing outside them changed, in every mode', function () {
    const { width: W, height: H } = picture;
    const rects = crowd(100, W, H, 30, 70);
    const yuv = rgbToYuv(picture);
    const L = yuvLayout(W, H);
    const planes = [
      [{ data: yuv.data, offset: 0, width: W, height: H, channels: 1 }, rects],
      [{ data: yuv.data, offset: L.uOffset, width: L.cw, height: L.ch, channels: 1 }, rects.map((r) => chromaRect(r, W, H))],
      [{ data: yuv.data, offset: L.vOffset, width: L.cw, height: L.ch, channels: 1 }, rects.map((r) => chromaRect(r, W, H))],
    ];
    const scratch = new Scratch();
    const masks = {
      gaussian: (f, r) => blurYuvRegionInPlace(f, r, Math.max(r.width, r.height) * 0.146, { scratch }),
      pixelate: (f, r) => pixelateYuvRegionInPlace(f, r, 8, scratch),
      solid: (f, r) => fillYuvRegionInPlace(f, r, [0, 0, 0], scratch),
    };
    for (const [mode, mask] of Object.entries(masks)) {
      const out = { ...yuv, data: new Uint8Array(yuv.data) };
      for (const r of rects) mask(out, r);
      for (const [plane, own] of planes) assert.strictEqual(changedOutside(out.data, yuv.data, plane, own), 0, `${mode}: samples outside every face unchanged`);
      // Every face changed: at least half of its luma samples differ from the picture.
      for (const r of rects) {
        let changed = 0;
        for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) if (out.data[y * W + x] !== yuv.data[y * W + x]) changed++;
        assert.ok(changed >= r.width * r.height * 0.5, `${mode}: face ${JSON.stringify(r)} changed ${changed} samples`);
      }
    }
    const rgb = { ...picture, data: new Uint8Array(picture.data) };
    for (const r of rects) blurRasterRegion(frameRaster(rgb), r, Math.max(r.width, r.height) * 0.146, { scratch });
    assert.strictEqual(changedOutside(rgb.data, picture.data, frameRaster(picture), rects), 0, 'RGB: pixels outside every face unchanged');
  });

  it('the ellipse restore tests only the faces meeting a region and gives the same bytes as testing every face', function () {
    const { width: W, height: H } = picture;
    const rects = crowd(60, W, H, 30, 90, 11);
    const masked = { ...picture, data: new Uint8Array(picture.data) };
    for (const r of rects) blurRasterRegion(frameRaster(masked), r, 8);
    const got = { ...masked, data: new Uint8Array(masked.data) };
    restoreOutsideEllipses(frameRaster(got), frameRaster(picture), rects, 1);
    // Reference: the former per-pixel test against every ellipse, first region wins.
    const want = new Uint8Array(masked.data);
    const regions = rects.map((r) => clipRect(r, W, H));
    const inside = (px, py) => rects.some((r) => ((px - (r.x + r.width / 2)) / (r.width / 2)) ** 2 + ((py - (r.y + r.height / 2)) / (r.height / 2)) ** 2 <= 1);
    regions.forEach((g, index) => {
      for (let y = g.y; y < g.y + g.height; y++) {
        for (let x = g.x; x < g.x + g.width; x++) {
          if (inside(x + 0.5, y + 0.5)) continue;
          if (regions.slice(0, index).some((e) => x >= e.x && x < e.x + e.width && y >= e.y && y < e.y + e.height)) continue;
          for (let c = 0; c < 3; c++) want[(y * W + x) * 3 + c] = picture.data[(y * W + x) * 3 + c];
        }
      }
    });
    assert.ok(Buffer.from(got.data).equals(Buffer.from(want)));
  });

  /**
   * Runs `fn` with the global typed-array constructors counting every new buffer (a length or
   * an array-like, not a view over an existing ArrayBuffer) the code under test allocates.
   */
  function countingBuffers(fn) {
    const names = ['Uint8Array', 'Uint8ClampedArray', 'Int32Array', 'Float32Array', 'Float64Array'];
    const saved = names.map((name) => globalThis[name]);
    let buffers = 0;
    names.forEach((name, i) => {
      globalThis[name] = new Proxy(saved[i], {
        construct(target, args, newTarget) {
          if (!(args[0] instanceof ArrayBuffer)) buffers++;
          return Reflect.construct(target, args, newTarget === globalThis[name] ? target : newTarget);
        },
      });
    });
    try {
      fn();
    } finally {
      names.forEach((name, i) => {
        globalThis[name] = saved[i];
      });
    }
    return buffers;
  }

  it('no work buffer is allocated per face: a warm arena serves 60 faces of every size and mode without a new buffer', function () {
    const yuv = rgbToYuv(picture);
    const rects = crowd(60, picture.width, picture.height, 20, 120, 3);
    const scratch = new Scratch();
    const copies = () => [
      { ...yuv, data: new Uint8Array(yuv.data) },
      { ...picture, data: new Uint8Array(picture.data) },
    ];
    const pass = (strength, [f, rgb]) => {
      for (const r of rects) {
        const size = Math.max(r.width, r.height);
        blurYuvRegionInPlace(f, r, Math.max(1.5, size * (0.02 + 0.18 * strength)), { scratch });
        blurYuvRegionsInPlace(f, [r, { ...r, x: r.x + 5, y: r.y + 3 }], Math.max(1.5, size * (0.02 + 0.18 * strength)), { scratch });
        pixelateYuvRegionInPlace(f, r, Math.max(3, Math.round(size * (0.02 + 0.14 * strength))), scratch);
        fillYuvRegionInPlace(f, { ...r, width: r.width - 1 }, [9, 9, 9], scratch);
        blurRasterRegion(frameRaster(rgb), r, Math.max(1.5, size * (0.02 + 0.18 * strength)), { scratch });
        pixelateRasterRegion(frameRaster(rgb), r, Math.max(3, Math.round(size * (0.02 + 0.14 * strength))), r.x & ~1, r.y & ~1, scratch);
      }
    };
    const strengths = [0, 0.2, 0.6, 1];
    // Every path warm: the exact kernel (σ < 2), each grid, odd chroma edges, RGB and planes.
    for (const strength of strengths) pass(strength, copies());
    const warm = scratch.allocations;
    assert.ok(warm > 0 && warm <= 32, `a handful of role buffers for 240 faces in every mode (${warm})`);
    const frames = strengths.map(() => copies());
    const buffers = countingBuffers(() => strengths.forEach((strength, i) => pass(strength, frames[i])));
    assert.strictEqual(scratch.allocations, warm, 'the arena allocated no buffer once warm');
    assert.strictEqual(buffers, 0, 'no typed-array buffer allocated at all while masking 1200 faces');
    // The counter does count: a blur without an arena allocates.
    assert.ok(countingBuffers(() => blurYuvRegionInPlace(copies()[0], rects[0], 9)) > 0);
    // A dirty arena gives the same bytes as a fresh one.
    const dirty = new Scratch();
    for (const role of ['blur.cells', 'blur.pass', 'blur.kernel', 'blur.wx', 'blur.wide']) dirty.float32(role, 1 << 18).fill(NaN);
    dirty.int32('blur.rowsum', 1 << 16).fill(-7);
    dirty.int32('blur.left', 1 << 16).fill(3);
    dirty.int32('blur.rows', 64).fill(5000);
    dirty.float64('pixelate.sums', 1 << 12).fill(1e9);
    dirty.uint8('yuv.edge', 1 << 12).fill(201);
    const [f1] = copies(),
      [f2] = copies();
    for (const r of rects.slice(0, 20)) {
      blurYuvRegionInPlace(f1, r, 9.5, { scratch: dirty });
      blurYuvRegionInPlace(f2, r, 9.5);
      pixelateYuvRegionInPlace(f1, { ...r, x: r.x + 1 }, 7, dirty);
      pixelateYuvRegionInPlace(f2, { ...r, x: r.x + 1 }, 7);
    }
    assert.ok(Buffer.from(f1.data).equals(Buffer.from(f2.data)));
  });

  describe("through the runtime's blur stage", function () {
    let rt;
    before(() => {
      rt = createRuntime({ sweepIntervalMs: 0 });
    });
    after(async () => {
      await rt.close();
    });

    it('a face and an overlapping box of the same face (a held one) are blurred once, together, at the larger σ', async function () {
      const token = await rt.createToken({ target: fs.readFileSync(path.join(MEDIA, 'fr_two_people.jpg')), operations: [] });
      const frame = rt.frame(token.target.frame);
      const yuv = rgbToYuv(frame);
      const yuvRef = rt.store.put(yuv, { owner: token.request_id });
      try {
        const faces = [
          { bbox: [200, 40, 400, 270], score: 0.9 },
          { bbox: [210, 52, 415, 285], score: 0.9 },
          { bbox: [760, 40, 960, 270], score: 0.9 },
        ];
        const t = rt.acceptToken(JSON.parse(JSON.stringify({ ...token, target: { ...token.target, frame: yuvRef }, faces })));
        const out = await rt.process('blur', t, { force: true });
        const got = Buffer.from(rt.store.pixels(out.target.frame).data);
        rt.store.release(out.target.frame);
        const rects = faces.map((f) => expandBox(f.bbox, 0.2, frame.width, frame.height));
        const sigma = (r) => Math.max(1.5, Math.max(r.width, r.height) * (0.02 + 0.18 * 0.7));
        const want = { ...yuv, data: new Uint8Array(yuv.data) };
        blurYuvRegionsInPlace(want, rects.slice(0, 2), Math.max(sigma(rects[0]), sigma(rects[1])));
        blurYuvRegionInPlace(want, rects[2], sigma(rects[2]));
        assert.ok(got.equals(Buffer.from(want.data)), 'the two boxes of one face: one blur of their union; the other face alone');
        // Blurring them one after the other (as the earlier kernels did) blurs the overlap twice.
        const twice = { ...yuv, data: new Uint8Array(yuv.data) };
        rects.forEach((r) => blurYuvRegionInPlace(twice, r, sigma(r)));
        assert.ok(!got.equals(Buffer.from(twice.data)));
      } finally {
        rt.store.release(yuvRef);
        rt.release(token);
      }
    });

    it("30 faces on a YUV frame: the runtime's arena stops growing, and gives the bytes of a stage without an arena", async function () {
      const { blur } = require('../dist/runtime/internal');
      const token = await rt.createToken({ target: fs.readFileSync(path.join(MEDIA, 'fr_two_people.jpg')), operations: [] });
      const frame = rt.frame(token.target.frame);
      const yuvRef = rt.store.put(rgbToYuv(frame), { owner: token.request_id });
      const faces = crowd(30, frame.width, frame.height, 40, 60, 5).map((r) => ({ bbox: [r.x + r.width / 7, r.y + r.height / 7, r.x + (r.width * 6) / 7, r.y + (r.height * 6) / 7], score: 0.9 }));
      const context = rt['context'];
      const bytesOf = async (run) => {
        const out = await run();
        assert.notStrictEqual(out.state, 'failed', JSON.stringify(out.error));
        const bytes = Buffer.from(rt.store.pixels(out.target.frame).data);
        rt.store.release(out.target.frame);
        return bytes;
      };
      try {
        for (const blur_mode of ['gaussian', 'pixelate', 'solid']) {
          const t = rt.acceptToken(JSON.parse(JSON.stringify({ ...token, target: { ...token.target, frame: yuvRef }, faces, parameters: { ...token.parameters, blur_mode } })));
          const reference = await bytesOf(() => blur(t, { ...context, scratch: undefined }, { force: true }));
          const first = await bytesOf(() => rt.process('blur', t, { force: true }));
          assert.ok(first.equals(reference), `${blur_mode}: the arena's result equals the stage's without one`);
          const warm = context.scratch.allocations;
          for (let i = 0; i < 3; i++) assert.ok((await bytesOf(() => rt.process('blur', t, { force: true }))).equals(first), `${blur_mode}: run ${i + 2}`);
          assert.strictEqual(context.scratch.allocations, warm, `${blur_mode}: 30 faces × 3 runs allocate no buffer once warm`);
        }
      } finally {
        rt.store.release(yuvRef);
        rt.release(token);
      }
    });
  });
});
