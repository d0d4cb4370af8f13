'use strict';
// Set-up shared by the zoo adapter tests: where the real media are, graph
// initializer shorthands, a run() spy, the 5 points of a real face and model files that are
// removed afterwards.
const path = require('path');
const { writeModel } = require('./onnx-graph');
const { readImageFile } = require('../../dist/runtime/internal');
const zoo = require('../../dist/runtime/internal');

const { MEDIA, YUNET } = require('./fixtures');

const int64 = (name, data) => ({ name, type: 'int64', dims: [data.length], data });
const scalar = (name, v) => ({ name, dims: [1], data: [v] });

/** A handle whose run() records what it was fed (a copy of every tensor), then runs the model. */
function spy(handle) {
  const feeds = [];
  const proxy = Object.create(handle);
  proxy.run = async (f) => {
    const copy = {};
    for (const [name, t] of Object.entries(f)) copy[name] = { dims: [...t.dims], data: Float32Array.from(t.data) };
    feeds.push(copy);
    return handle.run(f);
  };
  return { handle: proxy, feeds };
}

/** Reads media/<name> and finds its first face's 5 points with the committed YuNet file on `pool`. */
async function faceWithPoints(pool, name) {
  const frame = await readImageFile(path.join(MEDIA, name));
  const det = await pool.acquire(YUNET, { contract: zoo.YUNET_CONTRACT });
  try {
    const faces = await new zoo.YunetDetector(det).detect(frame, { scoreThreshold: 0.5, maxFaces: 1 });
    if (faces.length === 0) throw new Error(`no face found in ${name}`);
    return { frame, points: faces[0].landmarks5 };
  } finally {
    await det.release();
  }
}

/** Writes built graphs to temporary files; cleanup() removes every one written. */
function modelFiles() {
  const cleanups = [];
  return {
    write(spec, name) {
      const m = writeModel(spec, name);
      cleanups.push(m.cleanup);
      return m.path;
    },
    cleanup() {
      for (const c of cleanups.splice(0)) c();
    },
  };
}

/** The number of positions where two arrays differ. */
const countChanged = (a, b) => {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
};

module.exports = { MEDIA, int64, scalar, spy, faceWithPoints, modelFiles, countChanged };
