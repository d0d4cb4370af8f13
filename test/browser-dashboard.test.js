'use strict';
// The dashboard example: FlowFuse Dashboard 2.0 (@flowfuse/node-red-dashboard, a dev
// dependency here, as a user installs it from the palette) shows the camera with its faces
// blurred, the counts, and a stop button. Deployed as shipped into a real Node-RED, its page is
// opened in Debian's Chromium: pressing "start" makes blurred frames arrive, "stop" ends them.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { pending } = require('./helpers/fixtures');
const { ROOT, startNodeRed, chromiumMissing, launchChromium } = require('./helpers/node-red-server');
const { deploy } = require('./helpers/node-red-process');
const { exerciseDashboard } = require('./helpers/dashboard');

const FILE = path.join(ROOT, 'examples', '09-dashboard-camera-privacy.json');

describe('dashboard example in a real browser (FlowFuse Dashboard 2.0)', function () {
  this.timeout(180000);
  let red, browser;

  before(async function () {
    const missing = chromiumMissing();
    if (missing) pending(this, missing);
    try {
      require.resolve('@flowfuse/node-red-dashboard/package.json', { paths: [ROOT] });
    } catch {
      pending(this, '@flowfuse/node-red-dashboard is not installed (npm ci installs it as a dev dependency)');
    }
    red = await startNodeRed();
    browser = await launchChromium();
  });

  after(async function () {
    if (browser) await browser.close();
    if (red) await red.stop();
  });

  it('opens /dashboard/privacy; "start" shows blurred frames arriving with the face count, "stop" ends them', async function () {
    const nodes = JSON.parse(fs.readFileSync(FILE, 'utf8'));
    const tab = { id: 'ff09tab000000001', type: 'tab', label: 'dashboard' };
    const from = red.log.length;
    await deploy(red.port, [tab, ...nodes.map((n) => (n.x !== undefined ? { ...n, z: tab.id } : n))]);
    await exerciseDashboard(browser, red.port, () => red.log.slice(from));
    assert.ok(!/\[error\]/.test(red.log.slice(from)), red.log.slice(from));
  });
});
