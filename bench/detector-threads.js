'use strict';
// Video detection on a worker thread or not (RuntimeOptions.detectorThreads): a privacy blur file
// job (defaults, CRF 23) on the panning 720p crowd clip of bench/privacy-camera.js, rounds
// interleaved. Usage: node bench/detector-threads.js [clip] [rounds] (default: the cached clip, 2).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime, JobManager } = require('../dist/runtime');

(async () => {
  const clip = process.argv[2] ?? path.join(os.tmpdir(), 'facefusion-bench-cache', 'privacy-v2', 'pan-720p-500.mp4');
  const rounds = Number(process.argv[3] ?? 2);
  if (!fs.existsSync(clip)) {
    console.log(`no clip at ${clip}: run node bench/privacy-camera.js --only file once (it builds the fixtures)`);
    return;
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-dt-'));
  console.log(
    `detector threads · ${path.basename(clip)} · load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  try {
    for (let r = 0; r < rounds; r++) {
      for (const detectorThreads of [1, 0]) {
        const rt = createRuntime({ sweepIntervalMs: 0, detectorThreads });
        await rt.warmup();
        const jobs = new JobManager(rt, {});
        try {
          const t0 = performance.now();
          const id = jobs.runJob({ target_path: clip, output_path: path.join(out, `dt${detectorThreads}.mp4`), processors: ['face_blur'], crf: 23, keep_audio: false });
          const info = await jobs.waitForJob(id);
          const sec = (performance.now() - t0) / 1000;
          if (info.state !== 'completed') throw new Error(`${info.state}: ${info.error?.message}`);
          console.log(`  round ${r + 1} · detectorThreads ${detectorThreads}: ${(info.result.frames / sec).toFixed(1)} frames/s (${sec.toFixed(1)} s)`);
        } finally {
          await jobs.close();
          await rt.close();
        }
      }
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
