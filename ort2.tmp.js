const { createRuntime } = require('./dist/runtime');
(async () => {
  for (const threads of [1, 2]) {
    const rt = createRuntime({ sweepIntervalMs: 0, threads });
    const lm = await rt.context.landmarker(undefined);
    const em = await rt.context.embedder(undefined);
    const frame = { width: 640, height: 480, channels: 3, data: new Uint8Array(640 * 480 * 3).map((_, i) => (i * 13) & 255) };
    const box = [200, 100, 400, 350];
    const pts = [[260, 180], [340, 180], [300, 230], [270, 290], [330, 290]];
    for (const [name, fn] of [['landmark', () => lm.locate(frame, box)], ['embed', () => em.embedPair(frame, pts)]]) {
      for (let i = 0; i < 20; i++) await fn();
      const c0 = process.cpuUsage(); const t0 = performance.now();
      for (let i = 0; i < 200; i++) await fn();
      const c = process.cpuUsage(c0); const wall = performance.now() - t0;
      console.log(`threads ${threads} ${name}: wall ${(wall / 200).toFixed(2)} ms, cpu ${((c.user + c.system) / 1000 / 200).toFixed(2)} ms`);
    }
    await rt.close();
  }
})();
