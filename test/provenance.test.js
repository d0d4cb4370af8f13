'use strict';
// Provenance marks: pictures and videos a swap or enhance changed carry the
// IPTC Digital Source Type (XMP for pictures, container metadata for videos), read back with the
// real exiftool and ffprobe; blur-only outputs carry none; the marks can be turned off.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { createRuntime, JobManager } = require('../dist/runtime');
const { FfmpegLocator, FrameTokenSink, provenanceOf, videoMarks, DIGITAL_SOURCE_TYPE } = require('../dist/runtime/internal');
const { media, pending } = require('./helpers/fixtures');
const { ffmpegOrSkip, makeZoomClip, tempDir } = require('./helpers/clips');

const EXIFTOOL = ['/usr/bin/exiftool', '/usr/local/bin/exiftool'].find((p) => fs.existsSync(p));

/** exiftool's raw DigitalSourceType (and CreatorTool / Description) of a file, or '' when absent. */
function xmpOf(file) {
  const r = spawnSync(EXIFTOOL, ['-n', '-s', '-XMP-iptcExt:DigitalSourceType', '-XMP-xmp:CreatorTool', '-XMP-dc:Description', file], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  return r.stdout;
}

function ffprobeTags(ffmpegPath, file) {
  const probe = path.join(path.dirname(ffmpegPath), 'ffprobe');
  const bin = fs.existsSync(probe) ? probe : 'ffprobe';
  const r = spawnSync(bin, ['-v', 'error', '-show_entries', 'format_tags', '-of', 'json', file], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).format.tags || {};
}

describe('provenance marks on swapped media', function () {
  this.timeout(120000);
  let runtime, swapped, blurred;

  before(async function () {
    runtime = createRuntime({ device: 'cpu', sweepIntervalMs: 0 });
    swapped = await runtime.run(await runtime.createToken({ target: media('fr_biden.jpg'), source: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'embed', 'swap'] }));
    assert.strictEqual(swapped.state, 'done', JSON.stringify(swapped.error));
    blurred = await runtime.run(await runtime.createToken({ target: media('fr_biden.jpg'), operations: ['detect', 'blur'] }));
    assert.strictEqual(blurred.state, 'done', JSON.stringify(blurred.error));
  });
  after(async function () {
    await runtime.close();
  });

  it('the journal decides: swap/enhance that changed the picture → marked; blur, detect, no-face → not', function () {
    const p = provenanceOf(swapped);
    assert.strictEqual(p.digitalSourceType, DIGITAL_SOURCE_TYPE);
    assert.deepStrictEqual(p.operations, ['detect', 'landmark', 'embed', 'swap']);
    assert.match(p.sha256, /^[0-9a-f]{64}$/);
    assert.match(p.software, /^node-red-contrib-facefusion \d+\.\d+\.\d+/);
    assert.strictEqual(provenanceOf(blurred), undefined);
    const noFace = { journal: [{ stage: 'swap', at: new Date().toISOString(), ms: 1, outcome: 'no_face' }] };
    assert.strictEqual(provenanceOf(noFace), undefined, 'an unchanged picture is not marked');
    assert.ok(provenanceOf(noFace, { stageRan: true }), 'a video whose swap ran on a frame without a face is');
  });

  it('exiftool reads compositeWithTrainedAlgorithmicMedia from swapped JPEG, PNG and WebP; not from a blurred one, nor with marks off', async function () {
    if (!EXIFTOOL) return pending(this, 'exiftool is not installed (apt-get install libimage-exiftool-perl; .ci/run installs it)');
    const dir = tempDir('ff-prov-');
    try {
      for (const format of ['jpeg', 'png', 'webp']) {
        const file = path.join(dir, `swapped.${format}`);
        fs.writeFileSync(file, await runtime.encode(swapped, { format }));
        const tags = xmpOf(file);
        assert.match(tags, /DigitalSourceType\s*:\s*http:\/\/cv\.iptc\.org\/newscodes\/digitalsourcetype\/compositeWithTrainedAlgorithmicMedia/, `${format}: ${tags}`);
        assert.match(tags, /CreatorTool\s*:\s*node-red-contrib-facefusion/);
        assert.match(tags, /Description\s*:.*operations: detect, landmark, embed, swap; journal sha256: [0-9a-f]{64}/);
      }
      const plain = path.join(dir, 'blurred.jpg');
      fs.writeFileSync(plain, await runtime.encode(blurred, { format: 'jpeg' }));
      assert.doesNotMatch(xmpOf(plain), /DigitalSourceType/);
      const off = path.join(dir, 'off.jpg');
      fs.writeFileSync(off, await runtime.encode(swapped, { format: 'jpeg', provenance: false }));
      assert.doesNotMatch(xmpOf(off), /DigitalSourceType/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI flag --no-provenance turns the marks off in the job it builds', function () {
    const { parseRunArgs } = require('../dist/cli/run-options');
    const base = ['--target', 'in.mp4', '--output', 'out.mp4', '--processors', 'face_swapper', '--source', 'me.jpg'];
    assert.strictEqual(parseRunArgs(base).job.provenance, undefined, 'on by default');
    assert.strictEqual(parseRunArgs([...base, '--no-provenance']).job.provenance, false);
  });

  describe('jobs', function () {
    let locator, ffmpeg, dir, clip, jobs;
    before(async function () {
      locator = new FfmpegLocator();
      ffmpeg = await ffmpegOrSkip(this, locator);
      dir = tempDir('ff-prov-jobs-');
      clip = makeZoomClip(ffmpeg.path, { image: media('fr_biden.jpg'), output: path.join(dir, 'clip.mp4'), width: 320, height: 240, frames: 10, fps: 10, prescale: 480 });
      jobs = new JobManager(runtime, { locator, progressIntervalMs: 0 });
    });
    after(async function () {
      if (jobs) await jobs.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    async function run(args) {
      const info = await jobs.waitForJob(jobs.runJob(args));
      assert.strictEqual(info.state, 'completed', JSON.stringify(info.error));
      return info.result.output;
    }

    it('ffprobe shows the mark on a swapped MP4; a blurred MP4 and a job with provenance: false have none', async function () {
      const swappedMp4 = await run({ source_paths: [media('fr_obama.jpg')], target_path: clip, output_path: path.join(dir, 'swapped.mp4'), processors: ['face_swapper'], quality: 60 });
      const tags = ffprobeTags(ffmpeg.path, swappedMp4);
      assert.strictEqual(tags.digital_source_type, DIGITAL_SOURCE_TYPE, JSON.stringify(tags));
      assert.match(tags.comment, /AI-edited \(swap\) by node-red-contrib-facefusion .*job sha256: [0-9a-f]{64}/);
      const blurredMp4 = await run({ target_path: clip, output_path: path.join(dir, 'blurred.mp4'), processors: ['face_blur'], quality: 60 });
      assert.strictEqual(ffprobeTags(ffmpeg.path, blurredMp4).digital_source_type, undefined);
      const offMp4 = await run({ source_paths: [media('fr_obama.jpg')], target_path: clip, output_path: path.join(dir, 'off.mp4'), processors: ['face_swapper'], quality: 60, provenance: false });
      assert.strictEqual(ffprobeTags(ffmpeg.path, offMp4).digital_source_type, undefined);
    });

    it("jobs and flows mark videos through one function: a job from its stages, a flow from its first frame's journal", function () {
      const job = videoMarks({ stages: ['detect', 'landmark', 'swap'], parameters: {} });
      assert.strictEqual(job.digital_source_type, DIGITAL_SOURCE_TYPE);
      assert.match(job.comment, /AI-edited \(swap\) .*operations: detect, landmark, swap; job sha256: [0-9a-f]{64}$/);
      const flow = videoMarks({ firstFrame: swapped });
      assert.strictEqual(flow.digital_source_type, DIGITAL_SOURCE_TYPE);
      assert.match(flow.comment, /operations: detect, landmark, embed, swap; journal sha256: [0-9a-f]{64}$/);
      assert.strictEqual(videoMarks({ stages: ['detect', 'blur'] }), undefined);
      assert.strictEqual(videoMarks({ firstFrame: blurred }), undefined);
    });

    it("a flow's video (FrameTokenSink, face-video-out) carries the mark of its swapped frames; marks off: none", async function () {
      const frame = async () => runtime.run(await runtime.createToken({ target: media('fr_biden.jpg'), source: media('fr_obama.jpg'), operations: ['detect', 'landmark', 'embed', 'swap'] }));
      const write = async (name, options) => {
        const output = path.join(dir, name);
        const sink = new FrameTokenSink({ runtime, locator, output, preset: 'ultrafast', fps: 5, ...options });
        await sink.write(await frame(), 0);
        return (await sink.finish()).outputPath;
      };
      const marked = ffprobeTags(ffmpeg.path, await write('flow-swapped.mp4'));
      assert.strictEqual(marked.digital_source_type, DIGITAL_SOURCE_TYPE, JSON.stringify(marked));
      assert.match(marked.comment, /AI-edited \(swap\) by node-red-contrib-facefusion .*journal sha256: [0-9a-f]{64}/);
      assert.strictEqual(ffprobeTags(ffmpeg.path, await write('flow-off.mp4', { provenance: false })).digital_source_type, undefined);
    });

    it('an image job writes the XMP mark on a swap and not on a blur', async function () {
      if (!EXIFTOOL) return pending(this, 'exiftool is not installed (apt-get install libimage-exiftool-perl; .ci/run installs it)');
      const swappedJpg = await run({ source_paths: [media('fr_obama.jpg')], target_path: media('fr_biden.jpg'), output_path: path.join(dir, 'swapped.jpg'), processors: ['face_swapper'] });
      assert.match(xmpOf(swappedJpg), /compositeWithTrainedAlgorithmicMedia/);
      const blurredPng = await run({ target_path: media('fr_biden.jpg'), output_path: path.join(dir, 'blurred.png'), processors: ['face_blur'] });
      assert.doesNotMatch(xmpOf(blurredPng), /DigitalSourceType/);
    });
  });
});
