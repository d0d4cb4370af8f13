'use strict';
// Per-frame work across processes over MQTT: the shipped example flows run in
// three real Node-RED processes — a hub and two workers — on a real mosquitto. The hub reads a
// clip, packs each frame and publishes it; the workers take frames through an MQTT 5 shared
// subscription, blur them and publish them back; the hub unpacks and writes the video in order.
// Every frame comes back once; with a worker killed mid-stream the video still completes and
// the frames lost with it are counted as gaps.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { FfmpegLocator, probeMedia } = require('../dist/runtime/internal');
const { media, ffmpegOrSkip, makeZoomClip } = require('./helpers/clips');
const { pending } = require('./helpers/fixtures');
const { startMosquitto, mosquittoBinary } = require('./helpers/mosquitto');
const { ROOT, freePort, waitFor, cleanEnv, startNodeRed, api, deploy } = require('./helpers/node-red-process');

const FRAMES = 72;
const example = (file) => JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
const lines = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : []);

describe('frames over MQTT: hub + two worker processes + mosquitto (the example flows)', function () {
  this.timeout(120000);
  let broker, dir, clip, locator;
  const reds = {};

  before(async function () {
    if (!mosquittoBinary()) pending(this, 'mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)');
    locator = new FfmpegLocator();
    const ffmpeg = await ffmpegOrSkip(this, locator);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-mqtt-scale-'));
    clip = makeZoomClip(ffmpeg.path, { image: media('fr_two_people.jpg'), output: path.join(dir, 'clip.mp4'), width: 256, height: 192, frames: FRAMES, fps: 12 });
    // As the examples say: TLS and a user per machine (no anonymous access).
    broker = await startMosquitto({ tls: true, users: { hub: 'hub secret', worker: 'worker secret' } });
    const env = cleanEnv({ FACEFUSION_TOKEN_KEY: crypto.randomBytes(32).toString('hex') });
    const settings = path.join(ROOT, 'scripts', 'node-red-settings.js');
    await Promise.all(
      ['hub', 'a', 'b'].map(async (name) => {
        const userDir = fs.mkdtempSync(path.join(dir, `red-${name}-`));
        const port = await freePort();
        reds[name] = await startNodeRed({ userDir, settings, port, env: { ...env, PORT: String(port) } });
      }),
    );
  });

  after(async function () {
    await Promise.all(Object.values(reds).map((r) => r.stop()));
    if (broker) await broker.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An example flow on its own tab, pointed at the test broker, with `edit` applied to each node and `extra` nodes added. */
  function flowOf(file, tabId, edit, extra = []) {
    const nodes = example(file).map((n) => {
      const user = tabId.startsWith('h') ? 'hub' : 'worker';
      const out =
        n.type === 'mqtt-broker'
          ? { ...n, broker: '127.0.0.1', port: String(broker.port), clientid: `${tabId}-${crypto.randomBytes(3).toString('hex')}`, credentials: { user, password: `${user} secret` } }
          : n.type === 'tls-config'
            ? { ...n, ca: broker.caFile }
            : { ...n };
      edit(out);
      return n.type === 'facefusion-config' || n.type === 'mqtt-broker' || n.type === 'tls-config' ? out : { ...out, z: tabId };
    });
    return [{ id: tabId, type: 'tab', label: file }, ...nodes, ...extra.map((n) => ({ ...n, z: tabId }))];
  }

  /** Appends `msg.payload.target.index` of what `from` sends to a file (one line per frame). */
  function recorder(from, idPrefix, file) {
    return [
      { id: `${idPrefix}-idx`, type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload.target.index', tot: 'msg' }], wires: [[`${idPrefix}-file`]] },
      { id: `${idPrefix}-file`, type: 'file', filename: file, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]] },
    ];
  }

  async function deployWorker(name, run) {
    const tab = `wtab-${name}`;
    const file = path.join(dir, `worker-${name}-${run}.txt`);
    // Record each frame this worker took (wired beside the detect stage).
    const flow = flowOf(
      '12-mqtt-frames-worker.json',
      tab,
      (n) => {
        if (n.type === 'face-unpack') n.wires = [[...n.wires[0], `${name}${run}-idx`]];
        if (n.type === 'facefusion-config') n.device = 'cpu';
      },
      recorder('unpack', `${name}${run}`, file),
    );
    await deploy(reds[name].port, flow);
    return file;
  }

  async function runHub(run, { onFramesBack } = {}) {
    const tab = `htab-${run}`;
    const output = path.join(dir, `out-${run}.mp4`);
    const back = path.join(dir, `hub-${run}.txt`);
    const summary = path.join(dir, `summary-${run}.json`);
    const flow = flowOf(
      '11-mqtt-frames-hub.json',
      tab,
      (n) => {
        if (n.type === 'face-video-in') n.source = clip;
        if (n.type === 'face-video-out') {
          Object.assign(n, { output, fps: '12', endTimeout: 3 });
          n.wires = [[...n.wires[0], `h${run}-sum`]];
        }
        if (n.type === 'face-unpack') n.wires = [[...n.wires[0], `h${run}-idx`]];
        if (n.type === 'facefusion-config') n.device = 'cpu';
      },
      [
        ...recorder('unpack', `h${run}`, back),
        { id: `h${run}-sum`, type: 'file', filename: summary, filenameType: 'str', appendNewline: false, createDir: true, overwriteFile: 'true', encoding: 'none', wires: [[]] },
      ],
    );
    const hub = reds.hub;
    await deploy(hub.port, flow);
    const inject = flow.find((n) => n.type === 'inject' && n.name === 'start');
    await waitFor(
      () =>
        api(hub.port, 'POST', `/inject/${inject.id}`).then(
          () => true,
          () => false,
        ),
      20000,
      "the hub's start button",
    );
    if (onFramesBack) await onFramesBack(back);
    await waitFor(
      () => fs.existsSync(summary) && fs.statSync(summary).size > 0,
      60000,
      () => `the video summary:\n${hub.log.slice(-2000)}`,
    );
    return { output, back: lines(back), summary: JSON.parse(fs.readFileSync(summary, 'utf8')) };
  }

  it('every frame goes to exactly one worker (shared subscription), comes back once, and the video is written whole and in order', async function () {
    const [fileA, fileB] = await Promise.all([deployWorker('a', 1), deployWorker('b', 1)]);
    // Both workers' runtimes are ready (models loaded) and subscribed before the hub starts.
    await waitFor(() => ['a', 'b'].every((n) => /Connected to broker/.test(reds[n].log)), 30000, 'the workers to connect');
    const { output, back, summary } = await runHub(1);
    const all = [...Array(FRAMES).keys()];
    assert.deepStrictEqual(
      [...back].sort((x, y) => x - y),
      all,
      'each frame came back to the hub once',
    );
    const a = lines(fileA),
      b = lines(fileB);
    assert.ok(a.length > 0 && b.length > 0, `both workers took frames (a ${a.length}, b ${b.length})`);
    assert.deepStrictEqual(
      [...a, ...b].sort((x, y) => x - y),
      all,
      'each frame went to exactly one worker',
    );
    assert.deepStrictEqual([summary.frames, summary.dropped, summary.late], [FRAMES, 0, 0], JSON.stringify(summary));
    const info = await probeMedia(locator, output, { countFrames: true });
    assert.deepStrictEqual([info.frameCount, info.width, info.height], [FRAMES, 256, 192]);
  });

  it('a worker killed mid-stream: frames keep flowing through the other, the lost ones are counted as gaps, the video completes', async function () {
    const [fileA, fileB] = await Promise.all([deployWorker('a', 2), deployWorker('b', 2)]);
    await new Promise((r) => setTimeout(r, 1000)); // the redeployed mqtt nodes resubscribe
    const started = Date.now();
    const { output, back, summary } = await runHub(2, {
      onFramesBack: async () => {
        await waitFor(() => lines(fileB).length >= 3, 30000, 'worker b to take a few frames');
        reds.b.child.kill('SIGKILL');
      },
    });
    const took = { a: lines(fileA), b: lines(fileB) };
    assert.ok(took.a.length > 0, 'worker a kept working');
    assert.strictEqual(new Set(back).size, back.length, 'no frame came back twice');
    assert.strictEqual(summary.frames, back.length, JSON.stringify(summary));
    assert.ok(back.length < FRAMES, `frames lost with worker b (${FRAMES - back.length})`);
    // Lost frames are gaps: given up and counted, not waited for; frames after the last one back are simply not there.
    const lastBack = Math.max(...back);
    const gapsBefore = [...Array(lastBack + 1).keys()].filter((i) => !back.includes(i)).length;
    assert.strictEqual(summary.dropped, gapsBefore, JSON.stringify(summary));
    assert.ok(Date.now() - started < 60000);
    const info = await probeMedia(locator, output, { countFrames: true });
    assert.strictEqual(info.frameCount, summary.frames);
  });
});
