'use strict';
// Preloaded into a child process (node -r test/helpers/flaky-stage.js …) to make a stage fail:
// FLAKY_STAGE="blur:5" makes the next 5 runs of the blur stage return a failed token (as a model
// error would), then the real stage runs. Lets a CLI test see frames fail in a real job.
const path = require('path');
const { Runtime } = require(path.join(__dirname, '..', '..', 'dist', 'runtime'));
const { failToken } = require(path.join(__dirname, '..', '..', 'dist', 'runtime', 'internal'));

const [stage, count] = (process.env.FLAKY_STAGE || '').split(':');
let left = Number(count) || 0;
const original = Runtime.prototype.process;
Runtime.prototype.process = function (s, token, options) {
  if (s === stage && left > 0) {
    left--;
    return Promise.resolve(failToken(token, s, { code: 'E_INTERNAL', message: 'flaky stage (test)' }, 1));
  }
  return original.call(this, s, token, options);
};
