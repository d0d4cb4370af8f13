/* Versioned node configs (docs/ARCHITECTURE.md, "Dialog defaults and saved flows"), read by
   both sides like node-defaults.js:
   - the runtime: src/nodes/lib/node-defaults.ts migrates a saved node before it fills the
     fields it lacks, so a flow saved by an older version runs as it did;
   - the editor: resources/facefusion-editor.js migrates each node as a flow loads or is
     imported (Node-RED's `nodes:add` event), marks the flow changed and says so, so the next
     deploy saves the new form.
   Every node saves `configVersion`. A node saved without it was saved by 0.1.0: version 1.
   A step turns version `to - 1` into `to`; steps never read the defaults table (a default may
   change later, a saved value must not). A field a step renames or removes is listed in
   `removes`, so the editor keeps it long enough to migrate it (Node-RED copies only declared
   fields when it loads a node). Add a step here, never edit an old one, and add a flow saved
   by the old version to test/fixtures/flows/ with a test that it runs unchanged. */
(function (root, factory) {
  'use strict';
  var table = factory();
  if (typeof module === 'object' && module.exports) module.exports = table;
  else root.FaceFusionMigrations = table;
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';
  var FIELD = 'configVersion';

  function rename(node, from, to) {
    if (Object.prototype.hasOwnProperty.call(node, from)) {
      if (node[to] === undefined) node[to] = node[from];
      delete node[from];
    }
  }

  var STEPS = {
    // 0.1.0 → 0.2: "release" said neither what nor when; it frees the token's pictures once encoded / packed.
    'face-image': [
      {
        to: 2,
        removes: ['release'],
        note: 'release → releaseFrames',
        up: function (n) {
          rename(n, 'release', 'releaseFrames');
        },
      },
    ],
    'face-pack': [
      {
        to: 2,
        removes: ['release'],
        note: 'release → releaseFrames',
        up: function (n) {
          rename(n, 'release', 'releaseFrames');
        },
      },
    ],
    // Before it took the name face image and face pack use for the same choice.
    'face-recognize': [
      {
        to: 2,
        removes: ['release'],
        note: 'release → releaseFrames',
        up: function (n) {
          rename(n, 'release', 'releaseFrames');
        },
      },
    ],
  };

  /** The version a node of `type` is saved with now. */
  function currentVersion(type) {
    var steps = STEPS[type];
    return steps && steps.length ? steps[steps.length - 1].to : 1;
  }

  /** The version a saved node says it has (1 when it says none: saved by 0.1.0). */
  function versionOf(node) {
    var v = Number(node && node[FIELD]);
    return Number.isInteger(v) && v >= 1 ? v : 1;
  }

  /** Fields older versions of `type` saved that the current one does not. */
  function legacyFields(type) {
    var out = [];
    (STEPS[type] || []).forEach(function (step) {
      (step.removes || []).forEach(function (f) {
        if (out.indexOf(f) < 0) out.push(f);
      });
    });
    return out;
  }

  /**
   * A saved node in the current form: { node: a migrated copy (the input is left alone), from,
   * to, notes }. A node already current (or of a type without steps) comes back as a copy with
   * `configVersion` set. A node from a newer version than this one is left as it is.
   */
  function migrate(type, saved) {
    var node = {};
    for (var key in saved) if (Object.prototype.hasOwnProperty.call(saved, key)) node[key] = saved[key];
    var from = versionOf(saved);
    var to = currentVersion(type);
    var notes = [];
    if (from > to) return { node: node, from: from, to: from, notes: notes };
    (STEPS[type] || []).forEach(function (step) {
      if (step.to > from) {
        step.up(node);
        notes.push(step.note);
      }
    });
    node[FIELD] = to;
    return { node: node, from: from, to: to, notes: notes };
  }

  return { FIELD: FIELD, steps: STEPS, currentVersion: currentVersion, versionOf: versionOf, legacyFields: legacyFields, migrate: migrate };
});
