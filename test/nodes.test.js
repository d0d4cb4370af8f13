'use strict';
// The Node-RED nodes on real models and real pictures.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const { helper, allNodes, ourNodes, MEDIA, nextMessage, silence, sink } = require('./helpers/red');
const { cosineSimilarity, decodeImage } = require('../dist/runtime/internal');

const media = (f) => path.join(MEDIA, f);
const CFG = { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'auto', threads: 0, modelsDir: '', frameBudgetMB: 256, tokenTtl: 300 };
const TAB = { id: 'tab', type: 'tab', label: 'test' };
const stage = (id, type, wires, extra = {}) => ({ id, z: 'tab', type, config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [wires], ...extra });

async function runtimeOf(configId = 'cfg') {
  const config = helper.getNode(configId);
  await config.ready;
  return config.runtime;
}

async function embeddingOf(runtime, target) {
  const t = await runtime.run(await runtime.createToken({ target, operations: ['detect', 'landmark', 'embed'] }));
  runtime.release(t);
  assert.notStrictEqual(t.state, 'failed', JSON.stringify(t.error));
  return t.faces[0].embedding;
}

describe('Node-RED nodes', function () {
  this.timeout(120000);

  before(function (done) {
    helper.startServer(done);
  });
  after(function (done) {
    helper.stopServer(done);
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('every node type loads with its defaults', async function () {
    const flow = [
      TAB,
      CFG,
      ...['face-token', 'face-detect', 'face-landmark', 'face-embed', 'face-swap', 'face-enhance', 'face-blur', 'face-debug', 'face-image', 'face-match'].map((t, i) => stage(`n${i}`, t, [])),
    ];
    await helper.load(ourNodes, flow);
    for (let i = 0; i < 10; i++) assert.ok(helper.getNode(`n${i}`), `node n${i}`);
  });

  it('the admin endpoint lists the models for the config dialog', async function () {
    await helper.load(ourNodes, [TAB, CFG]);
    const res = await helper.request().get('/facefusion/models').query({ config: 'cfg' }).expect(200);
    const detector = res.body.models.find((m) => m.id === 'fr_detect');
    assert.ok(detector && detector.present && detector.license === 'MIT', JSON.stringify(res.body));
  });

  it('shares one config node: two detect nodes use one detector session', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect'], wires: [['d1', 'd2']] },
      stage('d1', 'face-detect', ['s1']),
      stage('d2', 'face-detect', ['s2']),
      sink('s1'),
      sink('s2'),
    ];
    await helper.load(allNodes, flow);
    const runtime = await runtimeOf();
    const got = Promise.all([nextMessage(helper.getNode('s1')), nextMessage(helper.getNode('s2'))]);
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_two_people.jpg')) });
    const [a, b] = await got;
    assert.strictEqual(a.payload.faces.length, 2);
    assert.strictEqual(b.payload.faces.length, 2);
    const detectors = runtime.stats().sessions.entries.filter((e) => /fr_detect/.test(e.label));
    assert.strictEqual(detectors.length, 1, 'one detector session for both nodes');
    assert.strictEqual(runtime.stats().sessions.sessions, 3, 'detector, landmarker, embedder: one each');
  });

  it('a full swap flow produces a JPEG whose face is closer to the source identity', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', source: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'embed', 'swap'], blendRatio: '1', wires: [['det']] },
      stage('det', 'face-detect', ['lm']),
      stage('lm', 'face-landmark', ['emb']),
      stage('emb', 'face-embed', ['sw']),
      stage('sw', 'face-swap', ['img']),
      { id: 'img', z: 'tab', type: 'face-image', config: 'cfg', format: 'jpeg', quality: 92, release: true, wires: [['out']] },
      sink('out'),
    ];
    await helper.load(allNodes, flow);
    const runtime = await runtimeOf();
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_biden.jpg')) });
    const msg = await out;
    assert.ok(Buffer.isBuffer(msg.payload));
    assert.deepStrictEqual([...msg.payload.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
    assert.strictEqual(msg.token.state, 'done');
    assert.deepStrictEqual(
      msg.token.journal.map((j) => j.stage),
      ['detect', 'landmark', 'embed', 'swap'],
    );
    const source = msg.token.source.embedding;
    const before = cosineSimilarity(msg.token.faces[0].embedding, source);
    const after = cosineSimilarity(await embeddingOf(runtime, msg.payload), source);
    console.log(`      identity similarity to the source: before ${before.toFixed(3)}, after ${after.toFixed(3)}`);
    assert.ok(after > before + 0.1);
    assert.strictEqual(runtime.stats().store.frames, 0, 'face-image released the frames');
  });

  it('a blur flow changes only the face regions', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect', 'blur'], wires: [['det']] },
      stage('det', 'face-detect', ['blur']),
      stage('blur', 'face-blur', ['img'], { mode: 'pixelate', strength: '0.8', margin: '0.1' }),
      { id: 'img', z: 'tab', type: 'face-image', config: 'cfg', format: 'png', release: true, wires: [['out']] },
      sink('out'),
    ];
    await helper.load(allNodes, flow);
    const out = nextMessage(helper.getNode('out'));
    const input = fs.readFileSync(media('fr_two_people.jpg'));
    helper.getNode('tok').receive({ payload: input });
    const msg = await out;
    const [a, b] = [await decodeImage(input), await decodeImage(msg.payload)];
    const boxes = msg.token.faces.map((f) => {
      const w = f.bbox[2] - f.bbox[0],
        h = f.bbox[3] - f.bbox[1];
      return [f.bbox[0] - 0.1 * w - 1, f.bbox[1] - 0.1 * h - 1, f.bbox[2] + 0.1 * w + 1, f.bbox[3] + 0.1 * h + 1];
    });
    assert.strictEqual(boxes.length, 2);
    let outside = 0;
    const inside = [0, 0];
    for (let y = 0; y < a.height; y++)
      for (let x = 0; x < a.width; x++) {
        const i = (y * a.width + x) * 3;
        if (a.data[i] === b.data[i] && a.data[i + 1] === b.data[i + 1] && a.data[i + 2] === b.data[i + 2]) continue;
        const k = boxes.findIndex((r) => x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3]);
        if (k < 0) outside++;
        else inside[k]++;
      }
    assert.strictEqual(outside, 0, 'pixels outside the faces changed');
    assert.ok(
      inside.every((n) => n > 1000),
      `faces changed: ${inside}`,
    );
  });

  describe('a picture without a face follows onNoFace', function () {
    let blank;
    before(async function () {
      blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#5a7' } })
        .jpeg()
        .toBuffer();
    });
    const flowWith = (policy) => [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect', 'landmark'], wires: [['det']] },
      stage('det', 'face-detect', ['out'], { onNoFace: policy }),
      sink('out'),
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
    ];

    it('pass: the token goes on with state skipped', async function () {
      await helper.load(allNodes, flowWith('pass'));
      const out = nextMessage(helper.getNode('out'));
      helper.getNode('tok').receive({ payload: blank });
      const msg = await out;
      assert.strictEqual(msg.payload.state, 'skipped');
      assert.strictEqual(msg.payload.faces.length, 0);
    });

    it('drop: nothing comes out and nothing is caught', async function () {
      await helper.load(allNodes, flowWith('drop'));
      const quietOut = silence(helper.getNode('out'), 2500);
      const quietCatch = silence(helper.getNode('caught'), 2500);
      helper.getNode('tok').receive({ payload: blank });
      assert.ok(await quietOut, 'a message came out');
      assert.ok(await quietCatch, 'an error was raised');
    });

    it('error: the Catch node gets E_NO_FACE', async function () {
      await helper.load(allNodes, flowWith('error'));
      const caught = nextMessage(helper.getNode('caught'));
      helper.getNode('tok').receive({ payload: blank });
      const msg = await caught;
      assert.strictEqual(msg.error.code, 'E_NO_FACE');
      assert.strictEqual(msg.error.source.id, 'det');
    });
  });

  it('an invalid token goes to the Catch node with E_TOKEN_INVALID and a red status', async function () {
    const flow = [TAB, CFG, stage('det', 'face-detect', ['out']), sink('out'), { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, sink('caught')];
    await helper.load(allNodes, flow);
    await runtimeOf();
    const caught = nextMessage(helper.getNode('caught'));
    const statuses = [];
    helper.getNode('det').on('call:status', (call) => statuses.push(call.args[0]));
    helper.getNode('det').receive({ payload: { v: 1, request_id: 'nope', target: { frame: 'not a ref' } } });
    const msg = await caught;
    assert.strictEqual(msg.error.code, 'E_TOKEN_INVALID');
    assert.match(msg.error.message, /request_id|target\/frame/);
    assert.ok(statuses.some((s) => s.fill === 'red' && /E_TOKEN_INVALID/.test(s.text)));
  });

  it('a missing source picture goes to Catch with E_NO_SOURCE', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect', 'landmark', 'swap'], wires: [['det']] },
      stage('det', 'face-detect', ['lm']),
      stage('lm', 'face-landmark', ['sw']),
      stage('sw', 'face-swap', ['out']),
      sink('out'),
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
    ];
    await helper.load(allNodes, flow);
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('astronaut.png')) });
    assert.strictEqual((await caught).error.code, 'E_NO_SOURCE');
  });

  it('face-match tells who is who against a reference picture', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect', 'landmark', 'embed'], wires: [['det']] },
      stage('det', 'face-detect', ['lm']),
      stage('lm', 'face-landmark', ['emb']),
      stage('emb', 'face-embed', ['m']),
      { id: 'm', z: 'tab', type: 'face-match', config: 'cfg', reference: media('fr_obama.jpg'), threshold: 0.5, wires: [['out']] },
      sink('out'),
    ];
    await helper.load(allNodes, flow);
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_two_people.jpg')) });
    const msg = await out;
    assert.strictEqual(msg.match.length, 2);
    assert.strictEqual(msg.match.filter((m) => m.matched).length, 1, JSON.stringify(msg.match));
    assert.strictEqual(msg.matched, true);
  });

  it('face-match refuses embeddings of two different recognizers (E_BAD_PARAMETER naming both) and compares when one side names none', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'm', z: 'tab', type: 'face-match', config: 'cfg', reference: media('fr_obama.jpg'), threshold: 0.5, wires: [['out']] },
      sink('out'),
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
    ];
    await helper.load(allNodes, flow);
    const runtime = await runtimeOf();
    const token = await runtime.run(await runtime.createToken({ target: media('fr_two_people.jpg'), operations: ['detect', 'landmark', 'embed'] }));
    const obama = await embeddingOf(runtime, media('fr_obama.jpg'));
    try {
      assert.strictEqual(token.faces.length, 2);
      const model = token.faces[0].embedding_model;
      assert.ok(model, 'face-embed records the recognizer');
      const m = helper.getNode('m');
      const statuses = [];
      m.on('call:status', (call) => statuses.push(call.args[0]));
      const relabelled = { ...token, faces: token.faces.map((f) => ({ ...f, embedding_model: 'arcface_simswap' })) };
      const unlabelled = { ...token, faces: token.faces.map(({ embedding_model: _dropped, ...f }) => f) };
      const refused = async (msg, why) => {
        const caught = nextMessage(helper.getNode('caught'));
        const quiet = silence(helper.getNode('out'), 300);
        m.receive(msg);
        const { error } = await caught;
        assert.strictEqual(error.code, 'E_BAD_PARAMETER', why);
        assert.ok(error.message.includes('arcface_simswap') && error.message.includes(model), `${why}: ${error.message}`);
        assert.match(error.message, /different recognizers/);
        assert.ok(await quiet, `${why}: no match was sent`);
      };
      const matches = async (msg, why) => {
        const out = nextMessage(helper.getNode('out'));
        m.receive(msg);
        const got = await out;
        assert.strictEqual(got.match.length, 2, why);
        assert.strictEqual(got.match.filter((x) => x.matched).length, 1, `${why}: ${JSON.stringify(got.match)}`);
        return got.match;
      };
      // Faces of another recognizer against the reference picture (made by the default one).
      await refused({ payload: relabelled }, 'faces relabelled');
      assert.ok(
        statuses.some((st) => st.fill === 'red' && /E_BAD_PARAMETER/.test(st.text)),
        'red status',
      );
      // msg.reference naming another recognizer than the faces'.
      await refused({ payload: token, reference: { embedding: obama, embedding_model: 'arcface_simswap' } }, 'reference relabelled');
      // Same model on both sides, or one side silent (older tokens, a bare array): compared as before.
      const base = await matches({ payload: token }, 'same model (picture)');
      assert.deepStrictEqual(await matches({ payload: token, reference: { embedding: obama, embedding_model: model } }, 'same model (msg.reference object)'), base);
      assert.deepStrictEqual(await matches({ payload: unlabelled }, 'faces without embedding_model'), base);
      assert.deepStrictEqual(await matches({ payload: relabelled, reference: obama }, 'bare array reference'), base);
    } finally {
      runtime.release(token);
    }
  });

  it('enhance and debug nodes produce a new picture', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect', 'landmark', 'enhance', 'debug'], wires: [['det']] },
      stage('det', 'face-detect', ['lm']),
      stage('lm', 'face-landmark', ['enh']),
      stage('enh', 'face-enhance', ['dbg']),
      stage('dbg', 'face-debug', ['out']),
      sink('out'),
    ];
    await helper.load(allNodes, flow);
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('astronaut.png')) });
    const token = (await out).payload;
    assert.deepStrictEqual(
      token.journal.map((j) => j.outcome),
      ['ok', 'ok', 'ok', 'ok'],
    );
  });

  it('redeploy closes the sessions and frees the frames', async function () {
    const flow = [TAB, CFG, { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect'], wires: [['det']] }, stage('det', 'face-detect', ['out']), sink('out')];
    await helper.load(allNodes, flow);
    const runtime = await runtimeOf();
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('astronaut.png')) });
    await out;
    assert.ok(runtime.stats().store.frames >= 1, 'the token holds a frame');
    assert.strictEqual(runtime.stats().sessions.sessions, 3);
    await helper.unload();
    const stats = runtime.stats();
    assert.strictEqual(stats.sessions.sessions, 0, 'sessions closed');
    assert.strictEqual(stats.store.frames, 0, 'frames freed');
    assert.strictEqual(stats.store.closed, true);
  });

  it('closing the flow while messages are in flight neither crashes nor leaks', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', source: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'embed', 'swap'], wires: [['det']] },
      stage('det', 'face-detect', ['lm']),
      stage('lm', 'face-landmark', ['emb']),
      stage('emb', 'face-embed', ['sw']),
      stage('sw', 'face-swap', ['out']),
      sink('out'),
    ];
    await helper.load(allNodes, flow);
    const runtime = await runtimeOf();
    const unhandled = [];
    const onUnhandled = (e) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const picture = fs.readFileSync(media('fr_two_people.jpg'));
      for (let i = 0; i < 6; i++) helper.getNode('tok').receive({ payload: picture });
      await new Promise((r) => setTimeout(r, 150));
      await helper.unload();
      await new Promise((r) => setTimeout(r, 1500)); // let in-flight work hit the closed runtime
      assert.deepStrictEqual(unhandled, []);
      assert.strictEqual(runtime.stats().store.frames, 0);
      assert.strictEqual(runtime.stats().sessions.sessions, 0);
    } finally {
      process.removeListener('unhandledRejection', onUnhandled);
    }
  });
});

describe('example flows', function () {
  this.timeout(120000);
  let dir;
  before(function (done) {
    helper.startServer(done);
  });
  after(function (done) {
    helper.stopServer(done);
  });
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-examples-'));
  });
  afterEach(async function () {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The example exactly as a user imports it (it runs on the package's samples), its output file moved into `dir`. */
  function example(file, outputs = {}) {
    let text = fs.readFileSync(path.join(__dirname, '..', 'examples', file), 'utf8');
    for (const [from, to] of Object.entries(outputs)) {
      assert.ok(text.includes(JSON.stringify(from)), `${file} writes ${from}`);
      text = text.split(JSON.stringify(from)).join(JSON.stringify(to));
    }
    const flow = JSON.parse(text).map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper' } : n));
    return [TAB, ...flow.map((n) => (n.type === 'facefusion-config' ? n : { ...n, z: 'tab' }))];
  }
  /** The inject named "sample": it starts the example on the shipped sample pictures. */
  const trigger = (flow) => helper.getNode(flow.find((n) => n.type === 'inject' && n.name === 'sample').id).receive({});
  const sinkOf = (flow) => helper.getNode(flow.find((n) => n.type === 'helper').id);

  it('1: swap a face in a picture writes the swapped JPEG, with no edit', async function () {
    const out = path.join(dir, 'swapped.jpg');
    const flow = example('01-swap-face-in-picture.json', { '/tmp/facefusion-swapped.jpg': out });
    await helper.load(allNodes, flow);
    const done = nextMessage(sinkOf(flow), 60000);
    trigger(flow);
    const msg = await done;
    assert.strictEqual(msg.token.state, 'done', JSON.stringify(msg.token.error));
    assert.ok(
      msg.token.journal.some((j) => j.stage === 'swap' && j.outcome === 'ok'),
      JSON.stringify(msg.token.journal),
    );
    const meta = await sharp(out).metadata();
    assert.strictEqual(meta.format, 'jpeg');
  });

  it('2: blur faces writes the blurred picture, with no edit', async function () {
    const out = path.join(dir, 'blurred.jpg');
    const flow = example('02-blur-faces-privacy.json', { '/tmp/facefusion-blurred.jpg': out });
    await helper.load(allNodes, flow);
    const done = nextMessage(sinkOf(flow), 60000);
    trigger(flow);
    const msg = await done;
    assert.strictEqual(msg.token.faces.length, 2);
    assert.ok(fs.statSync(out).size > 10000);
  });

  it('3: who is this reports one matching face, with no edit', async function () {
    const flow = example('03-who-is-this.json');
    await helper.load(allNodes, flow);
    const done = nextMessage(sinkOf(flow), 60000);
    trigger(flow);
    const msg = await done;
    assert.strictEqual(msg.match.filter((m) => m.matched).length, 1, JSON.stringify(msg.match));
  });

  it('4: debug overlay writes a PNG, with no edit', async function () {
    const out = path.join(dir, 'overlay.png');
    const flow = example('04-debug-overlay.json', { '/tmp/facefusion-overlay.png': out });
    await helper.load(allNodes, flow);
    const done = nextMessage(sinkOf(flow), 60000);
    trigger(flow);
    await done;
    assert.strictEqual((await sharp(out).metadata()).format, 'png');
  });
});
