'use strict';
// Code comments, help texts, the README and the docs cite figures as "BENCHMARKS.md §N" (or
// "docs/BENCHMARKS-HISTORY.md §N" for a superseded run): every cited section must exist as a
// heading of that file, so a section renumbered, merged or moved without its citations fails here.
// Reads the files only (no build needed).
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const DOCS = { 'BENCHMARKS.md': path.join(ROOT, 'BENCHMARKS.md'), 'BENCHMARKS-HISTORY.md': path.join(ROOT, 'docs', 'BENCHMARKS-HISTORY.md') };
/** Where citations live: these folders (recursively) and files, relative to the repository. */
const CITING = ['src', 'bench', 'docs', 'test', 'examples', 'README.md', 'BENCHMARKS.md'];
const TEXT_FILE = /\.(ts|js|html|json|md)$/;

/** Section numbers of a benchmarks document: `## 14. …` → '14', `### 10b. …` → '10b'. */
function sectionsOf(markdown) {
  return new Set([...markdown.matchAll(/^#{2,3} (\d+[a-z]?)\. /gm)].map((m) => m[1]));
}

/**
 * Citations in a text: "BENCHMARKS.md §14", "BENCHMARKS.md § 8", "docs/BENCHMARKS-HISTORY.md §4",
 * also across a comment's line break ("BENCHMARKS.md\n * §15"). BENCHMARKS.md citing its own
 * sections as bare "§N" is not counted (it says "history §N" for the other file).
 */
function citationsIn(text) {
  return [...text.matchAll(/(BENCHMARKS(?:-HISTORY)?\.md)[\s*/#]*§\s*(\d+[a-z]?)/g)].map((m) => ({ doc: m[1], section: m[2], index: m.index }));
}

/** Every text file under the citing places, as [relative path, text]. */
function citingFiles() {
  const out = [];
  const walk = (full) => {
    const stat = fs.statSync(full);
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(full)) if (name !== 'node_modules' && name !== 'fixtures') walk(path.join(full, name));
    } else if (TEXT_FILE.test(full) && full !== __filename) out.push([path.relative(ROOT, full), fs.readFileSync(full, 'utf8')]);
  };
  for (const place of CITING) if (fs.existsSync(path.join(ROOT, place))) walk(path.join(ROOT, place));
  return out;
}

/** Citations whose section is not a heading of the cited file: ['src/x.ts:12 BENCHMARKS.md §99', …]. */
function danglingCitations(files, sections) {
  const dangling = [];
  for (const [file, text] of files) {
    for (const c of citationsIn(text)) {
      if (!sections[c.doc].has(c.section)) dangling.push(`${file}:${text.slice(0, c.index).split('\n').length} ${c.doc} §${c.section}`);
    }
  }
  return dangling;
}

describe('BENCHMARKS.md sections cited in the code and docs', () => {
  const sections = Object.fromEntries(Object.entries(DOCS).map(([name, file]) => [name, sectionsOf(fs.readFileSync(file, 'utf8'))]));

  it('reads the section headings of both files', () => {
    for (const n of ['1', '10b', '14', '15', '18']) assert.ok(sections['BENCHMARKS.md'].has(n), `BENCHMARKS.md has §${n}`);
    for (const n of ['4', '14', '16']) assert.ok(sections['BENCHMARKS-HISTORY.md'].has(n), `docs/BENCHMARKS-HISTORY.md has §${n}`);
  });

  it('flags a citation of a section that does not exist', () => {
    const files = [
      ['a.ts', '// measured (BENCHMARKS.md §14)\n// see BENCHMARKS.md\n// * §99 and docs/BENCHMARKS-HISTORY.md § 4'],
      ['b.html', 'figures: BENCHMARKS.md § 10b, BENCHMARKS.md §10c'],
    ];
    assert.deepStrictEqual(danglingCitations(files, sections), ['a.ts:2 BENCHMARKS.md §99', 'b.html:1 BENCHMARKS.md §10c']);
  });

  it('every "BENCHMARKS.md §N" in src/, bench/, docs/, test/, examples/ and the README is a heading there', () => {
    const files = citingFiles();
    const count = files.reduce((n, [, text]) => n + citationsIn(text).length, 0);
    assert.ok(count >= 30, `found the citations (${count})`);
    assert.deepStrictEqual(danglingCitations(files, sections), [], 'cited sections that are not headings of the cited file');
  });

  it('keeps every section number of the history in BENCHMARKS.md (a moved section leaves a stub)', () => {
    const missing = [...sections['BENCHMARKS-HISTORY.md']].filter((n) => !sections['BENCHMARKS.md'].has(n));
    assert.deepStrictEqual(missing, []);
  });
});
