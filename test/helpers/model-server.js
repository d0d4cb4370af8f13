'use strict';
// A file server on 127.0.0.1 and the bits around it that the model cache tests share.
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { crc32Update, crc32Hex } = require('../../dist/runtime/internal');

function tmpDir(list) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-manager-'));
  list.push(dir);
  return dir;
}

function crcOf(buf) {
  return crc32Hex(crc32Update(buf, 0, false));
}

/** Deterministic pseudo-random bytes: a stand-in for a model file. */
function fakeModel(size, seed = 1) {
  const buf = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

/**
 * A file server on 127.0.0.1 (ephemeral port). `files` maps a path to its bytes; `behave(req, n)`
 * may return { cutAfter } (send that many bytes of the body, then drop the socket),
 * { ignoreRange: true }, { status } or { hang: true } for the n-th request of a path.
 */
async function startServer(files, behave = () => ({})) {
  const requests = [];
  const counts = new Map();
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const n = (counts.get(req.url) ?? 0) + 1;
    counts.set(req.url, n);
    requests.push({ url: req.url, range: req.headers.range });
    const how = behave(req, n) || {};
    if (how.hang) return; // never answer
    const body = files[req.url];
    if (how.status || !body) {
      res.writeHead(how.status || 404, { 'content-type': 'text/plain' });
      res.end('no');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range || '');
    if (m && !how.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        res.end();
        return;
      }
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      res.writeHead(200, { 'content-length': body.length });
    }
    const slice = body.subarray(start);
    if (how.slow) {
      // 50 kB every 10 ms, so a client can act in the middle of the body.
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed || at >= slice.length) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(slice.subarray(at, at + 50000));
        at += 50000;
      }, 10);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (how.cutAfter !== undefined) {
      res.write(slice.subarray(0, how.cutAfter), () => setTimeout(() => res.socket.destroy(), 20));
      return;
    }
    res.end(slice);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    requests,
    sockets,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A one-model manifest whose file comes from `server`. */
function manifestFor(server, extra = {}) {
  return {
    version: 1,
    models: [
      {
        id: 'test_swapper',
        role: 'swapper',
        file: 'test_swapper.onnx',
        contract: 'inswapper_128',
        source: { urls: [server.url('/primary/test_swapper.onnx'), server.url('/mirror/test_swapper.onnx')] },
        hash: { urls: [server.url('/primary/test_swapper.hash'), server.url('/mirror/test_swapper.hash')] },
        license: 'Non-Commercial',
        ...extra,
      },
    ],
  };
}

/** A port nothing listens on: opened, read and closed again. */
async function closedPort() {
  const s = http.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

module.exports = { tmpDir, crcOf, fakeModel, startServer, manifestFor, closedPort };
