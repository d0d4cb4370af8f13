const { createRuntime } = require('./dist/runtime');
const Y = require('./dist/runtime/vision/yuv');
(async () => {
  for (const threads of [1, 2, 0]) {
    const rt = createRuntime({ sweepIntervalMs: 0, threads });
    const det = await rt.context.detector(undefined);
    const frame = { width: 320, height: 240, channels: 3, data: new Uint8Array(320 * 240 * 3).map((_, i) => (i * 13) & 255) };
    for (let i = 0; i < 30; i++) await det.detect(frame, { scoreThreshold: 0.45, maxFaces: 20 });
    const c0 = process.cpuUsage(); const t0 = performance.now();
    for (let i = 0; i < 300; i++) await det.detect(frame, { scoreThreshold: 0.45, maxFaces: 20 });
    const c = process.cpuUsage(c0); const wall = performance.now() - t0;
    console.log(`threads ${threads}: wall ${(wall / 300).toFixed(2)} ms, cpu ${((c.user + c.system) / 1000 / 300).toFixed(2)} ms per detect`);
    await rt.close();
  }
})();
