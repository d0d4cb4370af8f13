'use strict';
// Small helpers shared by the bench scripts: timing summaries and the results file.
const fs = require('fs');
const os = require('os');
const path = require('path');

function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return { min: round(s[0]), median: round(s[Math.floor(s.length / 2)]), max: round(s[s.length - 1]), n: s.length };
}
const round = (v) => Math.round(v * 10) / 10;

function machine() {
  return `${os.cpus().length} × ${os.cpus()[0].model}, node ${process.version}, onnxruntime-node ${require('onnxruntime-node/package.json').version}`;
}

/** Merges one section into bench/results.json so each script can be run alone. */
function saveResults(section, data) {
  const file = path.join(__dirname, 'results.json');
  let all = {};
  try {
    all = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    /* first run */
  }
  all[section] = { ...data, at: new Date().toISOString(), machine: machine(), loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100) };
  fs.writeFileSync(file, JSON.stringify(all, null, 2));
}

const MEDIA = path.join(__dirname, '..', 'test', 'fixtures', 'media');

module.exports = { summary, machine, saveResults, MEDIA };
