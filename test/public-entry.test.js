'use strict';
// The package's two entries (docs/ARCHITECTURE.md, "Entry points"): a narrow public main entry
// and one internal entry for everything else.
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const PKG = require(path.join(ROOT, 'package.json'));
const MAX_PUBLIC_NAMES = 30;

/**
 * Every name the built main entry exports, values and types alike, read from its declaration
 * file: `export { … }`, `export type { … }` and `export declare …` statements. An `export *`
 * would make the count open-ended, so it is refused.
 */
function declaredNames(dtsFile) {
  const text = fs
    .readFileSync(dtsFile, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  assert.ok(!/^\s*export\s+(type\s+)?\*/m.test(text), `${path.basename(dtsFile)} must list its names (no export *)`);
  const names = new Set();
  for (const m of text.matchAll(/^\s*export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const part of m[1].split(',')) {
      const spec = part.trim().replace(/^type\s+/, '');
      if (spec)
        names.add(
          spec
            .split(/\s+as\s+/)
            .pop()
            .trim(),
        );
    }
  }
  for (const m of text.matchAll(/^\s*export\s+(?:declare\s+)?(?:abstract\s+)?(?:const|let|function|class|type|interface|enum)\s+([A-Za-z_$][\w$]*)/gm)) names.add(m[1]);
  return names;
}

describe('package entries', function () {
  const mainJs = path.join(ROOT, PKG.main);
  const mainDts = path.join(ROOT, PKG.types);

  it('the main entry exports at most 30 names (runtime values and type-only names counted together)', function () {
    const declared = declaredNames(mainDts);
    const values = Object.keys(require(mainJs));
    for (const name of values) assert.ok(declared.has(name), `${name} is exported at run time but not declared`);
    assert.ok(declared.size <= MAX_PUBLIC_NAMES, `${declared.size} names: ${[...declared].join(', ')}`);
    assert.ok(values.length <= declared.size);
  });

  it('the main entry gives the runtime, the errors, the token checks and the job manager', function () {
    const pub = require(mainJs);
    for (const name of ['Runtime', 'createRuntime', 'FaceError', 'isFaceError', 'JobManager', 'STAGES', 'isFaceToken']) assert.ok(name in pub, name);
    const declared = declaredNames(mainDts);
    for (const name of ['RuntimeOptions', 'FaceToken', 'Face', 'Parameters', 'Stage', 'ErrorCode', 'JobArgs', 'JobInfo', 'JobManagerOptions']) assert.ok(declared.has(name), name);
    const error = new pub.FaceError('E_NO_FACE', 'no face');
    assert.ok(pub.isFaceError(error));
    assert.strictEqual(error.code, 'E_NO_FACE');
  });

  it('the internal entry exists, ships in the package and holds the internals', function () {
    const internalJs = path.join(ROOT, 'dist', 'runtime', 'internal.js');
    assert.ok(fs.existsSync(internalJs), 'dist/runtime/internal.js');
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'runtime', 'internal.d.ts')), 'dist/runtime/internal.d.ts');
    assert.ok(PKG.files.includes('dist'), 'dist is packed');
    const internal = require(internalJs);
    for (const name of [
      'FrameStore',
      'SessionPool',
      'ModelCache',
      'PathPolicy',
      'HostPolicy',
      'DowngradePolicy',
      'FfmpegLocator',
      'VideoDecoder',
      'VideoEncoder',
      'FaceLibrary',
      'RedisJobQueue',
      'createToken',
      'resizeBilinear',
      'ZOO_CONTRACTS',
    ]) {
      assert.ok(name in internal, name);
    }
    // One class, whichever entry it is reached through.
    const pub = require(path.join(ROOT, PKG.main));
    for (const name of Object.keys(pub)) assert.strictEqual(internal[name], pub[name], name);
  });

  it('the internal entry re-exports every runtime module (but the worker-thread entries)', function () {
    const src = path.join(ROOT, 'src', 'runtime');
    const listed = new Set([...fs.readFileSync(path.join(src, 'internal.ts'), 'utf8').matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1]));
    const workers = new Set(['jobs/pixel-worker', 'models/detector-worker']);
    const missing = [];
    const walk = (dir) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
          const rel = path.relative(src, file).replace(/\\/g, '/').replace(/\.ts$/, '');
          if (rel !== 'internal' && rel !== 'index' && !workers.has(rel) && !listed.has(rel)) missing.push(rel);
        }
      }
    };
    walk(src);
    assert.deepStrictEqual(missing, [], 'add them to src/runtime/internal.ts');
  });
});
