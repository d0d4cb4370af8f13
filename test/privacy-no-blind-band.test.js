'use strict';
// "no blind band", measured on what the user gets: a face of every size from the
// smallest the privacy defaults promise (20 px) up to most of the frame, put where the scan plan
// is weakest — across the seams and corners of the tiles of the level responsible for its size —
// comes back with its pixels blurred, on 720p, 1080p and a 3000-px photo, with the defaults;
// and a face the frame's border cuts by a quarter.
const assert = require('assert');
const { createRuntime } = require('../dist/runtime');
const { planScan, DEFAULT_PRIVACY_MIN_FACE } = require('../dist/runtime/internal');
const pf = require('./helpers/privacy-fixtures');
const pm = require('./helpers/privacy-measure');

/** The default detector's scan profile (RFB-320: a 320×240 input that sees faces of 16 px). */
const PROFILE = { input: { width: 320, height: 240 }, minFace: 16 };

/**
 * Places for a face of `size` (its box's top-left) on the seams of the plan level that must find
 * it: centred on the right edge of the first tile (cut by that tile, whole only in the overlap
 * of the next), on the corner where four tiles meet, and in the middle of the frame. A size the
 * whole-frame pass takes is put at the centre and at the top-left corner of the frame.
 */
function placesFor(plan, size) {
  const { width: W, height: H } = plan;
  const clamp = (v, max) => Math.max(0, Math.min(max, Math.round(v)));
  const at = (x, y) => [clamp(x, W - size), clamp(y, H - size)];
  const level = plan.levels.find((l) => !l.whole && size >= l.minFace && size < l.maxFace);
  if (!level || level.tiles.length < 2) return [at((W - size) / 2, (H - size) / 2), at(0.01 * W, 0.02 * H)];
  const first = level.tiles[0];
  const right = first.x + first.width,
    bottom = first.y + first.height;
  return [at(right - size / 2, first.y + first.height / 3 - size / 2), at(right - size / 2, bottom - size / 2), at(W / 2 - size / 2, H / 2 - size / 2)];
}

/** Non-overlapping places only (a face's cut-out is ≈ 2 × its box): the later ones are dropped. */
function apart(places, size) {
  const kept = [];
  for (const p of places) if (kept.every((q) => Math.abs(p[0] - q[0]) > 2.2 * size || Math.abs(p[1] - q[1]) > 2.4 * size)) kept.push(p);
  return kept;
}

describe('privacy blur: no blind band', function () {
  this.timeout(240000);
  let kit, rt;

  before(async function () {
    kit = await pf.loadKit();
    rt = createRuntime({ sweepIntervalMs: 0 });
  });
  after(async function () {
    await rt?.close();
  });

  /** The scene rendered, detected and blurred with the defaults: which of its faces were covered. */
  async function blurScene(scene) {
    const { frame, faces: truth } = await pf.renderScene(scene, 1, kit);
    const out = await rt.run(await rt.createToken({ target: frame, operations: ['detect', 'blur'] }));
    try {
      return pm.countCovered(
        frame,
        rt.frame(out.target.frame),
        truth.map((f) => f.box),
      );
    } finally {
      rt.release(out);
    }
  }

  for (const [W, H, sizeRatio] of [
    [1280, 720, 1.25],
    [1920, 1080, 1.3],
    [3000, 2000, 1.5],
  ]) {
    it(`${W}×${H}: every face from ${DEFAULT_PRIVACY_MIN_FACE} px to 0.9 × the height, on the tile seams of its level, is blurred (defaults)`, async function () {
      const plan = planScan(W, H, PROFILE, DEFAULT_PRIVACY_MIN_FACE);
      assert.strictEqual(plan.minFaceCovered, DEFAULT_PRIVACY_MIN_FACE);
      const sizes = pf.geometricSizes(DEFAULT_PRIVACY_MIN_FACE, Math.floor(0.9 * H) - 1, sizeRatio);
      const missed = [];
      let faces = 0;
      for (const [i, size] of sizes.entries()) {
        const places = apart(placesFor(plan, size), size);
        const scene = {
          name: `seams ${W}x${H} ${size}px`,
          width: W,
          height: H,
          backgroundScale: 1,
          faces: places.map(([x, y], p) => ({ source: (i * 3 + p * 7) % kit.sources.length, mirror: p % 2 === 1, size, x, y })),
        };
        const c = await blurScene(scene);
        faces += c.total;
        for (const b of c.missed) missed.push({ size, box: b.map(Math.round) });
      }
      assert.ok(faces >= 2 * sizes.length, `${faces} faces placed`);
      assert.deepStrictEqual(missed, [], `${missed.length} of ${faces} faces left sharp`);
    });
  }

  it('1280×720: faces of 44–64 px the frame cuts by a quarter (top, left, right) are blurred (defaults)', async function () {
    // The detector sees only part of such a face and scores it lower: a privacy blur keeps a box
    // that reaches the frame's border from 2/3 of its threshold. Before that rule 5 of these 41
    // faces stayed sharp; faces cut by a third, or of 36 px, are not all found (BENCHMARKS.md §15).
    const W = 1280,
      H = 720;
    const missed = [];
    let total = 0;
    for (const size of [44, 52, 64]) {
      const out = Math.round(0.25 * size);
      const faces = [];
      let k = 0;
      const next = () => (k++ * 5 + size) % kit.sources.length;
      for (let x = 40; x + size < W - 40; x += 3 * size) faces.push({ source: next(), mirror: k % 2 === 0, size, x, y: -out });
      for (let y = 3 * size; y + size < H - 3 * size; y += 3 * size) {
        faces.push({ source: next(), mirror: false, size, x: -out, y });
        faces.push({ source: next(), mirror: true, size, x: W - size + out, y });
      }
      const c = await blurScene({ name: `cut ${size}px`, width: W, height: H, backgroundScale: 1, faces });
      total += c.total;
      for (const b of c.missed) missed.push({ size, box: b.map(Math.round) });
    }
    assert.strictEqual(total, 41);
    assert.deepStrictEqual(missed, [], `${missed.length} of ${total} cut faces left sharp`);
  });
});
