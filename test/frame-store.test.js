'use strict';
// Frame store: budget and backpressure, TTL sweeper, owners, close (issue 2).
// Sessions and the model cache are covered by sessions.test.js and models.test.js.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { FrameStore, decodeImage, createFrame } = require('../dist/runtime');

const MEDIA = path.join(__dirname, '..', '..', 'shared', 'media');
const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

describe('FrameStore', function () {
  it('puts, gets and releases real frames and keeps stats', async function () {
    const store = new FrameStore({ budgetBytes: 4e6, sweepIntervalMs: 0 });
    const frame = await decodeImage(fs.readFileSync(path.join(MEDIA, 'astronaut.png')));
    const ref = store.put(frame);
    assert.match(ref, /^frame:[A-Za-z0-9_-]+$/);
    assert.strictEqual(store.get(ref), frame);
    assert.deepStrictEqual([store.stats().frames, store.stats().bytes], [1, 512 * 512 * 3]);
    assert.strictEqual(store.release(ref), true);
    assert.strictEqual(store.release(ref), false);
    assert.throws(() => store.get(ref), (e) => e.code === 'E_FRAME_MISSING' && e.message.includes(ref));
    assert.strictEqual(store.stats().peakBytes, 512 * 512 * 3);
    store.close();
  });

  it('blocks a producer in reserve() until a release makes room, FIFO', async function () {
    const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0 });
    const a = store.put(createFrame(10, 10)); // 300 bytes: full
    const order = [];
    const p1 = store.reserve(300).then((r) => { order.push(1); return r; });
    const p2 = store.reserve(300).then((r) => { order.push(2); return r; });
    await tick();
    assert.deepStrictEqual(order, []);
    assert.strictEqual(store.stats().waiting, 2);
    store.release(a);
    const r1 = await p1;
    await tick();
    assert.deepStrictEqual(order, [1], 'second producer still waits: budget held by the first reservation');
    const ref = r1.put(createFrame(10, 10));
    store.release(ref);
    const r2 = await p2;
    assert.deepStrictEqual(order, [1, 2]);
    r2.cancel();
    assert.strictEqual(store.stats().reservedBytes, 0);
    store.close();
  });

  it('never goes over budget with producers that reserve, under a random consumer', async function () {
    const frameBytes = 8 * 8 * 3;
    const store = new FrameStore({ budgetBytes: frameBytes * 3, sweepIntervalMs: 0 });
    const queue = [];
    let consumed = 0;
    const producer = (async () => {
      for (let i = 0; i < 200; i++) {
        const r = await store.reserve(frameBytes);
        queue.push(r.put(createFrame(8, 8)));
        assert.ok(store.stats().bytes + store.stats().reservedBytes <= store.stats().budgetBytes);
      }
    })();
    while (consumed < 200) {
      await tick(Math.random() < 0.5 ? 0 : 1);
      const ref = queue.shift();
      if (ref) { store.release(ref); consumed++; }
    }
    await producer;
    assert.ok(store.stats().peakBytes <= frameBytes * 3, `peak ${store.stats().peakBytes}`);
    store.close();
  });

  it('an aborted reserve() leaves the queue; close() rejects waiters and frees everything', async function () {
    const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0 });
    store.put(createFrame(10, 10));
    const ac = new AbortController();
    const aborted = store.reserve(300, ac.signal);
    ac.abort();
    await assert.rejects(aborted, (e) => e.code === 'E_CLOSED');
    assert.strictEqual(store.stats().waiting, 0);
    const waiting = store.reserve(300);
    store.close();
    await assert.rejects(waiting, (e) => e.code === 'E_STORE_CLOSED');
    assert.deepStrictEqual([store.stats().frames, store.stats().bytes], [0, 0]);
    assert.throws(() => store.put(createFrame(2, 2)), (e) => e.code === 'E_STORE_CLOSED');
  });

  it('the TTL sweeper frees expired frames (injected clock and real timer) and stops on close', async function () {
    let now = 1000;
    const store = new FrameStore({ budgetBytes: 1e6, sweepIntervalMs: 0, now: () => now });
    const keep = store.put(createFrame(4, 4), { expiresAt: 5000 });
    const gone = store.put(createFrame(4, 4), { expiresAt: 2000 });
    now = 3000;
    assert.strictEqual(store.sweep(), 1);
    assert.ok(store.has(keep) && !store.has(gone));
    store.close();

    // Count live interval timers by wrapping setInterval/clearInterval while the store exists.
    const live_timers = new Set();
    const realSet = global.setInterval, realClear = global.clearInterval;
    global.setInterval = (...a) => { const t = realSet(...a); live_timers.add(t); return t; };
    global.clearInterval = (t) => { live_timers.delete(t); return realClear(t); };
    const timers = () => live_timers.size;
    const before = timers();
    let live;
    try {
      live = new FrameStore({ budgetBytes: 1e6, sweepIntervalMs: 10 });
    } finally {
      global.setInterval = realSet;
    }
    assert.strictEqual(timers(), before + 1);
    const ref = live.put(createFrame(4, 4), { expiresAt: Date.now() + 5 });
    await tick(60);
    assert.ok(!live.has(ref), 'swept by the timer');
    assert.ok(live.stats().swept >= 1);
    try {
      live.close();
    } finally {
      global.clearInterval = realClear;
    }
    assert.strictEqual(timers(), before, 'sweeper timer cleared on close');
  });

  it('releaseOwner frees every frame of one owner only', function () {
    const store = new FrameStore({ budgetBytes: 1e6, sweepIntervalMs: 0 });
    const a = store.put(createFrame(4, 4), { owner: 'job-a' });
    store.put(createFrame(4, 4), { owner: 'job-a' });
    const b = store.put(createFrame(4, 4), { owner: 'job-b' });
    assert.strictEqual(store.releaseOwner('job-a'), 2);
    assert.ok(!store.has(a) && store.has(b));
    store.close();
  });
});
