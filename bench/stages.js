'use strict';
// Per-stage latency on real photos: first run after session creation, then warm min/median/max.
// Usage: npm run bench   (or: node bench/stages.js [runs])
const path = require('path');
const fs = require('fs');
const { createRuntime, decodeImage, encodeImage } = require('../dist/runtime/internal');
const { summary, machine, saveResults, MEDIA } = require('./lib');

const RUNS = Number(process.argv[2] || 15);
const STAGES = ['detect', 'landmark', 'embed', 'swap', 'enhance', 'blur', 'debug'];

const fmt = (v) => v.toFixed(1).padStart(7);

async function timeStages(rt, file) {
  const buf = fs.readFileSync(path.join(MEDIA, file));
  const times = Object.fromEntries(['decode', ...STAGES, 'encode'].map((k) => [k, []]));
  let first;
  for (let r = 0; r < RUNS + 1; r++) {
    let t0 = performance.now();
    const frame = await decodeImage(buf);
    const decodeMs = performance.now() - t0;
    let token = await rt.createToken({ target: frame, source: path.join(MEDIA, 'fr_obama.jpg'), operations: STAGES });
    const row = { decode: decodeMs };
    for (const stage of STAGES) {
      token = await rt.process(stage, token);
      const entry = token.journal[token.journal.length - 1];
      if (entry.outcome === 'failed') throw new Error(`${stage} failed: ${token.error.message}`);
      row[stage] = entry.ms;
    }
    t0 = performance.now();
    await encodeImage(rt.frame(token.target.frame), { format: 'jpeg', quality: 90 });
    row.encode = performance.now() - t0;
    rt.release(token);
    if (r === 0) first = row;
    else for (const k of Object.keys(row)) times[k].push(row[k]);
  }
  return { first, warm: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, summary(v)])) };
}

(async () => {
  console.log(`machine: ${machine()}`);
  const results = {};
  for (const file of ['astronaut.png', 'fr_two_people.jpg']) {
    const rt = createRuntime({ sweepIntervalMs: 0 });
    // Sessions are created by the first token (no warmup) so the "first" column shows the cold cost.
    const r = await timeStages(rt, file);
    await rt.close();
    results[file] = r;
    console.log(`\n${file}: ms per stage (first run after session creation | warm min / median / max over ${RUNS})`);
    for (const k of Object.keys(r.warm)) {
      const w = r.warm[k];
      console.log(`  ${k.padEnd(9)} first ${fmt(r.first[k])} | ${fmt(w.min)} ${fmt(w.median)} ${fmt(w.max)}`);
    }
  }
  saveResults('stages', results);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
