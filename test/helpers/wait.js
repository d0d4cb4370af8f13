'use strict';
// Waiting in tests: a sleep, and a bounded wait for a condition (every test that polls uses these).

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves with the first truthy value of `check()` (which may be async), polling every `stepMs`;
 * rejects after `ms` with "timed out after … waiting for <what>".
 */
async function until(check, what, ms = 20000, stepMs = 20) {
  for (const end = Date.now() + ms; ; await sleep(stepMs)) {
    const value = await check();
    if (value) return value;
    if (Date.now() >= end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }
}

module.exports = { sleep, until };
