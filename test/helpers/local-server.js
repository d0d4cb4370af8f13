'use strict';
// What the real-server helpers (mosquitto, redis) share: start a binary that listens on a
// 127.0.0.1 port, wait (bounded) until it accepts connections, and stop it — SIGTERM, then
// SIGKILL after 3 s — removing its throw-away folder.
const fs = require('fs');
const net = require('net');
const { spawn } = require('child_process');

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts `bin args`; resolves with { pid, stop() } once 127.0.0.1:`port` accepts, or throws with its log after 5 s. */
async function startListening({ name, bin, args, port, dir }) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => {
    log += d;
  });
  child.stderr.on('data', (d) => {
    log += d;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`${name} did not start on 127.0.0.1:${port}: ${log.slice(-400)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startListening, canConnect };
