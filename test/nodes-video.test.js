'use strict';
// Video nodes in Node-RED (node-red-node-test-helper): face-video-in → detect → blur →
// face-video-out on a real clip; face-job progress and result; examples load.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { helper, ourNodes, sink } = require('./helpers/red');
const { gateStage } = require('./helpers/stage-gate');
const { MEDIA, media, ffmpegOrSkip, makeZoomClip, tempDir, ffmpegChildren, freePort, serveLoop, waitForListen, killAll } = require('./helpers/clips');
const { FfmpegLocator, probeMedia } = require('../dist/runtime/internal');

const videoNodes = ['face-video-in', 'face-video-out', 'face-job'].map((t) => require(`../dist/nodes/${t}.js`));
const core = (p) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', p));
const { sleep, until } = require('./helpers/wait');
const nodes = [...ourNodes, ...videoNodes, core('common/20-inject.js'), core('common/25-catch.js'), core('common/21-debug.js'), core('common/90-comment.js')];
// Jobs and outputs here are sent in messages: their temp folders are the allowed folders.
const CFG = { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'auto', threads: 0, modelsDir: '', frameBudgetMB: 64, tokenTtl: 300, allowedFolders: [os.tmpdir(), MEDIA].join('\n') };
const TAB = { id: 'tab', type: 'tab', label: 'test' };

/** Records what a node puts on its status and warns (what a Node-RED user sees). */
function watch(node) {
  const seen = { statuses: [], warnings: [] };
  const status = node.status.bind(node);
  const warn = node.warn.bind(node);
  node.status = (s) => {
    seen.statuses.push(s.text || '');
    return status(s);
  };
  node.warn = (w) => {
    seen.warnings.push(String(w));
    return warn(w);
  };
  return seen;
}

/** Polls `check` every 20 ms until it is truthy; fails after `ms` with `what`. */

/** Fails unless the node's help text names every key of `payload` (help must match what is sent). */
function assertHelpNames(type, payload, what) {
  // The help lives in the node's locale (src/nodes/locales/en-US/<type>.html).
  const help = fs.readFileSync(path.join(__dirname, '..', 'src', 'nodes', 'locales', 'en-US', `${type}.html`), 'utf8');
  const missing = Object.keys(payload).filter((key) => !new RegExp(`\\b${key}\\b`).test(help));
  assert.deepStrictEqual(missing, [], `${type} help does not describe these ${what} fields`);
}

function collect(node) {
  const got = [];
  node.on('input', (msg) => got.push(msg));
  return got;
}

function waitFor(node, predicate, ms = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching message on ${node.id} within ${ms} ms`)), ms);
    const onInput = (msg) => {
      if (!predicate(msg)) return;
      clearTimeout(timer);
      node.removeListener('input', onInput);
      resolve(msg);
    };
    node.on('input', onInput);
  });
}

describe('video nodes', function () {
  this.timeout(90000);
  let dir;
  let clip;
  let locator;
  let ffmpeg;
  const children = [];

  before(async function () {
    locator = new FfmpegLocator();
    ffmpeg = await ffmpegOrSkip(this, locator);
    dir = tempDir('nodes-video-');
    clip = makeZoomClip(ffmpeg.path, { image: media('fr_two_people.jpg'), output: path.join(dir, 'two.mp4'), width: 240, height: 160, frames: 30, fps: 15, zoom: '1+0.003*on', prescale: 480 });
  });

  before(function (done) {
    helper.startServer(done);
  });
  after(function (done) {
    helper.stopServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await killAll(children);
  });
  after(function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('face-video-in → detect → blur → face-video-out writes a file with the same frame count and frees every frame', async function () {
    const output = path.join(dir, 'privacy.mp4');
    const flow = [
      TAB,
      CFG,
      { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source: clip, maxInFlight: 3, wires: [['det'], ['out']] },
      { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['blur']] },
      { id: 'blur', z: 'tab', type: 'face-blur', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output, quality: 70, preset: 'ultrafast', keepAudio: true, endTimeout: 10, wires: [['summary']] },
      sink('summary'),
      { id: 'ends', z: 'tab', type: 'helper' },
    ];
    flow[2].wires[1].push('ends');
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    await config.ready;
    const ends = collect(helper.getNode('ends'));
    const frames = [];
    helper.getNode('det').on('input', (msg) => frames.push(msg));
    const summaryP = waitFor(helper.getNode('summary'), () => true);
    helper.getNode('in').receive({ payload: 1 });
    const summary = await summaryP;
    assert.deepStrictEqual(Object.keys(summary.payload).sort(), ['downgraded', 'dropped', 'durationSec', 'fps', 'frames', 'gaps', 'late', 'output', 'repeated']);
    assert.strictEqual(summary.payload.frames, 30);
    assert.strictEqual(summary.payload.dropped, 0);
    assert.strictEqual(summary.payload.late, 0);
    assertHelpNames('face-video-out', summary.payload, 'summary');
    assert.strictEqual(summary.payload.fps, 15);
    assert.strictEqual(summary.payload.output, output);
    // The sequence: parts on every frame, count on the last, and one end message.
    assert.strictEqual(frames.length, 30);
    frames.forEach((m, i) => assert.deepStrictEqual([m.parts.index, m.parts.type], [i, 'frames']));
    assert.strictEqual(frames[29].parts.count, 30);
    assert.ok(frames.slice(0, 29).every((m) => m.parts.count === undefined));
    assert.strictEqual(ends.length, 1);
    assert.deepStrictEqual([ends[0].payload.frames, ends[0].payload.source], [30, clip]);
    assertHelpNames('face-video-in', ends[0].payload, 'end message');
    assertHelpNames('face-video-in', frames[0].video, 'msg.video');
    assert.ok(Math.abs(ends[0].payload.durationSec - 2) < 0.01);
    const probed = await probeMedia(locator, output, { countFrames: true });
    assert.deepStrictEqual([probed.frameCount, probed.width, probed.height], [30, 240, 160]);
    assert.strictEqual(config.runtime.stats().store.frames, 0, 'every frame was released');
  });

  it('face-video-in keeps at most maxInFlight frames out when nothing releases them; stop and close end ffmpeg', async function () {
    const flow = [TAB, CFG, { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source: clip, maxInFlight: 2, wires: [['hold'], []] }, sink('hold')];
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    await config.ready;
    const held = collect(helper.getNode('hold'));
    helper.getNode('in').receive({ payload: '' });
    await new Promise((r) => setTimeout(r, 1500));
    // Two tokens out, one read ahead: the rest of the clip waits in ffmpeg's pipe.
    assert.strictEqual(held.length, 2);
    assert.ok(config.runtime.stats().store.frames <= 3, JSON.stringify(config.runtime.stats().store));
    config.runtime.release(held[0].payload);
    await waitFor(helper.getNode('hold'), () => true, 5000);
    assert.strictEqual(held.length, 3);
    const before = ffmpegChildren();
    assert.strictEqual(before.length, 1, 'one decoder running');
    helper.getNode('in').receive({ command: 'stop' });
    for (let i = 0; i < 100 && ffmpegChildren().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepStrictEqual(ffmpegChildren(), [], 'ffmpeg stopped');
    for (const m of held) config.runtime.release(m.payload);
    // A new start after stop works, and closing the flow mid-video stops ffmpeg too.
    helper.getNode('in').receive({ payload: 1 });
    await waitFor(helper.getNode('hold'), () => true, 10000);
    assert.strictEqual(ffmpegChildren().length, 1);
    await helper.unload();
    assert.deepStrictEqual(ffmpegChildren(), [], 'close stopped ffmpeg');
    for (const m of held) config.runtime.release(m.payload);
    assert.strictEqual(config.runtime.stats().store.frames, 0);
  });

  it('live source: a served stream → face-video-in → detect → blur → face-video-out; killing the source shows a reconnect, frames flow again after a restart, the file is valid', async function () {
    const port = await freePort();
    const serve = async () => {
      const child = serveLoop(ffmpeg.path, clip, port);
      children.push(child);
      await waitForListen(port);
      return child;
    };
    let server = await serve();
    const output = path.join(dir, 'live.mp4');
    const source = `tcp://127.0.0.1:${port}`;
    const flow = [
      TAB,
      CFG,
      { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source, maxInFlight: 4, wires: [['det'], ['out', 'ends']] },
      { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['blur']] },
      { id: 'blur', z: 'tab', type: 'face-blur', config: 'cfg', onNoFace: 'pass', queueSize: 10, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output, quality: 60, preset: 'ultrafast', endTimeout: 10, wires: [['summary']] },
      sink('summary'),
      sink('ends'),
    ];
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    await config.ready;
    const inNode = helper.getNode('in');
    const seen = watch(inNode);
    const frames = collect(helper.getNode('det'));
    const ends = collect(helper.getNode('ends'));
    inNode.receive({ topic: 'cam' });
    await until(() => frames.length >= 10, '10 frames from the live source');
    assert.ok(
      seen.statuses.some((t) => /frames? · .* fps/.test(t)),
      JSON.stringify(seen.statuses),
    );
    assert.deepStrictEqual(
      seen.warnings.filter((w) => /reconnect/.test(w)),
      [],
      'no reconnect before the source dropped',
    );

    server.kill('SIGKILL');
    const killedAfter = frames.length;
    await until(() => seen.warnings.some((w) => /reconnect attempt 1/.test(w)), 'the reconnect warning');
    const warning = seen.warnings.find((w) => /reconnect attempt 1/.test(w));
    assert.ok(warning.includes(source), warning);
    assert.ok(seen.statuses.includes('reconnecting (attempt 1)…'), JSON.stringify(seen.statuses));

    server = await serve(); // the camera comes back
    await until(() => frames.length >= killedAfter + 15, '15 more frames after the restart');
    await until(() => seen.statuses.some((t) => /^reconnected · \d+ frames/.test(t)), 'the reconnected status', 5000);
    const indexes = frames.map((m) => m.parts.index);
    assert.deepStrictEqual(
      indexes,
      indexes.map((_, i) => i),
      'one sequence, indexes continue across the reconnect',
    );
    assert.ok(frames.every((m) => m.parts.id === frames[0].parts.id && m.topic === 'cam'));

    const summaryP = waitFor(helper.getNode('summary'), () => true, 30000);
    inNode.receive({ command: 'stop' });
    const summary = await summaryP;
    assert.strictEqual(ends.length, 1);
    const end = ends[0].payload;
    assert.ok(end.reconnects >= 1, JSON.stringify(end));
    assert.strictEqual(end.frames, frames.length, 'the end message counts the frames that were sent');
    assert.strictEqual(ends[0].parts.count, frames.length);
    assert.deepStrictEqual([summary.payload.frames, summary.payload.dropped, summary.payload.output], [frames.length, 0, output]);
    const probed = await probeMedia(locator, output, { countFrames: true });
    assert.deepStrictEqual([probed.frameCount, probed.width, probed.height, probed.fps], [frames.length, 240, 160, 15]);
    assert.deepStrictEqual(
      ffmpegChildren().filter((pid) => pid !== server.pid),
      [],
      'decoder and encoder ended',
    );
    assert.strictEqual(config.runtime.stats().store.frames, 0, 'every frame was released');
  });

  it('face-video-in close() (redeploy) kills ffmpeg, frees the frames it sent, sends no end message', async function () {
    const flow = [TAB, CFG, { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source: clip, maxInFlight: 2, wires: [['hold'], ['ends']] }, sink('hold'), sink('ends')];
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    await config.ready;
    const held = collect(helper.getNode('hold'));
    const ends = collect(helper.getNode('ends'));
    helper.getNode('in').receive({ payload: 1 });
    await until(() => held.length === 2 && ffmpegChildren().length === 1, 'two frames out and the decoder running');
    const [pid] = ffmpegChildren();
    assert.ok(config.runtime.stats().store.frames >= 2);
    await helper.getNode('in').close(false);
    assert.deepStrictEqual(ffmpegChildren(), [], `ffmpeg ${pid} ended`);
    assert.strictEqual(config.runtime.stats().store.frames, 0, 'the frames still out were freed');
    assert.deepStrictEqual([config.runtime.stats().store.reservedBytes, config.runtime.stats().store.waiting], [0, 0]);
    await sleep(50);
    assert.strictEqual(ends.length, 0, 'no end message on close');
  });

  /** Face tokens of plain grey 64x64 frames, as face-video-in would send them. */
  async function greyFrames(runtime, id, indexes, count) {
    const msgs = [];
    for (const index of indexes) {
      const target = { width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3).fill(40 + index) };
      const token = await runtime.createToken({ target, operations: [] });
      msgs.push({ payload: token, parts: { id, index, type: 'frames', ...(count ? { count } : {}) }, video: { fps: 10 } });
    }
    return msgs;
  }

  it('face-video-out close() (redeploy) closes the file properly with the frames that arrived (missing ones skipped), ends the encoder and frees parked frames', async function () {
    const output = path.join(dir, 'closed.mp4');
    const flow = [TAB, CFG, { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output, preset: 'ultrafast', wires: [['summary']] }, sink('summary')];
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    const out = helper.getNode('out');
    for (const msg of await greyFrames(config.runtime, 'v-close', [0, 2])) out.receive(msg);
    await until(() => ffmpegChildren().length === 1 && config.runtime.stats().store.frames === 1, 'the encoder running with frame 2 parked');
    await out.close(false);
    assert.deepStrictEqual(ffmpegChildren(), [], 'encoder ended');
    assert.strictEqual(config.runtime.stats().store.frames, 0, 'the parked frame was freed');
    const probed = await probeMedia(locator, output, { countFrames: true });
    assert.strictEqual(probed.frameCount, 2, 'frames 0 and 2 are in the closed file');
  });

  it('face-video-out: a bad output reaches the Catch node once with its code, the rest of that video is dropped and freed', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output: path.join(dir, 'no-such-dir', 'x.mp4'), wires: [['summary']] },
      sink('summary'),
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
    ];
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    const caught = collect(helper.getNode('caught'));
    const summaries = collect(helper.getNode('summary'));
    const out = helper.getNode('out');
    for (const msg of await greyFrames(config.runtime, 'v-bad', [0, 1, 2, 3], 4)) out.receive(msg);
    out.receive({ payload: { frames: 4 }, parts: { id: 'v-bad', count: 4 }, complete: true });
    await until(() => caught.length >= 1, 'the error at the Catch node');
    await sleep(300);
    assert.strictEqual(caught.length, 1, JSON.stringify(caught.map((m) => m.error)));
    assert.strictEqual(caught[0].error.code, 'E_BAD_OUTPUT');
    assert.match(caught[0].error.message, /no-such-dir/);
    assert.strictEqual(summaries.length, 0, 'no summary for a failed video');
    assert.strictEqual(config.runtime.stats().store.frames, 0);
    assert.deepStrictEqual(ffmpegChildren(), []);
  });

  it('face-video-out drops a late frame of a finished video instead of starting the file again', async function () {
    const output = path.join(dir, 'late.mp4');
    const flow = [TAB, CFG, { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output, preset: 'ultrafast', wires: [['summary']] }, sink('summary')];
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    const out = helper.getNode('out');
    const seen = watch(out);
    const summaries = collect(helper.getNode('summary'));
    const [f0, f1, f2] = await greyFrames(config.runtime, 'v-late', [0, 1, 2]);
    f1.parts.count = 2;
    out.receive(f0);
    out.receive(f1);
    await until(() => summaries.length === 1, 'the summary');
    assert.strictEqual(summaries[0].payload.frames, 2);
    const size = fs.statSync(output).size;
    out.receive(f2); // frame 2 of a video that ended at 2 frames
    await until(() => seen.warnings.some((w) => /arrived after the video was finished/.test(w)), 'the late-frame warning', 5000);
    await sleep(200);
    assert.deepStrictEqual(ffmpegChildren(), [], 'no new encoder');
    assert.strictEqual(fs.statSync(output).size, size, 'the finished file is untouched');
    assert.strictEqual((await probeMedia(locator, output, { countFrames: true })).frameCount, 2);
    assert.strictEqual(config.runtime.stats().store.frames, 0);
    assert.strictEqual(summaries.length, 1);
  });

  /** Files in `folder` (temporary ones included: they start with a dot). */
  const filesIn = (folder) => fs.readdirSync(folder).sort();
  const PARTIAL = /^\.(\w[\w-]*)\.partial-\d+-[0-9a-f]{8}\.mp4$/;

  it('face-video-out writes a file under a temporary name in its folder and renames it on a clean finish; a failed video leaves nothing under its name', async function () {
    const folder = fs.mkdtempSync(path.join(dir, 'tmpname-'));
    const output = path.join(folder, 'clean.mp4');
    const failedOutput = path.join(folder, 'failed.mp4');
    const flow = [
      TAB,
      CFG,
      { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output, preset: 'ultrafast', wires: [['summary']] },
      sink('summary'),
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
    ];
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    const out = helper.getNode('out');
    const summaries = collect(helper.getNode('summary'));
    const caught = collect(helper.getNode('caught'));
    for (const msg of await greyFrames(config.runtime, 'v-tmp', [0, 1])) out.receive(msg);
    await until(() => ffmpegChildren().length === 1 && config.runtime.stats().store.frames === 0 && filesIn(folder).length > 0, 'the encoder writing frames 0 and 1');
    const during = filesIn(folder);
    assert.strictEqual(during.length, 1, `one file while writing: ${during}`);
    assert.match(during[0], PARTIAL, 'a hidden temporary name');
    assert.strictEqual(PARTIAL.exec(during[0])[1], 'clean', 'named after the output');
    assert.ok(!fs.existsSync(output), 'nothing under the final name while the video is written');
    out.receive({ payload: { frames: 2 }, parts: { id: 'v-tmp', count: 2 }, complete: true });
    await until(() => summaries.length === 1, 'the summary');
    assert.strictEqual(summaries[0].payload.output, output);
    assert.deepStrictEqual(filesIn(folder), ['clean.mp4'], 'renamed into place, no temporary file left');
    assert.strictEqual((await probeMedia(locator, output, { countFrames: true })).frameCount, 2);
    // A video whose frames change size half-way fails: its temporary file goes, nothing is named failed.mp4.
    const [f0] = await greyFrames(config.runtime, 'v-fail', [0]);
    const small = await config.runtime.createToken({ target: { width: 32, height: 32, channels: 3, data: new Uint8Array(32 * 32 * 3).fill(9) }, operations: [] });
    out.receive({ ...f0, output: failedOutput });
    await until(() => filesIn(folder).some((n) => /^\.failed\.partial-/.test(n)) || fs.existsSync(failedOutput), 'the second video started');
    out.receive({ payload: small, parts: { id: 'v-fail', index: 1, type: 'frames' }, video: { fps: 10 } });
    await until(() => caught.length === 1, 'the failure at the Catch node');
    assert.strictEqual(caught[0].error.code, 'E_BAD_PARAMETER', caught[0].error.message);
    await until(() => ffmpegChildren().length === 0, 'the encoder stopped');
    assert.deepStrictEqual(filesIn(folder), ['clean.mp4'], 'nothing under failed.mp4, no temporary file');
    assert.strictEqual(config.runtime.stats().store.frames, 0);
    assert.strictEqual(summaries.length, 1, 'no summary for the failed video');
  });

  it('face-video-out: an end message before the first frame finishes the video: at once with no frames (empty summary, no file), or after its frames arrive (or End wait)', async function () {
    const folder = fs.mkdtempSync(path.join(dir, 'early-end-'));
    const output = path.join(folder, 'early.mp4');
    const flow = [TAB, CFG, { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output, preset: 'ultrafast', endTimeout: 0.5, wires: [['summary']] }, sink('summary')];
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    const out = helper.getNode('out');
    const seen = watch(out);
    const summaries = collect(helper.getNode('summary'));
    // A source stopped before its first frame: end message with count 0.
    out.receive({ payload: { frames: 0 }, parts: { id: 'v-none', count: 0, type: 'frames' }, complete: true });
    await until(() => summaries.length === 1, 'the summary of an empty video', 5000);
    assert.deepStrictEqual(summaries[0].payload, { frames: 0, durationSec: 0, fps: 0, dropped: 0, repeated: 0, gaps: 'drop', late: 0, downgraded: 0, output: null });
    assert.deepStrictEqual(summaries[0].parts, { id: 'v-none', type: 'frames' });
    assert.strictEqual(seen.statuses.at(-1), 'no frames: nothing written');
    assert.deepStrictEqual(filesIn(folder), [], 'no file');
    assert.deepStrictEqual(ffmpegChildren(), [], 'no encoder started');
    // The end of a 3-frame video overtakes its frames (a slower branch); frame 1 is dropped on the way.
    const [f0, f1, f2] = await greyFrames(config.runtime, 'v-slow', [0, 1, 2]);
    config.runtime.release(f1.payload); // dropped in the flow
    out.receive({ payload: { frames: 3 }, parts: { id: 'v-slow', count: 3, type: 'frames' }, complete: true });
    out.receive(f0);
    out.receive(f2);
    await until(() => summaries.length === 2, 'the summary once End wait ran out for the missing frame', 10000);
    assert.deepStrictEqual([summaries[1].payload.frames, summaries[1].payload.dropped, summaries[1].payload.output], [2, 1, output]);
    assert.deepStrictEqual(filesIn(folder), ['early.mp4']);
    assert.strictEqual((await probeMedia(locator, output, { countFrames: true })).frameCount, 2);
    // An end announcing frames none of which come: a warning and an empty summary after End wait.
    out.receive({ payload: { frames: 2 }, parts: { id: 'v-lost', count: 2, type: 'frames' }, complete: true });
    await until(() => summaries.length === 3, 'the summary of a video whose frames never came', 5000);
    assert.deepStrictEqual([summaries[2].payload.frames, summaries[2].payload.dropped, summaries[2].payload.output], [0, 2, null]);
    assert.ok(
      seen.warnings.some((w) => /none of its 2 frames arrived/.test(w)),
      seen.warnings.join('\n'),
    );
    assert.deepStrictEqual(filesIn(folder), ['early.mp4'], 'nothing else written');
    // A late end message of a finished video changes nothing.
    out.receive({ payload: { frames: 3 }, parts: { id: 'v-slow', count: 3, type: 'frames' }, complete: true });
    await sleep(700);
    assert.strictEqual(summaries.length, 3);
    assert.strictEqual(config.runtime.stats().store.frames, 0);
    assert.deepStrictEqual(ffmpegChildren(), []);
  });

  it("face-video-out: msg.output's folder swapped for a link to another folder while the video is written: E_PATH_DENIED, nothing written there, no temporary file left", async function () {
    const allowed = fs.mkdtempSync(path.join(dir, 'allowed-'));
    const outside = tempDir('nodes-video-outside-');
    const sub = path.join(allowed, 'sub');
    fs.mkdirSync(sub);
    try {
      const cfg = { ...CFG, allowedFolders: allowed };
      const flow = [
        TAB,
        cfg,
        { id: 'out', z: 'tab', type: 'face-video-out', config: 'cfg', output: '', preset: 'ultrafast', wires: [['summary']] },
        sink('summary'),
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        sink('caught'),
      ];
      await helper.load(nodes, flow);
      const config = helper.getNode('cfg');
      const out = helper.getNode('out');
      const summaries = collect(helper.getNode('summary'));
      const caught = collect(helper.getNode('caught'));
      const [f0, f1] = await greyFrames(config.runtime, 'v-swap', [0, 1]);
      out.receive({ ...f0, output: path.join(sub, 'out.mp4') });
      out.receive(f1);
      // Frame 1 comes without msg.output while frame 0's is still being checked: it joins frame 0's video.
      await until(() => ffmpegChildren().length === 1 && config.runtime.stats().store.frames === 0, 'the encoder writing');
      // The attacker's move: the checked folder goes away and a link to theirs takes its place.
      fs.renameSync(sub, path.join(allowed, 'sub-moved'));
      fs.symlinkSync(outside, sub);
      out.receive({ payload: { frames: 2 }, parts: { id: 'v-swap', count: 2 }, complete: true });
      await until(() => caught.length === 1, 'the refusal at the Catch node');
      assert.strictEqual(caught[0].error.code, 'E_PATH_DENIED', caught[0].error.message);
      assert.strictEqual(summaries.length, 0);
      assert.deepStrictEqual(fs.readdirSync(outside), [], 'no output and no temporary file outside');
      assert.deepStrictEqual(fs.readdirSync(path.join(allowed, 'sub-moved')), [], 'no temporary file left behind either');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('face-job: msg.command "cancel" and close() (redeploy) stop a running job without a Catch error, kill ffmpeg and free its frames', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'job', z: 'tab', type: 'face-job', config: 'cfg', wires: [['result'], ['progress']] },
      sink('result'),
      sink('progress'),
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
    ];
    await helper.load(nodes, flow);
    const config = helper.getNode('cfg');
    await config.ready;
    // Frames after the third wait at the blur stage: the job is surely running when it is stopped.
    const runtime = config.runtime;
    const gate = gateStage(runtime, 'blur', { pass: 3 });
    const job = helper.getNode('job');
    const seen = watch(job);
    const caught = collect(helper.getNode('caught'));
    const results = collect(helper.getNode('result'));
    const args = (name) => ({ payload: { target_path: clip, output_path: path.join(dir, name), processors: ['face_blur'] } });

    job.receive(args('cancelled.mp4'));
    // Frames wait at the gate and the encoder is up (a 30-frame clip may be read whole already).
    await until(() => gate.calls > 3 && ffmpegChildren().length >= 1, 'the job running');
    job.receive({ command: 'cancel' });
    gate.release();
    await until(() => seen.statuses.includes('cancelled'), 'the cancelled status', 10000);
    assert.deepStrictEqual(ffmpegChildren(), []);
    assert.strictEqual(runtime.stats().store.frames, 0);

    gate.hold(3);
    job.receive(args('redeployed.mp4'));
    await until(() => gate.calls > 3 && ffmpegChildren().length >= 1, 'the second job running');
    const closing = job.close(false);
    gate.release();
    await closing;
    assert.deepStrictEqual(ffmpegChildren(), [], 'close killed ffmpeg');
    assert.strictEqual(runtime.stats().store.frames, 0, 'close freed the job frames');
    await sleep(200);
    assert.deepStrictEqual(
      caught.map((m) => m.error),
      [],
      'neither stop is an error for the Catch node',
    );
    assert.strictEqual(results.length, 0);
    gate.restore();
  });

  it('face-video-in reports a missing file and an unsupported scheme to the Catch node', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source: path.join(dir, 'nope.mp4'), wires: [[], []] },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
    ];
    await helper.load(nodes, flow);
    const caughtP = waitFor(helper.getNode('caught'), () => true, 20000);
    helper.getNode('in').receive({ payload: 1 });
    const caught = await caughtP;
    assert.strictEqual(caught.error.code, 'E_VIDEO_OPEN');
    assert.match(caught.error.message, /does not exist/);
    const second = waitFor(helper.getNode('caught'), () => true, 20000);
    helper.getNode('in').receive({ payload: 'ftp://example.com/x.mp4' });
    assert.match((await second).error.message, /unsupported video source/);
  });

  it('face-job runs a video job: progress on output 2, result on output 1, status in %', async function () {
    const output = path.join(dir, 'job.mp4');
    const flow = [TAB, CFG, { id: 'job', z: 'tab', type: 'face-job', config: 'cfg', wires: [['result'], ['progress']] }, sink('result'), sink('progress')];
    await helper.load(nodes, flow);
    const job = helper.getNode('job');
    const statuses = [];
    const originalStatus = job.status.bind(job);
    job.status = (s) => {
      statuses.push(s);
      return originalStatus(s);
    };
    const progress = collect(helper.getNode('progress'));
    const resultP = waitFor(helper.getNode('result'), () => true);
    job.receive({ topic: 'swap', payload: { source_paths: [media('fr_obama.jpg')], target_path: clip, output_path: output, processors: ['face_swapper'], failure_policy: 'pass' } });
    const result = await resultP;
    assert.strictEqual(result.topic, 'swap');
    assert.strictEqual(result.payload.kind, 'video');
    assert.strictEqual(result.payload.frames, 30);
    assert.strictEqual(result.payload.output, output);
    assert.strictEqual(result.job.state, 'completed');
    assertHelpNames('face-job', result.payload, 'result');
    for (const m of progress) assertHelpNames('face-job', m.payload, 'progress');
    assert.ok(progress.length >= 1, 'progress messages');
    assert.ok(progress.every((m) => m.topic === 'progress' && m.payload.id === result.job.id && typeof m.payload.framesDone === 'number'));
    assert.strictEqual(progress[progress.length - 1].payload.percent, 100);
    assert.ok(
      statuses.some((s) => /%/.test(s.text || '')),
      JSON.stringify(statuses),
    );
    assert.match(statuses[statuses.length - 1].text, /done · 30 frames/);
    assert.ok(fs.existsSync(output));
  });

  it("face-job: the Pixel workers field reaches the job (the result names the worker threads it ran on); a job's pixel_workers wins; a bad field is E_BAD_PARAMETER", async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'w2', z: 'tab', type: 'face-job', config: 'cfg', pixelWorkers: '2', wires: [['result'], []] },
      { id: 'plain', z: 'tab', type: 'face-job', config: 'cfg', wires: [['result'], []] },
      { id: 'bad', z: 'tab', type: 'face-job', config: 'cfg', pixelWorkers: 'lots', wires: [['result'], []] },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
      sink('result'),
    ];
    await helper.load(nodes, flow);
    const job = (name, pixelWorkers) => ({
      target_path: clip,
      output_path: path.join(dir, `w-${name}.mp4`),
      processors: ['face_blur'],
      keep_audio: false,
      ...(pixelWorkers !== undefined ? { pixel_workers: pixelWorkers } : {}),
    });
    const run = async (node, payload) => {
      const result = waitFor(helper.getNode('result'), () => true, 30000);
      helper.getNode(node).receive({ payload });
      const msg = await result;
      assert.strictEqual(msg.payload.frames, 30);
      return msg.payload.pixelWorkers;
    };
    assert.strictEqual(await run('w2', job('field')), 2, 'the dialog field (2) reached the job');
    assert.strictEqual(await run('w2', job('own', 0)), 0, "the job's own pixel_workers 0 wins over the field");
    assert.strictEqual(await run('plain', job('plain')), 0, 'a node saved without the field gets the default, auto: a blur job on the main thread');
    assert.strictEqual(await run('w2', job('auto', 'auto')), 0, 'a job\'s own "auto" wins over the field');
    const caught = waitFor(helper.getNode('caught'), () => true, 20000);
    helper.getNode('bad').receive({ payload: job('bad') });
    const err = await caught;
    assert.strictEqual(err.error.code, 'E_BAD_PARAMETER');
    assert.match(err.error.message, /face-job pixel workers must be "auto" or a whole number from 0 to 8 \(got "lots"\)/);
  });

  it('face-job sends a bad job to the Catch node with its code', async function () {
    const flow = [
      TAB,
      CFG,
      { id: 'job', z: 'tab', type: 'face-job', config: 'cfg', wires: [[], []] },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
    ];
    await helper.load(nodes, flow);
    const first = waitFor(helper.getNode('caught'), () => true, 20000);
    helper.getNode('job').receive({ payload: { target_path: clip, output_path: path.join(dir, 'x.mp4'), processors: ['face_morph'] } });
    const caught = await first;
    assert.strictEqual(caught.error.code, 'E_JOB');
    assert.match(caught.error.message, /unknown processor "face_morph"/);
    const second = waitFor(helper.getNode('caught'), () => true, 20000);
    helper.getNode('job').receive({ payload: { target_path: path.join(dir, 'missing.mp4'), output_path: path.join(dir, 'x.mp4'), processors: ['blur'] } });
    const failed = await second;
    assert.strictEqual(failed.error.code, 'E_VIDEO_OPEN');
    assert.strictEqual(failed.job.state, 'failed');
  });

  it('the two example flows load, and the job example runs once its paths point at real files', async function () {
    const example = (name, paths) => {
      let text = fs.readFileSync(path.join(__dirname, '..', 'examples', name), 'utf8');
      for (const [from, to] of Object.entries(paths)) text = text.split(from).join(to);
      const flow = JSON.parse(text).map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper' } : n));
      assert.ok(
        flow.some((n) => n.type === 'facefusion-config'),
        `${name} has a config node`,
      );
      // The job's paths travel in a message: the folders they were pointed at are the allowed ones.
      return [TAB, ...flow.map((n) => (n.type === 'facefusion-config' ? { ...n, allowedFolders: CFG.allowedFolders } : { ...n, z: 'tab' }))];
    };
    const live = example('08-live-camera-privacy.json', {});
    await helper.load(nodes, live);
    for (const n of live.filter((n) => n.type !== 'tab')) assert.ok(helper.getNode(n.id), `live example: node ${n.type} ${n.id}`);
    await helper.unload();
    const output = path.join(dir, 'example-out.mp4');
    // As imported it runs on the samples (sample:obama.jpg into sample:two-people.mp4); only the output moves into dir.
    const flow = example('07-video-swap-job.json', { 'files:job.mp4': output });
    assert.ok(JSON.stringify(flow).includes(output), 'the output path was replaced');
    await helper.load(nodes, flow);
    const job = flow.find((n) => n.type === 'face-job');
    const result = flow.find((n) => n.type === 'helper' && n.id === job.wires[0][0]);
    const got = waitFor(helper.getNode(result.id), () => true);
    helper.getNode(flow.find((n) => n.type === 'inject' && n.name === 'swap job').id).receive({});
    const msg = await got;
    assert.strictEqual(msg.payload.frames, 30);
    assert.ok(fs.existsSync(output));
    assert.ok(live.some((n) => n.type === 'face-video-in' && n.source === 'sample:two-people.mp4'));
    assert.ok(live.some((n) => n.type === 'face-blur') && live.some((n) => n.type === 'face-detect') && live.some((n) => n.type === 'face-video-out'));
    // "stop" goes to face-video-in only: its end message lets face-video-out wait for the frames
    // still in the flow (a stop straight to face-video-out would cut them off).
    const stop = live.find((n) => n.type === 'inject' && n.name === 'stop');
    const videoIn = live.find((n) => n.type === 'face-video-in');
    assert.deepStrictEqual(stop.wires, [[videoIn.id]]);
  });
});
