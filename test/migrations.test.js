'use strict';
// Versioned node configs: a flow saved by 0.1.0 loads and runs unchanged after an
// option was renamed (face image / face pack `release` → `releaseFrames`). The runtime migrates
// every saved node before it reads its options (the editor does the same on load, see
// test/browser-examples.test.js); examples carry the current version.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { helper, allNodes, nextMessage } = require('./helpers/red');
const M = require('../resources/node-migrations.js');
const { withDefaults, migrations } = require('../dist/nodes/lib/node-defaults');

const ROOT = path.join(__dirname, '..');
const SAVED = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'flows', 'saved-by-0.1.0.json'), 'utf8'));
const TABLE = require('../resources/node-defaults.js');

/** The fixture as the test helper runs it: debug nodes become helper sinks. */
const runnable = (nodes) => nodes.map((n) => (n.type === 'debug' ? { id: n.id, z: n.z, type: 'helper' } : n));

describe('versioned node configs and migrations', function () {
  this.timeout(60000);

  afterEach(async function () {
    await helper.unload();
  });

  it('migrate() renames what a step renames, on a copy, and sets the version; current and newer nodes are left as they are', function () {
    const saved = { id: 'a', type: 'face-image', format: 'png', release: false };
    const { node, from, to, notes } = M.migrate('face-image', saved);
    assert.deepStrictEqual(node, { id: 'a', type: 'face-image', format: 'png', releaseFrames: false, configVersion: 2 });
    assert.deepStrictEqual([from, to, notes], [1, 2, ['release → releaseFrames']]);
    assert.deepStrictEqual(saved, { id: 'a', type: 'face-image', format: 'png', release: false }, 'the saved node is not changed');
    const current = { id: 'b', type: 'face-image', releaseFrames: false, configVersion: 2 };
    assert.deepStrictEqual(M.migrate('face-image', current).node, current);
    assert.deepStrictEqual(M.migrate('face-image', { id: 'c', releaseFrames: true, release: false, configVersion: 2 }).node.release, false, 'a current node keeps any field it has');
    const future = { id: 'd', type: 'face-image', something: 1, configVersion: 9 };
    assert.deepStrictEqual(M.migrate('face-image', future).node, future, 'a node from a newer version is left alone');
    assert.strictEqual(M.versionOf({}), 1, 'no version: saved by 0.1.0');
    assert.strictEqual(M.currentVersion('face-detect'), 1);
    assert.deepStrictEqual(M.legacyFields('face-pack'), ['release']);
    assert.strictEqual(migrations(), M, 'the runtime reads the file the editor loads');
  });

  it('no step reads the defaults table, and every legacy field is gone from the table', function () {
    for (const [type, steps] of Object.entries(M.steps)) {
      assert.ok(TABLE[type], `${type} is a node type`);
      for (const step of steps) assert.ok(!/FaceFusionDefaults|node-defaults/.test(String(step.up)), `${type} step ${step.to}`);
      for (const field of M.legacyFields(type)) assert.ok(!(field in TABLE[type]), `${type}.${field} was renamed away`);
    }
    // The runtime's reading: migrate, then fill what is missing.
    const def = withDefaults('face-pack', { id: 'p', type: 'face-pack', release: false });
    assert.strictEqual(def.releaseFrames, false);
    assert.ok(!('release' in def));
    assert.strictEqual(withDefaults('face-pack', { id: 'p', type: 'face-pack' }).releaseFrames, true);
  });

  it("a face recognize saved before its `release` took the name releaseFrames still frees the token's pictures once recognised", async function () {
    const os = require('os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-migrate-recognize-'));
    const libraryNodes = ['face-library', 'face-recognize'].map((t) => require(`../dist/nodes/${t}.js`));
    assert.deepStrictEqual(M.migrate('face-recognize', { id: 'r', type: 'face-recognize', release: true }).node, { id: 'r', type: 'face-recognize', releaseFrames: true, configVersion: 2 });
    /** One token through face recognize saved as `saved`: are its pictures still in the store after? */
    async function kept(saved) {
      const flow = [
        { id: 'tab', type: 'tab', label: 'recognize saved earlier' },
        { id: 'cfg', type: 'facefusion-config', device: 'cpu', frameBudgetMB: 128 },
        { id: 'lib', type: 'face-library', path: path.join(dir, 'people.db') },
        { id: 'rec', z: 'tab', type: 'face-recognize', config: 'cfg', library: 'lib', ...saved, wires: [['out'], []] },
        { id: 'out', z: 'tab', type: 'helper' },
      ];
      await helper.load([...allNodes, ...libraryNodes], flow);
      const config = helper.getNode('cfg');
      await config.ready;
      const token = await config.runtime.run(await config.runtime.createToken({ target: 'sample:obama.jpg', operations: ['detect'] }));
      const out = nextMessage(helper.getNode('out'), 60000);
      helper.getNode('rec').receive({ payload: token });
      await out;
      const there = !!config.runtime.store.tryGet(token.target.frame);
      await helper.unload();
      return there;
    }
    try {
      assert.strictEqual(await kept({ release: true }), false, 'saved with release: true (version 1): freed');
      assert.strictEqual(await kept({ releaseFrames: true, configVersion: 2 }), false, 'the current form: freed');
      assert.strictEqual(await kept({}), true, 'the default keeps them');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every example node is saved in the current form', function () {
    for (const file of fs.readdirSync(path.join(ROOT, 'examples'))) {
      for (const n of JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'))) {
        if (!TABLE[n.type]) continue;
        assert.strictEqual(n.configVersion, M.currentVersion(n.type), `${file}: ${n.type} ${n.id}`);
        for (const field of M.legacyFields(n.type)) assert.ok(!(field in n), `${file}: ${n.type} ${n.id} still has ${field}`);
      }
    }
  });

  it('a flow saved by 0.1.0 loads and runs unchanged: face image and face pack keep `release: false` (now releaseFrames)', async function () {
    assert.ok(
      SAVED.every((n) => n.configVersion === undefined),
      'the fixture is as 0.1.0 saved it',
    );
    assert.ok(SAVED.filter((n) => n.release === false).length === 2);

    /** Runs the token → detect → blur → image branch and the pack branch once; what came out and what stayed in the store. */
    async function run(flow) {
      await helper.load(allNodes, runnable(flow));
      const config = helper.getNode('f010cfg000000001');
      await config.ready;
      const image = nextMessage(helper.getNode('f010out000000001'), 60000);
      helper.getNode('f010n00000000003').receive({ payload: 'sample:two-people.jpg' });
      const shown = await image;
      const framesAfterImage = config.runtime.stats().store.frames;
      const token = await config.runtime.createToken({ target: 'sample:obama.jpg' });
      const packed = nextMessage(helper.getNode('f010packed000001'));
      helper.getNode('f010pack00000001').receive({ payload: token });
      await packed;
      const framesAfterPack = config.runtime.stats().store.frames;
      const result = { jpeg: shown.payload, faces: shown.token.faces.length, framesAfterImage, framesAfterPack, packedStillThere: !!config.runtime.store.tryGet(token.target.frame) };
      await helper.unload();
      return result;
    }

    const old = await run(SAVED);
    // Kept, as release: false said: the blurred picture (and the detect stage's) stay in the store, the packed token's picture too.
    assert.ok(old.framesAfterImage >= 1, `frames kept after face image: ${old.framesAfterImage}`);
    assert.strictEqual(old.packedStillThere, true, 'face pack kept the picture');
    assert.strictEqual(old.faces, 2);

    // The same flow saved in the current form runs the same, byte for byte.
    const migrated = SAVED.map((n) => (TABLE[n.type] ? M.migrate(n.type, n).node : n));
    assert.ok(migrated.filter((n) => n.releaseFrames === false).length === 2);
    const now = await run(migrated);
    assert.deepStrictEqual(now.jpeg, old.jpeg);
    assert.deepStrictEqual([now.framesAfterImage, now.packedStillThere], [old.framesAfterImage, old.packedStillThere]);

    // Without the saved value (what a lost option would read as: the default) the pictures are freed.
    const lost = SAVED.map((n) => {
      const c = { ...n };
      delete c.release;
      return c;
    });
    const defaulted = await run(lost);
    assert.ok(defaulted.framesAfterImage < old.framesAfterImage, `default frees: ${defaulted.framesAfterImage} < ${old.framesAfterImage}`);
    assert.strictEqual(defaulted.packedStillThere, false);
  });
});
