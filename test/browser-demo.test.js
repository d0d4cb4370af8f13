'use strict';
// First run as a newcomer does it: `npm start` on a fresh user directory opens an
// editor whose first tab is a demo; pressing its "sample" button shows the swapped picture as a
// thumbnail under the face image node, with no edit. Driven in Debian's Chromium; the screenshot
// is the README's (refreshed with UPDATE_DOCS_IMAGES=1).
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pending } = require('./helpers/fixtures');
const { ROOT, freePort, waitFor, cleanEnv, startNodeRed } = require('./helpers/node-red-process');
const { seedFlows, buildDemoFlows, TAB, CONFIG } = require('../scripts/demo-flows');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, 'artifacts');
const DOCS = path.join(ROOT, 'docs', 'images');

describe('npm start on a fresh clone: the demo tab', function () {
  this.timeout(180000);
  let tmp;
  beforeEach(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-demo-'));
  });
  afterEach(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is written on first start only: an existing flows file is never touched', function () {
    assert.strictEqual(seedFlows(tmp), true);
    const seeded = JSON.parse(fs.readFileSync(path.join(tmp, 'flows.json'), 'utf8'));
    assert.strictEqual(seeded[0].id, TAB);
    fs.writeFileSync(path.join(tmp, 'flows.json'), '[]');
    assert.strictEqual(seedFlows(tmp), false);
    assert.strictEqual(fs.readFileSync(path.join(tmp, 'flows.json'), 'utf8'), '[]', "the user's flows stay");
  });

  it('has ids of its own, except the one face runtime every example shares with it', function () {
    const demo = buildDemoFlows();
    const exampleIds = new Set();
    for (const f of fs.readdirSync(path.join(ROOT, 'examples'))) for (const n of JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'))) exampleIds.add(n.id);
    for (const n of demo) if (n.id !== CONFIG) assert.ok(!exampleIds.has(n.id), `demo id ${n.id} is also an example id`);
    assert.deepStrictEqual(
      demo.filter((n) => n.type === 'facefusion-config').map((n) => n.id),
      [CONFIG],
    );
    assert.ok(exampleIds.has(CONFIG), "the examples use the demo's runtime");
    const ids = new Set(demo.map((n) => n.id));
    for (const n of demo) for (const out of n.wires || []) for (const t of out) assert.ok(ids.has(t), `${n.id} → ${t}`);
  });

  it('opens on the demo; its "sample" button shows the swapped picture under "face image" (Chromium)', async function () {
    if (!fs.existsSync(CHROMIUM)) pending(this, `no Chromium at ${CHROMIUM} (apt-get install chromium; CI installs it)`);
    const port = await freePort();
    const userDir = path.join(tmp, 'node-red');
    // scripts/start.js is what `npm start` runs after the build.
    const red = await startNodeRed({ port, args: [path.join(ROOT, 'scripts', 'start.js')], env: cleanEnv({ NODE_RED_USER_DIR: userDir, PORT: String(port), HOST: '127.0.0.1' }) });
    const { chromium } = require('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync'] });
    try {
      assert.match(red.log, /first start: a demo tab was written/);
      const page = await browser.newPage({ viewport: { width: 1300, height: 1250 } });
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction((tab) => window.RED && window.RED.workspaces && window.RED.workspaces.active() === tab, TAB, { timeout: 60000 });
      const demo = buildDemoFlows();
      // Press both "sample" buttons (swap, then blur) as a user does; each result shows under its face image node.
      const samples = demo.filter((n) => n.type === 'inject' && n.name === 'sample');
      const images = demo.filter((n) => n.type === 'face-image');
      assert.strictEqual(samples.length, 2);
      for (const sample of samples) {
        await page.waitForSelector(`[id="${sample.id}"] .red-ui-flow-node-button`, { timeout: 30000 });
        await page.click(`[id="${sample.id}"] .red-ui-flow-node-button`);
      }
      const shown = (id) => page.evaluate((id) => !!document.querySelector(`[id="ff-thumb-${id}"] image`), id);
      for (const image of images) {
        // A user who sees nothing after a while presses the button again (a press before the
        // editor's comms connected, on a loaded machine, shows nothing): at most once more.
        const seen = await waitFor(() => shown(image.id), 30000, '').then(
          () => true,
          () => false,
        );
        if (!seen) for (const sample of samples) await page.click(`[id="${sample.id}"] .red-ui-flow-node-button`);
        await waitFor(
          () => shown(image.id),
          60000,
          () => `the thumbnail under face image ${image.id}:\n${red.log.slice(-2000)}`,
        );
        const box = await page.locator(`[id="ff-thumb-${image.id}"] image`).boundingBox();
        assert.ok(box.width >= 100 && box.height >= 100, `thumbnail drawn ${box.width}×${box.height}`);
      }
      assert.ok(!/\[error\]/.test(red.log), red.log);
      await page.evaluate(() => {
        window.RED.view.select({ nodes: [] });
        document.querySelectorAll('.red-ui-notification').forEach((n) => n.remove());
        window.RED.menu.setSelected('menu-item-sidebar', false);
      });
      await page.waitForTimeout(800);
      const area = await page.evaluate(() => {
        const boxes = [...document.querySelectorAll('#red-ui-workspace-chart .red-ui-flow-node, #red-ui-workspace-chart .red-ui-flow-node-status-group, #red-ui-workspace-chart .ff-thumbnail')]
          .map((el) => el.getBoundingClientRect())
          .filter((r) => r.width > 0);
        const x = Math.min(...boxes.map((r) => r.left)),
          y = Math.min(...boxes.map((r) => r.top));
        return { x: Math.max(0, x - 16), y: Math.max(0, y - 16), right: Math.max(...boxes.map((r) => r.right)) + 16, bottom: Math.max(...boxes.map((r) => r.bottom)) + 16 };
      });
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const shot = path.join(ARTIFACTS, 'demo-thumbnail.png');
      await page.screenshot({ path: shot, clip: { x: area.x, y: area.y, width: area.right - area.x, height: area.bottom - area.y } });
      if (process.env.UPDATE_DOCS_IMAGES === '1') {
        fs.mkdirSync(DOCS, { recursive: true });
        fs.copyFileSync(shot, path.join(DOCS, 'demo-thumbnail.png'));
      }
    } finally {
      await browser.close();
      await red.stop();
    }
  });
});
