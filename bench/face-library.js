'use strict';
// Face library: accuracy of recognition with the default recognizer, and speed.
//
//   node bench/face-library.js            accuracy + speed (≈ 1 min on 2 cores)
//   node bench/face-library.js --speed    speed only
//
// Accuracy. Identities are the faces of the permissively licensed pictures in test/fixtures/media
// (see its README): Barack Obama and Joe Biden in two photos each (their portraits and the
// two-people photo), the astronaut, Newton, Messi and the 18 labelled faces of four PASCAL VOC
// pictures: 23 people, 25 photos. Each face is cut out with a margin and augmented: crops
// (tight, loose, shifted), a mirror image, darker, brighter, more contrast, low resolution,
// JPEG at quality 25, mirrored and dark: 10 pictures per photo. Every picture goes through the
// default pipeline (RFB-320 detect, 68-point landmarks, fr_feature embedding); the detected face that
// overlaps
// the face's known box most is its face (a picture where none overlaps it counts as not detected).
// - Library (what face recognize does): each person is enrolled from the original picture of
//   their first photo; every other picture is a probe. A probe of a person is accepted when the
//   library names that person (closest, similarity ≥ t). A stranger is simulated per person: the
//   person's probes against the library without them; a false accept is a stranger named as
//   anyone. The threshold is the lowest t whose false-accept rate is ≤ 1 %.
// - Pairs (verification): every two pictures of one person vs every two of different people.
// Speed. Recognising one face against 10,000 enrolled (vectors of 10,000 made-up people in a
// library file; the scan cost does not depend on who they are), the flat scan in onnxruntime vs
// the plain-JavaScript loop, the index rebuild after a change, and enrolling a picture (decode +
// detect + landmarks + embed + the database write; the write alone too).
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const { createRuntime, FaceLibrary, withEmbeddings, DEFAULT_RECOGNITION_THRESHOLD } = require('../dist/runtime/internal');
const { summary, saveResults, machine, MEDIA } = require('./lib');

const SPEED_ONLY = process.argv.includes('--speed');
const LABELLED = path.join(MEDIA, 'labelled');

/** Boxes of the labelled pictures (dlib imglab XML). */
function labelledBoxes() {
  const xml = fs.readFileSync(path.join(LABELLED, 'training.xml'), 'utf8');
  const out = [];
  for (const image of xml.matchAll(/<image file='([^']+)'[^>]*>([\s\S]*?)<\/image>/g)) {
    for (const b of image[2].matchAll(/<box top='(\d+)' left='(\d+)' width='(\d+)' height='(\d+)'/g)) {
      const [top, left, w, h] = b.slice(1).map(Number);
      out.push({ file: path.join(LABELLED, image[1]), box: [left, top, left + w, top + h] });
    }
  }
  return out;
}

/**
 * The face of a photo cut out with a margin of one face size on each side, at least 240 px wide;
 * with the face's box in the cut-out's pixels.
 */
async function cutOut(file, box) {
  const meta = await sharp(file).metadata();
  const w = box[2] - box[0],
    h = box[3] - box[1];
  const left = Math.max(0, Math.round(box[0] - w)),
    top = Math.max(0, Math.round(box[1] - h));
  const width = Math.min(meta.width - left, Math.round(3 * w)),
    height = Math.min(meta.height - top, Math.round(3 * h));
  const scale = width < 240 ? 240 / width : 1;
  const crop = sharp(file).extract({ left, top, width, height });
  const png = await (scale > 1 ? crop.resize({ width: 240 }) : crop).png().toBuffer();
  return { png, face: [(box[0] - left) * scale, (box[1] - top) * scale, (box[2] - left) * scale, (box[3] - top) * scale] };
}

/** The ten pictures of one cut-out face, each with where the face is in it. */
async function augment({ png, face }) {
  const { width: W, height: H } = await sharp(png).metadata();
  const region = async (fx, fy, fw, fh) => {
    const left = Math.round(W * fx),
      top = Math.round(H * fy);
    const bytes = await sharp(png)
      .extract({ left, top, width: Math.round(W * fw), height: Math.round(H * fh) })
      .png()
      .toBuffer();
    return { bytes, face: [face[0] - left, face[1] - top, face[2] - left, face[3] - top] };
  };
  const same = async (image) => ({ bytes: await image.toBuffer(), face });
  const mirrored = [W - face[2], face[1], W - face[0], face[3]];
  return {
    original: { bytes: png, face },
    tight: await region(0.2, 0.2, 0.6, 0.6),
    shifted: await region(0, 0.1, 0.8, 0.85),
    mirror: { bytes: await sharp(png).flop().png().toBuffer(), face: mirrored },
    dark: await same(sharp(png).modulate({ brightness: 0.55 }).png()),
    bright: await same(sharp(png).modulate({ brightness: 1.45 }).png()),
    contrast: await same(sharp(png).linear(1.4, -40).png()),
    lowres: {
      bytes: await sharp(
        await sharp(png)
          .resize({ width: Math.round(W / 3) })
          .png()
          .toBuffer(),
      )
        .resize({ width: W, height: H })
        .png()
        .toBuffer(),
      face,
    },
    jpeg25: await same(sharp(png).jpeg({ quality: 25 })),
    mirrorDark: { bytes: await sharp(png).flop().modulate({ brightness: 0.6 }).png().toBuffer(), face: mirrored },
  };
}

/** Overlap of two boxes (intersection over union). */
function iou(a, b) {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])),
    h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const i = w * h;
  return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i);
}

/** The embedding of the detected face that overlaps the known box most (IoU ≥ 0.3), else undefined. */
async function embedFace(rt, { bytes, face }) {
  const token = await rt.createToken({ target: bytes, operations: ['detect'] });
  try {
    const detected = await rt.process('detect', token, { force: true });
    const best = detected.faces.map((f) => [iou(f.bbox, face), f]).sort((a, b) => b[0] - a[0])[0];
    if (!best || best[0] < 0.3) return undefined;
    const out = await withEmbeddings(rt, { ...detected, faces: [best[1]] });
    return out.state === 'failed' ? undefined : out.faces[0].embedding;
  } finally {
    rt.release(token);
  }
}

const dot = (a, b) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const pct = (x) => Math.round(x * 1000) / 10;

async function accuracy(rt) {
  // Photos: [identity, file, box]; the two-people photo holds Obama (left) and Biden (right).
  const photos = [];
  const detectBoxes = async (file) => {
    const t = await rt.process('detect', await rt.createToken({ target: file, operations: ['detect'] }), { force: true });
    rt.release(t);
    return [...t.faces].sort((a, b) => a.bbox[0] - b.bbox[0]).map((f) => f.bbox);
  };
  photos.push(['Barack Obama', path.join(MEDIA, 'fr_obama.jpg'), (await detectBoxes(path.join(MEDIA, 'fr_obama.jpg')))[0]]);
  photos.push(['Joe Biden', path.join(MEDIA, 'fr_biden.jpg'), (await detectBoxes(path.join(MEDIA, 'fr_biden.jpg')))[0]]);
  const two = await detectBoxes(path.join(MEDIA, 'fr_two_people.jpg'));
  photos.push(['Barack Obama', path.join(MEDIA, 'fr_two_people.jpg'), two[0]]);
  photos.push(['Joe Biden', path.join(MEDIA, 'fr_two_people.jpg'), two[1]]);
  for (const f of ['astronaut.png', 'newton.png', 'messi5.jpg']) photos.push([f.replace(/\..*/, ''), path.join(MEDIA, f), (await detectBoxes(path.join(MEDIA, f)))[0]]);
  labelledBoxes().forEach((b, i) => photos.push([`voc-${i + 1}`, b.file, b.box]));

  const samples = []; // { person, photo, variant, embedding }
  let missed = 0;
  const missedByVariant = {};
  for (const [k, [person, file, box]] of photos.entries()) {
    const variants = await augment(await cutOut(file, box));
    for (const [variant, picture] of Object.entries(variants)) {
      const embedding = await embedFace(rt, picture);
      if (!embedding) {
        missed++;
        missedByVariant[variant] = (missedByVariant[variant] || 0) + 1;
        continue;
      }
      samples.push({ person, photo: k, variant, embedding });
    }
  }
  const people = [...new Set(photos.map((p) => p[0]))];
  // Gallery: the original picture of each person's first photo.
  const firstPhoto = new Map();
  photos.forEach(([person], k) => {
    if (!firstPhoto.has(person)) firstPhoto.set(person, k);
  });
  const gallery = new Map();
  for (const s of samples) if (s.variant === 'original' && firstPhoto.get(s.person) === s.photo) gallery.set(s.person, s);
  const probes = samples.filter((s) => gallery.get(s.person) !== s);
  const notEnrolled = people.filter((p) => !gallery.has(p));

  // Library protocol.
  const scored = probes
    .filter((p) => gallery.has(p.person))
    .map((p) => {
      let best = { person: null, sim: -2 },
        bestOther = -2;
      for (const [person, g] of gallery) {
        const sim = dot(p.embedding, g.embedding);
        if (sim > best.sim) best = { person, sim };
        if (person !== p.person && sim > bestOther) bestOther = sim;
      }
      return { ...p, best, bestOther, crossPhoto: firstPhoto.get(p.person) !== p.photo };
    });
  if (process.env.BENCH_DEBUG)
    for (const s of scored.filter((x) => x.bestOther >= 0.45 || x.best.person !== x.person)) {
      const other = [...gallery]
        .filter(([p]) => p !== s.person)
        .map(([p, g]) => [p, dot(s.embedding, g.embedding)])
        .sort((a, b) => b[1] - a[1])[0];
      console.log('  confusion', s.person, s.variant, 'best', s.best.person, s.best.sim.toFixed(2), 'other', other[0], other[1].toFixed(2));
    }
  const far = (t) => scored.filter((s) => s.bestOther >= t).length / scored.length;
  const tar = (t, set = scored) => set.filter((s) => s.best.person === s.person && s.best.sim >= t).length / set.length;
  const candidates = [...new Set(scored.map((s) => Math.round(s.bestOther * 100) / 100))].concat([DEFAULT_RECOGNITION_THRESHOLD]).sort((a, b) => a - b);
  let threshold = 1;
  for (const t of [...candidates].reverse())
    if (far(t) <= 0.01) threshold = t;
    else break;
  // The lowest t at 2 decimals with FAR ≤ 1 %: every stranger score ≥ t counts.
  for (let t = 0; t <= 1.0001; t += 0.01) {
    const r = Math.round(t * 100) / 100;
    if (far(r) <= 0.01) {
      threshold = r;
      break;
    }
  }
  const cross = scored.filter((s) => s.crossPhoto);
  const same = scored.filter((s) => !s.crossPhoto);
  const byVariant = {};
  for (const s of scored) (byVariant[s.variant] ??= []).push(s);

  // Pairs protocol.
  const genuine = [],
    impostor = [];
  for (let i = 0; i < samples.length; i++)
    for (let j = i + 1; j < samples.length; j++) {
      (samples[i].person === samples[j].person ? genuine : impostor).push(dot(samples[i].embedding, samples[j].embedding));
    }
  impostor.sort((a, b) => b - a);
  const pairThreshold = impostor[Math.floor(impostor.length * 0.01)] + 1e-6;
  const pairTar = genuine.filter((g) => g >= pairThreshold).length / genuine.length;

  const at = (t) => ({ threshold: t, tar: pct(tar(t)), tarCrossPhoto: pct(tar(t, cross)), tarSamePhoto: pct(tar(t, same)), far: pct(far(t)) });
  const result = {
    people: people.length,
    photos: photos.length,
    pictures: photos.length * 10,
    notDetected: missed,
    notDetectedByVariant: missedByVariant,
    notEnrolled,
    probes: scored.length,
    crossPhotoProbes: cross.length,
    atFar1: at(threshold),
    atDefault: at(DEFAULT_RECOGNITION_THRESHOLD),
    sweep: [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6].map(at),
    tarByVariantAtDefault: Object.fromEntries(Object.entries(byVariant).map(([v, list]) => [v, pct(tar(DEFAULT_RECOGNITION_THRESHOLD, list))])),
    strangerBest: summary(scored.map((s) => s.bestOther)),
    pairs: { genuine: genuine.length, impostor: impostor.length, thresholdAtFar1: Math.round(pairThreshold * 1000) / 1000, tarAtFar1: pct(pairTar) },
  };
  console.log(
    `\naccuracy: ${result.people} people, ${result.photos} photos, ${result.pictures} pictures (${missed} without a detected face: ${JSON.stringify(missedByVariant)}); ${result.probes} probes (${cross.length} from another photo of the person)`,
  );
  console.log(
    `  lowest threshold with FAR ≤ 1 %: ${threshold} → TAR ${result.atFar1.tar} % (other photo ${result.atFar1.tarCrossPhoto} %, same photo ${result.atFar1.tarSamePhoto} %), FAR ${result.atFar1.far} %`,
  );
  console.log(`  default threshold ${DEFAULT_RECOGNITION_THRESHOLD}: TAR ${result.atDefault.tar} % (other photo ${result.atDefault.tarCrossPhoto} %), FAR ${result.atDefault.far} %`);
  console.log('  threshold  TAR %  TAR other photo %  FAR %');
  for (const r of result.sweep) console.log(`  ${r.threshold.toFixed(2).padEnd(10)} ${String(r.tar).padEnd(6)} ${String(r.tarCrossPhoto).padEnd(18)} ${r.far}`);
  console.log(`  TAR by augmentation at the default: ${JSON.stringify(result.tarByVariantAtDefault)}`);
  console.log(`  a stranger's best similarity in the library (min / median / max): ${result.strangerBest.min} / ${result.strangerBest.median} / ${result.strangerBest.max}`);
  console.log(`  pairs: ${genuine.length} genuine, ${impostor.length} impostor; at FAR ≤ 1 % threshold ${result.pairs.thresholdAtFar1}, TAR ${result.pairs.tarAtFar1} %`);
  return result;
}

/** A made-up unit vector (xorshift): the scan's cost does not depend on whose face it is. */
function made(seed, dim = 512) {
  let x = (seed * 2654435761) >>> 0 || 1;
  const v = new Array(dim);
  let sum = 0;
  for (let i = 0; i < dim; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    v[i] = x / 2 ** 32 - 0.5;
    sum += v[i] * v[i];
  }
  const n = Math.sqrt(sum);
  return v.map((a) => a / n);
}

async function speed(rt, dir) {
  const N = 10000;
  const db = path.join(dir, 'ten-thousand.db');
  const lib = new FaceLibrary(db);
  const data = { format: 'facefusion-library', v: 1, model: 'fr_feature', dim: 512, exported_at: new Date().toISOString(), people: [] };
  for (let i = 0; i < N; i++)
    data.people.push({
      name: `person ${i}`,
      created: data.exported_at,
      notes: '',
      embeddings: [{ vector: Buffer.from(Float32Array.from(made(i + 1)).buffer).toString('base64'), created: data.exported_at }],
    });
  let t = performance.now();
  lib.importData(data);
  const importMs = performance.now() - t;
  const face = { embedding: made(4242).map((x, i) => x + (i % 5 ? 0.01 : 0)), embedding_model: 'fr_feature' };
  t = performance.now();
  await lib.identify([face], 0.5); // builds the index (loads 10,000 vectors) and the session
  const firstMs = performance.now() - t;
  const times = [];
  for (let i = 0; i < 20; i++) await lib.identify([face], 0.5);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    await lib.identify([face], 0.5);
    times.push(performance.now() - s);
  }
  const cpu = process.cpuUsage(cpu0);
  const five = [];
  const faces5 = [1, 2, 3, 4, 5].map((k) => ({ embedding: made(k * 77), embedding_model: 'fr_feature' }));
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    await lib.identify(faces5, 0.5);
    five.push(performance.now() - s);
  }
  // The same scan in plain JavaScript (what the Gemm replaces), on the same vectors.
  const matrix = new Float32Array(N * 512);
  for (let i = 0; i < N; i++) matrix.set(made(i + 1), i * 512);
  const q = Float32Array.from(face.embedding);
  const js = [];
  for (let r = 0; r < 60; r++) {
    const s = performance.now();
    let best = -2;
    for (let i = 0, o = 0; i < N; i++, o += 512) {
      let a = 0,
        b = 0,
        c = 0,
        d = 0;
      for (let k = 0; k < 512; k += 4) {
        a += matrix[o + k] * q[k];
        b += matrix[o + k + 1] * q[k + 1];
        c += matrix[o + k + 2] * q[k + 2];
        d += matrix[o + k + 3] * q[k + 3];
      }
      if (a + b + c + d > best) best = a + b + c + d;
    }
    if (r >= 10) js.push(performance.now() - s);
  }
  // A change (an enrolment) makes the next recognition rebuild the index.
  lib.enrol('one more', { embedding: made(999999), embedding_model: 'fr_feature' });
  t = performance.now();
  await lib.identify([face], 0.5);
  const rebuildMs = performance.now() - t;
  const fileMB = fs.statSync(db).size / 1048576;
  await lib.close();

  // Enrolling a picture: the whole path (decode, detect, landmarks, embed, write) and the write alone.
  const enrolDb = new FaceLibrary(path.join(dir, 'enrol.db'));
  const pictures = ['fr_obama.jpg', 'fr_biden.jpg', 'astronaut.png', 'newton.png'].map((f) => fs.readFileSync(path.join(MEDIA, f)));
  const enrolMs = [],
    writeMs = [];
  let enrolCpu;
  for (let round = 0; round < 6; round++) {
    if (round === 1) enrolCpu = process.cpuUsage();
    for (const [i, bytes] of pictures.entries()) {
      const s = performance.now();
      const token = await rt.createToken({ target: bytes, operations: ['detect'] });
      const detected = await rt.process('detect', token, { force: true });
      const embedded = await withEmbeddings(rt, detected);
      const w = performance.now();
      enrolDb.enrol(`p${i}`, embedded.faces[0]);
      const e = performance.now();
      rt.release(embedded);
      if (round > 0) {
        enrolMs.push(e - s);
        writeMs.push(e - w);
      }
    }
  }
  const enrolCpuMs = ((c) => (c.user + c.system) / 1000 / enrolMs.length)(process.cpuUsage(enrolCpu));
  await enrolDb.close();
  const result = {
    enrolled: N,
    dbFileMB: Math.round(fileMB * 10) / 10,
    importMs: Math.round(importMs),
    firstRecognitionMs: Math.round(firstMs),
    recognizeOneMs: summary(times),
    recognizeOneCpuMs: Math.round(((cpu.user + cpu.system) / 1000 / 200) * 100) / 100,
    recognizeFiveMs: summary(five),
    plainJsScanMs: summary(js),
    rebuildAfterChangeMs: Math.round(rebuildMs),
    enrolPictureMs: summary(enrolMs),
    enrolWriteMs: summary(writeMs),
    enrolPictureCpuMs: Math.round(enrolCpuMs),
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
  console.log(`\nspeed (${machine()}, load ${result.loadAverage.join(' ')}):`);
  console.log(`  ${N} people in the file (${result.dbFileMB} MB, imported in ${result.importMs} ms); first recognition (index + session) ${result.firstRecognitionMs} ms`);
  console.log(
    `  recognise one face: ${result.recognizeOneMs.min} / ${result.recognizeOneMs.median} / ${result.recognizeOneMs.max} ms (min / median / max, ${times.length} runs), ${result.recognizeOneCpuMs} ms of CPU each`,
  );
  console.log(`  five faces at once: ${result.recognizeFiveMs.min} / ${result.recognizeFiveMs.median} / ${result.recognizeFiveMs.max} ms`);
  console.log(`  the same scan in plain JavaScript: ${result.plainJsScanMs.min} / ${result.plainJsScanMs.median} / ${result.plainJsScanMs.max} ms`);
  console.log(`  first recognition after an enrolment (index rebuilt): ${result.rebuildAfterChangeMs} ms`);
  console.log(
    `  enrol a picture (decode + detect + landmarks + embed + write): ${result.enrolPictureMs.min} / ${result.enrolPictureMs.median} / ${result.enrolPictureMs.max} ms; the write alone ${result.enrolWriteMs.min} / ${result.enrolWriteMs.median} / ${result.enrolWriteMs.max} ms; ${result.enrolPictureCpuMs} ms of CPU per picture (both cores)`,
  );
  return result;
}

(async () => {
  const rt = createRuntime({ sweepIntervalMs: 0 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-bench-library-'));
  try {
    await rt.warmup();
    const out = {};
    if (!SPEED_ONLY) out.accuracy = await accuracy(rt);
    out.speed = await speed(rt, dir);
    saveResults('face_library', out);
  } finally {
    await rt.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
