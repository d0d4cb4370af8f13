'use strict';
// Telling nodes and faces apart: the node families have icons of their own (at least
// 10 distinct ones, each a 40×60 SVG that renders), and the debug overlay's labels grow with the
// face on a dark plate instead of staying 7 px tall.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');
const { createRuntime } = require('../dist/runtime');
const { labelScaleFor, GLYPH_HEIGHT } = require('../dist/runtime/internal');
const { MEDIA } = require('./helpers/fixtures');

const ROOT = path.join(__dirname, '..');
const TYPES = Object.keys(require('../package.json')['node-red'].nodes);
const CONFIG_TYPES = ['facefusion-config', 'facefusion-queue', 'face-library'];

/** The icon each node type registers in its editor definition. */
function iconOf(type) {
  const html = fs.readFileSync(path.join(ROOT, 'src', 'nodes', `${type}.html`), 'utf8');
  const m = /\bicon:\s*'([^']+)'/.exec(html);
  return m ? m[1] : undefined;
}

describe('palette icons and overlay labels', function () {
  this.timeout(60000);

  it('at least 10 distinct icons, one per node family, each shipped and rendering as 40×60', async function () {
    const icons = new Map();
    for (const type of TYPES) {
      const icon = iconOf(type);
      if (CONFIG_TYPES.includes(type)) continue; // config nodes have none in the palette
      assert.ok(icon, `${type} names an icon`);
      assert.ok(!icon.startsWith('font-awesome/'), `${type} uses its own icon, not ${icon}`);
      const file = path.join(ROOT, 'icons', icon);
      assert.ok(fs.existsSync(file), `${type}: icons/${icon} exists`);
      icons.set(type, icon);
    }
    const distinct = new Set(icons.values());
    assert.ok(distinct.size >= 10, `${distinct.size} distinct icons: ${[...distinct].join(', ')}`);
    // The families the issue names do not share an icon with one another.
    const families = [
      ['face-detect', 'face-landmark', 'face-embed'],
      ['face-swap', 'face-enhance'],
      ['face-blur'],
      ['face-video-in', 'face-video-out'],
      ['face-job', 'face-worker'],
      ['face-pack', 'face-unpack'],
      ['face-enrol', 'face-recognize', 'face-forget'],
    ];
    const byFamily = families.map((f) => new Set(f.map((t) => icons.get(t))));
    for (let i = 0; i < byFamily.length; i++) {
      for (let j = i + 1; j < byFamily.length; j++) {
        for (const icon of byFamily[i]) assert.ok(!byFamily[j].has(icon), `${icon} is shared by ${families[i]} and ${families[j]}`);
      }
    }
    for (const icon of distinct) {
      const meta = await sharp(path.join(ROOT, 'icons', icon)).metadata();
      assert.deepStrictEqual([meta.width, meta.height], [40, 60], icon);
      const { data, info } = await sharp(path.join(ROOT, 'icons', icon))
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      let drawn = 0;
      for (let i = 3; i < data.length; i += info.channels) if (data[i] > 128) drawn++;
      assert.ok(drawn > 60, `${icon} draws something (${drawn} px)`);
    }
  });

  it('the built package ships every icon next to the node files', function () {
    for (const type of TYPES) {
      const icon = iconOf(type);
      if (icon) assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'nodes', 'icons', icon)), `dist/nodes/icons/${icon}`);
    }
  });

  it('overlay labels scale with the face: 14 px at least, about a sixth of the face, 56 px at most', function () {
    assert.strictEqual(labelScaleFor(30) * GLYPH_HEIGHT, 14);
    assert.strictEqual(labelScaleFor(120) * GLYPH_HEIGHT, 21);
    assert.strictEqual(labelScaleFor(600) * GLYPH_HEIGHT, 56);
    assert.ok(labelScaleFor(240) > labelScaleFor(120));
  });

  it("face debug draws each face's label on a dark plate above its box, as tall as the face calls for", async function () {
    const rt = createRuntime({ sweepIntervalMs: 0 });
    try {
      const token = await rt.createToken({ target: path.join(MEDIA, 'fr_two_people.jpg'), operations: ['detect', 'debug'] });
      const out = await rt.run(token);
      assert.strictEqual(out.state, 'done', JSON.stringify(out.error));
      const frame = rt.frame(out.target.frame);
      assert.ok(out.faces.length >= 2);
      for (const face of out.faces) {
        const [x1, y1, , y2] = face.bbox.map(Math.round);
        const textHeight = labelScaleFor(y2 - y1) * GLYPH_HEIGHT;
        assert.ok(textHeight >= 14, `label ${textHeight} px for a ${y2 - y1} px face`);
        // Above the box (or inside its top when the face touches the top edge): a plate of
        // black pixels with green text pixels, as tall as the text plus its padding.
        const plateTop = y1 - textHeight - 2 * (textHeight / GLYPH_HEIGHT) >= 0 ? y1 - textHeight - 2 * (textHeight / GLYPH_HEIGHT) : y1 + 2;
        let black = 0,
          green = 0;
        for (let y = plateTop + 1; y < plateTop + textHeight; y++) {
          for (let x = Math.max(0, x1) + 1; x < Math.max(0, x1) + 3 * textHeight; x++) {
            const p = (y * frame.width + x) * frame.channels;
            const [r, g, b] = [frame.data[p], frame.data[p + 1], frame.data[p + 2]];
            if (r === 0 && g === 0 && b === 0) black++;
            else if (r === 0 && g === 230 && b === 64) green++;
          }
        }
        assert.ok(black > green && green > textHeight, `face at ${face.bbox.map(Math.round)}: ${black} plate and ${green} text pixels`);
      }
      rt.release(out);
    } finally {
      await rt.close();
    }
  });
});
