'use strict';
// A real Node-RED with this package (nodesDir, scripts/node-red-settings.js) on a free 127.0.0.1
// port, and Debian's Chromium driven by playwright-core: shared by the browser tests.
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');

const ROOT = path.join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

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

function post(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function getJson(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { Accept: 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(new Error(`${urlPath}: ${body.slice(0, 200)}`));
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
  });
}

async function waitFor(check, ms, what) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/**
 * Starts Node-RED in a fresh user directory (with `flows` as its flows file when given);
 * `stop()` ends it and removes the directory.
 */
async function startNodeRed({ flows } = {}) {
  const port = await freePort();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-red-'));
  if (flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '-u', userDir, '-s', path.join(ROOT, 'scripts', 'node-red-settings.js'), '-p', String(port)], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = {
    port,
    userDir,
    log: '',
    async stop() {
      if (red.exitCode === null && red.signalCode === null) {
        red.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            red.kill('SIGKILL');
            r();
          }, 5000);
          red.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
  red.stdout.on('data', (d) => (server.log += d));
  red.stderr.on('data', (d) => (server.log += d));
  try {
    await waitFor(() => /Server now running/.test(server.log), 60000, 'Node-RED to start');
  } catch (err) {
    await server.stop();
    throw new Error(`${err.message}:\n${server.log}`);
  }
  return server;
}

function chromiumMissing() {
  return fs.existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium; CI installs it)`;
}

function launchChromium() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Opens the editor and waits until the palette shows our nodes. */
async function openEditor(browser, port) {
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="face-swap"]', { timeout: 60000 });
  return page;
}

module.exports = { ROOT, CHROMIUM, freePort, post, getJson, waitFor, startNodeRed, chromiumMissing, launchChromium, openEditor };
