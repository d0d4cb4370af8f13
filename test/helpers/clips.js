'use strict';
// Shared by the video tests: resolve ffmpeg (or skip), make short real-face clips from
// test/fixtures/media, serve a live stream on 127.0.0.1, and find ffmpeg processes by pid.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const { MEDIA, pending } = require('./fixtures');
const media = (file) => path.join(MEDIA, file);
const { sleep } = require('./wait');

/**
 * The locator's ffmpeg, or skips the calling suite (mocha `this`) with a clear message when the
 * machine has none.
 */
async function ffmpegOrSkip(suite, locator) {
  try {
    return await locator.resolve();
  } catch (error) {
    if (error.code === 'E_FFMPEG_MISSING') {
      pending(suite, 'no ffmpeg on this machine (apt-get install ffmpeg, or set FFMPEG_PATH)');
    }
    throw error;
  }
}

/** Runs ffmpeg to completion (quiet, overwriting) and fails the test with its stderr if it fails. */
function runFfmpeg(bin, args) {
  const r = spawnSync(bin, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
}

/**
 * A short H.264 clip of a slow centred zoom over a still picture: `frames` frames of
 * `width`x`height` at `fps`. `zoom` is zoompan's z expression; `prescale` scales the picture's
 * width first (keeping its aspect).
 */
function makeZoomClip(bin, { image, output, width, height, frames, fps, zoom = '1+0.003*on', prescale }) {
  const zoompan = `zoompan=z='${zoom}':d=${frames}:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=${width}x${height}:fps=${fps}`;
  const filter = prescale ? `scale=${prescale}:-2,${zoompan}` : zoompan;
  runFfmpeg(bin, ['-i', image, '-vf', filter, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', output]);
  return output;
}

/** The short clip the source and pipeline tests read: two people, 40 frames of 160x160 at 20 fps (a slow zoom), as `dir`/small.mp4. */
function makeSmallClip(bin, dir) {
  return makeZoomClip(bin, { image: media('fr_two_people.jpg'), output: path.join(dir, 'small.mp4'), width: 160, height: 160, frames: 40, fps: 20, zoom: '1+0.002*on', prescale: 320 });
}

/** Resolves with `{ value }` or `{ error }` as `promise` settled, or 'pending' after `ms`. */
async function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (v) => ({ value: v }),
        (e) => ({ error: e }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    assert.strictEqual(error.code, 'ESRCH');
    return false;
  }
}

/** pids of the ffmpeg processes `parent` (default: this test process) started (Linux /proc). */
function ffmpegChildren(parent = process.pid) {
  const out = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && m[1].startsWith('ffmpeg') && Number(m[2]) === parent) out.push(Number(pid));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Serves `clip` looped in real time as MPEG-TS on tcp://127.0.0.1:`port` (ffmpeg listening, one
 * client). The caller kills the returned child (see `killAll`).
 */
function serveLoop(bin, clip, port) {
  return spawn(bin, ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy', '-f', 'mpegts', `tcp://127.0.0.1:${port}?listen=1`], { stdio: 'ignore' });
}

/**
 * Resolves once something listens on 127.0.0.1:`port` (read from /proc/net/tcp, so the one
 * client a listening ffmpeg accepts is not used up by the check); rejects after `ms`.
 */
async function waitForListen(port, ms = 5000) {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) {
    const rows = fs.readFileSync('/proc/net/tcp', 'utf8').split('\n');
    if (
      rows.some((row) => {
        const f = row.trim().split(/\s+/);
        return f[1] === hex && f[3] === '0A';
      })
    )
      return;
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
}

/** SIGKILLs the children still running and waits (bounded) for them to exit. */
async function killAll(children) {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
}

/**
 * One of the settings x264 writes into the stream it encoded (`crf=20.0`, `subme=2`: veryfast's,
 * `subme=0`: ultrafast's), read from the file; undefined when the file holds none.
 */
function x264Setting(file, name) {
  return new RegExp(`(?<![\\w])${name}=([\\d.]+)`).exec(fs.readFileSync(file).toString('latin1'))?.[1];
}

module.exports = { MEDIA, media, sleep, ffmpegOrSkip, runFfmpeg, makeZoomClip, makeSmallClip, within, tempDir, isAlive, ffmpegChildren, freePort, serveLoop, waitForListen, killAll, x264Setting };
