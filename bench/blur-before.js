'use strict';
// The privacy-mask kernels as they were at an earlier commit, for before/after rounds in one
// process (bench/blur-region.js): src/runtime/vision/blur.ts and yuv-masks.ts are read from git
// at that commit, transpiled with the project's TypeScript into a temporary directory, and
// loaded next to the current build (their other imports — rect, yuv — come from dist/). Only
// for benchmarks: nothing in src/ keeps the old kernels.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const FILES = ['blur', 'yuv-masks'];

/** { blur, yuvMasks } modules of `commit`, or undefined (with the reason) when git or the commit is not there. */
function loadKernelsAt(commit) {
  let ts;
  try {
    ts = require('typescript');
  } catch {
    return { reason: 'typescript is not installed' };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-blur-before-'));
  try {
    for (const name of FILES) {
      let source;
      try {
        source = execFileSync('git', ['show', `${commit}:src/runtime/vision/${name}.ts`], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        return { reason: `git has no src/runtime/vision/${name}.ts at ${commit}` };
      }
      let js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
      // Sibling kernels stay in the temporary directory; every other import is today's build.
      js = js.replace(/require\("\.\/([\w-]+)"\)/g, (m, dep) => (FILES.includes(dep) ? m : `require(${JSON.stringify(path.join(ROOT, 'dist', 'runtime', 'vision', dep))})`));
      fs.writeFileSync(path.join(dir, `${name}.js`), js);
    }
    return { blur: require(path.join(dir, 'blur.js')), yuvMasks: require(path.join(dir, 'yuv-masks.js')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { loadKernelsAt };
