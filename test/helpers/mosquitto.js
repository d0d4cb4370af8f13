'use strict';
// A real MQTT broker for tests: Debian's mosquitto on a free 127.0.0.1 port, with its own
// throw-away config folder, stopped (and checked gone) by the test.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { freePort } = require('./clips');
const { startListening } = require('./local-server');

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'];

function mosquittoBinary() {
  return CANDIDATES.find((p) => fs.existsSync(p));
}

/** Starts mosquitto; resolves with { port, url, stop() }. Throws when it does not listen within 5 s. */
async function startMosquitto() {
  const bin = mosquittoBinary();
  if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-mqtt-'));
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`);
  const server = await startListening({ name: 'mosquitto', bin, args: ['-c', conf], port, dir });
  return { port, url: `mqtt://127.0.0.1:${port}`, pid: server.pid, stop: server.stop };
}

module.exports = { startMosquitto, mosquittoBinary };
