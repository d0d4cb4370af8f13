'use strict';
// Vision pieces behind the embedded landmark swap: hull, Delaunay and the canonical 68-point
// mesh, piecewise-affine warp, masks that stay inside the face, masked blend, colour transfer.
const assert = require('assert');
const path = require('path');
const sharp = require('sharp');
const {
  convexHull,
  polygonBounds,
  delaunay,
  face68Triangles,
  canonicalFace68Triangles,
  MEAN_FACE68,
  warpPiecewiseAffineInto,
  triangleAffine,
  polygonMask,
  featherMask,
  boxMask,
  combineMin,
  blendMaskedInto,
  alphaBlend,
  colorTransferInto,
  maskedStats,
  encodeSrgb,
  encodeSrgbSearch,
} = require('../dist/runtime/internal');

const { MEDIA } = require('./helpers/fixtures');

async function loadCrop(file, region, size) {
  let img = sharp(path.join(MEDIA, file)).extract(region);
  if (size) img = img.resize(size, size);
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.strictEqual(info.channels, 3);
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) };
}

const clone = (f) => ({ width: f.width, height: f.height, channels: 3, data: new Uint8Array(f.data) });
const area2 = (a, b, c) => (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
const polygonArea = (poly) => {
  let s = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) s += poly[j][0] * poly[i][1] - poly[i][0] * poly[j][1];
  return s / 2;
};
function meshArea(points, tris) {
  let s = 0;
  for (let t = 0; t < tris.length; t += 3) s += area2(points[tris[t]], points[tris[t + 1]], points[tris[t + 2]]) / 2;
  return s;
}
function seeded(seed) {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}
/** Mean face scaled into a size×size box with a margin, as pixel coordinates. */
const faceIn = (size, margin) => MEAN_FACE68.map(([x, y]) => [margin + x * (size - 2 * margin), margin + y * (size - 2 * margin)]);

describe('vision for the embedded face swap', function () {
  let obama, biden;
  before(async function () {
    obama = await loadCrop('fr_obama.jpg', { left: 365, top: 110, width: 256, height: 256 });
    biden = await loadCrop('fr_biden.jpg', { left: 400, top: 120, width: 340, height: 340 }, 256);
  });

  describe('hull', function () {
    it('convex hull of a known set drops interior, collinear and duplicate points', function () {
      const pts = [
        [0, 0],
        [10, 0],
        [10, 10],
        [0, 10],
        [5, 5],
        [5, 0],
        [0, 5],
        [3, 7],
        [10, 10],
        [2, 2],
      ];
      const hull = convexHull(pts);
      assert.deepStrictEqual(hull.map((p) => p.join(',')).sort(), ['0,0', '0,10', '10,0', '10,10']);
      assert.strictEqual(polygonArea(hull), 100, 'positive shoelace orientation');
      for (let i = 0; i < hull.length; i++) assert.ok(area2(hull[i], hull[(i + 1) % hull.length], hull[(i + 2) % hull.length]) > 0, 'convex, no straight angles');
      assert.deepStrictEqual(
        convexHull([
          [1, 1],
          [1, 1],
        ]),
        [[1, 1]],
      );
      assert.deepStrictEqual(
        polygonBounds([
          [1.5, 2.2],
          [7.1, 3],
          [4, 9.9],
        ]),
        { x: 1, y: 2, width: 8, height: 9 },
      );
    });
  });

  describe('Delaunay', function () {
    it('an n×m grid gives 2(n−1)(m−1) positive triangles covering it, co-circular ties and all', function () {
      for (const [n, m, step] of [
        [6, 5, 10],
        [9, 4, 0.1],
        [2, 2, 1],
      ]) {
        const grid = [];
        for (let y = 0; y < m; y++) for (let x = 0; x < n; x++) grid.push([x * step, y * step]);
        const tris = delaunay(grid);
        assert.strictEqual(tris.length / 3, 2 * (n - 1) * (m - 1), `${n}×${m}`);
        for (let t = 0; t < tris.length; t += 3) assert.ok(area2(grid[tris[t]], grid[tris[t + 1]], grid[tris[t + 2]]) > 0, 'positive, non-degenerate');
        assert.ok(Math.abs(meshArea(grid, tris) - (n - 1) * (m - 1) * step * step) < 1e-9, 'covers the grid');
      }
    });

    it('200 random points: empty circumcircles, positive triangles, hull covered, 2n−2−h triangles', function () {
      const rnd = seeded(12345);
      const pts = Array.from({ length: 200 }, () => [rnd() * 640, rnd() * 480]);
      const tris = delaunay(pts);
      const hull = convexHull(pts);
      assert.strictEqual(tris.length / 3, 2 * pts.length - 2 - hull.length);
      assert.ok(Math.abs(meshArea(pts, tris) - polygonArea(hull)) < 1e-6 * polygonArea(hull), 'union of triangles is the hull');
      for (let t = 0; t < tris.length; t += 3) {
        const a = pts[tris[t]],
          b = pts[tris[t + 1]],
          c = pts[tris[t + 2]];
        const orient = area2(a, b, c);
        assert.ok(orient > 1e-9, 'positive, non-degenerate');
        for (let k = 0; k < pts.length; k++) {
          if (k === tris[t] || k === tris[t + 1] || k === tris[t + 2]) continue;
          const p = pts[k];
          const ax = a[0] - p[0],
            ay = a[1] - p[1],
            bx = b[0] - p[0],
            by = b[1] - p[1],
            cx = c[0] - p[0],
            cy = c[1] - p[1];
          const det = (ax * ax + ay * ay) * (bx * cy - cx * by) - (bx * bx + by * by) * (ax * cy - cx * ay) + (cx * cx + cy * cy) * (ax * by - bx * ay);
          // det/orient is (r² − |p−centre|²)-like in pixel² units; allow rounding only.
          assert.ok(det / orient <= 1e-6, `point ${k} inside the circumcircle of triangle ${t / 3}`);
        }
      }
    });

    it('duplicates are skipped, collinear input gives nothing, a nearly straight hull edge is kept', function () {
      const square = [
        [0, 0],
        [4, 0],
        [4, 4],
        [0, 4],
        [2, 1],
      ];
      const withDupes = square.concat([
        [4, 0],
        [2, 1],
        [0, 0],
      ]);
      const a = delaunay(square),
        b = delaunay(withDupes);
      assert.strictEqual(b.length, a.length);
      for (const i of b) assert.ok(i < 5, 'only first copies are used');
      assert.strictEqual(
        delaunay([
          [0, 0],
          [1, 1],
          [2, 2],
          [3, 3],
          [1, 1],
        ]).length,
        0,
      );
      assert.strictEqual(
        delaunay([
          [0, 0],
          [1, 0],
        ]).length,
        0,
      );
      // A point 1 px inside a 1000 px hull edge: the sliver's circumcircle is huge and reaches
      // any finite super-triangle, which would then eat the sliver and leave the hull uncovered.
      const flat = [
        [0, 0],
        [1000, 0],
        [500, 1],
        [500, 300],
      ];
      const f = delaunay(flat);
      assert.strictEqual(f.length / 3, 3);
      assert.ok(Math.abs(meshArea(flat, f) - polygonArea(convexHull(flat))) < 1e-9);
    });

    it('canonical 68-point mesh: mean face in the unit box, no degenerate triangle, covers its hull', function () {
      assert.strictEqual(MEAN_FACE68.length, 68);
      assert.ok(Object.isFrozen(MEAN_FACE68));
      for (const [x, y] of MEAN_FACE68) assert.ok(x >= 0 && x <= 1 && y >= 0 && y <= 1);
      // iBUG layout sanity: chin below the nose tip below the eyes below the brows; eyes left/right.
      assert.ok(MEAN_FACE68[8][1] > MEAN_FACE68[57][1] && MEAN_FACE68[57][1] > MEAN_FACE68[33][1] && MEAN_FACE68[33][1] > MEAN_FACE68[39][1] && MEAN_FACE68[39][1] > MEAN_FACE68[19][1]);
      assert.ok(MEAN_FACE68[36][0] < MEAN_FACE68[39][0] && MEAN_FACE68[39][0] < MEAN_FACE68[42][0] && MEAN_FACE68[42][0] < MEAN_FACE68[45][0]);
      const tris = canonicalFace68Triangles();
      const pts = MEAN_FACE68;
      let minArea = Infinity;
      const used = new Set();
      for (let t = 0; t < tris.length; t += 3) {
        minArea = Math.min(minArea, area2(pts[tris[t]], pts[tris[t + 1]], pts[tris[t + 2]]) / 2);
        for (let k = 0; k < 3; k++) used.add(tris[t + k]);
      }
      assert.ok(minArea > 1e-6, `smallest triangle area ${minArea}`);
      assert.strictEqual(used.size, 68, 'every landmark is a mesh vertex');
      const hull = convexHull(pts);
      assert.ok(Math.abs(meshArea(pts, tris) - polygonArea(hull)) < 1e-9, 'covers the hull');
      assert.strictEqual(tris.length / 3, 2 * 68 - 2 - hull.length);
      tris[0] = 999;
      assert.notStrictEqual(canonicalFace68Triangles()[0], 999, 'callers get a copy');
      const extra = face68Triangles(pts, [
        [0.5, -0.2],
        [-0.2, 0.5],
        [1.2, 0.5],
      ]);
      assert.ok(Math.max(...extra) === 70 || Math.max(...extra) === 69 || Math.max(...extra) === 68);
      assert.ok(
        Math.abs(
          meshArea(
            pts.concat([
              [0.5, -0.2],
              [-0.2, 0.5],
              [1.2, 0.5],
            ]),
            extra,
          ) -
            polygonArea(
              convexHull(
                pts.concat([
                  [0.5, -0.2],
                  [-0.2, 0.5],
                  [1.2, 0.5],
                ]),
              ),
            ),
        ) < 1e-9,
      );
    });
  });

  describe('piecewise-affine warp', function () {
    it('triangleAffine maps the three points exactly; a degenerate triangle is E_BAD_PARAMETER', function () {
      const from = [
          [10, 20],
          [200, 30],
          [50, 180],
        ],
        to = [
          [5, 5],
          [120, 40],
          [30, 160],
        ];
      const m = triangleAffine(from, to);
      for (let i = 0; i < 3; i++) {
        assert.ok(Math.abs(m[0] * from[i][0] + m[1] * from[i][1] + m[2] - to[i][0]) < 1e-9);
        assert.ok(Math.abs(m[3] * from[i][0] + m[4] * from[i][1] + m[5] - to[i][1]) < 1e-9);
      }
      assert.throws(
        () =>
          triangleAffine(
            [
              [0, 0],
              [1, 1],
              [2, 2],
            ],
            to,
          ),
        (e) => e.code === 'E_BAD_PARAMETER',
      );
    });

    it('with srcPts == dstPts it reproduces the face inside the hull, without cracks, and touches nothing outside', function () {
      const pts = faceIn(256, 20);
      const tris = canonicalFace68Triangles();
      const dst = clone(biden); // sentinel content: must survive outside the mesh
      const coverage = new Float32Array(256 * 256);
      warpPiecewiseAffineInto(obama, pts, dst, pts, tris, coverage);
      const inside = polygonMask(256, 256, convexHull(pts));
      let maxDiff = 0,
        untouched = 0,
        covered = 0;
      for (let i = 0; i < 256 * 256; i++) {
        if (inside[i]) assert.strictEqual(coverage[i], 1, `crack at pixel ${i % 256},${Math.floor(i / 256)}`);
        if (coverage[i]) {
          covered++;
          for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(dst.data[i * 3 + c] - obama.data[i * 3 + c]));
        } else {
          for (let c = 0; c < 3; c++) assert.strictEqual(dst.data[i * 3 + c], biden.data[i * 3 + c]);
          untouched++;
        }
      }
      assert.ok(maxDiff <= 1, `max diff ${maxDiff}`);
      assert.ok(covered > 20000 && untouched > 5000, `${covered} covered, ${untouched} untouched`);
    });

    it('dstPts = srcPts + (7, 3) shifts the content by (7, 3)', function () {
      const src = faceIn(256, 24);
      const dstPts = src.map(([x, y]) => [x + 7, y + 3]);
      const dst = { width: 256, height: 256, channels: 3, data: new Uint8Array(256 * 256 * 3) };
      const coverage = new Float32Array(256 * 256);
      warpPiecewiseAffineInto(obama, src, dst, dstPts, canonicalFace68Triangles(), coverage);
      let maxDiff = 0,
        n = 0,
        unshifted = 0;
      for (let y = 0; y < 256; y++)
        for (let x = 0; x < 256; x++) {
          if (!coverage[y * 256 + x]) continue;
          n++;
          const o = (y * 256 + x) * 3,
            s = ((y - 3) * 256 + (x - 7)) * 3;
          for (let c = 0; c < 3; c++) {
            maxDiff = Math.max(maxDiff, Math.abs(dst.data[o + c] - obama.data[s + c]));
            unshifted = Math.max(unshifted, Math.abs(dst.data[o + c] - obama.data[o + c]));
          }
        }
      assert.ok(n > 20000);
      assert.ok(maxDiff <= 1, `shifted max diff ${maxDiff}`);
      assert.ok(unshifted > 30, 'the content really moved');
      assert.strictEqual(coverage[(3 + 30) * 256 + 7 + 1], 0, 'left of the shifted jaw stays unwritten');
    });

    it('refuses mismatched buffers and indices with E_BAD_PARAMETER; prints the 68-point warp time', function () {
      const pts = faceIn(256, 20);
      const dst = { width: 256, height: 256, channels: 3, data: new Uint8Array(256 * 256 * 3) };
      assert.throws(
        () => warpPiecewiseAffineInto(obama, pts, dst, pts, Uint32Array.of(0, 1, 68)),
        (e) => e.code === 'E_BAD_PARAMETER',
      );
      assert.throws(
        () => warpPiecewiseAffineInto(obama, pts, dst, pts, canonicalFace68Triangles(), new Float32Array(10)),
        (e) => e.code === 'E_BAD_PARAMETER',
      );
      // A mildly different target face, as in a real swap.
      const target = pts.map(([x, y], i) => [x + 4 * Math.sin(i), y + 3 * Math.cos(i * 1.7)]);
      const tris = canonicalFace68Triangles();
      for (let k = 0; k < 3; k++) warpPiecewiseAffineInto(obama, pts, dst, target, tris); // warm up
      const runs = 20;
      const start = process.hrtime.bigint();
      for (let k = 0; k < runs; k++) warpPiecewiseAffineInto(obama, pts, dst, target, tris);
      const ms = Number(process.hrtime.bigint() - start) / 1e6 / runs;
      console.log(`      68-point piecewise warp, 256×256 face, ${tris.length / 3} triangles: ${ms.toFixed(2)} ms`);
    });
  });

  describe('masks', function () {
    const poly = [
      [30, 20],
      [90, 28],
      [100, 80],
      [60, 110],
      [20, 75],
    ];

    it('polygonMask is 1 exactly at the points inside the polygon, 0 elsewhere', function () {
      const mask = polygonMask(128, 128, poly);
      const insideConvex = (x, y) => poly.every((p, i) => area2(p, poly[(i + 1) % poly.length], [x, y]) >= 0);
      let ones = 0;
      for (let y = 0; y < 128; y++)
        for (let x = 0; x < 128; x++) {
          const v = mask[y * 128 + x];
          assert.ok(v === 0 || v === 1);
          const onEdge = poly.some((p, i) => Math.abs(area2(p, poly[(i + 1) % poly.length], [x, y])) < 1e-9);
          if (!onEdge) assert.strictEqual(v, insideConvex(x, y) ? 1 : 0, `pixel ${x},${y}`);
          ones += v;
        }
      assert.ok(Math.abs(ones - polygonArea(poly)) < 0.05 * polygonArea(poly));
      assert.strictEqual(
        polygonMask(10, 10, [
          [1, 1],
          [5, 5],
        ]).reduce((a, b) => a + b, 0),
        0,
        'two points are no polygon',
      );
    });

    it('featherMask: exactly 0 outside, exactly 1 deep inside, monotone ramp at the edge', function () {
      const mask = polygonMask(128, 128, poly);
      const soft = featherMask(mask, 128, 128, 12);
      for (let i = 0; i < mask.length; i++) {
        assert.ok(soft[i] >= 0 && soft[i] <= 1);
        if (mask[i] === 0) assert.strictEqual(soft[i], 0);
      }
      assert.strictEqual(soft[65 * 128 + 60], 1, 'centre');
      // Along row 65 from the left edge (x ≈ 24) to the centre: rises from 0, never drops.
      let prev = -1,
        ramp = 0;
      for (let x = 0; x <= 60; x++) {
        const v = soft[65 * 128 + x];
        assert.ok(v >= prev - 1e-6, `monotone at x=${x}`);
        if (v > 0 && v < 1) ramp++;
        prev = v;
      }
      assert.ok(ramp >= 6 && ramp <= 16, `ramp ${ramp} px for radius 12`);
      const first = soft.subarray(65 * 128, 65 * 128 + 61).find((v) => v > 0);
      assert.ok(first < 0.2, `the ramp starts near 0 at the polygon edge, not with a step (${first})`);
      assert.deepStrictEqual(Array.from(featherMask(mask, 128, 128, 0)), Array.from(mask));
    });

    it('boxMask: 0 at the border, 1 in the middle, symmetric, padding widens the band', function () {
      const m = boxMask(128, 128, 0.3, [0, 0, 0, 0]);
      for (const v of m) assert.ok(v >= 0 && v <= 1);
      assert.ok(m[64 * 128 + 64] > 0.999);
      assert.ok(m[0] < 0.01 && m[127 * 128 + 127] < 0.01);
      for (let x = 0; x < 128; x++) assert.ok(Math.abs(m[64 * 128 + x] - m[64 * 128 + 127 - x]) < 1e-6);
      const padded = boxMask(128, 128, 0.3, [25, 0, 0, 0]);
      assert.ok(padded[32 * 128 + 64] < m[32 * 128 + 64] - 0.2, 'top padding pulls the top edge down');
      assert.ok(Math.abs(padded[100 * 128 + 64] - m[100 * 128 + 64]) < 1e-6, 'bottom untouched');
      const hard = boxMask(64, 32, 0, [10, 10, 10, 10]);
      assert.ok(
        hard.every((v) => v === 0 || v === 1),
        'blur 0 is a hard box',
      );
      assert.strictEqual(hard[16 * 64 + 32], 1);
      assert.strictEqual(hard[2 * 64 + 32], 0);
      const c = combineMin(Float32Array.of(0, 0.5, 1), Float32Array.of(1, 0.25, 1));
      assert.deepStrictEqual(Array.from(c), [0, 0.25, 1]);
    });
  });

  describe('blend', function () {
    it('leaves m = 0 pixels byte-identical, ratio 0 changes nothing, m·ratio = 1 copies', function () {
      const rect = { x: 40, y: 60, width: 128, height: 128 };
      const mask = featherMask(
        polygonMask(128, 128, [
          [20, 10],
          [110, 20],
          [100, 120],
          [10, 100],
        ]),
        128,
        128,
        10,
      );
      const patch = { width: 128, height: 128, channels: 3, data: new Uint8Array(128 * 128 * 3) };
      for (let y = 0; y < 128; y++) patch.data.set(biden.data.subarray(((y + 60) * 256 + 40) * 3, ((y + 60) * 256 + 168) * 3), y * 128 * 3);

      const none = clone(obama);
      blendMaskedInto(none, patch, mask, rect, 0);
      assert.deepStrictEqual(none.data, obama.data);

      const out = clone(obama);
      blendMaskedInto(out, patch, mask, rect, 1);
      let changed = 0;
      for (let y = 0; y < 256; y++)
        for (let x = 0; x < 256; x++) {
          const o = (y * 256 + x) * 3;
          const inRect = x >= 40 && x < 168 && y >= 60 && y < 188;
          const m = inRect ? mask[(y - 60) * 128 + (x - 40)] : 0;
          for (let c = 0; c < 3; c++) {
            if (m === 0) assert.strictEqual(out.data[o + c], obama.data[o + c]);
            else if (m === 1) assert.strictEqual(out.data[o + c], biden.data[o + c]);
            else {
              const want = obama.data[o + c] * (1 - m) + biden.data[o + c] * m;
              assert.ok(Math.abs(out.data[o + c] - want) <= 0.5 + 1e-6);
            }
          }
          if (out.data[o] !== obama.data[o]) changed++;
        }
      assert.ok(changed > 3000);

      // A destination-sized source and a destination-sized mask give the same result.
      const full = new Float32Array(256 * 256);
      for (let y = 0; y < 128; y++) full.set(mask.subarray(y * 128, y * 128 + 128), (y + 60) * 256 + 40);
      const out2 = clone(obama);
      blendMaskedInto(out2, biden, full, rect, 1);
      assert.deepStrictEqual(out2.data, out.data);
      assert.throws(
        () => blendMaskedInto(clone(obama), patch, new Float32Array(7), rect, 1),
        (e) => e.code === 'E_BAD_PARAMETER',
      );
    });

    it('alphaBlend: 0 gives a, 1 gives b, 0.5 the rounded mean', function () {
      assert.deepStrictEqual(alphaBlend(obama, biden, 0).data, obama.data);
      assert.deepStrictEqual(alphaBlend(obama, biden, 1).data, biden.data);
      const half = alphaBlend(obama, biden, 0.5);
      for (let i = 0; i < 3000; i += 7) assert.ok(Math.abs(half.data[i] - (obama.data[i] + biden.data[i]) / 2) <= 0.5);
      assert.throws(
        () => alphaBlend(obama, { width: 1, height: 1, channels: 3, data: new Uint8Array(3) }, 0.5),
        (e) => e.code === 'E_BAD_PARAMETER',
      );
    });
  });

  describe('colour transfer', function () {
    it('moves the masked mean of a face patch toward the target skin and leaves the rest alone', function () {
      const face = polygonMask(256, 256, convexHull(faceIn(256, 40)));
      const skin = polygonMask(256, 256, [
        [70, 60],
        [190, 60],
        [200, 170],
        [60, 170],
      ]);
      const before = maskedStats(obama, face);
      const goal = maskedStats(biden, skin);
      assert.ok(before.weight > 10000 && goal.weight > 10000);
      const out = clone(obama);
      const start = process.hrtime.bigint();
      colorTransferInto(out, face, biden, skin);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      console.log(`      Lab colour transfer over ${before.weight} px: ${ms.toFixed(1)} ms`);
      const after = maskedStats(out, face);
      let gap0 = 0,
        gap1 = 0;
      for (let c = 0; c < 3; c++) {
        gap0 += Math.abs(before.mean[c] - goal.mean[c]);
        gap1 += Math.abs(after.mean[c] - goal.mean[c]);
        assert.ok(
          Math.abs(after.mean[c] - goal.mean[c]) < Math.abs(before.mean[c] - goal.mean[c]) || Math.abs(after.mean[c] - goal.mean[c]) < 3,
          `channel ${c}: ${before.mean[c].toFixed(1)} → ${after.mean[c].toFixed(1)}, target ${goal.mean[c].toFixed(1)}`,
        );
      }
      assert.ok(gap0 > 30, `the two faces differ in colour (${gap0.toFixed(1)})`);
      assert.ok(gap1 < gap0 / 3, `summed mean gap ${gap0.toFixed(1)} → ${gap1.toFixed(1)}`);
      for (let i = 0; i < face.length; i++) if (!face[i]) for (let c = 0; c < 3; c++) assert.strictEqual(out.data[i * 3 + c], obama.data[i * 3 + c]);
    });

    it('the table-driven sRGB encode equals the exact search everywhere, at every byte boundary too', function () {
      const toLinear = (v) => (v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
      const probes = [];
      for (let i = 0; i <= 200000; i++) probes.push(-0.01 + (1.02 * i) / 200000);
      for (let i = 0; i < 255; i++) {
        const edge = toLinear((i + 0.5) / 255);
        probes.push(edge, edge * (1 - 1e-12), edge * (1 + 1e-12), edge + 1e-15);
      }
      let mismatches = 0;
      for (const v of probes) if (encodeSrgb(v) !== encodeSrgbSearch(v)) mismatches++;
      assert.strictEqual(mismatches, 0, `${mismatches} of ${probes.length} values encode differently`);
      assert.deepStrictEqual([encodeSrgb(NaN), encodeSrgb(-1), encodeSrgb(1), encodeSrgb(7)], [0, 0, 255, 255]);
    });

    it('transferring a patch onto itself is the identity (Lab round trip is exact to the byte)', function () {
      const ones = new Float32Array(256 * 256).fill(1);
      const out = clone(obama);
      colorTransferInto(out, ones, obama, ones);
      assert.deepStrictEqual(out.data, obama.data);
    });

    it('works on rects of larger frames, and an empty mask is a no-op', function () {
      const rect = { x: 64, y: 64, width: 128, height: 128 };
      const ones = new Float32Array(128 * 128).fill(1);
      const s = maskedStats(obama, ones, rect);
      let sum = 0;
      for (let y = 64; y < 192; y++) for (let x = 64; x < 192; x++) sum += obama.data[(y * 256 + x) * 3];
      assert.ok(Math.abs(s.mean[0] - sum / (128 * 128)) < 1e-6);
      assert.strictEqual(s.weight, 128 * 128);
      const empty = maskedStats(obama, new Float32Array(128 * 128), rect);
      assert.strictEqual(empty.weight, 0);

      const out = clone(obama);
      colorTransferInto(out, new Float32Array(256 * 256), biden, new Float32Array(256 * 256).fill(1));
      colorTransferInto(out, new Float32Array(256 * 256).fill(1), biden, new Float32Array(256 * 256));
      assert.deepStrictEqual(out.data, obama.data, 'empty masks change nothing');

      const start = maskedStats(out, ones, rect);
      colorTransferInto(out, ones, biden, ones, rect); // targetRect defaults to srcRect
      const after = maskedStats(out, ones, rect),
        goal = maskedStats(biden, ones, rect);
      // The light (a luma of the channel means) lands on the target's; hues are kept, so the
      // channels come closer to the target's without matching each one.
      const luma = (m) => 0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2];
      assert.ok(Math.abs(luma(after.mean) - luma(goal.mean)) < 4, `luma ${luma(after.mean).toFixed(1)} vs ${luma(goal.mean).toFixed(1)}`);
      const gap = (m) => [0, 1, 2].reduce((sum, c) => sum + Math.abs(m[c] - goal.mean[c]), 0);
      assert.ok(gap(after.mean) < gap(start.mean), `channel gap ${gap(start.mean).toFixed(1)} → ${gap(after.mean).toFixed(1)}`);
      for (let x = 0; x < 256; x++) assert.strictEqual(out.data[x * 3], obama.data[x * 3], 'row 0 is outside the rect');
      assert.throws(
        () => colorTransferInto(out, ones, biden, ones, { x: 200, y: 0, width: 128, height: 128 }),
        (e) => e.code === 'E_BAD_PARAMETER',
      );
    });
  });
});
