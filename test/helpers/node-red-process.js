'use strict';
// A real Node-RED in a child process, driven the way a user (or the editor) drives it: the admin
// HTTP API and the editor's comms websocket. Used by the packed-install and demo tests.
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');

const ROOT = path.join(__dirname, '..', '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitFor(check, ms, what) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
}

/** An environment without npm's script variables or our own overrides, as a user's shell would have. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || /^FACEFUSION_MODELS_(DIR|MIRROR)$/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Starts `node <node-red>/red.js -u userDir -s settings -p port` and resolves once it listens.
 * `log` collects stdout+stderr; stop() ends it (SIGTERM, SIGKILL after 5 s).
 */
async function startNodeRed({ userDir, settings, port, env, script = require.resolve('node-red/red.js', { paths: [ROOT] }), args }) {
  const child = spawn(process.execPath, args || [script, '-u', userDir, '-s', settings, '-p', String(port)], {
    env: env || cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const red = { child, port, log: '' };
  child.stdout.on('data', (d) => (red.log += d));
  child.stderr.on('data', (d) => (red.log += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  red.stop = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  try {
    await waitFor(
      () => exited || /Server now running/.test(red.log),
      60000,
      () => `Node-RED to start:\n${red.log}`,
    );
    if (exited) throw new Error(`Node-RED exited:\n${red.log}`);
  } catch (err) {
    await red.stop();
    throw err;
  }
  return red;
}

/** Minimal settings for a user directory: localhost only, no projects, no telemetry. */
function writeSettings(file, extra = '') {
  fs.writeFileSync(
    file,
    `module.exports = {
  uiHost: '127.0.0.1',
  credentialSecret: 'facefusion-test',
  flowFile: 'flows.json',
  editorTheme: { projects: { enabled: false }, tours: false },
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  ${extra}
};
`,
  );
}

async function api(port, method, urlPath, body, headers = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method,
    headers: { Accept: 'application/json', 'Node-RED-API-Version': 'v2', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new Error(`${method} ${urlPath}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return json;
}

/** A full deploy of `flows` (POST /flows, v2). */
function deploy(port, flows) {
  return api(port, 'POST', '/flows', { flows }, { 'Node-RED-Deployment-Type': 'full' });
}

/**
 * The editor's websocket (/comms): every message the runtime publishes (debug, status/…,
 * facefusion/thumbnail/…) lands in `messages` as { topic, data }.
 */
function openComms(port) {
  const WebSocket = require(require.resolve('ws', { paths: [path.dirname(require.resolve('node-red/package.json', { paths: [ROOT] }))] }));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/comms`);
  const comms = { messages: [], close: () => ws.terminate() };
  ws.on('message', (data) => {
    try {
      const parsed = JSON.parse(String(data));
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) if (m && m.topic) comms.messages.push(m);
    } catch {
      // not JSON: ignore
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ subscribe: '#' }));
      resolve(comms);
    });
    ws.once('error', reject);
  });
}

module.exports = { ROOT, freePort, waitFor, cleanEnv, startNodeRed, writeSettings, api, deploy, openComms };
