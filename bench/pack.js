'use strict';
// Packed tokens (face pack / unpack): bytes per 720p frame and the time to pack (encode + seal)
// and unpack (open + decode + store) in a second runtime, PNG (lossless) vs JPEG q90.
// Usage: node bench/pack.js [rounds]
const crypto = require('crypto');
const path = require('path');
const sharp = require('sharp');
const { createRuntime } = require('../dist/runtime');
const { summary, machine, saveResults, MEDIA } = require('./lib');

const ROUNDS = Number(process.argv[2] || 10);

(async () => {
  console.log(`machine: ${machine()}`);
  const hub = createRuntime({ device: 'cpu', sweepIntervalMs: 0 });
  const worker = createRuntime({ device: 'cpu', sweepIntervalMs: 0 });
  const key = crypto.randomBytes(32);
  const picture = await sharp(path.join(MEDIA, 'fr_two_people.jpg')).resize(1280, 720, { fit: 'cover' }).jpeg({ quality: 95 }).toBuffer();
  const token = await hub.run(await hub.createToken({ target: picture, operations: ['detect'] }));
  const results = {};
  for (const format of ['png', 'jpeg']) {
    const pack = [],
      unpack = [];
    let bytes = 0;
    for (let i = 0; i < ROUNDS; i++) {
      let t0 = performance.now();
      const packet = await hub.pack(token, { key, format, quality: 90 });
      pack.push(performance.now() - t0);
      bytes = packet.length;
      t0 = performance.now();
      const back = await worker.unpack(packet, { key });
      unpack.push(performance.now() - t0);
      worker.release(back);
    }
    results[format] = { kB: Math.round(bytes / 1024), packMs: summary(pack), unpackMs: summary(unpack) };
    const s = (x) => `${x.min} / ${x.median} / ${x.max}`;
    console.log(
      `  ${format.padEnd(4)} ${String(results[format].kB).padStart(5)} kB per 720p frame · pack ${s(results[format].packMs)} ms · unpack ${s(results[format].unpackMs)} ms (min / median / max of ${ROUNDS})`,
    );
  }
  hub.release(token);
  await hub.close();
  await worker.close();
  saveResults('pack', results);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
