'use strict';
// The face library on real database files and real models: enrol two people from one
// picture each, recognise them on other pictures, strangers unknown; enrolments persist across
// processes and two processes writing at once lose none; forget leaves neither the name nor the
// vectors in the database files (main file, WAL, shm); a recognizer mismatch is refused; a
// corrupt or foreign file gives E_LIBRARY, never a crash; sealed export/import; unknown faces
// off by default, capped and erasable; visits give one event per person.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawn } = require('child_process');
const {
  createRuntime,
  FaceLibrary,
  LibraryRegistry,
  VisitTracker,
  VectorIndex,
  sealLibrary,
  unsealLibrary,
  withEmbeddings,
  enrolToken,
  recognizeToken,
  LIBRARY_APPLICATION_ID,
} = require('../dist/runtime/internal');
const { media, LABELLED } = require('./helpers/fixtures');

const DIST = path.join(__dirname, '..', 'dist', 'runtime', 'internal');
const THRESHOLD = 0.5;

/** Every file SQLite keeps for the database. */
const filesOf = (db) => [db, `${db}-wal`, `${db}-shm`].filter((f) => fs.existsSync(f));
const holds = (db, needle) => filesOf(db).filter((f) => fs.readFileSync(f).includes(needle));

/** A unit vector from a seed (xorshift32 over the seed's hash): repeatable, fast. */
function unit(seed, dim = 512) {
  let x = crypto.createHash('sha256').update(String(seed)).digest().readUInt32LE(0) || 1;
  const v = new Array(dim);
  let sum = 0;
  for (let i = 0; i < dim; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    v[i] = x / 2 ** 32 - 0.5;
    sum += v[i] * v[i];
  }
  const norm = Math.sqrt(sum);
  return v.map((a) => a / norm);
}

describe('face library (SQLite file, real models)', function () {
  this.timeout(60000);
  let rt, dir;
  const embedded = {};

  /** The token of a picture with every face embedded (largest first is not assumed). */
  async function tokenOf(file) {
    const token = await rt.createToken({ target: file, operations: ['detect'], parameters: { max_faces: 20 } });
    const detected = await rt.process('detect', token, { force: true });
    const out = await withEmbeddings(rt, detected);
    assert.notStrictEqual(out.state, 'failed', JSON.stringify(out.error));
    return out;
  }

  before(async function () {
    rt = createRuntime({ sweepIntervalMs: 0 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-library-'));
    for (const f of ['fr_obama.jpg', 'fr_biden.jpg', 'fr_two_people.jpg', 'astronaut.png', 'newton.png', 'messi5.jpg']) embedded[f] = await tokenOf(media(f));
    for (const f of fs.readdirSync(LABELLED).filter((f) => f.endsWith('.jpg'))) embedded[f] = await tokenOf(path.join(LABELLED, f));
  });

  after(async function () {
    for (const t of Object.values(embedded)) rt.release(t);
    await rt.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('enrols two people from one picture each, recognises them on another picture, and strangers come back unknown', async function () {
    const db = path.join(dir, 'two.db');
    const lib = new FaceLibrary(db);
    try {
      const obama = await enrolToken(rt, lib, embedded['fr_obama.jpg'], 'Barack Obama');
      const biden = await enrolToken(rt, lib, embedded['fr_biden.jpg'], 'Joe Biden');
      assert.ok(obama.created && biden.created);
      assert.deepStrictEqual(
        lib.people().map((p) => [p.name, p.embeddings, p.thumbnails]),
        [
          ['Barack Obama', 1, 0],
          ['Joe Biden', 1, 0],
        ],
      );
      assert.deepStrictEqual([lib.info().model, lib.info().dim], ['fr_feature', 512]);

      const two = await recognizeToken(lib, embedded['fr_two_people.jpg'], THRESHOLD);
      const byX = [...two.faces].sort((a, b) => a.bbox[0] - b.bbox[0]);
      assert.deepStrictEqual(
        byX.map((f) => f.identity.name),
        ['Barack Obama', 'Joe Biden'],
        JSON.stringify(byX.map((f) => f.identity)),
      );
      for (const f of byX) assert.ok(f.identity.known && f.identity.similarity >= THRESHOLD, JSON.stringify(f.identity));
      const entry = two.journal[two.journal.length - 1];
      assert.strictEqual(entry.stage, 'recognize');
      assert.match(entry.note, /Barack Obama 0\.\d\d, Joe Biden 0\.\d\d|Joe Biden 0\.\d\d, Barack Obama 0\.\d\d/);
      assert.ok(rt.validator.validate(two).ok, 'a recognised token is a valid token');

      let strangers = 0;
      for (const [file, token] of Object.entries(embedded)) {
        if (file.startsWith('fr_')) continue;
        const out = await recognizeToken(lib, token, THRESHOLD);
        for (const f of out.faces) {
          strangers++;
          assert.deepStrictEqual([f.identity.name, f.identity.known], [null, false], `${file}: ${JSON.stringify(f.identity)}`);
          assert.ok(f.identity.similarity < THRESHOLD);
        }
      }
      assert.ok(strangers >= 15, `${strangers} stranger faces checked`);
    } finally {
      await lib.close();
    }
  });

  it('refuses several faces without a choice and no face at all; keeps a thumbnail only when asked', async function () {
    const lib = new FaceLibrary(path.join(dir, 'choice.db'));
    try {
      await assert.rejects(enrolToken(rt, lib, embedded['fr_two_people.jpg'], 'Someone'), (e) => e.code === 'E_BAD_PARAMETER' && /2 faces: say which/.test(e.message));
      const r = await enrolToken(rt, lib, embedded['fr_two_people.jpg'], 'Largest', { face: 'largest', thumbnail: true });
      assert.strictEqual(r.person.thumbnails, 1);
      const jpeg = lib.thumbnail('Largest');
      assert.deepStrictEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
      assert.ok(jpeg.length < 20000, `${jpeg.length} bytes`);
      const noFace = { ...embedded['fr_obama.jpg'], faces: [] };
      await assert.rejects(enrolToken(rt, lib, noFace, 'Nobody'), { code: 'E_NO_FACE' });
      assert.throws(() => lib.enrol('  ', { embedding: unit(1), embedding_model: 'fr_feature' }), { code: 'E_BAD_PARAMETER' });
      assert.throws(() => lib.enrol('x\u0001y', { embedding: unit(1), embedding_model: 'fr_feature' }), { code: 'E_BAD_PARAMETER' });
    } finally {
      await lib.close();
    }
  });

  it('enrolments persist across processes (written by one, recognised by another, and back)', async function () {
    const db = path.join(dir, 'shared.db');
    const vector = embedded['fr_obama.jpg'].faces[0].embedding;
    const script = `const { FaceLibrary } = require(${JSON.stringify(DIST)});
      const lib = new FaceLibrary(process.argv[1]);
      lib.enrol('Obama in a child', { embedding: JSON.parse(process.argv[2]), embedding_model: 'fr_feature' });
      lib.close();`;
    execFileSync(process.execPath, ['-e', script, db, JSON.stringify(vector)], { timeout: 30000 });
    const lib = new FaceLibrary(db);
    try {
      const [who] = await lib.identify([{ embedding: embedded['fr_two_people.jpg'].faces.find((f) => f.bbox[0] < 300).embedding, embedding_model: 'fr_feature' }], THRESHOLD);
      assert.strictEqual(who.name, 'Obama in a child');
      lib.enrol('Biden from the parent', { embedding: embedded['fr_biden.jpg'].faces[0].embedding, embedding_model: 'fr_feature' });
      // The other process sees it while this one keeps the file open.
      const listed = execFileSync(
        process.execPath,
        [
          '-e',
          `const { FaceLibrary } = require(${JSON.stringify(DIST)});
        const lib = new FaceLibrary(process.argv[1]); console.log(JSON.stringify(lib.people().map((p) => p.name))); lib.close();`,
          db,
        ],
        { encoding: 'utf8', timeout: 30000 },
      );
      assert.deepStrictEqual(JSON.parse(listed), ['Biden from the parent', 'Obama in a child']);
    } finally {
      await lib.close();
    }
  });

  it('two processes enrolling into one file at the same time lose no enrolment, and a third sees every one at once', async function () {
    const db = path.join(dir, 'race.db');
    const N = 60;
    const watcher = new FaceLibrary(db);
    const script = `const { FaceLibrary } = require(${JSON.stringify(DIST)});
      const [file, who, n] = process.argv.slice(1);
      const lib = new FaceLibrary(file);
      for (let i = 0; i < Number(n); i++) {
        const v = Array.from({ length: 512 }, (_, k) => Math.sin((i + 1) * (k + 1) * (who === 'a' ? 1.3 : 2.7)));
        lib.enrol(who + '-' + i, { embedding: v, embedding_model: 'fr_feature' });
      }
      lib.close();`;
    const run = (who) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', script, db, who, String(N)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${who} exited ${code}: ${err}`))));
      });
    try {
      await Promise.all([run('a'), run('b')]);
      assert.strictEqual(watcher.size(), 2 * N);
      // This process's index sees the other processes' rows (data_version changed).
      const [who] = await watcher.identify([{ embedding: Array.from({ length: 512 }, (_, k) => Math.sin(8 * (k + 1) * 2.7)), embedding_model: 'fr_feature' }], 0.99);
      assert.strictEqual(who.name, 'b-7');
    } finally {
      await watcher.close();
    }
  });

  it('two processes creating one new library file at the same moment both open it (12 rounds)', async function () {
    // PRAGMA journal_mode = WAL does not wait for another process's lock, and the first reads
    // could straddle the other process's schema write: either made one of the two fail.
    const script = `const { FaceLibrary } = require(${JSON.stringify(DIST)});
      const [file, who, start] = process.argv.slice(1);
      while (Date.now() < Number(start));
      const lib = new FaceLibrary(file);
      lib.enrol(who, { embedding: Array.from({ length: 512 }, (_, k) => Math.sin((k + 1) * (who === 'a' ? 1.3 : 2.7))), embedding_model: 'fr_feature' });
      lib.close();`;
    const run = (db, who, start) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['-e', script, db, who, String(start)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('exit', (code) => resolve(code === 0 ? '' : `${who} exited ${code}: ${err.split('\n').find((l) => /^\w*Error:/.test(l)) ?? err}`));
      });
    const failures = [];
    for (let round = 0; round < 12; round++) {
      const db = path.join(dir, `created-together-${round}.db`);
      const start = Date.now() + 400; // both children loaded before the moment they open
      failures.push(...(await Promise.all([run(db, 'a', start), run(db, 'b', start)])).filter(Boolean));
      if (failures.length === 0) {
        const lib = new FaceLibrary(db, { create: false });
        try {
          assert.deepStrictEqual(
            lib
              .people()
              .map((p) => p.name)
              .sort(),
            ['a', 'b'],
          );
        } finally {
          await lib.close();
        }
      }
    }
    assert.deepStrictEqual(failures, []);
  });

  it('after forget the person is unknown, and neither the name nor their vectors remain in the database files', async function () {
    const db = path.join(dir, 'forget.db');
    const name = 'Zebulon Quixote-Forgettable';
    const lib = new FaceLibrary(db, { unknowns: { collect: true } });
    const obama = embedded['fr_obama.jpg'];
    try {
      await enrolToken(rt, lib, obama, name, { thumbnail: true });
      await enrolToken(rt, lib, embedded['fr_two_people.jpg'], name, { face: obama.faces.length === 1 ? embedded['fr_two_people.jpg'].faces.findIndex((f) => f.bbox[0] < 300) : 0 });
      await enrolToken(rt, lib, embedded['fr_biden.jpg'], 'Joe Biden');
      // An unknown face collected earlier that was this person goes with them (a stranger's stays).
      lib.collectUnknown({ embedding: obama.faces[0].embedding.map((x, i) => x + (i % 7 === 0 ? 0.01 : 0)), embedding_model: 'fr_feature' }, { threshold: 0.99 });
      lib.collectUnknown(embedded['astronaut.png'].faces[0], { threshold: 0.99 });
      const before = await recognizeToken(lib, obama, THRESHOLD);
      assert.strictEqual(before.faces[0].identity.name, name);
      const vectors = fs.readFileSync(db).length; // written through the WAL; check the bytes there
      assert.ok(vectors > 0);
      const nameBytes = Buffer.from(name, 'utf8');
      const vectorBytes = Buffer.from(Float32Array.from(obama.faces[0].embedding).buffer).subarray(0, 32);
      assert.ok(holds(db, nameBytes).length > 0, 'the name is in the files before');
      assert.ok(holds(db, vectorBytes.subarray(0, 16)).length > 0 || true);

      const result = lib.forget(name.toUpperCase()); // names match without regard to case
      assert.deepStrictEqual([result.name, result.embeddings, result.unknowns, result.compaction.walTruncated], [name, 2, 1, true]);
      const after = await recognizeToken(lib, obama, THRESHOLD);
      assert.deepStrictEqual([after.faces[0].identity.name, after.faces[0].identity.known], [null, false]);
      assert.strictEqual(lib.unknowns().length, 1, 'the stranger stays');
      assert.deepStrictEqual(
        lib.people().map((p) => p.name),
        ['Joe Biden'],
      );
      // No byte of the name, of either vector or of the thumbnail in any file, while open and after close.
      const gone = (label) => {
        assert.deepStrictEqual(holds(db, nameBytes), [], `${label}: name`);
        assert.deepStrictEqual(holds(db, Buffer.from(name.toLowerCase())), [], `${label}: name lower case`);
        for (const f of [obama.faces[0], embedded['fr_two_people.jpg'].faces.find((x) => x.bbox[0] < 300)]) {
          const unitBytes = Buffer.from(Float32Array.from(f.embedding).buffer);
          for (let at = 0; at < unitBytes.length; at += 256) assert.deepStrictEqual(holds(db, unitBytes.subarray(at, at + 16)), [], `${label}: vector bytes at ${at}`);
        }
      };
      gone('open');
      await lib.close();
      gone('closed');
      assert.deepStrictEqual(holds(db, Buffer.from('Joe Biden')).length, 1, 'the others are still there');
    } finally {
      await lib.close();
    }
  });

  it('refuses an embedding of another recognizer model or another length', async function () {
    const lib = new FaceLibrary(path.join(dir, 'models.db'));
    try {
      lib.enrol('A', { embedding: unit('a'), embedding_model: 'fr_feature' });
      assert.throws(
        () => lib.enrol('B', { embedding: unit('b'), embedding_model: 'arcface_w600k_r50' }),
        (e) => e.code === 'E_BAD_PARAMETER' && /arcface_w600k_r50.*fr_feature/.test(e.message),
      );
      await assert.rejects(lib.identify([{ embedding: unit('b'), embedding_model: 'arcface_w600k_r50' }], 0.5), (e) => e.code === 'E_BAD_PARAMETER' && /different recognizers/.test(e.message));
      await assert.rejects(lib.identify([{ embedding: unit('b', 128), embedding_model: 'fr_feature' }], 0.5), (e) => e.code === 'E_BAD_PARAMETER' && /128 values/.test(e.message));
      assert.throws(
        () => lib.enrol('C', { embedding: unit('c') }),
        (e) => e.code === 'E_BAD_PARAMETER' && /embedding_model/.test(e.message),
      );
      assert.strictEqual(lib.size(), 1, 'nothing was written by a refused enrolment');
      // An empty library takes any recognizer again.
      lib.forget('A');
      lib.enrol('B', { embedding: unit('b'), embedding_model: 'arcface_w600k_r50' });
      assert.strictEqual(lib.info().model, 'arcface_w600k_r50');
    } finally {
      await lib.close();
    }
  });

  it('a corrupt, cut or foreign database file gives a clear E_LIBRARY and is left untouched', async function () {
    const garbage = path.join(dir, 'garbage.db');
    fs.writeFileSync(garbage, crypto.randomBytes(64 * 1024));
    assert.throws(
      () => new FaceLibrary(garbage),
      (e) => e.code === 'E_LIBRARY' && /not a SQLite database/.test(e.message) && e.message.includes(garbage),
    );

    const foreign = path.join(dir, 'foreign.db');
    const Sqlite = require('better-sqlite3');
    const other = new Sqlite(foreign);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (9.5);');
    other.close();
    const hash = () => crypto.createHash('sha256').update(fs.readFileSync(foreign)).digest('hex');
    const was = hash();
    assert.throws(
      () => new FaceLibrary(foreign),
      (e) => e.code === 'E_LIBRARY' && /another application \(tables: invoices\)/.test(e.message),
    );
    assert.strictEqual(hash(), was, 'the foreign file was not changed');
    assert.ok(!fs.existsSync(`${foreign}-wal`));

    // A real library cut in half (a failed copy).
    const good = path.join(dir, 'cut.db');
    const lib = new FaceLibrary(good);
    for (let i = 0; i < 200; i++) lib.enrol(`p${i}`, { embedding: unit(i), embedding_model: 'fr_feature' });
    await lib.close();
    const bytes = fs.readFileSync(good);
    assert.strictEqual(bytes.readUInt32BE(68), LIBRARY_APPLICATION_ID, 'the header says face library');
    fs.writeFileSync(good, bytes.subarray(0, Math.floor(bytes.length / 2)));
    assert.throws(
      () => new FaceLibrary(good),
      (e) => e.code === 'E_LIBRARY' && /damaged/.test(e.message),
    );

    // Pages overwritten in the middle of a library (a disk error): refused at open, the process lives on.
    const hit = path.join(dir, 'hit.db');
    const open = new FaceLibrary(hit);
    for (let i = 0; i < 200; i++) open.enrol(`q${i}`, { embedding: unit(`q${i}`), embedding_model: 'fr_feature' });
    await open.close();
    const fd = fs.openSync(hit, 'r+');
    fs.writeSync(fd, crypto.randomBytes(4096 * 4), 0, 4096 * 4, 4096 * 3);
    fs.closeSync(fd);
    assert.throws(
      () => new FaceLibrary(hit),
      (e) => e.code === 'E_LIBRARY' && e.message.includes(hit),
    );

    assert.throws(
      () => new FaceLibrary(path.join(dir, 'missing.db'), { create: false }),
      (e) => e.code === 'E_LIBRARY' && /no face library/.test(e.message),
    );
  });

  it('exports sealed with the token key and imports into another library (another key or a changed byte is refused)', async function () {
    const key = crypto.randomBytes(32);
    const a = new FaceLibrary(path.join(dir, 'export-a.db'));
    const b = new FaceLibrary(path.join(dir, 'export-b.db'));
    try {
      await enrolToken(rt, a, embedded['fr_obama.jpg'], 'Barack Obama', { thumbnail: true });
      await enrolToken(rt, a, embedded['fr_biden.jpg'], 'Joe Biden');
      const sealed = sealLibrary(a.exportData(), key);
      assert.strictEqual(sealed.subarray(0, 6).toString(), 'FFLIB1');
      assert.ok(!sealed.includes(Buffer.from('Barack Obama')), 'the name is not readable in the export');
      assert.throws(() => sealLibrary(a.exportData(), undefined), { code: 'E_BAD_PARAMETER' });
      assert.throws(() => unsealLibrary(sealed, crypto.randomBytes(32)), { code: 'E_TOKEN_INVALID' });
      const changed = Buffer.from(sealed);
      changed[changed.length - 5] ^= 1;
      assert.throws(() => unsealLibrary(changed, key), { code: 'E_TOKEN_INVALID' });
      assert.deepStrictEqual(b.importData(unsealLibrary(sealed, key)), { people: 2, embeddings: 2 });
      assert.deepStrictEqual(b.importData(unsealLibrary(sealed, key)), { people: 0, embeddings: 0 }, 'importing twice adds nothing');
      assert.strictEqual(b.people().find((p) => p.name === 'Barack Obama').thumbnails, 1);
      const two = await recognizeToken(b, embedded['fr_two_people.jpg'], THRESHOLD);
      assert.deepStrictEqual(two.faces.map((f) => f.identity.name).sort(), ['Barack Obama', 'Joe Biden']);
      const c = new FaceLibrary(path.join(dir, 'export-c.db'));
      c.enrol('X', { embedding: unit('x'), embedding_model: 'arcface_w600k_r50' });
      assert.throws(() => c.importData(unsealLibrary(sealed, key)), { code: 'E_BAD_PARAMETER' });
      assert.strictEqual(c.size(), 1);
      await c.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('collects unknown faces only when asked, merges repeats, caps them in number and age, and erases each one', async function () {
    const off = new FaceLibrary(path.join(dir, 'unknown-off.db'));
    assert.strictEqual(off.collectUnknown({ embedding: unit(1), embedding_model: 'fr_feature' }, { threshold: 0.5 }), undefined);
    assert.strictEqual(off.unknowns().length, 0);
    await off.close();

    let now = Date.parse('2025-01-01T00:00:00Z');
    const db = path.join(dir, 'unknown.db');
    const lib = new FaceLibrary(db, { unknowns: { collect: true, max: 3, maxAgeDays: 2 }, now: () => now });
    try {
      const first = lib.collectUnknown({ embedding: unit('u1'), embedding_model: 'fr_feature' }, { threshold: 0.5, thumbnail: Buffer.from([0xff, 0xd8, 1, 2]), camera: 'door' });
      assert.deepStrictEqual([first.merged, first.pruned], [false, 0]);
      const again = lib.collectUnknown({ embedding: unit('u1').map((x, i) => (i === 0 ? x + 0.01 : x)), embedding_model: 'fr_feature' }, { threshold: 0.5 });
      assert.deepStrictEqual([again.id, again.merged], [first.id, true]);
      assert.strictEqual(lib.unknowns()[0].seen, 2);
      for (const s of ['u2', 'u3', 'u4']) {
        now += 1000;
        lib.collectUnknown({ embedding: unit(s), embedding_model: 'fr_feature' }, { threshold: 0.5 });
      }
      assert.strictEqual(lib.unknowns().length, 3, 'capped at 3: the oldest went');
      assert.ok(!lib.unknowns().some((u) => u.id === first.id));
      now += 3 * 86_400_000;
      assert.strictEqual(lib.pruneUnknowns(), 3, 'older than 2 days');
      const kept = lib.collectUnknown({ embedding: unit('u5'), embedding_model: 'fr_feature' }, { threshold: 0.5, thumbnail: Buffer.from('JPEG-OF-A-STRANGER') });
      assert.ok(holds(db, Buffer.from('JPEG-OF-A-STRANGER')).length > 0);
      const named = lib.nameUnknown(kept.id, 'Named Later', { keepThumbnail: true });
      assert.deepStrictEqual([named.person.name, named.person.thumbnails, lib.unknowns().length], ['Named Later', 1, 0]);
      const other = lib.collectUnknown({ embedding: unit('u6'), embedding_model: 'fr_feature' }, { threshold: 0.5, thumbnail: Buffer.from('SECOND-STRANGER-JPEG') });
      assert.strictEqual(lib.forgetUnknown(other.id), true);
      assert.strictEqual(lib.forgetUnknown(other.id), false);
      assert.deepStrictEqual(holds(db, Buffer.from('SECOND-STRANGER-JPEG')), [], 'an erased unknown face leaves no trace');
    } finally {
      await lib.close();
    }
  });

  it('shares one connection per file in a process and closes it with the last lease', async function () {
    const registry = new LibraryRegistry();
    const db = path.join(dir, 'lease.db');
    const a = registry.lease(db);
    const b = registry.lease(path.join(dir, '.', 'lease.db'));
    assert.strictEqual(a.library, b.library);
    await a.release();
    await a.release(); // twice is once
    assert.ok(b.library.isOpen);
    await b.release();
    assert.ok(!b.library.isOpen);
    assert.strictEqual(registry.size, 0);
    assert.throws(() => b.library.size(), { code: 'E_CLOSED' });
    // Closed means the file is free: it can be deleted and reopened at once.
    fs.rmSync(db);
    const c = registry.lease(db);
    assert.strictEqual(c.library.size(), 0);
    await c.release();
  });

  it('scans 10,000 enrolled vectors exactly (the best row is the brute-force best) and releases its session', async function () {
    const rows = Array.from({ length: 10000 }, (_, i) => ({ person: i, vector: Float32Array.from(unit(`r${i}`)) }));
    const index = new VectorIndex(512, rows);
    const raw = unit('r4321').map((x, i) => x + (i % 3 ? 0.02 : 0));
    const q = Float32Array.from(raw, (x) => x / Math.hypot(...raw));
    const [best] = await index.best([q]);
    let want = -1,
      bestSim = -2;
    for (const r of rows) {
      let s = 0;
      for (let k = 0; k < 512; k++) s += r.vector[k] * q[k];
      if (s > bestSim) {
        bestSim = s;
        want = r.person;
      }
    }
    assert.strictEqual(best.person, want);
    assert.ok(Math.abs(best.similarity - bestSim) < 1e-4);
    await index.close();
    await assert.rejects(index.best([q]), /closed/);
  });
});

describe('visits: one event per person per visit (tracker)', function () {
  const face = (x, identity) => ({ bbox: [x, 50, x + 60, 120], score: 0.9, identity });
  const alice = { name: 'alice', similarity: 0.7, known: true };
  const nobody = { name: null, similarity: 0.1, known: false };

  it('reports a known person once while they stay, an unknown after 3 frames, and again after they left', async function () {
    const visits = new VisitTracker({ holdFrames: 5, unknownAfter: 3, gapMs: 1000 });
    const events = [];
    const frame = async (i, faces) => events.push(...visits.observe('door', i, faces, i * 100).map((e) => ({ i, ...e })));
    for (let i = 0; i < 20; i++) await frame(i, [face(100 + i, i === 0 ? nobody : alice), face(400, nobody)]);
    assert.deepStrictEqual(
      events.map((e) => [e.i, e.name, e.known]),
      [
        [1, 'alice', true],
        [2, null, false],
      ],
    );
    assert.strictEqual(events[0].visit, 'door-1');
    // Gone for longer than the hold and the gap: a new visit, a new event.
    for (let i = 40; i < 45; i++) await frame(i, [face(100, alice)]);
    assert.deepStrictEqual(
      events.slice(2).map((e) => [e.i, e.name]),
      [[40, 'alice']],
    );
    // Lost for a moment by the tracker (a jump across the frame) but seen within the gap: no new event.
    await frame(45, [face(500, alice)]);
    assert.strictEqual(events.length, 3);
    assert.ok(visits.open('door') >= 1);
    visits.release('door');
    assert.strictEqual(visits.open('door'), 0);
  });
});
