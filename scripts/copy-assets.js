// Copies editor assets (.html, locales) next to the compiled node files, as Node-RED expects.
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..');
const srcNodes = path.join(root, 'src', 'nodes');
const outNodes = path.join(root, 'dist', 'nodes');
if (fs.existsSync(srcNodes)) {
  fs.mkdirSync(outNodes, { recursive: true });
  for (const name of fs.readdirSync(srcNodes)) {
    const from = path.join(srcNodes, name);
    if (name.endsWith('.html') || name === 'locales' || name === 'icons') {
      fs.cpSync(from, path.join(outNodes, name), { recursive: true });
    }
  }
  const icons = path.join(root, 'icons');
  if (fs.existsSync(icons)) fs.cpSync(icons, path.join(outNodes, 'icons'), { recursive: true });
}
