'use strict';
// Vision helpers on real pictures: codec, affine warp, similarity fit, NMS, blur/pixelate,
// Delaunay, piecewise warp, masks, blending, colour transfer.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');
const {
  decodeImage,
  encodeImage,
  warpAffine,
  invertAffine,
  multiplyAffine,
  applyAffine,
  estimateSimilarity,
  similarityScale,
  similarityAngle,
  templatePoints,
  nms,
  gaussianBlurRegion,
  pixelateRegion,
  resizeBilinear,
  toCHW,
  fromCHW,
  delaunay,
  warpPiecewiseAffineInto,
  polygonMask,
  featherMask,
  blendMaskedInto,
  colorTransferInto,
  maskedStats,
  convexHull,
} = require('../dist/runtime/internal');

const { MEDIA } = require('./helpers/fixtures');
const load = (f) => decodeImage(fs.readFileSync(path.join(MEDIA, f)));
const same = (a, b) => a.width === b.width && a.height === b.height && Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)) === 0;
function changedOutside(a, b, rect) {
  let n = 0;
  for (let y = 0; y < a.height; y++)
    for (let x = 0; x < a.width; x++) {
      if (x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height) continue;
      const i = (y * a.width + x) * 3;
      if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) n++;
    }
  return n;
}

describe('vision helpers', function () {
  let astronaut;
  before(async function () {
    astronaut = await load('astronaut.png');
  });

  it('decode applies EXIF orientation; encode/decode round trips', async function () {
    const wide = await sharp(path.join(MEDIA, 'messi5.jpg')).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const frame = await decodeImage(wide);
    assert.deepStrictEqual([frame.width, frame.height], [342, 548], 'rotated by EXIF orientation 6');
    const png = await encodeImage(astronaut, { format: 'png' });
    assert.ok(same(await decodeImage(png), astronaut));
  });

  it('warpAffine: identity copies, an integer translation shifts exactly', function () {
    assert.ok(same(warpAffine(astronaut, [1, 0, 0, 0, 1, 0], 512, 512), astronaut));
    const shifted = warpAffine(astronaut, [1, 0, 7, 0, 1, -3], 512, 512, { border: 'constant' });
    for (const [x, y] of [
      [100, 100],
      [300, 200],
      [50, 400],
    ]) {
      const a = ((y + 3) * 512 + (x - 7)) * 3,
        b = (y * 512 + x) * 3;
      assert.deepStrictEqual([...shifted.data.subarray(b, b + 3)], [...astronaut.data.subarray(a, a + 3)]);
    }
    const m = [0.8, -0.3, 12, 0.3, 0.8, -5];
    const id = multiplyAffine(m, invertAffine(m));
    [1, 0, 0, 0, 1, 0].forEach((v, i) => assert.ok(Math.abs(id[i] - v) < 1e-9));
  });

  it('estimateSimilarity recovers a known rotation, scale and shift (and is least-squares with noise)', function () {
    const src = templatePoints('arcface_112_v2', 112);
    const angle = 0.3,
      scale = 2.5,
      tx = 40,
      ty = -12;
    const truth = [scale * Math.cos(angle), -scale * Math.sin(angle), tx, scale * Math.sin(angle), scale * Math.cos(angle), ty];
    const dst = applyAffine(truth, src);
    const m = estimateSimilarity(src, dst);
    m.forEach((v, i) => assert.ok(Math.abs(v - truth[i]) < 1e-6, `m[${i}]`));
    assert.ok(Math.abs(similarityScale(m) - scale) < 1e-9 && Math.abs(similarityAngle(m) - angle) < 1e-9);
    const noisy = dst.map(([x, y], i) => [x + (i % 2 ? 0.5 : -0.5), y + (i % 3 ? -0.4 : 0.4)]);
    const mn = estimateSimilarity(src, noisy);
    assert.ok(Math.abs(similarityScale(mn) - scale) < 0.02);
  });

  it('NMS keeps the best of overlapping boxes', function () {
    const boxes = [
      [0, 0, 10, 10],
      [1, 1, 11, 11],
      [50, 50, 60, 60],
      [0, 0, 9, 10],
    ];
    assert.deepStrictEqual(nms(boxes, [0.9, 0.95, 0.5, 0.3], 0.4), [1, 2]);
    assert.deepStrictEqual(nms(boxes, [0.9, 0.95, 0.5, 0.3], 0.4, 1), [1]);
  });

  it('gaussian blur and pixelate change the region only', function () {
    const rect = { x: 180, y: 60, width: 100, height: 120 };
    for (const sigma of [1.5, 20]) {
      const out = gaussianBlurRegion(astronaut, rect, sigma);
      assert.strictEqual(changedOutside(astronaut, out, rect), 0);
      assert.ok(!same(out, astronaut));
    }
    const px = pixelateRegion(astronaut, rect, 10);
    assert.strictEqual(changedOutside(astronaut, px, rect), 0);
    const p = (x, y) => [...px.data.subarray((y * 512 + x) * 3, (y * 512 + x) * 3 + 3)];
    assert.deepStrictEqual(p(181, 61), p(189, 69), 'one block, one colour');
  });

  it('resize and the CHW tensor round trip', function () {
    const small = resizeBilinear(astronaut, 320, 240);
    assert.deepStrictEqual([small.width, small.height, small.data.length], [320, 240, 320 * 240 * 3]);
    const t = toCHW(small, { mean: 127.5, std: 127.5 });
    assert.strictEqual(t[0], Math.fround((small.data[0] - 127.5) / 127.5));
    assert.strictEqual(t[320 * 240], Math.fround((small.data[1] - 127.5) / 127.5), 'G plane');
    assert.ok(same(fromCHW(t, 320, 240, { mean: 127.5, std: 127.5 }), small));
    const bgr = toCHW(small, { mean: 0, std: 1, bgr: true });
    assert.strictEqual(bgr[0], small.data[2], 'B plane first');
  });

  it('Delaunay covers the convex hull exactly and keeps circumcircles empty', function () {
    const grid = [];
    for (let y = 0; y < 5; y++) for (let x = 0; x < 6; x++) grid.push([x * 10 + (y % 2) * 0.01, y * 10]);
    const area = (p) =>
      Math.abs(
        p.reduce((s, a, i) => {
          const b = p[(i + 1) % p.length];
          return s + a[0] * b[1] - b[0] * a[1];
        }, 0),
      ) / 2;
    const tri = delaunay(grid);
    let covered = 0;
    for (let t = 0; t < tri.length; t += 3) covered += area([grid[tri[t]], grid[tri[t + 1]], grid[tri[t + 2]]]);
    assert.ok(Math.abs(covered - area(convexHull(grid))) < 1e-6, `triangles cover ${covered}, hull ${area(convexHull(grid))}`);
    let seed = 7;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const pts = Array.from({ length: 120 }, () => [rnd() * 500, rnd() * 300]);
    const tris = delaunay(pts);
    for (let t = 0; t < tris.length; t += 3) {
      const [a, b, c] = [pts[tris[t]], pts[tris[t + 1]], pts[tris[t + 2]]];
      const d = 2 * (a[0] * (b[1] - c[1]) + b[0] * (c[1] - a[1]) + c[0] * (a[1] - b[1]));
      const ux = ((a[0] ** 2 + a[1] ** 2) * (b[1] - c[1]) + (b[0] ** 2 + b[1] ** 2) * (c[1] - a[1]) + (c[0] ** 2 + c[1] ** 2) * (a[1] - b[1])) / d;
      const uy = ((a[0] ** 2 + a[1] ** 2) * (c[0] - b[0]) + (b[0] ** 2 + b[1] ** 2) * (a[0] - c[0]) + (c[0] ** 2 + c[1] ** 2) * (b[0] - a[0])) / d;
      const r2 = (a[0] - ux) ** 2 + (a[1] - uy) ** 2;
      for (const p of pts) assert.ok((p[0] - ux) ** 2 + (p[1] - uy) ** 2 >= r2 * (1 - 1e-9), 'a point inside a circumcircle');
    }
  });

  it('piecewise warp reproduces the source when points are equal and writes only inside the mesh', function () {
    const pts = [
      [150, 60],
      [300, 60],
      [330, 200],
      [240, 300],
      [140, 210],
      [230, 150],
    ];
    const dst = { width: 512, height: 512, channels: 3, data: new Uint8Array(512 * 512 * 3) };
    const coverage = new Float32Array(512 * 512);
    warpPiecewiseAffineInto(astronaut, pts, dst, pts, delaunay(pts), coverage);
    let maxDiff = 0,
      outside = 0;
    for (let i = 0; i < 512 * 512; i++) {
      if (coverage[i]) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(dst.data[i * 3 + c] - astronaut.data[i * 3 + c]));
      else if (dst.data[i * 3] || dst.data[i * 3 + 1] || dst.data[i * 3 + 2]) outside++;
    }
    assert.ok(maxDiff <= 1, `max diff ${maxDiff}`);
    assert.strictEqual(outside, 0);
  });

  it('feathered masks are exactly 0 outside the polygon and 1 deep inside; blending leaves m=0 pixels alone', function () {
    const hull = convexHull([
      [20, 20],
      [80, 25],
      [70, 90],
      [25, 80],
      [50, 50],
    ]);
    const mask = polygonMask(100, 100, hull);
    const soft = featherMask(mask, 100, 100, 8);
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) assert.strictEqual(soft[i], 0);
    assert.strictEqual(soft[50 * 100 + 50], 1);
    assert.ok(soft[50 * 100 + 26] > 0 && soft[50 * 100 + 26] < 1, 'ramp at the edge');
    const dst = { width: 512, height: 512, channels: 3, data: new Uint8Array(astronaut.data) };
    const src = { width: 100, height: 100, channels: 3, data: new Uint8Array(100 * 100 * 3).fill(255) };
    const rect = { x: 100, y: 100, width: 100, height: 100 };
    blendMaskedInto(dst, src, soft, rect, 1);
    for (let y = 0; y < 100; y++)
      for (let x = 0; x < 100; x++) {
        const i = ((100 + y) * 512 + 100 + x) * 3;
        if (soft[y * 100 + x] === 0) assert.strictEqual(dst.data[i], astronaut.data[i]);
      }
    const copy = { width: 512, height: 512, channels: 3, data: new Uint8Array(astronaut.data) };
    blendMaskedInto(copy, src, soft, rect, 0);
    assert.ok(same(copy, astronaut), 'ratio 0 changes nothing');
  });

  it('colour transfer moves the masked mean toward the target', async function () {
    const a = resizeBilinear(await load('fr_obama.jpg'), 120, 150);
    const b = resizeBilinear(await load('fr_biden.jpg'), 120, 150);
    const mask = polygonMask(120, 150, [
      [30, 30],
      [90, 30],
      [90, 120],
      [30, 120],
    ]);
    const before = maskedStats(a, mask).mean;
    const target = maskedStats(b, mask).mean;
    colorTransferInto(a, mask, b, mask);
    const after = maskedStats(a, mask).mean;
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(after[c] - target[c]) < Math.abs(before[c] - target[c]) || Math.abs(after[c] - target[c]) < 1.5, `channel ${c}`);
  });
});
