'use strict';
// A real Redis for tests: Debian's redis-server on a free 127.0.0.1 port, no persistence, its own
// throw-away folder, stopped (and checked gone) by the test.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { freePort } = require('./clips');
const { startListening } = require('./local-server');

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'];

function redisBinary() {
  return CANDIDATES.find((p) => fs.existsSync(p));
}

/**
 * Starts redis-server; resolves with { port, url, pid, stop() }. `password` sets requirepass;
 * `tls` serves TLS only (a throw-away self-signed certificate for 127.0.0.1, `caFile` to trust it).
 */
async function startRedis({ password, tls } = {}) {
  const bin = redisBinary();
  if (!bin) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-redis-'));
  let caFile;
  const tlsArgs = [];
  if (tls) {
    caFile = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    const r = require('child_process').spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${r.stderr || r.error}`);
    tlsArgs.push('--tls-port', String(port), '--tls-cert-file', caFile, '--tls-key-file', key, '--tls-ca-cert-file', caFile, '--tls-auth-clients', 'no');
  }
  const args = [
    ...(tls ? ['--port', '0', ...tlsArgs] : ['--port', String(port)]),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  if (password) args.push('--requirepass', password);
  const server = await startListening({ name: 'redis-server', bin, args, port, dir });
  const scheme = tls ? 'rediss' : 'redis';
  return {
    port,
    caFile,
    url: password ? `${scheme}://:${encodeURIComponent(password)}@127.0.0.1:${port}` : `${scheme}://127.0.0.1:${port}`,
    pid: server.pid,
    stop: server.stop,
  };
}

module.exports = { startRedis, redisBinary };
