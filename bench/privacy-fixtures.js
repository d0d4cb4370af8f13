'use strict';
// The privacy bench's fixtures, built by test/helpers/privacy-fixtures.js from the
// repository's labelled pictures and cached outside the repository (os.tmpdir()/
// facefusion-bench-cache/privacy-vN, N = FIXTURE_VERSION): built once (≈ 1–2 min on 2 cores, most
// of it x264), then read back. Every file comes with its ground truth (JSON beside it).
//   crowd        3000 × 2172 PNG, 90 faces of 24–470 px (three rows of 75–95 px, the issue's band)
//   crowd6000    the same scene at 2×: 6000 × 4344 (26 MP), faces 48–940 px
//   faceFree     face-free pictures of 3000 × 2172 and 6000 × 4344 (the face-free crops, tiled)
//   pan720       panning crowd, 1280 × 720, 25 fps, H.264 CRF 18, faces 40–55 px, ≈ 29 in view
//   pan1080      the same scene at 1.5×: 1920 × 1080, faces 60–83 px, the same faces in view
//   cctv         1920 × 1080, 48 faces of 8–32 px, 1 px/frame pan, 100 frames (+ its first frame as a PNG)
// Usage: node bench/privacy-fixtures.js [--quick]   builds (or finds) them and prints where they are.
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const pf = require('../test/helpers/privacy-fixtures');
const pm = require('../test/helpers/privacy-measure');

const CACHE = path.join(os.tmpdir(), 'facefusion-bench-cache', `privacy-v${pf.FIXTURE_VERSION}`);

async function ffmpegPath() {
  const { FfmpegLocator } = require('../dist/runtime/internal');
  return (await new FfmpegLocator().resolve()).path;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeJson(file, data) {
  fs.writeFileSync(`${file}.part`, JSON.stringify(data));
  fs.renameSync(`${file}.part`, file);
}

async function writePng(frame, file) {
  await sharp(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.length), { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .png({ compressionLevel: 3 })
    .toFile(`${file}.part.png`);
  fs.renameSync(`${file}.part.png`, file);
}

/** An RGB frame read from a PNG of the cache. */
async function readFrame(file) {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return pf.frameOf(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.length));
}

/** Loads the kit only when something has to be built. */
function lazyKit() {
  let kit;
  return async () => (kit ??= await pf.loadKit());
}

/** A picture of a scene at a scale, cached: { file, width, height, faces }. */
async function picture(name, scene, scale, kit) {
  fs.mkdirSync(CACHE, { recursive: true });
  const file = path.join(CACHE, `${name}.png`),
    meta = path.join(CACHE, `${name}.json`);
  const known = readJson(meta);
  if (known && fs.existsSync(file)) return { file, ...known };
  const r = await pf.renderScene(scene, scale, await kit());
  await writePng(r.frame, file);
  const info = { width: r.frame.width, height: r.frame.height, faces: r.faces };
  writeJson(meta, info);
  return { file, ...info };
}

/** A clip of a panning scene at a scale, cached with its truth and source detail: { file, truth, detail }. */
async function clip(name, scene, scale, kit, options = {}) {
  fs.mkdirSync(CACHE, { recursive: true });
  const file = path.join(CACHE, `${name}.mp4`),
    meta = path.join(CACHE, `${name}.json`);
  const known = readJson(meta);
  if (known && fs.existsSync(file)) return { file, ...known };
  const ffmpeg = await ffmpegPath();
  const truth = await pf.writePanClip(ffmpeg, scene, scale, file, await kit(), options);
  const detail = await pm.sourceDetail(ffmpeg, file, truth);
  writeJson(meta, { truth, detail });
  return { file, truth, detail };
}

/**
 * The clip looped (stream copy, no re-encoding) to at least `seconds`, for a live camera
 * stand-in that must run longer than the clip: the frame codes repeat with the clip.
 */
async function looped(c, seconds) {
  const loops = Math.max(0, Math.ceil((seconds * c.truth.fps) / c.truth.frames.length) - 1);
  if (loops === 0) return c.file;
  const file = c.file.replace(/\.mp4$/, `-x${loops + 1}.mp4`);
  if (fs.existsSync(file)) return file;
  const { execFileSync } = require('child_process');
  execFileSync(await ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', String(loops), '-i', c.file, '-c', 'copy', '-movflags', '+faststart', `${file}.part.mp4`]);
  fs.renameSync(`${file}.part.mp4`, file);
  return file;
}

/** Every fixture of the bench (built on first use). `quick` makes the short pan clip too. */
async function privacyFixtures({ quick = false } = {}) {
  const kit = lazyKit();
  const crowdScene = pf.crowdScene();
  const free = pf.faceFreeScene();
  const pan = pf.panScene();
  const cctv = pf.cctvScene();
  const out = {
    cache: CACHE,
    crowd: await picture('crowd-3000', crowdScene, 1, kit),
    crowd6000: await picture('crowd-6000', crowdScene, 2, kit),
    faceFree: await picture('face-free-3000', free, 1, kit),
    faceFree6000: await picture('face-free-6000', free, 2, kit),
    pan720: await clip('pan-720p-500', pan, 1, kit),
    pan1080: await clip('pan-1080p-500', pan, 1.5, kit),
    cctv: await clip('cctv-1080p-100', cctv, 1, kit),
    cctvPicture: await picture('cctv-1080p', { ...cctv, width: cctv.view.width, height: cctv.view.height }, 1, kit),
  };
  if (quick) out.pan720short = await clip('pan-720p-125', pan, 1, kit, { frames: 125 });
  return out;
}

module.exports = { CACHE, privacyFixtures, readFrame, looped, ffmpegPath };

if (require.main === module) {
  privacyFixtures({ quick: process.argv.includes('--quick') })
    .then((f) => {
      for (const [k, v] of Object.entries(f)) {
        if (typeof v === 'string') console.log(`${k}: ${v}`);
        else console.log(`${k.padEnd(13)} ${v.file} · ${v.truth ? `${v.truth.width}x${v.truth.height} × ${v.truth.frames.length} frames` : `${v.width}x${v.height}, ${v.faces.length} faces`}`);
      }
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
