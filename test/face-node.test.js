'use strict';
// The skeleton of the nodes that are not stage nodes (src/nodes/lib/face-node.ts), in a real
// Node-RED (node-red-node-test-helper): a node built on it under a type of the defaults table
// (face-enrol: it has a config node and a queue size) with a handler the test controls. Checked:
// the missing-config error, failures as codes on the status and msg.error to the Catch node, the
// queue (depth on the status, busy drops, waiting messages finished on close) and one close that
// runs the node's cleanup once and clears the status after it.
const assert = require('assert');
const { helper, coreNodes, nextMessage, silence } = require('./helpers/red');
const { FaceNode } = require('../dist/nodes/lib/face-node');
const { FaceError } = require('../dist/runtime');

const configNode = require('../dist/nodes/facefusion-config.js');
const TAB = { id: 'tab', type: 'tab', label: 'test' };
const CFG = { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'auto', threads: 0, modelsDir: '', frameBudgetMB: 64, tokenTtl: 300 };
const CATCH = [
  { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

function statusesOf(id) {
  return helper._NodePrototype.status
    .getCalls()
    .filter((c) => c.thisValue && c.thisValue.id === id)
    .map((c) => c.args[0]);
}

/** What the test node does and what it saw, shared with the test. */
function probe() {
  return { handled: [], busy: [], errors: [], cleanups: 0, cleanupDone: false, gate: undefined, face: undefined };
}

/** A node module registering `face-enrol` on the skeleton: handler = the probe's script. */
function skeletonModule(p, { queue = true, quietWhenClosed = false } = {}) {
  return function (RED) {
    RED.nodes.registerType('face-enrol', function (def) {
      const face = new FaceNode(RED, this, def, { stage: 'probe', msgError: true, quietWhenClosed, onError: (e) => p.errors.push(e.code) });
      p.face = face;
      face.onInput(
        async (msg, send, done) => {
          p.handled.push(msg.payload);
          if (msg.payload === 'wait') await p.gate;
          if (msg.payload === 'coded') throw new FaceError('E_BAD_IMAGE', 'not a picture');
          if (msg.payload === 'plain') throw new Error('boom');
          if (msg.payload === 'sync') return;
          send(msg);
          done();
        },
        queue ? { capacity: Number(face.options.queueSize), showDepth: true, saysQueueFull: true, onBusy: (msg) => p.busy.push(msg.payload) } : undefined,
      );
      face.onClose(
        () => {
          p.cleanups++;
          return new Promise((resolve) =>
            setTimeout(() => {
              p.cleanupDone = true;
              resolve();
            }, 100),
          );
        },
        { clearStatus: true },
      );
    });
  };
}

describe('face node skeleton (lib/face-node.ts)', function () {
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

  it('without a config node: red status at deploy, every message fails with the missing-config error', async function () {
    const p = probe();
    await helper.load([skeletonModule(p), ...coreNodes], [TAB, { id: 'n', z: 'tab', type: 'face-enrol', config: '', wires: [['out']] }, { id: 'out', z: 'tab', type: 'helper' }, ...CATCH]);
    assert.ok(statusesOf('n').some((s) => s.fill === 'red' && s.text === 'no facefusion-config'));
    const caught = nextMessage(helper.getNode('caught'), 5000);
    helper.getNode('n').receive({ payload: 'x' });
    const msg = await caught;
    assert.match(msg.error.message, /face-enrol has no facefusion-config node/);
    assert.deepStrictEqual(p.handled, [], 'the handler never runs');
  });

  it("options come with the dialog's defaults; a failure shows its code and reaches the Catch node with msg.error", async function () {
    const p = probe();
    await helper.load(
      [configNode, skeletonModule(p), ...coreNodes],
      [TAB, CFG, { id: 'n', z: 'tab', type: 'face-enrol', config: 'cfg', wires: [['out']] }, { id: 'out', z: 'tab', type: 'helper' }, ...CATCH],
    );
    assert.strictEqual(p.face.options.queueSize, 10, "a saved node without queueSize gets the table's default");
    assert.ok(p.face.config, 'the config node');
    for (const [payload, code] of [
      ['coded', 'E_BAD_IMAGE'],
      ['plain', 'E_INTERNAL'],
    ]) {
      const caught = nextMessage(helper.getNode('caught'), 5000);
      helper.getNode('n').receive({ payload });
      const msg = await caught;
      assert.strictEqual(msg.error.code, code);
      assert.ok(
        statusesOf('n').some((s) => s.fill === 'red' && s.shape === 'dot' && s.text === code),
        JSON.stringify(statusesOf('n')),
      );
    }
    assert.deepStrictEqual(p.errors, ['E_BAD_IMAGE', 'E_INTERNAL'], 'onError sees each failure');
    const out = nextMessage(helper.getNode('out'), 5000);
    helper.getNode('n').receive({ payload: 'fine' });
    assert.strictEqual((await out).payload, 'fine');
  });

  it('one message at a time: the backlog on the status, busy drops, the waiting ones finished on close; the cleanup runs once, then the status clears', async function () {
    const p = probe();
    let open;
    p.gate = new Promise((resolve) => (open = resolve));
    await helper.load(
      [configNode, skeletonModule(p), ...coreNodes],
      [TAB, CFG, { id: 'n', z: 'tab', type: 'face-enrol', config: 'cfg', queueSize: 1, wires: [['out']] }, { id: 'out', z: 'tab', type: 'helper' }, ...CATCH],
    );
    const node = helper.getNode('n');
    const quiet = silence(helper.getNode('caught'), 500);
    node.receive({ payload: 'wait' });
    node.receive({ payload: 'queued' });
    node.receive({ payload: 'dropped' });
    assert.ok(await quiet, 'a busy drop is not an error');
    assert.deepStrictEqual(p.handled, ['wait'], 'one in flight');
    assert.deepStrictEqual(p.busy, ['dropped']);
    const texts = statusesOf('n').map((s) => s.text);
    assert.ok(texts.includes('queue 1'), JSON.stringify(texts));
    assert.ok(texts.includes('busy: dropped (queue full)'), JSON.stringify(texts));

    const closing = node.close(false);
    assert.strictEqual(p.face.closed, true);
    open();
    await closing;
    assert.strictEqual(p.cleanups, 1);
    assert.strictEqual(p.cleanupDone, true, 'close waited for the cleanup');
    const last = statusesOf('n').pop();
    assert.deepStrictEqual(last, {}, 'the status is cleared once the cleanup is done');
    assert.deepStrictEqual(p.handled, ['wait'], 'the waiting message never ran after close');
    await node.close(false);
    assert.strictEqual(p.cleanups, 1, 'a second close does not clean up again');
  });

  it('quietWhenClosed: a message failing after close finishes without an error', async function () {
    const p = probe();
    let open;
    p.gate = new Promise((resolve) => (open = resolve));
    await helper.load(
      [configNode, skeletonModule(p, { quietWhenClosed: true }), ...coreNodes],
      [TAB, CFG, { id: 'n', z: 'tab', type: 'face-enrol', config: 'cfg', wires: [['out']] }, { id: 'out', z: 'tab', type: 'helper' }, ...CATCH],
    );
    const node = helper.getNode('n');
    const failing = p.face.fail.bind(p.face);
    const fails = [];
    p.face.fail = (err, msg, done) =>
      failing(err, msg, (e) => {
        fails.push(e);
        done(e);
      });
    node.receive({ payload: 'wait' });
    const closing = node.close(false);
    open(Promise.reject(new FaceError('E_BAD_IMAGE', 'gone'))); // the message in flight fails after the close
    await closing;
    await new Promise((r) => setTimeout(r, 50));
    assert.deepStrictEqual(fails, [undefined], 'done() without an error');
    assert.deepStrictEqual(p.errors, [], 'no failure shown');
  });
});
