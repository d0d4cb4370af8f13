'use strict';
// Drives the dashboard example's page (examples/09-dashboard-camera-privacy.json) in Chromium as
// a user does: open /dashboard/privacy, press "start", see blurred frames arrive with the face
// count, press "stop". Shared by the browser test and the packed-install test.
const assert = require('assert');
const { waitFor } = require('./node-red-server');

/** The page's state: the picture's source, the text widgets' values. */
function readPage(page) {
  return page.evaluate(() => ({
    src: (document.querySelector('img.ff-camera') || {}).src || '',
    texts: [...document.querySelectorAll('.nrdb-ui-text')].map((e) => e.textContent.replace(/\s+/g, ' ').trim()),
  }));
}

/** Runs the dashboard at http://127.0.0.1:<port>/dashboard/privacy; `log()` gives Node-RED's log for messages. */
async function exerciseDashboard(browser, port, log = () => '') {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    const url = `http://127.0.0.1:${port}/dashboard/privacy`;
    await waitFor(async () => (await fetch(url).catch(() => ({ status: 0 }))).status === 200, 30000, 'the dashboard page');
    await page.goto(url);
    const start = page.locator('button', { hasText: 'start' });
    await start.waitFor({ timeout: 60000 });
    await start.click();
    // Frames arrive: the picture changes several times, each a JPEG data URL.
    const seen = new Set();
    await waitFor(
      async () => {
        const { src } = await readPage(page);
        if (src.startsWith('data:image/jpeg;base64,')) seen.add(`${src.length}:${src.slice(-64)}`);
        return seen.size >= 3;
      },
      90000,
      `blurred frames on the page:\n${log()}`,
    );
    const state = await readPage(page);
    assert.match(state.texts.find((t) => /faces in view/.test(t)) || '', /faces in view\s*[1-9]\d*\b/, JSON.stringify(state.texts));
    assert.match(state.texts.find((t) => /frames shown/.test(t)) || '', /frames shown\s*\d+/, JSON.stringify(state.texts));
    const box = await page.locator('img.ff-camera').boundingBox();
    assert.ok(box && box.width > 200 && box.height > 100, `the picture is drawn: ${JSON.stringify(box)}`);
    await page.locator('button', { hasText: 'stop' }).click();
    await waitFor(async () => (await readPage(page)).texts.some((t) => /camera\s*ended/.test(t)), 30000, 'the camera to end');
    return { frames: seen.size };
  } finally {
    await page.close();
  }
}

module.exports = { exerciseDashboard, readPage };
