'use strict';
// Real servers standing in for cameras and stream servers, started and stopped by the tests on
// free 127.0.0.1 ports: GStreamer's RTSP server (test/helpers/rtsp-camera.py under Debian's
// /usr/bin/python3) and nginx with the RTMP module. `*Missing()` says why one cannot run here
// (the caller marks its test pending with that reason); every start returns a handle whose
// stop() kills the process and waits (bounded) for it to exit.
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { freePort, sleep, tempDir, runFfmpeg, waitForListen } = require('./clips');
const { media } = require('./fixtures');

const PYTHON = '/usr/bin/python3';
const NGINX = '/usr/sbin/nginx';
const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const RTSP_SCRIPT = path.join(__dirname, 'rtsp-camera.py');

/** Why the RTSP stand-in cannot run here, or null. */
function rtspMissing() {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} is missing (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)`;
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      "import gi; gi.require_version('Gst','1.0'); gi.require_version('GstRtspServer','1.0'); from gi.repository import Gst, GstRtspServer; Gst.init(None); assert Gst.ElementFactory.find('qtdemux') and Gst.ElementFactory.find('h264parse') and Gst.ElementFactory.find('rtph264pay')",
    ],
    { encoding: 'utf8', timeout: 15000 },
  );
  return r.status === 0
    ? null
    : `GStreamer's RTSP server is not usable from ${PYTHON} (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad): ${(r.stderr || '').trim().split('\n').pop()}`;
}

/** Why the RTMP stand-in cannot run here, or null. */
function rtmpMissing() {
  if (!fs.existsSync(NGINX)) return `${NGINX} is missing (apt-get install nginx libnginx-mod-rtmp)`;
  if (!fs.existsSync(RTMP_MODULE)) return `${RTMP_MODULE} is missing (apt-get install libnginx-mod-rtmp)`;
  return null;
}

/**
 * An H.264 MP4 clip for the camera: a fixture face with the frame number burnt in, `seconds`
 * long at `fps`, one key frame a second.
 */
function makeCameraClip(bin, output, { width = 320, height = 240, fps = 25, seconds = 30, image = media('fr_obama.jpg') } = {}) {
  runFfmpeg(bin, [
    '-loop',
    '1',
    '-i',
    image,
    '-vf',
    `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}`,
    '-r',
    String(fps),
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    String(fps),
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    output,
  ]);
  return output;
}

/**
 * The same clip `seconds` long, made fast: two seconds are made (each frame decodes and scales the
 * picture, ≈ 0.7 s of CPU per second of clip) and stream-copied end to end.
 */
function makeLongCameraClip(bin, output, { seconds = 30, ...options } = {}) {
  const two = output.replace(/(\.\w+)?$/, '-2s$1');
  makeCameraClip(bin, two, { ...options, seconds: 2 });
  runFfmpeg(bin, ['-stream_loop', String(Math.max(0, Math.ceil(seconds / 2) - 1)), '-i', two, '-c', 'copy', '-movflags', '+faststart', output]);
  fs.rmSync(two, { force: true });
  return output;
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(ms)]);
}

async function kill(child, signal = 'SIGKILL') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = waitExit(child, 3000);
  child.kill(signal);
  await exited;
}

/**
 * Starts an RTSP camera serving `clip` at rtsp://127.0.0.1:`port`/stream; resolves once it
 * listens. `restart()` starts it again on the same port after stop().
 */
async function startRtspCamera(clip, port) {
  port = port || (await freePort());
  const camera = {
    port,
    url: `rtsp://127.0.0.1:${port}/stream`,
    child: undefined,
    async start() {
      const child = spawn(PYTHON, [RTSP_SCRIPT, String(port), clip], { stdio: ['ignore', 'pipe', 'pipe'] });
      camera.child = child;
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const ready = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), 10000);
        child.stdout.on('data', (d) => {
          if (/ready/.test(String(d))) {
            clearTimeout(timer);
            resolve(true);
          }
        });
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (!ready) {
        await kill(child);
        throw new Error(`the RTSP camera did not start on port ${port}: ${stderr.trim()}`);
      }
      return camera;
    },
    /** Kills the camera (SIGKILL: a camera losing power). */
    async stop() {
      if (camera.child) await kill(camera.child);
    },
    get running() {
      return Boolean(camera.child && camera.child.exitCode === null && camera.child.signalCode === null);
    },
  };
  return camera.start();
}

/**
 * Starts nginx with the RTMP module on a free port (config, pid, logs in a temp dir); resolves once
 * it listens. Streams publish to and play from rtmp://127.0.0.1:PORT/live/NAME.
 */
async function startRtmpServer() {
  const port = await freePort();
  const dir = tempDir('ff-rtmp-');
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    [
      `load_module ${RTMP_MODULE};`,
      'daemon off;',
      'master_process off;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${path.join(dir, 'error.log')} warn;`,
      'events { worker_connections 64; }',
      `rtmp { server { listen 127.0.0.1:${port}; application live { live on; record off; } } }`,
      '',
    ].join('\n'),
  );
  const child = spawn(NGINX, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    await waitForListen(port, 5000);
  } catch (error) {
    await kill(child);
    throw new Error(`nginx-rtmp did not start: ${stderr.trim() || error.message}`);
  }
  return {
    port,
    url: (name) => `rtmp://127.0.0.1:${port}/live/${name}`,
    child,
    async stop() {
      await kill(child, 'SIGTERM');
      await kill(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Plays rtmp `url` into an FLV file (stream copy) until the publisher goes away; start it before
 * publishing so no frame is missed. `done` resolves with the exit; `stop()` kills it.
 */
function playRtmp(bin, url, output) {
  const child = spawn(
    bin,
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-rw_timeout', '15000000', '-analyzeduration', '500000', '-i', url, '-c', 'copy', '-flush_packets', '1', '-f', 'flv', '-y', output],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const player = { child, stderr: '', done: new Promise((resolve) => child.once('exit', (code) => resolve(code))), stop: () => kill(child) };
  child.stderr.on('data', (d) => (player.stderr = (player.stderr + d).slice(-2000)));
  return player;
}

/**
 * Frames in a file's first video stream, decoded and counted by ffmpeg; `error` holds ffmpeg's
 * complaints (e.g. "moov atom not found"), `frames` is null when the file cannot be read.
 */
function countFrames(bin, file) {
  const r = spawnSync(bin, ['-hide_banner', '-nostdin', '-v', 'error', '-stats', '-i', file, '-map', '0:v:0', '-f', 'null', '-'], { encoding: 'utf8', timeout: 60000 });
  const counts = [...(r.stderr || '').matchAll(/frame=\s*(\d+)/g)];
  const error = (r.stderr || '')
    .split(/\r|\n/)
    .filter((l) => l.trim() && !/frame=/.test(l))
    .join('\n');
  if (r.status !== 0 || counts.length === 0) return { frames: null, error };
  return { frames: Number(counts[counts.length - 1][1]), error };
}

/**
 * Presentation times (seconds) of a file's decoded video frames as the file carries them (ffmpeg's
 * framemd5, which keeps variable frame rates), with each frame's checksum; null when unreadable.
 */
function frameTimes(bin, file) {
  const r = spawnSync(bin, ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-'], { encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 });
  const tb = /^#tb 0: (\d+)\/(\d+)$/m.exec(r.stdout || '');
  if (r.status !== 0 || !tb) return null;
  const frames = (r.stdout.match(/^0,.*$/gm) || []).map((line) => {
    const [, , pts, , , md5] = line.split(',').map((f) => f.trim());
    return { t: (Number(pts) * Number(tb[1])) / Number(tb[2]), md5 };
  });
  return frames;
}

/** pids (with names) of every live child process of this test process (Linux /proc). */
function childProcesses() {
  const out = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) (\S+) (\d+)/.exec(stat);
      if (m && Number(m[3]) === process.pid && m[2] !== 'Z') out.push({ pid: Number(pid), name: m[1] });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

module.exports = { childProcesses, rtspMissing, rtmpMissing, makeCameraClip, makeLongCameraClip, startRtspCamera, startRtmpServer, playRtmp, countFrames, frameTimes, PYTHON };
