'use strict';
// A real MQTT broker for tests: Debian's mosquitto on a free 127.0.0.1 port, with its own
// throw-away config folder, stopped (and checked gone) by the test.
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { freePort } = require('./clips');

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'];

function mosquittoBinary() {
  return CANDIDATES.find((p) => fs.existsSync(p));
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Starts mosquitto; resolves with { port, url, stop() }. Throws when it does not listen within 5 s. */
async function startMosquitto() {
  const bin = mosquittoBinary();
  if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-mqtt-'));
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`);
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not start on 127.0.0.1:${port}: ${log.slice(-400)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
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

module.exports = { startMosquitto, mosquittoBinary, freePort };
