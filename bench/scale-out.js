'use strict';
// Scaling out: face jobs on a Redis queue and frames over MQTT, measured here.
//   1. jobs per minute with 1 and 2 worker processes (`facefusion-node worker`), video jobs;
//   2. queue overhead per job: the same picture job in process vs through Redis (submit → result),
//      and Redis commands per job (INFO stats, all clients: submitter, worker, events);
//   3. bytes per frame on MQTT at 720p: a packed frame token, PNG vs JPEG q90, and the broker
//      bandwidth per camera that follows.
// Usage: node bench/scale-out.js [jobs]   (needs redis-server; ffmpeg)
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const sharp = require('sharp');
const { createRuntime, decodeImage, RedisJobQueue, QueueWorker, FfmpegLocator } = require('../dist/runtime/internal');
const { JobManager } = require('../dist/runtime');
const { startRedis, redisBinary } = require('../test/helpers/redis');
const { summary, machine, saveResults, MEDIA } = require('./lib');

const JOBS = Number(process.argv[2] || 6);
const CLI = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');

function redisCommands(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    s.on('data', (d) => {
      text += d;
      const m = /total_commands_processed:(\d+)/.exec(text);
      if (m) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on('error', reject);
    s.write('INFO stats\r\n');
  });
}

async function startWorkers(url, n, name, allowed) {
  const workers = [];
  for (let i = 0; i < n; i++) {
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--queue-name', name, '--allowed-folder', allowed, '--device', 'cpu', '--threads', '1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const w = { child, log: '', closed: new Promise((r) => child.on('close', r)) };
    child.stderr.on('data', (d) => (w.log += d));
    workers.push(w);
  }
  const deadline = Date.now() + 30000;
  while (!workers.every((w) => /taking jobs/.test(w.log))) {
    if (Date.now() > deadline) throw new Error(`workers did not start: ${workers.map((w) => w.log).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return workers;
}

async function jobsPerMinute(redis, dir, clip, workerCount) {
  const name = `bench-${workerCount}`;
  const workers = await startWorkers(redis.url, workerCount, name, dir);
  const queue = new RedisJobQueue({ url: redis.url, name });
  try {
    // Warm each worker's sessions with one job apiece first (model load is not throughput).
    await Promise.all(
      workers.map(async (_, i) => queue.wait(await queue.submit({ target_path: clip, output_path: path.join(dir, `warm-${workerCount}-${i}.mp4`), processors: ['face_blur'], keep_audio: false }))),
    );
    const t0 = performance.now();
    const ids = [];
    for (let i = 0; i < JOBS; i++) ids.push(await queue.submit({ target_path: clip, output_path: path.join(dir, `out-${workerCount}-${i}.mp4`), processors: ['face_blur'], keep_audio: false }));
    const infos = await Promise.all(ids.map((id) => queue.wait(id)));
    const seconds = (performance.now() - t0) / 1000;
    if (!infos.every((i) => i.state === 'completed')) throw new Error(JSON.stringify(infos.filter((i) => i.state !== 'completed')));
    return {
      jobs: JOBS,
      seconds: Math.round(seconds * 100) / 100,
      jobsPerMinute: Math.round((JOBS / seconds) * 60 * 10) / 10,
      perWorker: [...new Set(infos.map((i) => i.worker))].map((w) => infos.filter((i) => i.worker === w).length),
    };
  } finally {
    await queue.close();
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.closed));
  }
}

async function queueOverhead(redis, dir, runtime, locator) {
  const picture = path.join(MEDIA, 'fr_two_people.jpg');
  const args = (i) => ({ target_path: picture, output_path: path.join(dir, `pic-${i}.jpg`), processors: ['face_blur'] });
  const N = 20;
  const manager = new JobManager(runtime, { locator });
  await manager.waitForJob(manager.runJob(args('warm')));
  const direct = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const info = await manager.waitForJob(manager.runJob(args(i)));
    if (info.state !== 'completed') throw new Error(JSON.stringify(info.error));
    direct.push(performance.now() - t0);
  }
  await manager.close();
  const queue = new RedisJobQueue({ url: redis.url, name: 'bench-overhead' });
  const worker = new QueueWorker(runtime, { url: redis.url, name: 'bench-overhead', jobs: { locator }, allowAnyPath: true });
  await worker.ready();
  await queue.wait(await queue.submit(args('qwarm')));
  const viaQueue = [];
  const before = await redisCommands(redis.port);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const info = await queue.wait(await queue.submit(args(i)));
    if (info.state !== 'completed') throw new Error(JSON.stringify(info.error));
    viaQueue.push(performance.now() - t0);
  }
  const commands = (await redisCommands(redis.port)) - before;
  await worker.stop({ graceMs: 0 });
  await queue.close();
  const d = summary(direct),
    q = summary(viaQueue);
  return { jobs: N, directMs: d, queueMs: q, overheadMs: Math.round((q.median - d.median) * 10) / 10, redisCommandsPerJob: Math.round(commands / N) };
}

async function packetSizes(runtime) {
  // Unpacked on a second runtime, as on the other side of the broker (a token's frames belong to its request).
  const there = createRuntime({ device: 'cpu', sweepIntervalMs: 0 });
  // A 720p frame with two faces: the fixture picture scaled and letterboxed to 1280×720.
  const png = await sharp(path.join(MEDIA, 'fr_two_people.jpg')).resize(1280, 720, { fit: 'contain', background: '#404040' }).png().toBuffer();
  const frame = await decodeImage(png);
  const token = await runtime.run(await runtime.createToken({ target: frame, operations: ['detect'] }));
  const key = Buffer.alloc(32, 7);
  const sizes = {};
  const times = {};
  for (const [name, options] of [
    ['png', { format: 'png' }],
    ['jpeg90', { format: 'jpeg', quality: 90 }],
  ]) {
    const ms = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const packet = await runtime.pack(token, { key, ...options });
      ms.push(performance.now() - t0);
      bytes = packet.length;
      const t1 = performance.now();
      const back = await there.unpack(packet, { key });
      ms[ms.length - 1] += performance.now() - t1;
      there.release(back);
    }
    sizes[name] = bytes;
    times[name] = summary(ms);
  }
  runtime.release(token);
  await there.close();
  const fps = 25;
  // Per camera the broker takes each frame in twice (hub → broker, worker → broker) and sends it out twice.
  const perCamera = (bytes) => Math.round(((bytes * fps * 2 * 8) / 1e6) * 10) / 10;
  return { width: 1280, height: 720, faces: token.faces.length, bytes: sizes, packUnpackMs: times, fps, brokerInMbitPerCamera: { png: perCamera(sizes.png), jpeg90: perCamera(sizes.jpeg90) } };
}

(async () => {
  console.log(`machine: ${machine()}`);
  const runtime = createRuntime({ device: 'cpu', sweepIntervalMs: 0 });
  const out = {};
  try {
    out.packets = await packetSizes(runtime);
    console.log(
      `720p frame packet: PNG ${Math.round(out.packets.bytes.png / 1024)} kB, JPEG q90 ${Math.round(out.packets.bytes.jpeg90 / 1024)} kB; pack+unpack median PNG ${out.packets.packUnpackMs.png.median} ms, JPEG ${out.packets.packUnpackMs.jpeg90.median} ms`,
    );
    console.log(`broker traffic per 25 fps camera (in, = out): PNG ${out.packets.brokerInMbitPerCamera.png} Mbit/s, JPEG q90 ${out.packets.brokerInMbitPerCamera.jpeg90} Mbit/s`);
    if (!redisBinary()) {
      console.log('redis-server is not installed: queue measurements skipped');
    } else {
      const redis = await startRedis();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-bench-scale-'));
      try {
        const locator = new FfmpegLocator();
        const ffmpeg = await locator.resolve();
        const clip = path.join(dir, 'clip.mp4');
        const r = spawnSync(ffmpeg.path, [
          '-hide_banner',
          '-loglevel',
          'error',
          '-y',
          '-i',
          path.join(MEDIA, 'astronaut.png'),
          '-vf',
          "zoompan=z='1+0.003*on':d=48:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=320x320:fps=12",
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv420p',
          clip,
        ]);
        if (r.status !== 0) throw new Error(String(r.stderr));
        out.overhead = await queueOverhead(redis, dir, runtime, locator);
        console.log(
          `picture job (blur, 2 faces): in process ${out.overhead.directMs.median} ms, via Redis ${out.overhead.queueMs.median} ms median → overhead ${out.overhead.overheadMs} ms/job; ${out.overhead.redisCommandsPerJob} Redis commands per job`,
        );
        for (const n of [1, 2]) {
          out[`workers${n}`] = await jobsPerMinute(redis, dir, clip, n);
          const w = out[`workers${n}`];
          console.log(`${n} worker process${n > 1 ? 'es' : ''}: ${w.jobs} video jobs (320x320×48, blur) in ${w.seconds} s → ${w.jobsPerMinute} jobs/min (per worker ${w.perWorker.join(' + ')})`);
        }
        out.clip = { width: 320, height: 320, frames: 48 };
      } finally {
        await redis.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await runtime.close();
  }
  out.cores = os.cpus().length;
  saveResults('scaleOut', out);
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
