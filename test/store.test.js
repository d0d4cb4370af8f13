'use strict';
// FrameStore (src/runtime/store): refs, budget and reserve() backpressure, FIFO waiters, abort,
// TTL sweeper (injected clock and the real timer), close, and a real decoded image; release
// notifications, re-owning, InFlightLimit, and runtime.release({ keepSource }).
const assert = require('assert');
const sharp = require('sharp');
const { FrameStore, InFlightLimit, createRuntime, forkToken } = require('../dist/runtime/internal');

const ASTRONAUT = require('./helpers/fixtures').media('astronaut.png');
const { sleep } = require('./helpers/wait');

/** An RGB frame of w×h; `fill` makes frames tell apart. */
function frame(w, h, fill = 0) {
  return { width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3).fill(fill) };
}

/** Tracks whether a promise settled, so a test can assert it is still pending. */
function track(promise) {
  const state = { settled: false, value: undefined, error: undefined };
  state.promise = promise.then(
    (v) => {
      state.settled = true;
      state.value = v;
      return v;
    },
    (e) => {
      state.settled = true;
      state.error = e;
      throw e;
    },
  );
  state.promise.catch(() => {}); // the test inspects `error` itself
  return state;
}

const hasCode = (code) => (e) => e && e.name === 'FaceError' && e.code === code;

describe('FrameStore (store)', function () {
  let astronaut;
  before(async function () {
    const { data, info } = await sharp(ASTRONAUT).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.strictEqual(info.channels, 3);
    astronaut = { width: info.width, height: info.height, channels: 3, data };
  });

  it('puts, gets and releases a real decoded frame without copying it, and keeps stats', function () {
    const store = new FrameStore({ budgetBytes: 2 * 512 * 512 * 3, sweepIntervalMs: 0 });
    const ref = store.put(astronaut);
    assert.match(ref, /^frame:[A-Za-z0-9_-]+$/);
    assert.strictEqual(store.get(ref), astronaut);
    assert.strictEqual(store.get(ref).data, astronaut.data, 'the pixels are not copied');
    assert.strictEqual(store.tryGet(ref), astronaut);
    assert.strictEqual(store.has(ref), true);
    const bytes = 512 * 512 * 3;
    assert.deepStrictEqual(store.stats(), {
      frames: 1,
      bytes,
      peakBytes: bytes,
      budgetBytes: 2 * bytes,
      reservedBytes: 0,
      waiting: 0,
      swept: 0,
      closed: false,
    });

    const ref2 = store.put(astronaut);
    assert.notStrictEqual(ref2, ref);
    assert.strictEqual(store.stats().bytes, 2 * bytes);
    assert.strictEqual(store.release(ref), true);
    assert.strictEqual(store.release(ref), false, 'release is idempotent');
    assert.strictEqual(store.has(ref), false);
    assert.strictEqual(store.tryGet(ref), undefined);
    assert.strictEqual(store.releaseMany([ref, ref2, 'frame:nope']), 1);
    const s = store.stats();
    assert.deepStrictEqual([s.frames, s.bytes, s.peakBytes], [0, 0, 2 * bytes]);
    store.close();
  });

  it('names the missing ref in E_FRAME_MISSING', function () {
    const store = new FrameStore({ budgetBytes: 1000, sweepIntervalMs: 0 });
    const ref = store.put(frame(2, 2));
    store.release(ref);
    assert.throws(
      () => store.get(ref),
      (e) => hasCode('E_FRAME_MISSING')(e) && e.message.includes(ref),
    );
    assert.throws(
      () => store.get('frame:never-stored'),
      (e) => e.code === 'E_FRAME_MISSING' && e.message.includes('frame:never-stored'),
    );
    store.close();
  });

  it('makes unique refs per store and across stores', function () {
    const a = new FrameStore({ budgetBytes: 1e6, sweepIntervalMs: 0 });
    const b = new FrameStore({ budgetBytes: 1e6, sweepIntervalMs: 0 });
    const refs = new Set();
    for (let i = 0; i < 100; i++) {
      refs.add(a.put(frame(1, 1)));
      refs.add(b.put(frame(1, 1)));
    }
    assert.strictEqual(refs.size, 200);
    for (const r of refs) assert.match(r, /^frame:[A-Za-z0-9_-]+$/);
    a.close();
    b.close();
  });

  it('validates the budget, frame sizes and reserve sizes', async function () {
    for (const budgetBytes of [0, -1, NaN]) {
      assert.throws(() => new FrameStore({ budgetBytes, sweepIntervalMs: 0 }), hasCode('E_BAD_PARAMETER'));
    }
    const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0 });
    assert.throws(
      () => store.put(frame(10, 11)),
      (e) => e.code === 'E_FRAME_TOO_LARGE' && /330/.test(e.message),
    );
    assert.throws(() => store.put({ width: 4, height: 4, channels: 3, data: new Uint8Array(5) }), hasCode('E_BAD_PARAMETER'));
    assert.throws(() => store.put(frame(1, 1), { expiresAt: NaN }), hasCode('E_BAD_PARAMETER'));
    await assert.rejects(store.reserve(301), hasCode('E_FRAME_TOO_LARGE'));
    await assert.rejects(store.reserve(NaN), hasCode('E_BAD_PARAMETER'));
    await assert.rejects(store.reserve(-3), hasCode('E_BAD_PARAMETER'));
    assert.deepStrictEqual([store.stats().bytes, store.stats().reservedBytes, store.stats().waiting], [0, 0, 0]);
    store.close();
  });

  it('counts reserved bytes in peakBytes', async function () {
    const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0 });
    const r = await store.reserve(120);
    assert.deepStrictEqual([store.stats().reservedBytes, store.stats().peakBytes], [120, 120]);
    const ref = store.put(frame(5, 4)); // 60 bytes
    assert.strictEqual(store.stats().peakBytes, 180);
    r.cancel();
    store.release(ref);
    assert.strictEqual(store.stats().peakBytes, 180, 'the peak is the highest ever, not the current use');
    store.close();
  });

  it('gives frames a default TTL of 5 minutes unless defaultTtlMs says otherwise', function () {
    let now = 5000;
    const store = new FrameStore({ budgetBytes: 1000, sweepIntervalMs: 0, now: () => now });
    const ref = store.put(frame(1, 1));
    assert.strictEqual(store.sweep(5000 + 299_999), 0);
    assert.strictEqual(store.sweep(5000 + 300_000), 1);
    assert.strictEqual(store.has(ref), false);
    store.close();
    const short = new FrameStore({ budgetBytes: 1000, sweepIntervalMs: 0, defaultTtlMs: 10, now: () => now });
    short.put(frame(1, 1));
    now += 10;
    assert.strictEqual(short.sweep(), 1);
    short.close();
  });

  it('put() never goes over budget: a frame that does not fit is refused with E_STORE_FULL', function () {
    const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0 });
    store.put(frame(10, 10));
    assert.throws(() => store.put(frame(10, 10)), hasCode('E_STORE_FULL'));
    const s = store.stats();
    assert.deepStrictEqual([s.frames, s.bytes, s.peakBytes], [1, 300, 300]);
    store.close();
  });

  it('blocks a producer in reserve() until a release makes room', async function () {
    const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0 });
    const full = store.put(frame(10, 10));
    const pending = track(store.reserve(300));
    await sleep(30);
    assert.strictEqual(pending.settled, false, 'reserve() must wait while the budget is used up');
    assert.strictEqual(store.stats().waiting, 1);

    store.release(full);
    const reservation = await pending.promise;
    assert.strictEqual(reservation.bytes, 300);
    assert.deepStrictEqual([store.stats().reservedBytes, store.stats().waiting, store.stats().bytes], [300, 0, 0]);

    const big = frame(10, 11);
    assert.throws(() => reservation.put(big), hasCode('E_FRAME_TOO_LARGE'));
    const ref = reservation.put(frame(10, 10, 7));
    assert.strictEqual(store.get(ref).data[0], 7);
    assert.deepStrictEqual([store.stats().reservedBytes, store.stats().bytes], [0, 300]);
    assert.throws(() => reservation.put(frame(1, 1)), hasCode('E_BAD_PARAMETER'), 'a reservation is single-use');
    reservation.cancel(); // no effect after use
    assert.deepStrictEqual([store.stats().reservedBytes, store.stats().bytes], [0, 300]);
    assert.ok(store.stats().peakBytes <= 300);
    store.close();
  });

  it('wakes waiters in FIFO order and does not let a later small request jump the queue', async function () {
    const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0 });
    const a = store.put(frame(10, 10)); // full
    const order = [];
    const w1 = track(
      store.reserve(300).then((r) => {
        order.push(1);
        return r;
      }),
    );
    const w2 = track(
      store.reserve(150).then((r) => {
        order.push(2);
        return r;
      }),
    );
    const w3 = track(
      store.reserve(150).then((r) => {
        order.push(3);
        return r;
      }),
    );
    await sleep(20);
    assert.deepStrictEqual(order, []);
    assert.strictEqual(store.stats().waiting, 3);

    store.release(a);
    const r1 = await w1.promise;
    await sleep(20);
    assert.deepStrictEqual(order, [1], 'w2 and w3 wait while w1 holds the budget');

    // A newcomer that would fit once w1 frees room still queues behind w2 and w3.
    r1.cancel();
    const w4 = track(
      store.reserve(10).then((r) => {
        order.push(4);
        return r;
      }),
    );
    const [r2, r3] = await Promise.all([w2.promise, w3.promise]);
    await sleep(20);
    assert.deepStrictEqual(order, [1, 2, 3]);
    assert.strictEqual(w4.settled, false, 'budget is held by w2 + w3');
    // A frame smaller than its reservation gives the rest back at once.
    const ref = r2.put(frame(5, 5));
    const r4 = await w4.promise;
    assert.deepStrictEqual(order, [1, 2, 3, 4]);
    assert.strictEqual(store.stats().reservedBytes, 150 + 10);
    assert.strictEqual(store.stats().bytes, 75);
    r3.cancel();
    r4.cancel();
    store.release(ref);
    assert.deepStrictEqual([store.stats().reservedBytes, store.stats().bytes], [0, 0]);
    assert.ok(store.stats().peakBytes <= 300, `peak ${store.stats().peakBytes}`);
    store.close();
  });

  it('an aborted signal removes the waiter and lets the next one through', async function () {
    const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0 });
    const a = store.put(frame(10, 5)); // 150 of 300 used
    const controller = new AbortController();
    const head = track(store.reserve(300, controller.signal));
    const next = track(store.reserve(100));
    await sleep(20);
    assert.strictEqual(head.settled, false);
    assert.strictEqual(next.settled, false, 'FIFO: the small request waits behind the head');
    assert.strictEqual(store.stats().waiting, 2);

    controller.abort();
    await assert.rejects(head.promise, hasCode('E_CLOSED'));
    assert.match(head.error.message, /abort/);
    const r = await next.promise; // the head left, so the 100 bytes that fit are granted
    assert.strictEqual(store.stats().waiting, 0);
    r.cancel();
    store.release(a);

    // An already-aborted signal rejects at once and never queues.
    await assert.rejects(store.reserve(10, AbortSignal.abort()), hasCode('E_CLOSED'));
    assert.strictEqual(store.stats().waiting, 0);
    assert.strictEqual(store.stats().reservedBytes, 0);
    store.close();
  });

  it('sweep() frees expired frames by the injected clock; setExpiry moves the expiry', function () {
    let now = 1_000_000;
    const store = new FrameStore({ budgetBytes: 1e6, sweepIntervalMs: 0, defaultTtlMs: 1000, now: () => now });
    const byDefault = store.put(frame(2, 2)); // expires at now + 1000
    const explicit = store.put(frame(2, 2), { expiresAt: now + 50 });
    const extended = store.put(frame(2, 2), { expiresAt: now + 50 });
    assert.strictEqual(store.setExpiry(extended, now + 5000), true);
    assert.strictEqual(store.setExpiry('frame:gone', now), false);

    assert.strictEqual(store.sweep(), 0);
    now += 50;
    assert.strictEqual(store.sweep(), 1, 'expiresAt <= now is expired');
    assert.deepStrictEqual([store.has(byDefault), store.has(explicit), store.has(extended)], [true, false, true]);
    now += 950;
    assert.strictEqual(store.sweep(), 1);
    assert.strictEqual(store.has(byDefault), false);
    assert.strictEqual(store.sweep(now + 4000), 1, 'an explicit now overrides the clock');
    assert.deepStrictEqual([store.stats().frames, store.stats().bytes, store.stats().swept], [0, 0, 3]);
    store.close();
  });

  it('a sweep frees room for a waiting producer', async function () {
    let now = 0;
    const store = new FrameStore({ budgetBytes: 300, sweepIntervalMs: 0, now: () => now });
    store.put(frame(10, 10), { expiresAt: 10 });
    const p = track(store.reserve(300));
    await sleep(10);
    assert.strictEqual(p.settled, false);
    now = 10;
    store.sweep();
    (await p.promise).cancel();
    store.close();
  });

  it('the real sweeper timer frees expired frames, is unref()ed and is cleared on close', async function () {
    // Capture the store's interval handle to check it is unref'd and really cleared.
    const created = [];
    const cleared = new Set();
    const realSet = global.setInterval;
    const realClear = global.clearInterval;
    global.setInterval = (...args) => {
      const h = realSet(...args);
      created.push(h);
      return h;
    };
    global.clearInterval = (h) => {
      cleared.add(h);
      return realClear(h);
    };
    let store;
    try {
      store = new FrameStore({ budgetBytes: 1e6, sweepIntervalMs: 20 });
    } finally {
      global.setInterval = realSet;
      global.clearInterval = realClear;
    }
    assert.strictEqual(created.length, 1);
    const handle = created[0];
    assert.strictEqual(handle.hasRef(), false, 'the sweeper must not keep the process alive');
    assert.strictEqual(store.sweeping, true);

    const short = store.put(frame(2, 2), { expiresAt: Date.now() + 10 });
    const long = store.put(frame(2, 2)); // default TTL: 5 minutes
    const deadline = Date.now() + 2000;
    while (store.has(short) && Date.now() < deadline) await sleep(10);
    assert.strictEqual(store.has(short), false, 'the timer swept the expired frame');
    assert.strictEqual(store.has(long), true);
    assert.strictEqual(store.stats().swept, 1);

    global.clearInterval = (h) => {
      cleared.add(h);
      return realClear(h);
    };
    try {
      store.close();
    } finally {
      global.clearInterval = realClear;
    }
    assert.ok(cleared.has(handle), 'close() clears the sweeper interval');
    assert.strictEqual(store.sweeping, false);
    assert.strictEqual(handle._destroyed, true, 'the timer handle is gone from the event loop');

    const noTimer = new FrameStore({ budgetBytes: 1, sweepIntervalMs: 0 });
    assert.strictEqual(noTimer.sweeping, false);
    noTimer.close();
  });

  it('close() rejects waiters, frees everything, is idempotent, and outstanding reservations stay consistent', async function () {
    const store = new FrameStore({ budgetBytes: 600, sweepIntervalMs: 0 });
    store.put(frame(10, 10));
    const held = await store.reserve(300);
    const held2 = await store.reserve(0);
    const waiter1 = track(store.reserve(300));
    const controller = new AbortController();
    const waiter2 = track(store.reserve(100, controller.signal));
    await sleep(10);
    assert.strictEqual(store.stats().waiting, 2);

    store.close();
    await assert.rejects(waiter1.promise, hasCode('E_STORE_CLOSED'));
    await assert.rejects(waiter2.promise, hasCode('E_STORE_CLOSED'));
    controller.abort(); // too late: the waiter is gone, nothing happens
    assert.deepStrictEqual(store.stats(), {
      frames: 0,
      bytes: 0,
      peakBytes: 600,
      budgetBytes: 600,
      reservedBytes: 0,
      waiting: 0,
      swept: 0,
      closed: true,
    });

    assert.throws(() => held.put(frame(10, 10)), hasCode('E_STORE_CLOSED'));
    held2.cancel();
    assert.strictEqual(store.stats().reservedBytes, 0, 'a reservation settled after close does not go negative');
    assert.throws(() => store.put(frame(1, 1)), hasCode('E_STORE_CLOSED'));
    await assert.rejects(store.reserve(1), hasCode('E_STORE_CLOSED'));
    assert.strictEqual(store.sweep(), 0);
    store.close(); // idempotent
    assert.strictEqual(store.stats().closed, true);
  });

  it("releaseOwner frees one owner's frames only", function () {
    const store = new FrameStore({ budgetBytes: 1e6, sweepIntervalMs: 0 });
    const a1 = store.put(frame(2, 2), { owner: 'job-a' });
    const a2 = store.put(frame(2, 2), { owner: 'job-a' });
    const b1 = store.put(frame(2, 2), { owner: 'job-b' });
    const none = store.put(frame(2, 2));
    store.release(a1);
    assert.strictEqual(store.releaseOwner('job-a'), 1);
    assert.strictEqual(store.releaseOwner('job-a'), 0);
    assert.strictEqual(store.releaseOwner('nobody'), 0);
    assert.deepStrictEqual([store.has(a2), store.has(b1), store.has(none)], [false, true, true]);
    assert.strictEqual(store.stats().bytes, 24);
    store.close();
  });

  it('never exceeds the budget with producers that reserve, under a random consumer (200 frames)', async function () {
    const w = 16,
      h = 16,
      size = w * h * 3;
    const budget = 5 * size;
    const store = new FrameStore({ budgetBytes: budget, sweepIntervalMs: 0 });
    const queue = [];
    let maxSeen = 0;
    let peakWhileWaiting = 0;
    const check = () => {
      const s = store.stats();
      maxSeen = Math.max(maxSeen, s.bytes + s.reservedBytes);
      if (s.waiting > 0) peakWhileWaiting++;
      assert.ok(s.peakBytes <= budget, `peak ${s.peakBytes} > budget ${budget}`);
      assert.ok(s.bytes + s.reservedBytes <= budget);
    };
    const rnd = (n) => Math.floor(Math.random() * n);
    const TOTAL = 200;
    const producer = async (id, count) => {
      for (let i = 0; i < count; i++) {
        const r = await store.reserve(size);
        check();
        if (rnd(3) === 0) await sleep(rnd(2));
        queue.push({ id, i, ref: r.put(frame(w, h, i % 256)) });
        check();
      }
    };
    const consumer = async () => {
      let done = 0;
      const last = new Map();
      while (done < TOTAL) {
        if (queue.length === 0 || rnd(4) === 0) {
          await sleep(rnd(3));
          continue;
        }
        const item = queue.shift();
        assert.strictEqual(store.get(item.ref).data[0], item.i % 256);
        assert.ok((last.get(item.id) ?? -1) < item.i, "each producer's frames arrive in order");
        last.set(item.id, item.i);
        store.release(item.ref);
        check();
        done++;
      }
    };
    await Promise.all([producer('a', 100), producer('b', 60), producer('c', 40), consumer()]);
    const s = store.stats();
    assert.deepStrictEqual([s.frames, s.bytes, s.reservedBytes, s.waiting], [0, 0, 0, 0]);
    assert.ok(s.peakBytes <= budget);
    assert.strictEqual(maxSeen, budget, 'the producers did fill the budget (so the test exercised backpressure)');
    assert.ok(peakWhileWaiting > 0, 'producers actually had to wait');
    store.close();
  });

  describe('release notifications and owners', function () {
    it('onRelease tells each listener the ref and why (released, expired, closed); unsubscribe stops it; close drops listeners', function () {
      let now = 1000;
      const store = new FrameStore({ budgetBytes: 10 * 16 * 16 * 3, sweepIntervalMs: 0, now: () => now });
      const heard = [];
      const second = [];
      const off = store.onRelease((ref, reason) => heard.push([ref, reason, store.has(ref)]));
      store.onRelease((ref, reason) => second.push([ref, reason]));
      const a = store.put(frame(16, 16, 1));
      const b = store.put(frame(16, 16, 2), { expiresAt: 1500 });
      const c = store.put(frame(16, 16, 3), { owner: 'job' });
      const d = store.put(frame(16, 16, 4));
      store.release(a);
      store.release(a); // not stored any more: nothing to tell
      now = 2000;
      assert.strictEqual(store.sweep(), 1);
      store.releaseOwner('job');
      assert.deepStrictEqual(
        heard,
        [
          [a, 'released', false],
          [b, 'expired', false],
          [c, 'released', false],
        ],
        'told after the frame left',
      );
      off();
      off(); // idempotent
      store.release(d);
      assert.strictEqual(heard.length, 3, 'unsubscribed listener hears nothing more');
      assert.deepStrictEqual(
        second.map((x) => x[0]),
        [a, b, c, d],
      );
      const e = store.put(frame(16, 16, 5));
      store.close();
      assert.deepStrictEqual(second[second.length - 1], [e, 'closed']);
      assert.strictEqual(second.length, 5);
      const late = [];
      const offLate = store.onRelease((ref) => late.push(ref));
      offLate();
      store.release(e);
      assert.deepStrictEqual(late, [], 'a closed store keeps no listeners');
    });

    it('a throwing listener neither breaks the release nor silences the others; a listener may release more', function () {
      const store = new FrameStore({ budgetBytes: 10 * 16 * 16 * 3, sweepIntervalMs: 0 });
      const heard = [];
      const a = store.put(frame(16, 16, 1));
      const b = store.put(frame(16, 16, 2));
      store.onRelease(() => {
        throw new Error('listener bug');
      });
      store.onRelease((ref) => {
        heard.push(ref);
        if (ref === a) store.release(b); // chained release inside a notification
      });
      assert.strictEqual(store.release(a), true);
      assert.deepStrictEqual(heard, [a, b]);
      assert.deepStrictEqual([store.stats().frames, store.stats().bytes], [0, 0]);
      store.close();
    });

    it('a release notification comes before a waiting producer is granted room', async function () {
      const store = new FrameStore({ budgetBytes: 16 * 16 * 3, sweepIntervalMs: 0 });
      const order = [];
      const a = store.put(frame(16, 16));
      store.onRelease(() => order.push(`notified: waiting ${store.stats().waiting}, reserved ${store.stats().reservedBytes}`));
      const waiting = store.reserve(16 * 16 * 3).then((r) => {
        order.push('granted');
        r.cancel();
      });
      store.release(a);
      await waiting;
      assert.deepStrictEqual(order, ['notified: waiting 1, reserved 0', 'granted']);
      store.close();
    });

    it('reown moves a frame between owners without copying or signalling a release', function () {
      const store = new FrameStore({ budgetBytes: 10 * 16 * 16 * 3, sweepIntervalMs: 0 });
      const heard = [];
      store.onRelease((ref) => heard.push(ref));
      const pixels = frame(16, 16, 7);
      const ref = store.put(pixels, { owner: 'decoder' });
      const other = store.put(frame(16, 16, 8), { owner: 'decoder' });
      assert.strictEqual(store.ownerOf(ref), 'decoder');
      assert.strictEqual(store.reown(ref, 'token-1'), true);
      assert.strictEqual(store.ownerOf(ref), 'token-1');
      assert.strictEqual(store.get(ref), pixels, 'same pixels, same ref');
      assert.deepStrictEqual(heard, []);
      assert.strictEqual(store.releaseOwner('decoder'), 1, 'the old owner no longer frees it');
      assert.deepStrictEqual([store.has(ref), store.has(other)], [true, false]);
      assert.strictEqual(store.reown(ref, undefined), true);
      assert.strictEqual(store.releaseOwner('token-1'), 0, 'untagged');
      assert.strictEqual(store.reown(ref, 'token-2'), true);
      assert.strictEqual(store.reown(ref, 'token-2'), true, 'same owner again is a no-op');
      assert.strictEqual(store.releaseOwner('token-2'), 1);
      assert.strictEqual(store.reown(ref, 'x'), false, 'not stored');
      assert.strictEqual(store.ownerOf(ref), undefined);
      assert.deepStrictEqual(store.stats().frames, 0);
      store.close();
    });

    it('releaseOwner keeps the refs it is told to keep', function () {
      const store = new FrameStore({ budgetBytes: 10 * 16 * 16 * 3, sweepIntervalMs: 0 });
      const a = store.put(frame(16, 16), { owner: 'o' });
      const b = store.put(frame(16, 16), { owner: 'o' });
      assert.strictEqual(store.releaseOwner('o', { keep: [b] }), 1);
      assert.deepStrictEqual([store.has(a), store.has(b), store.ownerOf(b)], [false, true, 'o']);
      assert.strictEqual(store.releaseOwner('o'), 1);
      store.close();
    });
  });

  describe('InFlightLimit', function () {
    it('waits while `limit` tracked frames are stored and wakes on the release that makes room', async function () {
      const store = new FrameStore({ budgetBytes: 10 * 16 * 16 * 3, sweepIntervalMs: 0 });
      assert.throws(() => new InFlightLimit(store, 0), RangeError);
      const gate = new InFlightLimit(store, 2);
      const a = store.put(frame(16, 16));
      const b = store.put(frame(16, 16));
      const unrelated = store.put(frame(16, 16));
      gate.track(a);
      assert.strictEqual(gate.count, 1);
      await gate.waitForRoom(); // 1 < 2: at once
      gate.track(b);
      gate.track('frame:not-stored');
      assert.strictEqual(gate.count, 2, 'a ref the store does not hold is not counted');
      const wait = track(gate.waitForRoom());
      const wait2 = track(gate.waitForRoom());
      await sleep(20);
      assert.strictEqual(wait.settled, false);
      store.release(unrelated);
      await sleep(5);
      assert.strictEqual(wait.settled, false, 'an untracked frame does not make room');
      store.release(b);
      await Promise.all([wait.promise, wait2.promise]);
      assert.strictEqual(gate.count, 1);
      gate.close();
      store.release(a);
      store.close();
    });

    it('a sweep, close() of the limit and close() of the store all end a wait', async function () {
      let now = 0;
      const store = new FrameStore({ budgetBytes: 10 * 16 * 16 * 3, sweepIntervalMs: 0, now: () => now });
      const gate = new InFlightLimit(store, 1);
      gate.track(store.put(frame(16, 16), { expiresAt: 10 }));
      const bySweep = gate.waitForRoom();
      now = 20;
      store.sweep();
      await bySweep;
      gate.track(store.put(frame(16, 16)));
      const byClose = track(gate.waitForRoom());
      await sleep(5);
      assert.strictEqual(byClose.settled, false);
      gate.close();
      await byClose.promise;
      await gate.waitForRoom(); // closed: never waits
      const gate2 = new InFlightLimit(store, 1);
      gate2.track(store.put(frame(16, 16)));
      const byStoreClose = gate2.waitForRoom();
      store.close();
      await byStoreClose;
      assert.strictEqual(gate2.count, 0);
    });
  });

  describe('runtime.release', function () {
    let runtime;
    afterEach(async function () {
      await runtime?.close();
    });

    it("frees target and source by default; keepSource keeps the source of a per-frame token that shares the job's", async function () {
      runtime = createRuntime({ sweepIntervalMs: 0 });
      const small = frame(32, 32, 9);
      // A job token (target + source, both owned by its request) and per-frame copies that share its source.
      const job = await runtime.createToken({ target: small, source: astronaut, operations: ['detect'] });
      const source = job.source.frame;
      const perFrame = (fill) => {
        const target = runtime.store.put(frame(32, 32, fill), { owner: 'frame-owner' });
        return forkToken(job, { target: { frame: target, width: 32, height: 32 } });
      };
      const f1 = perFrame(1);
      const f2 = perFrame(2);
      runtime.release(f1, { keepSource: true });
      assert.strictEqual(runtime.store.has(f1.target.frame), false, "the frame's own picture is freed");
      assert.strictEqual(runtime.store.has(source), true, 'the shared source stays');
      runtime.release(f2, { keepSource: false });
      assert.strictEqual(runtime.store.has(f2.target.frame), false);
      assert.strictEqual(runtime.store.has(source), false, 'without keepSource the source goes too');

      // keepSource also protects a source owned by the token's own request (createToken's).
      const own = await runtime.createToken({ target: small, source: astronaut, operations: ['detect'] });
      runtime.release(own, { keepSource: true });
      assert.deepStrictEqual([runtime.store.has(own.target.frame), runtime.store.has(own.source.frame)], [false, true]);
      runtime.release(own);
      assert.strictEqual(runtime.store.has(own.source.frame), false);
      // A token without a source and keepSource: just its frames.
      const bare = await runtime.createToken({ target: small, operations: ['detect'] });
      runtime.release(bare, { keepSource: true });
      runtime.release(job);
      assert.strictEqual(runtime.stats().store.frames, 0);
    });
  });
});
