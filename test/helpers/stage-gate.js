'use strict';
// Holds a runtime's stage after its first few calls, so a test can act on a job that is surely
// running (cancel it, kill its ffmpeg, redeploy) however fast the machine processes frames.
// Frames of a job run several at a time, so a fixed delay per frame no longer keeps one running.

/**
 * Wraps runtime.process: calls of `stage` after the first `pass` wait until release() (or
 * `maxWaitMs`, so a forgotten gate cannot hang a suite). hold() closes it again; restore()
 * releases everything and puts the runtime's own method back.
 */
function gateStage(runtime, stage, { pass = 3, maxWaitMs = 30000 } = {}) {
  const own = Object.prototype.hasOwnProperty.call(runtime, 'process') ? runtime.process : undefined;
  const original = runtime.process.bind(runtime);
  let calls = 0;
  let open;
  let opened = new Promise((resolve) => {
    open = resolve;
  });
  const timers = new Set();
  const bounded = () =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, maxWaitMs);
      timers.add(t);
      void opened.then(() => {
        clearTimeout(t);
        timers.delete(t);
        resolve();
      });
    });
  runtime.process = async (s, token, options) => {
    if (s === stage && ++calls > pass) await bounded();
    return original(s, token, options);
  };
  return {
    get calls() {
      return calls;
    },
    release() {
      open();
    },
    hold(newPass = 0) {
      open();
      calls = 0;
      pass = newPass;
      opened = new Promise((resolve) => {
        open = resolve;
      });
    },
    restore() {
      open();
      for (const t of timers) clearTimeout(t);
      if (own) runtime.process = own;
      else delete runtime.process;
    },
  };
}

module.exports = { gateStage };
