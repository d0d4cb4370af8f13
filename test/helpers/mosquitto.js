'use strict';
// A real MQTT broker for tests: Debian's mosquitto on a free 127.0.0.1 port, with its own
// throw-away config folder, stopped (and checked gone) by the test.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { freePort } = require('./clips');
const { startListening } = require('./local-server');

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'];

function mosquittoBinary() {
  return CANDIDATES.find((p) => fs.existsSync(p));
}

/**
 * Starts mosquitto; resolves with { port, url, stop() }. Throws when it does not listen within 5 s.
 * `tls` serves TLS only (a throw-away self-signed certificate for 127.0.0.1 and localhost;
 * `caFile` to trust it); `users` ({ name: password }) turns anonymous access off.
 */
async function startMosquitto({ tls, users } = {}) {
  const bin = mosquittoBinary();
  if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-mqtt-'));
  const conf = path.join(dir, 'mosquitto.conf');
  // Run as whoever runs the test: as root mosquitto would otherwise drop to its own user, who cannot read this folder.
  const lines = [`user ${os.userInfo().username}`, `listener ${port} 127.0.0.1`, `allow_anonymous ${users ? 'false' : 'true'}`, 'persistence false', 'log_dest stderr'];
  let caFile;
  if (tls) {
    caFile = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    const r = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', caFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${r.stderr || r.error}`);
    lines.push(`certfile ${caFile}`, `keyfile ${key}`);
  }
  if (users) {
    const passwd = path.join(dir, 'passwd');
    fs.writeFileSync(passwd, '');
    for (const [name, password] of Object.entries(users)) {
      const r = spawnSync('mosquitto_passwd', ['-b', passwd, name, password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr || r.error}`);
    }
    lines.push(`password_file ${passwd}`);
  }
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  const server = await startListening({ name: 'mosquitto', bin, args: ['-c', conf], port, dir });
  return { port, caFile, url: `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`, pid: server.pid, stop: server.stop };
}

module.exports = { startMosquitto, mosquittoBinary };
