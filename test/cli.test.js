'use strict';
// facefusion-node CLI end to end: a real process on a tiny clip and a picture; bad arguments.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { FfmpegLocator, probeMedia } = require('../dist/runtime/internal');
const { media, ffmpegOrSkip, makeZoomClip, tempDir } = require('./helpers/clips');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');

function cli(args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('facefusion-node CLI', function () {
  this.timeout(60000);
  let dir;
  let clip;
  let locator;

  before(async function () {
    locator = new FfmpegLocator();
    const ffmpeg = await ffmpegOrSkip(this, locator);
    dir = tempDir('cli-');
    clip = makeZoomClip(ffmpeg.path, { image: media('astronaut.png'), output: path.join(dir, 'tiny.mp4'), width: 192, height: 192, frames: 24, fps: 12, zoom: '1+0.004*on' });
  });

  after(function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts with a shebang so it can be the package bin', function () {
    assert.ok(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n'));
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    assert.strictEqual(pkg.bin['facefusion-node'], 'dist/cli/facefusion-node.js');
  });

  it('runs a swap job on a video: exit 0, progress lines on stderr (no TTY), summary on stdout', async function () {
    const output = path.join(dir, 'out.mp4');
    const r = await cli([
      'run',
      '--source',
      media('fr_obama.jpg'),
      '--target',
      clip,
      '--output',
      output,
      '--processors',
      'face_swapper,face_enhancer',
      '--threads',
      '2',
      '--device',
      'cpu',
      '--blend',
      '0.9',
      '--quality',
      '70',
      '--no-audio',
    ]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /done: video → .*out\.mp4/);
    assert.match(r.stdout, /24 frames, 192x192, 12 fps, 2 s/);
    assert.match(r.stdout, /stages: detect → landmark → swap → enhance/);
    assert.match(r.stderr, /^progress: [\d.]+% \d+\/24 frames · [\d.]+ fps/m);
    assert.ok(!r.stderr.includes('\r'), 'no carriage-return bar when stderr is not a terminal');
    const info = await probeMedia(locator, output, { countFrames: true });
    assert.deepStrictEqual([info.frameCount, info.width, info.height, info.fps], [24, 192, 192, 12]);
  });

  it('runs an image target: blur a picture into a .webp', async function () {
    const output = path.join(dir, 'blurred.webp');
    const r = await cli(['run', '--target', media('fr_two_people.jpg'), '--output', output, '--processors', 'face_blur', '--blur-mode', 'pixelate']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /done: image → .*blurred\.webp/);
    assert.strictEqual(fs.readFileSync(output).toString('latin1', 8, 12), 'WEBP');
  });

  it('bad arguments exit 2 with the error first and a hint where the usage is, in at most 3 lines', async function () {
    this.timeout(180000); // 20 processes, each starting Node and loading the runtime
    const cases = [
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4')], /--processors is required/],
      [['run', '--output', 'x.mp4', '--processors', 'blur'], /--target is required/],
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'face_morph'], /unknown processor "face_morph".*face_swapper/],
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'blur', '--blend', '3'], /--blend must be a number from 0 to 1/],
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'blur', '--device', 'tpu'], /--device must be auto, cpu or cuda/],
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'blur', '--frobnicate'], /Unknown option '--frobnicate'/],
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'swap'], /source_paths/],
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'blur', '--pixel-workers', '9'], /--pixel-workers must be a number from 0 to 8/],
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'blur', '--pixel-workers', '1.5'], /--pixel-workers must be a whole number/],
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'blur', '--crf', '52'], /--crf must be a number from 0 to 51/],
      [['worker', '--queue', 'redis://127.0.0.1:1', '--pixel-workers', 'many'], /--pixel-workers must be a whole number from 0 to 8/],
      [['run', '--target', clip, '--output', path.join(dir, 'x.mp4'), '--processors', 'face_swapp'], /^error: E_JOB: unknown processor "face_swapp": did you mean face_swapper\?$/m],
      [['run', '--target', path.join(__dirname, '..', 'README.md'), '--output', path.join(dir, 'x.jpg'), '--processors', 'blur'], /target_path ".*README\.md" is not a picture or video/],
      [['run', '--target', path.join(__dirname, '..', 'README.md'), '--output', path.join(dir, 'x.mp4'), '--processors', 'blur'], /is not a picture or video/],
      [['models', 'burn'], /models needs list, fetch or verify/],
      // A worker takes jobs from whoever can write to Redis: it refuses to start without allowed folders.
      [['worker', '--queue', 'redis://127.0.0.1:1'], /worker needs --allowed-folder DIR/],
      [['worker', '--queue', 'redis://127.0.0.1:1', '--allowed-folder', path.join(dir, 'no-such-folder')], /--allowed-folder .*no such folder/],
      [['dance'], /unknown command "dance"/],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli(args);
      assert.strictEqual(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^error: /);
      assert.match(r.stderr, pattern);
      const lines = r.stderr.trimEnd().split('\n');
      assert.ok(lines.length <= 3, `${args.join(' ')}: ${lines.length} lines:\n${r.stderr}`);
      const command = ['run', 'worker', 'models'].includes(args[0]) ? `${args[0]} ` : '';
      assert.strictEqual(lines[lines.length - 1], `see facefusion-node ${command}--help`);
      assert.strictEqual(r.stdout, '');
    }
    // Each hint leads to a usage.
    for (const command of ['run', 'worker', 'jobs', 'models']) {
      const help = await cli([command, '--help']);
      assert.strictEqual(help.code, 0, command);
      assert.match(help.stdout, /usage: /, command);
    }
  });

  it('--pixel-workers and --crf reach the job: the --json summary shows the worker threads used, x264 the CRF', async function () {
    const output = path.join(dir, 'workers.mp4');
    const r = await cli(['run', '--target', clip, '--output', output, '--processors', 'face_blur', '--pixel-workers', '1', '--crf', '31', '--quality', '90', '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.deepStrictEqual([summary.state, summary.written, summary.pixelWorkers], ['completed', 24, 1]);
    assert.match(fs.readFileSync(output).toString('latin1'), /crf=31\.0/, 'x264 settings in the stream name the CRF given');
    // The default, auto: a blur job runs on the main thread, an embedded swap job gets one worker.
    const plain = await cli(['run', '--target', clip, '--output', path.join(dir, 'plain.mp4'), '--processors', 'face_blur', '--json']);
    assert.strictEqual(plain.code, 0, plain.stderr);
    assert.strictEqual(JSON.parse(plain.stdout).pixelWorkers, 0);
    const swap = await cli(['run', '--target', clip, '--source', media('fr_obama.jpg'), '--output', path.join(dir, 'swap.mp4'), '--processors', 'face_swapper', '--json']);
    assert.strictEqual(swap.code, 0, swap.stderr);
    assert.strictEqual(JSON.parse(swap.stdout).pixelWorkers, 1);
    const help = await cli(['run', '--help']);
    assert.match(help.stdout + help.stderr, /--pixel-workers N .*or auto/);
  });

  it('a job that fails exits 1 with its code; --help lists usage', async function () {
    const r = await cli(['run', '--target', path.join(dir, 'missing.mp4'), '--output', path.join(dir, 'y.mp4'), '--processors', 'blur']);
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /error: E_VIDEO_OPEN: .*missing\.mp4.*does not exist/);
    const bad = await cli(['run', '--target', clip, '--output', path.join(dir, 'nowhere', 'y.mp4'), '--processors', 'blur']);
    assert.strictEqual(bad.code, 1);
    assert.match(bad.stderr, /E_BAD_OUTPUT: .*does not exist/);
    const help = await cli(['--help']);
    assert.strictEqual(help.code, 0);
    assert.match(help.stdout, /facefusion-node run --target/);
    assert.match(help.stdout, /models list\|fetch\|verify/);
    assert.match(help.stdout, /face_swapper/);
  });

  it('models list delegates to the model cache', async function () {
    const r = await cli(['models', 'list']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /fr_detect\s+detector\s+present/);
    const bad = await cli(['models', 'burn']);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /models needs list, fetch or verify/);
  });
});
