'use strict';
// Does the privacy blur leave a face visible? Recall of the labelled faces (covered
// when ≥ half of the labelled box was masked) at native size and on a 1500×1000 mosaic, boxes on
// face-free pictures, leaked frames on a clip whose face is degraded for 7 frames, and the cost
// per frame of tiling and of the temporal hold at 720p and 1080p.
// Usage: npm run bench   (or: node bench/privacy-recall.js [rounds])
// SCRFD joins when FACEFUSION_TEST_MODELS names a folder holding scrfd_2.5g_test.onnx.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime, readImageFile, resizeBilinear, FaceTracks } = require('../dist/runtime/internal');
const { summary, machine, saveResults, MEDIA } = require('./lib');
const lib = require('./privacy-lib');

const ROUNDS = Number(process.argv[2] || 10);

(async () => {
  console.log(`machine: ${machine()}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-privacy-bench-'));
  const rt = createRuntime({ sweepIntervalMs: 0 });
  try {
    const yunet = path.join(dir, 'yunet_2023_mar.onnx');
    fs.copyFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'models', 'yunet_640_test.onnx'), yunet);
    const detectors = [
      ['RFB-320 (default)', undefined],
      ['YuNet 640', yunet],
    ];
    const scrfd = process.env.FACEFUSION_TEST_MODELS && path.join(process.env.FACEFUSION_TEST_MODELS, 'scrfd_2.5g_test.onnx');
    if (scrfd && fs.existsSync(scrfd)) detectors.push(['SCRFD 2.5g', scrfd]);

    const pictures = await lib.labelledPictures();
    const free = await lib.faceFreePictures(MEDIA);
    const recall = {};
    console.log('\nrecall of the 18 labelled faces (covered: ≥ half the box masked by the blur stage)');
    for (const [name, model] of detectors) {
      const m = model ? { face_detector_model: model } : {};
      const before = await lib.blurRecall(rt, { ...m, detect_tiling: 'off', blur_score_threshold: 0.6 }, pictures);
      const after = await lib.blurRecall(rt, m, pictures);
      let freeBoxes = 0,
        freeBoxesBig = 0;
      for (const p of free) {
        const t = await rt.run(await rt.createToken({ target: p.frame, operations: ['detect', 'blur'], parameters: m }));
        if (p.frame.width === 1500) freeBoxesBig += t.faces.length;
        else freeBoxes += t.faces.length;
        rt.release(t);
      }
      const tiles640 = model ? undefined : await lib.blurRecall(rt, { detect_tiling: 640 }, pictures);
      recall[name] = {
        ...(tiles640 ? { tiles640: { native: tiles640.native.covered, mosaic: tiles640.mosaic.covered, note: tiles640.mosaic.note } } : {}),
        before: { native: before.native.covered, mosaic: before.mosaic.covered },
        privacyDefaults: { native: after.native.covered, mosaic: after.mosaic.covered, mosaicBoxes: after.mosaic.boxes, note: after.mosaic.note },
        total: after.native.total,
        faceFreeBoxes: { crops: freeBoxes, repeated1500x1000: freeBoxesBig },
      };
      console.log(
        `  ${name.padEnd(18)} threshold 0.6, no tiling: native ${before.native.covered}/18, mosaic ${before.mosaic.covered}/18 · privacy defaults: native ${after.native.covered}/18, mosaic ${after.mosaic.covered}/18 (${after.mosaic.note}) ${tiles640 ? ` · 640 px tiles: mosaic ${tiles640.mosaic.covered}/18` : ''} · face-free: ${freeBoxes} boxes on ${free.length - 1} crops, ${freeBoxesBig} on the 1500×1000 one`,
      );
    }

    console.log('\nleaks: 40-frame clip, face degraded by noise (σ 70) in frames 15–21');
    const clip = await lib.makeDegradedClip(dir);
    const leaks = {};
    for (const [label, parameters] of [
      ['no hold', { blur_hold_frames: 0 }],
      ['hold 8 (default)', {}],
      ['hold 8, static', { blur_hold_motion: 'static' }],
    ]) {
      const r = await lib.leakCount(rt, clip, parameters);
      leaks[label] = { leaked: r.leaked.length, leakedFrames: r.leaked, held: r.held.length };
      console.log(`  ${label.padEnd(18)} ${r.leaked.length} frames with the face unblurred (${r.leaked.join(',') || '–'}), ${r.held.length} frames masked by a held region`);
    }

    console.log(`\ncost per frame (${ROUNDS} rounds; fr_two_people.jpg scaled to the size, 2 faces)`);
    const base = await readImageFile(path.join(MEDIA, 'fr_two_people.jpg'));
    const cost = {};
    for (const [label, w, h] of [
      ['720p', 1280, 720],
      ['1080p', 1920, 1080],
    ]) {
      const frame = resizeBilinear(base, w, h);
      cost[label] = {};
      for (const [name, model] of detectors) {
        const m = model ? { face_detector_model: model } : {};
        const row = {};
        // For RFB-320 also tiles of 640 px (twice its input): a cheaper choice for video.
        for (const tiling of model ? ['off', 'auto'] : ['off', 'auto', 640]) {
          const times = [];
          let note = '';
          for (let r = 0; r < ROUNDS + 1; r++) {
            const t = await rt.run(await rt.createToken({ target: frame, operations: ['detect'], parameters: { ...m, detect_tiling: tiling } }));
            if (r > 0) times.push(t.journal[0].ms);
            note = t.journal[0].note;
            rt.release(t);
          }
          row[tiling] = { ms: summary(times), note };
        }
        cost[label][name] = row;
        console.log(
          `  ${label} ${name.padEnd(18)} detect: whole frame ${row.off.ms.median} ms, tiled ${row.auto.ms.median} ms (${row.auto.note.split(' · ').pop()})${row[640] ? `, 640 px tiles ${row[640].ms.median} ms (${row[640].note.split(' · ').pop()})` : ''}`,
        );
      }
      // The hold: the tracker's update for the frame's faces, and the blur stage with and
      // without it (a frame token of a source, 2 faces found).
      const tracker = new FaceTracks({ holdFrames: 12, motion: 'constant_velocity', confirmScore: 0.6 });
      const found = [
        { bbox: [100, 100, 220, 260], score: 0.9 },
        { bbox: [900, 80, 1020, 240], score: 0.9 },
      ];
      const t0 = performance.now();
      const n = 2000;
      for (let i = 0; i < n; i++) {
        tracker.observe(i, i % 10 < 3 ? [] : found.map((f) => ({ ...f, bbox: f.bbox.map((v) => v + (i % 7)) })), 2);
        tracker.regions(i, w, h, 0);
      }
      const trackerUs = ((performance.now() - t0) / n) * 1000;
      const blurTimes = { off: [], on: [] };
      const detected = await rt.run(await rt.createToken({ target: frame, operations: ['detect', 'blur'], parameters: {} }), ['detect']);
      // Alternating rounds, so drift in the machine's load colours both alike.
      for (let r = 0; r < ROUNDS + 1; r++) {
        for (const hold of ['off', 'on']) {
          const token = { ...detected, job_id: `bench-${label}`, target: { ...detected.target, index: r }, parameters: { blur_hold_frames: hold === 'on' ? 8 : 0 } };
          const out = await rt.process('blur', token, { force: true });
          if (r > 0) blurTimes[hold].push(out.journal.at(-1).ms);
          rt.store.release(out.target.frame);
        }
      }
      rt.release(detected);
      rt.releaseStream(`bench-${label}`);
      cost[label].hold = { trackerUpdateMicroseconds: Math.round(trackerUs * 10) / 10, blurMs: { off: summary(blurTimes.off), on: summary(blurTimes.on) } };
      console.log(
        `  ${label} hold: tracker update ${cost[label].hold.trackerUpdateMicroseconds} µs/frame; blur stage ${cost[label].hold.blurMs.off.median} ms without, ${cost[label].hold.blurMs.on.median} ms with the hold`,
      );
    }
    // A whole video blur job at 720p (60 frames, 2 faces): what tiling and the hold cost in frames/s.
    const { makeClip, timedJob } = require('./video-lib');
    const { JobManager } = require('../dist/runtime');
    const clip720 = await makeClip({ width: 1280, height: 720, frames: 60 });
    const manager = new JobManager(rt, { progressIntervalMs: 0 });
    const job = {};
    try {
      for (const [label, parameters] of [
        ['tiling off, no hold', { detect_tiling: 'off', blur_hold_frames: 0 }],
        ['tiling off, hold 8', { detect_tiling: 'off' }],
        ['tiling 640, hold 8', { detect_tiling: 640 }],
        ['defaults (tiling auto, hold 8)', {}],
      ]) {
        const { info, wallSec } = await timedJob(manager, { target_path: clip720, output_path: path.join(dir, 'job.mp4'), processors: ['face_blur'], keep_audio: false, parameters });
        job[label] = Math.round((info.result.framesProcessed / wallSec) * 10) / 10;
        console.log(`  720p blur job, ${label}: ${job[label]} frames/s`);
      }
    } finally {
      await manager.close();
    }
    saveResults('privacy', { recall, leaks, cost, videoBlurJob720pFps: job, rounds: ROUNDS });
  } finally {
    await rt.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
