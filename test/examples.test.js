'use strict';
// The shipped example flows as files: they share one face runtime (the `npm start`
// demo's config node, same id and content in every file, so importing several keeps one
// runtime) and one MQTT broker; every other id is unique across all examples (so importing one
// after another conflicts only on those shared config nodes); each is self-contained, says where
// the user's own files go and how to add a second runtime. Importing them all in the editor,
// as Import → Examples does, is test/browser-examples.test.js.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { CONFIG } = require('../scripts/demo-flows');

const DIR = path.join(__dirname, '..', 'examples');
const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const load = (f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));
/** Config node types every example that needs one shares (one node, one id). */
const SHARED_TYPES = ['facefusion-config', 'mqtt-broker', 'tls-config'];

describe('example flows (files)', function () {
  it("share one face runtime (the demo's) and one MQTT broker; every other id is unique across all examples", function () {
    const owner = new Map();
    const shared = new Map();
    for (const f of files) {
      for (const n of load(f)) {
        if (SHARED_TYPES.includes(n.type)) {
          if (!shared.has(n.type)) shared.set(n.type, n);
          assert.deepStrictEqual(n, shared.get(n.type), `${f}: its ${n.type} is the shared one, field for field`);
          continue;
        }
        assert.ok(!owner.has(n.id), `${f}: id ${n.id} (${n.type}) is also in ${owner.get(n.id)}`);
        owner.set(n.id, f);
      }
    }
    assert.strictEqual(shared.get('facefusion-config').id, CONFIG, "the runtime is the npm start demo's");
    assert.match(shared.get('facefusion-config').name, /face runtime/);
    assert.ok(files.length >= 7, files.join(', '));
  });

  it('are numbered in the order to read them', function () {
    for (const f of files) assert.match(f, /^\d{2}-[a-z0-9-]+\.json$/, f);
  });

  for (const f of files) {
    it(`${f}: wires and config references stay inside the file; a comment says where your own files go`, function () {
      const nodes = load(f);
      const ids = new Set(nodes.map((n) => n.id));
      for (const n of nodes) {
        for (const out of n.wires || []) for (const target of out) assert.ok(ids.has(target), `${f}: ${n.id} wires to missing ${target}`);
        if (n.config !== undefined) assert.ok(ids.has(n.config), `${f}: ${n.id} uses config ${n.config} from outside the file`);
      }
      const comment = nodes.find((n) => n.type === 'comment');
      assert.ok(comment && /your (own|camera|face|files)|own pictures/i.test(comment.info), `${f}: the comment tells where the user's files go`);
      if (nodes.some((n) => n.type === 'facefusion-config')) assert.match(comment.info, /second runtime/, `${f}: the comment says how to add a second runtime`);
      assert.ok(
        nodes.some((n) => n.type === 'inject' || n.type === 'http in' || n.type === 'ui-button'),
        `${f} has a button (or a web page) to start it`,
      );
    });
  }
});
