'use strict';
// Node-RED's resident memory after deploying every example at once: as shipped, with
// the one shared face runtime, and as before, with a runtime per example (each its own config
// node). Prints the runtimes, the "face models folder" log lines and the RSS 20 s after deploy.
// Usage: npm run build && node bench/examples-memory.js
const fs = require('fs');
const path = require('path');
const { execSync } = require('child_process');
const ROOT = path.join(__dirname, '..');
const { startNodeRed } = require(path.join(ROOT, 'test', 'helpers', 'node-red-server'));
const { deploy } = require(path.join(ROOT, 'test', 'helpers', 'node-red-process'));
const { CONFIG } = require(path.join(ROOT, 'scripts', 'demo-flows'));

/** Every example on a tab of its own; `separate` gives each example its own face runtime. */
function flows(separate) {
  const out = [];
  const seen = new Set();
  for (const f of fs
    .readdirSync(path.join(ROOT, 'examples'))
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    const tab = { id: `tab-${f.slice(0, 2)}`, type: 'tab', label: f };
    out.push(tab);
    const own = `cfg-${f.slice(0, 2)}`;
    for (const n of JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'))) {
      const c = { ...n };
      if (separate && c.id === CONFIG) c.id = own;
      if (separate && c.config === CONFIG) c.config = own;
      if (c.x === undefined) {
        if (!seen.has(c.id)) out.push(c);
        seen.add(c.id);
      } else out.push({ ...c, z: tab.id });
    }
  }
  return out;
}

(async () => {
  for (const separate of [false, true]) {
    const red = await startNodeRed();
    try {
      const nodes = flows(separate);
      await deploy(red.port, nodes);
      await new Promise((r) => setTimeout(r, 20000));
      const pid = execSync(`ss -ltnp 'sport = :${red.port}'`)
        .toString()
        .match(/pid=(\d+)/)[1];
      const rss = Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
      console.log(
        `${separate ? 'a runtime per example' : 'one shared runtime  '}: runtimes ${nodes.filter((n) => n.type === 'facefusion-config').length}, "face models folder" logged ${(red.log.match(/face models folder/g) || []).length}×, RSS ${(rss / 1024).toFixed(0)} MB`,
      );
    } finally {
      await red.stop();
    }
  }
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
