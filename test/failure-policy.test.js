'use strict';
// "On failure" of the stage nodes (Catch | pass | drop | retry N) and
// their optional second output; alert_after_failures on a job; machine-readable results
// (facefusion-node run --json as a child process, the face-job result message).
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const sharp = require('sharp');
const { createRuntime, failToken, FfmpegLocator, JobManager, jobSummary } = require('../dist/runtime/internal');
const { helper, allNodes, MEDIA, nextMessage, silence } = require('./helpers/red');
const { media, ffmpegOrSkip, makeZoomClip, tempDir } = require('./helpers/clips');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');
const TAB = { id: 'tab', type: 'tab', label: 'test' };
const CFG = { id: 'cfg', type: 'facefusion-config', device: 'cpu', threads: 0, frameBudgetMB: 128, tokenTtl: 300 };

/** Makes `stage` fail (a failed token, as a model error gives) for the next `times` calls; the real stage runs after. */
function failNext(runtime, stage, times) {
  const original = runtime.process.bind(runtime);
  let left = times;
  runtime.process = async (s, token, options) => {
    if (s === stage && left > 0) {
      left--;
      return failToken(token, s, { code: 'E_INTERNAL', message: 'flaky stage (test)' }, 1);
    }
    return original(s, token, options);
  };
}

function cli(args, flaky) {
  return new Promise((resolve) => {
    const preload = flaky ? ['-r', path.join(__dirname, 'helpers', 'flaky-stage.js')] : [];
    const child = spawn(process.execPath, [...preload, CLI, ...args], { env: { ...process.env, ...(flaky ? { FLAKY_STAGE: flaky } : {}) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('failure policy and results', function () {
  this.timeout(90000);

  describe('stage nodes: On failure and the second output', function () {
    before(function (done) {
      helper.startServer(done);
    });
    after(function (done) {
      helper.stopServer(done);
    });
    afterEach(async function () {
      await helper.unload();
    });

    /** face token → detect → blur (with `blur` options) → out1 / out2, and a Catch node. */
    async function load(blur, det = {}) {
      const outputs = blur.failureOutput ? 2 : 1;
      const flow = [
        TAB,
        CFG,
        { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', wires: [['det']] },
        { id: 'det', z: 'tab', type: 'face-detect', config: 'cfg', ...det, wires: det.failureOutput ? [['blur'], ['out2']] : [['blur']] },
        { id: 'blur', z: 'tab', type: 'face-blur', config: 'cfg', outputs, ...blur, wires: outputs === 2 ? [['out1'], ['out2']] : [['out1']] },
        { id: 'out1', z: 'tab', type: 'helper' },
        { id: 'out2', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ];
      await helper.load(allNodes, flow);
      const config = helper.getNode('cfg');
      await config.ready;
      return config.runtime;
    }

    const send = () => helper.getNode('tok').receive({ payload: fs.readFileSync(media('fr_biden.jpg')) });

    it('send to Catch (the default): the failed token goes to the Catch node with its code', async function () {
      const runtime = await load({});
      failNext(runtime, 'blur', 1);
      const caught = nextMessage(helper.getNode('caught'));
      const quiet = silence(helper.getNode('out1'), 800);
      send();
      const msg = await caught;
      assert.strictEqual(msg.error.source.id, 'blur');
      assert.match(msg.error.message, /flaky stage/);
      assert.strictEqual(msg.payload.state, 'failed');
      assert.ok(await quiet);
    });

    it('pass: the token goes on unchanged (same picture, not failed), the failure journalled', async function () {
      const runtime = await load({ onFailure: 'pass' });
      failNext(runtime, 'blur', 1);
      const quietCatch = silence(helper.getNode('caught'), 800);
      const got = nextMessage(helper.getNode('out1'));
      send();
      const token = (await got).payload;
      assert.notStrictEqual(token.state, 'failed');
      assert.strictEqual(token.error, undefined);
      const last = token.journal.at(-1);
      assert.deepStrictEqual([last.stage, last.outcome, last.note], ['blur', 'failed', 'E_INTERNAL · onFailure: pass']);
      assert.deepStrictEqual(
        token.journal.map((j) => j.stage),
        ['detect', 'blur'],
      );
      // The picture is the detect stage's (the decoded frame), still in the store.
      assert.ok(runtime.store.tryGet(token.target.frame));
      assert.ok(await quietCatch);
      runtime.release(token);
    });

    it('drop: nothing goes on, nothing to the Catch node, the picture is freed', async function () {
      const runtime = await load({ onFailure: 'drop' });
      failNext(runtime, 'blur', 1);
      const quiet = Promise.all([silence(helper.getNode('out1'), 1500), silence(helper.getNode('caught'), 1500)]);
      send();
      assert.deepStrictEqual(await quiet, [true, true]);
      assert.strictEqual(runtime.stats().store.frames, 0);
    });

    it('retry N: the failed stage runs again on the same token (journalled); beyond N it goes to the Catch node', async function () {
      const runtime = await load({ onFailure: 'retry', retries: 2 });
      failNext(runtime, 'blur', 2);
      const got = nextMessage(helper.getNode('out1'));
      send();
      const token = (await got).payload;
      assert.strictEqual(token.state, 'done');
      assert.deepStrictEqual(
        token.journal
          .map((j) => [j.stage, j.outcome, j.note ?? ''])
          .slice(1)
          .map((e) => e.slice(0, 2)),
        [
          ['blur', 'failed'],
          ['blur', 'failed'],
          ['blur', 'ok'],
        ],
      );
      assert.deepStrictEqual(
        token.journal.slice(1, 3).map((j) => j.note),
        ['E_INTERNAL · retry 1 of 2', 'E_INTERNAL · retry 2 of 2'],
      );
      runtime.release(token);
      // Three failures for two retries: the third goes to the Catch node.
      failNext(runtime, 'blur', 3);
      const caught = nextMessage(helper.getNode('caught'));
      send();
      const msg = await caught;
      assert.strictEqual(msg.payload.state, 'failed');
      assert.strictEqual(msg.payload.journal.filter((j) => j.stage === 'blur' && j.outcome === 'failed').length, 3);
    });

    it('second output: failed and no-face tokens leave by output 2 with msg.error, not to the Catch node', async function () {
      const runtime = await load({ failureOutput: true, outputs: 2 }, { failureOutput: true, outputs: 2 });
      failNext(runtime, 'blur', 1);
      const quietCatch = silence(helper.getNode('caught'), 1500);
      const failed = nextMessage(helper.getNode('out2'));
      send();
      const msg = await failed;
      assert.deepStrictEqual(msg.error, { code: 'E_INTERNAL', message: 'flaky stage (test)', stage: 'blur' });
      assert.strictEqual(msg.payload.state, 'failed');
      runtime.release(msg.payload);
      // A picture without a face: the detect node's output 2 (to the same helper).
      const blank = await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: 90, g: 120, b: 200 } } })
        .png()
        .toBuffer();
      const noFace = nextMessage(helper.getNode('out2'));
      const ok = nextMessage(helper.getNode('out1'));
      helper.getNode('tok').receive({ payload: blank });
      const nf = await noFace;
      assert.deepStrictEqual([nf.error.code, nf.error.stage], ['E_NO_FACE', 'detect']);
      runtime.release(nf.payload);
      // And a good picture still leaves by output 1.
      send();
      const good = await ok;
      assert.strictEqual(good.payload.state, 'done');
      runtime.release(good.payload);
      assert.ok(await quietCatch);
    });
  });

  describe('jobs: alert_after_failures and the summary', function () {
    let locator;
    let dir;
    let clip;
    before(async function () {
      locator = new FfmpegLocator();
      const ffmpeg = await ffmpegOrSkip(this, locator);
      dir = tempDir('failure-policy-');
      clip = makeZoomClip(ffmpeg.path, { image: media('fr_biden.jpg'), output: path.join(dir, 'face.mp4'), width: 160, height: 160, frames: 20, fps: 20 });
    });
    after(function () {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('frames that fail raise one alert once alert_after_failures is reached; the job still completes with every frame', async function () {
      const runtime = createRuntime({ device: 'cpu' });
      const jobs = new JobManager(runtime, { locator });
      try {
        failNext(runtime, 'blur', 6);
        const alerts = [];
        jobs.on('alert', (a) => alerts.push(a));
        const id = jobs.runJob({ target_path: clip, output_path: path.join(dir, 'alert.mp4'), processors: ['face_blur'], alert_after_failures: 4 });
        const info = await jobs.waitForJob(id);
        assert.strictEqual(info.state, 'completed');
        assert.strictEqual(alerts.length, 1);
        assert.deepStrictEqual([alerts[0].code, alerts[0].jobId, alerts[0].threshold, alerts[0].framesFailed], ['E_FAILURE_ALERT', id, 4, 4]);
        assert.match(alerts[0].message, /4 frames failed \(alert_after_failures 4\); last: E_INTERNAL: flaky stage/);
        assert.strictEqual(info.result.framesFailed, 6);
        assert.strictEqual(info.result.alerts.length, 1);
        const s = jobSummary(info, runtime.provider());
        assert.deepStrictEqual([s.read, s.written, s.failed, s.dropped, s.held, s.alerts.length], [20, 20, 6, 0, 0, 1]);
        assert.strictEqual(s.provider, 'cpu');
      } finally {
        await jobs.close();
        await runtime.close();
      }
    });

    it('face-job: the alert goes out on output 2 (topic alert) and the result carries the --json fields', async function () {
      const videoNodes = ['face-job'].map((t) => require(`../dist/nodes/${t}.js`));
      await new Promise((r) => helper.startServer(r));
      try {
        const flow = [
          TAB,
          { ...CFG, allowedFolders: [os.tmpdir(), MEDIA].join('\n') },
          // pixelWorkers 0: the flaky blur is patched into the main thread's runtime, so the blur stays there.
          { id: 'job', z: 'tab', type: 'face-job', config: 'cfg', pixelWorkers: 0, wires: [['result'], ['side']] },
          { id: 'result', z: 'tab', type: 'helper' },
          { id: 'side', z: 'tab', type: 'helper' },
        ];
        await helper.load([...allNodes, ...videoNodes], flow);
        const config = helper.getNode('cfg');
        await config.ready;
        failNext(config.runtime, 'blur', 3);
        const job = helper.getNode('job');
        const statuses = [];
        const status = job.status.bind(job);
        job.status = (s) => {
          statuses.push(s.text || '');
          return status(s);
        };
        const alert = new Promise((resolve) => helper.getNode('side').on('input', (m) => m.topic === 'alert' && resolve(m)));
        const result = nextMessage(helper.getNode('result'), 60000);
        job.receive({ payload: { target_path: clip, output_path: path.join(dir, 'node-alert.mp4'), processors: ['face_blur'], alert_after_failures: 2 } });
        const a = await alert;
        assert.strictEqual(a.payload.code, 'E_FAILURE_ALERT');
        assert.strictEqual(a.payload.threshold, 2);
        const r = (await result).payload;
        for (const key of ['read', 'written', 'failed', 'dropped', 'noFace', 'downgraded', 'late', 'held', 'timeSec', 'provider', 'models', 'alerts', 'downgrades']) assert.ok(key in r, key);
        assert.deepStrictEqual([r.read, r.written, r.failed, r.alerts.length], [20, 20, 3, 1]);
        assert.ok(
          statuses.some((s) => /^alert · 2 frames failed$/.test(s)),
          statuses.join(' | '),
        );
        assert.ok(/^done · alert · /.test(statuses.at(-1)), statuses.at(-1));
      } finally {
        await helper.unload();
        await new Promise((r) => helper.stopServer(r));
      }
    });

    it('facefusion-node run --alert-after-failures: the alert on stderr, exit code 3, the job still written', async function () {
      const output = path.join(dir, 'cli-alert.mp4');
      // --pixel-workers 0: the flaky blur is patched into the main thread's runtime, so the blur stays there.
      const r = await cli(['run', '--target', clip, '--output', output, '--processors', 'face_blur', '--pixel-workers', '0', '--alert-after-failures', '3'], 'blur:4');
      assert.strictEqual(r.code, 3, r.stderr);
      assert.match(r.stderr, /^alert: 3 frames failed \(alert_after_failures 3\); last: E_INTERNAL: flaky stage \(test\)$/m);
      assert.match(r.stdout, /failed 4, dropped 0/);
      assert.match(r.stdout, /alert: 3 frames failed/);
      assert.ok(fs.statSync(output).size > 0);
      // --json: the alert as a JSON line on stderr and in the summary.
      const j = await cli(['run', '--target', clip, '--output', output, '--processors', 'face_blur', '--pixel-workers', '0', '--alert-after-failures', '2', '--json'], 'blur:2');
      assert.strictEqual(j.code, 3, j.stderr);
      const s = JSON.parse(j.stdout.trim());
      assert.deepStrictEqual([s.failed, s.written, s.alerts.length, s.alerts[0].code], [2, 20, 1, 'E_FAILURE_ALERT']);
      assert.ok(
        j.stderr.split('\n').some((l) => l.startsWith('{"alert":')),
        j.stderr,
      );
    });

    it('facefusion-node run --downgrade --frame-budget-ms 1 --json: one JSON summary on stdout (downgraded > 0, written = read), JSON progress on stderr', async function () {
      const output = path.join(dir, 'cli.mp4');
      const r = await cli(['run', '--target', clip, '--output', output, '--processors', 'face_enhancer', '--downgrade', '--frame-budget-ms', '1', '--json']);
      assert.strictEqual(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.strictEqual(lines.length, 1, r.stdout);
      const s = JSON.parse(lines[0]);
      assert.strictEqual(s.state, 'completed');
      assert.ok(s.downgraded > 0, lines[0]);
      assert.strictEqual(s.written, s.read);
      assert.strictEqual(s.read, 20);
      assert.deepStrictEqual([s.failed, s.dropped, s.held, s.late], [0, 0, 0, 0]);
      assert.strictEqual(s.output, output);
      assert.strictEqual(s.downgrades[0].reason, 'frame_budget');
      assert.ok(s.fps > 0 && s.timeSec > 0 && s.provider);
      const progress = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      assert.ok(progress.length >= 1, r.stderr);
      assert.ok(progress.every((p) => p.progress && typeof p.progress.framesDone === 'number'));
      // Usage: a frame budget needs --downgrade.
      const bad = await cli(['run', '--target', clip, '--output', output, '--processors', 'face_enhancer', '--frame-budget-ms', '5']);
      assert.strictEqual(bad.code, 2);
      assert.match(bad.stderr, /--frame-budget-ms needs --downgrade/);
    });
  });
});
