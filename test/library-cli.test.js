'use strict';
// `facefusion-node library …` as users run it: the real bin in a child process on a
// real database file — enrol, who (picture, video, --json), list, forget, sealed export/import,
// and the exit codes of bad arguments and a missing or foreign file.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { media } = require('./helpers/fixtures');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');
const SAMPLES = path.join(__dirname, '..', 'samples');

/** The bin in a child process (the door users walk through). */
function spawned(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'library', ...args], { env: { ...process.env, ...env } });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The same main() in this process (faster: no Node start per call). */
async function cli(args, env = {}) {
  const { main } = require(CLI);
  const saved = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: {
      write: (t) => {
        out.stdout += t;
        return true;
      },
    },
    stderr: {
      write: (t) => {
        out.stderr += t;
        return true;
      },
    },
  };
  try {
    const code = await main(['library', ...args], io);
    return { code, ...out };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('facefusion-node library (CLI)', function () {
  this.timeout(60000);
  let dir, db;

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-library-cli-'));
    db = path.join(dir, 'people.db');
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('enrol, who on a picture and on a video, list, forget', async function () {
    let r = await spawned(['enrol', '--db', db, '--name', 'Barack Obama', '--thumbnails', media('fr_obama.jpg')]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /^enrolled Barack Obama from .*fr_obama\.jpg \(1 picture, \d+ ms\)/);
    r = await cli(['enrol', '--db', db, '--name', 'Joe Biden', media('fr_biden.jpg'), media('fr_two_people.jpg')]);
    assert.strictEqual(r.code, 1, 'one of the pictures has two faces');
    assert.match(r.stderr, /fr_two_people\.jpg: E_BAD_PARAMETER: the picture has 2 faces: .*--largest/);
    assert.match(r.stdout, /enrolled Joe Biden/);

    r = await spawned(['who', '--db', db, media('fr_two_people.jpg')]);
    assert.strictEqual(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.deepStrictEqual(lines.map((l) => l[0]).sort(), ['Barack Obama', 'Joe Biden']);
    for (const l of lines) assert.match(l[2], /^\[\d+, \d+, \d+, \d+\]$/);

    r = await cli(['who', '--db', db, '--json', media('astronaut.png')]);
    const stranger = JSON.parse(r.stdout).faces;
    assert.strictEqual(stranger.length, 1);
    assert.deepStrictEqual([stranger[0].name, stranger[0].known], [null, false]);

    r = await cli(['who', '--db', db, '--json', '--every', '15', path.join(SAMPLES, 'two-people.mp4')]);
    assert.strictEqual(r.code, 0, r.stderr);
    const frames = JSON.parse(r.stdout).frames;
    assert.deepStrictEqual(
      frames.map((f) => f.frame),
      [0, 15],
    );
    for (const f of frames) assert.deepStrictEqual(f.faces.map((x) => x.name).sort(), ['Barack Obama', 'Joe Biden']);

    r = await cli(['list', '--db', db]);
    assert.match(r.stdout, /^2 people, 2 pictures \(fr_feature, 512 values\), 0 unknown faces in /);
    assert.match(r.stdout, /\nBarack Obama\t1 picture\tsince /);

    r = await cli(['forget', '--db', db, '--name', 'barack obama']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /^forgot Barack Obama: 1 picture erased, file compacted\n$/);
    r = await cli(['list', '--db', db, '--json']);
    assert.deepStrictEqual(
      JSON.parse(r.stdout).list.map((p) => p.name),
      ['Joe Biden'],
    );
    r = await cli(['forget', '--db', db, '--name', 'Barack Obama']);
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /nobody called "Barack Obama"/);
  });

  it('export is sealed with FACEFUSION_TOKEN_KEY and imports only with it', async function () {
    const key = crypto.randomBytes(32).toString('hex');
    const out = path.join(dir, 'people.fflib');
    let r = await cli(['export', '--db', db, '--out', out], { FACEFUSION_TOKEN_KEY: '' });
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /FACEFUSION_TOKEN_KEY/);
    r = await cli(['export', '--db', db, '--out', out], { FACEFUSION_TOKEN_KEY: key });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.ok(!fs.readFileSync(out).includes(Buffer.from('Joe Biden')));
    const other = path.join(dir, 'other.db');
    r = await cli(['import', '--db', other, out], { FACEFUSION_TOKEN_KEY: crypto.randomBytes(32).toString('hex') });
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /E_TOKEN_INVALID: .*different key/);
    r = await cli(['import', '--db', other, out], { FACEFUSION_TOKEN_KEY: key });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 1 new people and 1 pictures/);
  });

  it('bad arguments exit 2 with the usage; a missing or foreign file exits 1 with E_LIBRARY', async function () {
    let r = await spawned(['enrol', '--name', 'X', media('fr_obama.jpg')]);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /^error: --db FILE is required.*\nsee facefusion-node library --help\n$/, 'the error on one line, then where the usage is');
    r = await cli(['who', '--db', db, '--threshold', '3', media('fr_obama.jpg')]);
    assert.strictEqual(r.code, 2);
    r = await cli(['dance', '--db', db]);
    assert.strictEqual(r.code, 2);
    r = await cli(['list', '--db', path.join(dir, 'nothing.db')]);
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /E_LIBRARY: no face library at/);
    const notes = path.join(dir, 'notes.txt');
    fs.writeFileSync(notes, 'shopping list\n'.repeat(200));
    r = await cli(['list', '--db', notes]);
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /E_LIBRARY: .*not a SQLite database/);
    assert.strictEqual(fs.readFileSync(notes, 'utf8'), 'shopping list\n'.repeat(200));
  });
});
