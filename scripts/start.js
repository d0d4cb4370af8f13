#!/usr/bin/env node
// `npm start`: fetch the default models if missing, then run Node-RED 4 on localhost with a
// user directory inside the repository (.node-red/, git-ignored) and this package loaded. On the
// first start (no flows file yet) the editor opens on a demo tab that runs with no edit.
'use strict';
const path = require('path');
const fs = require('fs');
const { spawn } = require('child_process');
const { seedFlows } = require('./demo-flows');

const root = path.join(__dirname, '..');
const userDir = process.env.NODE_RED_USER_DIR || path.join(root, '.node-red');
const port = Number(process.env.PORT || 1880);
const host = process.env.HOST || '127.0.0.1';

async function main() {
  const { ModelCache } = require(path.join(root, 'dist', 'runtime', 'internal'));
  const cache = new ModelCache();
  process.stdout.write(`face models: ${cache.dir} … `);
  await cache.ensureDefaults();
  console.log('ready');

  fs.mkdirSync(userDir, { recursive: true });
  if (seedFlows(userDir)) console.log(`first start: a demo tab was written to ${path.join(userDir, 'flows.json')}`);
  const red = require.resolve('node-red/red.js', { paths: [root] });
  const child = spawn(process.execPath, [red, '-u', userDir, '-s', path.join(__dirname, 'node-red-settings.js'), '-p', String(port)], {
    stdio: ['inherit', 'pipe', 'inherit'],
    env: { ...process.env, HOST: host, PORT: String(port) },
  });
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (/Server now running/.test(String(chunk))) {
      console.log(`\n  Node-RED with node-red-contrib-facefusion: http://${host}:${port}/`);
      console.log('  Example flows: menu → Import → Examples → node-red-contrib-facefusion\n');
    }
  });
  const stop = (signal) => child.kill(signal);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => process.exit(code ?? 0));
}

main().catch((err) => {
  console.error(`npm start failed: ${err.message}`);
  process.exit(1);
});
