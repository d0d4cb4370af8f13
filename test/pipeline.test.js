'use strict';
// Runtime core on real models and real photos.
const assert = require('assert');
const path = require('path');
const fs = require('fs');
const sharp = require('sharp');
const { createRuntime, cosineSimilarity, decodeImage } = require('../dist/runtime/internal');

const { MEDIA } = require('./helpers/fixtures');
const media = (name) => path.join(MEDIA, name);

function boxContains(box, [x, y], slack = 0) {
  return x >= box[0] - slack && x <= box[2] + slack && y >= box[1] - slack && y <= box[3] + slack;
}

describe('runtime pipeline on real models', function () {
  this.timeout(120000);
  let rt;
  before(async function () {
    rt = createRuntime({ sweepIntervalMs: 0 });
    await rt.warmup();
  });
  after(async function () {
    await rt.close();
  });

  async function analyse(target, operations = ['detect', 'landmark', 'embed'], parameters = {}) {
    const token = await rt.createToken({ target, operations, parameters });
    const out = await rt.run(token);
    assert.notStrictEqual(out.state, 'failed', JSON.stringify(out.error));
    return out;
  }

  it('finds exactly one face on astronaut.png, around the face, with 68 points inside and eyes above mouth', async function () {
    const t = await analyse(media('astronaut.png'));
    assert.strictEqual(t.faces.length, 1);
    const [x1, y1, x2, y2] = t.faces[0].bbox;
    // The face, not the helmet: the helmet spans most of the 512 px picture; the face is about a third of it.
    assert.ok(x2 - x1 > 60 && x2 - x1 < 260, `face width ${x2 - x1}`);
    assert.ok(y2 - y1 > 80 && y2 - y1 < 300, `face height ${y2 - y1}`);
    assert.ok(x1 > 100 && x2 < 330 && y1 > 40 && y2 < 330, `box ${t.faces[0].bbox}`);
    const f = t.faces[0];
    assert.strictEqual(f.landmarks68.length, 68);
    const inside = f.landmarks68.filter((p) => boxContains(f.bbox, p, 0.1 * (x2 - x1))).length;
    assert.ok(inside >= 64, `${inside}/68 landmarks inside the box`);
    const [le, re, nose, lm, rm] = f.landmarks5;
    assert.ok(le[1] < lm[1] && re[1] < rm[1], 'eyes above mouth');
    assert.ok(le[0] < re[0] && lm[0] < rm[0], 'left features left of right ones');
    assert.ok(nose[1] > le[1] && nose[1] < lm[1], 'nose between eyes and mouth');
    assert.strictEqual(f.embedding.length, 512);
    rt.release(t);
  });

  it('finds the small face in messi5.jpg', async function () {
    const t = await analyse(media('messi5.jpg'), ['detect']);
    assert.ok(t.faces.length >= 1, 'no face found');
    rt.release(t);
  });

  it('finds two faces in fr_two_people.jpg, largest first', async function () {
    const t = await analyse(media('fr_two_people.jpg'), ['detect']);
    assert.strictEqual(t.faces.length, 2);
    const area = (f) => (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]);
    assert.ok(area(t.faces[0]) >= area(t.faces[1]));
    rt.release(t);
  });

  it('embeddings: same photo resized/flipped stays close, different people are clearly further apart', async function () {
    const obama = await analyse(media('fr_obama.jpg'));
    const buf = fs.readFileSync(media('fr_obama.jpg'));
    const meta = await sharp(buf).metadata();
    const resized = await analyse(
      await sharp(buf)
        .resize(Math.round(meta.width * 0.7))
        .jpeg()
        .toBuffer(),
    );
    const flipped = await analyse(await sharp(buf).flop().png().toBuffer());
    const biden = await analyse(media('fr_biden.jpg'));
    const e = (t) => t.faces[0].embedding;
    const same1 = cosineSimilarity(e(obama), e(resized));
    const same2 = cosineSimilarity(e(obama), e(flipped));
    const other = cosineSimilarity(e(obama), e(biden));
    console.log(`      cosine obama~resized ${same1.toFixed(3)}, obama~flipped ${same2.toFixed(3)}, obama~biden ${other.toFixed(3)}`);
    assert.ok(same1 > 0.8 && same2 > 0.8, 'same person should be > 0.8');
    assert.ok(other < Math.min(same1, same2) - 0.2, 'different people should be clearly lower');
    for (const t of [obama, resized, flipped, biden]) rt.release(t);
  });

  it('swap: the result face is closer to the source identity, and pixels outside the face mask are unchanged', async function () {
    const token = await rt.createToken({ target: media('fr_biden.jpg'), source: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'embed', 'swap'], parameters: { blend_ratio: 1 } });
    const swapped = await rt.run(token);
    assert.strictEqual(swapped.state, 'done', JSON.stringify(swapped.error));
    assert.notStrictEqual(swapped.target.frame, token.target.frame, 'swap stores a new frame');
    const sourceEmb = swapped.source.embedding;
    const before = cosineSimilarity(swapped.faces[0].embedding, sourceEmb);
    const result = await analyse(rt.frame(swapped.target.frame));
    const after = cosineSimilarity(result.faces[0].embedding, sourceEmb);
    console.log(`      identity similarity to source: before ${before.toFixed(3)}, after ${after.toFixed(3)}`);
    assert.ok(after > before + 0.1, `after ${after} should be clearly above before ${before}`);

    // Outside the target's 68-point hull bounds nothing changed.
    const orig = rt.frame(token.target.frame);
    const out = rt.frame(swapped.target.frame);
    const pts = swapped.faces[0].landmarks68;
    const minX = Math.floor(Math.min(...pts.map((p) => p[0]))) - 3,
      maxX = Math.ceil(Math.max(...pts.map((p) => p[0]))) + 3;
    const minY = Math.floor(Math.min(...pts.map((p) => p[1]))) - 3,
      maxY = Math.ceil(Math.max(...pts.map((p) => p[1]))) + 3;
    let changedOutside = 0,
      changedInside = 0;
    for (let y = 0; y < orig.height; y++)
      for (let x = 0; x < orig.width; x++) {
        const i = (y * orig.width + x) * 3;
        const diff = orig.data[i] !== out.data[i] || orig.data[i + 1] !== out.data[i + 1] || orig.data[i + 2] !== out.data[i + 2];
        if (!diff) continue;
        if (x < minX || x > maxX || y < minY || y > maxY) changedOutside++;
        else changedInside++;
      }
    assert.strictEqual(changedOutside, 0, 'pixels outside the face changed');
    assert.ok(changedInside > 1000, 'the face changed');
    rt.release(result);
    rt.release(swapped);
  });

  it('blur: every detected face region changes, the rest of the image does not', async function () {
    const t = await analyse(media('fr_two_people.jpg'), ['detect', 'blur'], { blur_margin: 0.2 });
    const orig = await decodeImage(fs.readFileSync(media('fr_two_people.jpg')));
    const out = rt.frame(t.target.frame);
    const rects = t.faces.map((f) => {
      const w = f.bbox[2] - f.bbox[0],
        h = f.bbox[3] - f.bbox[1];
      return [f.bbox[0] - w * 0.2 - 1, f.bbox[1] - h * 0.2 - 1, f.bbox[2] + w * 0.2 + 1, f.bbox[3] + h * 0.2 + 1];
    });
    const changedPerFace = rects.map(() => 0);
    let changedOutside = 0;
    for (let y = 0; y < out.height; y++)
      for (let x = 0; x < out.width; x++) {
        const i = (y * out.width + x) * 3;
        if (orig.data[i] === out.data[i] && orig.data[i + 1] === out.data[i + 1] && orig.data[i + 2] === out.data[i + 2]) continue;
        const k = rects.findIndex((r) => x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3]);
        if (k < 0) changedOutside++;
        else changedPerFace[k]++;
      }
    assert.strictEqual(changedOutside, 0);
    for (const c of changedPerFace) assert.ok(c > 500, `face region changed only ${c} pixels`);
    rt.release(t);
  });

  it('face_selector reference: blurs only faces like the reference, and refuses an embedding of another recognizer', async function () {
    const obama = await analyse(media('fr_obama.jpg'));
    const biden = await analyse(media('fr_biden.jpg'));
    const [face] = obama.faces;
    assert.ok(face.embedding_model, 'faces record their recognizer');
    const blurWith = async (target, parameters) => {
      const out = await rt.run(await rt.createToken({ target, operations: ['detect', 'landmark', 'embed', 'blur'], parameters: { face_selector: 'reference', ...parameters } }));
      const entry = out.journal.find((j) => j.stage === 'blur');
      rt.release(out);
      return { out, entry };
    };
    const reference = { reference_embedding: face.embedding, reference_embedding_model: face.embedding_model, reference_distance: 0.5 };
    const same = await blurWith(media('fr_obama.jpg'), reference);
    assert.strictEqual(same.entry.outcome, 'ok', JSON.stringify(same.entry));
    const other = await blurWith(media('fr_biden.jpg'), reference);
    assert.strictEqual(other.entry.outcome, 'no_face', 'nobody like the reference in the other picture');
    const wrongModel = await blurWith(media('fr_obama.jpg'), { ...reference, reference_embedding_model: 'arcface_w600k_r50' });
    assert.strictEqual(wrongModel.out.state, 'failed');
    assert.strictEqual(wrongModel.out.error.code, 'E_BAD_PARAMETER');
    assert.match(wrongModel.out.error.message, new RegExp(`embedded by ${face.embedding_model}, the reference by arcface_w600k_r50`));
    const wrongLength = await blurWith(media('fr_obama.jpg'), { reference_embedding: face.embedding.slice(0, 128) });
    assert.strictEqual(wrongLength.out.error.code, 'E_BAD_PARAMETER');
    assert.match(wrongLength.out.error.message, /512-value embedding but reference_embedding has 128/);
    rt.release(obama);
    rt.release(biden);
  });

  it('enhance and debug produce new frames of the same size', async function () {
    const t = await analyse(media('astronaut.png'), ['detect', 'landmark', 'enhance', 'debug']);
    assert.strictEqual(t.journal.length, 4);
    const out = rt.frame(t.target.frame);
    assert.deepStrictEqual([out.width, out.height], [512, 512]);
    const jpeg = await rt.encode(t, { format: 'jpeg', quality: 90 });
    assert.strictEqual(jpeg[0], 0xff);
    rt.release(t);
  });

  describe('bad inputs give coded errors, never a crash', function () {
    const cases = [
      ['zero-byte buffer', () => Buffer.alloc(0)],
      ['random bytes', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))],
      [
        'truncated JPEG',
        () => {
          const b = fs.readFileSync(media('fr_obama.jpg'));
          return b.subarray(0, b.length >> 1);
        },
      ],
      [
        '1×1 image',
        () =>
          sharp({ create: { width: 1, height: 1, channels: 3, background: '#888' } })
            .png()
            .toBuffer(),
      ],
    ];
    for (const [name, make] of cases) {
      it(name, async function () {
        await assert.rejects(rt.createToken({ target: await make() }), (e) => e.code === 'E_BAD_IMAGE' && e.message.length > 5);
      });
    }

    it('a 20000×20000 PNG header is refused by the pixel limit', async function () {
      const png = pngHeader(20000, 20000);
      const started = Date.now();
      await assert.rejects(rt.createToken({ target: png }), (e) => e.code === 'E_BAD_IMAGE' && /pixel|large|limit/i.test(e.message));
      assert.ok(Date.now() - started < 2000, 'refused quickly');
    });

    it('a token whose frame is missing', async function () {
      const t = await rt.createToken({ target: media('astronaut.png'), operations: ['detect'] });
      rt.release(t);
      assert.throws(
        () => rt.acceptToken(JSON.parse(JSON.stringify(t))),
        (e) => e.code === 'E_FRAME_MISSING',
      );
      const out = await rt.process('detect', t);
      assert.strictEqual(out.state, 'failed');
      assert.strictEqual(out.error.code, 'E_FRAME_MISSING');
      assert.strictEqual(out.journal.at(-1).stage, 'detect');
    });

    it('a stage that needs a face fails with E_NO_FACE', async function () {
      const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#6a8' } })
        .png()
        .toBuffer();
      const t = await rt.run(await rt.createToken({ target: blank, operations: ['detect', 'landmark'] }));
      assert.strictEqual(t.state, 'failed');
      assert.strictEqual(t.error.code, 'E_NO_FACE');
      assert.strictEqual(t.journal[0].outcome, 'no_face');
      rt.release(t);
    });

    it('swap without a source gives E_NO_SOURCE', async function () {
      const t = await rt.run(await rt.createToken({ target: media('astronaut.png'), operations: ['detect', 'landmark', 'swap'] }));
      assert.strictEqual(t.error && t.error.code, 'E_NO_SOURCE');
      rt.release(t);
    });
  });

  it('stages not in operations are skipped and journalled', async function () {
    const t = await rt.createToken({ target: media('astronaut.png'), operations: ['detect'] });
    const out = await rt.process('blur', t);
    assert.strictEqual(out.journal.at(-1).outcome, 'skipped');
    assert.strictEqual(out.target.frame, t.target.frame);
    rt.release(t);
  });

  it('TTL expiry frees the frames', async function () {
    const t = await rt.createToken({ target: media('astronaut.png'), ttlMs: 1 });
    assert.ok(rt.store.has(t.target.frame));
    await new Promise((r) => setTimeout(r, 5));
    rt.store.sweep();
    assert.ok(!rt.store.has(t.target.frame));
    assert.throws(
      () => rt.acceptToken(t),
      (e) => e.code === 'E_TOKEN_EXPIRED',
    );
  });
});

/** A valid PNG signature + IHDR claiming the given size, with no pixel data. */
function pngHeader(width, height) {
  const zlib = require('zlib');
  const crc32 = (buf) => zlib.crc32(buf);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const type = Buffer.from('IHDR');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, ihdr])) >>> 0);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(13);
  const idat = zlib.deflateSync(Buffer.alloc(1000));
  const idatLen = Buffer.alloc(4);
  idatLen.writeUInt32BE(idat.length);
  const idatType = Buffer.from('IDAT');
  const idatCrc = Buffer.alloc(4);
  idatCrc.writeUInt32BE(crc32(Buffer.concat([idatType, idat])) >>> 0);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), len, type, ihdr, crc, idatLen, idatType, idat, idatCrc]);
}
