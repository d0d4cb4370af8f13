'use strict';
// Installed the way Node-RED users install it: `npm pack`, then `npm install <tarball>`
// in a fresh Node-RED user directory — what the palette manager runs — with
// ONNXRUNTIME_NODE_INSTALL=skip, as a user without NVIDIA would set it. Node-RED (the repo's own
// devDependency) is started on that user directory and driven through its admin API only:
// every node type must load, and every example, deployed through POST /flows exactly as shipped
// and triggered through POST /inject/:id, must give its result with no error in the log.
// A runtime module missing from package.json "dependencies" makes the node types fail to load here.
const sharp = require('sharp');
const { bigPhoto, changedFractions } = require('./helpers/big-photo');
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const { pending } = require('./helpers/fixtures');
const { ROOT, freePort, waitFor, cleanEnv, startNodeRed, writeSettings, api, deploy, openComms } = require('./helpers/node-red-process');
const { startMosquitto, mosquittoBinary } = require('./helpers/mosquitto');

const PKG = require(path.join(ROOT, 'package.json'));
/**
 * The npm a user runs: the first on PATH outside this repository's node_modules (node-red
 * depends on an npm 10 of its own, which `npm test` puts first on PATH).
 */
const NPM = (() => {
  const name = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir || path.resolve(dir).startsWith(path.join(ROOT, 'node_modules'))) continue;
    if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return name;
})();

/** Lines Node-RED logged at level error or warn since `from`. */
const problems = (log, from) =>
  log
    .slice(from)
    .split('\n')
    .filter((l) => /\[(error|warn)\]/.test(l));

describe('packed install into a Node-RED user directory (npm pack → npm install <tgz>)', function () {
  this.timeout(180000);
  let tmp,
    userDir,
    red,
    comms,
    port,
    out,
    installLog = '',
    skippedByVariable = false;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-packed-'));
    userDir = path.join(tmp, 'node-red');
    out = path.join(tmp, 'out');
    fs.mkdirSync(userDir);
    fs.mkdirSync(out);
    // Nothing from outside the npm registry: on npm ≥ 11.19 the user directory's
    // package.json "allowScripts" (what `npm install-scripts deny …` writes, as the README says)
    // keeps onnxruntime-node from fetching CUDA and ffmpeg-static from fetching ffmpeg; older npm
    // ignores it, so there ONNXRUNTIME_NODE_INSTALL=skip does it, as the README says for them.
    const npmVersion = execFileSync(NPM, ['--version'], { encoding: 'utf8' }).trim().split('.').map(Number);
    const npmAllowsScripts = npmVersion[0] > 11 || (npmVersion[0] === 11 && npmVersion[1] >= 19);
    const env = cleanEnv();
    delete env.ONNXRUNTIME_NODE_INSTALL;
    if (!npmAllowsScripts) env.ONNXRUNTIME_NODE_INSTALL = 'skip';
    skippedByVariable = !npmAllowsScripts;
    // better-sqlite3 (the face library) ships its native binary as a prebuild that its install
    // script downloads from GitHub, which this machine cannot reach (it would compile SQLite for
    // minutes instead). prebuild-install's own offline door, a local prebuilds folder, is given the
    // binary the checkout built: what a connected user's install downloads.
    const prebuilds = path.join(tmp, 'prebuilds');
    const sqlite = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8'));
    fs.mkdirSync(prebuilds);
    execFileSync('tar', [
      '-czf',
      path.join(prebuilds, `better-sqlite3-v${sqlite.version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`),
      '-C',
      path.join(ROOT, 'node_modules', 'better-sqlite3'),
      'build/Release/better_sqlite3.node',
    ]);
    env.npm_config_better_sqlite3_local_prebuilds = prebuilds;
    // What `npm pack` puts in the tarball is exactly what users get (package.json "files").
    const packed = execFileSync(NPM, ['pack', '--pack-destination', tmp, '--silent'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60000 }).trim().split('\n').pop();
    const tarball = path.join(tmp, packed);
    assert.ok(fs.existsSync(tarball), `npm pack made ${tarball}`);
    // A fresh user directory as Node-RED creates it, then what the palette manager runs there.
    fs.writeFileSync(
      path.join(userDir, 'package.json'),
      JSON.stringify(
        {
          name: 'node-red-project',
          description: 'A Node-RED Project',
          version: '0.0.1',
          private: true,
          allowScripts: {
            'onnxruntime-node': false,
            'ffmpeg-static': false,
            'core-js': false,
            sharp: true,
            protobufjs: true,
            'msgpackr-extract': true,
            '@ffmpeg-installer/linux-x64': true,
            'better-sqlite3': true,
          },
        },
        null,
        2,
      ),
    );
    // The dashboard example needs FlowFuse Dashboard 2.0, which users install from the palette
    // too: the version this repository tests with.
    const dashboard = `@flowfuse/node-red-dashboard@${require(path.join(ROOT, 'node_modules', '@flowfuse', 'node-red-dashboard', 'package.json')).version}`;
    const installed = spawnSync(
      NPM,
      ['install', '--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict', '--prefer-offline', '--foreground-scripts', tarball, dashboard],
      {
        cwd: userDir,
        env,
        encoding: 'utf8',
        timeout: 180000,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    installLog = `${installed.stdout}\n${installed.stderr}`;
    assert.strictEqual(installed.status, 0, installLog);
    // Pre-seeded models, as the README tells offline users: the default models in <userDir>/facefusion/models.
    const models = path.join(userDir, 'facefusion', 'models');
    fs.mkdirSync(models, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'manifest.json'), 'utf8'));
    for (const m of manifest.models.filter((m) => m.default)) fs.copyFileSync(path.join(ROOT, 'models', m.file), path.join(models, m.file));
    port = await freePort();
    const settings = path.join(userDir, 'settings.js');
    writeSettings(settings);
    red = await startNodeRed({ userDir, settings, port, env: cleanEnv() });
    comms = await openComms(port);
  });

  after(async function () {
    if (comms) comms.close();
    if (red) await red.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('installs only what the tarball declares, and every node type in package.json loads with no error', async function () {
    const installed = path.join(userDir, 'node_modules', PKG.name);
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'nodes', 'face-swap.js')));
    assert.ok(!fs.existsSync(path.join(installed, 'src')), 'sources are not shipped');
    const sets = await api(port, 'GET', '/nodes');
    const ours = sets.filter((s) => s.module === PKG.name);
    for (const type of Object.keys(PKG['node-red'].nodes)) {
      const set = ours.find((s) => s.types.includes(type));
      assert.ok(set, `${type} is registered (log:\n${red.log})`);
      assert.ok(!set.err, `${type}: ${typeof set.err === 'string' ? set.err : JSON.stringify(set.err)}`);
      assert.strictEqual(set.enabled, true, `${type} enabled`);
    }
  });

  it('installed without running the scripts that download from outside the npm registry', function () {
    // --foreground-scripts prints a banner for every install script that runs.
    assert.ok(skippedByVariable || !/> onnxruntime-node@[\d.]+ postinstall/.test(installLog), installLog);
    assert.ok(!/not yet covered by allowScripts/.test(installLog), `no install-scripts warning: ${installLog}`);
    assert.ok(!/> ffmpeg-static@[\d.]+ install/.test(installLog), installLog);
    assert.ok(!/nuget/i.test(installLog), installLog);
    // An npm without allowScripts runs ffmpeg-static's download (from GitHub; it fails offline and the optional package is dropped).
    if (!skippedByVariable) assert.ok(!/github\.com/i.test(installLog), installLog);
    assert.ok(fs.existsSync(path.join(userDir, 'node_modules', 'onnxruntime-node', 'bin')), "onnxruntime-node's CPU binaries came in its npm package");
  });

  it('keeps the models in <userDir>/facefusion/models, where upgrades of the package leave them', async function () {
    const listing = await api(port, 'GET', '/facefusion/models');
    assert.strictEqual(listing.dir, path.join(userDir, 'facefusion', 'models'));
    for (const m of listing.models.filter((m) => m.default)) assert.ok(m.present, `${m.id} present in ${listing.dir}`);
  });

  it('the CLI and the library use the per-user cache folder (XDG_CACHE_HOME honoured) and say so', function () {
    const cache = path.join(tmp, 'xdg-cache');
    const env = cleanEnv({ XDG_CACHE_HOME: cache });
    const cli = path.join(userDir, 'node_modules', PKG.name, 'dist', 'cli', 'facefusion-node.js');
    const listed = execFileSync(process.execPath, [cli, 'models', 'list'], { cwd: userDir, env, encoding: 'utf8', timeout: 30000 });
    assert.strictEqual(listed.split('\n')[0], `models in ${path.join(cache, 'facefusion', 'models')}`);
    const dir = execFileSync(process.execPath, ['-e', `console.log(new (require(${JSON.stringify(`${PKG.name}/dist/runtime/internal`)}).ModelCache)().dir)`], {
      cwd: userDir,
      env,
      encoding: 'utf8',
      timeout: 30000,
    }).trim();
    assert.strictEqual(dir, path.join(cache, 'facefusion', 'models'));
  });

  /** Deploys an example as shipped (its /tmp outputs moved into `out`), presses `injectName`, and waits for `done`. */
  async function runExample(file, injectName, done, ms = 60000) {
    let text = fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8');
    // Plain text replace: the job example holds its paths inside a JSON string (escaped quotes).
    text = text.replace(/\/tmp\/facefusion-([a-z-]+\.[a-z0-9]+)/g, (_m, name) => path.join(out, name));
    const tab = { id: `tab-${file.slice(0, 8)}`, type: 'tab', label: file };
    const nodes = JSON.parse(text);
    const flows = [tab, ...nodes.map((n) => (n.type === 'facefusion-config' ? n : { ...n, z: tab.id }))];
    const from = red.log.length;
    const seen = comms.messages.length;
    await deploy(port, flows);
    const inject = nodes.find((n) => n.type === 'inject' && n.name === injectName);
    assert.ok(inject, `${file} has an inject named "${injectName}"`);
    // The deploy answers before the nodes are created: press the button once the inject node exists.
    await waitFor(
      async () =>
        api(port, 'POST', `/inject/${inject.id}`).then(
          () => true,
          () => false,
        ),
      20000,
      () => `inject ${inject.id} of ${file}:\n${red.log.slice(from)}`,
    );
    const messages = () => comms.messages.slice(seen);
    await waitFor(
      () => done(nodes, messages()) || problems(red.log, from).length > 0,
      ms,
      () => `${file} to finish:\n${red.log.slice(from)}`,
    );
    assert.deepStrictEqual(problems(red.log, from), [], `${file} logged no error or warning`);
    const errors = messages().filter((m) => m.topic === 'debug' && m.data && /error/i.test(String(m.data.format)));
    assert.deepStrictEqual(errors, []);
    return { nodes, messages: messages() };
  }

  const written = (name) => () => fs.existsSync(path.join(out, name)) && fs.statSync(path.join(out, name)).size > 1000;
  const debugFrom = (nodes, messages, name) => messages.find((m) => m.topic === 'debug' && m.data && m.data.id === nodes.find((n) => n.type === 'debug' && n.name === name).id);

  it('example 1 (swap) runs as imported and shows its thumbnail in the editor', async function () {
    const { nodes, messages } = await runExample('01-swap-face-in-picture.json', 'sample', (nodes, msgs) => written('swapped.jpg')() && msgs.some((m) => m.topic.startsWith('facefusion/thumbnail/')));
    const image = nodes.find((n) => n.type === 'face-image');
    const thumb = messages.find((m) => m.topic === `facefusion/thumbnail/${image.id}`);
    assert.ok(thumb, 'a thumbnail of the face image node');
    assert.match(thumb.data.src, /^data:image\/jpeg;base64,/);
    assert.ok(Math.max(thumb.data.width, thumb.data.height) <= Number(image.thumbnail), `thumbnail ${thumb.data.width}×${thumb.data.height} within ${image.thumbnail} px`);
    // The config node says in the log where its models are.
    assert.ok(red.log.includes(`face models folder: ${path.join(userDir, 'facefusion', 'models')} (inside Node-RED's user directory)`), red.log);
  });

  it('example 2 (blur) runs as imported', async function () {
    await runExample('02-blur-faces-privacy.json', 'sample', written('blurred.jpg'));
  });

  it('example 3 (who is this) runs as imported and finds the reference person once', async function () {
    const { nodes, messages } = await runExample('03-who-is-this.json', 'sample', (nodes, msgs) => !!debugFrom(nodes, msgs, 'match'));
    const shown = debugFrom(nodes, messages, 'match').data.msg;
    assert.strictEqual(JSON.parse(shown).filter((m) => m.matched).length, 1, shown);
  });

  it('example 4 (debug overlay) runs as imported and shows the overlay as a thumbnail', async function () {
    const { nodes, messages } = await runExample('04-debug-overlay.json', 'sample', (nodes, msgs) => written('overlay.png')() && msgs.some((m) => m.topic.startsWith('facefusion/thumbnail/')));
    const overlay = nodes.find((n) => n.type === 'face-debug');
    assert.ok(
      messages.some((m) => m.topic === `facefusion/thumbnail/${overlay.id}` && m.data.src),
      'thumbnail of the overlay',
    );
  });

  it('example 5 (FaceFusion models) runs once its models are fetched', async function () {
    const listing = await api(port, 'GET', '/facefusion/models');
    const missing = ['inswapper_128', 'arcface_w600k_r50', 'gfpgan_1.4'].filter((id) => !listing.models.find((m) => m.id === id).present);
    if (missing.length) pending(this, `example 5 needs ${missing.join(', ')} (non-commercial licences, ≈ 0.9 GB; never fetched automatically)`);
    await runExample('05-swap-with-facefusion-models.json', 'sample', written('inswapper.jpg'), 120000);
  });

  it('example 6 (upload page) serves its form and answers an uploaded photo with the blurred JPEG', async function () {
    const file = '06-upload-page.json';
    const nodes = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
    const tab = { id: 'tab-upload', type: 'tab', label: file };
    const from = red.log.length;
    await deploy(port, [tab, ...nodes.map((n) => (n.type === 'facefusion-config' ? n : { ...n, z: tab.id }))]);
    const url = `http://127.0.0.1:${port}/face-demo`;
    let page;
    await waitFor(async () => (page = await fetch(url).catch(() => undefined)) && page.status === 200, 20000, 'the upload page');
    assert.match(await page.text(), /<form method="post" action="face-demo" enctype="multipart\/form-data"/);
    const photo = fs.readFileSync(path.join(ROOT, 'samples', 'two-people.jpg'));
    const send = (bytes, mode) => {
      const form = new FormData();
      form.append('picture', new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg');
      form.append('mode', mode);
      return fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(60000) });
    };
    const res = await send(photo, 'pixelate');
    assert.strictEqual(res.status, 200, await res.clone().text());
    assert.strictEqual(res.headers.get('content-type'), 'image/jpeg');
    const blurred = Buffer.from(await res.arrayBuffer());
    assert.deepStrictEqual([...blurred.subarray(0, 2)], [0xff, 0xd8]);
    assert.notDeepStrictEqual(blurred, photo);
    assert.deepStrictEqual(problems(red.log, from), [], 'no error or warning logged');
    // A 25-megapixel photo (6000×4154, 6 faces of ≈ 400–540 px) just works: every face blurred.
    // (Before the scale pyramid the flow refused it: "detect_tiling auto would cut this frame into 575 tiles".)
    const big = await bigPhoto();
    const bigRes = await send(big.jpeg, 'gaussian');
    assert.strictEqual(bigRes.status, 200, await bigRes.clone().text());
    const raw = async (bytes) => (await sharp(bytes).raw().toBuffer({ resolveWithObject: true })).data;
    const fractions = changedFractions(await raw(big.jpeg), await raw(Buffer.from(await bigRes.arrayBuffer())), big.width, big.boxes);
    assert.ok(
      fractions.every((f) => f > 0.5),
      `changed share of each face box: ${fractions.map((f) => f.toFixed(2)).join(' ')}`,
    );
    // Not a picture: the Catch node answers with the code instead of leaving the request hanging.
    const bad = await send(Buffer.from('not a picture'), 'gaussian');
    assert.strictEqual(bad.status, 415);
    assert.match(await bad.text(), /^E_BAD_IMAGE: /);
  });

  it('live camera privacy runs as imported on the sample clip', async function () {
    await runExample('08-live-camera-privacy.json', 'start', (nodes, msgs) => !!debugFrom(nodes, msgs, 'summary') && written('privacy.mp4')());
  });

  it('the dashboard example (FlowFuse Dashboard 2.0) runs as imported: blurred frames reach its page', async function () {
    const { chromiumMissing, launchChromium } = require('./helpers/node-red-server');
    const { exerciseDashboard } = require('./helpers/dashboard');
    const missing = chromiumMissing();
    if (missing) pending(this, missing);
    const file = '09-dashboard-camera-privacy.json';
    const nodes = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
    const tab = { id: 'tab-dashboard', type: 'tab', label: file };
    const from = red.log.length;
    await deploy(port, [tab, ...nodes.map((n) => (n.x !== undefined ? { ...n, z: tab.id } : n))]);
    const browser = await launchChromium();
    try {
      await exerciseDashboard(browser, port, () => red.log.slice(from));
    } finally {
      await browser.close();
    }
    assert.deepStrictEqual(problems(red.log, from), [], 'no error or warning logged');
  });

  it('door camera example: enrols the samples, then one MQTT event per person per visit through a real broker', async function () {
    if (!mosquittoBinary()) pending(this, 'mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)');
    // As the example ships: TLS with the broker's certificate checked, and a user.
    const broker = await startMosquitto({ tls: true, users: { door: 'door secret' } });
    try {
      const file = '13-door-camera-who-is-there.json';
      const nodes = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
      const tab = { id: 'tab-door', type: 'tab', label: file };
      // The example as shipped, pointed at the test's broker (its port, CA file and user), plus a subscriber that shows what reached it.
      const flows = [
        tab,
        ...nodes.map((n) =>
          n.type === 'mqtt-broker'
            ? { ...n, port: String(broker.port), credentials: { user: 'door', password: 'door secret' } }
            : n.type === 'tls-config'
              ? { ...n, ca: broker.caFile }
              : ['facefusion-config', 'face-library'].includes(n.type)
                ? n
                : { ...n, z: tab.id },
        ),
        {
          id: 'door-sub',
          z: tab.id,
          type: 'mqtt in',
          name: 'subscriber',
          topic: 'facefusion/door/#',
          qos: '1',
          datatype: 'auto-detect',
          broker: nodes.find((n) => n.type === 'mqtt-broker').id,
          nl: false,
          rap: true,
          rh: 0,
          inputs: 0,
          wires: [['door-seen']],
        },
        { id: 'door-seen', z: tab.id, type: 'debug', name: 'seen on the broker', active: true, tosidebar: true, console: false, tostatus: false, complete: 'true', targetType: 'full', wires: [] },
      ];
      const from = red.log.length;
      const seen = comms.messages.length;
      await deploy(port, flows);
      const press = (name) =>
        waitFor(
          async () =>
            api(port, 'POST', `/inject/${nodes.find((n) => n.type === 'inject' && n.name === name).id}`).then(
              () => true,
              () => false,
            ),
          20000,
          `inject ${name}`,
        );
      const debugOf = (name) => comms.messages.slice(seen).filter((m) => m.topic === 'debug' && m.data && m.data.id === (flows.find((n) => n.name === name) || {}).id);
      await waitFor(
        () => /Connected to broker/.test(red.log.slice(from)),
        20000,
        () => `the broker connection:\n${red.log.slice(from)}`,
      );
      await press('enrol');
      await waitFor(
        () => debugOf('enrolled').length === 2,
        60000,
        () => `two enrolments:\n${red.log.slice(from)}`,
      );
      await press('start');
      const parsed = (m) => {
        try {
          return JSON.parse(m.data.msg);
        } catch {
          return {};
        }
      };
      const events = () =>
        debugOf('seen on the broker')
          .map(parsed)
          .filter((m) => m.topic === 'facefusion/door/person');
      await waitFor(
        () => events().length >= 2 && debugOf('seen on the broker').some((m) => /facefusion\/door\/snapshot/.test(m.data.msg)),
        90000,
        () => `two person events on the broker:\n${red.log.slice(from)}`,
      );
      // The clip is 30 frames of the same two people: still two events once it has played.
      await new Promise((r) => setTimeout(r, 4000));
      const got = events().map((m) => m.payload);
      assert.deepStrictEqual(got.map((e) => e.name).sort(), ['Barack Obama', 'Joe Biden'], JSON.stringify(got));
      for (const e of got) {
        assert.deepStrictEqual([e.event, e.camera, e.known], ['person', 'door', true]);
        assert.ok(e.similarity >= 0.5 && typeof e.visit === 'string' && e.box.length === 4, JSON.stringify(e));
      }
      assert.deepStrictEqual(problems(red.log, from), [], 'no error or warning logged');
      assert.ok(fs.existsSync(path.join(userDir, 'facefusion', 'library.db')), 'the library is in <userDir>/facefusion');
    } finally {
      await broker.stop();
    }
  });

  it('video swap job runs as imported on the samples', async function () {
    // Its paths travel in a message, so it writes into the default allowed folder (files:job.mp4),
    // <user dir>/facefusion/files, created private to the user (0700).
    const output = path.join(userDir, 'facefusion', 'files', 'job.mp4');
    fs.rmSync(output, { force: true });
    try {
      const { nodes, messages } = await runExample('07-video-swap-job.json', 'swap job', (nodes, msgs) => !!debugFrom(nodes, msgs, 'result'));
      assert.match(debugFrom(nodes, messages, 'result').data.msg, /"frames":\s*30/);
      assert.ok(fs.statSync(output).size > 1000, output);
      assert.strictEqual(fs.statSync(path.dirname(output)).mode & 0o777, 0o700, 'the default allowed folder is private');
    } finally {
      fs.rmSync(output, { force: true });
    }
  });
});
