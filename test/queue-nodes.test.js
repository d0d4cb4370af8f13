'use strict';
// The face-job node with a Redis job queue and the face-worker node: a job message
// goes to a real redis-server, a face-worker node takes it, progress and the result come back
// as the same messages as a job run in this process; the Redis URL lives in credentials only.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { helper, ourNodes, sink } = require('./helpers/red');
const { MEDIA, media, ffmpegOrSkip, makeZoomClip, tempDir } = require('./helpers/clips');
const { pending } = require('./helpers/fixtures');
const { startRedis, redisBinary } = require('./helpers/redis');
const { FfmpegLocator, probeMedia, RedisJobQueue } = require('../dist/runtime/internal');

const extra = ['face-job', 'facefusion-queue', 'face-worker'].map((t) => require(`../dist/nodes/${t}.js`));
const core = (p) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', p));
const { until } = require('./helpers/wait');
const nodes = [...ourNodes, ...extra, core('common/25-catch.js')];
const TAB = { id: 'tab', type: 'tab', label: 'test' };

describe('face-job on a Redis queue and the face-worker node', function () {
  this.timeout(60000);
  let redis, dir, clip, locator;

  before(async function () {
    if (!redisBinary()) pending(this, 'redis-server is not installed (apt-get install redis-server)');
    locator = new FfmpegLocator();
    const ffmpeg = await ffmpegOrSkip(this, locator);
    dir = tempDir('ff-qnodes-');
    clip = makeZoomClip(ffmpeg.path, { image: media('astronaut.png'), output: path.join(dir, 'clip.mp4'), width: 192, height: 192, frames: 36, fps: 12 });
    redis = await startRedis({ password: 'node red' });
  });

  afterEach(async function () {
    await helper.unload();
  });

  after(async function () {
    if (redis) await redis.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function flow(queueName) {
    const cfg = { id: 'cfg', type: 'facefusion-config', frameBudgetMB: 64, allowedFolders: [dir, MEDIA].join('\n') };
    const q = { id: 'q', type: 'facefusion-queue', queueName, attempts: 2 };
    return [
      TAB,
      cfg,
      q,
      { id: 'job', z: 'tab', type: 'face-job', config: 'cfg', queue: 'q', wires: [['result'], ['progress']] },
      sink('result'),
      sink('progress'),
      { id: 'worker', z: 'tab', type: 'face-worker', config: 'cfg', queue: 'q', concurrency: 1, wires: [['events']] },
      sink('events'),
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      sink('caught'),
    ];
  }

  it('a job message runs on the worker node: progress on output 2, the result on output 1, events from the worker; the URL is a credential', async function () {
    const f = flow('nodes-a');
    assert.ok(!JSON.stringify(f).includes('node red') && !JSON.stringify(f).includes(String(redis.port)), 'the flow holds no URL');
    await helper.load(nodes, f, { q: { url: redis.url } });
    const events = [];
    helper.getNode('events').on('input', (m) => events.push(m));
    const progress = [];
    helper.getNode('progress').on('input', (m) => progress.push(m));
    const caught = [];
    helper.getNode('caught').on('input', (m) => caught.push(m));
    const result = new Promise((resolve) => helper.getNode('result').once('input', resolve));
    const output = path.join(dir, 'node-out.mp4');
    helper.getNode('job').receive({ topic: 'mine', payload: { target_path: clip, output_path: output, processors: ['face_blur'], keep_audio: false } });
    const msg = await result;
    assert.deepStrictEqual(
      caught.map((m) => m.error),
      [],
    );
    assert.strictEqual(msg.payload.frames, 36);
    assert.strictEqual(msg.payload.output, output);
    assert.strictEqual(msg.job.state, 'completed');
    assert.strictEqual(msg.job.worker, 'node-red:worker', JSON.stringify(msg.job));
    assert.strictEqual(typeof msg.jobId, 'string');
    assert.ok(progress.length > 0 && progress.every((m) => m.topic === 'progress' && m.jobId === msg.jobId && m.parentTopic === 'mine'));
    await until(() => events.some((e) => e.topic === 'completed'), "the worker's completed event");
    assert.deepStrictEqual(
      events.map((e) => e.topic),
      ['running', 'completed'],
    );
    assert.strictEqual(events[1].payload.frames, 36);
    assert.strictEqual((await probeMedia(locator, output, { countFrames: true })).frameCount, 36);
  });

  it('paths are confined before queuing (nothing reaches Redis) and again by the worker (a job queued from elsewhere)', async function () {
    await helper.load(nodes, flow('nodes-b'), { q: { url: redis.url } });
    const caught = new Promise((resolve) => helper.getNode('caught').once('input', resolve));
    helper.getNode('job').receive({ payload: { target_path: '/etc/passwd.mp4', output_path: path.join(dir, 'x.mp4'), processors: ['face_blur'] } });
    const refused = await caught;
    assert.match(refused.error.message, /not an allowed|allowed folders|outside/i, JSON.stringify(refused.error));
    assert.strictEqual(refused.error.source.id, 'job');
    const queue = new RedisJobQueue({ url: redis.url, name: 'nodes-b' });
    try {
      assert.deepStrictEqual(await queue.list(), []);
      const outside = path.join(os.tmpdir(), `ff-outside-${process.pid}.mp4`);
      const id = await queue.submit({ target_path: clip, output_path: outside, processors: ['face_blur'] });
      const info = await queue.wait(id);
      assert.strictEqual(info.state, 'failed', JSON.stringify(info));
      assert.strictEqual(info.error.code, 'E_PATH_DENIED');
      assert.strictEqual(info.attemptsMade, 1, 'a refused path is not retried');
      assert.ok(!fs.existsSync(outside));
    } finally {
      await queue.close();
    }
  });

  it('redeploy hands a running job back to the queue (no attempt used), nothing written under the final name', async function () {
    await helper.load(nodes, flow('nodes-d'), { q: { url: redis.url } });
    const events = [];
    helper.getNode('events').on('input', (m) => events.push(m.topic));
    const queue = new RedisJobQueue({ url: redis.url, name: 'nodes-d' });
    try {
      const id = await queue.submit({ target_path: clip, output_path: path.join(dir, 'redeploy.mp4'), processors: ['face_blur'] });
      await until(() => events.includes('running'), 'the worker node to take the job');
      await helper.unload();
      const info = await queue.get(id);
      assert.deepStrictEqual([info.state, info.attemptsMade], ['queued', 0]);
      assert.ok(!fs.existsSync(path.join(dir, 'redeploy.mp4')));
      await queue.cancel(id);
    } finally {
      await queue.close();
    }
  });

  it('a queue without a URL: a job message fails naming what is missing (nothing is connected)', async function () {
    await helper.load(nodes, flow('nodes-c'));
    const caught = new Promise((resolve) => helper.getNode('caught').once('input', resolve));
    helper.getNode('job').receive({ payload: { target_path: clip, output_path: path.join(dir, 'y.mp4'), processors: ['face_blur'] } });
    const err = await caught;
    assert.match(err.error.message, /no Redis URL/);
  });
});
