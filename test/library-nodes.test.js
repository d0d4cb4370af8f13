'use strict';
// The face library in Node-RED: face library config node, face enrol, face recognize
// (identities journalled, one event per person per visit on output 2), face forget, the status
// showing the library's size, and the admin endpoints behind the editor's sidebar tab (list,
// rename, delete, sealed export/import). A corrupt file shows E_LIBRARY in red, never a crash;
// a file locked by another process at deploy is opened by the next message once it is free.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { helper, coreNodes, nextMessage, MEDIA } = require('./helpers/red');

const TYPES = ['facefusion-config', 'face-token', 'face-detect', 'face-library', 'face-enrol', 'face-recognize', 'face-forget'];
const nodes = [...TYPES.map((t) => require(`../dist/nodes/${t}.js`)), ...coreNodes];
const { until } = require('./helpers/wait');
const media = (f) => path.join(MEDIA, f);
const KEY = crypto.randomBytes(32).toString('hex');

function statusesOf(node) {
  const seen = [];
  node.on('call:status', (call) => seen.push(call.args[0]));
  return seen;
}

/** token → detect → enrol | recognize, and forget, on one library file. */
function flowOf(db, extra = {}) {
  return [
    { id: 'tab', type: 'tab', label: 'library' },
    { id: 'cfg', type: 'facefusion-config' },
    { id: 'lib', type: 'face-library', path: db, thumbnails: true, ...extra },
    { id: 'tok-e', z: 'tab', type: 'face-token', config: 'cfg', wires: [['det-e']] },
    { id: 'det-e', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['enrol']] },
    { id: 'enrol', z: 'tab', type: 'face-enrol', config: 'cfg', library: 'lib', wires: [['enrolled']] },
    { id: 'tok-r', z: 'tab', type: 'face-token', config: 'cfg', wires: [['det-r']] },
    { id: 'det-r', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['rec']] },
    { id: 'rec', z: 'tab', type: 'face-recognize', config: 'cfg', library: 'lib', camera: 'Front Door', snapshot: 'face', wires: [['recognised'], ['events']] },
    { id: 'forget', z: 'tab', type: 'face-forget', library: 'lib', wires: [['forgot']] },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    ...['enrolled', 'recognised', 'events', 'forgot', 'caught'].map((id) => ({ id, z: 'tab', type: 'helper' })),
  ];
}

describe('face library nodes (Node-RED)', function () {
  this.timeout(60000);
  let dir;

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-library-nodes-'));
  });
  afterEach(async function () {
    await helper.unload();
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function enrol(file, name, face) {
    const out = nextMessage(helper.getNode('enrolled'));
    helper.getNode('tok-e').receive({ payload: fs.readFileSync(media(file)), name, ...(face !== undefined ? { face } : {}) });
    return out;
  }

  it('enrols from pictures, recognises every face (journalled), sends one event per person, and forgets', async function () {
    const db = path.join(dir, 'flow.db');
    await helper.load(nodes, flowOf(db), { cfg: { tokenKey: KEY } });
    const recStatus = statusesOf(helper.getNode('rec'));
    const a = await enrol('fr_obama.jpg', 'Barack Obama');
    assert.deepStrictEqual(a.enrolled, { name: 'Barack Obama', created: true, pictures: 1, face: 0 });
    await enrol('fr_biden.jpg', 'Joe Biden');
    await until(() => recStatus.some((s) => s.text === '2 people'), 'the size on the recognize node');

    const recognised = nextMessage(helper.getNode('recognised'));
    const events = [];
    helper.getNode('events').on('input', (m) => events.push(m));
    helper.getNode('tok-r').receive({ payload: fs.readFileSync(media('fr_two_people.jpg')) });
    const msg = await recognised;
    assert.deepStrictEqual(msg.people.sort(), ['Barack Obama', 'Joe Biden']);
    for (const f of msg.payload.faces) assert.ok(f.identity.known && f.identity.similarity >= 0.5, JSON.stringify(f.identity));
    assert.strictEqual(msg.payload.journal[msg.payload.journal.length - 1].stage, 'recognize');
    await until(() => events.length === 2, 'two events');
    for (const e of events) {
      assert.strictEqual(e.topic, 'facefusion/front_door/person');
      assert.deepStrictEqual(Object.keys(e.payload), ['event', 'camera', 'name', 'known', 'similarity', 'visit', 'since', 'at', 'box']);
      assert.strictEqual(e.payload.camera, 'Front Door');
      assert.deepStrictEqual([...e.snapshot.subarray(0, 2)], [0xff, 0xd8], 'a JPEG of the face');
    }
    assert.deepStrictEqual(events.map((e) => e.payload.name).sort(), ['Barack Obama', 'Joe Biden']);
    // Core-style statuses: within 30 characters the names give way to a count, the size stays.
    assert.strictEqual(recStatus[recStatus.length - 1].text, '2 known · 2 people');
    assert.deepStrictEqual(
      recStatus.filter((st) => st.text.length > 30),
      [],
    );

    // Several faces without a choice: refused to the Catch node; msg.face picks one.
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('tok-e').receive({ payload: fs.readFileSync(media('fr_two_people.jpg')), name: 'Group' });
    assert.match((await caught).error.message, /2 faces: say which one/);

    const forgot = nextMessage(helper.getNode('forgot'));
    helper.getNode('forget').receive({ name: 'barack obama' });
    assert.deepStrictEqual((await forgot).payload, { name: 'Barack Obama', pictures: 1, unknownFaces: 0, compacted: true });
    assert.ok(!fs.readFileSync(db).includes(Buffer.from('Barack Obama')));
    const again = nextMessage(helper.getNode('recognised'));
    helper.getNode('tok-r').receive({ payload: fs.readFileSync(media('fr_obama.jpg')) });
    const after = (await again).payload.faces[0].identity;
    assert.deepStrictEqual([after.name, after.known], [null, false]);
    assert.strictEqual(recStatus[recStatus.length - 1].text, '1 unknown · 1 person', 'plural right');
  });

  it('frames of one source give one event per person per visit, not one per frame; unknown faces are collected only when asked', async function () {
    const db = path.join(dir, 'visits.db');
    await helper.load(nodes, flowOf(db, { collectUnknown: true }));
    await enrol('fr_obama.jpg', 'Barack Obama');
    const runtime = helper.getNode('cfg').runtime;
    const events = [];
    helper.getNode('events').on('input', (m) => events.push(m.payload));
    const rec = helper.getNode('rec');
    // Ten frames of one "camera" (job id + index), each with Obama and a stranger.
    const bytes = fs.readFileSync(media('fr_two_people.jpg'));
    for (let index = 0; index < 10; index++) {
      const token = await runtime.createToken({ target: bytes, job_id: 'door-cam', index, operations: ['detect'] });
      const detected = await runtime.process('detect', token, { force: true });
      // Biden's face stands in for a stranger: only Obama is enrolled here.
      const out = nextMessage(helper.getNode('recognised'));
      rec.receive({ payload: detected });
      runtime.release((await out).payload);
    }
    await until(() => events.length === 2, 'Obama once, the stranger once');
    assert.deepStrictEqual(events.map((e) => [e.name, e.known, e.camera]).sort(), [
      [null, false, 'Front Door'],
      ['Barack Obama', true, 'Front Door'],
    ]);
    assert.ok(events.every((e) => typeof e.frame === 'number'));
    const library = helper.getNode('lib').library;
    assert.strictEqual(library.unknowns().length, 1, 'the stranger kept for naming later');
    assert.ok(library.unknowns()[0].thumbnail);
  });

  it("the admin endpoints list, rename, delete, export and import (sealed with the runtime's key)", async function () {
    const db = path.join(dir, 'admin.db');
    await helper.load(nodes, flowOf(db), { cfg: { tokenKey: KEY } });
    await enrol('fr_obama.jpg', 'Barack Obama');
    await enrol('fr_biden.jpg', 'Joe Biden');
    const get = async (url) => (await helper.request().get(url).expect(200)).body;
    const post = (url, body) => helper.request().post(url).send(body);
    assert.deepStrictEqual(
      (await get('/facefusion/libraries')).libraries.map((l) => [l.id, l.path, l.people]),
      [['lib', db, 2]],
    );
    const listed = await get('/facefusion/library?library=lib');
    assert.deepStrictEqual(
      listed.people.map((p) => p.name),
      ['Barack Obama', 'Joe Biden'],
    );
    assert.match(listed.people[0].thumbnail, /^data:image\/jpeg;base64,/);
    assert.strictEqual((await post('/facefusion/library/rename', { library: 'lib', from: 'Joe Biden', to: 'Joseph Biden' }).expect(200)).body.person.name, 'Joseph Biden');
    assert.strictEqual((await post('/facefusion/library/rename', { library: 'lib', from: 'Nobody', to: 'X' }).expect(400)).body.code, 'E_BAD_PARAMETER');
    const exported = (await post('/facefusion/library/export', { library: 'lib', config: 'cfg' }).expect(200)).body;
    assert.strictEqual(exported.people, 2);
    assert.ok(!Buffer.from(exported.sealed, 'base64').includes(Buffer.from('Joseph Biden')));
    assert.match((await post('/facefusion/library/export', { library: 'lib', config: 'nope' }).expect(400)).body.error, /deployed face runtime/);
    assert.strictEqual((await post('/facefusion/library/forget', { library: 'lib', name: 'Joseph Biden' }).expect(200)).body.forgot.embeddings, 1);
    assert.deepStrictEqual(
      (await get('/facefusion/library?library=lib')).people.map((p) => p.name),
      ['Barack Obama'],
    );
    const imported = (await post('/facefusion/library/import', { library: 'lib', config: 'cfg', sealed: exported.sealed }).expect(200)).body;
    assert.deepStrictEqual(imported.added, { people: 1, embeddings: 1 });
    assert.strictEqual((await post('/facefusion/library/forget', { library: 'elsewhere', name: 'X' }).expect(404)).body.ok, false);
  });

  it('a corrupt library file: the nodes show E_LIBRARY in red and messages fail with it; Node-RED carries on', async function () {
    const db = path.join(dir, 'corrupt.db');
    fs.writeFileSync(db, crypto.randomBytes(20000));
    await helper.load(nodes, flowOf(db));
    const recStatus = statusesOf(helper.getNode('rec'));
    await until(() => recStatus.some((s) => s.fill === 'red' && /E_LIBRARY/.test(s.text)), 'red status');
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('tok-e').receive({ payload: fs.readFileSync(media('fr_obama.jpg')), name: 'X' });
    const err = (await caught).error;
    assert.match(err.message, /not a SQLite database/);
    const listed = await helper.request().get('/facefusion/libraries').expect(200);
    assert.match(listed.body.libraries[0].error, /not a SQLite database/);
  });

  it('a library file another process keeps locked at deploy: the error says "try again", and the next message after the lock is gone opens it (no redeploy)', async function () {
    const Sqlite = require('better-sqlite3');
    const { FaceLibrary } = require('../dist/runtime/internal');
    const db = path.join(dir, 'locked.db');
    new FaceLibrary(db).close();
    // Exclusive locking mode: the holder keeps the file's lock from its first read until it closes.
    const holder = new Sqlite(db);
    try {
      holder.pragma('locking_mode = EXCLUSIVE');
      holder.prepare('SELECT count(*) FROM library').get();
      await helper.load(nodes, flowOf(db)); // the library node waits out its busy timeout (5 s)
      const caught = nextMessage(helper.getNode('caught'));
      const sent = Date.now();
      helper.getNode('tok-e').receive({ payload: fs.readFileSync(media('fr_obama.jpg')), name: 'Barack Obama' });
      assert.match((await caught).error.message, /locked for too long.*try again/);
      // While the lock is held a message fails at once; it does not wait out the busy timeout again.
      assert.ok(Date.now() - sent < 2000, `${Date.now() - sent} ms`);
    } finally {
      holder.close();
    }
    const recStatus = statusesOf(helper.getNode('rec'));
    const a = await enrol('fr_obama.jpg', 'Barack Obama');
    assert.deepStrictEqual(a.enrolled, { name: 'Barack Obama', created: true, pictures: 1, face: 0 });
    await until(() => recStatus.some((s) => s.text === '1 person'), 'the size on the recognize node after the reopening');
  });
});
