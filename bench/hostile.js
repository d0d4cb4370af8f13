'use strict';
// Hostile messages: how long the event loop is blocked, how high the frame store
// goes and how fast a hostile message is refused. Usage: node bench/hostile.js [rounds]
// (default 3). Figures in BENCHMARKS.md § 8; the same cases as test/hostile.test.js, measured.
//  - 256 face boxes on a 2000² frame (case 1): frame-sized boxes (refused before any work) and
//    the most face area the bound allows (100 px boxes), per stage, on the runtime's pixel worker
//    (as the nodes run them) and on the main thread;
//  - eight 8000² WebP decoded at once under the default 512 MiB budget (case 2), in a child
//    process (its own RSS);
//  - a token naming another request's frame (case 3), a far video index (case 5), an SVG (case 6);
//  - round two: what each refusal costs — a forged sealed packet (chunked seal vs the
//    former whole-body seal), a packet header claiming 64×64 over an 8000² PNG (vs decoding it),
//    an 8000² upload over the Largest picture limit (vs decoding it), a message URL to loopback
//    or a name resolving to it, a model path outside the folders, a failed token freed.
const path = require('path');
const { execFileSync } = require('child_process');
const sharp = require('sharp');
const { createRuntime } = require('../dist/runtime');
const { FrameStore, FfmpegLocator, VideoEncoder, aeadOpen, decodeImage } = require('../dist/runtime/internal');
const { measureLag } = require('../test/helpers/lag');
const crypto = require('crypto');
const { summary, saveResults, machine } = require('./lib');

const ROUNDS = Math.max(1, Number(process.argv[2] || 3));
const round1 = (v) => Math.round(v * 10) / 10;

function grid(n, side, size) {
  const per = Math.ceil(Math.sqrt(n));
  const step = (side - size) / (per - 1);
  return Array.from({ length: n }, (_, i) => {
    const x = Math.round((i % per) * step),
      y = Math.round(Math.floor(i / per) * step);
    return { bbox: [x, y, x + size, y + size], score: 0.9 };
  });
}

async function faceBoxes(results) {
  const runtime = createRuntime({ sweepIntervalMs: 0 });
  const webp = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: { r: 120, g: 90, b: 80 } } })
    .webp({ lossless: true })
    .toBuffer();
  const token = await runtime.createToken({ target: webp, operations: [] });
  const forged = (faces) => runtime.acceptToken(JSON.parse(JSON.stringify({ ...token, faces })));
  const whole = Array.from({ length: 256 }, () => ({ bbox: [0, 0, 2000, 2000], score: 0.9 }));
  const allowed = grid(256, 2000, 100);
  // Warm the worker once (its start is a one-off per runtime).
  runtime.store.release((await runtime.process('debug', forged([]), { force: true, offMainThread: true })).target.frame);
  for (const stage of ['enhance', 'blur']) {
    const rows = { refuseMs: [], workerMs: [], workerLagMs: [], workerBlockMs: [], mainMs: [], mainBlockMs: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const refused = await measureLag(() => runtime.process(stage, forged(whole), { force: true }));
      if (refused.value.error?.code !== 'E_BAD_PARAMETER') throw new Error(`${stage}: frame-sized boxes not refused`);
      rows.refuseMs.push(refused.ms);
      const off = await measureLag(() => runtime.process(stage, forged(allowed), { force: true, offMainThread: true }));
      runtime.store.release(off.value.target.frame);
      rows.workerMs.push(off.ms);
      rows.workerLagMs.push(off.lagMs);
      rows.workerBlockMs.push(off.blockMs);
      const main = await measureLag(() => runtime.process(stage, forged(allowed), { force: true }));
      runtime.store.release(main.value.target.frame);
      rows.mainMs.push(main.ms);
      rows.mainBlockMs.push(main.blockMs);
    }
    results.faceBoxes[stage] = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, summary(v)]));
  }
  results.faceBoxes.storePeakMB = round1(runtime.store.stats().peakBytes / 2 ** 20);
  results.faceBoxes.budgetMB = round1(runtime.store.stats().budgetBytes / 2 ** 20);

  // Case 3: a token naming another request's frame.
  const other = await runtime.createToken({ target: webp, operations: [] });
  const stolen = JSON.parse(JSON.stringify({ ...token, target: { ...token.target, frame: other.target.frame } }));
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) {
    try {
      runtime.acceptToken(stolen);
    } catch {
      /* E_FRAME_MISSING */
    }
  }
  results.refuseForeignFrameUs = round1(performance.now() - t0);
  await runtime.close();
}

async function svgAndIndex(results) {
  const runtime = createRuntime({ sweepIntervalMs: 0 });
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="8000" height="8000"><filter id="f"><feGaussianBlur stdDeviation="500"/></filter><rect width="100%" height="100%" fill="#a63" filter="url(#f)"/></svg>',
  );
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    await runtime.createToken({ target: svg }).catch(() => undefined);
    times.push(performance.now() - t0);
  }
  results.svgRefuseMs = summary(times);
  await runtime.close();

  const locator = new FfmpegLocator();
  try {
    await locator.resolve();
  } catch {
    return;
  }
  const store = new FrameStore({ budgetBytes: 64 * 48 * 3 * 50, sweepIntervalMs: 0 });
  const encoder = new VideoEncoder({ locator, store, output: path.join(require('os').tmpdir(), `ff-hostile-bench-${process.pid}.mp4`), width: 64, height: 48, fps: 25 });
  const frame = () => store.put({ width: 64, height: 48, channels: 3, data: new Uint8Array(64 * 48 * 3) });
  await encoder.write(0, frame());
  const far = await measureLag(() => encoder.write(1e9, frame()));
  results.farIndex = { ms: round1(far.ms), blockMs: round1(far.blockMs) };
  await encoder.abort();
  store.close();
}

/** min / median / max with two decimals (sub-millisecond refusals). */
function fine(values) {
  const s = [...values].sort((a, b) => a - b);
  const r = (v) => Math.round(v * 100) / 100;
  return { min: r(s[0]), median: r(s[Math.floor(s.length / 2)]), max: r(s[s.length - 1]), n: s.length };
}

async function timed(n, work) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  return times;
}

async function roundTwo(results) {
  const n = Math.max(5, ROUNDS * 5);
  const key = crypto.randomBytes(32);
  const runtime = createRuntime({ sweepIntervalMs: 0, allowedFolders: [require('os').tmpdir()], confineModels: true });
  const token = await runtime.createToken({ target: path.join(__dirname, '..', 'test', 'fixtures', 'media', 'fr_biden.jpg'), operations: [] });
  const real = await runtime.pack(token, { key });
  const headerEnd = 10 + real.readUInt32BE(6);
  // A forged packet: a well-formed header declaring a 4000² PNG of 48 MB, the body noise.
  const header = JSON.parse(real.toString('utf8', 10, headerEnd));
  header.frames[0] = { ...header.frames[0], width: 4000, height: 4000, bytes: 48_000_000 };
  const bodyBytes = header.token_bytes + 48_000_000;
  const headerBytes = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.from(real.subarray(0, 10));
  prefix.writeUInt32BE(headerBytes.length, 6);
  const chunks = Math.ceil(bodyBytes / (256 * 1024));
  const forged = Buffer.concat([prefix, headerBytes, crypto.randomBytes(12 + bodyBytes + chunks * 16)]);
  const refuse = (work) =>
    work().then(
      () => {
        throw new Error('not refused');
      },
      () => undefined,
    );
  const forgedMs = await timed(n, () => refuse(() => runtime.unpack(forged, { key, maxBytes: 64 * 1024 * 1024, maxPixels: 16e6 })));
  // Before: the whole body was one GCM message, opened to its end before the tag could fail.
  const wholeMs = await timed(n, () => {
    try {
      aeadOpen(forged.subarray(10 + headerBytes.length), key, forged.subarray(0, 10 + headerBytes.length));
    } catch {
      /* refused */
    }
  });
  results.roundTwo = { forgedPacketMB: Math.round(forged.length / 1e5) / 10, forgedRefuseMs: fine(forgedMs), forgedWholeBodyMs: fine(wholeMs) };

  // A header claiming 64×64 over an 8000² PNG (unsealed here, so the frame is reachable).
  const bomb = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  const unsealed = await runtime.pack(token, { sealed: false });
  const uEnd = 10 + unsealed.readUInt32BE(6);
  const uHeader = JSON.parse(unsealed.toString('utf8', 10, uEnd));
  const body = Buffer.concat([unsealed.subarray(uEnd, uEnd + uHeader.token_bytes), bomb]);
  uHeader.frames = [{ role: 'target', format: 'png', width: 64, height: 64, bytes: bomb.length }];
  uHeader.sha256 = crypto.createHash('sha256').update(body).digest('hex');
  const uHeaderBytes = Buffer.from(JSON.stringify(uHeader));
  const uPrefix = Buffer.from(unsealed.subarray(0, 10));
  uPrefix.writeUInt32BE(uHeaderBytes.length, 6);
  const lying = Buffer.concat([uPrefix, uHeaderBytes, body]);
  const lyingMs = await timed(n, () => refuse(() => runtime.unpack(lying, { allowUnsealed: true })));
  // The same picture under a header claiming 2000×2000 (its 197 kB fit that size): refused from the picture's own header.
  uHeader.frames = [{ role: 'target', format: 'png', width: 2000, height: 2000, bytes: bomb.length }];
  const mid = Buffer.from(JSON.stringify(uHeader));
  const midPrefix = Buffer.from(uPrefix);
  midPrefix.writeUInt32BE(mid.length, 6);
  const lying2000 = Buffer.concat([midPrefix, mid, body]);
  const lying2000Ms = await timed(n, () => refuse(() => runtime.unpack(lying2000, { allowUnsealed: true })));
  const decodeMs = await timed(Math.min(3, n), () => decodeImage(bomb, { maxPixels: 64e6 }));
  results.roundTwo.lyingHeader = { pngKB: Math.round(bomb.length / 1024), refuseMs: fine(lyingMs), refuse2000Ms: fine(lying2000Ms), fullDecodeMs: fine(decodeMs) };

  // An 8000² upload over a 48 MP Largest picture (the upload example) vs the default 64 MP that decodes it.
  const small = createRuntime({ sweepIntervalMs: 0, maxImagePixels: 48e6 });
  const uploadMs = await timed(n, () => refuse(() => small.createToken({ target: bomb, operations: [] })));
  await small.close();
  results.roundTwo.bombUpload = { refuseMs: fine(uploadMs) };

  // Message URLs and model paths: refused before any connection or file read.
  const loopMs = await timed(n, () => refuse(() => runtime.paths.url('http://127.0.0.1:9/internal-admin', 'msg.payload')));
  const nameMs = await timed(n, () => refuse(() => runtime.paths.url('http://localhost:9/internal-admin', 'msg.payload')));
  const metaMs = await timed(n, () => refuse(() => runtime.paths.url('http://169.254.169.254/latest/meta-data/', 'msg.payload')));
  const modelMs = await timed(n, () => refuse(() => runtime.paths.model('/etc/shadow', 'face_detector_model')));
  results.roundTwo.urlRefuseMs = { loopback: fine(loopMs), localhostName: fine(nameMs), metadata: fine(metaMs) };
  results.roundTwo.modelRefuseMs = fine(modelMs);

  // A failed token taken by nobody: freed at once (what the stage nodes now do).
  const releaseUs = [];
  for (let i = 0; i < n; i++) {
    const t = await runtime.createToken({ target: path.join(__dirname, '..', 'test', 'fixtures', 'media', 'fr_biden.jpg'), operations: [] });
    const t0 = performance.now();
    runtime.holdFailed(t);
    runtime.release(t);
    releaseUs.push((performance.now() - t0) * 1000);
  }
  results.roundTwo.failedReleaseUs = fine(releaseUs);
  runtime.release(token);
  await runtime.close();
}

async function main() {
  const results = { faceBoxes: {}, rounds: ROUNDS };
  await roundTwo(results);
  await faceBoxes(results);
  await svgAndIndex(results);
  const bombs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const out = execFileSync(process.execPath, [path.join(__dirname, '..', 'test', 'helpers', 'hostile-bombs.js')], { encoding: 'utf8' });
    bombs.push(JSON.parse(out.trim().split('\n').pop()));
  }
  results.bombs = {
    created: bombs[0].created,
    refused: bombs[0].refused,
    codes: bombs[0].codes,
    lastRefusalMs: summary(bombs.map((b) => b.lastRefusalMs)),
    storePeakMB: summary(bombs.map((b) => b.peakBytes / 2 ** 20)),
    budgetMB: bombs[0].budgetBytes / 2 ** 20,
    rssMaxMB: summary(bombs.map((b) => b.rssMaxBytes / 2 ** 20)),
  };
  saveResults('hostile', results);
  const m = (s) => `${s.min} / ${s.median} / ${s.max}`;
  console.log(`hostile messages · ${machine()} · ${ROUNDS} rounds (min / median / max)`);
  for (const stage of ['enhance', 'blur']) {
    const f = results.faceBoxes[stage];
    console.log(`  ${stage}, 256 frame-sized boxes on 2000²: refused in ${m(f.refuseMs)} ms`);
    console.log(`  ${stage}, 256 × 100 px boxes, worker: ${m(f.workerMs)} ms, event loop blocked ${m(f.workerBlockMs)} ms (longest timer gap ${m(f.workerLagMs)} ms)`);
    console.log(`  ${stage}, 256 × 100 px boxes, main thread: ${m(f.mainMs)} ms, blocked ${m(f.mainBlockMs)} ms`);
  }
  console.log(`  store peak ${results.faceBoxes.storePeakMB} / budget ${results.faceBoxes.budgetMB} MB`);
  console.log(`  foreign frame ref refused: ${results.refuseForeignFrameUs / 1000} ms per token`);
  console.log(`  8000² SVG (250 bytes) refused in ${m(results.svgRefuseMs)} ms`);
  if (results.farIndex) console.log(`  video out, index 1e9: ${results.farIndex.ms} ms, blocked ${results.farIndex.blockMs} ms`);
  const r2 = results.roundTwo;
  const f = (s) => `${s.min} / ${s.median} / ${s.max}`;
  console.log(`  round two: forged ${r2.forgedPacketMB} MB sealed packet refused in ${f(r2.forgedRefuseMs)} ms (whole-body seal: ${f(r2.forgedWholeBodyMs)} ms)`);
  console.log(
    `  round two: 64×64 header over an 8000² PNG (${r2.lyingHeader.pngKB} kB) refused in ${f(r2.lyingHeader.refuseMs)} ms (its byte length), under a 2000×2000 header in ${f(r2.lyingHeader.refuse2000Ms)} ms (its own header); decoding it: ${f(r2.lyingHeader.fullDecodeMs)} ms`,
  );
  console.log(`  round two: 8000² upload over a 48 MP limit refused in ${f(r2.bombUpload.refuseMs)} ms`);
  console.log(
    `  round two: URL refused: loopback ${f(r2.urlRefuseMs.loopback)} ms, "localhost" ${f(r2.urlRefuseMs.localhostName)} ms, 169.254.169.254 ${f(r2.urlRefuseMs.metadata)} ms; model /etc/shadow ${f(r2.modelRefuseMs)} ms`,
  );
  console.log(`  round two: failed token freed in ${f(r2.failedReleaseUs)} µs`);
  const b = results.bombs;
  console.log(
    `  8 × 8000² WebP at once: ${b.created} stored, ${b.refused} refused (${b.codes.join(', ')}) by ${m(b.lastRefusalMs)} ms; store peak ${m(b.storePeakMB)} / ${b.budgetMB} MB; RSS ${m(b.rssMaxMB)} MB`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
