'use strict';
// docs/ARCHITECTURE.md is the source of truth for where things live: it must name every folder
// of src/runtime and src/nodes/lib and every top-level file of src/runtime, and every source
// path it names must exist. A folder added, moved or removed without its line fails here.
// Reads the sources only (no build needed).
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const DOC = path.join(ROOT, 'docs', 'ARCHITECTURE.md');
/** Top folders of the repository whose paths the document may name (relative to src/ for the source ones). */
const SOURCE_TOPS = ['runtime', 'nodes', 'cli'];
const REPO_TOPS = ['resources', 'scripts', 'test', 'bench', 'examples', 'docs'];

/** Every folder under `dir` (itself included), as posix paths relative to src/. */
function foldersUnder(dir) {
  const found = [path.relative(SRC, dir).split(path.sep).join('/')];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...foldersUnder(path.join(dir, entry.name)));
  }
  return found;
}

/** Backticked words of the document (no spaces inside). */
function codeSpans(text) {
  return [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]);
}

describe('docs/ARCHITECTURE.md', () => {
  const doc = fs.readFileSync(DOC, 'utf8');
  const spans = new Set(codeSpans(doc));

  it('names every folder of src/runtime and src/nodes/lib', () => {
    const folders = [...foldersUnder(path.join(SRC, 'runtime')).filter((f) => f !== 'runtime'), ...foldersUnder(path.join(SRC, 'nodes', 'lib'))];
    assert.ok(folders.includes('runtime/jobs') && folders.includes('nodes/lib'), 'the source tree was found');
    const missing = folders.filter((f) => !spans.has(`${f}/`));
    assert.deepStrictEqual(missing, [], `docs/ARCHITECTURE.md must name each folder as \`<folder>/\` and say what it owns; missing: ${missing.map((f) => `\`${f}/\``).join(', ')}`);
  });

  it('names every top-level file of src/runtime', () => {
    const files = fs
      .readdirSync(path.join(SRC, 'runtime'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `runtime/${f}`);
    assert.ok(files.includes('runtime/runtime.ts'), 'the source tree was found');
    const missing = files.filter((f) => !spans.has(f));
    assert.deepStrictEqual(missing, [], `docs/ARCHITECTURE.md must name each top-level runtime file and what it owns; missing: ${missing.map((f) => `\`${f}\``).join(', ')}`);
  });

  it('names only paths that exist', () => {
    const stale = [];
    for (const span of spans) {
      // Patterns and served URLs (`nodes/<type>.ts`, `…/*.js`, `resources/node-red-contrib-facefusion/…`) are not paths.
      if (/[<>{}*…]/.test(span)) continue;
      const bare = span.replace(/^src\//, '');
      const top = bare.split('/')[0];
      let full;
      if (SOURCE_TOPS.includes(top) && bare.includes('/')) full = path.join(SRC, bare);
      else if (REPO_TOPS.includes(top) && bare.includes('/')) full = path.join(ROOT, bare);
      else continue;
      if (!fs.existsSync(full)) stale.push(span);
    }
    assert.deepStrictEqual(stale, [], `docs/ARCHITECTURE.md names paths that do not exist: ${stale.join(', ')}`);
  });

  it('names only files that exist in the folder whose row names them', () => {
    // A table row `| \`runtime/models/\` | … \`manifest.ts\` … |`: bare file names are in that folder.
    const stale = [];
    for (const line of doc.split('\n')) {
      const row = /^\|\s*`((?:runtime|nodes)\/[^`]*\/)`[^|]*\|(.*)$/.exec(line);
      if (!row) continue;
      for (const name of codeSpans(row[2])) {
        if (/^[\w.-]+\.ts$/.test(name) && !fs.existsSync(path.join(SRC, row[1], name))) stale.push(`${row[1]}${name}`);
      }
    }
    assert.deepStrictEqual(stale, [], `docs/ARCHITECTURE.md names files that are not in the folder its row describes: ${stale.join(', ')}`);
  });
});
