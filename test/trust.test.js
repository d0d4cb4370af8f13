'use strict';
// Paths and URLs that arrive in messages are confined: the config node's
// allowed folders with realpath (`..`, symlinks), writable outputs, allowed URL schemes, and
// ffmpeg started with a protocol whitelist so an HLS playlist cannot read local files.
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { PathPolicy, FfmpegLocator, protocolWhitelist, classifySource, inputArgs } = require('../dist/runtime/internal');
const { media } = require('./helpers/fixtures');
const { helper, allNodes, nextMessage, silence } = require('./helpers/red');
const { ffmpegOrSkip, runFfmpeg, ffmpegChildren, sleep } = require('./helpers/clips');

const denied = (re) => (e) => {
  assert.strictEqual(e.code, 'E_PATH_DENIED', `${e.code}: ${e.message}`);
  if (re) assert.match(e.message, re);
  return true;
};

describe('paths and URLs from messages are confined', function () {
  this.timeout(60000);
  let root, allowed, outside, policy;

  before(function () {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ff-trust-')));
    allowed = path.join(root, 'allowed');
    outside = path.join(root, 'outside');
    fs.mkdirSync(path.join(allowed, 'sub'), { recursive: true });
    fs.mkdirSync(outside);
    fs.copyFileSync(media('fr_obama.jpg'), path.join(allowed, 'me.jpg'));
    fs.copyFileSync(media('fr_biden.jpg'), path.join(outside, 'secret.jpg'));
    fs.symlinkSync(path.join(outside, 'secret.jpg'), path.join(allowed, 'link-out.jpg'));
    fs.symlinkSync(outside, path.join(allowed, 'dir-out'));
    fs.symlinkSync(path.join(allowed, 'me.jpg'), path.join(allowed, 'sub', 'link-in.jpg'));
    policy = new PathPolicy({ folders: [allowed], settingName: 'allowedFolders' });
  });
  after(function () {
    fs.rmSync(root, { recursive: true, force: true });
  });

  describe('PathPolicy', function () {
    it('reads inside work (links that stay inside too); outside, `..` tricks and links leading out are denied', async function () {
      assert.strictEqual(await policy.readable(path.join(allowed, 'me.jpg'), 'msg.source'), path.join(allowed, 'me.jpg'));
      assert.strictEqual(await policy.readable(path.join(allowed, 'sub', 'link-in.jpg'), 'msg.source'), path.join(allowed, 'me.jpg'));
      await assert.rejects(policy.readable(path.join(outside, 'secret.jpg'), 'msg.source'), denied(/allowedFolders/));
      await assert.rejects(policy.readable(path.join(allowed, '..', 'outside', 'secret.jpg'), 'msg.source'), denied());
      await assert.rejects(policy.readable(path.join(allowed, 'sub', '..', '..', 'outside', 'secret.jpg'), 'msg.source'), denied());
      await assert.rejects(policy.readable(path.join(allowed, 'link-out.jpg'), 'msg.source'), denied());
      await assert.rejects(policy.readable(path.join(allowed, 'dir-out', 'secret.jpg'), 'msg.source'), denied());
      await assert.rejects(policy.readable('/etc/hostname', 'msg.source'), denied());
      // A missing file outside is refused the same way as an existing one (nothing revealed).
      await assert.rejects(policy.readable(path.join(outside, 'nothing.jpg'), 'msg.source'), denied());
    });

    it('writes: the parent folder must be inside, and an existing link must not lead out', async function () {
      assert.strictEqual(await policy.writable(path.join(allowed, 'out.mp4'), 'output_path'), path.join(allowed, 'out.mp4'));
      await assert.rejects(policy.writable(path.join(outside, 'out.mp4'), 'output_path'), denied());
      await assert.rejects(policy.writable(path.join(allowed, '..', 'outside', 'out.mp4'), 'output_path'), denied());
      await assert.rejects(policy.writable(path.join(allowed, 'dir-out', 'out.mp4'), 'output_path'), denied());
      await assert.rejects(policy.writable(path.join(allowed, 'link-out.jpg'), 'output_path'), denied());
      await assert.rejects(policy.writable(path.join(os.homedir(), '.node-red', 'flows.json'), 'output_path'), denied());
    });

    it('URLs: only stream schemes from a message; file:, concat:, subfile:, ftp: are not', async function () {
      assert.strictEqual(await policy.source('rtsp://user:pw@127.0.0.1:8554/cam', 'msg.payload'), 'rtsp://user:pw@127.0.0.1:8554/cam');
      assert.strictEqual(await policy.source('/dev/video0', 'msg.payload'), '/dev/video0');
      for (const bad of ['concat:/etc/hostname|/etc/passwd', 'subfile:,start,0,end,0,:/etc/hostname', 'ftp://127.0.0.1/x', 'data:text/plain,hi']) {
        await assert.rejects(policy.source(bad, 'msg.payload'), denied(), bad);
      }
      await assert.rejects(policy.source('file:///etc/hostname', 'msg.payload'), denied());
      await assert.rejects(
        policy.output('rtmp://127.0.0.1/live/x', 'msg.output').then(() => policy.output('pipe:1', 'msg.output')),
        denied(),
      );
      // Credentials in a refused URL are not echoed.
      await assert.rejects(policy.url('gopher://me:secret@host/', 'msg.payload'), (e) => e.code === 'E_PATH_DENIED' && !/secret/.test(e.message));
    });

    it('job arguments: every *_path / *_paths confined, output_path as a file to write', async function () {
      const ok = await policy.jobArgs({
        target_path: path.join(allowed, 'me.jpg'),
        source_paths: [path.join(allowed, 'me.jpg')],
        output_path: path.join(allowed, 'out.jpg'),
        processors: ['face_blur'],
      });
      assert.strictEqual(ok.output_path, path.join(allowed, 'out.jpg'));
      await assert.rejects(policy.jobArgs({ target_path: path.join(allowed, 'me.jpg'), output_path: path.join(outside, 'out.jpg'), processors: ['face_blur'] }), denied(/output_path/));
      await assert.rejects(
        policy.jobArgs({ target_path: path.join(allowed, 'me.jpg'), source_paths: [path.join(outside, 'secret.jpg')], output_path: path.join(allowed, 'o.jpg'), processors: ['face_swap'] }),
        denied(/source_paths\[0\]/),
      );
    });
  });

  describe('in flows', function () {
    const cfg = () => ({ id: 'cfg', type: 'facefusion-config', name: 'rt', device: 'cpu', threads: 0, modelsDir: '', frameBudgetMB: 128, tokenTtl: 300, allowedFolders: allowed });
    const catcher = [
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    before(function (done) {
      helper.startServer(done);
    });
    after(function (done) {
      helper.stopServer(done);
    });
    afterEach(async function () {
      await helper.unload();
    });

    it('face token: msg.source outside, via `..` or a symlink → E_PATH_DENIED; inside works; the dialog path stays trusted', async function () {
      await helper.load(allNodes, [
        { id: 'tab', type: 'tab' },
        cfg(),
        { id: 'tok', z: 'tab', type: 'face-token', config: 'cfg', operations: ['detect'], wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'tok2', z: 'tab', type: 'face-token', config: 'cfg', source: path.join(outside, 'secret.jpg'), operations: ['detect'], wires: [['out2']] },
        { id: 'out2', z: 'tab', type: 'helper' },
        ...catcher,
      ]);
      const target = fs.readFileSync(media('fr_two_people.jpg'));
      for (const source of [path.join(outside, 'secret.jpg'), path.join(allowed, '..', 'outside', 'secret.jpg'), path.join(allowed, 'link-out.jpg')]) {
        const caught = nextMessage(helper.getNode('caught'));
        helper.getNode('tok').receive({ payload: target, source });
        const msg = await caught;
        assert.strictEqual(msg.error.code, 'E_PATH_DENIED', JSON.stringify(msg.error));
      }
      const out = nextMessage(helper.getNode('out'));
      helper.getNode('tok').receive({ payload: target, source: path.join(allowed, 'me.jpg') });
      assert.ok((await out).payload.source.frame, 'the allowed source was read');
      const out2 = nextMessage(helper.getNode('out2'));
      helper.getNode('tok2').receive({ payload: target });
      assert.ok((await out2).payload.source.frame, 'a path typed in the dialog is trusted');
    });

    it('face job: an output path outside is refused before any job or ffmpeg starts', async function () {
      const jobNode = require('../dist/nodes/face-job.js');
      await helper.load(
        [...allNodes, jobNode],
        [{ id: 'tab', type: 'tab' }, cfg(), { id: 'job', z: 'tab', type: 'face-job', config: 'cfg', wires: [['done'], []] }, { id: 'done', z: 'tab', type: 'helper' }, ...catcher],
      );
      const caught = nextMessage(helper.getNode('caught'));
      helper.getNode('job').receive({ payload: { target_path: path.join(allowed, 'me.jpg'), output_path: path.join(outside, 'x.jpg'), processors: ['face_blur'] } });
      const msg = await caught;
      assert.strictEqual(msg.error.code, 'E_PATH_DENIED');
      assert.match(msg.error.message, /output_path/);
      assert.deepStrictEqual(ffmpegChildren(), []);
      assert.strictEqual(fs.existsSync(path.join(outside, 'x.jpg')), false);
    });
  });

  describe('ffmpeg protocol whitelist', function () {
    let ffmpeg, server, dir, port;
    before(async function () {
      ffmpeg = await ffmpegOrSkip(this, new FfmpegLocator());
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-hls-'));
      // A real local segment the playlist points at with file://: what an attacker wants read.
      runFfmpeg(ffmpeg.path, [
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=64x48:rate=10',
        '-frames:v',
        '10',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv420p',
        '-f',
        'mpegts',
        path.join(dir, 'local.ts'),
      ]);
      const playlist = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\nfile://${path.join(dir, 'local.ts')}\n#EXT-X-ENDLIST\n`;
      server = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
        res.end(playlist);
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      port = server.address().port;
    });
    after(async function () {
      if (server) await new Promise((r) => server.close(r));
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('each source kind gets only its own protocols', function () {
      assert.strictEqual(protocolWhitelist(classifySource('/x/clip.mp4')), 'file');
      assert.strictEqual(protocolWhitelist(classifySource('https://cam/x.m3u8')), 'http,https,tcp,tls,crypto');
      assert.ok(!protocolWhitelist(classifySource('rtsp://cam/x')).includes('file'));
      const args = inputArgs(classifySource('http://127.0.0.1/x.m3u8'), 1000, 5);
      assert.strictEqual(args[args.indexOf('-protocol_whitelist') + 1], 'http,https,tcp,tls,crypto');
    });

    it('an HLS playlist listing a file:// segment, sent as a message URL: refused, no local frame reaches the flow', async function () {
      const url = `http://127.0.0.1:${port}/list.m3u8`;
      // The attack is real: with `file` allowed, ffmpeg reads the local segment through the playlist.
      // (async: the playlist server runs in this process)
      const stderr = await new Promise((resolve) => {
        const child = spawn(ffmpeg.path, ['-hide_banner', '-protocol_whitelist', 'http,tcp,file', '-i', url, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let text = '';
        child.stderr.on('data', (d) => {
          text += d;
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
        child.on('close', () => {
          clearTimeout(timer);
          resolve(text);
        });
      });
      assert.match(stderr, /frame=\s*10\b/, 'with `file` allowed, the local file is decoded');

      const videoIn = require('../dist/nodes/face-video-in.js');
      await new Promise((r) => helper.startServer(r));
      try {
        await helper.load(
          [...allNodes, videoIn],
          [
            { id: 'tab', type: 'tab' },
            // The playlist server is on loopback: allowed here (message URLs may not reach 127.0.0.1 otherwise).
            { id: 'cfg', type: 'facefusion-config', device: 'cpu', threads: 0, modelsDir: '', frameBudgetMB: 64, tokenTtl: 60, allowedFolders: dir, allowedHosts: '127.0.0.1' },
            { id: 'in', z: 'tab', type: 'face-video-in', config: 'cfg', source: '', maxInFlight: 3, reconnect: false, wires: [['frames'], []] },
            { id: 'frames', z: 'tab', type: 'helper' },
            { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
            { id: 'caught', z: 'tab', type: 'helper' },
          ],
        );
        // A live URL that fails is retried (with backoff): the first failure's reason is what counts.
        const videoInNode = helper.getNode('in');
        const failed = new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no failure reported within 20 s')), 20000);
          videoInNode.on('call:warn', (call) => {
            clearTimeout(timer);
            resolve(String(call.args[0]));
          });
          videoInNode.on('call:error', (call) => {
            clearTimeout(timer);
            resolve(String(call.args[0] && call.args[0].message));
          });
        });
        const frames = silence(helper.getNode('frames'), 6000);
        videoInNode.receive({ payload: url });
        const reason = await failed;
        console.log('      (reported: ' + reason.slice(0, 160) + ')');
        assert.match(reason, /Protocol 'file' not on whitelist/, reason);
        assert.ok(await frames, 'no frame of the local file was sent');
        await helper.unload();
        await sleep(200);
        assert.deepStrictEqual(ffmpegChildren(), []);
      } finally {
        await new Promise((r) => helper.stopServer(r));
      }
    });
  });
});
