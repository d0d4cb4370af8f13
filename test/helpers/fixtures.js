'use strict';
// Where the suite's own fixtures are. Everything a clean clone needs is in test/fixtures (see its
// README for sources and licences). Only test-only model files whose licence does not let us
// commit them (the SCRFD detector) come from the folder named by FACEFUSION_TEST_MODELS; the
// tests that need them are reported as pending, with the reason, when that folder does not have them.
const fs = require('fs');
const path = require('path');

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const MEDIA = path.join(FIXTURES, 'media');
const LABELLED = path.join(MEDIA, 'labelled');
const media = (file) => path.join(MEDIA, file);

/** YuNet 640 (MIT upstream), committed with the fixtures. */
const YUNET = path.join(FIXTURES, 'models', 'yunet_640_test.onnx');

const TEST_MODELS_ENV = 'FACEFUSION_TEST_MODELS';

/** Path of a test-only model from $FACEFUSION_TEST_MODELS, or null when it is not there. */
function testModel(file) {
  const dir = process.env[TEST_MODELS_ENV];
  if (!dir) return null;
  const p = path.join(dir, file);
  return fs.existsSync(p) ? p : null;
}

function missingReason(file) {
  const dir = process.env[TEST_MODELS_ENV];
  return dir ? `${file} is not in ${TEST_MODELS_ENV}=${dir}` : `${file} needs ${TEST_MODELS_ENV} (a folder with test-only models; .ci/run points it at ../shared/models)`;
}

/** Why tests were left pending in this run, with how many: printed at the end (test/helpers/root-hooks.js). */
const pendingReasons = new Map();

/** Marks the calling test or suite (mocha `this`) pending and records why. */
function pending(ctx, reason) {
  pendingReasons.set(reason, (pendingReasons.get(reason) || 0) + 1);
  ctx.skip();
}

/**
 * The path of a test-only model, or marks the calling test/suite (mocha `this`) pending with the
 * reason. The reasons are printed once at the end of the run (see test/pending-report.test.js).
 */
function requireTestModel(ctx, file) {
  const p = testModel(file);
  if (p) return p;
  pending(ctx, missingReason(file));
  return null;
}

const SCRFD_FILE = 'scrfd_2.5g_test.onnx';

module.exports = { FIXTURES, MEDIA, LABELLED, media, YUNET, TEST_MODELS_ENV, SCRFD_FILE, testModel, requireTestModel, pending, pendingReasons };
