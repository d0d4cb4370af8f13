'use strict';
// Statuses in the core nodes' style: at most 30 characters, plurals right, the code of
// an error (its message in the debug sidebar / Catch node), and a video stream whose frames all
// fail further down shows red on face video in instead of a green count of frames sent.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { helper, allNodes, nextMessage, MEDIA } = require('./helpers/red');
const { statusText, plural, errorStatus, progressText, STATUS_MAX } = require('../dist/nodes/lib/status');
const { StreamHealth } = require('../dist/nodes/lib/stream-failures');

const videoNodes = ['face-video-in', 'face-video-out'].map((t) => require(`../dist/nodes/${t}.js`));
const { until } = require('./helpers/wait');
const SAMPLE_CLIP = path.join(__dirname, '..', 'samples', 'two-people.mp4');
const media = (f) => path.join(MEDIA, f);

/** Every status any node of the loaded flow shows, as [nodeId, status]. */
function recordStatuses(ids) {
  const seen = [];
  for (const id of ids) {
    const node = helper.getNode(id);
    const original = node.status.bind(node);
    node.status = (s) => {
      seen.push([id, s]);
      return original(s);
    };
  }
  return seen;
}

describe('statuses in the core style', function () {
  this.timeout(90000);

  afterEach(async function () {
    await helper.unload();
  });

  it('statusText keeps the important parts within 30 characters; plurals; error codes only', function () {
    assert.strictEqual(STATUS_MAX, 30);
    assert.strictEqual(plural(1, 'frame'), '1 frame');
    assert.strictEqual(plural(0, 'face'), '0 faces');
    assert.strictEqual(plural(2, 'face'), '2 faces');
    assert.strictEqual(statusText(['2 faces', '9 ms', 'cpu']), '2 faces · 9 ms · cpu');
    // A part that does not fit is left out, later ones that fit stay.
    assert.strictEqual(statusText(['1234 frames', '12.5 fps', 'a part far too long to fit', 'ok']), '1234 frames · 12.5 fps · ok');
    assert.strictEqual(statusText([false, undefined, 'done']), 'done');
    const cut = statusText(['E_SOMETHING_THAT_IS_FAR_TOO_LONG_FOR_A_STATUS']);
    assert.ok(cut.length === 30 && cut.endsWith('…'), cut);
    assert.deepStrictEqual(errorStatus({ code: 'E_BAD_IMAGE', message: 'not a readable image (unsupported image format)' }), { fill: 'red', shape: 'dot', text: 'E_BAD_IMAGE' });
    assert.strictEqual(progressText({ percent: 45.2, framesDone: 1234, fps: 12.34, framesDropped: 10 }), '45% · 1234 frames · 12.3 fps');
    assert.strictEqual(progressText({ framesDone: 1, fps: 2 }), '1 frame · 2.0 fps');
  });

  it('StreamHealth: all frames failing is red, some yellow, none green', function () {
    let t = 0;
    const h = new StreamHealth(t, 5000);
    assert.strictEqual(h.state(10, 2, (t += 1000)), 'ok');
    h.failure({ code: 'E_X' });
    assert.strictEqual(h.state(20, 2, t + 1000), 'some-failing', '1 of 18 back failed');
    const stuck = new StreamHealth(0, 5000);
    for (let i = 0; i < 4; i++) stuck.failure({ code: 'E_BAD_PARAMETER' });
    assert.strictEqual(stuck.state(4, 4, 1000), 'failing', 'four sent, none back, four failed');
    assert.strictEqual(stuck.lastCode, 'E_BAD_PARAMETER');
  });

  it('a picture flow shows short statuses on every node, and an error as its code', async function () {
    const flow = [
      { id: 'tab', type: 'tab', label: 'statuses' },
      { id: 'cfg', type: 'facefusion-config', device: 'cpu', frameBudgetMB: 128 },
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', source: 'sample:obama.jpg', wires: [['det']] },
      { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['lmk']] },
      { id: 'lmk', z: 'tab', type: 'face-landmark', config: 'cfg', wires: [['emb']] },
      { id: 'emb', z: 'tab', type: 'face-embed', config: 'cfg', wires: [['swap']] },
      { id: 'swap', z: 'tab', type: 'face-swap', config: 'cfg', wires: [['blur']] },
      { id: 'blur', z: 'tab', type: 'face-blur', config: 'cfg', wires: [['dbg']] },
      { id: 'dbg', z: 'tab', type: 'face-debug', config: 'cfg', wires: [['match']] },
      { id: 'match', z: 'tab', type: 'face-match', config: 'cfg', reference: 'sample:obama.jpg', wires: [['pack']] },
      { id: 'pack', z: 'tab', type: 'face-pack', config: 'cfg', sealed: false, wires: [['unpack']] },
      { id: 'unpack', z: 'tab', type: 'face-unpack', config: 'cfg', allowUnsealed: true, wires: [['img']] },
      { id: 'img', z: 'tab', type: 'face-image', config: 'cfg', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    const ids = ['tok', 'det', 'lmk', 'emb', 'swap', 'blur', 'dbg', 'match', 'pack', 'unpack', 'img'];
    const seen = recordStatuses(ids);
    await helper.getNode('cfg').ready;
    const out = nextMessage(helper.getNode('out'), 60000);
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_two_people.jpg')) });
    await out;
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('tok').receive({ payload: Buffer.from('not a picture') });
    const error = await caught.catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(seen.slice(-5))}`);
    });
    assert.strictEqual(error.error.code, 'E_BAD_IMAGE');
    assert.ok(error.error.message.length > 30, 'the whole message reaches the Catch node');
    for (const id of ids)
      assert.ok(
        seen.some(([n]) => n === id),
        `${id} showed a status`,
      );
    const long = seen.filter(([, s]) => (s.text || '').length > STATUS_MAX);
    assert.deepStrictEqual(long, [], 'no status longer than 30 characters');
    assert.ok(
      seen.some(([id, s]) => id === 'tok' && s.fill === 'red' && s.text === 'E_BAD_IMAGE'),
      JSON.stringify(seen.filter(([id]) => id === 'tok')),
    );
    assert.ok(
      seen.some(([id, s]) => id === 'tok' && /^token \+ source · \d+×\d+$/.test(s.text)),
      'face token names what the token holds, not a stage count',
    );
    assert.ok(
      seen.some(([id, s]) => id === 'det' && s.text.startsWith('2 faces · ')),
      'plural faces',
    );
  });

  it('the Redis example without a URL: a red status at deploy and E_JOB naming the missing URL, not E_INTERNAL', async function () {
    const queueNodes = ['face-job', 'facefusion-queue'].map((t) => require(`../dist/nodes/${t}.js`));
    const flow = [
      { id: 'tab', type: 'tab', label: 'redis without a URL' },
      { id: 'cfg', type: 'facefusion-config', device: 'cpu' },
      { id: 'q', type: 'facefusion-queue', name: 'job queue' },
      { id: 'job', z: 'tab', type: 'face-job', config: 'cfg', queue: 'q', wires: [['result'], ['progress']] },
      { id: 'result', z: 'tab', type: 'helper' },
      { id: 'progress', z: 'tab', type: 'helper' },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    const seen = [];
    await helper.load([...allNodes, ...queueNodes], flow);
    helper.getNode('job').on('call:status', (call) => seen.push(call.args[0]));
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('job').receive({ payload: { target_path: 'files:in.mp4', output_path: 'files:out.mp4', processors: ['face_blur'] } });
    const msg = await caught;
    assert.strictEqual(msg.error.code, 'E_JOB');
    assert.match(msg.error.message, /no Redis URL/);
    assert.deepStrictEqual(seen.at(-1), { fill: 'red', shape: 'dot', text: 'E_JOB' });
  });

  it('face video in: a stream whose frames all fail further down (face pack without a token key) turns red, not a green count', async function () {
    if (!fs.existsSync(SAMPLE_CLIP)) this.skip();
    const flow = [
      { id: 'tab', type: 'tab', label: 'hub without a key' },
      { id: 'cfg', type: 'facefusion-config', device: 'cpu', frameBudgetMB: 128 },
      { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source: 'sample:two-people.mp4', maxInFlight: 4, wires: [['pack'], ['end']] },
      { id: 'pack', z: 'tab', type: 'face-pack', config: 'cfg', sealed: true, wires: [['sent']] },
      { id: 'sent', z: 'tab', type: 'helper' },
      { id: 'end', z: 'tab', type: 'helper' },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    const saved = process.env.FACEFUSION_TOKEN_KEY;
    delete process.env.FACEFUSION_TOKEN_KEY;
    try {
      await helper.load([...allNodes, ...videoNodes], flow);
      const seen = recordStatuses(['in', 'pack']);
      const config = helper.getNode('cfg');
      await config.ready;
      helper.getNode('in').receive({});
      await until(() => seen.some(([id, s]) => id === 'in' && s.fill === 'red'), `a red status on face video in: ${JSON.stringify(seen)}`, 30000);
      const red = seen.find(([id, s]) => id === 'in' && s.fill === 'red')[1];
      assert.match(red.text, /^failing: E_BAD_PARAMETER/);
      assert.deepStrictEqual(seen.filter(([id]) => id === 'pack').at(-1)[1], { fill: 'red', shape: 'dot', text: 'E_BAD_PARAMETER' });
      assert.deepStrictEqual(
        seen.filter(([, s]) => (s.text || '').length > STATUS_MAX),
        [],
      );
      assert.ok(!seen.some(([, s]) => /\b1 frames\b/.test(s.text || '')), 'no "1 frames"');
      helper.getNode('in').receive({ command: 'stop' });
      await until(() => config.streams.size === 0, 'the stream to stop watching its failures', 15000);
    } finally {
      if (saved !== undefined) process.env.FACEFUSION_TOKEN_KEY = saved;
    }
  });
});
