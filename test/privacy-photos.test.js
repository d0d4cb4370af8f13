'use strict';
// Large photos through the doors users take: the CLI on a 25-megapixel photo blurs every face
// (it used to report no face and exit 0), and says what it covered.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const sharp = require('sharp');
const { bigPhoto, changedFractions } = require('./helpers/big-photo');

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'facefusion-node.js');

describe('privacy blur on large photos', function () {
  this.timeout(180000);
  let dir, photo;
  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-photos-'));
    photo = await bigPhoto();
    fs.writeFileSync(path.join(dir, 'big.jpg'), photo.jpeg);
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('CLI: a 25 MP photo with 6 faces of ≈ 400–540 px comes back with all 6 blurred, exit 0, and --json says faces ≥ 20 px were covered', async function () {
    const output = path.join(dir, 'out.jpg');
    const { code, stdout, stderr } = await new Promise((resolve) =>
      execFile(process.execPath, [CLI, 'run', '--target', path.join(dir, 'big.jpg'), '--output', output, '--processors', 'blur', '--json'], { maxBuffer: 1 << 24 }, (error, stdout, stderr) =>
        resolve({ code: error ? error.code : 0, stdout, stderr }),
      ),
    );
    assert.strictEqual(code, 0, stderr);
    const summary = JSON.parse(stdout);
    assert.strictEqual(summary.noFace, 0);
    assert.strictEqual(summary.privacy.minFaceCovered, 20);
    assert.strictEqual(summary.privacy.framesFullScan, 1);
    assert.strictEqual(summary.privacy.framesNotCovered, 0);
    assert.ok(summary.privacy.facesBlurred >= 6, JSON.stringify(summary.privacy));
    assert.ok(summary.privacy.planTiles > 100, 'a 25 MP photo needs the fine tiles too');
    const raw = async (bytes) => (await sharp(bytes).raw().toBuffer({ resolveWithObject: true })).data;
    const fractions = changedFractions(await raw(photo.jpeg), await raw(fs.readFileSync(output)), photo.width, photo.boxes);
    assert.ok(
      fractions.every((f) => f > 0.5),
      `changed share of each face box: ${fractions.map((f) => f.toFixed(2)).join(' ')}`,
    );
  });
});
