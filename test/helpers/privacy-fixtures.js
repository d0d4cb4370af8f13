'use strict';
// Privacy fixtures: pictures and clips with known face boxes, made only from the
// labelled pictures in test/fixtures/media/labelled (dlib imglab boxes) and the face-free crops
// of the other fixtures. Deterministic: every random choice comes from a seeded generator, and
// sharp's resize is deterministic, so one seed gives the same pixels and boxes on every machine.
//
// How a face is made: each labelled face is cut out of its picture with its hair and neck (the box
// grown by 45 % of its width left and right, 55 % of its height above and below) under an
// elliptical alpha that is opaque over the whole box and fades out at the cut-out's edge, so a
// pasted face has no hard rectangle around it; the other labelled faces of the picture (their
// boxes grown by 15 %) are cut away, so no unlabelled face comes along. The
// cut-out is scaled so that its labelled box is `size` px wide and alpha-blended onto a
// background tiled from the face-free crops. The ground-truth box of a pasted face is its
// labelled box, scaled and moved with it (dlib boxes are square-ish, brow to chin).
//
// Scenes are described in base units and rendered at a scale: the 6000-px crowd picture is the
// 3000-px scene rendered at 2×, the 1080p pan the 720p scene rendered at 1.5× (faces 1.5× larger,
// the same faces in view).
//
// In a test (each build takes well under a few seconds; see test/privacy-fixtures.test.js):
//   const kit = await pf.loadKit();
//   const { frame, faces } = await pf.renderScene(pf.crowdScene(), 2, kit);   // 6000 × 4344, 90 faces
//   for (const s of pf.sweepScenes({ width: 1280, height: 720 })) { … renderScene(s.scene, 1, kit) … }
//   const truth = await pf.writePanClip(ffmpeg, pf.panScene(), 1, file, kit, { frames: 50 });
// then privacy-measure.js: coveredBySize(before, after, faces) for a picture; sourceDetail +
// visibleFaces(ffmpeg, output, truth, detail) for an encoded output.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const sharp = require('sharp');
const { MEDIA, LABELLED } = require('./fixtures');

/** Bump when a builder changes what it makes (the bench's cache keys carry it). */
const FIXTURE_VERSION = 2;

const { seeded } = require('./seeded');

/** [{ file, width, height, boxes: [[x1, y1, x2, y2]] }] from a dlib imglab XML (training.xml). */
function readLabels(dir = LABELLED) {
  const xml = fs.readFileSync(path.join(dir, 'training.xml'), 'latin1');
  const images = [];
  const imageRe = /<image file='([^']+)' width='(\d+)' height='(\d+)'>([\s\S]*?)<\/image>/g;
  for (let m; (m = imageRe.exec(xml));) {
    const boxes = [];
    const boxRe = /<box top='(-?\d+)' left='(-?\d+)' width='(\d+)' height='(\d+)'/g;
    for (let b; (b = boxRe.exec(m[4]));) {
      const [top, left, w, h] = b.slice(1).map(Number);
      boxes.push([left, top, left + w, top + h]);
    }
    images.push({ file: m[1], width: Number(m[2]), height: Number(m[3]), boxes });
  }
  return images;
}

/**
 * Face-free crops of the fixtures (regions checked by eye to hold no face) for the false-positive
 * checks and the backgrounds. Not here: astronaut.png's mission patch (x 0, y 300, 220 × 212),
 * where the default RFB-320 detector reports a face at 0.84: a limit of that detector, listed in
 * BENCHMARKS.md §9.
 */
const FACE_FREE = [
  { file: 'messi5.jpg', rect: { x: 0, y: 270, width: 220, height: 72 }, what: 'messi5.jpg bottom-left: grass' },
  { file: 'astronaut.png', rect: { x: 0, y: 0, width: 90, height: 300 }, what: 'astronaut.png left edge: flag' },
  { file: 'astronaut.png', rect: { x: 340, y: 0, width: 172, height: 300 }, what: 'astronaut.png top-right: shuttle model' },
  { file: 'newton.png', rect: { x: 0, y: 250, width: 200, height: 182 }, what: 'newton.png bottom-left: dark background' },
  { file: 'fr_two_people.jpg', rect: { x: 0, y: 0, width: 200, height: 200 }, what: 'fr_two_people.jpg top-left: chandelier' },
];

/** A frame as the runtime takes it: { width, height, channels: 3, data } (RGB, row-major). */
function frameOf(width, height, data = new Uint8Array(width * height * 3)) {
  return { width, height, channels: 3, data };
}

async function rawOf(input, channels) {
  const img = sharp(input);
  const { data, info } = await (channels === 4 ? img.ensureAlpha() : img.removeAlpha()).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Resizes raw pixels (3 or 4 channels) with sharp's default kernel (lanczos3). */
async function resizeRaw(px, channels, width, height) {
  if (px.width === width && px.height === height) return px;
  const data = await sharp(Buffer.from(px.data.buffer, px.data.byteOffset, px.data.length), { raw: { width: px.width, height: px.height, channels } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * The labelled faces as cut-outs: [{ id, width, height, rgba, box }] with `box` the labelled box
 * in the cut-out's coordinates. 18 faces of 37–90 px in their pictures.
 */
async function loadFaceSources(dir = LABELLED) {
  const out = [];
  for (const img of readLabels(dir)) {
    const pic = await rawOf(path.join(dir, img.file), 3);
    img.boxes.forEach((b, i) => {
      const w = b[2] - b[0],
        h = b[3] - b[1];
      const x1 = Math.max(0, Math.floor(b[0] - 0.45 * w)),
        x2 = Math.min(pic.width, Math.ceil(b[2] + 0.45 * w));
      const y1 = Math.max(0, Math.floor(b[1] - 0.55 * h)),
        y2 = Math.min(pic.height, Math.ceil(b[3] + 0.55 * h));
      const cw = x2 - x1,
        ch = y2 - y1;
      const others = img.boxes
        .filter((_, j) => j !== i)
        .map((o) => {
          const gx = 0.15 * (o[2] - o[0]),
            gy = 0.15 * (o[3] - o[1]);
          return [o[0] - gx, o[1] - gy, o[2] + gx, o[3] + gy];
        });
      const rgba = new Uint8Array(cw * ch * 4);
      // Ellipse centred on the box, semi-axes 0.95 w × 1.05 h: opaque to r = 0.8 (the box's corners
      // are at r ≈ 0.71), fading to 0 at r = 1.
      const cx = (b[0] + b[2]) / 2 - x1,
        cy = (b[1] + b[3]) / 2 - y1,
        ax = 0.95 * w,
        ay = 1.05 * h;
      for (let y = 0; y < ch; y++) {
        for (let x = 0; x < cw; x++) {
          const s = ((y + y1) * pic.width + x + x1) * 3,
            d = (y * cw + x) * 4;
          rgba[d] = pic.data[s];
          rgba[d + 1] = pic.data[s + 1];
          rgba[d + 2] = pic.data[s + 2];
          const r = Math.hypot((x + 0.5 - cx) / ax, (y + 0.5 - cy) / ay);
          const px = x + x1,
            py = y + y1;
          const own = px >= b[0] && px < b[2] && py >= b[1] && py < b[3];
          // A neighbour's face (its box grown by 15 %) is cut away, so no unlabelled face comes along.
          const neighbour = !own && others.some((o) => px >= o[0] && px < o[2] && py >= o[1] && py < o[3]);
          rgba[d + 3] = neighbour || r >= 1 ? 0 : r <= 0.8 ? 255 : Math.round(255 * (1 - (r - 0.8) / 0.2));
        }
      }
      out.push({ id: `${img.file}#${i}`, width: cw, height: ch, rgba, box: [b[0] - x1, b[1] - y1, b[2] - x1, b[3] - y1] });
    });
  }
  return out;
}

/** The face-free crops as raw RGB pixels (FACE_FREE order). */
async function loadFaceFree(media = MEDIA) {
  const out = [];
  for (const c of FACE_FREE) {
    const buf = await sharp(path.join(media, c.file)).extract({ left: c.rect.x, top: c.rect.y, width: c.rect.width, height: c.rect.height }).removeAlpha().raw().toBuffer();
    out.push({ what: c.what, width: c.rect.width, height: c.rect.height, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) });
  }
  return out;
}

/**
 * A width × height frame tiled with the face-free crops scaled by `scale`, in rows, each row
 * starting one crop further along the list (so the rows do not line up).
 */
async function faceFreeBackground(crops, width, height, scale = 1) {
  const scaled = [];
  for (const c of crops) scaled.push(await resizeRaw(c, 3, Math.max(1, Math.round(c.width * scale)), Math.max(1, Math.round(c.height * scale))));
  const frame = frameOf(width, height);
  for (let y = 0, row = 0; y < height; row++) {
    let rowHeight = 0;
    for (let x = 0, i = row; x < width; i++) {
      const t = scaled[i % scaled.length];
      const w = Math.min(t.width, width - x),
        h = Math.min(t.height, height - y);
      for (let r = 0; r < h; r++) frame.data.set(t.data.subarray(r * t.width * 3, (r * t.width + w) * 3), ((y + r) * width + x) * 3);
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return frame;
}

/** A cut-out scaled so its box is `size` px wide (the height follows the cut-out's aspect), mirrored if asked. */
async function scaledCutout(src, size, mirror = false) {
  const k = size / (src.box[2] - src.box[0]);
  const w = Math.max(1, Math.round(src.width * k)),
    h = Math.max(1, Math.round(src.height * k));
  const px = await resizeRaw({ width: src.width, height: src.height, data: src.rgba }, 4, w, h);
  const kx = w / src.width,
    ky = h / src.height;
  let box = [src.box[0] * kx, src.box[1] * ky, src.box[2] * kx, src.box[3] * ky];
  let data = px.data;
  if (mirror) {
    data = new Uint8Array(px.data.length);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(px.data.subarray((y * w + x) * 4, (y * w + x) * 4 + 4), (y * w + (w - 1 - x)) * 4);
    box = [w - box[2], box[1], w - box[0], box[3]];
  }
  return { width: w, height: h, rgba: data, box };
}

/** Alpha-blends a cut-out onto `frame` with its top-left corner at (x, y) (integers; clipped to the frame). */
function paste(frame, cut, x, y) {
  const W = frame.width,
    H = frame.height,
    d = frame.data;
  for (let r = Math.max(0, -y); r < cut.height && y + r < H; r++) {
    for (let c = Math.max(0, -x); c < cut.width && x + c < W; c++) {
      const s = (r * cut.width + c) * 4,
        a = cut.rgba[s + 3];
      if (a === 0) continue;
      const p = ((y + r) * W + x + c) * 3;
      if (a === 255) {
        d[p] = cut.rgba[s];
        d[p + 1] = cut.rgba[s + 1];
        d[p + 2] = cut.rgba[s + 2];
        continue;
      }
      for (let k = 0; k < 3; k++) d[p + k] = Math.round((cut.rgba[s + k] * a + d[p + k] * (255 - a)) / 255);
    }
  }
}

const r1 = (v) => Math.round(v * 10) / 10;

/**
 * Renders a scene at `scale`: a face-free background (crops scaled by scene.backgroundScale ×
 * scale), then every face { source, size, x, y, mirror } with its box's top-left at (x, y) and
 * its box `size` wide, all in base units. Returns { frame, faces: [{ box, size, source }] } with
 * boxes in the rendered frame's pixels.
 */
async function renderScene(scene, scale = 1, kit) {
  const width = Math.round(scene.width * scale),
    height = Math.round(scene.height * scale);
  const frame = await faceFreeBackground(kit.faceFree, width, height, (scene.backgroundScale ?? 1) * scale);
  const cuts = new Map();
  const faces = [];
  for (const f of scene.faces) {
    const size = Math.max(4, Math.round(f.size * scale));
    const key = `${f.source}:${size}:${f.mirror ? 1 : 0}`;
    if (!cuts.has(key)) cuts.set(key, await scaledCutout(kit.sources[f.source], size, f.mirror));
    const cut = cuts.get(key);
    const bx = Math.round(f.x * scale),
      by = Math.round(f.y * scale);
    const ox = bx - Math.round(cut.box[0]),
      oy = by - Math.round(cut.box[1]);
    paste(frame, cut, ox, oy);
    faces.push({ box: [r1(ox + cut.box[0]), r1(oy + cut.box[1]), r1(ox + cut.box[2]), r1(oy + cut.box[3])], size, source: kit.sources[f.source].id });
  }
  return { frame, faces };
}

/** The face sources and background crops every builder needs (load once, pass to the builders). */
async function loadKit() {
  return { sources: await loadFaceSources(), faceFree: await loadFaceFree() };
}

/**
 * A face's placement in a cell: box top-left so the face sits in the cell with its cut-out
 * (≈ 1.9 × 2.1 box) inside, jittered by the generator within the room left.
 */
function placeInCell(rand, nSources, size, cx, cy, cw, ch) {
  const roomX = Math.max(0, cw - 1.9 * size),
    roomY = Math.max(0, ch - 2.1 * size);
  return {
    source: Math.floor(rand() * nSources),
    mirror: rand() < 0.5,
    size,
    x: Math.round(cx + 0.45 * size + roomX * rand()),
    y: Math.round(cy + 0.55 * size + roomY * rand()),
  };
}

/**
 * The crowd picture, 3000 × 2172 in base units (the 29-person photo of the issue is 3000 × 2171):
 * rows of faces like a group photo — three rows of 10 faces of 75–95 px (the band), two
 * rows of 20 faces of 24–32 and 32–44 px, a row of 14 of 44–70 px, and a row of six large faces of
 * 100–470 px. 90 faces. Render at 1 for 3000 px, at 2 for 6000 × 4344 (26 MP).
 */
function crowdScene({ seed = 23, nSources = 18 } = {}) {
  const rand = seeded(seed);
  const width = 3000,
    height = 2172;
  const rows = [
    { count: 20, min: 24, max: 32 },
    { count: 20, min: 32, max: 44 },
    { count: 14, min: 44, max: 70 },
    { count: 10, min: 75, max: 95 },
    { count: 10, min: 75, max: 95 },
    { count: 10, min: 75, max: 95 },
    { sizes: [100, 140, 190, 260, 350, 470] },
  ];
  const heights = rows.map((r) => Math.ceil(2.1 * (r.max ?? Math.max(...r.sizes))) + 8);
  const gap = Math.floor((height - heights.reduce((a, b) => a + b, 0)) / rows.length);
  if (gap < 0) throw new Error('crowd scene rows do not fit');
  const faces = [];
  let y = 0;
  rows.forEach((row, i) => {
    const sizes = row.sizes ?? Array.from({ length: row.count }, () => Math.round(row.min + (row.max - row.min) * rand()));
    const widths = sizes.map((s) => 1.9 * s);
    const spare = (width - widths.reduce((a, b) => a + b, 0)) / sizes.length;
    let x = 0;
    sizes.forEach((s, k) => {
      faces.push(placeInCell(rand, nSources, s, x, y + gap / 2, widths[k] + spare, heights[i]));
      x += widths[k] + spare;
    });
    y += heights[i] + gap;
  });
  return { name: 'crowd', width, height, backgroundScale: 2, faces };
}

/** A face-free scene (background only) of width × height base units. */
function faceFreeScene(width = 3000, height = 2172) {
  return { name: 'face-free', width, height, backgroundScale: 2, faces: [] };
}

/** Face sizes from `min` up to `max` in geometric steps of `ratio` (rounded, distinct). */
function geometricSizes(min, max, ratio = 1.25) {
  const out = [];
  for (let s = min; s <= max + 1e-9; s *= ratio) if (!out.includes(Math.round(s))) out.push(Math.round(s));
  return out;
}

/**
 * The "no blind band" set for one frame size: one face per picture, at every size from `min`
 * (16 px) to 0.9 × the frame height in steps of `ratio`, at `positions` places each — the centre,
 * near the top-left corner, then seeded random places. Returns [{ scene, size, position }];
 * render each with renderScene(scene, 1, kit). The face source rotates with the position.
 */
function sweepScenes({ width, height, min = 16, max = Math.floor(0.9 * height), ratio = 1.25, positions = 4, seed = 2300, nSources = 18 }) {
  const rand = seeded(seed + width);
  const out = [];
  for (const size of geometricSizes(min, max, ratio)) {
    for (let p = 0; p < positions; p++) {
      const free = [width - size, height - size];
      const [x, y] = p === 0 ? free.map((v) => Math.round(v / 2)) : p === 1 ? free.map((v) => Math.min(v, Math.round(0.02 * width))) : free.map((v) => Math.round(v * rand()));
      const where = p === 0 ? 'centre' : p === 1 ? 'top-left' : `random ${p - 1}`;
      out.push({
        size,
        position: where,
        scene: { name: `sweep ${width}x${height} ${size}px ${where}`, width, height, backgroundScale: 1, faces: [{ source: (p * 5 + size) % nSources, mirror: p % 2 === 1, size, x, y }] },
      });
    }
  }
  return out;
}

/**
 * A jittered grid of faces over a canvas: cells of cw × ch base units, one face per cell, sizes
 * uniform in [min, max]; faces whose box would go below `maxY` are left out.
 */
function gridFaces(rand, nSources, { width, height, cw, ch, min, max, maxY = height }) {
  const faces = [];
  for (let y = 0; y + ch <= height; y += ch) {
    for (let x = 0; x + cw <= width; x += cw) {
      const f = placeInCell(rand, nSources, Math.round(min + (max - min) * rand()), x, y, cw, ch);
      if (f.y + f.size <= maxY) faces.push(f);
    }
  }
  return faces;
}

/**
 * The panning crowd: a 1280 × 720 window (base units) moving over a crowd canvas, 25 fps. The
 * window moves right 4 px a frame and up and down by up to 80 px (a slow cosine, 10 s period),
 * so faces enter and leave at every edge. Faces of 40–55 px on a 200 × 160 jittered grid:
 * ≈ 29 in view. Render at 1.5 for 1080p: the same scene, faces 60–83 px, the same faces in view.
 * offset(i) gives the window's top-left in base units for frame i.
 */
function panScene({ frames = 500, seed = 2301, nSources = 18 } = {}) {
  const rand = seeded(seed);
  const view = { width: 1280, height: 720 };
  const dx = 4,
    amplitude = 80;
  const width = view.width + dx * (frames - 1),
    height = view.height + amplitude;
  const faces = gridFaces(rand, nSources, { width, height, cw: 200, ch: 160, min: 40, max: 55 });
  const offset = (i) => ({ x: dx * i, y: Math.round((amplitude / 2) * (1 - Math.cos((2 * Math.PI * i) / 250))) });
  return { name: 'pan', width, height, view, frames, fps: 25, backgroundScale: 1, faces, offset };
}

/**
 * A CCTV-like scene: 1920 × 1080, 48 faces of 8–32 px (six each of 8, 10, 12, 14, 16, 20, 24 and
 * 32 px) on a jittered grid, panning 1 px a frame (a slow camera move) for `frames` frames.
 */
function cctvScene({ frames = 100, seed = 2302, nSources = 18 } = {}) {
  const rand = seeded(seed);
  const view = { width: 1920, height: 1080 };
  const width = view.width + frames,
    height = view.height;
  const sizes = [8, 10, 12, 14, 16, 20, 24, 32];
  const cells = [];
  for (let y = 60; y + 120 <= height - 60; y += 130) for (let x = 60; x + 200 <= view.width - 60; x += 220) cells.push([x, y]);
  const faces = [];
  for (let i = 0; i < 48; i++) {
    const [cx, cy] = cells[Math.floor((i * cells.length) / 48)];
    faces.push(placeInCell(rand, nSources, sizes[i % sizes.length], cx, cy, 200, 120));
  }
  return { name: 'cctv', width, height, view, frames, fps: 25, backgroundScale: 1, faces, offset: (i) => ({ x: i, y: 0 }) };
}

// A frame-number code burnt into the bottom-left corner of every clip frame, so a frame of an
// output (live outputs drop and repeat frames) can be matched to its source frame and ground truth:
// 16 bits, most significant first, as 8 × 8 px blocks of luma 16 (0) or 235 (1): 128 × 8 px.
// A face whose box meets the code is not counted in that frame (privacy-measure.js countedBox).
const CODE = { bits: 16, block: 8, height: 8 };
CODE.width = CODE.bits * CODE.block;

function drawCode(frame, index) {
  const { width, height, data } = frame;
  for (let b = 0; b < CODE.bits; b++) {
    const v = (index >> (CODE.bits - 1 - b)) & 1 ? 235 : 16;
    for (let y = height - CODE.height; y < height; y++) data.fill(v, (y * width + b * CODE.block) * 3, (y * width + (b + 1) * CODE.block) * 3);
  }
}

/** The frame number from a luma plane (width × height bytes), or -1 when a block is ambiguous. */
function readCode(luma, width, height) {
  let n = 0;
  for (let b = 0; b < CODE.bits; b++) {
    let sum = 0,
      count = 0;
    for (let y = height - CODE.height + 2; y < height - 2; y++)
      for (let x = b * CODE.block + 2; x < (b + 1) * CODE.block - 2; x++) {
        sum += luma[y * width + x];
        count++;
      }
    const mean = sum / count;
    if (mean > 90 && mean < 160) return -1;
    n = (n << 1) | (mean >= 128 ? 1 : 0);
  }
  return n;
}

/**
 * The ground truth of a panning scene rendered at `scale`: per frame, the boxes of the faces that
 * touch the window, in frame pixels (not clipped), with the share of each box inside the frame.
 */
function panTruth(scene, scale, rendered) {
  const W = Math.round(scene.view.width * scale),
    H = Math.round(scene.view.height * scale);
  const frames = [];
  for (let i = 0; i < scene.frames; i++) {
    const o = scene.offset(i);
    const ox = Math.round(o.x * scale),
      oy = Math.round(o.y * scale);
    const boxes = [];
    rendered.faces.forEach((f, id) => {
      const b = [f.box[0] - ox, f.box[1] - oy, f.box[2] - ox, f.box[3] - oy];
      const inside = insideShare(b, W, H);
      if (inside > 0) boxes.push({ id, box: b.map(r1), size: f.size, inside: Math.round(inside * 1000) / 1000 });
    });
    frames.push({ index: i, offset: [ox, oy], boxes });
  }
  return { width: W, height: H, fps: scene.fps, frames };
}

/** Share of a box's area inside a W × H frame. */
function insideShare(b, W, H) {
  const area = (b[2] - b[0]) * (b[3] - b[1]);
  const iw = Math.max(0, Math.min(W, b[2]) - Math.max(0, b[0])),
    ih = Math.max(0, Math.min(H, b[3]) - Math.max(0, b[1]));
  return area > 0 ? (iw * ih) / area : 0;
}

/** Frame i of a rendered panning scene: the window's pixels with the frame code burnt in. */
function panFrame(scene, scale, rendered, i) {
  const canvas = rendered.frame;
  const W = Math.round(scene.view.width * scale),
    H = Math.round(scene.view.height * scale);
  const o = scene.offset(i);
  const ox = Math.round(o.x * scale),
    oy = Math.round(o.y * scale);
  const frame = frameOf(W, H);
  for (let y = 0; y < H; y++) frame.data.set(canvas.data.subarray(((oy + y) * canvas.width + ox) * 3, ((oy + y) * canvas.width + ox + W) * 3), y * W * 3);
  drawCode(frame, i);
  return frame;
}

/**
 * Writes the frames of a panning scene at `scale` as H.264 (libx264, yuv420p, one key frame a
 * second, CRF `crf`, preset `preset`) into `file` (.mp4 with the index up front) and returns the
 * ground truth. `frames` limits the count (default: the scene's).
 */
async function writePanClip(ffmpeg, scene, scale, file, kit, { frames = scene.frames, crf = 18, preset = 'veryfast' } = {}) {
  const rendered = await renderScene(scene, scale, kit);
  const truth = panTruth({ ...scene, frames }, scale, rendered);
  const tmp = `${file}.part.mp4`;
  const child = spawn(
    ffmpeg,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${truth.width}x${truth.height}`,
      '-r',
      String(scene.fps),
      '-i',
      '-',
      '-c:v',
      'libx264',
      '-preset',
      preset,
      '-crf',
      String(crf),
      '-g',
      String(scene.fps),
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      tmp,
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr}`)))));
  child.stdin.on('error', () => {
    /* reported by close */
  });
  for (let i = 0; i < frames; i++) {
    const f = panFrame(scene, scale, rendered, i);
    if (!child.stdin.write(Buffer.from(f.data.buffer, f.data.byteOffset, f.data.length))) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  await done;
  fs.renameSync(tmp, file);
  return truth;
}

module.exports = {
  FIXTURE_VERSION,
  CODE,
  FACE_FREE,
  seeded,
  readLabels,
  frameOf,
  loadKit,
  loadFaceSources,
  loadFaceFree,
  faceFreeBackground,
  scaledCutout,
  paste,
  renderScene,
  crowdScene,
  faceFreeScene,
  sweepScenes,
  geometricSizes,
  panScene,
  cctvScene,
  panTruth,
  panFrame,
  insideShare,
  drawCode,
  readCode,
  writePanClip,
};
