'use strict';
// Import → Examples as a user does it, in Debian's Chromium against a real Node-RED
// that starts with the `npm start` demo: every example is imported into the same editor through
// the Import dialog's Examples tab; when Node-RED says nodes already exist (the shared face
// runtime) the user picks "View nodes…" and imports what it proposes. Afterwards no node is
// invalid, no type is unknown, and one face runtime serves them all; a deploy warns of nothing
// not configured and logs the models folder once. A flow saved by 0.1.0 is migrated as it loads.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { pending } = require('./helpers/fixtures');
const { ROOT, startNodeRed, chromiumMissing, launchChromium, openEditor, waitFor } = require('./helpers/node-red-server');
const { buildDemoFlows } = require('../scripts/demo-flows');
const M = require('../resources/node-migrations.js');

const MODULE = require('../package.json').name;
const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .sort();

/** Imports one example the way menu → Import → Examples → <file> → Import does; resolves with what happened. */
async function importExample(page, file) {
  const name = file.replace(/\.json$/, '');
  await page.evaluate(() => window.RED.actions.invoke('core:show-examples-import-dialog'));
  const dialog = page.locator('.red-ui-clipboard-dialog-box');
  await dialog.waitFor({ state: 'visible', timeout: 10000 });
  const moduleRow = dialog.locator('.red-ui-treeList-label', { hasText: MODULE }).first();
  await moduleRow.waitFor({ timeout: 10000 });
  const fileRow = dialog.locator('.red-ui-treeList-label', { hasText: new RegExp(`^\\s*${name}\\s*$`) }).first();
  // The module's rows load when it is opened; on a loaded machine a click may land before the
  // tree is ready (and leave it closed): open it again, a few times at most.
  for (let attempt = 0; attempt < 3 && !(await fileRow.isVisible().catch(() => false)); attempt++) {
    await moduleRow.click();
    await fileRow.waitFor({ state: 'visible', timeout: 10000 }).catch(() => undefined);
  }
  await fileRow.waitFor({ state: 'visible', timeout: 10000 });
  await fileRow.click();
  await page.locator('#red-ui-clipboard-dialog-ok').click();
  // Either it imports at once, or Node-RED asks about nodes that already exist.
  const viewNodes = page.locator('.red-ui-notification button', { hasText: /View nodes/ });
  const conflict = await viewNodes.waitFor({ state: 'visible', timeout: 4000 }).then(
    () => true,
    () => false,
  );
  let skipped = [];
  if (conflict) {
    await viewNodes.click();
    const importSelected = page.locator('#red-ui-clipboard-dialog-import-conflict');
    await importSelected.waitFor({ state: 'visible', timeout: 10000 });
    skipped = await page.$$eval('#red-ui-clipboard-dialog-import-conflicts-list input[type="checkbox"][data-node-id]', (boxes) =>
      boxes.filter((b) => !b.checked).map((b) => b.getAttribute('data-node-id')),
    );
    await importSelected.click();
    await page.locator('.red-ui-clipboard-dialog-box').waitFor({ state: 'hidden', timeout: 10000 });
  }
  // The imported nodes follow the pointer until the user clicks where they go.
  await page.mouse.move(700, 600);
  await page.mouse.move(720, 620);
  await page.mouse.click(720, 620);
  return { conflict, skipped: conflict ? skipped : [] };
}

describe('Import → Examples in a real browser: every example into one workspace', function () {
  this.timeout(300000);
  let red, browser, page;

  before(async function () {
    const missing = chromiumMissing();
    if (missing) pending(this, missing);
    red = await startNodeRed({ flows: buildDemoFlows() });
    browser = await launchChromium();
    page = await openEditor(browser, red.port);
    await page.waitForFunction(() => window.RED.nodes.getType('ui-template'), null, { timeout: 30000 }).catch(() => undefined);
  });

  after(async function () {
    if (browser) await browser.close();
    if (red) await red.stop();
  });

  it("imports every example: 0 invalid nodes, no unknown type, one face runtime (the demo's) for all", async function () {
    const dashboard = await page.evaluate(() => !!window.RED.nodes.getType('ui-template'));
    const results = {};
    for (const file of EXAMPLES) {
      if (!dashboard && /dashboard/.test(file)) continue;
      results[file] = await importExample(page, file);
    }
    const state = await page.evaluate(() => {
      const out = { invalid: [], unknown: [], runtimes: [], nodes: 0 };
      const check = (n) => {
        if (!window.RED.nodes.getType(n.type)) out.unknown.push(`${n.type} ${n.id}`);
        if (n.valid === false) out.invalid.push(`${n.type} ${n.id} ${JSON.stringify(n.validationErrors || [])}`);
        if (n.type === 'facefusion-config') out.runtimes.push({ id: n.id, name: n.name, users: n.users.length });
      };
      window.RED.nodes.eachNode((n) => {
        out.nodes++;
        check(n);
      });
      window.RED.nodes.eachConfig(check);
      return out;
    });
    assert.ok(state.nodes > 100, `${state.nodes} nodes imported`);
    assert.deepStrictEqual(state.invalid, [], 'no invalid node (red triangle)');
    assert.deepStrictEqual(state.unknown, [], 'no unknown node type');
    const demoRuntime = buildDemoFlows().find((n) => n.type === 'facefusion-config').id;
    assert.ok(state.runtimes.length <= 2, `at most one face runtime beside the demo's: ${JSON.stringify(state.runtimes)}`);
    assert.deepStrictEqual(
      state.runtimes.map((r) => r.id),
      [demoRuntime],
      "the examples use the demo's runtime",
    );
    // Node-RED asked about the runtime every time (it exists from the demo) and kept it.
    for (const [file, r] of Object.entries(results)) {
      if (JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8')).some((n) => n.type === 'facefusion-config')) {
        assert.ok(r.conflict && r.skipped.includes(demoRuntime), `${file}: ${JSON.stringify(r)}`);
      }
    }
    if (!dashboard) pending(this, 'the dashboard example was left out: @flowfuse/node-red-dashboard is not installed');
  });

  it('deploys them all: nothing "not properly configured", one runtime logs its models folder', async function () {
    const from = red.log.length;
    await page.evaluate(() => document.querySelectorAll('.red-ui-notification').forEach((n) => n.remove()));
    assert.ok(await page.evaluate(() => window.RED.nodes.dirty()), 'the imports are waiting to be deployed');
    await page.click('#red-ui-header-button-deploy');
    await page.waitForTimeout(1500);
    const confirm = await page.evaluate(() => {
      const d = document.querySelector('.ui-dialog:not([style*="display: none"]) .ui-dialog-content');
      return d ? d.textContent.replace(/\s+/g, ' ').trim() : '';
    });
    await waitFor(() => /Started flows/.test(red.log.slice(from)), 60000, `the deploy (dialog: ${confirm}):\n${red.log.slice(from)}`);
    await new Promise((r) => setTimeout(r, 1000));
    const log = red.log.slice(from);
    assert.ok(!/not properly configured/.test(log), log);
    assert.strictEqual((log.match(/face models folder/g) || []).length, 1, log);
  });

  it('a flow saved by 0.1.0 is migrated as the editor loads it: the renamed option keeps its value, and a deploy saves the new form', async function () {
    const saved = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'flows', 'saved-by-0.1.0.json'), 'utf8'));
    const server = await startNodeRed({ flows: saved });
    const editor = await openEditor(browser, server.port);
    try {
      const nodes = await editor.evaluate(() => {
        const out = {};
        window.RED.nodes.eachNode((n) => {
          if (n.type === 'face-image' || n.type === 'face-pack') out[n.type] = { release: n.release, releaseFrames: n.releaseFrames, configVersion: n.configVersion, changed: !!n.changed };
        });
        return out;
      });
      for (const type of ['face-image', 'face-pack']) {
        assert.deepStrictEqual(nodes[type], { release: undefined, releaseFrames: false, configVersion: M.currentVersion(type), changed: true }, type);
      }
      await editor.locator('.red-ui-notification', { hasText: /saved by an older version/ }).waitFor({ timeout: 10000 });
      assert.ok(await editor.evaluate(() => window.RED.nodes.dirty()), 'the flow is marked changed');
      // The dialog shows the saved value under the new name.
      await editor.evaluate(() => {
        let n;
        window.RED.nodes.eachNode((x) => {
          if (x.type === 'face-image') n = x;
        });
        window.RED.editor.edit(n);
      });
      await editor.waitForSelector('#node-input-releaseFrames', { timeout: 10000 });
      assert.strictEqual(await editor.$eval('#node-input-releaseFrames', (el) => el.checked), false);
      await editor.click('#node-dialog-cancel');
      await editor.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
      await editor.click('#red-ui-header-button-deploy');
      await waitFor(() => !/"release"/.test(fs.readFileSync(path.join(server.userDir, 'flows.json'), 'utf8')), 30000, 'the flows file in the new form');
      const written = JSON.parse(fs.readFileSync(path.join(server.userDir, 'flows.json'), 'utf8'));
      for (const n of written.filter((x) => x.type === 'face-image' || x.type === 'face-pack')) {
        assert.strictEqual(n.releaseFrames, false);
        assert.strictEqual(n.configVersion, M.currentVersion(n.type));
      }
    } finally {
      await editor.close();
      await server.stop();
    }
  });
});
