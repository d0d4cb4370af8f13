'use strict';
// Shared set-up for node-red-node-test-helper tests: our nodes plus the core nodes examples use.
const path = require('path');
const helper = require('node-red-node-test-helper');

helper.init(require.resolve('node-red'));

const NODE_TYPES = [
  'facefusion-config',
  'face-token',
  'face-detect',
  'face-landmark',
  'face-embed',
  'face-swap',
  'face-enhance',
  'face-blur',
  'face-debug',
  'face-image',
  'face-match',
  'face-pack',
  'face-unpack',
];
const ourNodes = NODE_TYPES.map((t) => require(`../../dist/nodes/${t}.js`));
const core = (p) => require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', p));
const coreNodes = [core('common/20-inject.js'), core('common/25-catch.js'), core('common/90-comment.js'), core('storage/10-file.js')];

const { MEDIA } = require('./fixtures');

/** Resolves with the next message a node receives, or rejects after `ms`. */
function nextMessage(node, ms = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${node.id} within ${ms} ms`)), ms);
    node.once('input', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** True if the node receives nothing within `ms`. */
function silence(node, ms) {
  return new Promise((resolve) => {
    let got = false;
    const onInput = () => (got = true);
    node.on('input', onInput);
    setTimeout(() => {
      node.removeListener('input', onInput);
      resolve(!got);
    }, ms);
  });
}

/** A test-helper node on the default tab, for flows whose output a test reads. */
const sink = (id) => ({ id, z: 'tab', type: 'helper' });

module.exports = { helper, ourNodes, coreNodes, allNodes: [...ourNodes, ...coreNodes], MEDIA, NODE_TYPES, nextMessage, silence, sink };
