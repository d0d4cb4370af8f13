'use strict';
// A 25-megapixel photo whose faces we know: 2008_001322.jpg (3 labelled faces) scaled 6× and
// laid twice on a 6000×4154 grey canvas, so its 6 faces are 380–540 px. Before the scale pyramid
// such a photo came back with no face blurred (and, through a flow, E_BAD_PARAMETER).
const path = require('path');
const { createFrame, resizeBilinear, encodeImage } = require('../../dist/runtime/internal');
const lib = require('../../bench/privacy-lib');

async function bigPhoto() {
  const pictures = await lib.labelledPictures();
  const p = pictures.find((x) => x.file === '2008_001322.jpg');
  const W = 6000,
    H = 4154,
    s = 6;
  const frame = createFrame(W, H);
  frame.data.fill(90);
  const w = p.width * s,
    h = p.height * s;
  const scaled = resizeBilinear(p.frame, w, h);
  const boxes = [];
  for (const [ox, oy] of [
    [0, 0],
    [3000, 1900],
  ]) {
    for (let y = 0; y < h; y++) frame.data.set(scaled.data.subarray(y * w * 3, (y + 1) * w * 3), ((oy + y) * W + ox) * 3);
    for (const b of p.boxes) boxes.push(b.map((v, k) => Math.round(v * s + (k % 2 ? oy : ox))));
  }
  const jpeg = await encodeImage(frame, { format: 'jpeg', quality: 90 });
  return { jpeg, boxes, width: W, height: H };
}

/** Fraction of each box whose pixels differ between two RGB buffers of the photo's size (decoded). */
function changedFractions(before, after, width, boxes) {
  return boxes.map(([x1, y1, x2, y2]) => {
    let changed = 0,
      all = 0;
    for (let y = y1; y < y2; y += 2)
      for (let x = x1; x < x2; x += 2) {
        const p = (y * width + x) * 3;
        all++;
        if (Math.abs(before[p] - after[p]) + Math.abs(before[p + 1] - after[p + 1]) + Math.abs(before[p + 2] - after[p + 2]) > 24) changed++;
      }
    return changed / all;
  });
}

module.exports = { bigPhoto, changedFractions, LABELLED: path.join(__dirname, '..', 'fixtures', 'media', 'labelled') };
