'use strict';
// Child-process script for the "decompression bombs" case: eight small WebP
// files of 8000×8000 sent at once to a runtime with the default 512 MiB frame budget. Prints one
// JSON line: how many became tokens, how many were refused (and with which codes), the store's
// peak against its budget, the process's highest RSS and the time to the last refusal. Run in
// its own process so the RSS is this case's alone. Used by test/hostile.test.js and bench/hostile.js.
const sharp = require('sharp');
const { createRuntime } = require('../../dist/runtime');

const SIDE = Number(process.env.BOMB_SIDE || 8000);
const COUNT = Number(process.env.BOMB_COUNT || 8);
const WAIT_MS = Number(process.env.BOMB_WAIT_MS || 1000);

async function main() {
  const bomb = await sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: { r: 10, g: 20, b: 30 } } })
    .webp({ quality: 1, effort: 0 })
    .toBuffer();
  const runtime = createRuntime({ sweepIntervalMs: 0, storeWaitMs: WAIT_MS });
  let rss = process.memoryUsage().rss;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: COUNT }, () =>
      runtime.createToken({ target: bomb, operations: [] }).then(
        (token) => ({ ok: true, token, ms: performance.now() - started }),
        (error) => ({ ok: false, code: error.code, ms: performance.now() - started }),
      ),
    ),
  );
  rss = Math.max(rss, process.memoryUsage().rss);
  clearInterval(sampler);
  const stats = runtime.store.stats();
  const refused = results.filter((r) => !r.ok);
  for (const r of results) if (r.ok) runtime.release(r.token);
  const after = runtime.store.stats();
  await runtime.close();
  process.stdout.write(
    `${JSON.stringify({
      side: SIDE,
      fileBytes: bomb.length,
      created: results.length - refused.length,
      refused: refused.length,
      codes: [...new Set(refused.map((r) => r.code))],
      lastRefusalMs: Math.round(Math.max(0, ...refused.map((r) => r.ms))),
      peakBytes: stats.peakBytes,
      budgetBytes: stats.budgetBytes,
      framesAfterRelease: after.frames,
      rssMaxBytes: rss,
    })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
