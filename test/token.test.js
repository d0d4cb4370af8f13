'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {
  TokenValidator,
  isFaceToken,
  createToken,
  advance,
  failToken,
  skipStage,
  isExpired,
  tokenFrameRefs,
  forkToken,
  deepFreeze,
  parseFrameRef,
  makeFrameRef,
  sealToken,
  unsealToken,
  SEAL_PREFIX,
  STAGES,
} = require('../dist/runtime/internal');

const NOW = Date.UTC(2024, 0, 31, 12, 0, 0);

function embedding(n = 512, seed = 1) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(Math.sin(seed * (i + 1)) / Math.sqrt(n));
  return out;
}

function sampleFace() {
  const landmarks68 = [];
  for (let i = 0; i < 68; i++) landmarks68.push([100 + i, 200 + (i % 7)]);
  return {
    bbox: [10, 20, 110, 140],
    score: 0.93,
    landmarks5: [
      [40, 60],
      [80, 60],
      [60, 85],
      [45, 110],
      [75, 110],
    ],
    landmarks68,
    embedding: embedding(),
  };
}

function baseToken(extra = {}) {
  return createToken({
    target: { frame: 'frame:target_1', width: 512, height: 512 },
    source: { frame: 'frame:source-1' },
    operations: ['detect', 'landmark', 'embed', 'swap'],
    parameters: { blend_ratio: 0.8, face_selector: 'one', face_size: 256, custom_flag: true },
    now: NOW,
    ...extra,
  });
}

/** A plain, mutable JSON copy for building broken tokens. */
function plain(token) {
  return JSON.parse(JSON.stringify(token));
}

function expectInvalid(validator, value, ...fragments) {
  const result = validator.validate(value);
  assert.equal(result.ok, false, 'expected the token to be rejected');
  const joined = result.errors.join('; ');
  for (const fragment of fragments) assert.ok(joined.includes(fragment), `expected "${fragment}" in: ${joined}`);
  assert.throws(
    () => validator.assert(value),
    (err) => {
      assert.equal(err.name, 'FaceError');
      assert.equal(err.code, 'E_TOKEN_INVALID');
      assert.match(err.message, /^token is invalid: /);
      for (const fragment of fragments) assert.ok(err.message.includes(fragment), `expected "${fragment}" in: ${err.message}`);
      return true;
    },
  );
  return result.errors;
}

describe('face token', function () {
  const validator = new TokenValidator();

  describe('createToken', function () {
    it('makes a valid, deep-frozen, initialized token', function () {
      const token = baseToken();
      const result = validator.validate(token);
      assert.equal(result.ok, true, result.ok ? '' : result.errors.join('; '));
      assert.equal(token.v, 1);
      assert.match(token.request_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(token.state, 'initialized');
      assert.deepEqual(token.faces, []);
      assert.deepEqual(token.journal, []);
      assert.equal(token.created_at, '2024-01-31T12:00:00.000Z');
      assert.equal(token.expires_at, '2024-01-31T12:05:00.000Z');
      assert.ok(Object.isFrozen(token));
      assert.ok(Object.isFrozen(token.target));
      assert.ok(Object.isFrozen(token.parameters));
      assert.ok(Object.isFrozen(token.operations));
      assert.ok(isFaceToken(token));
    });

    it('honours ttlMs, job_id and request_id, and omits absent optional fields', function () {
      const id = crypto.randomUUID();
      const token = createToken({ target: { frame: 'frame:a' }, ttlMs: 1000, job_id: 'job-7', request_id: id, now: NOW });
      assert.equal(token.request_id, id);
      assert.equal(token.job_id, 'job-7');
      assert.equal(Date.parse(token.expires_at) - Date.parse(token.created_at), 1000);
      assert.ok(!('source' in token));
      assert.ok(!('error' in token));
      assert.deepEqual(token.operations, []);
      assert.deepEqual(token.parameters, {});
      assert.equal(validator.validate(token).ok, true);
    });

    it('copies caller objects instead of freezing them', function () {
      const parameters = { blend_ratio: 0.5 };
      const target = { frame: 'frame:a' };
      const token = createToken({ target, parameters, now: NOW });
      assert.ok(!Object.isFrozen(parameters));
      assert.ok(!Object.isFrozen(target));
      parameters.blend_ratio = 0.9;
      assert.equal(token.parameters.blend_ratio, 0.5);
    });

    it('refuses bad input with E_BAD_PARAMETER', function () {
      const cases = [
        [{ target: { frame: 'nope' } }, /frame reference/],
        [{ target: { frame: 'frame:a' }, operations: ['detect', 'explode'] }, /"explode" is not a stage/],
        [{ target: { frame: 'frame:a' }, operations: ['detect', 'detect'] }, /listed twice/],
        [{ target: { frame: 'frame:a' }, ttlMs: 0 }, /ttlMs/],
        [{ target: { frame: 'frame:a' }, request_id: 'not-a-uuid' }, /request_id must be a UUID/],
        [{}, /target is required/],
      ];
      for (const [init, message] of cases) {
        assert.throws(
          () => createToken(init),
          (err) => err.code === 'E_BAD_PARAMETER' && message.test(err.message),
        );
      }
    });

    it('turns typed-array embeddings into plain arrays that survive JSON', function () {
      const token = createToken({
        target: { frame: 'frame:a' },
        source: { embedding: Float32Array.from(embedding(512, 3)) },
        now: NOW,
      });
      assert.ok(Array.isArray(token.source.embedding));
      assert.equal(token.source.embedding.length, 512);
      assert.equal(validator.validate(plain(token)).ok, true);
    });
  });

  describe('schema', function () {
    it('accepts a full token with faces, journal and error', function () {
      let token = baseToken({ job_id: 'job-1' });
      token = advance(token, { faces: [sampleFace(), sampleFace()], state: 'running' }, { stage: 'detect', ms: 12.5, outcome: 'ok' });
      token = failToken(token, 'swap', { code: 'E_NO_FACE', message: 'no face in source' }, 3);
      const result = validator.validate(token);
      assert.equal(result.ok, true, result.ok ? '' : result.errors.join('; '));
    });

    it('rejects a blend_ratio above 1, naming the field', function () {
      const bad = plain(baseToken());
      bad.parameters.blend_ratio = 1.5;
      expectInvalid(validator, bad, '/parameters/blend_ratio must be <= 1');
    });

    it('rejects an unknown operation', function () {
      const bad = plain(baseToken());
      bad.operations.push('explode');
      expectInvalid(validator, bad, '/operations/4 must be one of', '"explode"');
    });

    it('rejects duplicate operations', function () {
      const bad = plain(baseToken());
      bad.operations.push('detect');
      expectInvalid(validator, bad, '/operations must not repeat items');
    });

    it('rejects a bad frame ref', function () {
      const bad = plain(baseToken());
      bad.target.frame = 'target.png';
      bad.source.frame = 'frame:has space';
      expectInvalid(validator, bad, '/target/frame must match "frame:<id>"', '/source/frame must match "frame:<id>"');
    });

    it('rejects an extra top-level key, naming it', function () {
      const bad = plain(baseToken());
      bad.pixels = [1, 2, 3];
      expectInvalid(validator, bad, '/pixels is not allowed', 'unexpected key "pixels"');
    });

    it('rejects a missing target', function () {
      const bad = plain(baseToken());
      delete bad.target;
      expectInvalid(validator, bad, '/target is required');
    });

    it('rejects a wrong version', function () {
      const bad = plain(baseToken());
      bad.v = 2;
      expectInvalid(validator, bad, '/v must be 1');
    });

    it('rejects bad types, ranges and formats, listing every problem', function () {
      const bad = plain(baseToken());
      bad.request_id = 'abc';
      bad.created_at = 'yesterday';
      bad.state = 'exploded';
      bad.parameters.face_size = 100.5;
      bad.parameters.max_faces = 0;
      bad.parameters.device_mode = 'tpu';
      bad.faces = [{ bbox: [1, 2, 3], score: 'high', landmarks5: [[1, 2]] }];
      bad.journal = [{ stage: 'detect', at: 'now', ms: -1, outcome: 'ok' }];
      const errors = expectInvalid(
        validator,
        bad,
        '/request_id must be a UUID',
        '/created_at must be an ISO 8601 date-time',
        '/state must be one of',
        '/parameters/face_size must be an integer',
        '/parameters/max_faces must be >= 1',
        '/parameters/device_mode must be one of',
        '/faces/0/bbox must have at least 4 items',
        '/faces/0/score must be a number',
        '/faces/0/landmarks5 must have at least 5 items',
        '/journal/0/at must be an ISO 8601 date-time',
        '/journal/0/ms must be >= 0',
      );
      assert.ok(errors.length >= 11);
    });

    it('rejects non-objects and NaN', function () {
      expectInvalid(validator, null, 'token must be an object');
      expectInvalid(validator, 'token', 'token must be an object');
      const bad = plain(baseToken());
      bad.parameters.blend_ratio = NaN;
      expectInvalid(validator, bad, '/parameters/blend_ratio must be a number (got NaN)');
    });

    it('keeps unknown parameters but checks known ones', function () {
      const ok = plain(baseToken());
      ok.parameters.anything_else = { nested: [1, 2] };
      assert.equal(validator.validate(ok).ok, true);
    });

    it('isFaceToken is a cheap structural guard', function () {
      assert.equal(isFaceToken(baseToken()), true);
      assert.equal(isFaceToken(plain(baseToken())), true);
      assert.equal(isFaceToken(null), false);
      assert.equal(isFaceToken({ ...plain(baseToken()), v: 2 }), false);
      const noJournal = plain(baseToken());
      delete noJournal.journal;
      assert.equal(isFaceToken(noJournal), false);
      assert.equal(isFaceToken({ ...plain(baseToken()), target: null }), false);
    });

    it('each validator instance compiles its own schema and they agree', function () {
      const other = new TokenValidator();
      const bad = plain(baseToken());
      bad.v = 3;
      assert.deepEqual(other.validate(bad), validator.validate(bad));
    });
  });

  describe('advance', function () {
    it('never mutates the input token', function () {
      const token = baseToken();
      const before = JSON.stringify(token);
      const next = advance(token, { faces: [sampleFace()], state: 'running', parameters: { ...token.parameters, blend_ratio: 0.3 } }, { stage: 'detect', ms: 4, outcome: 'ok' });
      assert.equal(JSON.stringify(token), before);
      assert.notEqual(next, token);
      assert.equal(next.faces.length, 1);
      assert.equal(next.parameters.blend_ratio, 0.3);
      assert.equal(token.parameters.blend_ratio, 0.8);
      assert.equal(next.request_id, token.request_id);
      assert.equal(next.created_at, token.created_at);
      assert.equal(validator.validate(next).ok, true);
    });

    it('returns deep-frozen tokens that throw when written in strict mode', function () {
      const token = advance(baseToken(), { faces: [sampleFace()] }, { stage: 'detect', ms: 1, outcome: 'ok' });
      assert.throws(() => {
        token.state = 'done';
      }, TypeError);
      assert.throws(() => {
        token.parameters.blend_ratio = 0;
      }, TypeError);
      assert.throws(() => {
        token.faces.push(sampleFace());
      }, TypeError);
      assert.throws(() => {
        token.faces[0].bbox[0] = 99;
      }, TypeError);
      assert.throws(() => {
        token.faces[0].landmarks5[0][1] = 99;
      }, TypeError);
      assert.throws(() => {
        token.journal[0].ms = 99;
      }, TypeError);
      assert.throws(() => {
        token.target.frame = 'frame:other';
      }, TypeError);
      assert.equal(token.faces[0].bbox[0], 10);
    });

    it('grows the journal by exactly one entry per call, in order', function () {
      let token = baseToken();
      const stages = ['detect', 'landmark', 'embed', 'swap'];
      stages.forEach((stage, i) => {
        const next = advance(token, { state: 'running' }, { stage, ms: i, outcome: 'ok' });
        assert.equal(next.journal.length, token.journal.length + 1);
        assert.equal(token.journal.length, i);
        token = next;
      });
      assert.deepEqual(
        token.journal.map((e) => e.stage),
        stages,
      );
      assert.deepEqual(
        token.journal.map((e) => e.ms),
        [0, 1, 2, 3],
      );
      for (const entry of token.journal) assert.ok(!Number.isNaN(Date.parse(entry.at)));
    });

    it('uses the given journal time and keeps notes', function () {
      const next = advance(baseToken(), {}, { stage: 'detect', ms: 2, outcome: 'no_face', note: 'nothing found', at: '2024-01-31T12:00:01.000Z' });
      assert.deepEqual(next.journal[0], { stage: 'detect', at: '2024-01-31T12:00:01.000Z', ms: 2, outcome: 'no_face', note: 'nothing found' });
    });

    it('shares untouched fields with the input (structural sharing)', function () {
      const token = baseToken();
      const next = advance(token, { state: 'running' }, { stage: 'detect', ms: 1, outcome: 'ok' });
      assert.equal(next.target, token.target);
      assert.equal(next.parameters, token.parameters);
    });

    it('freezes a token parsed from JSON the first time it is advanced', function () {
      const parsed = validator.assert(plain(baseToken()));
      const next = advance(parsed, {}, { stage: 'detect', ms: 1, outcome: 'ok' });
      assert.ok(Object.isFrozen(next.target));
      assert.ok(Object.isFrozen(next.parameters));
    });

    it('removes optional fields patched with undefined and refuses fixed or required ones', function () {
      const failed = failToken(baseToken(), 'swap', { code: 'E_NO_FACE', message: 'x' }, 1);
      const cleared = advance(failed, { error: undefined, state: 'running' }, { stage: 'swap', ms: 0, outcome: 'ok' });
      assert.ok(!('error' in cleared));
      const token = baseToken();
      for (const key of ['v', 'request_id', 'created_at', 'journal']) {
        assert.throws(
          () => advance(token, { [key]: 'x' }, { stage: 'detect', ms: 0, outcome: 'ok' }),
          (err) => err.code === 'E_BAD_PARAMETER' && err.message.includes(key),
        );
      }
      assert.throws(() => advance(token, { target: undefined }, { stage: 'detect', ms: 0, outcome: 'ok' }), /cannot remove target/);
      assert.throws(() => advance(token, {}, { stage: 'detect', ms: -1, outcome: 'ok' }), /ms must be a number >= 0/);
      assert.throws(() => advance(token, {}, { stage: 'detect', ms: 0, outcome: 'great' }), /outcome must be one of/);
    });

    it("does not freeze the caller's patch objects", function () {
      const face = sampleFace();
      const next = advance(baseToken(), { faces: [face] }, { stage: 'detect', ms: 1, outcome: 'ok' });
      assert.ok(!Object.isFrozen(face));
      face.score = 0;
      assert.equal(next.faces[0].score, 0.93);
    });
  });

  describe('failToken, skipStage, isExpired, frames, fork', function () {
    it('failToken sets state, error and a failed journal entry', function () {
      const token = baseToken();
      const failed = failToken(token, 'detect', { code: 'E_BAD_IMAGE', message: 'cannot decode' }, 7);
      assert.equal(failed.state, 'failed');
      assert.deepEqual(failed.error, { stage: 'detect', code: 'E_BAD_IMAGE', message: 'cannot decode' });
      assert.equal(failed.journal.length, 1);
      assert.equal(failed.journal[0].outcome, 'failed');
      assert.equal(failed.journal[0].note, 'E_BAD_IMAGE');
      assert.equal(failed.journal[0].ms, 7);
      assert.equal(token.state, 'initialized');
      assert.ok(!('error' in token));
      assert.equal(validator.validate(failed).ok, true);
    });

    it('skipStage journals a skip without changing state', function () {
      const running = advance(baseToken(), { state: 'running' }, { stage: 'detect', ms: 1, outcome: 'ok' });
      const skipped = skipStage(running, 'enhance', 'enhance is not in operations');
      assert.equal(skipped.state, 'running');
      assert.equal(skipped.journal.length, 2);
      assert.deepEqual(
        { stage: skipped.journal[1].stage, outcome: skipped.journal[1].outcome, note: skipped.journal[1].note },
        { stage: 'enhance', outcome: 'skipped', note: 'enhance is not in operations' },
      );
    });

    it('isExpired follows the given clock', function () {
      const token = createToken({ target: { frame: 'frame:a' }, ttlMs: 60_000, now: NOW });
      assert.equal(isExpired(token, NOW), false);
      assert.equal(isExpired(token, NOW + 59_999), false);
      assert.equal(isExpired(token, NOW + 60_000), true);
      assert.equal(isExpired(token, NOW + 120_000), true);
      assert.equal(isExpired({ ...token, expires_at: 'garbage' }, NOW), true);
      // Real clock: a token created now with the default TTL is not expired yet.
      assert.equal(isExpired(createToken({ target: { frame: 'frame:a' } })), false);
    });

    it('tokenFrameRefs lists target and source frames once each', function () {
      assert.deepEqual(tokenFrameRefs(baseToken()), ['frame:target_1', 'frame:source-1']);
      const same = createToken({ target: { frame: 'frame:x' }, source: { frame: 'frame:x' }, now: NOW });
      assert.deepEqual(tokenFrameRefs(same), ['frame:x']);
      const targetOnly = createToken({ target: { frame: 'frame:y' }, now: NOW });
      assert.deepEqual(tokenFrameRefs(targetOnly), ['frame:y']);
    });

    it('forkToken makes a per-frame copy with a new request_id and the same job', function () {
      const job = baseToken({ job_id: 'job-42', ttlMs: 10_000 });
      const fork = forkToken(job, { target: { frame: 'frame:f0001', index: 1, pts: 0.04 } }, { now: NOW + 5000 });
      assert.notEqual(fork.request_id, job.request_id);
      assert.equal(fork.job_id, 'job-42');
      assert.equal(fork.target.frame, 'frame:f0001');
      assert.equal(fork.target.index, 1);
      assert.equal(fork.created_at, new Date(NOW + 5000).toISOString());
      assert.equal(fork.expires_at, new Date(NOW + 15_000).toISOString());
      assert.equal(job.target.frame, 'frame:target_1');
      assert.ok(Object.isFrozen(fork.target));
      assert.equal(validator.validate(fork).ok, true);
      // A job token without a job_id links its copies through its own request_id.
      const loose = baseToken();
      assert.equal(forkToken(loose, {}).job_id, loose.request_id);
      assert.throws(
        () => forkToken(job, { job_id: 'other' }),
        (err) => err.code === 'E_BAD_PARAMETER',
      );
    });

    it('parseFrameRef and makeFrameRef round trip and refuse bad input', function () {
      assert.equal(parseFrameRef('frame:abc_1-2'), 'abc_1-2');
      assert.equal(makeFrameRef('abc_1-2'), 'frame:abc_1-2');
      assert.equal(parseFrameRef(makeFrameRef('Z9')), 'Z9');
      for (const bad of ['abc', 'frame:', 'frame:a/b', 'frame:a b', 42, null]) {
        assert.throws(
          () => parseFrameRef(bad),
          (err) => err.code === 'E_BAD_PARAMETER',
        );
      }
      for (const bad of ['', 'a/b', 'a.b']) {
        assert.throws(
          () => makeFrameRef(bad),
          (err) => err.code === 'E_BAD_PARAMETER',
        );
      }
    });

    it('deepFreeze freezes nested objects and returns its argument', function () {
      const value = { a: { b: [1, { c: 2 }] } };
      assert.equal(deepFreeze(value), value);
      assert.ok(Object.isFrozen(value.a.b[1]));
      assert.throws(() => {
        value.a.b[1].c = 3;
      }, TypeError);
    });
  });

  describe('JSON and sealing', function () {
    const key = crypto.randomBytes(32);

    it('a token survives JSON.stringify/parse and still validates', function () {
      let token = baseToken({ job_id: 'job-1' });
      token = advance(token, { faces: [sampleFace()], state: 'running' }, { stage: 'detect', ms: 3.25, outcome: 'ok' });
      token = skipStage(token, 'enhance', 'not asked');
      const copy = JSON.parse(JSON.stringify(token));
      assert.deepEqual(copy, plain(token));
      const result = validator.validate(copy);
      assert.equal(result.ok, true, result.ok ? '' : result.errors.join('; '));
      assert.deepEqual(copy, token);
      // structuredClone is what Node-RED-style deep copies end up doing too.
      assert.equal(validator.validate(structuredClone(token)).ok, true);
    });

    it('seal/unseal round trip gives back an equal, frozen token', function () {
      const token = advance(baseToken(), { faces: [sampleFace()] }, { stage: 'detect', ms: 1, outcome: 'ok' });
      const sealed = sealToken(token, key);
      assert.ok(sealed.startsWith(SEAL_PREFIX));
      assert.match(sealed.slice(SEAL_PREFIX.length), /^[A-Za-z0-9_-]+$/);
      assert.ok(!sealed.includes('frame:'), 'sealed text must not leak the token in clear');
      assert.notEqual(sealToken(token, key), sealed, 'a fresh IV each time');
      const opened = unsealToken(sealed, key, validator);
      assert.deepEqual(opened, token);
      assert.ok(Object.isFrozen(opened.faces[0]));
    });

    it('a flipped byte anywhere is refused with E_TOKEN_SEALED', function () {
      const sealed = sealToken(baseToken(), key);
      const raw = Buffer.from(sealed.slice(SEAL_PREFIX.length), 'base64url');
      // IV, auth tag and ciphertext positions.
      for (const index of [0, 11, 12, 27, 28, raw.length - 1]) {
        const tampered = Buffer.from(raw);
        tampered[index] ^= 0x01;
        assert.throws(
          () => unsealToken(SEAL_PREFIX + tampered.toString('base64url'), key, validator),
          (err) => err.code === 'E_TOKEN_SEALED' && /changed after sealing or sealed with a different key/.test(err.message),
        );
      }
    });

    it('the wrong key is refused with E_TOKEN_SEALED', function () {
      const sealed = sealToken(baseToken(), key);
      assert.throws(
        () => unsealToken(sealed, crypto.randomBytes(32), validator),
        (err) => err.code === 'E_TOKEN_SEALED',
      );
    });

    it('garbage is refused with E_TOKEN_SEALED', function () {
      for (const garbage of ['', 'hello', SEAL_PREFIX, `${SEAL_PREFIX}!!!`, `${SEAL_PREFIX}AAAA`, 'fft2.' + 'A'.repeat(80), 42]) {
        assert.throws(
          () => unsealToken(garbage, key, validator),
          (err) => err.code === 'E_TOKEN_SEALED',
          String(garbage),
        );
      }
    });

    it('an authentic but invalid token is refused by the validator', function () {
      const bad = { ...plain(baseToken()), v: 2 };
      const sealed = sealToken(bad, key);
      assert.throws(
        () => unsealToken(sealed, key, validator),
        (err) => err.code === 'E_TOKEN_INVALID' && err.message.includes('/v must be 1'),
      );
    });

    it('a key of the wrong size is a parameter error', function () {
      assert.throws(
        () => sealToken(baseToken(), crypto.randomBytes(16)),
        (err) => err.code === 'E_BAD_PARAMETER',
      );
      assert.throws(
        () => unsealToken('fft1.AAAA', Buffer.alloc(31), validator),
        (err) => err.code === 'E_BAD_PARAMETER',
      );
    });
  });

  it('STAGES in the schema match the type list', function () {
    const token = plain(baseToken());
    token.operations = [...STAGES];
    assert.equal(validator.validate(token).ok, true);
  });
});
