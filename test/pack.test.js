'use strict';
// Portable tokens: face pack / unpack, sealed with AES-256-GCM, on real
// pictures and models; refusals of tampered, truncated, wrong-key, oversized, expired and
// unsealed packets; and a packed token crossing a real mosquitto broker between two runtimes.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { createRuntime, tokenKeyFrom, PACK_MAGIC } = require('../dist/runtime/internal');
const { media, pending } = require('./helpers/fixtures');
const { helper, allNodes, nextMessage } = require('./helpers/red');
const { startMosquitto, mosquittoBinary } = require('./helpers/mosquitto');

const KEY = crypto.randomBytes(32);
const OTHER_KEY = crypto.randomBytes(32);
const code = (c, re) => (e) => {
  assert.strictEqual(e.code, c, `${e.code}: ${e.message}`);
  if (re) assert.match(e.message, re);
  return true;
};

describe('face pack / unpack (portable tokens)', function () {
  this.timeout(60000);
  let here, there, detected;

  before(async function () {
    here = createRuntime({ device: 'cpu', sweepIntervalMs: 0 });
    there = createRuntime({ device: 'cpu', sweepIntervalMs: 0, tokenTtlMs: 60_000 });
    const token = await here.createToken({ target: media('fr_two_people.jpg'), source: media('fr_obama.jpg'), operations: ['detect', 'landmark'] });
    detected = await here.run(token);
    assert.strictEqual(detected.faces.length, 2);
  });
  after(async function () {
    await here.close();
    await there.close();
  });

  it('pack → unpack in another runtime: same faces, bit-identical PNG frames, journal kept, a request of the receiving runtime', async function () {
    const packet = await here.pack(detected, { key: KEY });
    assert.strictEqual(packet.toString('latin1', 0, 4), PACK_MAGIC);
    const before = there.stats().store.frames;
    const back = await there.unpack(packet, { key: KEY });
    // A request of the receiving runtime: a fresh id; the journal names the one it was packed under.
    assert.notStrictEqual(back.request_id, detected.request_id);
    assert.match(back.journal.at(-1).note, new RegExp(`packed as request ${detected.request_id}`));
    assert.deepStrictEqual(back.faces, detected.faces);
    assert.deepStrictEqual(
      back.journal.map((j) => j.stage),
      ['detect', 'landmark', 'pack', 'unpack'],
    );
    assert.notStrictEqual(back.target.frame, detected.target.frame, 'a ref of the receiving store');
    for (const role of ['target', 'source']) {
      const a = here.frame(detected[role].frame),
        b = there.frame(back[role].frame);
      assert.strictEqual(b.width, a.width);
      assert.strictEqual(b.height, a.height);
      assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), `${role} pixels identical`);
    }
    assert.strictEqual(there.stats().store.frames, before + 2);
    // The unpacked token is an ordinary token of the receiving runtime: it runs and releases.
    const embedded = await there.run(there.acceptToken(back), ['embed']);
    assert.strictEqual(embedded.faces[0].embedding.length, 512);
    there.release(embedded);
    assert.strictEqual(there.stats().store.frames, before, 'release frees the unpacked frames');
  });

  it('a changed byte anywhere (prefix, header, body, tag, last byte) → E_TOKEN_INVALID', async function () {
    const packet = await here.pack(detected, { key: KEY });
    const headerEnd = 10 + packet.readUInt32BE(6);
    const positions = [5, 12, headerEnd - 2, headerEnd + 3, headerEnd + 20, headerEnd + 200, Math.floor(packet.length / 2), packet.length - 1];
    for (const at of positions) {
      const bad = Buffer.from(packet);
      bad[at] ^= 0x01;
      await assert.rejects(there.unpack(bad, { key: KEY }), code('E_TOKEN_INVALID'), `byte ${at}`);
    }
    assert.strictEqual(there.stats().store.frames, 0, 'nothing stored from a refused packet');
  });

  it('truncated, padded, wrong key, no key, not a packet → E_TOKEN_INVALID', async function () {
    const packet = await here.pack(detected, { key: KEY });
    await assert.rejects(there.unpack(packet.subarray(0, packet.length - 1), { key: KEY }), code('E_TOKEN_INVALID', /truncated/));
    await assert.rejects(there.unpack(packet.subarray(0, 40), { key: KEY }), code('E_TOKEN_INVALID'));
    await assert.rejects(there.unpack(Buffer.concat([packet, Buffer.alloc(1)]), { key: KEY }), code('E_TOKEN_INVALID', /padded/));
    await assert.rejects(there.unpack(packet, { key: OTHER_KEY }), code('E_TOKEN_INVALID', /different key/));
    await assert.rejects(there.unpack(packet, {}), code('E_TOKEN_INVALID', /no key is set/));
    await assert.rejects(there.unpack(Buffer.from('{"v":1}'), { key: KEY }), code('E_TOKEN_INVALID', /FFPK/));
    await assert.rejects(there.unpack('FFPK', { key: KEY }), code('E_TOKEN_INVALID', /Buffer/));
    assert.strictEqual(there.stats().store.frames, 0);
  });

  it('oversized packets and frames are refused before anything is decrypted or decoded', async function () {
    const packet = await here.pack(detected, { key: KEY });
    await assert.rejects(there.unpack(packet, { key: KEY, maxBytes: packet.length - 1 }), code('E_TOKEN_INVALID', /more than the limit/));
    await assert.rejects(there.unpack(packet, { key: KEY, maxPixels: 1000 }), code('E_TOKEN_INVALID', /pixels/));
    // A forged unsealed header declaring a 60000×60000 frame: refused from the header alone.
    const forged = forgeUnsealed({ width: 60000, height: 60000 });
    const t0 = performance.now();
    await assert.rejects(there.unpack(forged, { allowUnsealed: true }), code('E_TOKEN_INVALID', /60000×60000/));
    assert.ok(performance.now() - t0 < 100, 'refused at once');
  });

  it("unpacking stays under the receiving store's budget: room is reserved before decoding, else E_STORE_FULL and nothing kept", async function () {
    const small = createRuntime({ device: 'cpu', sweepIntervalMs: 0, frameBudgetBytes: 4 * 1024 * 1024, storeWaitMs: 50 });
    try {
      const packet = await here.pack(detected, { key: KEY }); // frames of 2.2 MB and 3.1 MB: each fits, not both
      await assert.rejects(small.unpack(packet, { key: KEY }), code('E_STORE_FULL'));
      const stats = small.stats().store;
      assert.strictEqual(stats.frames, 0, 'nothing stored');
      assert.ok(stats.peakBytes <= stats.budgetBytes, `peak ${stats.peakBytes} ≤ budget ${stats.budgetBytes}`);
    } finally {
      await small.close();
    }
  });

  it("a header that lies about the frame size is refused from the picture's own header, before decoding", async function () {
    const packet = await here.pack(detected, { sealed: false });
    const lying = rewriteUnsealedHeader(packet, (h) => {
      h.frames[0].width -= 1;
    });
    await assert.rejects(there.unpack(lying, { allowUnsealed: true }), code('E_TOKEN_INVALID', /is a \d+×\d+ png, the header says/));
    assert.strictEqual(there.stats().store.frames, 0);
  });

  it('unsealed packets are refused unless allowed; allowed, they round-trip and a corrupt byte is caught', async function () {
    const packet = await here.pack(detected, { sealed: false });
    await assert.rejects(there.unpack(packet, { key: KEY }), code('E_TOKEN_INVALID', /not sealed/));
    const back = await there.unpack(packet, { allowUnsealed: true });
    assert.deepStrictEqual(back.faces, detected.faces);
    there.release(back);
    const bad = Buffer.from(packet);
    bad[packet.length - 10] ^= 0x40;
    await assert.rejects(there.unpack(bad, { allowUnsealed: true }), code('E_TOKEN_INVALID', /checksum/));
  });

  it('sealing needs a key', async function () {
    await assert.rejects(here.pack(detected, {}), code('E_BAD_PARAMETER', /token key/));
  });

  it('an expired token → E_TOKEN_EXPIRED; the receiving TTL caps a long one', async function () {
    const short = await here.createToken({ target: media('astronaut.png'), operations: ['detect'], ttlMs: 30 });
    const packet = await here.pack(short, { key: KEY });
    here.release(short);
    await new Promise((r) => setTimeout(r, 60));
    await assert.rejects(there.unpack(packet, { key: KEY }), code('E_TOKEN_EXPIRED'));
    const long = await here.createToken({ target: media('astronaut.png'), operations: ['detect'], ttlMs: 3_600_000 });
    const back = await there.unpack(await here.pack(long, { key: KEY }), { key: KEY });
    here.release(long);
    assert.ok(Date.parse(back.expires_at) <= Date.now() + 60_000, `capped by the receiver's 60 s TTL: ${back.expires_at}`);
    there.release(back);
  });

  it('jpeg packets are smaller and decode close to the original', async function () {
    const png = await here.pack(detected, { key: KEY });
    const jpeg = await here.pack(detected, { key: KEY, format: 'jpeg', quality: 90 });
    assert.ok(jpeg.length < png.length / 2, `jpeg ${jpeg.length} vs png ${png.length}`);
    const back = await there.unpack(jpeg, { key: KEY });
    const a = here.frame(detected.target.frame).data,
      b = there.frame(back.target.frame).data;
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
    assert.ok(sum / a.length < 4, `mean abs difference ${sum / a.length}`);
    there.release(back);
  });

  it('token keys: 64 hex digits are the key, a passphrase is stretched, a short one refused, blank is none', function () {
    const hex = KEY.toString('hex');
    assert.ok(tokenKeyFrom(hex).equals(KEY));
    const a = tokenKeyFrom('correct horse battery staple'),
      b = tokenKeyFrom(' correct horse battery staple ');
    assert.strictEqual(a.length, 32);
    assert.ok(a.equals(b), 'same passphrase, same key');
    assert.throws(() => tokenKeyFrom('short'), code('E_BAD_PARAMETER', /at least 16/));
    assert.strictEqual(tokenKeyFrom(''), undefined);
  });

  /** An unsealed packet with one target frame whose header claims the given size. */
  function forgeUnsealed({ width, height }) {
    const token = Buffer.from(JSON.stringify(detected));
    const frame = Buffer.from('not an image');
    const body = Buffer.concat([token, frame]);
    const header = Buffer.from(
      JSON.stringify({
        v: 2,
        sealed: false,
        token_bytes: token.length,
        frames: [{ role: 'target', format: 'png', width, height, bytes: frame.length }],
        sha256: crypto.createHash('sha256').update(body).digest('hex'),
      }),
    );
    const prefix = Buffer.alloc(10);
    prefix.write('FFPK', 0, 'latin1');
    prefix.writeUInt8(2, 4);
    prefix.writeUInt8(0, 5);
    prefix.writeUInt32BE(header.length, 6);
    return Buffer.concat([prefix, header, body]);
  }

  function rewriteUnsealedHeader(packet, edit) {
    const end = 10 + packet.readUInt32BE(6);
    const header = JSON.parse(packet.toString('utf8', 10, end));
    edit(header);
    const bytes = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.from(packet.subarray(0, 10));
    prefix.writeUInt32BE(bytes.length, 6);
    return Buffer.concat([prefix, bytes, packet.subarray(end)]);
  }
});

describe('face pack → mosquitto → face unpack (two runtimes, real broker)', function () {
  this.timeout(90000);
  let broker;
  const mqttNode = require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', 'network', '10-mqtt.js'));

  before(async function () {
    if (!mosquittoBinary()) return pending(this, 'mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)');
    broker = await startMosquitto();
    await new Promise((resolve) => helper.startServer(resolve));
  });
  after(async function () {
    if (!broker) return;
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
    await broker.stop();
  });

  it('a packed token crosses the broker and comes out equal, frames bit-identical; a tampered one is refused', async function () {
    const hexKey = KEY.toString('hex');
    const flow = [
      { id: 'tab', type: 'tab', label: 'pack over mqtt' },
      { id: 'cfgA', type: 'facefusion-config', name: 'hub', device: 'cpu', threads: 0, modelsDir: '', frameBudgetMB: 128, tokenTtl: 300 },
      { id: 'cfgB', type: 'facefusion-config', name: 'worker', device: 'cpu', threads: 0, modelsDir: '', frameBudgetMB: 128, tokenTtl: 300 },
      {
        id: 'mqttbroker',
        type: 'mqtt-broker',
        name: 'local',
        broker: '127.0.0.1',
        port: String(broker.port),
        clientid: '',
        autoConnect: true,
        usetls: false,
        protocolVersion: '5',
        keepalive: '60',
        cleansession: true,
      },
      { id: 'tok', z: 'tab', type: 'face-token', config: 'cfgA', operations: ['detect'], wires: [['det']] },
      { id: 'det', z: 'tab', type: 'face-detect', config: 'cfgA', onNoFace: 'pass', queueSize: 10, wires: [['pack', 'seen']] },
      { id: 'seen', z: 'tab', type: 'helper' },
      { id: 'pack', z: 'tab', type: 'face-pack', config: 'cfgA', format: 'png', quality: 90, sealed: true, release: false, wires: [['out', 'packed']] },
      { id: 'packed', z: 'tab', type: 'helper' },
      { id: 'out', z: 'tab', type: 'mqtt out', broker: 'mqttbroker', topic: 'faces/tokens', qos: '1', retain: 'false', wires: [] },
      { id: 'in', z: 'tab', type: 'mqtt in', broker: 'mqttbroker', topic: 'faces/tokens', qos: '1', datatype: 'buffer', nl: false, rap: true, rh: 0, inputs: 0, wires: [['unpack']] },
      { id: 'unpack', z: 'tab', type: 'face-unpack', config: 'cfgB', allowUnsealed: false, maxMB: 64, wires: [['got']] },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
      { id: 'got', z: 'tab', type: 'helper' },
    ];
    await helper.load([...allNodes, mqttNode], flow, { cfgA: { tokenKey: hexKey }, cfgB: { tokenKey: hexKey } });
    const hub = helper.getNode('cfgA'),
      worker = helper.getNode('cfgB');
    await Promise.all([hub.ready, worker.ready]);
    assert.notStrictEqual(hub.runtime, worker.runtime, 'two runtimes, two frame stores');
    await waitConnected(helper.getNode('in'));

    const seen = nextMessage(helper.getNode('seen'));
    const packed = nextMessage(helper.getNode('packed'));
    const got = nextMessage(helper.getNode('got'), 20000);
    helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_two_people.jpg')) });
    const sent = (await seen).payload;
    const packet = (await packed).payload;
    const received = (await got).payload;
    assert.notStrictEqual(received.request_id, sent.request_id, "a request of the worker's runtime");
    assert.deepStrictEqual(received.faces, sent.faces);
    assert.strictEqual(received.faces.length, 2);
    const a = hub.runtime.frame(sent.target.frame),
      b = worker.runtime.frame(received.target.frame);
    assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), 'frame bit-identical after the broker');

    // The same packet with one byte changed, published through the broker: refused at the Catch node.
    const caught = nextMessage(helper.getNode('caught'), 20000);
    const bad = Buffer.from(packet);
    bad[bad.length - 5] ^= 1;
    helper.getNode('out').receive({ payload: bad });
    const err = await caught;
    assert.strictEqual(err.error.code, 'E_TOKEN_INVALID');
    hub.runtime.release(sent);
    worker.runtime.release(received);
  });

  function waitConnected(node) {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + 10000;
      const poll = () => {
        if (node.brokerConn && node.brokerConn.connected && node.brokerConn.subscriptions && Object.keys(node.brokerConn.subscriptions).length) return setTimeout(resolve, 200);
        if (Date.now() > deadline) return reject(new Error('mqtt in did not connect to the broker within 10 s'));
        setTimeout(poll, 50);
      };
      poll();
    });
  }
});
