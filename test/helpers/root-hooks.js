'use strict';
// Mocha root hooks: after the whole run, say how many tests were left pending and why, so a
// pending test is never mistaken for a pass.
const { pendingReasons } = require('./fixtures');

exports.mochaHooks = {
  afterAll() {
    if (pendingReasons.size === 0) return;
    let total = 0;
    for (const n of pendingReasons.values()) total += n;
    console.log(`\n  ${total} test(s) pending, and why:`);
    for (const [reason, n] of pendingReasons) console.log(`    - ${n} × ${reason}`);
  },
};
