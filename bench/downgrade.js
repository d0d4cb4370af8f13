'use strict';
// Downgrade under a frame budget: the same 640×360 clip through detect + a slow
// gfpgan-shaped enhancer graph (test/helpers/model-graphs.js, 8 convolutions over the 512² crop)
// (a) keeping all work, (b) with downgrade and a 40 ms budget (25 fps), (c) detect only. Prints
// frames per second and the mean frame time of each, and for (b) after enhance was dropped.
// Usage: node bench/downgrade.js [frames]   (default 150)
const fs = require('fs');
const path = require('path');
const { createRuntime, JobManager } = require('../dist/runtime');
const { writeModel } = require('../test/helpers/onnx-graph');
const { slowEnhancerGraph } = require('../test/helpers/model-graphs');
const { machine, saveResults } = require('./lib');
const { CACHE, makeClip, loadLine } = require('./video-lib');

const FRAMES = Number(process.argv[2]) || 150;
const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

async function runCase(clip, name, args) {
  const runtime = createRuntime({ device: 'cpu' });
  const jobs = new JobManager(runtime);
  const frames = [];
  jobs.on('frame', (f) => frames.push({ ms: f.ms, state: f.state, t: performance.now() }));
  try {
    const output = path.join(CACHE, `out-${process.pid}-${name.replace(/\W+/g, '-')}.mp4`);
    const id = jobs.runJob({ target_path: clip, output_path: output, ...args });
    const info = await jobs.waitForJob(id);
    fs.rmSync(output, { force: true });
    if (info.state !== 'completed') throw new Error(`${name}: ${JSON.stringify(info.error)}`);
    const r = info.result;
    const down = frames.filter((f) => f.state === 'downgraded_for_performance');
    const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b.ms, 0) / xs.length : 0);
    // Frames per second over the downgraded stretch (wall time between its first and last frame).
    const downFps = down.length > 1 ? (down.length - 1) / ((down[down.length - 1].t - down[0].t) / 1000) : 0;
    return {
      name,
      frames: r.frames,
      fps: round(r.processingFps),
      meanFrameMs: round(mean(frames)),
      downgraded: r.framesDowngraded,
      downgradedFps: round(downFps),
      downgradedFrameMs: round(mean(down)),
      transitions: r.downgrades.map((d) => `${d.action} ${d.step} @${d.frame} (${d.reason})`),
    };
  } finally {
    await jobs.close();
    await runtime.close();
  }
}

(async () => {
  console.log(`machine: ${machine()} · load ${loadLine()}`);
  const clip = await makeClip({ width: 640, height: 360, frames: FRAMES });
  const model = writeModel(slowEnhancerGraph({ layers: 8, kernel: 9 }), 'gfpgan_1.4.onnx');
  try {
    const enhance = { processors: ['face_enhancer'], face_enhancer_model: model.path };
    const results = [
      await runCase(clip, 'keep all work', enhance),
      await runCase(clip, 'downgrade, 40 ms budget', { ...enhance, downgrade: true, frame_budget_ms: 40 }),
      await runCase(clip, 'detect only', { processors: ['face_detector'] }),
    ];
    for (const r of results) {
      console.log(
        `${r.name.padEnd(24)} ${r.frames} frames · ${r.fps} fps · ${r.meanFrameMs} ms/frame` +
          (r.downgraded ? ` · ${r.downgraded} downgraded at ${r.downgradedFps} fps, ${r.downgradedFrameMs} ms/frame · ${r.transitions.join(', ')}` : ''),
      );
    }
    saveResults('downgrade', { frames: FRAMES, clip: '640x360', results });
  } finally {
    model.cleanup();
  }
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
