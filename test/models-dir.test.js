'use strict';
// Where model files go when nobody names a folder: they must survive upgrades of the package.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chooseModelsDir, describeModelsDir } = require('../dist/runtime/internal');

describe('models folder (chooseModelsDir)', function () {
  const installed = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-installed-')); // no src/, no tsconfig.json: an installed package
  after(function () {
    fs.rmSync(installed, { recursive: true, force: true });
  });
  const base = { packageRoot: installed, home: '/home/u', platform: 'linux' };

  it('a folder named explicitly wins, then FACEFUSION_MODELS_DIR', function () {
    assert.deepStrictEqual(chooseModelsDir({ ...base, dir: '/x/m', env: { FACEFUSION_MODELS_DIR: '/y' } }), { dir: '/x/m', reason: 'option' });
    assert.deepStrictEqual(chooseModelsDir({ ...base, env: { FACEFUSION_MODELS_DIR: '/y' }, nodeRedUserDir: '/nr' }), { dir: '/y', reason: 'FACEFUSION_MODELS_DIR' });
  });

  it('inside Node-RED: <userDir>/facefusion/models', function () {
    assert.deepStrictEqual(chooseModelsDir({ ...base, env: {}, nodeRedUserDir: '/data' }), { dir: '/data/facefusion/models', reason: 'node-red' });
  });

  it('CLI and library: the XDG cache folder (XDG_CACHE_HOME honoured when absolute)', function () {
    assert.strictEqual(chooseModelsDir({ ...base, env: {} }).dir, '/home/u/.cache/facefusion/models');
    assert.strictEqual(chooseModelsDir({ ...base, env: { XDG_CACHE_HOME: '/c' } }).dir, '/c/facefusion/models');
    assert.strictEqual(chooseModelsDir({ ...base, env: { XDG_CACHE_HOME: 'relative' } }).dir, '/home/u/.cache/facefusion/models');
    assert.strictEqual(chooseModelsDir({ ...base, env: {}, platform: 'darwin' }).dir, '/home/u/Library/Caches/facefusion/models');
    assert.strictEqual(chooseModelsDir({ ...base, env: {} }).reason, 'user-cache');
  });

  it('a clone of the repository keeps models/ (where npm start and npm test put them)', function () {
    const root = path.join(__dirname, '..');
    assert.deepStrictEqual(chooseModelsDir({ env: {}, nodeRedUserDir: '/data', packageRoot: root }), { dir: path.join(root, 'models'), reason: 'checkout' });
  });

  it('says which folder and why', function () {
    assert.match(describeModelsDir({ dir: '/data/facefusion/models', reason: 'node-red' }), /\/data\/facefusion\/models .*Node-RED/);
  });
});
