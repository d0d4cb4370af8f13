'use strict';
// Editor thumbnails (throttled, size-capped, released on close) and the sample pictures the examples use.
const assert = require('assert');
const path = require('path');
const { EditorThumbnail, thumbnailSize, THUMBNAIL_INTERVAL_MS } = require('../dist/nodes/lib/thumbnail');
const { encodeThumbnail, THUMBNAIL_MAX_SIDE, readImageFile, resolveSample, listSamples, SAMPLES_DIR, createFrame, classifySource } = require('../dist/runtime/internal');
const { sleep } = require('./helpers/wait');

const frame = (w, h) => createFrame(w, h, new Uint8Array(w * h * 3).fill(128));

describe('editor thumbnails', function () {
  it('a 25 fps stream for 1.2 s publishes at most one thumbnail per interval, and the last frame offered is shown', async function () {
    const published = [];
    const thumb = new EditorThumbnail((topic, data, retain) => published.push({ topic, data, retain }), 'n1', 160, 300);
    const frames = [];
    for (let i = 0; i < 30; i++) {
      const f = frame(64 + i, 48); // the width tells which frame was shown
      frames.push(f);
      thumb.offer(f);
      await sleep(40);
    }
    await sleep(700);
    assert.ok(published.length >= 3 && published.length <= 6, `${published.length} thumbnails for 30 frames in 1.2 s`);
    const last = published[published.length - 1];
    assert.strictEqual(last.topic, 'facefusion/thumbnail/n1');
    assert.strictEqual(last.retain, true);
    assert.strictEqual(last.data.width, 64 + 29, 'the last frame is what stays visible');
    assert.match(last.data.src, /^data:image\/jpeg;base64,/);
    assert.ok(thumb.idle);
    thumb.close();
  });

  it('close() drops the waiting frame, stops the timer and clears the editor (not retained)', async function () {
    const published = [];
    const thumb = new EditorThumbnail((topic, data, retain) => published.push({ topic, data, retain }), 'n2', 160, 10000);
    thumb.offer(frame(32, 32));
    await sleep(100);
    thumb.offer(frame(40, 32)); // waits for the 10 s interval
    assert.ok(!thumb.idle, 'a frame is waiting');
    thumb.close();
    assert.ok(thumb.idle, 'nothing held after close');
    const clear = published[published.length - 1];
    assert.deepStrictEqual(clear, { topic: 'facefusion/thumbnail/n2', data: { id: 'n2' }, retain: false });
    thumb.offer(frame(32, 32));
    await sleep(50);
    assert.strictEqual(published.filter((p) => p.data.src).length, 1, 'nothing published after close');
  });

  it('is size-capped: never larger than asked, never above THUMBNAIL_MAX_SIDE, never enlarged', async function () {
    const big = await encodeThumbnail(frame(1920, 1080), 5000);
    assert.deepStrictEqual([big.width, big.height], [THUMBNAIL_MAX_SIDE, Math.round((1080 * THUMBNAIL_MAX_SIDE) / 1920)]);
    const small = await encodeThumbnail(frame(100, 50), 240);
    assert.deepStrictEqual([small.width, small.height], [100, 50]);
    assert.strictEqual(thumbnailSize(''), undefined);
    assert.strictEqual(thumbnailSize('0'), undefined);
    assert.strictEqual(thumbnailSize('240'), 240);
    assert.ok(THUMBNAIL_INTERVAL_MS >= 250);
  });
});

describe('sample pictures (sample:<name>)', function () {
  it('lists the shipped samples and resolves them inside samples/', function () {
    assert.deepStrictEqual(listSamples(), ['astronaut.jpg', 'biden.jpg', 'obama.jpg', 'two-people.jpg', 'two-people.mp4']);
    assert.strictEqual(resolveSample('sample:obama.jpg'), path.join(SAMPLES_DIR, 'obama.jpg'));
    assert.strictEqual(resolveSample('/data/me.jpg'), '/data/me.jpg');
  });

  it('refuses names outside the folder or unknown, naming the samples there are', function () {
    for (const bad of ['sample:../package.json', 'sample:/etc/passwd', 'sample:nope.jpg', 'sample:README.md']) {
      assert.throws(
        () => resolveSample(bad),
        (err) => err.code === 'E_BAD_PARAMETER' && /obama\.jpg/.test(err.message),
        bad,
      );
    }
  });

  it('reads as a picture and as a video source', async function () {
    const f = await readImageFile('sample:two-people.jpg');
    assert.deepStrictEqual([f.width, f.height], [800, 470]);
    assert.deepStrictEqual(classifySource('sample:two-people.mp4'), { input: path.join(SAMPLES_DIR, 'two-people.mp4'), kind: 'file', live: false });
  });
});
