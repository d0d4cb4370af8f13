'use strict';
// Flow overhead: the same N pictures through a Node-RED flow (token → detect → landmark → embed →
// image, in node-red-node-test-helper) vs the same calls on the runtime directly. Also: the
// first message after deploy vs a warm one (the config node warms its sessions at deploy).
// Usage: node bench/flow-overhead.js [frames]
const fs = require('fs');
const path = require('path');
const { createRuntime } = require('../dist/runtime');
const { summary, machine, saveResults, MEDIA } = require('./lib');
const { helper, allNodes, nextMessage } = require('../test/helpers/red');

const FRAMES = Number(process.argv[2] || 20);
const picture = fs.readFileSync(path.join(MEDIA, 'fr_two_people.jpg'));
const STAGES = ['detect', 'landmark', 'embed'];

async function direct() {
  const rt = createRuntime({ sweepIntervalMs: 0 });
  await rt.warmup();
  const times = [];
  for (let i = 0; i < FRAMES + 1; i++) {
    const t0 = performance.now();
    let token = await rt.createToken({ target: picture, operations: STAGES });
    for (const s of STAGES) token = await rt.process(s, token, { force: true });
    await rt.encode(token, { format: 'jpeg', quality: 90 });
    rt.release(token);
    times.push(performance.now() - t0);
  }
  await rt.close();
  return times.slice(1);
}

async function flow() {
  await new Promise((r) => helper.startServer(r));
  const nodes = [
    { id: 'tab', type: 'tab' },
    { id: 'cfg', type: 'facefusion-config', device: 'auto', threads: 0, frameBudgetMB: 256, tokenTtl: 300 },
    { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: STAGES, wires: [['det']] },
    ...['det', 'lm', 'emb'].map((id, i, a) => ({ id, z: 'tab', type: ['face-detect', 'face-landmark', 'face-embed'][i], config: 'cfg', wires: [[a[i + 1] || 'img']] })),
    { id: 'img', z: 'tab', type: 'face-image', config: 'cfg', format: 'jpeg', quality: 90, release: true, wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  await helper.load(allNodes, nodes);
  await helper.getNode('cfg').ready;
  const times = [];
  for (let i = 0; i < FRAMES + 1; i++) {
    const t0 = performance.now();
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: picture });
    await got;
    times.push(performance.now() - t0);
  }
  await helper.unload();
  await new Promise((r) => helper.stopServer(r));
  return times;
}

(async () => {
  console.log(`machine: ${machine()}`);
  // Interleave two rounds of each so drift on a noisy machine hits both sides alike.
  const d1 = await direct();
  const f1 = await flow();
  const d2 = await direct();
  const f2 = await flow();
  const first = [f1[0], f2[0]];
  const a = summary([...d1, ...d2]),
    b = summary([...f1.slice(1), ...f2.slice(1)]);
  const overhead = (b.median / a.median - 1) * 100;
  console.log(`\nms per picture (fr_two_people.jpg, ${STAGES.join(' → ')} → jpeg), ${2 * FRAMES} pictures each:`);
  console.log(`  direct runtime calls   ${a.min} / ${a.median} / ${a.max}`);
  console.log(`  Node-RED flow          ${b.min} / ${b.median} / ${b.max}`);
  console.log(`  flow overhead          ${overhead.toFixed(1)} % (median)`);
  console.log(`  first message after deploy ${first.map((v) => v.toFixed(1)).join(', ')} ms = ${(Math.max(...first) / b.median).toFixed(2)}× a warm one`);
  saveResults('flow_overhead', {
    direct: a,
    flow: b,
    overheadPercent: Math.round(overhead * 10) / 10,
    firstAfterDeploy: first,
    firstOverWarm: Math.round((Math.max(...first) / b.median) * 100) / 100,
  });
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
