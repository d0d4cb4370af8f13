'use strict';
// Real browser end to end: Node-RED with our package, the editor in Debian's Chromium
// driven by playwright-core, example 1 imported, deployed, triggered, and the swapped picture read back.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { pending } = require('./helpers/fixtures');
const { ROOT, post, getJson, waitFor, startNodeRed, chromiumMissing, launchChromium } = require('./helpers/node-red-server');
const ARTIFACTS = path.join(__dirname, 'artifacts');
const DOCS = path.join(ROOT, 'docs', 'images');

describe('editor in a real browser', function () {
  this.timeout(180000);
  let red, browser, port, outDir;

  before(async function () {
    const missing = chromiumMissing();
    if (missing) pending(this, missing);
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-e2e-out-'));
    red = await startNodeRed();
    port = red.port;
    browser = await launchChromium();
  });

  after(async function () {
    if (browser) await browser.close();
    if (red) await red.stop();
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('shows our nodes in the palette, imports example 1, deploys it and writes the swapped picture', async function () {
    const page = await browser.newPage({ viewport: { width: 1500, height: 800 } });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="face-swap"]', { timeout: 60000 });
    for (const type of ['face-token', 'face-detect', 'face-landmark', 'face-embed', 'face-swap', 'face-enhance', 'face-blur', 'face-debug', 'face-image', 'face-match']) {
      assert.strictEqual(await page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count(), 1, `${type} in the palette`);
    }

    // Import → Examples lists our flows (nodesDir loads the package as a module, examples/ included).
    const examples = (await getJson(port, '/library/examples/flows/node-red-contrib-facefusion')).map((e) => e.fn);
    for (const name of ['01-swap-face-in-picture', '02-blur-faces-privacy', '03-who-is-this', '04-debug-overlay']) assert.ok(examples.includes(name), `${name} in ${examples}`);

    const output = path.join(outDir, 'swapped.jpg');
    let text = fs.readFileSync(path.join(ROOT, 'examples', '01-swap-face-in-picture.json'), 'utf8');
    // Example 1 runs on the package's sample pictures as shipped; only its output file moves.
    text = text.split('/tmp/facefusion-swapped.jpg').join(output);
    const flow = JSON.parse(text);
    await page.evaluate((nodes) => window.RED.view.importNodes(nodes), flow);
    // Imported nodes follow the mouse until a click drops them: drop them at the top left of the canvas.
    const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
    await page.mouse.move(chart.x + 40, chart.y + 30);
    await page.mouse.click(chart.x + 40, chart.y + 30);
    await page.click('#red-ui-header-button-deploy');
    // The deploy button turns disabled once the flow is deployed.
    await page.waitForFunction(() => document.querySelector('#red-ui-header-button-deploy').classList.contains('disabled'), null, { timeout: 30000 });
    const inject = flow.find((n) => n.type === 'inject' && n.name === 'sample');
    await waitFor(async () => (await post(port, `/inject/${inject.id}`)) === 200, 30000, 'the deployed inject node');
    await waitFor(() => fs.existsSync(output) && fs.statSync(output).size > 1000, 60000, `the swapped picture at ${output}\n${red.log.slice(-2000)}`);
    const bytes = fs.readFileSync(output);
    assert.deepStrictEqual([...bytes.subarray(0, 2)], [0xff, 0xd8]);

    await page.evaluate(() => {
      window.RED.view.select({ nodes: [] });
      document.querySelectorAll('.red-ui-notification').forEach((n) => n.remove());
    });
    await page.waitForTimeout(1000); // statuses update over the websocket
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // Hide the sidebar so the whole flow fits, then shoot just the area the nodes and statuses cover.
    await page.evaluate(() => window.RED.menu.setSelected('menu-item-sidebar', false));
    await page.waitForTimeout(300);
    const area = await page.evaluate(() => {
      const boxes = [...document.querySelectorAll('#red-ui-workspace-chart .red-ui-flow-node, #red-ui-workspace-chart .red-ui-flow-node-status-group')]
        .map((el) => el.getBoundingClientRect())
        .filter((r) => r.width > 0);
      const x = Math.min(...boxes.map((r) => r.left)),
        y = Math.min(...boxes.map((r) => r.top));
      return { x: Math.max(0, x - 20), y: Math.max(0, y - 20), right: Math.max(...boxes.map((r) => r.right)) + 20, bottom: Math.max(...boxes.map((r) => r.bottom)) + 20 };
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'flow.png'), clip: { x: area.x, y: area.y, width: area.right - area.x, height: area.bottom - area.y } });
    fs.copyFileSync(output, path.join(ARTIFACTS, 'swap-output.jpg'));
    // `UPDATE_DOCS_IMAGES=1 npm test` refreshes the README's pictures from this run.
    if (process.env.UPDATE_DOCS_IMAGES === '1') {
      fs.mkdirSync(DOCS, { recursive: true });
      fs.copyFileSync(path.join(ARTIFACTS, 'flow.png'), path.join(DOCS, 'example-swap-flow.png'));
      await require('sharp')(bytes).resize({ width: 480 }).jpeg({ quality: 80 }).toFile(path.join(DOCS, 'example-swap-output.jpg'));
    }
    const statuses = await page.locator('.red-ui-flow-node-status-label').allTextContents();
    assert.ok(
      statuses.some((s) => /face.*ms/.test(s)),
      `stage statuses shown: ${statuses.join(' | ')}`,
    );
    assert.ok(
      statuses.some((s) => /^token \+ source/.test(s)),
      `face-token shows its own result, not a late "ready": ${statuses.join(' | ')}`,
    );
  });

  it('the face-swap dialog offers the swapper models with their licence (shared editor resource)', async function () {
    const page = await browser.newPage({ viewport: { width: 1500, height: 800 } });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="face-swap"]', { timeout: 60000 });
    // The deployed flow of the first test is in the workspace: open its face-swap node.
    await page.waitForFunction(
      () => {
        let found = false;
        window.RED.nodes.eachNode((n) => {
          if (n.type === 'face-swap') found = true;
        });
        return found;
      },
      null,
      { timeout: 30000 },
    );
    await page.evaluate(() => {
      let swap;
      window.RED.nodes.eachNode((n) => {
        if (n.type === 'face-swap') swap = n;
      });
      window.RED.editor.edit(swap);
    });
    await page.waitForSelector('#node-input-model-models option', { state: 'attached', timeout: 30000 });
    const options = await page.locator('#node-input-model-models option').evaluateAll((os) => os.map((o) => o.value + ' ' + o.textContent));
    assert.ok(
      options.some((o) => /^inswapper_128 .*licence non-commercial/i.test(o)),
      `swapper models listed: ${options.join(' | ')}`,
    );
    assert.ok(!options.some((o) => /^fr_detect /.test(o)), 'only models of the swapper role');
    assert.match(await page.locator('.ff-model-info').first().textContent(), /embedded landmark swap/);
    await page.fill('#node-input-model', 'inswapper_128');
    await page.dispatchEvent('#node-input-model', 'change');
    assert.match(await page.locator('.ff-model-info').first().textContent(), /not downloaded.*Non-Commercial.*not a permissive licence/);
    await page.click('#node-dialog-cancel');
  });
});
