'use strict';
// What the embedded swap does to pictures besides the faces (BENCHMARKS.md §16):
//  1. boxes per group picture (labelled/*.jpg at native size and 1280 px wide, tiling auto), how
//     many the face-likeness check skipped, the turned faces the pose guard skipped, and the
//     pixels changed outside the labelled faces;
//  2. identity similarity to the source (our embedder) before → after, per face;
//  3. new green/teal/blue pixels per face made by the colour transfer step (warped face before
//     vs after, bench/swap-harm-lib.js), on pale and dark targets.
// Usage: node bench/swap-harm.js   (about a minute on 2 cores)
const path = require('path');
const sharp = require('sharp');
const {
  createRuntime,
  cosineSimilarity,
  colorTransferInto,
  convexHull,
  polygonBounds,
  delaunay,
  warpPiecewiseAffineInto,
  featherMask,
  polygonMask,
  combineMin,
  clipRect,
} = require('../dist/runtime/internal');
const { readLabels } = require('./privacy-lib');
const { isCool } = require('./swap-harm-lib');
const { saveResults, MEDIA } = require('./lib');

const LABELLED = path.join(MEDIA, 'labelled');
const media = (f) => path.join(MEDIA, f);

(async () => {
  const rt = createRuntime({ sweepIntervalMs: 0 });
  await rt.warmup();
  const results = { groups: [], colour: [] };
  console.log('1–2. group pictures, source fr_obama.jpg, tiling auto, face_selector many');
  for (const img of readLabels(LABELLED)) {
    for (const width of [img.width, 1280]) {
      const s = width / img.width;
      const bytes = await sharp(path.join(LABELLED, img.file)).resize(width).png().toBuffer();
      const t0 = await rt.createToken({ target: bytes, source: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'embed', 'swap'], parameters: { face_selector: 'many' } });
      const t = await rt.run(t0);
      const a = rt.frame(t0.target.frame),
        b = rt.frame(t.target.frame);
      const grown = img.boxes.map((l) => {
        const m = (l[2] - l[0]) / 2;
        return [(l[0] - m) * s, (l[1] - m) * s, (l[2] + m) * s, (l[3] + m * 1.2) * s];
      });
      let outside = 0;
      for (let y = 0; y < a.height; y++)
        for (let x = 0; x < a.width; x++) {
          const i = (y * a.width + x) * 3;
          if (a.data[i] === b.data[i] && a.data[i + 1] === b.data[i + 1] && a.data[i + 2] === b.data[i + 2]) continue;
          if (!grown.some((g) => x >= g[0] && x <= g[2] && y >= g[1] && y <= g[3])) outside++;
        }
      const again = await rt.run(await rt.createToken({ target: await rt.encode(t, { format: 'png' }), operations: ['detect', 'landmark', 'embed'] }));
      const rises = t.faces.map((f) => {
        const m = again.faces.find(
          (g) => Math.abs(g.bbox[0] + g.bbox[2] - f.bbox[0] - f.bbox[2]) < f.bbox[2] - f.bbox[0] && Math.abs(g.bbox[1] + g.bbox[3] - f.bbox[1] - f.bbox[3]) < f.bbox[3] - f.bbox[1],
        );
        return m ? Math.round((cosineSimilarity(m.embedding, t.source.embedding) - cosineSimilarity(f.embedding, t.source.embedding)) * 100) / 100 : null;
      });
      const entry = t.journal.find((j) => j.stage === 'swap');
      const skipped = entry.faces_skipped ?? [];
      const row = {
        picture: img.file,
        width,
        boxes: t.faces.length,
        labelled: img.boxes.length,
        notAFace: skipped.filter((x) => x.reason === 'not_a_face').length,
        turned: skipped.filter((x) => x.reason === 'turned').length,
        changedOutside: outside,
        rises,
      };
      results.groups.push(row);
      console.log(
        `  ${img.file} @ ${width}px: ${row.boxes} boxes (${row.labelled} labelled faces), skipped ${row.notAFace} not a face + ${row.turned} turned; ${outside} px changed outside the faces; similarity rise ${rises.map((r) => (r === null ? '–' : r.toFixed(2))).join(' ')}`,
      );
      rt.release(again);
      rt.release(t);
    }
  }
  console.log('3. new green/teal/blue pixels per face from the colour transfer step');
  const analyse = async (f) => rt.run(await rt.createToken({ target: media(f), operations: ['detect', 'landmark'], parameters: { detect_tiling: 'off' } }));
  for (const source of ['fr_obama.jpg', 'fr_biden.jpg', 'astronaut.png']) {
    const src = await analyse(source);
    const sf = rt.frame(src.target.frame);
    for (const target of ['astronaut.png', 'fr_biden.jpg', 'fr_obama.jpg', 'newton.png', 'fr_two_people.jpg', 'labelled/2008_001009.jpg', 'labelled/2008_001322.jpg']) {
      if (target === source) continue;
      const tgt = await analyse(target);
      const tf = rt.frame(tgt.target.frame);
      const counts = tgt.faces.map((face) => {
        const hull = convexHull(face.landmarks68);
        const bb = polygonBounds(hull);
        const rect = clipRect({ x: bb.x - 2, y: bb.y - 2, width: bb.width + 4, height: bb.height + 4 }, tf.width, tf.height);
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
        return fresh;
      });
      results.colour.push({ source, target, newCoolPixels: counts });
      console.log(`  ${source} → ${target}: ${counts.join(' ')}`);
      rt.release(tgt);
    }
    rt.release(src);
  }
  const all = results.colour.flatMap((c) => c.newCoolPixels);
  console.log(`  faces ${all.length}, max ${Math.max(...all)}, over 24: ${all.filter((n) => n > 24).length}`);
  saveResults('swapHarm', results);
  await rt.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
