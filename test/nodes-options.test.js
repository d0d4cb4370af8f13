'use strict';
// Node options and edges of the Node-RED nodes: runtime status on the nodes, missing
// config, the bounded queue and "drop when busy", face-token inputs and parameter precedence,
// face-image options, face-match with msg.reference, the model fetch endpoint.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { helper, allNodes, ourNodes, MEDIA, nextMessage, silence, sink } = require('./helpers/red');

const media = (f) => path.join(MEDIA, f);
const CFG = { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'auto', threads: 0, modelsDir: '', frameBudgetMB: 256, tokenTtl: 300 };
const TAB = { id: 'tab', type: 'tab', label: 'test' };
const CATCH = [
  { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];
const stage = (id, type, wires, extra = {}) => ({ id, z: 'tab', type, config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [wires], ...extra });

/** Every status a node showed so far (the test helper spies on Node.prototype.status). */
function statusesOf(id) {
  return helper._NodePrototype.status
    .getCalls()
    .filter((c) => c.thisValue && c.thisValue.id === id)
    .map((c) => c.args[0]);
}

/** Counts the messages a node receives until `ms` of silence after the last one. */
function collect(node, quietMs) {
  return new Promise((resolve) => {
    const got = [];
    let timer = setTimeout(finish, quietMs);
    function onInput(msg) {
      got.push(msg);
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    }
    function finish() {
      node.removeListener('input', onInput);
      resolve(got);
    }
    node.on('input', onInput);
  });
}

describe('Node-RED node options', function () {
  this.timeout(60000);

  before(function (done) {
    helper.startServer(done);
  });
  after(function (done) {
    helper.stopServer(done);
  });
  afterEach(async function () {
    await helper.unload();
  });

  async function runtimeOf() {
    const config = helper.getNode('cfg');
    await config.ready;
    return config.runtime;
  }

  it('users show "loading models…" then the provider they really got', async function () {
    await helper.load(ourNodes, [TAB, CFG, stage('det', 'face-detect', [])]);
    const runtime = await runtimeOf();
    const texts = statusesOf('det').map((s) => `${s.fill}/${s.shape}/${s.text}`);
    assert.strictEqual(texts[0], 'yellow/ring/loading models…');
    assert.strictEqual(texts[texts.length - 1], `green/dot/ready · ${runtime.provider()}`);
    assert.match(runtime.provider(), /^(cpu|cuda)$/);
  });

  it('a node without a config node shows red and raises an error for Catch', async function () {
    await helper.load(allNodes, [TAB, { id: 'det', z: 'tab', type: 'face-detect', config: '', wires: [['out']] }, sink('out'), ...CATCH]);
    assert.ok(statusesOf('det').some((s) => s.fill === 'red' && /facefusion-config/.test(s.text)));
    const caught = nextMessage(helper.getNode('caught'), 5000);
    helper.getNode('det').receive({ payload: {} });
    const msg = await caught;
    assert.match(msg.error.message, /facefusion-config/);
  });

  async function tokens(runtime, n) {
    const picture = fs.readFileSync(media('fr_two_people.jpg'));
    const out = [];
    for (let i = 0; i < n; i++) out.push(await runtime.createToken({ target: picture, operations: ['detect'] }));
    return out;
  }

  it('one message in flight, a bounded queue (blue status), the rest dropped', async function () {
    await helper.load(allNodes, [TAB, CFG, stage('det', 'face-detect', ['out'], { queueSize: 1 }), sink('out'), ...CATCH]);
    const runtime = await runtimeOf();
    const batch = await tokens(runtime, 5);
    const outs = collect(helper.getNode('out'), 1500);
    const quiet = silence(helper.getNode('caught'), 1500);
    for (const t of batch) helper.getNode('det').receive({ payload: t });
    const got = await outs;
    assert.strictEqual(got.length, 2, 'the one in flight and the one queued');
    assert.ok(await quiet, 'dropping is not an error');
    const statuses = statusesOf('det');
    assert.ok(
      statuses.some((s) => s.fill === 'blue' && s.text === 'queue 1'),
      JSON.stringify(statuses),
    );
    assert.ok(statuses.some((s) => /busy: dropped/.test(s.text)));
  });

  it('"drop when busy" keeps no backlog at all', async function () {
    await helper.load(allNodes, [TAB, CFG, stage('det', 'face-detect', ['out'], { queueSize: 10, dropWhenBusy: true }), sink('out')]);
    const runtime = await runtimeOf();
    const batch = await tokens(runtime, 4);
    const outs = collect(helper.getNode('out'), 1500);
    for (const t of batch) helper.getNode('det').receive({ payload: t });
    assert.strictEqual((await outs).length, 1);
    assert.ok(!statusesOf('det').some((s) => s.fill === 'blue'));
  });

  it('a dropped message frees its picture at once, unless "Dropped" is unticked', async function () {
    for (const releaseDropped of [true, false]) {
      await helper.load(allNodes, [TAB, CFG, stage('det', 'face-detect', ['out'], { dropWhenBusy: true, releaseDropped }), sink('out')]);
      const runtime = await runtimeOf();
      const batch = await tokens(runtime, 4);
      const outs = collect(helper.getNode('out'), 1500);
      for (const t of batch) helper.getNode('det').receive({ payload: t });
      const got = await outs;
      assert.strictEqual(got.length, 1);
      const expected = releaseDropped ? 1 : 4;
      assert.strictEqual(runtime.stats().store.frames, expected, `releaseDropped=${releaseDropped}`);
      assert.ok(runtime.store.has(got[0].payload.target.frame), 'the message that went on keeps its picture');
      await helper.unload();
    }
  });

  it('onNoFace drop frees the picture too', async function () {
    await helper.load(allNodes, [TAB, CFG, stage('det', 'face-detect', ['out'], { onNoFace: 'drop' }), sink('out')]);
    const runtime = await runtimeOf();
    const blank = await require('sharp')({ create: { width: 320, height: 240, channels: 3, background: '#5a7' } })
      .png()
      .toBuffer();
    const token = await runtime.createToken({ target: blank, operations: ['detect'] });
    const quiet = silence(helper.getNode('out'), 1500);
    helper.getNode('det').receive({ payload: token });
    assert.ok(await quiet);
    assert.strictEqual(runtime.stats().store.frames, 0);
  });

  it('face-token: msg.parameters and msg.source win over the dialog; a token passes through', async function () {
    const flow = [TAB, CFG, { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect', 'landmark', 'embed', 'swap'], maxFaces: '5', wires: [['out']] }, sink('out'), ...CATCH];
    await helper.load(allNodes, flow);
    await runtimeOf();
    let got = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_biden.jpg')), source: fs.readFileSync(media('fr_obama.jpg')), parameters: { max_faces: 1 } });
    const first = (await got).payload;
    assert.strictEqual(first.parameters.max_faces, 1, 'msg.parameters overrides the dialog');
    assert.ok(first.source && first.source.frame, 'msg.source became the source frame');
    assert.deepStrictEqual(first.operations, ['detect', 'landmark', 'embed', 'swap']);

    got = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: first, parameters: { blend_ratio: 0.3 } });
    const second = (await got).payload;
    assert.strictEqual(second.request_id, first.request_id, 'the same token passed on');
    assert.strictEqual(second.parameters.blend_ratio, 0.3);

    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('tok').receive({ payload: 'not a picture' });
    assert.strictEqual((await caught).error.code, 'E_BAD_IMAGE');
  });

  it('stage options override the token only when set in the dialog', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect'], maxFaces: '1', wires: [['a', 'b']] },
      stage('a', 'face-detect', ['outA']),
      stage('b', 'face-detect', ['outB'], { maxFaces: '2' }),
      sink('outA'),
      sink('outB'),
    ];
    await helper.load(allNodes, flow);
    await runtimeOf();
    const got = Promise.all([nextMessage(helper.getNode('outA')), nextMessage(helper.getNode('outB'))]);
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_two_people.jpg')) });
    const [a, b] = await got;
    assert.strictEqual(a.payload.faces.length, 1, 'blank option: the token says max 1 face');
    assert.strictEqual(b.payload.faces.length, 2, 'option set: the node says max 2 faces');
  });

  it('face-image: PNG output, and release=false keeps the frames for later nodes', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect'], wires: [['img']] },
      { id: 'img', z: 'tab', type: 'face-image', config: 'cfg', format: 'png', quality: '80', release: false, wires: [['out']] },
      sink('out'),
    ];
    await helper.load(allNodes, flow);
    const runtime = await runtimeOf();
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('astronaut.png')) });
    const msg = await got;
    assert.deepStrictEqual([...msg.payload.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    assert.strictEqual(msg.contentType, 'image/png');
    assert.ok(runtime.store.has(msg.token.target.frame), 'frame kept');
    runtime.release(msg.token);
    assert.strictEqual(runtime.stats().store.frames, 0);
  });

  it('face-match takes msg.reference as an embedding and needs embeddings on the faces', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect', 'landmark', 'embed'], wires: [['det']] },
      stage('det', 'face-detect', ['lm', 'm']),
      stage('lm', 'face-landmark', ['emb']),
      stage('emb', 'face-embed', ['m']),
      { id: 'm', z: 'tab', type: 'face-match', config: 'cfg', reference: '', threshold: '0.5', wires: [['out']] },
      sink('out'),
      ...CATCH,
    ];
    await helper.load(allNodes, flow);
    const runtime = await runtimeOf();
    const ref = await runtime.run(await runtime.createToken({ target: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'embed'] }));
    runtime.release(ref);
    // The detect → match wire carries faces without embeddings: an error for Catch.
    const caught = nextMessage(helper.getNode('caught'));
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_two_people.jpg')), reference: ref.faces[0].embedding });
    assert.match((await caught).error.message, /face-embed/);
    const msg = await out;
    assert.strictEqual(msg.match.length, 2);
    assert.strictEqual(msg.match.filter((m) => m.matched).length, 1, JSON.stringify(msg.match));
    assert.ok(msg.match.every((m) => m.similarity >= -1 && m.similarity <= 1));
  });

  it('a stage node closed while its message is in flight frees the frame it made and stays quiet', async function () {
    await helper.load(allNodes, [TAB, CFG, stage('blur', 'face-blur', ['out']), sink('out'), ...CATCH]);
    const runtime = await runtimeOf();
    const input = await runtime.process('detect', await runtime.createToken({ target: media('fr_two_people.jpg'), operations: ['detect', 'blur'] }));
    assert.strictEqual(runtime.stats().store.frames, 1);
    const quietOut = silence(helper.getNode('out'), 2500);
    const quietCatch = silence(helper.getNode('caught'), 2500);
    helper.getNode('blur').receive({ payload: input });
    await helper.getNode('blur').close(false); // only this node stops; the config node (and its store) live on
    assert.ok(await quietOut, 'an abandoned message came out');
    assert.ok(await quietCatch, 'an abandoned message raised an error');
    assert.strictEqual(runtime.stats().store.frames, 1, 'only the input frame is left: the blurred frame was freed');
    assert.ok(runtime.store.has(input.target.frame));
  });

  it('POST /facefusion/models/fetch reports the default models present', async function () {
    await helper.load(ourNodes, [TAB, CFG]);
    const res = await helper.request().post('/facefusion/models/fetch').send({}).expect(200);
    assert.strictEqual(res.body.ok, true);
    const defaults = res.body.models.filter((m) => m.default);
    assert.ok(defaults.length >= 3 && defaults.every((m) => m.present), JSON.stringify(res.body.models));
  });
});
