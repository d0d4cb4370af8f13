'use strict';
// Privacy masks on YUV 4:2:0 planes (src/runtime/vision/yuv-masks.ts) against the RGB path they
// replace: a real picture converted to yuv420p by a real ffmpeg, masked (a) on its planes and
// (b) the RGB way — ffmpeg yuv420p → rgb24, the mask of blur.ts, ffmpeg rgb24 → yuv420p — and
// the planes of (a) and (b) compared sample by sample over the masked area.
const assert = require('assert');
const path = require('path');
const { spawnSync } = require('child_process');
const sharp = require('sharp');
const {
  FfmpegLocator,
  blurRegionInPlace,
  blurRasterRegions,
  pixelateRasterRegion,
  fillRegionInPlace,
  keepEllipsesOnly,
  frameRaster,
  blurYuvRegionInPlace,
  blurYuvRegionsInPlace,
  pixelateYuvRegionInPlace,
  fillYuvRegionInPlace,
  keepEllipsesOnlyYuv,
  chromaRect,
  yuvLayout,
  rgbColorToYuv: rgbToYuv,
  clipRect,
} = require('../dist/runtime/internal');
const { MEDIA } = require('./helpers/fixtures');
const { ffmpegOrSkip } = require('./helpers/clips');

// The reference conversions. ffmpeg's default flags are not a fair reference: its fast
// rgb24 → yuv420p path alone (no mask at all) moves Y by a mean of 1.02 levels (max 15) on this
// picture, and its bicubic chroma downscale rings by up to 8 levels on both sides of a hard
// colour edge (a solid fill). accurate_rnd + full_chroma_int make the round trip exact to a
// mean of 0.004 (Y) / 0.07 (U, V) levels, and the area filter downsamples chroma by the 2×2
// average that 4:2:0 means. The default flags (what the RGB video pipeline used) are checked
// separately below.
const DECODE = ['-sws_flags', 'accurate_rnd+full_chroma_int'];
const ENCODE = ['-sws_flags', 'area+accurate_rnd+full_chroma_int'];

function convert(bin, input, width, height, from, to, flags) {
  const r = spawnSync(bin, ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', from, '-s', `${width}x${height}`, '-i', '-', ...flags, '-f', 'rawvideo', '-pix_fmt', to, '-'], {
    input,
    maxBuffer: 1 << 28,
  });
  assert.strictEqual(r.status, 0, String(r.stderr));
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length);
}

/** The three planes as [name, offset, width, height, scale]. */
function planes(width, height) {
  const l = yuvLayout(width, height);
  return [
    ['Y', 0, width, height, 1],
    ['U', l.uOffset, l.cw, l.ch, 2],
    ['V', l.vOffset, l.cw, l.ch, 2],
  ];
}

/** Per plane: max and mean |a − b| and the share within 2 levels, over the rects (luma) and their chroma rects. */
function compare(a, b, width, height, rects) {
  const out = {};
  for (const [name, offset, pw, , scale] of planes(width, height)) {
    const seen = new Set();
    let max = 0,
      sum = 0,
      n = 0,
      within = 0;
    for (const r of rects) {
      const c = scale === 1 ? clipRect(r, width, height) : chromaRect(r, width, height);
      for (let y = Math.max(0, c.y); y < Math.min(c.y + c.height, scale === 1 ? height : Math.ceil(height / 2)); y++) {
        for (let x = Math.max(0, c.x); x < Math.min(c.x + c.width, pw); x++) {
          const i = offset + y * pw + x;
          if (seen.has(i)) continue;
          seen.add(i);
          const d = Math.abs(a[i] - b[i]);
          if (d > max) max = d;
          sum += d;
          n++;
          if (d <= 2) within++;
        }
      }
    }
    out[name] = { max, mean: sum / n, within: within / n, n };
  }
  return out;
}

/** Samples outside the rects (luma) and their chroma rects that differ between a and b. */
function changedOutside(a, b, width, height, rects) {
  let changed = 0;
  for (const [, offset, pw, ph, scale] of planes(width, height)) {
    const boxes = rects.map((r) => (scale === 1 ? clipRect(r, width, height) : chromaRect(r, width, height)));
    for (let y = 0; y < ph; y++)
      for (let x = 0; x < pw; x++) {
        if (boxes.some((c) => x >= c.x && x < c.x + c.width && y >= c.y && y < c.y + c.height)) continue;
        if (a[offset + y * pw + x] !== b[offset + y * pw + x]) changed++;
      }
  }
  return changed;
}

const format = (s) =>
  Object.entries(s)
    .map(([p, v]) => `${p} max ${v.max} mean ${v.mean.toFixed(3)} ≤2 ${(100 * v.within).toFixed(2)} %`)
    .join(' · ');

// Each mask as (YUV frame, rects) and (RGB frame, rects); the RGB pixelation uses the same block
// grid (anchored at the corner rounded down to even, block 16) so the two are comparable.
const MASKS = {
  'gaussian σ=3': { yuv: (f, rs) => rs.forEach((r) => blurYuvRegionInPlace(f, r, 3)), rgb: (f, rs) => rs.forEach((r) => blurRegionInPlace(f, r, 3)) },
  'gaussian σ=10': { yuv: (f, rs) => rs.forEach((r) => blurYuvRegionInPlace(f, r, 10)), rgb: (f, rs) => rs.forEach((r) => blurRegionInPlace(f, r, 10)) },
  // σ=14: luma on the coarse grid (cells of 4), chroma at σ 7 on cells of 2 chroma samples.
  'gaussian σ=14': { yuv: (f, rs) => rs.forEach((r) => blurYuvRegionInPlace(f, r, 14)), rgb: (f, rs) => rs.forEach((r) => blurRegionInPlace(f, r, 14)) },
  'gaussian σ=45': { yuv: (f, rs) => rs.forEach((r) => blurYuvRegionInPlace(f, r, 45)), rgb: (f, rs) => rs.forEach((r) => blurRegionInPlace(f, r, 45)) },
  // All the rects in one blur (overlapping faces blurred together, their union written).
  'union σ=10': { yuv: (f, rs) => blurYuvRegionsInPlace(f, rs, 10), rgb: (f, rs) => blurRasterRegions(frameRaster(f), rs, 10) },
  'pixelate 16': {
    yuv: (f, rs) => rs.forEach((r) => pixelateYuvRegionInPlace(f, r, 16)),
    rgb: (f, rs) => rs.forEach((r) => pixelateRasterRegion(frameRaster(f), r, 16, Math.max(0, r.x) & ~1, Math.max(0, r.y) & ~1)),
  },
  'solid black': { yuv: (f, rs) => rs.forEach((r) => fillYuvRegionInPlace(f, r, [0, 0, 0])), rgb: (f, rs) => rs.forEach((r) => fillRegionInPlace(f, r, [0, 0, 0])) },
  'solid colour': { yuv: (f, rs) => rs.forEach((r) => fillYuvRegionInPlace(f, r, [200, 40, 90])), rgb: (f, rs) => rs.forEach((r) => fillRegionInPlace(f, r, [200, 40, 90])) },
  'ellipse σ=10': {
    yuv: (f, rs) => {
      const o = { ...f, data: new Uint8Array(f.data) };
      rs.forEach((r) => blurYuvRegionInPlace(f, r, 10));
      keepEllipsesOnlyYuv(f, o, rs);
    },
    rgb: (f, rs) => {
      const o = { ...f, data: new Uint8Array(f.data) };
      rs.forEach((r) => blurRegionInPlace(f, r, 10));
      keepEllipsesOnly(f, o, rs);
    },
  },
};

// The Gaussians again with blur.ts's exact kernel at full resolution on both paths: what the two
// paths differ by on their own (the edge repeat of a chroma plane is not the RGB frame's: near
// the frame's border a wide blur sees chroma row 0 repeated on one path, pixel row 0 on the
// other), so the fast kernels are held to at least that agreement.
const EXACT = Object.fromEntries(
  [3, 10, 14, 45].map((sigma) => [
    `gaussian σ=${sigma}`,
    {
      yuv: (f, rs) => rs.forEach((r) => blurYuvRegionInPlace(f, r, sigma, { exact: true })),
      rgb: (f, rs) => rs.forEach((r) => blurRegionInPlace(f, r, sigma, { exact: true })),
    },
  ]),
);

describe('privacy masks on YUV 4:2:0 planes (vision/yuv-masks)', function () {
  this.timeout(60000);
  let bin;
  const W = 1126,
    H = 660; // fr_two_people.jpg (1126×661) cropped to an even height
  let rgbPicture, yuvPicture;
  const yuvFrame = (data, width = W, height = H) => ({ format: 'yuv420p', width, height, data: new Uint8Array(data) });

  /** (a) and (b) for one mask: the masked YUV frame and the RGB path's result, from `source` (yuv420p). */
  function bothPaths(mask, source, width, height, rects, flags = { decode: DECODE, encode: ENCODE }) {
    const a = yuvFrame(source, width, height);
    mask.yuv(a, rects);
    const rgb = { width, height, channels: 3, data: new Uint8Array(convert(bin, source, width, height, 'yuv420p', 'rgb24', flags.decode)) };
    mask.rgb(rgb, rects);
    const b = convert(bin, rgb.data, width, height, 'rgb24', 'yuv420p', flags.encode);
    return { a: a.data, b };
  }

  before(async function () {
    bin = (await ffmpegOrSkip(this, new FfmpegLocator())).path;
    rgbPicture = await sharp(path.join(MEDIA, 'fr_two_people.jpg')).extract({ left: 0, top: 0, width: W, height: H }).removeAlpha().raw().toBuffer();
    yuvPicture = convert(bin, rgbPicture, W, H, 'rgb24', 'yuv420p', ENCODE);
    assert.strictEqual(yuvPicture.length, yuvLayout(W, H).bytes);
  });

  // The two faces, enlarged as the blur stage does; once at even and once at odd coordinates.
  const EVEN = [
    { x: 180, y: 10, width: 250, height: 270 },
    { x: 740, y: 10, width: 250, height: 280 },
  ];
  const ODD = [
    { x: 181, y: 11, width: 249, height: 271 },
    { x: 741, y: 9, width: 251, height: 279 },
  ];

  // Measured (ffmpeg 5.1, this picture), over each rect and its chroma rect, worst plane:
  //                 even rects                    odd rects
  //   gaussian σ=3  max 1, mean ≤ 0.14, 100 %      max 2, mean ≤ 0.14, 100 %
  //   gaussian σ=10 max 2, mean ≤ 0.15, 100 %      max 3, mean ≤ 0.15, ≥ 99.99 %
  //   gaussian σ=14 max 3, mean ≤ 0.15, 100 %      max 3, mean ≤ 0.15, ≥ 99.99 %
  //   gaussian σ=45 max 4, mean ≤ 0.25, ≥ 99.5 %   max 4, mean ≤ 0.25, ≥ 99.5 %
  //   pixelate 16   max 1, mean ≤ 0.15, 100 %      max 3, mean ≤ 0.15, ≥ 99.99 %
  //   solid         max 0, mean 0, 100 %           max 3, mean ≤ 0.01, ≥ 99.99 %
  //   ellipse σ=10  max 6, mean ≤ 0.12, ≥ 99.95 %  max 6, mean ≤ 0.12, ≥ 99.92 %
  // The σ = 14 and 45 outliers are V samples within 10 chroma rows of the frame's top edge (the
  // faces start 9–11 pixels below it), and the exact kernel on both paths (EXACT) has them too:
  // σ = 45, 178 of 34640 V samples > 2 levels off, max 4. The earlier coarse grid
  // stayed within 3 there only because it averaged the edge rows instead of repeating the edge
  // (it was up to 11 levels off the exact blur). So a Gaussian is held to ≥ 99.9 % within 2 and
  // max ≤ 2 (even) / 3 (odd), or to the exact kernel's own agreement where that is lower.
  // (Y's max 6 with the ellipse: the RGB path restores pixels from RGB that had been clipped
  // to 0..255 on decoding. Before chroma samples straddling a rect's odd edge were blended by
  // their share, the odd gaussians were off by up to 22 levels there, 98.9 % within 2; with the
  // ellipse tested only at a chroma sample's centre, up to 11 levels, 99.5 %.)
  for (const [name, rects] of [
    ['even', EVEN],
    ['odd', ODD],
  ]) {
    it(`equals the RGB path within 2 levels for every mask (faces at ${name} coordinates)`, function () {
      const lines = [];
      for (const [maskName, mask] of Object.entries(MASKS)) {
        const { a, b } = bothPaths(mask, yuvPicture, W, H, rects);
        const stats = compare(a, b, W, H, rects);
        lines.push(`      ${maskName.padEnd(14)} ${format(stats)}`);
        const maxAllowed = maskName.startsWith('ellipse') ? 6 : name === 'even' ? 2 : 3;
        // The exact kernel's agreement, measured only where a Gaussian misses the plain bound.
        let exact;
        if (EXACT[maskName] && Object.values(stats).some((s) => s.within < 0.999 || s.max > maxAllowed)) {
          const ref = bothPaths(EXACT[maskName], yuvPicture, W, H, rects);
          exact = compare(ref.a, ref.b, W, H, rects);
          lines.push(`        exact kernel   ${format(exact)}`);
        }
        for (const [plane, s] of Object.entries(stats)) {
          const what = `${maskName}, ${plane}: ${format({ [plane]: s })}${exact ? ` (exact kernel: ${format({ [plane]: exact[plane] })})` : ''}`;
          assert.ok(s.mean <= 1, what);
          assert.ok(s.within >= Math.min(0.999, exact ? exact[plane].within - 0.001 : 1), what);
          assert.ok(s.max <= Math.max(maxAllowed, exact ? exact[plane].max : 0), `${what} (max ≤ ${maxAllowed})`);
        }
        assert.strictEqual(changedOutside(a, yuvPicture, W, H, rects), 0, `${maskName}: samples outside the rects unchanged`);
      }
      console.log(lines.join('\n'));
    });
  }

  it("with ffmpeg's default conversion flags (the RGB video pipeline) the differences are that conversion's own", function () {
    // Measured: the round trip alone moves Y by a mean of 1.02 levels; with the masks Y's mean
    // is 1.11, U and V ≤ 0.24; ≥ 99.9 % within 2 levels (solid black; gaussian σ=10 100 %).
    const flags = { decode: [], encode: [] };
    const source = convert(bin, rgbPicture, W, H, 'rgb24', 'yuv420p', []);
    for (const maskName of ['gaussian σ=10', 'solid black']) {
      const { a, b } = bothPaths(MASKS[maskName], source, W, H, EVEN, flags);
      const stats = compare(a, b, W, H, EVEN);
      console.log(`      default flags, ${maskName.padEnd(14)} ${format(stats)}`);
      for (const s of Object.values(stats)) assert.ok(s.mean <= 1.2 && s.within >= 0.995, `${maskName}: ${format(stats)}`);
    }
  });

  it('rects touching or crossing the frame border, and two overlapping', function () {
    // Measured: as the faces at odd coordinates (max ≤ 3 but the ellipse's 6, ≥ 99.93 % within 2).
    const border = [
      { x: -10, y: 600, width: 201, height: 100 },
      { x: 1001, y: 0, width: 125, height: 51 },
      { x: 500, y: 655, width: 40, height: 5 },
      { x: 300, y: 300, width: 120, height: 120 },
      { x: 361, y: 331, width: 121, height: 101 },
    ];
    const lines = [];
    for (const [maskName, mask] of Object.entries(MASKS)) {
      const { a, b } = bothPaths(mask, yuvPicture, W, H, border);
      const stats = compare(a, b, W, H, border);
      lines.push(`      border ${maskName.padEnd(14)} ${format(stats)}`);
      for (const [plane, s] of Object.entries(stats)) {
        assert.ok(s.mean <= 1 && s.within >= 0.995 && s.max <= 6, `border ${maskName} ${plane}: ${format({ [plane]: s })}`);
      }
      assert.strictEqual(changedOutside(a, yuvPicture, W, H, border), 0, `border ${maskName}: outside unchanged`);
    }
    console.log(lines.join('\n'));
  });

  it('an odd-sized frame (101×75): ⌈w/2⌉×⌈h/2⌉ chroma, the last half-covered chroma column and row included', async function () {
    const w = 101,
      h = 75;
    const small = await sharp(path.join(MEDIA, 'fr_two_people.jpg')).resize(w, h, { fit: 'fill' }).removeAlpha().raw().toBuffer();
    const source = convert(bin, small, w, h, 'rgb24', 'yuv420p', ENCODE);
    assert.strictEqual(source.length, yuvLayout(w, h).bytes, "ffmpeg's yuv420p of an odd size has ⌈w/2⌉×⌈h/2⌉ chroma planes");
    // ffmpeg converts the chroma of an odd size by resampling 101 → 51 (not 2:1), so its chroma
    // drifts off the 2×2 grid: the round trip alone, no mask, is off by a mean of ≈ 2 levels, up
    // to 40, on this detailed little frame. The RGB path here therefore converts through the
    // frame padded to 102×76 by repeating its last column and row (a clean 2:1; the chroma
    // planes are the same 51×38): pad the YUV frame, ffmpeg → rgb24, crop to 101×75, mask there,
    // pad the RGB frame, ffmpeg → yuv420p, crop.
    const pw = w + 1,
      ph = h + 1,
      L = yuvLayout(w, h),
      P = yuvLayout(pw, ph);
    const pad = (data, channels) => {
      // data of w×h pixels (channels bytes each) → pw×ph
      const out = new Uint8Array(pw * ph * channels);
      for (let y = 0; y < ph; y++) {
        const from = Math.min(y, h - 1) * w * channels;
        out.set(data.subarray(from, from + w * channels), y * pw * channels);
        out.set(data.subarray(from + (w - 1) * channels, from + w * channels), (y * pw + w) * channels);
      }
      return out;
    };
    const crop = (data, channels) => {
      // pw×ph → w×h
      const out = new Uint8Array(w * h * channels);
      for (let y = 0; y < h; y++) out.set(data.subarray(y * pw * channels, (y * pw + w) * channels), y * w * channels);
      return out;
    };
    const paddedYuv = new Uint8Array(P.bytes);
    paddedYuv.set(pad(source.subarray(0, L.ySize), 1));
    paddedYuv.set(source.subarray(L.uOffset), P.uOffset);
    const rects = [
      { x: 61, y: 41, width: 40, height: 34 },
      { x: 3, y: 5, width: 27, height: 23 },
    ];
    // Measured: the round trip alone (no mask) is off over these samples by Y max 5, mean 0.03,
    // 99.75 % within 2; U max 5, mean 0.61, 94.5 %; V max 5, mean 0.52, 96.9 % (the frame is the
    // whole picture in 101×75: nearly every 2×2 block has edges, and RGB clips often). With a
    // mask: Y max ≤ 3, mean ≤ 0.15, ≥ 99.95 %; U, V max ≤ 4 (ellipse 7), mean ≤ 0.7, ≥ 95.6 %
    // within 2. So luma is held to 99.5 %, chroma to the round trip's own share.
    let noise;
    const failures = [];
    const lines = [];
    for (const [maskName, mask] of [['no mask', { yuv: () => {}, rgb: () => {} }], ...Object.entries(MASKS)]) {
      const a = yuvFrame(source, w, h);
      mask.yuv(a, rects);
      const rgb = { width: w, height: h, channels: 3, data: crop(convert(bin, paddedYuv, pw, ph, 'yuv420p', 'rgb24', DECODE), 3) };
      mask.rgb(rgb, rects);
      const back = convert(bin, pad(rgb.data, 3), pw, ph, 'rgb24', 'yuv420p', ENCODE);
      const b = new Uint8Array(L.bytes);
      b.set(crop(back.subarray(0, P.ySize), 1));
      b.set(back.subarray(P.uOffset), L.uOffset);
      const stats = compare(a.data, b, w, h, rects);
      lines.push(`      101×75 ${maskName.padEnd(14)} ${format(stats)}`);
      assert.strictEqual(changedOutside(a.data, source, w, h, rects), 0, `101×75 ${maskName}: outside unchanged`);
      if (maskName === 'no mask') {
        noise = stats;
        continue;
      }
      for (const [plane, s] of Object.entries(stats)) {
        const ok = plane === 'Y' ? s.mean <= 1 && s.within >= 0.995 && s.max <= 3 : s.mean <= 1 && s.max <= 7 && s.within >= noise[plane].within - 0.01;
        if (!ok) failures.push(`101×75 ${maskName} ${plane}: ${format({ [plane]: s })}`);
      }
      if (maskName !== 'no mask' && !maskName.startsWith('ellipse')) {
        const corner = L.uOffset + L.cw * L.ch - 1; // covers luma (100, 74) only
        assert.notStrictEqual(a.data[corner], source[corner], `${maskName}: the last chroma sample is masked`);
      }
    }
    console.log(lines.join('\n'));
    assert.deepStrictEqual(failures, []);
  });

  it('leaves everything outside byte-identical and changes the inside, at odd coordinates too', function () {
    for (const rect of [
      { x: 301, y: 201, width: 97, height: 55 },
      { x: 300.6, y: 200.2, width: 40.5, height: 33.1 },
      { x: 0, y: 0, width: 1, height: 1 },
    ]) {
      for (const [maskName, mask] of Object.entries(MASKS)) {
        const f = yuvFrame(yuvPicture);
        mask.yuv(f, [rect]);
        assert.strictEqual(changedOutside(f.data, yuvPicture, W, H, [rect]), 0, `${maskName} ${JSON.stringify(rect)}`);
        if (rect.width > 2 && !maskName.startsWith('ellipse')) {
          let changed = 0;
          for (let i = 0; i < f.data.length; i++) if (f.data[i] !== yuvPicture[i]) changed++;
          assert.ok(changed > rect.width * rect.height * 0.3, `${maskName}: the region changes (${changed})`);
        }
      }
    }
    // Nothing to do: σ = 0, a rect off the frame, an empty rect.
    const f = yuvFrame(yuvPicture);
    blurYuvRegionInPlace(f, EVEN[0], 0);
    blurYuvRegionInPlace(f, { x: 2000, y: 0, width: 50, height: 50 }, 10);
    pixelateYuvRegionInPlace(f, { x: 10, y: 10, width: 0, height: 40 }, 8);
    fillYuvRegionInPlace(f, { x: -60, y: -60, width: 50, height: 50 }, [255, 255, 255]);
    assert.strictEqual(Buffer.compare(Buffer.from(f.data), Buffer.from(yuvPicture)), 0);
    assert.throws(() => blurYuvRegionInPlace(yuvFrame(yuvPicture.subarray(0, W * H)), EVEN[0], 5), RangeError);
  });

  it('pixelate: even blocks on an even grid, chroma blocks of half the size on the same grid', function () {
    const rect = { x: 301, y: 203, width: 60, height: 47 };
    const f = yuvFrame(yuvPicture);
    pixelateYuvRegionInPlace(f, rect, 5); // an odd size becomes 6
    const { uOffset, cw } = yuvLayout(W, H);
    // Luma blocks: [300 + 6k, 306 + 6k) × [202 + 6k, …), cut by the rect.
    const edges = (start, end, anchor) => {
      const e = [start];
      for (let v = anchor + 6; v < end; v += 6) if (v > start) e.push(v);
      e.push(end);
      return e;
    };
    const xs = edges(301, 361, 300),
      ys = edges(203, 250, 202);
    for (let j = 0; j + 1 < ys.length; j++)
      for (let i = 0; i + 1 < xs.length; i++) {
        const values = new Set();
        for (let y = ys[j]; y < ys[j + 1]; y++) for (let x = xs[i]; x < xs[i + 1]; x++) values.add(f.data[y * W + x]);
        assert.strictEqual(values.size, 1, `luma block at ${xs[i]},${ys[j]} is uniform`);
      }
    assert.notStrictEqual(f.data[205 * W + 305], f.data[205 * W + 306], 'a block edge at x = 306');
    // Chroma blocks: 3×3 from (150, 101); the chroma rect is columns 150..180, rows 101..124.
    // Column 150, row 101 and column 180 straddle the rect's odd edges (blended by their share);
    // the blocks between are whole.
    for (let by = 104; by + 3 <= 125; by += 3)
      for (let bx = 153; bx + 3 <= 180; bx += 3) {
        const values = new Set();
        for (let y = by; y < by + 3; y++) for (let x = bx; x < bx + 3; x++) values.add(f.data[uOffset + y * cw + x]);
        assert.strictEqual(values.size, 1, `chroma block at ${bx},${by} is uniform`);
      }
  });

  it('solid fill converts the colour by BT.601 (default) or BT.709, as ffmpeg does', function () {
    assert.deepStrictEqual(rgbToYuv([0, 0, 0]), [16, 128, 128]);
    assert.deepStrictEqual(rgbToYuv([255, 255, 255]), [235, 128, 128]);
    for (const [matrix, space] of [
      ['bt601', 'bt601'],
      ['bt709', 'bt709'],
    ]) {
      for (const colour of [
        [200, 40, 90],
        [10, 220, 30],
        [255, 0, 0],
      ]) {
        const patch = Buffer.alloc(16 * 16 * 3);
        for (let i = 0; i < patch.length; i += 3) patch.set(colour, i);
        const r = spawnSync(
          bin,
          [
            '-hide_banner',
            '-loglevel',
            'error',
            '-f',
            'rawvideo',
            '-pix_fmt',
            'rgb24',
            '-s',
            '16x16',
            '-i',
            '-',
            '-vf',
            `scale=out_color_matrix=${space}:out_range=tv:flags=accurate_rnd+full_chroma_int`,
            '-f',
            'rawvideo',
            '-pix_fmt',
            'yuv420p',
            '-',
          ],
          { input: patch },
        );
        assert.strictEqual(r.status, 0, String(r.stderr));
        const want = [r.stdout[0], r.stdout[256], r.stdout[256 + 64]];
        const got = rgbToYuv(colour, matrix === 'bt601' ? undefined : matrix);
        got.forEach((v, c) => assert.ok(Math.abs(v - want[c]) <= 1, `${matrix} ${colour}: ${got} vs ffmpeg ${want}`));
        const f = { ...yuvFrame(yuvPicture), matrix: matrix === 'bt601' ? undefined : matrix };
        fillYuvRegionInPlace(f, { x: 10, y: 10, width: 4, height: 4 }, colour);
        assert.deepStrictEqual([f.data[10 * W + 10], f.data[yuvLayout(W, H).uOffset + 5 * Math.ceil(W / 2) + 5], f.data[yuvLayout(W, H).vOffset + 5 * Math.ceil(W / 2) + 5]], got);
      }
    }
    assert.notDeepStrictEqual(rgbToYuv([200, 40, 90], 'bt709'), rgbToYuv([200, 40, 90]));
  });
});
