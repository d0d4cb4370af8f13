'use strict';
// ffmpeg resolution prefers a working modern build (the bundled 2018 @ffmpeg-installer binary is
// the last resort), and a stream whose host name does not exist says so. Name
// lookups go only to `.invalid`, a name that never resolves (RFC 2606); no stream is opened.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { helper, ourNodes, nextMessage } = require('./helpers/red');
const { pending } = require('./helpers/fixtures');
const { FfmpegLocator, pickNewest, sourceHost, assertHostResolves, explainFfmpegFailure, classifySource } = require('../dist/runtime/internal');

const core = (p) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', p));
const nodes = [...ourNodes, require('../dist/nodes/face-video-in.js'), core('common/25-catch.js')];
const INSTALLER = (() => {
  try {
    return require('@ffmpeg-installer/ffmpeg').path;
  } catch {
    return undefined;
  }
})();
const SYSTEM_FFMPEG = '/usr/bin/ffmpeg';
const BAD_HOST = 'rtsp://nonexistent.invalid/stream';

describe('ffmpeg choice and unresolvable stream hosts', function () {
  this.timeout(30000);

  it('picks the newest working ffmpeg; the bundled installer build only when nothing else runs', function () {
    const installer = { path: '/i', version: 'N-47683-g0e8eb07980-static', year: 2018, source: 'ffmpeg-installer' };
    const system = { path: '/usr/bin/ffmpeg', version: '5.1.9-0+deb12u1', major: 5, year: 2026, source: 'path' };
    const staticOld = { path: '/s', version: '4.4', major: 4, year: 2021, source: 'ffmpeg-static' };
    const staticSame = { ...system, path: '/s2', source: 'ffmpeg-static' };
    assert.strictEqual(pickNewest([staticOld, system, installer]), system);
    assert.strictEqual(pickNewest([staticSame, system]), staticSame, 'a tie keeps the earlier candidate');
    assert.strictEqual(pickNewest([installer]), installer, 'last resort');
    assert.strictEqual(pickNewest([{ ...installer, year: 2030 }, system]), system, 'never the installer while another runs');
    assert.strictEqual(pickNewest([]), undefined);
  });

  it("with the bundled 2018 build and Debian's ffmpeg both present, the locator uses Debian's", async function () {
    if (!INSTALLER || !fs.existsSync(SYSTEM_FFMPEG)) pending(this, `needs both @ffmpeg-installer/ffmpeg and ${SYSTEM_FFMPEG}`);
    const logs = [];
    const info = await new FfmpegLocator({ env: { PATH: path.dirname(SYSTEM_FFMPEG) }, logger: (level, m) => logs.push(m) }).resolve();
    assert.strictEqual(info.source, 'path');
    assert.strictEqual(info.path, SYSTEM_FFMPEG);
    assert.ok(info.year > 2018, JSON.stringify(info));
    assert.ok(
      logs.some((m) => /chose the newest \(path\)/.test(m) && m.includes('ffmpeg-installer')),
      logs.join('\n'),
    );
  });

  it('finds the host of a stream URL; files, devices, IP addresses and listen URLs have none', async function () {
    assert.strictEqual(sourceHost(classifySource('rtsp://user:pw@cam.example:554/live')), 'cam.example');
    assert.strictEqual(sourceHost(classifySource('rtsp://10.0.0.7/live')), undefined);
    assert.strictEqual(sourceHost(classifySource('udp://@:1234')), undefined);
    assert.strictEqual(sourceHost(classifySource('/data/in.mp4')), undefined);
    assert.strictEqual(sourceHost(classifySource('/dev/video0')), undefined);
    await assert.rejects(assertHostResolves(classifySource(BAD_HOST)), (e) => e.code === 'E_VIDEO_OPEN' && /^cannot resolve host nonexistent\.invalid/.test(e.message));
    await assertHostResolves(classifySource('rtsp://127.0.0.1:9/x'));
    const { probeMedia } = require('../dist/runtime/internal');
    await assert.rejects(
      probeMedia(new FfmpegLocator(), BAD_HOST),
      (e) => e.code === 'E_VIDEO_OPEN' && /cannot resolve host nonexistent\.invalid/.test(e.message),
      'a job probing the source says so too',
    );
    assert.strictEqual(explainFfmpegFailure('[tcp @ 0x5] Failed to resolve hostname cam.invalid: Name or service not known'), 'cannot resolve host cam.invalid');
  });

  describe('face video in', function () {
    afterEach(async function () {
      await helper.unload();
    });

    it('pointed at an unresolvable host: E_VIDEO_OPEN "cannot resolve host" to the Catch node and the code on the status, at once', async function () {
      const flow = [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'cpu', frameBudgetMB: 64, tokenTtl: 300 },
        { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source: BAD_HOST, wires: [['frames'], ['end']] },
        { id: 'frames', z: 'tab', type: 'helper' },
        { id: 'end', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ];
      await helper.load(nodes, flow);
      const node = helper.getNode('in');
      const statuses = [];
      node.on('call:status', (call) => statuses.push(call.args[0].text || ''));
      const caught = nextMessage(helper.getNode('caught'), 15000);
      const started = Date.now();
      node.receive({ payload: '' });
      const msg = await caught;
      assert.strictEqual(msg.error.code, 'E_VIDEO_OPEN', msg.error.message);
      assert.match(msg.error.message, /cannot resolve host nonexistent\.invalid/);
      assert.ok(Date.now() - started < 10000, 'no reconnect attempts for a name that does not exist');
      assert.ok(statuses.includes('E_VIDEO_OPEN'), statuses.join(' | '));
      assert.ok(!statuses.some((s) => /SIGSEGV|reconnecting/.test(s)), statuses.join(' | '));
    });
  });
});
