'use strict';
// A face swap that does no harm: only real faces change, no new green/teal/blue
// pixels, turned heads are not squeezed, the swap still swaps, the enhancer does not sharpen
// grain — on pictures and on video (YUV) frames. Also makes the README's picture grid.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');
const {
  createRuntime,
  cosineSimilarity,
  decodeImage,
  encodeImage,
  rgbToYuv,
  yuvToRgb,
  colorTransferInto,
  convexHull,
  polygonBounds,
  delaunay,
  warpPiecewiseAffineInto,
  featherMask,
  polygonMask,
  combineMin,
  clipRect,
  yawFrom68,
  mirrorPoints68,
  warpStretch,
  planPose,
  LikenessMemory,
  judge,
} = require('../dist/runtime/internal');
const { MEDIA, LABELLED } = require('./helpers/fixtures');
const { readLabels } = require('../bench/privacy-lib');
const { isCool } = require('../bench/swap-harm-lib');

const media = (f) => path.join(MEDIA, f);

describe('a face swap that does no harm', function () {
  this.timeout(180000);
  let rt;
  before(async () => {
    rt = createRuntime({ sweepIntervalMs: 0 });
    await rt.warmup();
  });
  after(async () => rt.close());

  /** The picture at `width` px wide, as PNG bytes, and its labelled face boxes scaled to it. */
  async function labelled(file, width) {
    const label = readLabels(LABELLED).find((l) => l.file === file);
    const s = width / label.width;
    const bytes = await sharp(path.join(LABELLED, file)).resize(width).png().toBuffer();
    return { bytes, boxes: label.boxes.map((b) => b.map((v) => v * s)) };
  }

  /** Pixels that differ between two RGB frames and lie outside every box grown by half its size (more below: the chin). */
  function changedOutside(a, b, boxes) {
    const grown = boxes.map(([x1, y1, x2, y2]) => {
      const m = (x2 - x1) / 2;
      return [x1 - m, y1 - m, x2 + m, y2 + m * 1.2];
    });
    let n = 0;
    for (let y = 0; y < a.height; y++)
      for (let x = 0; x < a.width; x++) {
        const i = (y * a.width + x) * 3;
        if (a.data[i] === b.data[i] && a.data[i + 1] === b.data[i + 1] && a.data[i + 2] === b.data[i + 2]) continue;
        if (!grown.some((g) => x >= g[0] && x <= g[2] && y >= g[1] && y <= g[3])) n++;
      }
    return n;
  }

  describe('only real faces change', function () {
    // 2008_001009.jpg at 1280 px: its 2 faces, and 2 boxes the tile pass of detection found there
    // at 0.98 and 0.70 before the scale pyramid — on the hand and the cardigan. They are
    // added to whatever the detector finds, so the check is tested whatever detection returns.
    const NOT_FACES = [
      { bbox: [506, 1473, 641, 1646], score: 0.98 },
      { bbox: [531, 1138, 722, 1284], score: 0.7 },
    ];
    let picture;
    before(async () => {
      picture = await labelled('2008_001009.jpg', 1280);
    });
    const withNonFaces = (t) => ({ ...t, faces: [...t.faces, ...NOT_FACES] });

    it('on a picture: the non-face boxes are skipped (journalled), nothing changes outside the real faces', async () => {
      const t0 = await rt.createToken({ target: picture.bytes, source: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'swap'], parameters: { face_selector: 'many' } });
      const detected = await rt.run(t0, ['detect', 'landmark']);
      const t = await rt.process('swap', withNonFaces(detected), { force: true });
      assert.strictEqual(t.state, 'done', JSON.stringify(t.error));
      const entry = t.journal.find((j) => j.stage === 'swap');
      const notFaces = (entry.faces_skipped ?? []).filter((s) => s.reason === 'not_a_face');
      assert.strictEqual(notFaces.length, t.faces.length - 2, entry.note);
      for (const s of notFaces) assert.strictEqual(t.faces[s.face].likeness.ok, false);
      assert.match(entry.note, /2 faces .*skipped \d+ not a face/);
      const outside = changedOutside(rt.frame(t0.target.frame), rt.frame(t.target.frame), picture.boxes);
      console.log(`      ${t.faces.length} boxes, ${notFaces.length} skipped as not a face; ${outside} px changed outside the real faces`);
      assert.ok(outside <= 24, `${outside} px changed outside the real faces`);
      // face_check off: every selected box is swapped again (for cartoons), the old harm comes back.
      const unchecked = await rt.run(
        await rt.createToken({ target: picture.bytes, source: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'swap'], parameters: { face_selector: 'many', face_check: false } }),
        ['detect', 'landmark'],
      );
      const all = await rt.process('swap', withNonFaces(unchecked), { force: true });
      assert.ok(changedOutside(rt.frame(t0.target.frame), rt.frame(all.target.frame), picture.boxes) > 1000, 'face_check false swaps the non-face boxes too');
      rt.release(all);
      rt.release(t);
    });

    it("on a video job's YUV frame: the same, and the enhance stage too (each frame checks its boxes, on the main thread)", async () => {
      const rgb = await decodeImage(picture.bytes);
      const original = yuvToRgb(rgbToYuv(rgb));
      const { analyseJobSource, frameToken } = require('../dist/runtime/internal');
      const { token: sourceToken, source } = await analyseJobSource(rt, media('fr_obama.jpg'), 'job-yuv', false, {});
      for (const stage of ['swap', 'enhance']) {
        const ref = rt.store.put(rgbToYuv(rgb), { owner: 'job-yuv' });
        const stages = ['detect', 'landmark', stage];
        const token = frameToken({ jobId: 'job-yuv', ref, index: 0, pts: 0, width: rgb.width, height: rgb.height, source, stages, parameters: { face_selector: 'many' }, ttlMs: 60000 });
        const t = await rt.process(stage, withNonFaces(await rt.run(token, ['detect', 'landmark'])), { force: true });
        assert.notStrictEqual(t.state, 'failed', JSON.stringify(t.error));
        assert.strictEqual(rt.store.pixels(t.target.frame).format, 'yuv420p');
        const entry = t.journal.find((j) => j.stage === stage);
        assert.deepStrictEqual(
          (entry.faces_skipped ?? []).map((x) => x.reason),
          ['not_a_face', 'not_a_face'],
          entry.note,
        );
        const outside = changedOutside(original, yuvToRgb(rt.store.pixels(t.target.frame)), picture.boxes);
        assert.ok(outside <= 24, `${stage}: ${outside} px changed outside the real faces`);
        rt.store.releaseOwner('job-yuv');
        rt.store.releaseOwner(t.request_id);
      }
      rt.release(sourceToken);
      assert.strictEqual(rt.likeness.size >= 1, true, "the job's face-likeness verdicts are kept until its source ends");
      rt.releaseStream('job-yuv');
      assert.strictEqual(rt.likeness.size, 0);
    });
  });

  it('colour transfer makes no new green/teal/blue pixels (pale and dark targets; Reinhard made up to ≈ 440)', async () => {
    const analyse = async (f) => rt.run(await rt.createToken({ target: media(f), operations: ['detect', 'landmark'], parameters: { detect_tiling: 'off' } }));
    const pairs = [
      ['fr_biden.jpg', 'fr_obama.jpg'],
      ['fr_biden.jpg', 'astronaut.png'],
      ['fr_obama.jpg', 'newton.png'],
      ['fr_biden.jpg', 'newton.png'],
      ['fr_obama.jpg', 'astronaut.png'],
      ['fr_biden.jpg', 'fr_two_people.jpg'],
    ];
    const counts = [];
    for (const [s, t] of pairs) {
      const src = await analyse(s),
        tgt = await analyse(t);
      const sf = rt.frame(src.target.frame),
        tf = rt.frame(tgt.target.frame);
      for (const face of tgt.faces) {
        // The embedded swap's own steps: warp, mask, then the colour transfer alone.
        const hull = convexHull(face.landmarks68);
        const b = polygonBounds(hull);
        const rect = clipRect({ x: b.x - 2, y: b.y - 2, width: b.width + 4, height: b.height + 4 }, tf.width, tf.height);
        const local = (p) => [p[0] - rect.x, p[1] - rect.y];
        const dst = face.landmarks68.map(local);
        const warped = { width: rect.width, height: rect.height, channels: 3, data: new Uint8Array(rect.width * rect.height * 3) };
        const coverage = new Float32Array(rect.width * rect.height);
        warpPiecewiseAffineInto(sf, src.faces[0].landmarks68, warped, dst, delaunay(dst), coverage);
        const mask = combineMin(featherMask(polygonMask(rect.width, rect.height, hull.map(local)), rect.width, rect.height, Math.max(2, Math.max(rect.width, rect.height) * 0.08)), coverage);
        const moved = { ...warped, data: new Uint8Array(warped.data) };
        colorTransferInto(moved, mask, tf, mask, undefined, rect);
        let fresh = 0;
        for (let i = 0; i < mask.length; i++) if (mask[i] > 0 && isCool(moved.data, i * 3) && !isCool(warped.data, i * 3)) fresh++;
        counts.push(`${s}→${t}: ${fresh}`);
        assert.ok(fresh <= 24, `${s} → ${t}: ${fresh} new cool pixels`);
      }
      rt.release(src);
      rt.release(tgt);
    }
    console.log(`      new green/teal/blue pixels per face: ${counts.join(', ')}`);
  });

  describe('turned heads', function () {
    it('yaw, mirror and warp stretch: a frontal pair is similar, a 3/4 profile is not; a source turned the other way is mirrored', async () => {
      const t = await rt.run(await rt.createToken({ target: path.join(LABELLED, '2008_002079.jpg'), operations: ['detect', 'landmark'], parameters: { detect_tiling: 'off' } }));
      const o = await rt.run(await rt.createToken({ target: media('fr_obama.jpg'), operations: ['detect', 'landmark'], parameters: { detect_tiling: 'off' } }));
      const obama = o.faces[0].landmarks68;
      assert.ok(Math.abs(yawFrom68(obama)) < 10);
      assert.ok(Math.abs(yawFrom68(mirrorPoints68(obama, 1000)) + yawFrom68(obama)) < 1e-9, 'a mirrored face turns the other way');
      assert.ok(
        Math.abs(
          warpStretch(
            obama,
            obama.map(([x, y]) => [x * 0.5 + 7, y * 0.5 - 3]),
          ) - 1,
        ) < 1e-6,
        'a scaled copy does not stretch',
      );
      // The two young men on the left are 3/4 profiles (yaw index ≈ 45–51); the others face the camera more.
      const turned = t.faces.filter((f) => f.bbox[0] < 110);
      assert.strictEqual(turned.length, 2);
      for (const f of turned) {
        assert.ok(yawFrom68(f.landmarks68) > 40, `yaw ${yawFrom68(f.landmarks68)}`);
        assert.strictEqual(planPose(obama, f.landmarks68).kind, 'skip');
        // A source turned the other way (the mirror of this face) fits: it is mirrored back.
        assert.strictEqual(planPose(mirrorPoints68(f.landmarks68, 0), f.landmarks68).kind, 'mirror');
      }
      rt.release(t);
      rt.release(o);
    });

    it('a 3/4-profile target with a frontal source is left unchanged, with a journal note, and the job result counts it', async () => {
      const before = await decodeImage(fs.readFileSync(path.join(LABELLED, '2008_002079.jpg')));
      const t0 = await rt.createToken({
        target: path.join(LABELLED, '2008_002079.jpg'),
        source: media('fr_obama.jpg'),
        operations: ['detect', 'landmark', 'swap'],
        parameters: { face_selector: 'many', detect_tiling: 'off' },
      });
      const t = await rt.run(t0);
      const entry = t.journal.find((j) => j.stage === 'swap');
      const turned = (entry.faces_skipped ?? []).filter((s) => s.reason === 'turned');
      assert.strictEqual(turned.length, 2, entry.note);
      assert.match(turned[0].detail, /turned .* against the source's/);
      assert.match(entry.note, /skipped 2 turned/);
      const after = rt.frame(t.target.frame);
      for (const s of turned) {
        const [x1, y1, x2, y2] = t.faces[s.face].bbox.map(Math.round);
        let changed = 0;
        for (let y = y1; y < y2; y++)
          for (let x = x1; x < x2; x++) for (let c = 0; c < 3; c++) if (before.data[(y * before.width + x) * 3 + c] !== after.data[(y * after.width + x) * 3 + c]) changed++;
        assert.strictEqual(changed, 0, `the turned face ${s.face} changed`);
      }
      rt.release(t);
      // The job summary counts the faces left unchanged.
      const { JobManager } = require('../dist/runtime');
      const out = path.join(require('os').tmpdir(), `ff-harm-${process.pid}.jpg`);
      const jobs = new JobManager(rt, { progressIntervalMs: 0 });
      try {
        const id = jobs.runJob({
          source_paths: [media('fr_obama.jpg')],
          target_path: path.join(LABELLED, '2008_002079.jpg'),
          output_path: out,
          processors: ['face_swapper'],
          parameters: { face_selector: 'many', detect_tiling: 'off' },
        });
        const info = await jobs.waitForJob(id);
        assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
        assert.strictEqual(info.result.facesSkipped, 2);
      } finally {
        await jobs.close();
        fs.rmSync(out, { force: true });
      }
    });
  });

  it('the swap still swaps: identity similarity to the source rises ≥ 0.25 on frontal pairs and ≥ 0.12 on most faces of a group picture', async () => {
    const rise = async (target, source, parameters = {}) => {
      const t = await rt.run(await rt.createToken({ target, source: media(source), operations: ['detect', 'landmark', 'embed', 'swap'], parameters: { face_selector: 'many', ...parameters } }));
      assert.strictEqual(t.state, 'done', JSON.stringify(t.error));
      const again = await rt.run(await rt.createToken({ target: await rt.encode(t, { format: 'png' }), operations: ['detect', 'landmark', 'embed'], parameters }));
      const rises = t.faces.map((f) => {
        const m = again.faces.find(
          (g) => Math.abs(g.bbox[0] + g.bbox[2] - f.bbox[0] - f.bbox[2]) < f.bbox[2] - f.bbox[0] && Math.abs(g.bbox[1] + g.bbox[3] - f.bbox[1] - f.bbox[3]) < f.bbox[3] - f.bbox[1],
        );
        return m ? cosineSimilarity(m.embedding, t.source.embedding) - cosineSimilarity(f.embedding, t.source.embedding) : 0;
      });
      rt.release(again);
      rt.release(t);
      return rises;
    };
    const frontal = [];
    for (const [target, source] of [
      ['fr_biden.jpg', 'fr_obama.jpg'],
      ['astronaut.png', 'fr_obama.jpg'],
      ['fr_obama.jpg', 'fr_biden.jpg'],
    ]) {
      const [r] = await rise(media(target), source, { detect_tiling: 'off' });
      frontal.push(`${source}→${target} ${r.toFixed(2)}`);
      assert.ok(r >= 0.25, `${source} → ${target}: similarity rose by ${r.toFixed(3)}`);
    }
    const group = await rise(path.join(LABELLED, '2008_001322.jpg'), 'fr_obama.jpg');
    const group2 = await rise((await labelled('2008_002079.jpg', 1280)).bytes, 'fr_obama.jpg');
    console.log(`      rises: ${frontal.join(', ')}; group ${group.map((r) => r.toFixed(2)).join(' ')}; group at 1280 px ${group2.map((r) => r.toFixed(2)).join(' ')}`);
    for (const g of [group, group2]) assert.ok(g.filter((r) => r >= 0.12).length > g.length / 2, `rises ${g.map((r) => r.toFixed(2))}`);
  });

  it('the embedded enhancer does not sharpen grain into texture (noisy face ≈ clean face after enhance)', async () => {
    const clean = await decodeImage(fs.readFileSync(media('astronaut.png')));
    const noisy = { ...clean, data: new Uint8Array(clean.data) };
    let seed = 7;
    const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296;
    for (let i = 0; i < noisy.data.length; i++) noisy.data[i] = Math.max(0, Math.min(255, Math.round(noisy.data[i] + 8 * Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd()))));
    const fine = (frame, r) => {
      // mean |pixel − its 3×3 mean|: the finest detail (and grain)
      let s = 0,
        n = 0;
      for (let y = r.y; y < r.y + r.h; y++)
        for (let x = r.x; x < r.x + r.w; x++)
          for (let c = 0; c < 3; c++) {
            let m = 0;
            for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) m += frame.data[((y + dy) * frame.width + x + dx) * 3 + c];
            s += Math.abs(frame.data[(y * frame.width + x) * 3 + c] - m / 9);
            n++;
          }
      return s / n;
    };
    const cheek = { x: 190, y: 125, w: 20, h: 20 };
    const result = [];
    for (const img of [clean, noisy]) {
      const t = await rt.run(await rt.createToken({ target: await encodeImage(img, { format: 'png' }), operations: ['detect', 'enhance'], parameters: { blend_ratio: 1, detect_tiling: 'off' } }));
      result.push(fine(rt.frame(t.target.frame), cheek));
      rt.release(t);
    }
    console.log(`      cheek fine detail after enhance: clean ${result[0].toFixed(2)}, grain σ 8 ${result[1].toFixed(2)}`);
    assert.ok(result[1] <= result[0] * 1.06, `grain sharpened: ${result[1].toFixed(2)} vs ${result[0].toFixed(2)}`);
  });

  it('likeness verdicts: reused for the same face within 30 frames, forgotten on release, when idle and on clear', () => {
    const memory = new LikenessMemory(1000);
    const verdict = judge({ mirror: 0.05, context: 1, identity: 3 });
    assert.strictEqual(verdict.ok, true);
    assert.match(judge({ mirror: 0.3, context: 1, identity: 3 }).reason, /mirrored/);
    memory.remember('job', 10, [100, 100, 200, 200], verdict, 0);
    assert.strictEqual(memory.recall('job', 35, [104, 102, 204, 203], 10), verdict);
    assert.strictEqual(memory.recall('job', 41, [100, 100, 200, 200], 10), undefined, 'too many frames away');
    assert.strictEqual(memory.recall('job', 12, [300, 100, 400, 200], 10), undefined, 'another place');
    assert.strictEqual(memory.recall('other', 10, [100, 100, 200, 200], 10), undefined);
    assert.strictEqual(memory.release('job'), true);
    assert.strictEqual(memory.size, 0);
    memory.remember('a', 0, [0, 0, 10, 10], verdict, 0);
    assert.strictEqual(memory.sweep(500), 0);
    assert.strictEqual(memory.sweep(2000), 1);
    memory.remember('b', 0, [0, 0, 10, 10], verdict, 0);
    memory.clear();
    assert.strictEqual(memory.size, 0);
  });

  it('makes the README picture grid: source, target and result for frontal, turned, pale and dark targets', async () => {
    const rows = [
      { label: 'frontal', source: 'fr_obama.jpg', target: media('fr_biden.jpg') },
      { label: 'turned (3/4 profile: left unchanged)', source: 'fr_obama.jpg', target: path.join(LABELLED, '2008_002079.jpg'), face: (f) => f.bbox[0] < 90 && f.bbox[1] > 170 },
      { label: 'pale', source: 'fr_biden.jpg', target: media('astronaut.png') },
      { label: 'dark', source: 'fr_biden.jpg', target: media('fr_obama.jpg') },
    ];
    const S = 200;
    const tiles = [];
    const crop = async (frame, box) => {
      const side = Math.max(box[2] - box[0], box[3] - box[1]) * 1.5;
      const cx = (box[0] + box[2]) / 2,
        cy = (box[1] + box[3]) / 2;
      const left = Math.max(0, Math.round(cx - side / 2)),
        top = Math.max(0, Math.round(cy - side / 2));
      return sharp(Buffer.from(frame.data), { raw: { width: frame.width, height: frame.height, channels: 3 } })
        .extract({ left, top, width: Math.min(frame.width - left, Math.round(side)), height: Math.min(frame.height - top, Math.round(side)) })
        .resize(S, S, { fit: 'cover' })
        .png()
        .toBuffer();
    };
    for (const row of rows) {
      const src = await rt.run(await rt.createToken({ target: media(row.source), operations: ['detect'], parameters: { detect_tiling: 'off' } }));
      const t0 = await rt.createToken({ target: row.target, source: media(row.source), operations: ['detect', 'landmark', 'swap'], parameters: { face_selector: 'many', detect_tiling: 'off' } });
      const t = await rt.run(t0);
      assert.strictEqual(t.state, 'done', JSON.stringify(t.error));
      const face = row.face ? t.faces.find(row.face) : t.faces[0];
      tiles.push(await crop(rt.frame(src.target.frame), src.faces[0].bbox), await crop(rt.frame(t0.target.frame), face.bbox), await crop(rt.frame(t.target.frame), face.bbox));
      rt.release(src);
      rt.release(t);
    }
    const labels = rows.map((r, i) => `<text x="6" y="${i * (S + 24) + 17}" font-family="sans-serif" font-size="15" fill="#222">${r.label}</text>`).join('');
    const heads = ['source', 'target', 'result'].map((h, i) => `<text x="${i * S + S / 2}" y="16" text-anchor="middle" font-family="sans-serif" font-size="15" fill="#222">${h}</text>`).join('');
    const width = 3 * S,
      height = 22 + rows.length * (S + 24);
    const composite = [
      { input: Buffer.from(`<svg width="${width}" height="22">${heads}</svg>`), left: 0, top: 0 },
      { input: Buffer.from(`<svg width="${width}" height="${height - 22}">${labels}</svg>`), left: 0, top: 22 },
    ];
    tiles.forEach((b, i) => composite.push({ input: b, left: (i % 3) * S, top: 22 + Math.floor(i / 3) * (S + 24) + 24 }));
    const grid = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
      .composite(composite)
      .jpeg({ quality: 85 })
      .toBuffer();
    const file = process.env.UPDATE_DOCS_IMAGES === '1' ? path.join(__dirname, '..', 'docs', 'images', 'swap-grid.jpg') : path.join(__dirname, 'artifacts', 'swap-grid.jpg');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, grid);
    assert.ok(fs.statSync(file).size > 10000);
  });
});
