'use strict';
// Contract graphs standing in for FaceFusion models whose weights cannot be downloaded here:
// same input/output names, shapes and dtypes, and a behaviour a test can predict.
const int64 = (name, data) => ({ name, type: 'int64', dims: [data.length], data });

/** emap = 2 × a cyclic shift: latent_j = 2·raw_(j−1) / ‖raw‖ (so latent_0 comes from raw_511). */
function shiftEmap() {
  const emap = new Float32Array(512 * 512);
  for (let i = 0; i < 512; i++) emap[i * 512 + ((i + 1) % 512)] = 2;
  return emap;
}

/**
 * inswapper_128 stand-in: output = target + source[0], so the swapped crop shows the first value
 * that reached `source`; its last initializer is the emap.
 */
function inswapperGraph(emap = shiftEmap()) {
  return {
    inputs: [
      { name: 'target', shape: [1, 3, 128, 128] },
      { name: 'source', shape: [1, 512] },
    ],
    outputs: [{ name: 'output', shape: [1, 3, 128, 128] }],
    initializers: [int64('starts', [0]), int64('ends', [1]), int64('axes', [1]), int64('shape4', [1, 1, 1, 1]), { name: 'emap', dims: [512, 512], data: emap }],
    nodes: [
      { op: 'Slice', inputs: ['source', 'starts', 'ends', 'axes'], outputs: ['first'] },
      { op: 'Reshape', inputs: ['first', 'shape4'], outputs: ['first4'] },
      { op: 'Add', inputs: ['target', 'first4'], outputs: ['output'] },
    ],
  };
}

/**
 * arcface_w600k_r50 stand-in: (mean colour of the aligned crop + 2) × a fixed 3×512 matrix →
 * (1,512). Column 511 is large and column 0 zero, so with shiftEmap() the first source value is
 * clearly positive only when the emap was applied.
 */
function arcfaceGraph() {
  const w = new Float32Array(3 * 512);
  for (let c = 0; c < 3; c++) for (let j = 0; j < 512; j++) w[c * 512 + j] = Math.sin(j * 0.37 + c * 1.3);
  for (let c = 0; c < 3; c++) {
    w[c * 512 + 511] = 1.2;
    w[c * 512] = 0;
  }
  return {
    inputs: [{ name: 'input', shape: [1, 3, 112, 112] }],
    outputs: [{ name: 'output', shape: [1, 512] }],
    initializers: [
      { name: 'w', dims: [3, 512], data: w },
      { name: 'two', dims: [1, 3], data: [2, 2, 2] },
    ],
    nodes: [
      { op: 'GlobalAveragePool', inputs: ['input'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'], attrs: { axis: 1 } },
      { op: 'Add', inputs: ['flat', 'two'], outputs: ['shifted'] },
      { op: 'MatMul', inputs: ['shifted', 'w'], outputs: ['output'] },
    ],
  };
}

/** An enhancer (gfpgan-style, (1,3,512,512) → same) that returns its input. */
function identityEnhancerGraph() {
  return {
    inputs: [{ name: 'input', shape: [1, 3, 512, 512] }],
    outputs: [{ name: 'output', shape: [1, 3, 512, 512] }],
    nodes: [{ op: 'Identity', inputs: ['input'], outputs: ['output'] }],
  };
}

/**
 * A gfpgan-shaped enhancer that costs real time: `layers` 3→3 convolutions of a `kernel`×`kernel`
 * averaging filter over the 512×512 crop (≈ layers × 512² × 9 × kernel² multiply-adds), so a test
 * can make the enhance stage slower than a frame budget. The output is the crop, blurred a little.
 */
function slowEnhancerGraph({ layers = 4, kernel = 9 } = {}) {
  const k = kernel;
  const w = new Float32Array(3 * 3 * k * k);
  for (let o = 0; o < 3; o++) for (let i = 0; i < k * k; i++) w[(o * 3 + o) * k * k + i] = 1 / (k * k);
  const pad = (k - 1) / 2;
  const nodes = [];
  let input = 'input';
  for (let l = 0; l < layers; l++) {
    const output = l === layers - 1 ? 'output' : `h${l}`;
    nodes.push({ op: 'Conv', inputs: [input, 'w'], outputs: [output], attrs: { kernel_shape: [k, k], pads: [pad, pad, pad, pad] } });
    input = output;
  }
  return {
    inputs: [{ name: 'input', shape: [1, 3, 512, 512] }],
    outputs: [{ name: 'output', shape: [1, 3, 512, 512] }],
    initializers: [{ name: 'w', dims: [3, 3, k, k], data: w }],
    nodes,
  };
}

module.exports = { int64, shiftEmap, inswapperGraph, arcfaceGraph, identityEnhancerGraph, slowEnhancerGraph };
