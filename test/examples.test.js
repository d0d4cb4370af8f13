'use strict';
// The shipped example flows as files: importing them one after another into one editor never
// hits "some of the nodes you are importing already exist" (ids unique across all examples),
// each is self-contained, and each says where the user's own files go.
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const DIR = path.join(__dirname, '..', 'examples');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const load = (f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));

describe('example flows (files)', function () {
  it('importing every example one after another gives no id conflict', function () {
    const owner = new Map();
    for (const f of files) {
      for (const n of load(f)) {
        assert.ok(!owner.has(n.id), `${f}: id ${n.id} (${n.type}) is also in ${owner.get(n.id)}`);
        owner.set(n.id, f);
      }
    }
    assert.ok(files.length >= 7, files.join(', '));
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
      assert.ok(nodes.some((n) => n.type === 'inject' || n.type === 'http in'), `${f} has a button (or a web page) to start it`);
    });
  }
});
