'use strict';
// What the dialogs say is what runs, at the runtime level: nodes saved without their
// newer fields run with the table's defaults, the wires (not a hidden list) decide which stages
// run, and face match says which face matched and whether it has a reference at deploy.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { helper, allNodes, nextMessage, MEDIA, sink } = require('./helpers/red');
const { nodeDefaults, withDefaults, defaultsTable } = require('../dist/nodes/lib/node-defaults');
const { until } = require('./helpers/wait');

const TAB = { id: 'tab', type: 'tab', label: 'test' };
const CFG = { id: 'cfg', type: 'facefusion-config' }; // nothing but its type: every field from the table
const media = (f) => path.join(MEDIA, f);

function statusesOf(node) {
  const seen = [];
  node.on('call:status', (call) => seen.push(call.args[0]));
  return seen;
}

describe('the dialogs tell the truth (runtime side)', function () {
  this.timeout(60000);

  afterEach(async function () {
    await helper.unload();
  });

  it("the runtime fills a saved node's missing fields from the one table, and only those", function () {
    const table = defaultsTable();
    const types = Object.keys(require('../package.json')['node-red'].nodes);
    assert.deepStrictEqual(Object.keys(table).sort(), [...types].sort(), 'one entry per node type');
    assert.strictEqual(table, require('../resources/node-defaults.js'), 'the runtime reads the file the editor loads');
    const filled = withDefaults('face-blur', { id: 'b', type: 'face-blur', queueSize: 3, releaseDropped: false });
    assert.strictEqual(filled.releaseDropped, false, 'a saved value wins');
    assert.strictEqual(filled.queueSize, 3);
    assert.strictEqual(filled.onNoFace, nodeDefaults('face-blur').onNoFace);
    assert.strictEqual(withDefaults('face-blur', { id: 'b' }).releaseDropped, true, 'missing means what the dialog shows: ticked');
    assert.throws(() => nodeDefaults('face-nothing'), /no entry for face-nothing/);
  });

  it('a flow saved with only ids and wires runs with the defaults (config node included)', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', wires: [['det']] },
      { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['img']] },
      { id: 'img', z: 'tab', type: 'face-image', config: 'cfg', wires: [['out']] },
      sink('out'),
    ];
    await helper.load(allNodes, flow);
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_obama.jpg')) });
    const msg = await out;
    assert.strictEqual(msg.contentType, `image/${nodeDefaults('face-image').format}`);
    assert.deepStrictEqual([...msg.payload.subarray(0, 2)], [0xff, 0xd8]);
    assert.strictEqual(msg.token.faces.length, 1);
  });

  it("the wires decide: a saved Operations list is ignored, and a wired stage joins the token's operations", async function () {
    const flow = [
      TAB,
      CFG,
      // Saved by the old dialog with only "detect" ticked.
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect'], wires: [['det']] },
      { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['blur']] },
      { id: 'blur', z: 'tab', type: 'face-blur', config: 'cfg', wires: [['out']] },
      sink('out'),
    ];
    await helper.load(allNodes, flow);
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_obama.jpg')) });
    const token = (await out).payload;
    assert.deepStrictEqual(
      token.journal.map((j) => [j.stage, j.outcome]),
      [
        ['detect', 'ok'],
        ['blur', 'ok'],
      ],
    );
    assert.ok(token.operations.includes('blur') && token.operations.includes('landmark'), `default list + the wired blur: ${token.operations}`);
    assert.strictEqual(token.state, 'done', 'done after the last stage that ran');
  });

  it('face match: msg.match names each face (index and bbox) and the status names the best', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', wires: [['det']] },
      { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['lm']] },
      { id: 'lm', z: 'tab', type: 'face-landmark', config: 'cfg', wires: [['emb']] },
      { id: 'emb', z: 'tab', type: 'face-embed', config: 'cfg', wires: [['m']] },
      { id: 'm', z: 'tab', type: 'face-match', config: 'cfg', reference: media('fr_obama.jpg'), wires: [['out']] },
      sink('out'),
    ];
    await helper.load(allNodes, flow);
    const statuses = statusesOf(helper.getNode('m'));
    await until(() => statuses.some((s) => s.text === 'reference ready'), 'the reference analysed at deploy');
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_two_people.jpg')) });
    const msg = await out;
    assert.strictEqual(msg.match.length, 2);
    msg.match.forEach((m, i) => {
      assert.strictEqual(m.index, i);
      assert.deepStrictEqual(m.bbox, msg.payload.faces[i].bbox);
    });
    const best = msg.match.reduce((a, b) => (b.similarity > a.similarity ? b : a));
    assert.ok(best.matched);
    assert.strictEqual(statuses[statuses.length - 1].text, `match · best ${best.similarity.toFixed(2)} (face ${best.index})`);
  });

  it('face match says at deploy that it has no reference, and shows a bad reference picture in red before any message', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'none', z: 'tab', type: 'face-match', config: 'cfg', wires: [[]] },
      { id: 'bad', z: 'tab', type: 'face-match', config: 'cfg', reference: media('no-such-picture.jpg'), wires: [[]] },
    ];
    await helper.load(allNodes, flow);
    const none = helper.getNode('none');
    const bad = helper.getNode('bad');
    // node.status is a spy from the moment the node is created: read every status Node-RED showed.
    const shown = (node) => node.status.args.map((a) => a[0]);
    const warned = [];
    bad.on('call:warn', (call) => warned.push(String(call.args[0])));
    await until(() => shown(bad).some((s) => s.fill === 'red'), 'the red status of the bad reference');
    assert.match(shown(bad).find((s) => s.fill === 'red').text, /^E_/);
    await until(() => warned.some((w) => w.includes('no-such-picture.jpg')), 'a warning naming the picture');
    assert.ok(
      shown(none).some((s) => /no reference/.test(s.text)),
      `status of a node without reference: ${JSON.stringify(shown(none))}`,
    );
  });
});
