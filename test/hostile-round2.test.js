'use strict';
// Hostile input, round two: each of the audit's eight findings as a test through the
// door an attacker uses — jobs written straight into a real redis-server and taken by a CLI
// worker process; flows in Node-RED; the upload example on a real Node-RED — plus a seeded fuzz
// of queued job data. Local HTTP and TCP listeners stand for internal services: they must see
// no request at all. Figures: bench/hostile.js, BENCHMARKS.md § 8.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const sharp = require('sharp');
const { Queue } = require('bullmq');
const { createRuntime, failToken, RedisJobQueue, FfmpegLocator, probeMedia } = require('../dist/runtime/internal');
const { helper, allNodes, nextMessage } = require('./helpers/red');
const { media, ffmpegOrSkip, makeZoomClip, runFfmpeg, sleep } = require('./helpers/clips');
const { pending } = require('./helpers/fixtures');
const { startRedis, redisBinary } = require('./helpers/redis');
const { ROOT, freePort, waitFor, cleanEnv, startNodeRed, deploy } = require('./helpers/node-red-process');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');

/** A local service nobody should reach from a message: counts every request / connection. */
async function listener(kind) {
  const seen = [];
  const server =
    kind === 'http'
      ? http.createServer((req, res) => {
          seen.push(`${req.method} ${req.url}`);
          res.end('internal');
        })
      : net.createServer((socket) => {
          seen.push('connection');
          socket.destroy();
        });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, seen, close: () => new Promise((r) => server.close(r)) };
}

/** Every file under `dir` with its size and mtime: what must not change. */
function snapshot(dir) {
  const out = {};
  for (const name of fs.readdirSync(dir, { recursive: true })) {
    const p = path.join(dir, name);
    const st = fs.lstatSync(p);
    out[name] = `${st.size}:${st.mtimeMs}`;
  }
  return out;
}

const { seeded: prng } = require('./helpers/seeded');

describe('hostile input, round two', function () {
  this.timeout(120000);
  let root, allowed, outside, web, tcp, locator, ffmpeg;

  before(async function () {
    locator = new FfmpegLocator();
    ffmpeg = await ffmpegOrSkip(this, locator);
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ff-hostile2-')));
    allowed = path.join(root, 'allowed');
    outside = path.join(root, 'outside');
    fs.mkdirSync(path.join(allowed, 'sub'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'victim.jpg'), 'do not overwrite me');
    fs.copyFileSync(media('fr_biden.jpg'), path.join(outside, 'secret.jpg'));
    fs.copyFileSync(media('fr_obama.jpg'), path.join(allowed, 'me.jpg'));
    fs.symlinkSync(path.join(outside, 'secret.jpg'), path.join(allowed, 'link-out.jpg'));
    fs.symlinkSync(outside, path.join(allowed, 'dir-out'));
    await sharp(media('fr_obama.jpg')).resize(96).jpeg().toFile(path.join(allowed, 'tiny.jpg'));
    makeZoomClip(ffmpeg.path, { image: media('astronaut.png'), output: path.join(allowed, 'clip.mp4'), width: 192, height: 192, frames: 48, fps: 12 });
    // A private clip outside, and a playlist inside the allowed folder naming it by absolute path.
    runFfmpeg(ffmpeg.path, [
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x48:rate=10',
      '-frames:v',
      '12',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-f',
      'mpegts',
      path.join(outside, 'private.ts'),
    ]);
    fs.writeFileSync(
      path.join(allowed, 'playlist.mp4'),
      `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.2,\n${path.join(outside, 'private.ts')}\n#EXT-X-ENDLIST\n`,
    );
    web = await listener('http');
    tcp = await listener('tcp');
  });

  after(async function () {
    await web?.close();
    await tcp?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe('queued jobs, written straight into a real Redis and taken by a CLI worker process', function () {
    let redis, worker, raw, queue;
    const QUEUE = 'hostile2';

    before(async function () {
      if (!redisBinary()) pending(this, 'redis-server is not installed (apt-get install redis-server)');
      redis = await startRedis();
      const child = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--queue-name', QUEUE, '--allowed-folder', allowed, '--device', 'cpu', '--threads', '1', '--concurrency', '2'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      worker = { child, log: '', closed: new Promise((r) => child.on('close', r)) };
      child.stderr.on('data', (d) => (worker.log += d));
      await waitFor(
        () => /taking jobs/.test(worker.log) || child.exitCode !== null,
        30000,
        () => `the worker to start:\n${worker.log}`,
      );
      assert.match(worker.log, /taking jobs/, worker.log);
      raw = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
      queue = new RedisJobQueue({ url: redis.url, name: QUEUE });
    });

    after(async function () {
      await raw?.close();
      await queue?.close();
      if (worker) {
        worker.child.kill('SIGTERM');
        await worker.closed;
      }
      await redis?.stop();
    });

    /** Adds job data as anyone with access to Redis can, skipping every submit-side check; resolves with the final info. */
    async function rawJob(data) {
      const id = crypto.randomUUID();
      await raw.add('face-job', data, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 50 } });
      return queue.wait(id);
    }

    it('1: a job that skipped the submit checks cannot overwrite a file outside --allowed-folder, nor stream a clip to tcp://; a malformed job fails without retry', async function () {
      const before = snapshot(outside);
      const overwrite = await rawJob({ args: { target_path: path.join(allowed, 'me.jpg'), output_path: path.join(outside, 'victim.jpg'), processors: ['face_blur'] } });
      assert.deepStrictEqual([overwrite.state, overwrite.error.code, overwrite.attemptsMade], ['failed', 'E_PATH_DENIED', 1], JSON.stringify(overwrite));
      assert.match(overwrite.error.message, /--allowed-folder/);
      const viaLink = await rawJob({ args: { target_path: path.join(allowed, 'me.jpg'), output_path: path.join(allowed, 'dir-out', 'victim.jpg'), processors: ['face_blur'] } });
      assert.strictEqual(viaLink.error.code, 'E_PATH_DENIED');
      const stream = await rawJob({ args: { target_path: path.join(allowed, 'clip.mp4'), output_path: `tcp://127.0.0.1:${tcp.port}`, processors: ['face_blur'] } });
      assert.deepStrictEqual([stream.state, stream.error.code, stream.attemptsMade], ['failed', 'E_HOST_DENIED', 1], JSON.stringify(stream));
      const read = await rawJob({ args: { target_path: path.join(outside, 'secret.jpg'), output_path: path.join(allowed, 'stolen.jpg'), processors: ['face_blur'] } });
      assert.strictEqual(read.error.code, 'E_PATH_DENIED');
      for (const junk of [null, 'x', { args: 'x' }, { args: { target_path: 1 } }]) {
        const bad = await rawJob(junk);
        assert.strictEqual(bad.state, 'failed');
        assert.strictEqual(bad.attemptsMade, 1, `${JSON.stringify(junk)} was not retried`);
      }
      // A job inside the folder still runs.
      const good = await rawJob({ args: { target_path: path.join(allowed, 'me.jpg'), output_path: path.join(allowed, 'blurred.jpg'), processors: ['face_blur'] } });
      assert.strictEqual(good.state, 'completed', JSON.stringify(good.error));
      assert.deepStrictEqual(snapshot(outside), before, 'nothing outside changed');
      assert.deepStrictEqual(tcp.seen, [], 'no connection to the tcp listener');
      assert.ok(!fs.existsSync(path.join(allowed, 'stolen.jpg')));
    });

    it('3: *_model options from a queued job are ids or files in the models folder / allowed folders; the refusal is the same whether the file exists or not', async function () {
      const refusal = async (model, where = 'top') => {
        const args = { target_path: path.join(allowed, 'me.jpg'), output_path: path.join(allowed, 'm.jpg'), processors: ['face_blur'] };
        if (where === 'top') args.face_detector_model = model;
        else args.parameters = { face_detector_model: model };
        const info = await rawJob({ args });
        assert.deepStrictEqual([info.state, info.attemptsMade], ['failed', 1], `${model}: ${JSON.stringify(info)}`);
        return info.error;
      };
      const shadow = await refusal('/etc/shadow');
      const nope = await refusal('/etc/nope');
      assert.strictEqual(shadow.code, 'E_PATH_DENIED');
      assert.strictEqual(shadow.message.replace('/etc/shadow', 'X'), nope.message.replace('/etc/nope', 'X'), 'one message whether the file exists or not');
      assert.strictEqual((await refusal(path.join(allowed, '..', 'outside', 'scrfd_2.5g.onnx'), 'parameters')).code, 'E_PATH_DENIED');
      // Inside an allowed folder a model file is looked at (here: not a model at all).
      fs.writeFileSync(path.join(allowed, 'scrfd_2.5g.onnx'), 'not a model');
      const inside = await refusal(path.join(allowed, 'scrfd_2.5g.onnx'));
      assert.notStrictEqual(inside.code, 'E_PATH_DENIED', JSON.stringify(inside));
    });

    it('4: a local playlist inside the allowed folder naming a clip outside is refused (no frame of it written); an MPEG-TS codec tag is not a frame size', async function () {
      const output = path.join(allowed, 'from-playlist.mp4');
      const info = await rawJob({ args: { target_path: path.join(allowed, 'playlist.mp4'), output_path: output, processors: ['face_blur'] } });
      assert.strictEqual(info.state, 'failed', JSON.stringify(info));
      assert.strictEqual(info.error.code, 'E_VIDEO_OPEN');
      assert.match(info.error.message, /not on whitelist/);
      assert.ok(!fs.existsSync(output), 'nothing written');
      // mpeg2video in MPEG-TS prints its codec tag as "0x0002": the size is still 64×48.
      const ts = path.join(root, 'mpeg2.ts');
      runFfmpeg(ffmpeg.path, ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-frames:v', '5', '-c:v', 'mpeg2video', '-f', 'mpegts', ts]);
      const probed = await probeMedia(locator, ts, { countFrames: true });
      assert.deepStrictEqual([probed.width, probed.height, probed.frameCount], [64, 48, 5]);
    });

    it('5: URLs of queued jobs to loopback, link-local (cloud metadata), "localhost" and private addresses are refused before any request', async function () {
      const targets = [
        `http://127.0.0.1:${web.port}/internal-admin`,
        `http://localhost:${web.port}/internal-admin`,
        `http://[::ffff:127.0.0.1]:${web.port}/internal-admin`,
        'http://169.254.169.254/latest/meta-data/',
        `rtsp://127.0.0.1:${web.port}/cam`,
        'udp://224.0.0.1:5004',
        'tcp://10.0.0.1:80',
      ];
      const messages = new Set();
      for (const target of targets) {
        const info = await rawJob({ args: { target_path: target, output_path: path.join(allowed, 'ssrf.mp4'), processors: ['face_blur'] } });
        assert.deepStrictEqual([info.state, info.error.code, info.attemptsMade], ['failed', 'E_HOST_DENIED', 1], `${target}: ${JSON.stringify(info)}`);
        messages.add(info.error.message.replace(/: \S+ is refused/, ': URL is refused').replace(/^queued job target_path/, ''));
      }
      assert.strictEqual(messages.size, 1, `one message whatever the target: ${[...messages].join(' | ')}`);
      assert.deepStrictEqual(web.seen, [], 'the internal HTTP listener saw no request');
    });

    it('6: an output folder swapped for a link to another folder while the job runs: nothing is written there', async function () {
      const sub = path.join(allowed, 'sub');
      const id = crypto.randomUUID();
      await raw.add(
        'face-job',
        { args: { target_path: path.join(allowed, 'clip.mp4'), output_path: path.join(sub, 'out.mp4'), processors: ['face_blur'], keep_audio: false } },
        { jobId: id, attempts: 1 },
      );
      await waitFor(async () => (await queue.get(id))?.state !== 'queued', 30000, 'the job to start');
      // The attacker's move: the checked folder goes away and a link to theirs takes its place.
      fs.renameSync(sub, path.join(allowed, 'sub-moved'));
      fs.symlinkSync(outside, sub);
      const info = await queue.wait(id);
      assert.strictEqual(info.state, 'failed', `the job ${info.state}: ${JSON.stringify(info.result ?? info.error)}`);
      assert.strictEqual(info.error.code, 'E_PATH_DENIED', info.error.message);
      assert.deepStrictEqual(
        fs.readdirSync(outside).filter((n) => /out/.test(n)),
        [],
        'no output and no temporary file outside',
      );
      assert.deepStrictEqual(fs.readdirSync(path.join(allowed, 'sub-moved')), [], 'no temporary file left behind either');
      fs.unlinkSync(sub);
      fs.renameSync(path.join(allowed, 'sub-moved'), sub);
    });

    it('a seeded fuzz of queued job data (seed 24, 90 jobs): only coded refusals, refusals never retried, nothing outside touched, no request to the listeners', async function () {
      const random = prng(24);
      const pick = (list) => list[Math.floor(random() * list.length)];
      const before = snapshot(outside);
      const paths = [
        path.join(outside, 'secret.jpg'),
        path.join(allowed, '..', 'outside', 'secret.jpg'),
        path.join(allowed, 'link-out.jpg'),
        path.join(allowed, 'dir-out', 'secret.jpg'),
        'file:///etc/passwd',
        `file://${path.join(outside, 'secret.jpg')}`,
        'concat:/etc/passwd|/etc/hostname',
        'subfile:,start,0,end,0,:/etc/hostname',
        '/proc/self/root/etc/passwd',
        '/dev/fd/0',
        `http://127.0.0.1:${web.port}/x`,
        `http://2130706433:${web.port}/x`,
        `http://0x7f.0.0.1:${web.port}/x`,
        `https://[::1]:${web.port}/x`,
        'http://169.254.169.254/latest/meta-data/iam',
        `rtmp://localhost:${web.port}/live`,
        'srt://192.168.1.1:9000',
        'ftp://example.com/x.mp4',
        'gopher://127.0.0.1:70/',
        'files:../outside/secret.jpg',
        'sample:../../etc/passwd',
        'bad\u0000name.jpg',
        '',
        ' ',
        7,
        null,
        [],
        {},
        'x'.repeat(5000),
        path.join(allowed, 'tiny.jpg'),
      ];
      const outputs = [
        path.join(outside, 'victim.jpg'),
        path.join(allowed, 'dir-out', 'x.jpg'),
        `tcp://127.0.0.1:${tcp.port}`,
        `udp://127.0.0.1:${tcp.port}`,
        `rtmp://127.0.0.1:${tcp.port}/live/x`,
        'files:../outside/x.jpg',
        '/dev/null',
        path.join(allowed, 'nope', 'x.jpg'),
        'pipe:1',
        3,
        null,
      ];
      const models = ['/etc/shadow', '/etc/nope.onnx', path.join(allowed, '..', 'outside', 'inswapper_128.onnx'), '../../../../etc/passwd', 'no-such-model', 'x'.repeat(3000), 42, ['a']];
      const junk = [null, true, -1, 1e308, 'x', [1, 2], { __proto__: { polluted: true } }, { toString: 'x' }, { $ref: '#' }];
      const cases = [];
      for (let i = 0; i < 90; i++) {
        const args = { target_path: path.join(allowed, 'tiny.jpg'), output_path: path.join(allowed, `fuzz-${i}.jpg`), processors: ['face_blur'] };
        const mutations = 1 + Math.floor(random() * 3);
        for (let m = 0; m < mutations; m++) {
          const what = random();
          if (what < 0.25) args.target_path = pick(paths);
          else if (what < 0.45) args.output_path = pick(outputs);
          else if (what < 0.55) args.source_paths = [pick(paths)];
          else if (what < 0.65) args.blur_except_paths = [pick(paths)];
          else if (what < 0.75) args[pick(['face_detector_model', 'face_swapper_model', 'face_enhancer_model'])] = pick(models);
          else if (what < 0.82) args.parameters = { [pick(['face_detector_model', 'face_landmarker_model', 'face_occluder_model', 'blur_mode', 'max_faces'])]: pick([...models, ...junk]) };
          else if (what < 0.88) args.processors = pick([['face_swapper'], ['face_morph'], 'face_blur', [], [pick(junk)]]);
          else if (what < 0.93) args[pick(['__proto__', 'constructor', 'output', 'crf', 'pixel_workers', 'live_policy'])] = pick(junk);
          else args[pick(['target_path', 'output_path'])] = pick(junk);
        }
        const data = random() < 0.06 ? pick([null, 'x', 1, [], { args: pick(junk) }]) : { args };
        cases.push({ data, args });
      }
      const infos = await Promise.all(cases.map(({ data }) => rawJob(JSON.parse(JSON.stringify(data ?? null)))));
      const codes = {};
      infos.forEach((info, i) => {
        const what = `case ${i}: ${JSON.stringify(cases[i].data).slice(0, 300)} → ${JSON.stringify(info.error ?? info.result).slice(0, 300)}`;
        assert.ok(['completed', 'failed'].includes(info.state), what);
        if (info.state === 'failed') {
          codes[info.error.code] = (codes[info.error.code] ?? 0) + 1;
          assert.notStrictEqual(info.error.code, 'E_INTERNAL', what);
          if (['E_PATH_DENIED', 'E_HOST_DENIED', 'E_JOB', 'E_BAD_OUTPUT', 'E_BAD_PARAMETER', 'E_UNSUPPORTED_SOURCE'].includes(info.error.code)) assert.strictEqual(info.attemptsMade, 1, what);
        } else {
          assert.ok(info.result.output.startsWith(allowed + path.sep), what);
        }
      });
      console.log(`      (fuzz outcomes: ${infos.filter((i) => i.state === 'completed').length} completed; refused ${JSON.stringify(codes)})`);
      assert.deepStrictEqual(snapshot(outside), before, 'nothing outside changed');
      assert.deepStrictEqual([web.seen, tcp.seen], [[], []], 'no request reached the listeners');
      assert.strictEqual(worker.child.exitCode, null, 'the worker is still up');
    });
  });

  describe('flows (Node-RED test helper)', function () {
    const TAB = { id: 'tab', type: 'tab', label: 'hostile' };
    const cfg = (extra = {}) => ({ id: 'cfg', type: 'facefusion-config', device: 'cpu', threads: 0, frameBudgetMB: 128, tokenTtl: 300, allowedFolders: allowed, ...extra });
    const videoIn = require('../dist/nodes/face-video-in.js');
    before(function (done) {
      helper.startServer(done);
    });
    after(function (done) {
      helper.stopServer(done);
    });
    afterEach(async function () {
      await helper.unload();
    });

    /** Makes `stage` fail on its next `times` runs (as a model error would). */
    function failNext(runtime, stage, times) {
      const original = runtime.process.bind(runtime);
      let left = times;
      runtime.process = async (s, token, options) => (s === stage && left-- > 0 ? failToken(token, s, { code: 'E_INTERNAL', message: 'flaky stage (test)' }, 1) : original(s, token, options));
    }

    it("2: a failed stage frees the token's frames — at once without a Catch node or when too large for the failed room; held briefly and bounded with one", async function () {
      const photo = fs.readFileSync(media('fr_two_people.jpg'));
      const runFlow = async (withCatch, budgetMB) => {
        await helper.load(allNodes, [
          TAB,
          cfg({ frameBudgetMB: budgetMB }),
          { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', wires: [['det']] },
          { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['out']] },
          { id: 'out', z: 'tab', type: 'helper' },
          ...(withCatch
            ? [
                { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
                { id: 'caught', z: 'tab', type: 'helper' },
              ]
            : []),
        ]);
        const config = helper.getNode('cfg');
        await config.ready;
        failNext(config.runtime, 'detect', 3);
        let errors = 0;
        helper.getNode('det').on('call:error', () => errors++);
        for (let i = 0; i < 3; i++) helper.getNode('tok').receive({ payload: photo });
        await waitFor(() => errors >= 3, 30000, 'three failures');
        await sleep(300);
        const stats = config.runtime.stats().store;
        await helper.unload();
        return stats;
      };
      const alone = await runFlow(false, 128);
      assert.deepStrictEqual([alone.frames, alone.bytes], [0, 0], 'without a Catch node the failed tokens are freed at once');
      // 128 MB budget: the failed room is 16 MB, the photo 2.2 MB — all three are held for the Catch branch (for 30 s at most).
      const caught = await runFlow(true, 128);
      assert.ok(caught.frames === 3 && caught.bytes <= 16 * 1024 * 1024, `held within the room: ${JSON.stringify(caught)}`);
      // 16 MB budget: the room (2 MB) is smaller than one photo: freed at once even with a Catch node.
      const tight = await runFlow(true, 16);
      assert.deepStrictEqual([tight.frames, tight.bytes], [0, 0]);
    });

    it('3: a *_model path in msg.parameters (or a packed token) loads only from the models folder or allowed folders; the same message for /etc/shadow and /etc/nope', async function () {
      await helper.load(allNodes, [
        TAB,
        cfg(),
        { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', wires: [['det']] },
        { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ]);
      await helper.getNode('cfg').ready;
      const photo = fs.readFileSync(media('fr_biden.jpg'));
      const tryModel = async (model) => {
        const caught = nextMessage(helper.getNode('caught'));
        helper.getNode('tok').receive({ payload: photo, parameters: { face_detector_model: model } });
        return (await caught).error.message;
      };
      const shadow = await tryModel('/etc/shadow');
      const nope = await tryModel('/etc/nope');
      assert.match(shadow, /is not a model id, nor a file in the models folder/);
      assert.strictEqual(shadow.replace('/etc/shadow', 'X'), nope.replace('/etc/nope', 'X'));
      assert.ok(!/cannot tell which|does not exist/.test(shadow + nope), 'nothing tells the two apart');
    });

    it('5: the HTTP guard: an allowed playlist host cannot send ffmpeg to another port by a segment or a redirect (that listener sees 0 requests)', async function () {
      const segment = path.join(root, 'seg.ts');
      runFfmpeg(ffmpeg.path, ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-frames:v', '10', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'mpegts', segment]);
      const served = [];
      const origin = http.createServer((req, res) => {
        served.push(req.url);
        if (req.url === '/redirect.m3u8') {
          res.writeHead(302, { location: `http://127.0.0.1:${web.port}/internal.m3u8` });
          return res.end();
        }
        if (req.url === '/ok.m3u8' || req.url === '/evil.m3u8') {
          const seg = req.url === '/ok.m3u8' ? `http://127.0.0.1:${origin.address().port}/seg.ts` : `http://127.0.0.1:${web.port}/internal-admin.ts`;
          res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
          return res.end(`#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\n${seg}\n#EXT-X-ENDLIST\n`);
        }
        res.end(fs.readFileSync(segment));
      });
      await new Promise((r) => origin.listen(0, '127.0.0.1', r));
      try {
        const port = origin.address().port;
        await helper.load(
          [...allNodes, videoIn],
          [
            TAB,
            cfg({ allowedHosts: `127.0.0.1:${port}` }),
            { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source: '', maxInFlight: 2, wires: [['frames'], ['ended']] },
            { id: 'frames', z: 'tab', type: 'helper' },
            { id: 'ended', z: 'tab', type: 'helper' },
            { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
            { id: 'caught', z: 'tab', type: 'helper' },
          ],
        );
        const config = helper.getNode('cfg');
        await config.ready;
        const inNode = helper.getNode('in');
        // The guard relays the allowed host: its playlist and segment arrive as frames.
        const frames = [];
        helper.getNode('frames').on('input', (msg) => {
          frames.push(msg.payload.target.index);
          config.runtime.release(msg.payload);
        });
        const stopAfterFirst = nextMessage(helper.getNode('frames'), 30000);
        inNode.receive({ payload: `http://127.0.0.1:${port}/ok.m3u8` });
        await stopAfterFirst;
        inNode.receive({ command: 'stop' });
        await sleep(500);
        assert.ok(frames.length >= 1, 'frames through the guard');
        assert.ok(config.runtime.network.stats().requests >= 2, JSON.stringify(config.runtime.network.stats()));
        // A playlist naming a segment on another port, then a redirect to it: refused by the guard.
        for (const name of ['evil.m3u8', 'redirect.m3u8']) {
          const warned = new Promise((resolve) => inNode.once('call:warn', (c) => resolve(String(c.args[0]))));
          const failedFast = new Promise((resolve) => inNode.once('call:error', (c) => resolve(String(c.args[0]?.message ?? c.args[0]))));
          inNode.receive({ payload: `http://127.0.0.1:${port}/${name}` });
          const reason = await Promise.race([warned, failedFast]);
          inNode.receive({ command: 'stop' });
          await sleep(300);
          assert.match(reason, /403|Forbidden|refused|error/i, reason);
        }
        assert.ok(config.runtime.network.stats().refused >= 2, JSON.stringify(config.runtime.network.stats()));
        // Straight to the internal listener, and to a name resolving to loopback: refused before any connection.
        for (const url of [`http://127.0.0.1:${web.port}/internal-admin`, `http://localhost:${web.port}/internal-admin`]) {
          const caught = nextMessage(helper.getNode('caught'));
          inNode.receive({ payload: url });
          const msg = await caught;
          assert.match(msg.error.message, /E_HOST_DENIED|may not reach loopback/, msg.error.message);
        }
        assert.deepStrictEqual(web.seen, [], 'the internal listener saw no request');
      } finally {
        await new Promise((r) => origin.close(r));
      }
    });

    it('7: one sealed packet unpacked 5 times gives 5 requests of this runtime; releasing one frees none of the others; the replay window refuses a repeat', async function () {
      const key = crypto.randomBytes(32);
      const sender = createRuntime({ device: 'cpu', sweepIntervalMs: 0 });
      const receiver = createRuntime({ device: 'cpu', sweepIntervalMs: 0 });
      try {
        const token = await sender.createToken({ target: media('fr_biden.jpg'), operations: [] });
        const packet = await sender.pack(token, { key });
        const copies = [];
        for (let i = 0; i < 5; i++) copies.push(await receiver.unpack(packet, { key }));
        assert.strictEqual(new Set(copies.map((c) => c.request_id)).size, 5, 'five request ids');
        assert.ok(copies.every((c) => c.request_id !== token.request_id));
        assert.strictEqual(new Set(copies.map((c) => c.target.frame)).size, 5, 'five frame refs');
        receiver.release(copies[0]);
        for (const c of copies.slice(1)) assert.ok(receiver.frame(c.target.frame).width > 0, 'the other copies keep their pictures');
        for (const c of copies.slice(1)) receiver.release(c);
        assert.strictEqual(receiver.stats().store.frames, 0);
        // Replay window.
        const first = await receiver.unpack(packet, { key, refuseReplays: true });
        await assert.rejects(receiver.unpack(packet, { key, refuseReplays: true }), (e) => e.code === 'E_TOKEN_INVALID' && /replay/.test(e.message));
        receiver.release(first);
        const fresh = await sender.pack(token, { key });
        receiver.release(await receiver.unpack(fresh, { key, refuseReplays: true }));
      } finally {
        await sender.close();
        await receiver.close();
      }
    });

    it('8: a forged 48 MB packet is refused in a few ms; a header claiming 64×64 over an 8000² PNG is refused before a pixel is decoded', async function () {
      const key = crypto.randomBytes(32);
      const rt = createRuntime({ device: 'cpu', sweepIntervalMs: 0 });
      try {
        const token = await rt.createToken({ target: media('fr_biden.jpg'), operations: [] });
        const real = await rt.pack(token, { key });
        // Forged: a real header (big frame declared) over 64 MB of noise.
        const headerEnd = 10 + real.readUInt32BE(6);
        const header = JSON.parse(real.toString('utf8', 10, headerEnd));
        header.frames[0] = { ...header.frames[0], width: 4000, height: 4000, format: 'png', bytes: 48_000_000 };
        const bodyBytes = header.token_bytes + header.frames.reduce((n, f) => n + f.bytes, 0);
        const headerBytes = Buffer.from(JSON.stringify(header));
        const prefix = Buffer.from(real.subarray(0, 10));
        prefix.writeUInt32BE(headerBytes.length, 6);
        const chunks = Math.ceil(bodyBytes / (256 * 1024));
        const forged = Buffer.concat([prefix, headerBytes, crypto.randomBytes(12 + bodyBytes + chunks * 16)]);
        const times = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          await assert.rejects(rt.unpack(forged, { key, maxBytes: 64 * 1024 * 1024, maxPixels: 16e6 }), (e) => e.code === 'E_TOKEN_INVALID' && /changed after packing|different key/.test(e.message));
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        console.log(`      (forged ${(forged.length / 1e6).toFixed(1)} MB packet refused in ${times[0].toFixed(2)}–${times[4].toFixed(2)} ms)`);
        assert.ok(times[2] < 20, `median ${times[2]} ms`);
        // An unsealed packet (allowed here) claiming 64×64 but carrying an 8000² PNG.
        const bomb = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: { r: 1, g: 2, b: 3 } } })
          .png({ compressionLevel: 9 })
          .toBuffer();
        const unsealed = await rt.pack(token, { sealed: false });
        const uEnd = 10 + unsealed.readUInt32BE(6);
        const uHeader = JSON.parse(unsealed.toString('utf8', 10, uEnd));
        const tokenJson = unsealed.subarray(uEnd, uEnd + uHeader.token_bytes);
        const body = Buffer.concat([tokenJson, bomb]);
        uHeader.frames = [{ role: 'target', format: 'png', width: 64, height: 64, bytes: bomb.length }];
        uHeader.sha256 = crypto.createHash('sha256').update(body).digest('hex');
        const uHeaderBytes = Buffer.from(JSON.stringify(uHeader));
        const uPrefix = Buffer.from(unsealed.subarray(0, 10));
        uPrefix.writeUInt32BE(uHeaderBytes.length, 6);
        const lying = Buffer.concat([uPrefix, uHeaderBytes, body]);
        const peakBefore = rt.stats().store.peakBytes;
        const t0 = performance.now();
        await assert.rejects(rt.unpack(lying, { allowUnsealed: true }), (e) => e.code === 'E_TOKEN_INVALID');
        const ms = performance.now() - t0;
        console.log(`      (64×64 header over an 8000² PNG refused in ${ms.toFixed(1)} ms)`);
        assert.ok(ms < 100, `${ms} ms`);
        assert.strictEqual(rt.stats().store.peakBytes, peakBefore, 'no room was reserved for it');
        // Claiming 2000×2000 (its bytes fit that size): the PNG's own header says 8000×8000 — refused before decoding.
        uHeader.frames = [{ role: 'target', format: 'png', width: 2000, height: 2000, bytes: bomb.length }];
        const midHeader = Buffer.from(JSON.stringify(uHeader));
        const midPrefix = Buffer.from(uPrefix);
        midPrefix.writeUInt32BE(midHeader.length, 6);
        const t1 = performance.now();
        await assert.rejects(
          rt.unpack(Buffer.concat([midPrefix, midHeader, body]), { allowUnsealed: true }),
          (e) => e.code === 'E_TOKEN_INVALID' && /is a 8000×8000 png, the header says 2000×2000/.test(e.message),
        );
        assert.ok(performance.now() - t1 < 100);
        assert.strictEqual(rt.stats().store.peakBytes, peakBefore, 'no room was reserved for it');
        rt.release(token);
      } finally {
        await rt.close();
      }
    });
  });

  describe('the upload example on a real Node-RED', function () {
    let red, port, dir;
    before(async function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-hostile2-red-'));
      port = await freePort();
      red = await startNodeRed({ userDir: dir, settings: path.join(ROOT, 'scripts', 'node-red-settings.js'), port, env: cleanEnv({ PORT: String(port) }) });
    });
    after(async function () {
      await red?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("2 and 8: a burst of decompression bombs is refused from the pictures' headers and answered without internal figures; a normal photo sent right after comes back in < 2 s", async function () {
      const file = '06-upload-page.json';
      const nodes = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
      const tab = { id: 'tab-upload', type: 'tab', label: file };
      await deploy(port, [tab, ...nodes.map((n) => (n.type === 'facefusion-config' ? n : { ...n, z: tab.id }))]);
      const url = `http://127.0.0.1:${port}/face-demo`;
      await waitFor(async () => (await fetch(url).catch(() => undefined))?.status === 200, 30000, 'the upload page');
      const send = (bytes, type = 'image/png') => {
        const form = new FormData();
        form.append('picture', new Blob([bytes], { type }), 'photo');
        form.append('mode', 'gaussian');
        return fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(60000) });
      };
      const photo = fs.readFileSync(path.join(ROOT, 'samples', 'two-people.jpg'));
      // Warm up (models load at deploy; the first picture pays for the worker thread).
      assert.strictEqual((await send(photo, 'image/jpeg')).status, 200);
      // Above the runtime's 64 MP Largest picture (the shared runtime's default).
      const bombSquare = await sharp({ create: { width: 8200, height: 8200, channels: 3, background: { r: 120, g: 90, b: 80 } } })
        .png({ compressionLevel: 9 })
        .toBuffer();
      const bombWide = await sharp({ create: { width: 9000, height: 7400, channels: 3, background: { r: 90, g: 90, b: 80 } } })
        .png({ compressionLevel: 9 })
        .toBuffer();
      const bombs = [...Array(8).fill(bombSquare), bombWide];
      const started = performance.now();
      const answers = bombs.map((b) => send(b));
      const t0 = performance.now();
      const normal = await send(photo, 'image/jpeg');
      const normalMs = performance.now() - t0;
      const texts = await Promise.all(answers.map(async (a) => ({ status: (await a).status, text: await (await a).text() })));
      console.log(
        `      (${bombs.length} bombs (${(bombs.reduce((n, b) => n + b.length, 0) / 1e6).toFixed(1)} MB) answered in ${Math.round(performance.now() - started)} ms; the photo sent right after came back in ${Math.round(normalMs)} ms)`,
      );
      assert.strictEqual(normal.status, 200, await normal.clone().text());
      assert.strictEqual(normal.headers.get('content-type'), 'image/jpeg');
      assert.ok(normalMs < 2000, `the photo took ${Math.round(normalMs)} ms`);
      for (const { status, text } of texts) {
        assert.ok(status >= 400 && status < 600, `${status} ${text}`);
        assert.match(text, /^E_[A-Z_]+: /);
        assert.ok(!/\d/.test(text.replace(/^E_[A-Z_]+: /, '')), `no figures in the answer: ${text}`);
      }
      // And again once the burst is over: the store is not left full.
      const t1 = performance.now();
      assert.strictEqual((await send(photo, 'image/jpeg')).status, 200);
      assert.ok(performance.now() - t1 < 2000);
    });
  });
});
