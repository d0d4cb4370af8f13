// The demo tab `npm start` puts in a fresh user directory: examples 1 (swap) and 2 (blur) side by
// side on one tab with one face runtime, running on the package's sample pictures and showing
// their results as thumbnails. Written on first start only: an existing flows file is never touched.
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const TAB = 'fdemo00000000tab';
const CONFIG = 'fdemo00000000cfg';
const DEMO = [
  { file: '01-swap-face-in-picture.json', dy: 60 },
  { file: '02-blur-faces-privacy.json', dy: 580 }, // below example 1's thumbnail
];

/**
 * Demo ids differ from the examples' ("ff…" → "fd…") so importing an example later gives no
 * conflict, except the face runtime, which every example shares with the demo (`CONFIG`).
 */
const demoId = (id) => `fd${id.slice(2)}`;

function buildDemoFlows(root = ROOT) {
  const nodes = [
    {
      id: TAB,
      type: 'tab',
      label: 'FaceFusion demo',
      disabled: false,
      info: 'Press the button of a "sample" inject: the result appears under the face image node. More examples: menu → Import → Examples → node-red-contrib-facefusion.',
    },
  ];
  for (const { file, dy } of DEMO) {
    for (const n of JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8'))) {
      if (n.type === 'facefusion-config') {
        // The examples share one runtime (one config node id): the demo's, so importing an example later keeps one.
        if (n.id !== CONFIG) throw new Error(`${file}: its runtime is ${n.id}, not the shared ${CONFIG}`);
        if (!nodes.some((m) => m.id === CONFIG)) nodes.push({ ...n });
        continue;
      }
      const copy = { ...n, id: demoId(n.id), z: TAB, y: (n.y || 0) + dy };
      if (copy.wires) copy.wires = copy.wires.map((out) => out.map(demoId));
      nodes.push(copy);
    }
  }
  return nodes;
}

/** Writes the demo into `<userDir>/<flowFile>` unless a flows file is already there; returns whether it did. */
function seedFlows(userDir, flowFile = 'flows.json', root = ROOT) {
  const file = path.join(userDir, flowFile);
  if (fs.existsSync(file)) return false;
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(buildDemoFlows(root), null, 2), { flag: 'wx' }); // wx: never overwrite
  return true;
}

module.exports = { buildDemoFlows, seedFlows, TAB, CONFIG };
