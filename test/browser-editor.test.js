'use strict';
// The editor tells the truth, checked in Debian's Chromium against a real Node-RED:
// every node's help renders its Inputs/Outputs as Node-RED's property lists, every dialog shows
// the defaults the runtime uses (one table, resources/node-defaults.js, also for fields a saved
// flow lacks), no option text is cut off, and a non-permissive model is fetched only after the
// user accepted its licence, with a failure's reason shown in the dialog.
const assert = require('assert');
const path = require('path');

const { pending } = require('./helpers/fixtures');
const { ROOT, getJson, startNodeRed, chromiumMissing, launchChromium, openEditor } = require('./helpers/node-red-server');

const TYPES = Object.keys(require(path.join(ROOT, 'package.json'))['node-red'].nodes);
const TABLE = require(path.join(ROOT, 'resources', 'node-defaults.js'));
const MIGRATIONS = require(path.join(ROOT, 'resources', 'node-migrations.js'));
/** Config node types (opened with editConfig, not placed on the workspace). */
const CONFIG_TYPES = ['facefusion-config', 'facefusion-queue', 'face-library'];
const CONFIG_IDS = { 'facefusion-config': 'ffcfg00000000001', 'facefusion-queue': 'ffque00000000001', 'face-library': 'fflib00000000001' };
const { nodeDefaults } = require(path.join(ROOT, 'dist', 'nodes', 'lib', 'node-defaults.js'));

describe('editor dialogs and help in a real browser', function () {
  this.timeout(120000);
  let red, browser, page;

  before(async function () {
    const missing = chromiumMissing();
    if (missing) pending(this, missing);
    red = await startNodeRed();
    browser = await launchChromium();
    page = await openEditor(browser, red.port);
    // One node of every type, saved with nothing but its id, type and runtime: as a flow saved
    // before any of the newer fields existed.
    await page.evaluate(
      ({ types, ids }) => {
        const z = window.RED.workspaces.active();
        const nodes = Object.entries(ids).map(([type, id]) => ({ id, type }));
        types
          .filter((t) => !ids[t])
          .forEach((type, i) => {
            nodes.push({
              id: `ffnode${String(i).padStart(10, '0')}`,
              type,
              z,
              config: ids['facefusion-config'],
              library: ids['face-library'],
              x: 150 + 200 * (i % 4),
              y: 60 + 60 * Math.floor(i / 4),
              wires: [],
            });
          });
        window.RED.nodes.import(nodes);
        window.RED.view.redraw(true);
      },
      { types: TYPES, ids: CONFIG_IDS },
    );
  });

  after(async function () {
    if (browser) await browser.close();
    if (red) await red.stop();
  });

  async function closeDialog() {
    await page.click('#node-dialog-cancel, #node-config-dialog-cancel');
    await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
  }

  async function openDialog(type) {
    await page.evaluate(
      ({ t, ids }) => {
        if (ids[t]) {
          window.RED.editor.editConfig('', t, ids[t]);
          return;
        }
        let node;
        window.RED.nodes.eachNode((n) => {
          if (n.type === t) node = n;
        });
        window.RED.editor.edit(node);
      },
      { t: type, ids: CONFIG_IDS },
    );
    await page.waitForSelector(CONFIG_TYPES.includes(type) ? '#node-config-dialog-edit-form' : '#dialog-form', { timeout: 10000 });
    await page.waitForTimeout(300); // the tray slides in; widths settle
  }

  it('every node type has its messages and help in locales/en-US, and its palette label comes from them', async function () {
    const fs = require('fs');
    const problems = [];
    for (const type of TYPES) {
      for (const ext of ['json', 'html']) {
        const file = path.join(ROOT, 'src', 'nodes', 'locales', 'en-US', `${type}.${ext}`);
        if (!fs.existsSync(file)) problems.push(`missing src/nodes/locales/en-US/${type}.${ext}`);
        if (!fs.existsSync(path.join(ROOT, 'dist', 'nodes', 'locales', 'en-US', `${type}.${ext}`))) problems.push(`not built: dist/nodes/locales/en-US/${type}.${ext}`);
      }
      const html = fs.readFileSync(path.join(ROOT, 'src', 'nodes', `${type}.html`), 'utf8');
      if (/data-help-name=/.test(html)) problems.push(`${type}.html still holds its help (it belongs in locales/en-US/${type}.html)`);
      const messages = JSON.parse(fs.readFileSync(path.join(ROOT, 'src', 'nodes', 'locales', 'en-US', `${type}.json`), 'utf8'))[type];
      if (!messages) problems.push(`${type}.json has no "${type}" section`);
    }
    const labels = await page.evaluate(
      ([types, configTypes]) =>
        types
          .filter((t) => !configTypes.includes(t))
          .map((t) => {
            const def = window.RED.nodes.getType(t);
            return [t, typeof def.paletteLabel === 'function' ? def.paletteLabel.call(def) : def.paletteLabel];
          }),
      [TYPES, CONFIG_TYPES],
    );
    for (const [type, label] of labels) if (!label || /\./.test(label)) problems.push(`${type}: palette label ${JSON.stringify(label)}`);
    assert.deepStrictEqual(problems, []);
  });

  it("every node's help renders its Inputs and Outputs as property lists", async function () {
    const problems = [];
    for (const type of TYPES) {
      const result = await page.evaluate((t) => {
        const source = $(`script[data-help-name="${t}"]`).html() || '';
        window.RED.sidebar.help.show(t);
        const help = document.querySelector('.red-ui-sidebar-help-stack .red-ui-help');
        const properties = source.split('\n').filter((line) => /^: /.test(line)).length;
        const dts = [...help.querySelectorAll('dl.message-properties > dt')];
        const stray = [...help.querySelectorAll('p, li')].map((e) => e.textContent.trim()).filter((text) => /^:\s|\w\(\w+\)\s*:/.test(text));
        return {
          properties,
          dts: dts.length,
          typed: dts.filter((dt) => dt.querySelector('.property-type')).length,
          names: dts.map((dt) => dt.firstChild && dt.firstChild.textContent.trim()),
          stray,
          unexpanded: /ff:[a-z-]+/.test(help.innerHTML) || /ff:[a-z-]+/.test(source),
          text: help.textContent.length,
        };
      }, type);
      if (result.text < 100) problems.push(`${type}: no help shown`);
      if (result.dts !== result.properties) problems.push(`${type}: ${result.properties} properties in the help source but ${result.dts} rendered as a list (${result.names.join(', ')})`);
      if (result.typed !== result.dts) problems.push(`${type}: ${result.dts - result.typed} properties without their type`);
      if (result.names.some((n) => !/^[a-zA-Z][a-zA-Z0-9_]*$/.test(n || ''))) problems.push(`${type}: garbled property names ${JSON.stringify(result.names)}`);
      if (result.stray.length) problems.push(`${type}: property lines rendered as text: ${result.stray.join(' | ')}`);
      if (result.unexpanded) problems.push(`${type}: a shared help paragraph was not expanded`);
    }
    assert.deepStrictEqual(problems, []);
  });

  it("every dialog shows the runtime's defaults (one table) for a node saved without them, and no option is cut off", async function () {
    const problems = [];
    for (const type of TYPES) {
      // One source: the editor's `defaults`, the table file and the runtime's reading of it.
      const all = await page.evaluate((t) => {
        const defaults = window.RED.nodes.getType(t).defaults;
        return Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, v.value]));
      }, type);
      // Besides the table: the config version new nodes are saved with, and the fields older
      // versions saved (kept until the migration on load moved them; resources/node-migrations.js).
      assert.strictEqual(all[MIGRATIONS.FIELD], MIGRATIONS.currentVersion(type), `${type}: new nodes get the current config version`);
      const editorDefaults = Object.fromEntries(Object.entries(all).filter(([k]) => k !== MIGRATIONS.FIELD && !MIGRATIONS.legacyFields(type).includes(k)));
      const outside = Object.keys(editorDefaults).filter((k) => !(k in TABLE[type]));
      assert.deepStrictEqual(outside, [], `${type}: editor defaults missing from resources/node-defaults.js (add them there, the runtime reads it too)`);
      assert.deepStrictEqual(editorDefaults, TABLE[type], `${type}: the editor's defaults are the table's`);
      assert.deepStrictEqual({ ...nodeDefaults(type) }, TABLE[type], `${type}: the runtime's defaults are the table's`);

      await openDialog(type);
      const prefix = CONFIG_TYPES.includes(type) ? 'node-config-input' : 'node-input';
      const shown = await page.evaluate(
        ({ keys, prefix: p }) => {
          const out = {};
          for (const key of keys) {
            const el = document.getElementById(`${p}-${key}`);
            out[key] = !el ? { missing: true } : el.type === 'checkbox' ? el.checked : el.value;
          }
          return out;
        },
        { keys: Object.keys(TABLE[type]).filter((k) => k !== 'config' && k !== 'queue' && k !== 'library'), prefix },
      );
      for (const [key, value] of Object.entries(shown)) {
        const expected = TABLE[type][key];
        if (value && value.missing) problems.push(`${type}.${key}: a default without a dialog row`);
        else if (typeof expected === 'boolean' ? value !== expected : value !== String(expected))
          problems.push(`${type}.${key}: dialog shows ${JSON.stringify(value)}, the runtime uses ${JSON.stringify(expected)}`);
      }
      const cut = await page.evaluate(() => {
        const ctx = document.createElement('canvas').getContext('2d');
        const out = [];
        for (const select of document.querySelectorAll('#dialog-form select, #node-config-dialog-edit-form select')) {
          if (select.id === 'node-input-config' || select.id === 'node-input-queue' || select.id === 'node-input-library' || !select.offsetParent) continue;
          const style = getComputedStyle(select);
          ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 18; // the arrow
          for (const option of select.options) {
            const width = ctx.measureText(option.textContent).width;
            if (width > room) out.push(`#${select.id} "${option.textContent}" needs ${Math.ceil(width)} px, has ${Math.floor(room)}`);
          }
        }
        return out;
      });
      for (const c of cut) problems.push(`${type}: option cut off: ${c}`);
      // Every text of the dialog comes from the node's messages (locales/<lang>/<type>.json) through data-i18n, as in the core nodes.
      const untranslated = await page.evaluate(() => {
        const form = document.querySelector('#dialog-form, #node-config-dialog-edit-form');
        const out = [];
        const walker = document.createTreeWalker(form, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const text = n.textContent.trim();
          // Left out: what code fills in (Node-RED's config node select; the model picker's list and info and the models table, written with RED._).
          if (
            !text ||
            n.parentElement.closest('script, style, datalist, .ff-model-info, select[id$="-config"], select[id$="-queue"], select[id$="-library"], #facefusion-config-models, #facefusion-config-error')
          )
            continue;
          if (!n.parentElement.closest('[data-i18n]')) out.push(text.slice(0, 60));
        }
        return out;
      });
      for (const u of untranslated) problems.push(`${type}: text not from a message: "${u}"`);
      const keys = await page.evaluate(() =>
        [...document.querySelectorAll('#dialog-form [data-i18n], #node-config-dialog-edit-form [data-i18n]')].map((e) => ({
          key: e.getAttribute('data-i18n'),
          text: e.textContent.trim(),
          placeholder: e.getAttribute('placeholder'),
        })),
      );
      for (const k of keys) {
        // A message that is missing shows its key: "face-blur.label.mode".
        if (/\.(label|hint|option|tip|placeholder|ff)\./.test(k.text) || /\.(placeholder)\./.test(k.placeholder || '')) problems.push(`${type}: message missing for ${k.key}`);
      }
      await closeDialog();
    }
    assert.deepStrictEqual(problems, []);
  });

  it("a stage node's Output 2 box gives it a second output port, and unticking takes it away", async function () {
    await openDialog('face-blur');
    await page.click('#node-input-failureOutput');
    assert.strictEqual(await page.$eval('#node-input-outputs', (el) => el.value), '2');
    await page.evaluate(() => $('#node-dialog-ok').trigger('click'));
    await page.waitForTimeout(300);
    const ports = await page.evaluate(() => {
      let n;
      window.RED.nodes.eachNode((x) => {
        if (x.type === 'face-blur') n = x;
      });
      return [n.outputs, n.failureOutput];
    });
    assert.deepStrictEqual(ports, [2, true]);
    await openDialog('face-blur');
    await page.click('#node-input-failureOutput');
    assert.strictEqual(await page.$eval('#node-input-outputs', (el) => el.value), '1');
    await page.evaluate(() => $('#node-dialog-ok').trigger('click'));
    await page.waitForTimeout(300);
    const after = await page.evaluate(() => {
      let n;
      window.RED.nodes.eachNode((x) => {
        if (x.type === 'face-blur') n = x;
      });
      return [n.outputs, n.failureOutput];
    });
    assert.deepStrictEqual(after, [1, false]);
  });

  it('the config dialog asks before fetching a non-permissive model, naming its licence, and shows why a fetch failed', async function () {
    const models = (await getJson(red.port, '/facefusion/models')).models;
    const model = models.find((m) => m.id === 'inswapper_128');
    assert.ok(model && !model.permissive && !model.present, JSON.stringify(model));
    const posts = [];
    // No download leaves the machine: the fetch request is answered here, as an offline host would.
    await page.route('**/facefusion/models/fetch', (route) => {
      posts.push(JSON.parse(route.request().postData() || '{}'));
      return route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ ok: false, error: 'getaddrinfo ENOTFOUND github.com' }) });
    });
    try {
      await openDialog('facefusion-config');
      const row = page.locator('#facefusion-config-models tr', { hasText: 'inswapper_128 ' }).first();
      await row.locator('button', { hasText: 'fetch' }).click();
      const confirm = page.locator('.red-ui-notification .ff-licence-confirm');
      await confirm.waitFor({ timeout: 5000 });
      assert.ok((await confirm.textContent()).includes(model.license), `the question names the licence ${model.license}: ${await confirm.textContent()}`);
      await page.locator('.red-ui-notification button', { hasText: 'Cancel' }).click();
      await page.waitForTimeout(300);
      assert.deepStrictEqual(posts, [], 'nothing fetched after Cancel');

      await row.locator('button', { hasText: 'fetch' }).click();
      await confirm.waitFor({ timeout: 5000 });
      await page.locator('.red-ui-notification button', { hasText: 'Accept licence' }).click();
      await page.waitForFunction(
        () => {
          const e = document.getElementById('facefusion-config-error');
          return e && e.offsetParent && e.textContent;
        },
        null,
        { timeout: 10000 },
      );
      assert.deepStrictEqual(
        posts.map((p) => [p.id, p.acceptLicense]),
        [['inswapper_128', model.license]],
      );
      assert.match(await page.locator('#facefusion-config-error').textContent(), /inswapper_128 failed: getaddrinfo ENOTFOUND/);
      await closeDialog();
    } finally {
      await page.unroute('**/facefusion/models/fetch');
    }

    // A failure the runtime recorded for a model shows its reason in the list, not in a tooltip.
    await page.route('**/facefusion/models?*', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      body.fetching = [{ id: 'inswapper_128', state: 'failed', received: 0, error: 'connect ETIMEDOUT 140.82.121.4:443' }];
      return route.fulfill({ response, body: JSON.stringify(body) });
    });
    try {
      await openDialog('facefusion-config');
      const failed = page.locator('#facefusion-config-models .ff-fetch-failed');
      await failed.waitFor({ timeout: 10000 });
      assert.match(await failed.textContent(), /failed: connect ETIMEDOUT/);
      assert.ok(await failed.isVisible());
      await closeDialog();
    } finally {
      await page.unroute('**/facefusion/models?*');
    }
  });
  it("the faces sidebar tab lists a deployed library's people with their pictures, renames and deletes them", async function () {
    const { FaceLibrary } = require(path.join(ROOT, 'dist', 'runtime', 'internal'));
    const sharp = require('sharp');
    const db = path.join(red.userDir, 'sidebar-library.db');
    const unit = (k) => {
      const v = Array.from({ length: 512 }, (_, i) => Math.sin((i + 1) * k));
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const lib = new FaceLibrary(db);
    lib.enrol(
      'Barack Obama',
      { embedding: unit(1.1), embedding_model: 'fr_feature' },
      {
        thumbnail: await sharp(path.join(ROOT, 'samples', 'obama.jpg'))
          .resize(96)
          .jpeg()
          .toBuffer(),
      },
    );
    lib.enrol('Joe Biden', { embedding: unit(2.3), embedding_model: 'fr_feature' });
    await lib.close();
    const res = await fetch(`http://127.0.0.1:${red.port}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({
        flows: [
          { id: 'sbtab', type: 'tab', label: 'library' },
          { id: 'sblib', type: 'face-library', name: 'people', path: db, thumbnails: true },
        ],
      }),
    });
    assert.strictEqual(res.status, 200, await res.text());
    // The deploy answers before the nodes start: the tab is opened once the library is there.
    for (const end = Date.now() + 20000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
      if ((await getJson(red.port, '/facefusion/libraries')).libraries.some((l) => l.id === 'sblib' && l.people === 2)) break;
    }
    await page.evaluate(() => window.RED.sidebar.show('facefusion-library'));
    const names = () => page.$$eval('.ff-person-name', (els) => els.map((e) => e.firstChild.textContent));
    await page.waitForFunction(() => document.querySelectorAll('.ff-person').length === 2, null, { timeout: 30000 });
    assert.deepStrictEqual(await names(), ['Barack Obama', 'Joe Biden']);
    assert.match(await page.$eval('.ff-person img', (img) => img.src), /^data:image\/jpeg;base64,/);
    page.once('dialog', (d) => d.accept('Joseph Biden'));
    await page.locator('.ff-person', { hasText: 'Joe Biden' }).locator('.ff-rename').click();
    await page.waitForFunction(() => [...document.querySelectorAll('.ff-person-name')].some((e) => e.textContent.startsWith('Joseph Biden')), null, { timeout: 10000 });
    page.once('dialog', (d) => d.accept());
    await page.locator('.ff-person', { hasText: 'Barack Obama' }).locator('.ff-forget').click();
    await page.waitForFunction(() => document.querySelectorAll('.ff-person').length === 1, null, { timeout: 10000 });
    assert.deepStrictEqual(await names(), ['Joseph Biden']);
  });
});
