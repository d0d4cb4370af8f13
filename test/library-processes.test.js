'use strict';
// Two Node-RED processes sharing one face library file: each enrols people
// as fast as its flow goes, at the same time as the other; no enrolment is lost, and each
// process then recognises the people the other one enrolled.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { FaceLibrary } = require('../dist/runtime/internal');
const { ROOT, freePort, waitFor, cleanEnv, startNodeRed, api, deploy } = require('./helpers/node-red-process');

const EACH = 12;

describe('two Node-RED processes sharing one face library file', function () {
  this.timeout(120000);
  let dir, db;
  const reds = {};

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-library-procs-'));
    db = path.join(dir, 'shared.db');
    const settings = path.join(ROOT, 'scripts', 'node-red-settings.js');
    await Promise.all(
      ['a', 'b'].map(async (name) => {
        const userDir = fs.mkdtempSync(path.join(dir, `red-${name}-`));
        const port = await freePort();
        reds[name] = await startNodeRed({ userDir, settings, port, env: cleanEnv({ PORT: String(port) }) });
      }),
    );
  });

  after(async function () {
    await Promise.all(Object.values(reds).map((r) => r.stop()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A flow that enrols EACH people named `<who>-<i>` (the sample portrait) and recognises on demand. */
  function flowOf(who) {
    const p = (id) => `${who}-${id}`;
    return [
      { id: p('tab'), type: 'tab', label: who },
      { id: p('cfg'), type: 'facefusion-config', device: 'cpu' },
      { id: p('lib'), type: 'face-library', path: db },
      { id: p('go'), z: p('tab'), type: 'inject', name: 'go', props: [{ p: 'payload' }], payloadType: 'date', wires: [[p('many')]] },
      {
        id: p('many'),
        z: p('tab'),
        type: 'function',
        func: `return [Array.from({ length: ${EACH} }, (_, i) => ({ payload: 'sample:obama.jpg', name: '${who}-' + i }))];`,
        outputs: 1,
        wires: [[p('tok')]],
      },
      { id: p('tok'), z: p('tab'), type: 'face-token', config: p('cfg'), queueSize: 100, wires: [[p('det')]] },
      { id: p('det'), z: p('tab'), type: 'face-detect', config: p('cfg'), queueSize: 100, wires: [[p('enrol')]] },
      { id: p('enrol'), z: p('tab'), type: 'face-enrol', config: p('cfg'), library: p('lib'), queueSize: 100, wires: [[]] },
      { id: p('ask'), z: p('tab'), type: 'inject', name: 'ask', props: [{ p: 'payload', v: 'sample:two-people.jpg', vt: 'str' }], wires: [[p('tok2')]] },
      { id: p('tok2'), z: p('tab'), type: 'face-token', config: p('cfg'), wires: [[p('det2')]] },
      { id: p('det2'), z: p('tab'), type: 'face-detect', config: p('cfg'), wires: [[p('rec')]] },
      { id: p('rec'), z: p('tab'), type: 'face-recognize', config: p('cfg'), library: p('lib'), releaseFrames: true, wires: [[p('names')], []] },
      { id: p('names'), z: p('tab'), type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'people', tot: 'msg' }], wires: [[p('people')]] },
      {
        id: p('people'),
        z: p('tab'),
        type: 'file',
        filename: path.join(dir, `${who}-people.txt`),
        filenameType: 'str',
        appendNewline: true,
        createDir: true,
        overwriteFile: 'true',
        encoding: 'none',
        wires: [[]],
      },
    ];
  }

  const press = (red, id) =>
    waitFor(
      () =>
        api(red.port, 'POST', `/inject/${id}`).then(
          () => true,
          () => false,
        ),
      20000,
      `inject ${id}`,
    );

  it("enrolling at the same time in both loses no enrolment, and each sees the other's people", async function () {
    await Promise.all(['a', 'b'].map((who) => deploy(reds[who].port, flowOf(who))));
    await Promise.all(['a', 'b'].map((who) => press(reds[who], `${who}-go`)));
    const count = () => {
      if (!fs.existsSync(db)) return 0;
      const lib = new FaceLibrary(db, { create: false });
      try {
        return lib.size();
      } finally {
        lib.close();
      }
    };
    await waitFor(
      () => count() === 2 * EACH,
      90000,
      () => `${2 * EACH} people (have ${count()}):\n${reds.a.log.slice(-1500)}\n${reds.b.log.slice(-1500)}`,
    );
    const lib = new FaceLibrary(db, { create: false });
    try {
      const names = lib
        .people()
        .map((p) => p.name)
        .sort();
      assert.deepStrictEqual(names, [...Array.from({ length: EACH }, (_, i) => `a-${i}`), ...Array.from({ length: EACH }, (_, i) => `b-${i}`)].sort());
    } finally {
      await lib.close();
    }
    // Process a recognises the portrait's person as someone enrolled (by either process).
    await press(reds.a, 'a-ask');
    const answer = path.join(dir, 'a-people.txt');
    await waitFor(() => fs.existsSync(answer) && fs.statSync(answer).size > 0, 30000, "process a's answer");
    assert.match(fs.readFileSync(answer, 'utf8'), /^\["[ab]-\d+"\]/, 'Obama recognised under one of the enrolled names');
    for (const red of Object.values(reds))
      assert.deepStrictEqual(
        red.log.split('\n').filter((l) => /\[(error|warn)\]/.test(l) && !/credentials|Projects disabled/i.test(l)),
        [],
      );
  });
});
