'use strict';
// Basic vision helpers: codec (and its refusals), resize/crop, CHW tensors, affine warps,
// similarity fit, templates, NMS, rects, region blur/pixelate, drawing.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');
const sharp = require('sharp');
const {
  decodeImage,
  encodeImage,
  readImageFile,
  imageInfo,
  resizeBilinear,
  crop,
  toCHW,
  toGrayPlane,
  fromCHW,
  invertAffine,
  applyAffine,
  multiplyAffine,
  warpAffine,
  warpAffineInto,
  transformedBounds,
  estimateSimilarity,
  similarityScale,
  similarityAngle,
  WARP_TEMPLATES,
  templatePoints,
  alignmentMatrix,
  iou,
  nms,
  clipRect,
  expandBox,
  boxToRect,
  rectArea,
  gaussianBlurRegion,
  pixelateRegion,
  drawRectInto,
  drawPointInto,
  drawLineInto,
  drawTextInto,
  textWidth,
  hasGlyph,
} = require('../dist/runtime/internal');

const { MEDIA } = require('./helpers/fixtures');
const media = (f) => fs.readFileSync(path.join(MEDIA, f));
const px = (f, x, y) => [...f.data.subarray((y * f.width + x) * 3, (y * f.width + x) * 3 + 3)];
const same = (a, b) => a.width === b.width && a.height === b.height && Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)) === 0;
const frame = (w, h, fill = (x, y, c) => (x * 7 + y * 13 + c * 50) & 255) => {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = fill(x, y, c);
  return { width: w, height: h, channels: 3, data };
};
/** Pixels that differ, split into inside/outside a rect. */
function diff(a, b, rect) {
  let inside = 0,
    outside = 0;
  for (let y = 0; y < a.height; y++)
    for (let x = 0; x < a.width; x++) {
      const i = (y * a.width + x) * 3;
      if (a.data[i] === b.data[i] && a.data[i + 1] === b.data[i + 1] && a.data[i + 2] === b.data[i + 2]) continue;
      if (x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height) inside++;
      else outside++;
    }
  return { inside, outside };
}
async function rejects(promise, pattern) {
  await assert.rejects(promise, (err) => {
    assert.strictEqual(err.name, 'FaceError');
    assert.strictEqual(err.code, 'E_BAD_IMAGE', err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}
/** A PNG that declares width×height but carries almost no data: refusal must come from the header. */
function pngHeaderOnly(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2; // 8-bit RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(width * 3 + 1))), chunk('IEND', Buffer.alloc(0))]);
}

describe('vision basics', function () {
  let astronaut, obama;
  before(async function () {
    astronaut = await decodeImage(media('astronaut.png'));
    obama = await decodeImage(media('fr_obama.jpg'));
  });

  describe('codec', function () {
    it('decodes real PNG and JPEG files to 3-channel frames of the right size', async function () {
      assert.deepStrictEqual([astronaut.width, astronaut.height, astronaut.channels, astronaut.data.length], [512, 512, 3, 512 * 512 * 3]);
      const meta = await sharp(media('fr_obama.jpg')).metadata();
      assert.deepStrictEqual([obama.width, obama.height], [meta.width, meta.height]);
      assert.strictEqual(obama.data.length, obama.width * obama.height * 3);
      const ref = await sharp(media('astronaut.png')).removeAlpha().raw().toBuffer();
      assert.strictEqual(Buffer.compare(Buffer.from(astronaut.data), ref), 0, 'same pixels as sharp');
    });

    it('applies the EXIF orientation (6 = turned 90°: width and height swap)', async function () {
      const wide = await sharp(media('messi5.jpg')).metadata();
      assert.notStrictEqual(wide.width, wide.height);
      const rotated = await sharp(media('messi5.jpg')).jpeg().withMetadata({ orientation: 6 }).toBuffer();
      const f = await decodeImage(rotated);
      assert.deepStrictEqual([f.width, f.height], [wide.height, wide.width]);
      const info = await imageInfo(rotated);
      assert.deepStrictEqual([info.width, info.height, info.orientation, info.format], [wide.height, wide.width, 6, 'jpeg']);
    });

    it('turns grey, 16-bit and alpha images into 8-bit RGB (alpha onto black)', async function () {
      const gray = await decodeImage(await sharp(media('astronaut.png')).grayscale().png().toBuffer());
      assert.strictEqual(gray.data.length, 512 * 512 * 3);
      assert.strictEqual(gray.data[300], gray.data[301]);
      const deep = await decodeImage(await sharp(media('astronaut.png')).toColourspace('rgb16').png().toBuffer());
      assert.ok(same(deep, astronaut), '16-bit PNG comes back as the same 8-bit pixels');
      const clear = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } } })
        .png()
        .toBuffer();
      const flat = await decodeImage(clear);
      assert.deepStrictEqual(px(flat, 1, 1), [0, 0, 0]);
    });

    it('refuses empty, random, truncated, tiny and huge images with E_BAD_IMAGE', async function () {
      await rejects(decodeImage(Buffer.alloc(0)), /empty \(0 bytes\)/);
      await rejects(decodeImage(new Uint8Array(0)), /empty/);
      await rejects(decodeImage(crypto.randomBytes(4096)), /not a readable image/);
      const jpg = media('fr_obama.jpg');
      await rejects(decodeImage(jpg.subarray(0, jpg.length >> 1)), /could not be decoded.*(premature|truncat)/i);
      const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
        .png()
        .toBuffer();
      await rejects(decodeImage(tiny), /too small/);
      const huge = pngHeaderOnly(20000, 20000);
      const started = Date.now();
      await rejects(decodeImage(huge), /too large: 20000×20000 = 400\.0 megapixels, the limit is 64\.0/);
      assert.ok(Date.now() - started < 500, `refused from the header in ${Date.now() - started} ms`);
      await rejects(decodeImage(media('astronaut.png'), { maxPixels: 512 * 511 }), /too large.*512×512/);
    });

    it('readImageFile names the path and says when the file does not exist', async function () {
      const f = await readImageFile(path.join(MEDIA, 'newton.png'));
      assert.ok(f.width > 1 && f.height > 1);
      const missing = path.join(os.tmpdir(), `no-such-image-${process.pid}.png`);
      await rejects(readImageFile(missing), new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no such file`));
      const bad = path.join(os.tmpdir(), `bad-image-${process.pid}.jpg`);
      fs.writeFileSync(bad, 'not an image');
      try {
        await rejects(readImageFile(bad), /bad-image-.*not a readable image/);
      } finally {
        fs.unlinkSync(bad);
      }
    });

    it('encodes and decodes: PNG exactly, JPEG and WebP closely', async function () {
      assert.ok(same(await decodeImage(await encodeImage(astronaut, { format: 'png' })), astronaut));
      for (const format of ['jpeg', 'webp']) {
        const buf = await encodeImage(astronaut, { format, quality: 95 });
        assert.strictEqual((await sharp(buf).metadata()).format, format);
        const back = await decodeImage(buf);
        let err = 0;
        for (let i = 0; i < back.data.length; i++) err += Math.abs(back.data[i] - astronaut.data[i]);
        assert.ok(err / back.data.length < 4, `${format} mean abs error ${err / back.data.length}`);
      }
      await assert.rejects(encodeImage(astronaut, { format: 'bmp' }), { code: 'E_BAD_PARAMETER' });
    });
  });

  describe('resize, crop, tensors', function () {
    it('resizeBilinear gives the asked size; a constant image stays constant; 2× up keeps corners', function () {
      const small = resizeBilinear(astronaut, 320, 240);
      assert.deepStrictEqual([small.width, small.height, small.data.length], [320, 240, 320 * 240 * 3]);
      const flat = resizeBilinear(
        frame(7, 5, (x, y, c) => 40 + c),
        13,
        9,
      );
      for (let i = 0; i < flat.data.length; i++) assert.strictEqual(flat.data[i], 40 + (i % 3));
      const up = resizeBilinear(astronaut, 1024, 1024);
      assert.deepStrictEqual(px(up, 0, 0), px(astronaut, 0, 0));
      assert.deepStrictEqual(px(up, 1023, 1023), px(astronaut, 511, 511));
      assert.ok(same(resizeBilinear(astronaut, 512, 512), astronaut), 'same size is a copy');
      assert.throws(() => resizeBilinear(astronaut, 0, 10), RangeError);
    });

    it('crop copies the rectangle and refuses one outside the frame', function () {
      const c = crop(astronaut, { x: 100, y: 50, width: 30, height: 20 });
      assert.deepStrictEqual([c.width, c.height], [30, 20]);
      assert.deepStrictEqual(px(c, 0, 0), px(astronaut, 100, 50));
      assert.deepStrictEqual(px(c, 29, 19), px(astronaut, 129, 69));
      assert.throws(() => crop(astronaut, { x: 500, y: 0, width: 20, height: 20 }), RangeError);
    });

    it('toCHW: planar, normalised, BGR on request, into a given buffer', function () {
      const f = frame(4, 3);
      const t = toCHW(f, { mean: [10, 20, 30], std: [2, 4, 5] });
      const [r, g, b] = px(f, 2, 1);
      const i = 1 * 4 + 2;
      assert.strictEqual(t[i], Math.fround((r - 10) / 2));
      assert.strictEqual(t[12 + i], Math.fround((g - 20) / 4));
      assert.strictEqual(t[24 + i], Math.fround((b - 30) / 5));
      const out = new Float32Array(36);
      const bgr = toCHW(f, { mean: 127.5, std: 128, bgr: true, out });
      assert.strictEqual(bgr, out, 'wrote into the given buffer');
      assert.strictEqual(bgr[i], Math.fround((b - 127.5) / 128), 'B plane first');
      assert.strictEqual(bgr[24 + i], Math.fround((r - 127.5) / 128), 'R plane last');
      assert.throws(() => toCHW(f, { mean: 0, std: 1, out: new Float32Array(10) }), RangeError);
      const grey = toGrayPlane(f, 1 / 255);
      assert.ok(Math.abs(grey[i] - (0.299 * r + 0.587 * g + 0.114 * b) / 255) < 1e-6);
    });

    it('fromCHW inverts toCHW exactly (RGB and BGR) and clamps', function () {
      for (const norm of [
        { mean: 127.5, std: 127.5 },
        { mean: [123.7, 116.3, 103.5], std: [58.4, 57.1, 57.4], bgr: true },
      ]) {
        assert.ok(same(fromCHW(toCHW(astronaut, norm), 512, 512, norm), astronaut));
      }
      const clamped = fromCHW(new Float32Array([-5, 5, 0.5, 0, 0, 0]), 2, 1, { mean: 0, std: 255 });
      assert.deepStrictEqual([...clamped.data], [0, 128, 0, 255, 0, 0]);
    });
  });

  describe('affine', function () {
    const m = [0.8, -0.3, 12, 0.3, 0.8, -5];

    it('invertAffine ∘ m is the identity; multiply applies the right matrix first', function () {
      const id = multiplyAffine(invertAffine(m), m);
      [1, 0, 0, 0, 1, 0].forEach((v, i) => assert.ok(Math.abs(id[i] - v) < 1e-12, `id[${i}] = ${id[i]}`));
      const shift = [1, 0, 10, 0, 1, 20];
      const [p] = applyAffine(multiplyAffine(m, shift), [[3, 4]]);
      const [q] = applyAffine(m, applyAffine(shift, [[3, 4]]));
      assert.ok(Math.abs(p[0] - q[0]) < 1e-12 && Math.abs(p[1] - q[1]) < 1e-12);
      assert.throws(() => invertAffine([1, 2, 0, 2, 4, 0]), RangeError);
    });

    it('transformedBounds covers the turned corners', function () {
      assert.deepStrictEqual(transformedBounds([1, 0, 5, 0, 1, -3], 10, 20), { x: 5, y: -3, width: 10, height: 20 });
      const r = transformedBounds([0, -1, 0, 1, 0, 0], 10, 20); // 90° turn
      assert.deepStrictEqual(r, { x: -20, y: 0, width: 20, height: 10 });
    });

    it('warpAffine: identity copies, an integer translation shifts exactly, borders behave', function () {
      assert.ok(same(warpAffine(astronaut, [1, 0, 0, 0, 1, 0], 512, 512), astronaut));
      const shifted = warpAffine(astronaut, [1, 0, 7, 0, 1, -3], 512, 512, { border: 'constant', value: 9 });
      for (let y = 0; y < 509; y += 17)
        for (let x = 7; x < 512; x += 13) {
          assert.deepStrictEqual(px(shifted, x, y), px(astronaut, x - 7, y + 3), `(${x}, ${y})`);
        }
      assert.deepStrictEqual(px(shifted, 3, 100), [9, 9, 9], 'constant border on the left');
      assert.deepStrictEqual(px(shifted, 100, 511), [9, 9, 9], 'constant border at the bottom');
      const rep = warpAffine(astronaut, [1, 0, 7, 0, 1, 0], 512, 512);
      assert.deepStrictEqual(px(rep, 2, 50), px(astronaut, 0, 50), 'replicate border repeats the edge');
      // A half-pixel shift averages neighbours.
      const half = warpAffine(astronaut, [1, 0, 0.5, 0, 1, 0], 512, 512);
      const [a, b] = [px(astronaut, 99, 200), px(astronaut, 100, 200)];
      px(half, 100, 200).forEach((v, c) => assert.ok(Math.abs(v - (a[c] + b[c]) / 2) <= 0.5 + 1e-9));
    });

    it('warp there and back again recovers the picture; warpAffineInto touches only its rect', function () {
      const there = warpAffine(astronaut, m, 512, 512);
      const back = warpAffine(there, invertAffine(m), 512, 512);
      let err = 0,
        n = 0;
      for (let y = 200; y < 300; y++)
        for (let x = 200; x < 300; x++)
          for (let c = 0; c < 3; c++) {
            err += Math.abs(px(back, x, y)[c] - px(astronaut, x, y)[c]);
            n++;
          }
      assert.ok(err / n < 6, `round trip mean abs error ${err / n}`);
      const dst = { width: 512, height: 512, channels: 3, data: new Uint8Array(astronaut.data) };
      const rect = { x: 100, y: 120, width: 50, height: 40 };
      warpAffineInto(obama, [1, 0, -200, 0, 1, -300], dst, rect);
      const d = diff(astronaut, dst, rect);
      assert.strictEqual(d.outside, 0);
      assert.ok(d.inside > 1500);
      assert.deepStrictEqual(px(dst, 110, 130), px(obama, 310, 430));
      const whole = { width: 20, height: 10, channels: 3, data: new Uint8Array(600) };
      warpAffineInto(obama, [1, 0, 0, 0, 1, 0], whole, { x: -5, y: 5, width: 100, height: 100 }); // clipped
      assert.deepStrictEqual(px(whole, 19, 9), px(obama, 19, 9));
      assert.deepStrictEqual(px(whole, 19, 4), [0, 0, 0]);
    });
  });

  describe('similarity and templates', function () {
    it('estimateSimilarity recovers a known rotation, scale and shift from 5 template points', function () {
      const src = templatePoints('arcface_112_v2', 112);
      for (const [angle, scale, tx, ty] of [
        [0.3, 2.5, 40, -12],
        [-2.9, 0.37, -500, 77],
        [0, 1, 0, 0],
      ]) {
        const truth = [scale * Math.cos(angle), -scale * Math.sin(angle), tx, scale * Math.sin(angle), scale * Math.cos(angle), ty];
        const fit = estimateSimilarity(src, applyAffine(truth, src));
        fit.forEach((v, i) => assert.ok(Math.abs(v - truth[i]) < 1e-6, `m[${i}] ${v} vs ${truth[i]}`));
        assert.ok(Math.abs(similarityScale(fit) - scale) < 1e-9);
        assert.ok(Math.abs(similarityAngle(fit) - angle) < 1e-9);
      }
    });

    it('with noise it is the least-squares fit (no nearby similarity does better) and never reflects', function () {
      const src = templatePoints('ffhq_512', 512);
      const truth = [1.2, -0.4, 30, 0.4, 1.2, 10];
      let seed = 3;
      const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 6;
      const dst = applyAffine(truth, src).map(([x, y]) => [x + rnd(), y + rnd()]);
      const fit = estimateSimilarity(src, dst);
      const sse = (mm) => applyAffine(mm, src).reduce((s, [x, y], i) => s + (x - dst[i][0]) ** 2 + (y - dst[i][1]) ** 2, 0);
      const best = sse(fit);
      for (let k = 0; k < 4; k++)
        for (const eps of [1e-3, -1e-3]) {
          const p = [fit[0], fit[3], fit[2], fit[5]];
          p[k] += eps;
          assert.ok(sse([p[0], -p[1], p[2], p[1], p[0], p[3]]) > best, 'perturbing any parameter increases the error');
        }
      assert.ok(Math.abs(similarityScale(fit) - similarityScale(truth)) < 0.02);
      const mirrored = src.map(([x, y]) => [-x, y]);
      const noFlip = estimateSimilarity(src, mirrored);
      assert.ok(noFlip[0] * noFlip[4] - noFlip[1] * noFlip[3] >= 0, 'determinant is never negative');
      assert.throws(() => estimateSimilarity([[1, 1]], [[2, 2]]), RangeError);
      assert.throws(
        () =>
          estimateSimilarity(
            [
              [1, 1],
              [1, 1],
            ],
            [
              [2, 2],
              [3, 3],
            ],
          ),
        RangeError,
      );
      assert.throws(() => estimateSimilarity(src, src.slice(0, 4)), RangeError);
    });

    it('templates hold FaceFusion values; alignmentMatrix maps landmarks onto them', function () {
      assert.deepStrictEqual(WARP_TEMPLATES.arcface_112_v1[0], [0.35473, 0.45659]);
      assert.deepStrictEqual(WARP_TEMPLATES.arcface_112_v2[4], [0.63152, 0.82325]);
      assert.deepStrictEqual(WARP_TEMPLATES.arcface_128[2], [0.5002, 0.56044]);
      assert.deepStrictEqual(WARP_TEMPLATES.ffhq_512[3], [0.39309, 0.72541]);
      assert.deepStrictEqual(WARP_TEMPLATES.mtcnn_512[1], [0.63305, 0.46586]);
      assert.deepStrictEqual(templatePoints('arcface_128', 128)[0], [0.36168 * 128, 0.40388 * 128]);
      const face = applyAffine([2, 0.5, 300, -0.5, 2, 200], templatePoints('arcface_112_v2', 112));
      const toCrop = alignmentMatrix(face, 'arcface_112_v2', 112);
      applyAffine(toCrop, face).forEach((p, i) => {
        const t = templatePoints('arcface_112_v2', 112)[i];
        assert.ok(Math.hypot(p[0] - t[0], p[1] - t[1]) < 1e-6);
      });
      assert.throws(() => templatePoints('nope', 112), /unknown warp template/);
    });
  });

  describe('boxes', function () {
    it('iou of known boxes', function () {
      assert.strictEqual(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
      assert.strictEqual(iou([0, 0, 10, 10], [10, 0, 20, 10]), 0);
      assert.ok(Math.abs(iou([0, 0, 10, 10], [5, 0, 15, 10]) - 50 / 150) < 1e-12);
    });

    it('NMS keeps the best of overlapping boxes, by descending score, flat or nested', function () {
      const boxes = [
        [0, 0, 10, 10],
        [1, 1, 11, 11],
        [50, 50, 60, 60],
        [0, 0, 9, 10],
        [52, 52, 60, 60],
        [100, 0, 120, 20],
      ];
      const scores = [0.9, 0.95, 0.5, 0.3, 0.8, 0.6];
      assert.deepStrictEqual(nms(boxes, scores, 0.4), [1, 4, 5]);
      assert.deepStrictEqual(nms(new Float32Array(boxes.flat()), new Float32Array(scores), 0.4), [1, 4, 5]);
      assert.deepStrictEqual(nms(boxes, scores, 0.4, 2), [1, 4]);
      assert.deepStrictEqual(nms(boxes, scores, 1), [1, 0, 4, 5, 2, 3], 'threshold 1 keeps everything, sorted');
      assert.deepStrictEqual(nms([], [], 0.5), []);
      assert.deepStrictEqual(
        nms(
          [
            [0, 0, 1, 1],
            [5, 5, 6, 6],
          ],
          [NaN, 0.1],
          0.5,
        ),
        [1],
      );
    });

    it('rect helpers clip, expand and measure', function () {
      assert.deepStrictEqual(clipRect({ x: -5, y: 10.5, width: 20, height: 100 }, 50, 40), { x: 0, y: 10, width: 15, height: 30 });
      assert.deepStrictEqual(clipRect({ x: 60, y: 0, width: 5, height: 5 }, 50, 40), { x: 50, y: 0, width: 0, height: 5 });
      assert.deepStrictEqual(boxToRect([10, 20, 30, 60]), { x: 10, y: 20, width: 20, height: 40 });
      assert.deepStrictEqual(expandBox([10, 20, 30, 60], 0.25, 100, 100), { x: 5, y: 10, width: 30, height: 60 });
      assert.deepStrictEqual(expandBox([0, 0, 30, 60], 0.5, 40, 100), { x: 0, y: 0, width: 40, height: 90 });
      assert.strictEqual(rectArea({ x: 0, y: 0, width: 7, height: 3 }), 21);
      assert.strictEqual(rectArea({ x: 0, y: 0, width: -7, height: 3 }), 0);
    });
  });

  describe('region blur and pixelate', function () {
    const rect = { x: 180, y: 60, width: 100, height: 120 };

    it('gaussian blur changes the region, leaves everything outside byte-identical, never mutates', function () {
      const before = Buffer.from(astronaut.data);
      for (const sigma of [1.5, 6, 12, 40]) {
        const out = gaussianBlurRegion(astronaut, rect, sigma);
        const d = diff(astronaut, out, rect);
        assert.strictEqual(d.outside, 0, `σ=${sigma}: nothing outside changes`);
        assert.ok(d.inside > rect.width * rect.height * 0.5, `σ=${sigma}: most of the region changes (${d.inside})`);
      }
      assert.strictEqual(Buffer.compare(before, Buffer.from(astronaut.data)), 0, 'input untouched');
      assert.ok(same(gaussianBlurRegion(astronaut, rect, 0), astronaut), 'σ = 0 is a copy');
      assert.ok(same(gaussianBlurRegion(astronaut, { x: 600, y: 0, width: 10, height: 10 }, 5), astronaut), 'rect off the frame');
    });

    it('blur is a blur: a constant stays constant, an edge becomes a ramp, both kernels agree', function () {
      const flat = frame(60, 40, () => 77);
      assert.ok(same(gaussianBlurRegion(flat, { x: 0, y: 0, width: 60, height: 40 }, 20), flat));
      const step = frame(200, 20, (x) => (x < 100 ? 0 : 200));
      const all = { x: 0, y: 0, width: 200, height: 20 };
      const exact = gaussianBlurRegion(step, all, 8); // exact kernel
      const boxed = gaussianBlurRegion(step, all, 8.01); // three box passes
      const row = (f) => Array.from({ length: 200 }, (_, x) => f.data[(10 * 200 + x) * 3]);
      const e = row(exact),
        b = row(boxed);
      for (let x = 1; x < 200; x++) assert.ok(e[x] >= e[x - 1] && b[x] >= b[x - 1], 'monotone ramp');
      assert.ok(Math.abs(e[100] - 100) <= 14 && e[80] < 5 && e[120] > 195, `exact ramp ${e[80]} ${e[100]} ${e[120]}`);
      let worst = 0;
      for (let x = 0; x < 200; x++) worst = Math.max(worst, Math.abs(e[x] - b[x]));
      assert.ok(worst <= 8, `box approximation within 8 levels of the exact Gaussian (worst ${worst})`);
      // The region's edge sees pixels from outside it: blurring only the right half still ramps.
      const half = gaussianBlurRegion(step, { x: 100, y: 0, width: 100, height: 20 }, 8);
      assert.ok(half.data[(10 * 200 + 100) * 3] < 150 && half.data[(10 * 200 + 99) * 3] === 0);
    });

    it('large sigmas (blurred on a coarser grid) follow the exact Gaussian of a step edge and match full resolution', function () {
      // Analytic reference: a step 0 → 200 blurred by σ is 200·Φ((x + ½ − edge) / σ).
      const erf = (x) => {
        // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7
        const t = 1 / (1 + 0.3275911 * Math.abs(x));
        const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
        return x >= 0 ? y : -y;
      };
      const step = frame(800, 40, (x) => (x < 400 ? 0 : 200));
      const all = { x: 0, y: 0, width: 800, height: 40 };
      for (const sigma of [12, 30, 60]) {
        const out = gaussianBlurRegion(step, all, sigma);
        let worst = 0;
        for (let x = 0; x < 800; x++) {
          const want = 200 * 0.5 * (1 + erf((x + 0.5 - 400) / (sigma * Math.SQRT2)));
          worst = Math.max(worst, Math.abs(out.data[(20 * 800 + x) * 3] - want));
        }
        assert.ok(worst <= 4, `σ=${sigma}: within 4 levels of the analytic ramp (worst ${worst.toFixed(2)})`);
      }
      // On a real face the coarse grid and the full-resolution box passes (itself a close
      // approximation) agree to about a level on average, also near the frame's top edge.
      const face = { x: 150, y: 40, width: 220, height: 260 };
      for (const sigma of [20, 45]) {
        const coarse = gaussianBlurRegion(astronaut, face, sigma);
        const full = gaussianBlurRegion(astronaut, face, sigma, { exact: true });
        let worst = 0,
          sum = 0;
        for (let y = face.y; y < face.y + face.height; y++)
          for (let x = face.x; x < face.x + face.width; x++) {
            const a = px(coarse, x, y),
              b = px(full, x, y);
            for (let c = 0; c < 3; c++) {
              const d = Math.abs(a[c] - b[c]);
              sum += d;
              worst = Math.max(worst, d);
            }
          }
        const mean = sum / (face.width * face.height * 3);
        assert.ok(mean < 1.5 && worst <= 6, `σ=${sigma}: mean difference ${mean.toFixed(2)}, worst ${worst}`);
        assert.strictEqual(diff(astronaut, coarse, face).outside, 0, 'nothing outside the region changes');
      }
    });

    it('a region blur equals the same pixels of a whole-frame blur (outside pixels feed its edges)', function () {
      const all = { x: 0, y: 0, width: 512, height: 512 };
      for (const sigma of [2.5, 15, 45]) {
        const whole = gaussianBlurRegion(astronaut, all, sigma);
        const part = gaussianBlurRegion(astronaut, rect, sigma);
        let worst = 0;
        for (let y = rect.y; y < rect.y + rect.height; y++)
          for (let x = rect.x; x < rect.x + rect.width; x++) {
            const a = px(whole, x, y),
              b = px(part, x, y);
            for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(a[c] - b[c]));
          }
        assert.ok(worst <= 1, `σ=${sigma}: worst difference ${worst}`);
      }
    });

    it('pixelate makes uniform blocks of the block mean, only inside the rect', function () {
      const out = pixelateRegion(astronaut, rect, 10);
      assert.strictEqual(diff(astronaut, out, rect).outside, 0);
      for (const [bx, by] of [
        [180, 60],
        [190, 70],
        [270, 170],
      ]) {
        const mean = [0, 0, 0];
        for (let y = by; y < by + 10; y++)
          for (let x = bx; x < bx + 10; x++)
            px(astronaut, x, y).forEach((v, c) => {
              mean[c] += v;
            });
        for (let y = by; y < by + 10; y++)
          for (let x = bx; x < bx + 10; x++)
            assert.deepStrictEqual(
              px(out, x, y),
              mean.map((v) => Math.round(v / 100)),
            );
      }
      assert.notDeepStrictEqual(px(out, 189, 60), px(out, 190, 60), 'neighbouring blocks differ');
    });
  });

  describe('drawing', function () {
    const near = (a, b, box) => {
      const d = diff(a, b, box);
      return d.outside === 0 && d.inside > 0;
    };
    const red = [255, 0, 0];

    it('rect, point and line change only pixels near what they draw', function () {
      const base = frame(100, 80, () => 50);
      const r = { ...base, data: new Uint8Array(base.data) };
      drawRectInto(r, [10, 10, 40, 30], red, 2);
      assert.ok(near(base, r, { x: 10, y: 10, width: 30, height: 20 }));
      assert.deepStrictEqual(px(r, 10, 20), red);
      assert.deepStrictEqual(px(r, 39, 29), red);
      assert.deepStrictEqual(px(r, 25, 20), [50, 50, 50], 'hollow');
      const p = { ...base, data: new Uint8Array(base.data) };
      drawPointInto(p, [50.2, 40.4], 3, red);
      assert.ok(near(base, p, { x: 47, y: 37, width: 7, height: 7 }));
      assert.deepStrictEqual(px(p, 50, 40), red);
      assert.deepStrictEqual(px(p, 53, 40), red);
      assert.deepStrictEqual(px(p, 53, 43), [50, 50, 50], 'round, not square');
      const l = { ...base, data: new Uint8Array(base.data) };
      drawLineInto(l, [5, 70], [95, 70], red, 1);
      assert.ok(near(base, l, { x: 5, y: 70, width: 91, height: 1 }));
      const edge = { ...base, data: new Uint8Array(base.data) };
      drawRectInto(edge, [-20, -20, 200, 200], red, 3); // clipped, must not throw
      drawPointInto(edge, [-5, 500], 4, red);
      assert.deepStrictEqual(px(edge, 0, 50), [50, 50, 50], 'outline is off the frame');
    });

    it('text uses the 5×7 font for digits, letters and . % :, and stays in its box', function () {
      for (const ch of '0123456789.%: ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') assert.ok(hasGlyph(ch), `glyph for "${ch}"`);
      const base = frame(120, 30, () => 0);
      const t = { ...base, data: new Uint8Array(base.data) };
      const text = 'Face 0.97%';
      const w = drawTextInto(t, 4, 5, text, [255, 255, 255], 2);
      assert.strictEqual(w, textWidth(text, 2));
      assert.strictEqual(w, text.length * 12);
      assert.ok(near(base, t, { x: 4, y: 5, width: w, height: 14 }));
      // 'F' at scale 2: its top row is 5 font pixels = 10 px wide, its second row only the stem.
      for (let x = 4; x < 14; x++) assert.deepStrictEqual(px(t, x, 5), [255, 255, 255]);
      assert.deepStrictEqual(px(t, 6, 7), [0, 0, 0]);
      assert.deepStrictEqual(px(t, 4, 7), [255, 255, 255]);
      const glyphs = new Set();
      for (const ch of '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') {
        const g = frame(6, 7, () => 0);
        drawTextInto(g, 0, 0, ch, [1, 1, 1]);
        glyphs.add(Buffer.from(g.data).toString('hex'));
      }
      assert.strictEqual(glyphs.size, 62, 'every digit and letter has its own shape');
    });
  });

  describe('timing (printed, not asserted)', function () {
    it('warpAffine 512→512 and gaussianBlurRegion σ=30 on a 300×300 region', function () {
      const m = alignmentMatrix(applyAffine([1.1, 0.2, 20, -0.2, 1.1, 30], templatePoints('ffhq_512', 512)), 'ffhq_512', 512);
      warpAffine(astronaut, m, 512, 512);
      let t = process.hrtime.bigint();
      const runs = 10;
      for (let i = 0; i < runs; i++) warpAffine(astronaut, m, 512, 512);
      const warpMs = Number(process.hrtime.bigint() - t) / 1e6 / runs;
      const region = { x: 100, y: 100, width: 300, height: 300 };
      gaussianBlurRegion(astronaut, region, 30);
      t = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) gaussianBlurRegion(astronaut, region, 30);
      const blurMs = Number(process.hrtime.bigint() - t) / 1e6 / runs;
      t = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) gaussianBlurRegion(astronaut, region, 6);
      const blur6Ms = Number(process.hrtime.bigint() - t) / 1e6 / runs;
      console.log(`      warpAffine 512→512: ${warpMs.toFixed(2)} ms; blur 300×300 σ=30 (coarse grid): ${blurMs.toFixed(2)} ms; σ=6 (exact kernel): ${blur6Ms.toFixed(2)} ms`);
    });
  });
});
