'use strict';
// The route of a stage node (src/nodes/lib/stage-route.ts): one pure function from the outcome
// of a message's run and the node's options to where the message goes (output 1, output 2, the
// Catch node, nowhere), its status and the frames let go. Every exit is checked here; the flows
// in nodes.test.js, nodes-options.test.js and failure-policy.test.js check them end to end.
const assert = require('assert');
const { createToken, advance, failToken, FaceError } = require('../dist/runtime/internal');
const { route } = require('../dist/nodes/lib/stage-route');

const FACE = { bbox: [10, 10, 60, 60], score: 0.9 };

/** A token as a stage node accepts it (target frame only). */
function input(extra = {}) {
  return createToken({ target: { frame: 'frame:in' }, operations: ['detect'], ...extra });
}

/** `token` after the stage ran with `faces`, its own output frame and `ms`. */
function ran(token, faces = [FACE, FACE], ms = 9, outcome = 'ok') {
  return advance(token, { faces, state: 'running' }, { stage: 'detect', ms, outcome });
}

function failed(token, code = 'E_MODEL_CONTRACT', message = 'the model gave 3 outputs') {
  return failToken(token, 'detect', { code, message }, 4);
}

/** Node options; `catchTakes` counts how often it is asked. */
function options(over = {}) {
  const asked = { count: 0 };
  const catchAnswer = over.catchAnswer ?? true;
  const opts = {
    stage: 'detect',
    onNoFace: 'pass',
    onFailure: 'catch',
    failureOutput: false,
    catchTakes: () => {
      asked.count++;
      return catchAnswer;
    },
    ...over,
  };
  delete opts.catchAnswer;
  return { opts, asked };
}

const last = (token) => token.journal[token.journal.length - 1];

describe('stage node route (every exit)', function () {
  describe('ok', function () {
    it('goes out on output 1 with a green count, the thumbnail offered, nothing released', function () {
      const token = input();
      const out = ran(token);
      const { opts, asked } = options();
      const exit = route({ kind: 'ran', input: token, out, provider: 'cpu' }, opts);
      assert.strictEqual(exit.to, 1);
      assert.strictEqual(exit.payload, out);
      assert.deepStrictEqual(exit.status, { fill: 'green', shape: 'dot', text: '2 faces · 9 ms · cpu' });
      assert.strictEqual(exit.thumbnail, out);
      assert.strictEqual(exit.resultShown, true);
      assert.strictEqual(exit.error, undefined);
      assert.strictEqual(exit.msgError, undefined);
      assert.strictEqual(exit.releaseNew, undefined);
      assert.strictEqual(exit.dropped, undefined);
      assert.strictEqual(exit.settle, undefined);
      assert.strictEqual(exit.report, undefined);
      assert.strictEqual(asked.count, 0, 'who catches is not asked on success');
    });

    it('stays on output 1 when the node has a failure output', function () {
      const token = input();
      const exit = route({ kind: 'ran', input: token, out: ran(token, [FACE], 12.4) }, options({ failureOutput: true }).opts);
      assert.strictEqual(exit.to, 1);
      assert.strictEqual(exit.status.text, '1 face · 12 ms');
    });

    it('a token the downgrade policy marked shows yellow with the reason and the count', function () {
      const token = input();
      const out = advance(ran(token), { state: 'downgraded_for_performance' }, { stage: 'downgrade', ms: 0, outcome: 'skipped', note: 'frame_budget: dropped masks' });
      const exit = route({ kind: 'ran', input: token, out, provider: 'cpu', downgrade: { reason: 'frame time', count: 3 } }, options().opts);
      assert.strictEqual(exit.to, 1);
      assert.deepStrictEqual(exit.status, { fill: 'yellow', shape: 'dot', text: 'downgraded: frame time (3)' });
      assert.strictEqual(exit.thumbnail, out);
    });
  });

  describe('downgrade (the policy took this stage out)', function () {
    it('passes the marked token on output 1 without running', function () {
      const token = input();
      const exit = route({ kind: 'downgraded', token, downgrade: { reason: 'memory', count: 1 } }, options({ failureOutput: true }).opts);
      assert.strictEqual(exit.to, 1);
      assert.strictEqual(exit.payload, token);
      assert.deepStrictEqual(exit.status, { fill: 'yellow', shape: 'dot', text: 'downgraded: memory (1)' });
      assert.strictEqual(exit.resultShown, true);
      assert.strictEqual(exit.thumbnail, undefined);
    });
  });

  describe('no face', function () {
    const cases = [
      ['journal outcome no_face', (t) => ran(t, [], 5, 'no_face')],
      ['error E_NO_FACE (failed)', (t) => failed(t, 'E_NO_FACE', 'no face in the picture')],
    ];
    for (const [how, make] of cases) {
      describe(`(${how})`, function () {
        it('pass: output 1, skipped and journalled, yellow', function () {
          const token = input();
          const out = make(token);
          const exit = route({ kind: 'ran', input: token, out }, options({ onNoFace: 'pass' }).opts);
          assert.strictEqual(exit.to, 1);
          assert.strictEqual(exit.payload.state, 'skipped');
          assert.strictEqual(exit.payload.error, undefined);
          assert.deepStrictEqual([last(exit.payload).outcome, last(exit.payload).note], ['no_face', 'onNoFace: pass']);
          assert.deepStrictEqual(exit.status, { fill: 'yellow', shape: 'dot', text: 'no face · passed on' });
          assert.strictEqual(exit.settle, undefined);
          assert.strictEqual(exit.dropped, undefined);
        });

        it('drop: nowhere, its picture freed, even with a failure output', function () {
          const token = input();
          const out = make(token);
          for (const failureOutput of [false, true]) {
            const exit = route({ kind: 'ran', input: token, out }, options({ onNoFace: 'drop', failureOutput }).opts);
            assert.strictEqual(exit.to, 'none');
            assert.strictEqual(exit.dropped, out);
            assert.strictEqual(exit.payload, undefined);
            assert.deepStrictEqual(exit.status, { fill: 'yellow', shape: 'ring', text: 'no face · dropped' });
          }
        });

        it('error: the Catch node with E_NO_FACE; frames held when a Catch node takes them, else freed', function () {
          const token = input();
          const out = make(token);
          for (const catchAnswer of [true, false]) {
            const { opts, asked } = options({ onNoFace: 'error', catchAnswer });
            const exit = route({ kind: 'ran', input: token, out }, opts);
            assert.strictEqual(exit.to, 'catch');
            assert.strictEqual(exit.payload, out);
            assert.ok(exit.error instanceof FaceError);
            assert.strictEqual(exit.error.code, 'E_NO_FACE');
            assert.strictEqual(exit.error.message, out.error ? out.error.message : 'no face found (detect)');
            assert.deepStrictEqual(exit.status, { fill: 'red', shape: 'dot', text: 'no face' });
            assert.deepStrictEqual(exit.settle, { token: out, taken: catchAnswer });
            assert.strictEqual(asked.count, 1);
            assert.strictEqual(exit.report, undefined, 'no face is not a stream failure');
          }
        });

        for (const onNoFace of ['pass', 'error']) {
          it(`output 2 (onNoFace ${onNoFace}): msg.error E_NO_FACE, yellow, frames not settled`, function () {
            const token = input();
            const out = make(token);
            const exit = route({ kind: 'ran', input: token, out }, options({ onNoFace, failureOutput: true }).opts);
            assert.strictEqual(exit.to, 2);
            assert.strictEqual(exit.payload, out);
            assert.deepStrictEqual(exit.msgError, { code: 'E_NO_FACE', message: out.error ? out.error.message : 'no face found (detect)', stage: 'detect' });
            assert.deepStrictEqual(exit.status, { fill: 'yellow', shape: 'dot', text: 'no face · output 2' });
            assert.strictEqual(exit.settle, undefined);
          });
        }
      });
    }
  });

  describe('failure', function () {
    for (const onFailure of ['catch', 'retry']) {
      it(`${onFailure === 'retry' ? 'retries exhausted' : 'catch'}: the Catch node with the code; frames held or freed by who catches`, function () {
        const token = input();
        const out = failed(token);
        for (const catchAnswer of [true, false]) {
          const { opts, asked } = options({ onFailure, catchAnswer });
          const exit = route({ kind: 'ran', input: token, out }, opts);
          assert.strictEqual(exit.to, 'catch');
          assert.strictEqual(exit.payload, out);
          assert.strictEqual(exit.error.code, 'E_MODEL_CONTRACT');
          assert.strictEqual(exit.error.message, 'the model gave 3 outputs');
          assert.strictEqual(exit.error.stage, 'detect');
          assert.deepStrictEqual(exit.status, { fill: 'red', shape: 'dot', text: 'E_MODEL_CONTRACT' });
          assert.strictEqual(exit.report, exit.error);
          assert.deepStrictEqual(exit.settle, { token: out, taken: catchAnswer });
          assert.strictEqual(asked.count, 1);
          assert.strictEqual(exit.releaseNew, undefined);
        }
      });
    }

    it('output 2: msg.error with the code, frames held for that branch (who catches not asked)', function () {
      const token = input();
      const out = failed(token);
      const { opts, asked } = options({ failureOutput: true, catchAnswer: false });
      const exit = route({ kind: 'ran', input: token, out }, opts);
      assert.strictEqual(exit.to, 2);
      assert.strictEqual(exit.payload, out);
      assert.deepStrictEqual(exit.msgError, { code: 'E_MODEL_CONTRACT', message: 'the model gave 3 outputs', stage: 'detect' });
      assert.strictEqual(exit.error, undefined);
      assert.deepStrictEqual(exit.status, { fill: 'red', shape: 'dot', text: 'E_MODEL_CONTRACT' });
      assert.strictEqual(exit.report.code, 'E_MODEL_CONTRACT');
      assert.deepStrictEqual(exit.settle, { token: out, taken: true });
      assert.strictEqual(asked.count, 0);
    });

    it("pass: the token as it came on output 1, the failure journalled, the stage's frames freed", function () {
      const token = input();
      const out = failed(token);
      for (const failureOutput of [false, true]) {
        const exit = route({ kind: 'ran', input: token, out }, options({ onFailure: 'pass', failureOutput }).opts);
        assert.strictEqual(exit.to, 1);
        assert.notStrictEqual(exit.payload.state, 'failed');
        assert.strictEqual(exit.payload.state, token.state);
        assert.deepStrictEqual([last(exit.payload).outcome, last(exit.payload).note, last(exit.payload).ms], ['failed', 'E_MODEL_CONTRACT · onFailure: pass', 4]);
        assert.deepStrictEqual(exit.status, { fill: 'yellow', shape: 'dot', text: 'E_MODEL_CONTRACT · passed on' });
        assert.deepStrictEqual(exit.releaseNew, { input: token, out });
        assert.strictEqual(exit.report.code, 'E_MODEL_CONTRACT');
        assert.strictEqual(exit.settle, undefined);
      }
    });

    it("drop: nowhere, the stage's frames and the picture freed, yellow", function () {
      const token = input();
      const out = failed(token);
      const exit = route({ kind: 'ran', input: token, out }, options({ onFailure: 'drop', failureOutput: true }).opts);
      assert.strictEqual(exit.to, 'none');
      assert.strictEqual(exit.payload, undefined);
      assert.deepStrictEqual(exit.releaseNew, { input: token, out });
      assert.strictEqual(exit.dropped, out);
      assert.deepStrictEqual(exit.status, { fill: 'yellow', shape: 'ring', text: 'E_MODEL_CONTRACT · dropped' });
      assert.strictEqual(exit.report.code, 'E_MODEL_CONTRACT');
      assert.strictEqual(exit.settle, undefined);
    });

    for (const onFailure of ['pass', 'drop']) {
      it(`a token that arrived failed is not ${onFailure === 'pass' ? 'passed on' : 'dropped'}: it goes to the Catch node`, function () {
        const token = failed(input(), 'E_BAD_IMAGE', 'not a picture');
        const exit = route({ kind: 'ran', input: token, out: token }, options({ onFailure }).opts);
        assert.strictEqual(exit.to, 'catch');
        assert.strictEqual(exit.error.code, 'E_BAD_IMAGE');
        assert.strictEqual(exit.releaseNew, undefined);
      });
    }

    it('a forged failed token without its error fails with E_BAD_PARAMETER', function () {
      const token = input();
      const out = advance(token, { state: 'failed' }, { stage: 'detect', ms: 1, outcome: 'failed' });
      const exit = route({ kind: 'ran', input: out, out }, options().opts);
      assert.strictEqual(exit.to, 'catch');
      assert.strictEqual(exit.error.code, 'E_BAD_PARAMETER');
      assert.match(exit.error.message, /arrived in state "failed" without an error/);
    });
  });

  describe('thrown', function () {
    it('an accepted token: the Catch node, red code, reported, its frames settled', function () {
      const token = input();
      const error = new FaceError('E_INTERNAL', 'the worker died', { stage: 'detect' });
      for (const catchAnswer of [true, false]) {
        const { opts, asked } = options({ catchAnswer, failureOutput: true });
        const exit = route({ kind: 'threw', error, owned: token }, opts);
        assert.strictEqual(exit.to, 'catch', 'a throw goes to the Catch node even with a failure output');
        assert.strictEqual(exit.error, error);
        assert.strictEqual(exit.payload, undefined, 'msg.payload stays as it came');
        assert.deepStrictEqual(exit.status, { fill: 'red', shape: 'dot', text: 'E_INTERNAL' });
        assert.strictEqual(exit.report, error);
        assert.deepStrictEqual(exit.settle, { token, taken: catchAnswer });
        assert.strictEqual(asked.count, 1);
      }
    });

    it('a refused token (never accepted): nothing settled, who catches not asked', function () {
      const error = new FaceError('E_TOKEN_INVALID', 'not a face token');
      const { opts, asked } = options();
      const exit = route({ kind: 'threw', error }, opts);
      assert.strictEqual(exit.to, 'catch');
      assert.strictEqual(exit.settle, undefined);
      assert.strictEqual(asked.count, 0);
    });
  });

  describe('closed node', function () {
    it('before the run: done quietly, status untouched, nothing released', function () {
      const exit = route({ kind: 'closed' }, options().opts);
      assert.deepStrictEqual(exit, { to: 'none', resultShown: false });
    });

    it("after the run: the stage's new frames freed, nothing sent", function () {
      const token = input();
      const out = ran(token);
      const exit = route({ kind: 'closed', ran: { input: token, out } }, options().opts);
      assert.deepStrictEqual(exit, { to: 'none', resultShown: false, releaseNew: { input: token, out } });
    });
  });
});
