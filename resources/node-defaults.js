/* The one table of default values per node type, read by both sides (docs/ARCHITECTURE.md,
   "Dialog defaults and saved flows"):
   - the editor: resources/node-red-contrib-facefusion/node-defaults.js, loaded by each node's
     .html; resources/facefusion-editor.js builds the node's `defaults` from it and fills the
     fields a saved flow lacks (a flow saved before a field existed) when its dialog opens;
   - the runtime: src/nodes/lib/node-defaults.ts requires this file and fills the same missing
     fields before a node reads its options.
   So what a dialog shows for an option and what runs are the same value. A field added to a
   node goes here, and nowhere else gets a default. '' means "use the token's value".
   A field renamed or re-typed also needs a step in resources/node-migrations.js (saved flows). */
(function (root, factory) {
  'use strict';
  var table = factory();
  if (typeof module === 'object' && module.exports) module.exports = table;
  else root.FaceFusionDefaults = table;
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';
  function stage(extra) {
    var out = { name: '', config: '', onNoFace: 'pass', onFailure: 'catch', retries: 2, failureOutput: false, outputs: 1, queueSize: 10, dropWhenBusy: false, releaseDropped: true };
    for (var key in extra) out[key] = extra[key];
    return out;
  }
  return {
    'facefusion-config': {
      name: '',
      device: 'auto',
      threads: 0,
      spinWait: false,
      modelsDir: '',
      frameBudgetMB: 512,
      tokenTtl: 300,
      storeWait: 10,
      maxImageMP: 64,
      allowSvg: false,
      allowedFolders: '',
      allowedHosts: '',
      overload: 'keep',
      frameBudgetMs: '',
    },
    'face-token': { name: '', config: '', source: '', blendRatio: '', faceSelector: '', scoreThreshold: '', maxFaces: '', queueSize: 10 },
    'face-detect': stage({ model: '', scoreThreshold: '', maxFaces: '', tiling: '', minFace: '', scanInterval: '' }),
    'face-landmark': stage({ model: '' }),
    'face-embed': stage({ model: '' }),
    'face-swap': stage({ model: '', blendRatio: '', faceSelector: '', referenceDistance: '', pixelBoost: '', swapperWeight: '', maskTypes: '', maskRegions: '', maskBlur: '' }),
    'face-enhance': stage({ model: '', blendRatio: '', faceSelector: '', enhancerWeight: '' }),
    'face-blur': stage({ mode: '', strength: '', margin: '', shape: '', holdFrames: '', holdMotion: '', except: '', only: '', matchThreshold: '' }),
    'face-debug': stage({ thumbnail: '' }),
    'face-image': { name: '', config: '', format: 'jpeg', quality: 90, releaseFrames: true, provenance: true, thumbnail: '' },
    'face-pack': { name: '', config: '', format: 'png', quality: 90, sealed: true, releaseFrames: true, queueSize: 10 },
    'face-unpack': { name: '', config: '', allowUnsealed: false, maxMB: '', refuseReplays: false, queueSize: 10 },
    'face-match': { name: '', config: '', reference: '', threshold: 0.5 },
    'face-video-in': { name: '', config: '', source: '', maxInFlight: 4, overload: 'drop-oldest', maxQueue: 25, everyNth: 2 },
    'face-video-out': { name: '', config: '', output: '/tmp/face-video.mp4', fps: '', quality: '', preset: '', keepAudio: true, provenance: true, endTimeout: 10 },
    'face-job': { name: '', config: '', cancelAny: false, queue: '', pixelWorkers: 'auto' },
    'facefusion-queue': { name: '', queueName: 'facefusion-jobs', attempts: 3 },
    'face-worker': { name: '', config: '', queue: '', concurrency: 1 },
    'face-library': { name: '', path: '', thumbnails: false, collectUnknown: false, unknownMax: 50, unknownDays: 7 },
    'face-enrol': { name: '', config: '', library: '', faceChoice: '', queueSize: 10 },
    'face-recognize': {
      name: '',
      config: '',
      library: '',
      threshold: 0.55,
      camera: '',
      snapshot: 'off',
      topic: 'facefusion',
      holdFrames: 25,
      unknownAfter: 3,
      queueSize: 10,
      dropWhenBusy: false,
      releaseFrames: false,
    },
    'face-forget': { name: '', library: '' },
  };
});
