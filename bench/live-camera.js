'use strict';
// Live camera end to end: an RTSP camera stand-in (GStreamer's RTSP server, test/helpers/
// rtsp-camera.py) serving a 720p 25 fps clip → job (detect → blur) → RTMP out to nginx-rtmp.
// Cases:
//   normal   the camera at its rate; processing keeps up or drops (drop_oldest, queue 25)
//   overload the same camera while each frame costs 2× the camera's frame time (an added
//            stage delay), so the source runs 2× faster than processing: the delay must stay bounded
//   overloadBlock  the overload case with live_policy block (no drops), for comparison
//   soak     (--soak MINUTES, bench only) the normal case for that long, RSS and frame-store samples
// Delay behind the camera = when a frame leaves the last stage (right before the encoder) minus
// when the camera sent it; the camera clock is pts + t0, with t0 the smallest (arrival − pts) seen
// at the first stage (the frame that waited least). Encoding and RTMP transit are not included.
// CPU per frame: this process (process.cpuUsage) and the job's two ffmpeg processes (/proc).
// Usage: node bench/live-camera.js [seconds=20] [--soak MINUTES] [--width 1280 --height 720 --fps 25]
//          [--tiling off|auto] [--cases normal,normalBlock,...] [--rounds N] [--together]
// Cases also: normalBlock (live_policy block), normalRepeat / overloadRepeat (live_gaps repeat:
// dropped frames encoded again instead of held). --together runs a round's cases at once, each on
// its own camera (same load for all); otherwise they run one after the other, rounds interleaved.
// Needs /usr/bin/python3 with GstRtspServer and nginx with the RTMP module; skipped otherwise.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime, JobManager } = require('../dist/runtime');
const { FfmpegLocator } = require('../dist/runtime/internal');
const { saveResults, machine } = require('./lib');
const { rtspMissing, rtmpMissing, startRtspCamera, startRtmpServer } = require('../test/helpers/cameras');
const { runFfmpeg, tempDir, sleep } = require('../test/helpers/clips');
const { MEDIA } = require('./lib');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const positional = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && !(i > 0 && all[i - 1].startsWith('--') && all[i - 1] !== '--together'));
const SECONDS = positional === undefined ? 20 : Number(positional);
const SOAK_MIN = arg('soak', 0);
const WIDTH = arg('width', 1280);
const HEIGHT = arg('height', 720);
const FPS = arg('fps', 25);
const sarg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const TILING = sarg('tiling', undefined);
const CASES = sarg('cases', 'normal,normalBlock,overload,overloadBlock').split(',');
const ROUNDS = arg('rounds', 1);
// All cases of a round at once, each on its own camera: the fair comparison on a shared machine
// whose load drifts (both see the same load; they also share its 2 cores).
const TOGETHER = process.argv.includes('--together');

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN);
const r2 = (n) => Math.round(n * 100) / 100;

/** A 720p clip with both faces of fr_two_people.jpg moving slowly: 10 s made, then stream-copied `loops` times. */
function makeClip(bin, dir, seconds) {
  const ten = path.join(dir, 'ten.mp4');
  const frames = 10 * FPS;
  const zoom = `zoompan=z='1+0.15*on/${frames}':x='(iw-iw/zoom)*on/${frames}':y='(ih-ih/zoom)/2':d=1:s=${WIDTH}x${HEIGHT}:fps=${FPS}`;
  runFfmpeg(bin, [
    '-loop',
    '1',
    '-framerate',
    String(FPS),
    '-i',
    path.join(MEDIA, 'fr_two_people.jpg'),
    '-vf',
    `scale=${Math.round(WIDTH * 1.25)}:-2,${zoom},format=yuv420p`,
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-g',
    String(FPS),
    '-crf',
    '23',
    ten,
  ]);
  const loops = Math.ceil(seconds / 10);
  const out = path.join(dir, 'camera.mp4');
  runFfmpeg(bin, ['-stream_loop', String(loops), '-i', ten, '-c', 'copy', out]);
  return out;
}

function procCpuMs(pid) {
  try {
    const f = fs
      .readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime in clock ticks (100 Hz)
  } catch {
    return undefined;
  }
}

async function runCase(name, { camera, server, seconds, stageDelayMs = 0, sample = 0, policy = 'drop_oldest', gaps }) {
  const runtime = createRuntime({ device: 'cpu', threads: 0, frameBudgetBytes: 256 * 1024 * 1024 });
  const jobs = new JobManager(runtime, { locator: new FfmpegLocator(), progressIntervalMs: 500 });
  const arrivals = [];
  const leaves = [];
  const original = runtime.process.bind(runtime);
  runtime.process = async (stage, token, options) => {
    if (stage === 'detect') arrivals.push(performance.now() / 1000 - token.target.pts);
    if (stage === 'blur' && stageDelayMs) await sleep(stageDelayMs);
    const out = await original(stage, token, options);
    if (stage === 'blur') leaves.push({ pts: token.target.pts, at: performance.now() / 1000 });
    return out;
  };
  const samples = [];
  const ffCpu = new Map();
  const cpu0 = process.cpuUsage();
  const id = jobs.runJob({
    target_path: camera.url,
    output_path: server.url(name),
    processors: ['face_blur'],
    preset: 'veryfast',
    quality: 60,
    live_policy: policy,
    ...(gaps ? { live_gaps: gaps } : {}),
    ...(TILING ? { parameters: { detect_tiling: TILING } } : {}),
  });
  const t0 = performance.now();
  let nextSample = 0;
  while ((performance.now() - t0) / 1000 < seconds) {
    await sleep(500);
    const info = jobs.getJob(id);
    if (!info || info.state !== 'running') break;
    for (const [role, pid] of Object.entries(info.processes)) {
      const ms = procCpuMs(pid);
      if (ms !== undefined) ffCpu.set(pid, { role, ms });
    }
    if (sample && performance.now() - t0 >= nextSample) {
      nextSample += sample * 1000;
      const s = runtime.stats().store;
      samples.push({
        atSec: Math.round((performance.now() - t0) / 1000),
        rssMB: r2(process.memoryUsage().rss / 2 ** 20),
        storeFrames: s.frames,
        storeMB: r2(s.bytes / 2 ** 20),
        framesDone: info.progress.framesDone,
      });
    }
  }
  const info = await jobs.cancelJob(id);
  const cpu = process.cpuUsage(cpu0);
  await jobs.close();
  await runtime.close();
  if (info.state !== 'completed') throw new Error(`${name}: job ${info.state}: ${info.error?.message}`);
  const r = info.result;
  const camT0 = Math.min(...arrivals);
  const delays = leaves.map((l) => l.at - camT0 - l.pts).sort((a, b) => a - b);
  const half = leaves.slice(Math.floor(leaves.length / 2)).map((l) => l.at - camT0 - l.pts);
  const ffmpegMs = [...ffCpu.values()].reduce((a, b) => a + b.ms, 0);
  const roleMs = (role) => [...ffCpu.values()].filter((c) => c.role === role).reduce((a, b) => a + b.ms, 0);
  const wall = (performance.now() - t0) / 1000;
  const out = {
    seconds: r2((performance.now() - t0) / 1000),
    stageDelayMs,
    policy,
    ...(gaps ? { gaps } : {}),
    framesRead: r.framesRead,
    framesProcessed: r.framesProcessed,
    framesDropped: r.framesDropped,
    framesWritten: r.framesWritten,
    framesLate: r.framesLate,
    framesRepeated: r.framesRepeated ?? Math.max(0, r.framesWritten - r.framesProcessed),
    live: r.live,
    ...(r.privacy
      ? { scan: { framesFullScan: r.privacy.framesFullScan, framesRollingScan: r.privacy.framesRollingScan, tilesPerFrame: r.privacy.tilesPerFrame, planTiles: r.privacy.planTiles } }
      : {}),
    processingFps: r2(r.processingFps),
    delaySec: {
      p50: r2(pct(delays, 0.5)),
      p95: r2(pct(delays, 0.95)),
      max: r2(delays[delays.length - 1]),
      p95SecondHalf: r2(
        pct(
          [...half].sort((a, b) => a - b),
          0.95,
        ),
      ),
    },
    cpuMsPerFrame: { node: r2((cpu.user + cpu.system) / 1000 / Math.max(1, r.framesProcessed)), ffmpeg: r2(ffmpegMs / Math.max(1, r.framesRead)) },
    // Share of one core per second of the run: this process, the decoder and the encoder ffmpeg.
    coresUsed: { node: r2((cpu.user + cpu.system) / 1e6 / wall), decoder: r2(roleMs('decoder') / 1000 / wall), encoder: r2(roleMs('encoder') / 1000 / wall) },
    encoderMsPerWritten: r2(roleMs('encoder') / Math.max(1, r.framesWritten)),
    ...(samples.length ? { samples } : {}),
  };
  out.sourceOverProcessing = r2(out.framesRead / Math.max(1, out.framesProcessed));
  console.log(`${name}: read ${out.framesRead}, processed ${out.framesProcessed} (${out.processingFps} fps), dropped ${out.framesDropped}, written ${out.framesWritten}, late ${out.framesLate}`);
  console.log(`  delay behind the camera p50 ${out.delaySec.p50} s, p95 ${out.delaySec.p95} s, max ${out.delaySec.max} s (p95 of the second half ${out.delaySec.p95SecondHalf} s)`);
  console.log(
    `  CPU per frame: node ${out.cpuMsPerFrame.node} ms (per processed frame), ffmpeg ${out.cpuMsPerFrame.ffmpeg} ms (per frame read); cores used: node ${out.coresUsed.node}, decoder ${out.coresUsed.decoder}, encoder ${out.coresUsed.encoder} (${out.encoderMsPerWritten} ms per frame written, ${out.framesRepeated} repeats)`,
  );
  if (out.scan) console.log(`  scan: ${out.scan.framesFullScan} frames fully scanned, ${out.scan.framesRollingScan} rolling; ${out.scan.tilesPerFrame} of ${out.scan.planTiles} tiles per frame`);
  console.log(
    `  load average ${os
      .loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}${TOGETHER ? ' (cases ran together: node CPU is the whole process)' : ''}`,
  );
  return out;
}

/**
 * What x264 spends on a repeated frame (live_gaps repeat) against a new one, at the camera's size
 * and the job's stream settings (veryfast, zerolatency, CRF 20 = quality 60, FLV): the camera clip's
 * first 50 frames, sent as 250 new frames, then as 25 new frames each followed by 9 repeats of
 * the very same bytes, then as the 25 new frames alone. CPU of the encoder process from /proc.
 */
async function repeatCost(bin, clip) {
  const { spawn, spawnSync } = require('child_process');
  const bytes = (WIDTH * HEIGHT * 3) / 2;
  const raw = spawnSync(bin, ['-v', 'error', '-i', clip, '-frames:v', '50', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { maxBuffer: 64 * bytes });
  const frames = Array.from({ length: 50 }, (_, i) => raw.stdout.subarray(i * bytes, (i + 1) * bytes));
  async function encode(seq) {
    const child = spawn(
      bin,
      [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        '-f',
        'rawvideo',
        '-pixel_format',
        'yuv420p',
        '-video_size',
        `${WIDTH}x${HEIGHT}`,
        '-framerate',
        String(FPS),
        '-i',
        'pipe:0',
        '-c:v',
        'libx264',
        '-crf',
        '20',
        '-preset',
        'veryfast',
        '-tune',
        'zerolatency',
        '-g',
        String(FPS * 2),
        '-pix_fmt',
        'yuv420p',
        '-f',
        'flv',
        '-y',
        '/dev/null',
      ],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    let cpu = 0;
    const poll = setInterval(() => (cpu = procCpuMs(child.pid) ?? cpu), 10);
    for (const f of seq) if (!child.stdin.write(f)) await new Promise((r) => child.stdin.once('drain', r));
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    clearInterval(poll);
    return cpu;
  }
  const fresh = Array.from({ length: 250 }, (_, i) => frames[i % 50]);
  const withRepeats = Array.from({ length: 250 }, (_, i) => frames[Math.floor(i / 10)]);
  const only = Array.from({ length: 25 }, (_, i) => frames[i]);
  const a = await encode(fresh);
  const b = await encode(withRepeats);
  const c = await encode(only);
  const out = { newFrameMs: r2(a / 250), repeatMs: r2((b - c) / 225), repeatShare: r2((b - c) / 225 / (a / 250)) };
  console.log(`repeatCost ${WIDTH}x${HEIGHT}: x264 spends ${out.repeatMs} ms per repeated frame, ${out.newFrameMs} ms per new one (${Math.round(out.repeatShare * 100)} %)`);
  return out;
}

async function main() {
  const missing = rtspMissing() || rtmpMissing();
  if (missing) {
    console.log(`live-camera bench skipped: ${missing}`);
    return;
  }
  const bin = (await new FfmpegLocator().resolve()).path;
  const dir = tempDir('bench-live-');
  const length = Math.max(SECONDS * 2 + 20, SOAK_MIN * 60 + 30);
  const clip = makeClip(bin, dir, length);
  const camera = await startRtspCamera(clip);
  const cameras = [camera];
  if (TOGETHER) for (let k = 1; k < CASES.filter((c) => c !== 'repeatCost').length; k++) cameras.push(await startRtspCamera(clip));
  const server = await startRtmpServer();
  const result = { machine: machine(), camera: { width: WIDTH, height: HEIGHT, fps: FPS }, policy: 'drop_oldest, queue 25' };
  try {
    if (SOAK_MIN > 0) {
      result.soak = await runCase('soak', { camera, server, seconds: SOAK_MIN * 60, sample: 30 });
      const s = result.soak.samples;
      const first = s.find((x) => x.atSec >= 60) ?? s[0];
      const last = s[s.length - 1];
      result.soak.rssGrowthMB = r2(last.rssMB - first.rssMB);
      result.soak.storeFramesMax = Math.max(...s.map((x) => x.storeFrames));
      console.log(
        `  soak ${SOAK_MIN} min: RSS ${first.rssMB} MB at ${first.atSec} s → ${last.rssMB} MB at ${last.atSec} s (growth ${result.soak.rssGrowthMB} MB); store frames at most ${result.soak.storeFramesMax}`,
      );
      saveResults('liveCameraSoak', result);
    } else {
      // Each frame waits 4 camera frame times in its last stage; with two frames in flight processing
      // then runs at under half the camera's rate (the source is more than 2× faster; see the ratio).
      const stageDelayMs = Math.round(4000 / FPS);
      const SPECS = {
        normal: {},
        normalBlock: { policy: 'block' },
        normalRepeat: { gaps: 'repeat' },
        overload: { stageDelayMs },
        // The same overload without drops: the delay grows with the run.
        overloadBlock: { stageDelayMs, policy: 'block' },
        overloadRepeat: { stageDelayMs, gaps: 'repeat' },
      };
      // Rounds interleave the cases (drop, block, drop, block, …): the machine's load drifts.
      if (CASES.includes('repeatCost')) result.repeatCost = await repeatCost(bin, clip);
      const camCases = CASES.filter((c) => c !== 'repeatCost');
      for (const name of camCases) if (!SPECS[name]) throw new Error(`unknown case ${name} (${Object.keys(SPECS).join(', ')})`);
      const keep = (name, out) => {
        if (ROUNDS === 1) result[name] = out;
        else (result[name] ??= []).push(out);
      };
      for (let round = 0; round < ROUNDS; round++) {
        if (TOGETHER) {
          const outs = await Promise.all(camCases.map((name, k) => runCase(name, { camera: cameras[k], server, seconds: SECONDS, ...SPECS[name] })));
          camCases.forEach((name, k) => keep(name, { ...outs[k], together: camCases }));
        } else {
          for (const name of camCases) keep(name, await runCase(name, { camera, server, seconds: SECONDS, ...SPECS[name] }));
        }
      }
      const fpsOf = (name) =>
        [result[name]]
          .flat()
          .filter(Boolean)
          .map((o) => o.processingFps);
      for (const [drop, block] of [
        ['normal', 'normalBlock'],
        ['overload', 'overloadBlock'],
        ['normalRepeat', 'normalBlock'],
        ['overloadRepeat', 'overloadBlock'],
      ]) {
        if (!result[drop] || !result[block]) continue;
        console.log(`${drop} vs ${block}: processed ${fpsOf(drop).join(', ')} vs ${fpsOf(block).join(', ')} frames/s`);
      }
      saveResults('liveCamera', result);
    }
  } finally {
    for (const c of cameras) await c.stop();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
