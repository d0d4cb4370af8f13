'use strict';
// Seeded fuzz of face tokens and parameters: thousands of mutated tokens through every
// stage at runtime level, and a smaller share through the Node-RED nodes. Asserts no crash, no
// uncoded error (every refusal is a FaceError with a code, never E_INTERNAL), no frame left after
// release and the store's budget held. The seed is printed on failure; FUZZ_SEED / FUZZ_CASES
// override it.
const assert = require('assert');
const fs = require('fs');
const sharp = require('sharp');
const { createRuntime, STAGES } = require('../dist/runtime');
const { helper, allNodes } = require('./helpers/red');
const { media } = require('./helpers/fixtures');

const SEED = Number(process.env.FUZZ_SEED || 18);
const CASES = Number(process.env.FUZZ_CASES || 3000);
const NODE_CASES = Number(process.env.FUZZ_NODE_CASES || 40);

const { seeded: prng } = require('./helpers/seeded');

/** Codes a hostile token may legitimately get; E_INTERNAL (a thrown non-FaceError) is a bug. */
const EXPECTED_CODES = new Set(['E_TOKEN_INVALID', 'E_TOKEN_EXPIRED', 'E_FRAME_MISSING', 'E_BAD_PARAMETER', 'E_NO_FACE', 'E_NO_SOURCE', 'E_STORE_FULL', 'E_FRAME_TOO_LARGE', 'E_BAD_IMAGE']);

function mutator(rand) {
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const num = () => pick([0, 1, -1, 0.5, 1e9, -1e9, 1e-9, 256, 257, 4096, int(-50, 400), rand() * 300, 3.7]);
  const junk = () => pick([null, 'x', '', true, [], {}, [1, 2], { a: 1 }, num(), '9999-12-31T23:59:59.000Z', 'frame:AAAAAAAAAAAAAAAAAAAAAA']);
  const point = (w, h) => [rand() * w * 1.4 - w * 0.2, rand() * h * 1.4 - h * 0.2];
  const face = (w, h) => {
    const x = rand() * w,
      y = rand() * h;
    const f = { bbox: rand() < 0.1 ? [num(), num(), num(), num()] : [x, y, x + rand() * w * 0.6, y + rand() * h * 0.6], score: rand() < 0.02 ? num() : rand() };
    if (rand() < 0.4) f.landmarks5 = Array.from({ length: 5 }, () => point(w, h));
    if (rand() < 0.3) f.landmarks68 = Array.from({ length: rand() < 0.03 ? 67 : 68 }, () => point(w, h));
    if (rand() < 0.3) f.embedding = Array.from({ length: pick([128, 512, 512, 513, 1024, 512, 3]) }, () => rand() - 0.5);
    if (rand() < 0.1) f.embedding_model = pick(['fr_feature', 'arcface_w600k_r50', '']);
    if (rand() < 0.01) f[pick(['extra', 'bbox', 'score'])] = junk();
    return f;
  };
  const PARAMS = {
    face_size: () => pick([64, 128, 256, 1024, 2048, 100.5]),
    blend_ratio: () => pick([0, 0.5, 0.8, 1, 1.5]),
    face_selector: () => pick(['one', 'many', 'many', 'reference', 'all']),
    reference_embedding: () => Array.from({ length: pick([128, 512, 512, 1]) }, () => rand() - 0.5),
    reference_distance: () => pick([-1, 0, 0.4, 1, 0.5, 2]),
    score_threshold: () => pick([0, 0.01, 0.5, 1, 0.3, 1.01]),
    max_faces: () => pick([1, 5, 256, 256, 100, 1e6]),
    blur_mode: () => pick(['gaussian', 'pixelate', 'pixelate', 'box']),
    blur_strength: () => pick([0, 0.5, 1, 1, 5]),
    blur_margin: () => pick([0, 0.2, 2, 2, 3]),
    face_enhancer_blend: () => pick([0, 0.8, 1, 1, 2]),
    face_mask_blur: () => pick([0, 0.3, 1]),
    face_mask_padding: () =>
      pick([
        [0, 0, 0, 0],
        [100, 100, 100, 100],
        [10, 0, 10, 0],
        [1, 2, 3],
      ]),
  };
  return { pick, int, num, junk, face, PARAMS };
}

/** A forged copy of `base` (plain JSON, as it arrives in a message), mutated at random. */
function mutate(base, others, m, rand) {
  const t = JSON.parse(JSON.stringify(base));
  const w = base.target.width ?? 64,
    h = base.target.height ?? 64;
  const n = rand() < 0.05 ? m.pick([256, 257, 300]) : m.int(0, 6);
  t.faces = Array.from({ length: n }, () => m.face(w, h));
  const params = {};
  for (const [key, make] of Object.entries(m.PARAMS)) if (rand() < 0.08) params[key] = make();
  t.parameters = params;
  const roll = rand();
  if (roll < 0.04) t.target.frame = m.pick(others);
  else if (roll < 0.07) t.target.frame = m.junk();
  else if (roll < 0.1) t.source = { frame: m.pick(others) };
  else if (roll < 0.13) t.expires_at = m.pick(['9999-12-31T23:59:59.000Z', '2000-01-01T00:00:00.000Z', 'soon', m.junk()]);
  else if (roll < 0.16) t.state = m.pick(['failed', 'skipped', 'done', 'nope']);
  else if (roll < 0.19) t.operations = m.pick([[], ['detect', 'detect'], ['morph'], STAGES]);
  else if (roll < 0.21) t[m.pick(['v', 'request_id', 'journal', 'created_at', 'extra'])] = m.junk();
  else if (roll < 0.23) t.target.index = m.pick([1e9, -1, 0.5, 2 ** 53]);
  else if (roll < 0.25) delete t.target;
  return t;
}

function assertCoded(error, where) {
  assert.ok(error && typeof error.code === 'string', `${where}: an uncoded error: ${error && error.stack}`);
  assert.ok(EXPECTED_CODES.has(error.code), `${where}: unexpected code ${error.code}: ${error.message}`);
}

describe('hostile messages: seeded fuzz', function () {
  this.timeout(180000);

  it(`${CASES} mutated tokens through every stage (runtime): no crash, only coded refusals, no frame left, budget held`, async function () {
    const budget = 48 * 1024 * 1024;
    const runtime = createRuntime({ sweepIntervalMs: 0, frameBudgetBytes: budget, storeWaitMs: 200 });
    const rand = prng(SEED);
    const m = mutator(rand);
    const started = performance.now();
    const counts = { accepted: 0, refused: 0, failed: 0, ok: 0 };
    const codes = new Map();
    try {
      await runtime.warmup();
      const small = await sharp(media('fr_biden.jpg')).resize(160).jpeg().toBuffer();
      const blank = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#7a5' } })
        .png()
        .toBuffer();
      const bases = [
        await runtime.run(await runtime.createToken({ target: small, source: small, operations: ['detect', 'landmark', 'embed'] })),
        await runtime.createToken({ target: blank, operations: [] }),
        await runtime.createToken({ target: fs.readFileSync(media('fr_two_people.jpg')), operations: [] }),
      ];
      const baseFrames = new Set(bases.flatMap((b) => [b.target.frame, b.source?.frame].filter(Boolean)));
      const others = [...baseFrames];
      for (let i = 0; i < CASES; i++) {
        const base = bases[i % bases.length];
        const value = mutate(base, others, m, rand);
        let token;
        try {
          token = runtime.acceptToken(value);
        } catch (error) {
          assertCoded(error, `case ${i} (seed ${SEED}) acceptToken`);
          counts.refused++;
          codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
          continue;
        }
        counts.accepted++;
        const stage = m.pick(STAGES);
        const out = await runtime.process(stage, token, { force: true, offMainThread: rand() < 0.1 });
        assert.ok(out && typeof out.state === 'string', `case ${i}: ${stage} gave no token`);
        if (out.state === 'failed' && token.state === 'failed')
          counts.failed++; // arrived failed: skipped
        else if (out.state === 'failed') {
          assertCoded(out.error, `case ${i} (seed ${SEED}) ${stage}`);
          counts.failed++;
          codes.set(out.error.code, (codes.get(out.error.code) ?? 0) + 1);
        } else counts.ok++;
        // What the stage stored for this message is freed with it; the bases stay.
        runtime.store.releaseMany([out.target.frame, out.source?.frame].filter((r) => r && !baseFrames.has(r)));
        assert.strictEqual(runtime.store.stats().frames, baseFrames.size, `case ${i} (seed ${SEED}) ${stage} left a frame`);
      }
      for (const b of bases) runtime.release(b);
      const s = runtime.store.stats();
      assert.strictEqual(s.frames, 0);
      assert.strictEqual(s.reservedBytes, 0, 'no reservation left open');
      assert.ok(s.peakBytes <= budget, `peak ${s.peakBytes} > ${budget}`);
      assert.ok(counts.accepted > CASES / 3 && counts.ok > CASES / 10, `the fuzz reached the stages: ${JSON.stringify(counts)} ${JSON.stringify(Object.fromEntries(codes))}`);
      this.test.title += ` — ${JSON.stringify(counts)}, codes ${JSON.stringify(Object.fromEntries(codes))} in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    } finally {
      await runtime.close();
    }
  });

  describe('through the nodes', function () {
    const CFG = { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'auto', threads: 0, modelsDir: '', frameBudgetMB: 64, tokenTtl: 300, storeWait: 0.2 };
    const TAB = { id: 'tab', type: 'tab', label: 'fuzz' };
    const TYPES = ['face-detect', 'face-landmark', 'face-embed', 'face-swap', 'face-enhance', 'face-blur', 'face-debug', 'face-image', 'face-match', 'face-token'];

    before(function (done) {
      helper.startServer(done);
    });
    after(function (done) {
      helper.stopServer(done);
    });
    afterEach(async function () {
      await helper.unload();
    });

    it(`${NODE_CASES} mutated tokens into each of ${TYPES.length} node types: every message ends in an output or a coded Catch error; nothing left behind`, async function () {
      const flow = [
        TAB,
        CFG,
        ...TYPES.map((type, i) => ({ id: `n${i}`, z: 'tab', type, config: 'cfg', onNoFace: 'pass', queueSize: 10000, operations: [], format: 'jpeg', release: true, wires: [['out']] })),
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ];
      await helper.load(allNodes, flow);
      const config = helper.getNode('cfg');
      await config.ready;
      const runtime = config.runtime;
      const outputs = [];
      const caught = [];
      helper.getNode('out').on('input', (msg) => outputs.push(msg));
      helper.getNode('caught').on('input', (msg) => caught.push(msg));
      const rand = prng(SEED + 1);
      const m = mutator(rand);
      const small = await sharp(media('fr_biden.jpg')).resize(120).jpeg().toBuffer();
      const base = await runtime.run(await runtime.createToken({ target: small, source: small, operations: ['detect', 'landmark', 'embed'] }));
      const others = [base.target.frame, base.source.frame];
      let sent = 0;
      for (let i = 0; i < NODE_CASES; i++) {
        TYPES.forEach((_, k) => {
          const msg = { payload: mutate(base, others, m, rand) };
          if (TYPES[k] === 'face-match') msg.reference = rand() < 0.5 ? [1] : (base.faces[0]?.embedding ?? [1]);
          helper.getNode(`n${k}`).receive(msg);
          sent++;
        });
      }
      const end = Date.now() + 120000;
      while (outputs.length + caught.length < sent && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.strictEqual(outputs.length + caught.length, sent, `${outputs.length} out + ${caught.length} caught of ${sent}`);
      for (const msg of caught) assertCoded(msg.error, `node ${msg.error.source && msg.error.source.type} (seed ${SEED + 1})`);
      // Free what went out (the tokens' derived frames; face-image with release freed its own).
      for (const msg of outputs) if (msg.payload && msg.payload.request_id && msg.payload.request_id !== base.request_id) runtime.release(msg.payload);
      for (const msg of outputs) if (msg.payload && msg.payload.request_id === base.request_id) runtime.store.releaseMany([msg.payload.target.frame].filter((r) => !others.includes(r)));
      runtime.release(base);
      const s = runtime.stats().store;
      assert.strictEqual(s.frames, 0, 'no frame left behind');
      assert.ok(s.peakBytes <= s.budgetBytes);
    });
  });
});
