// Node-RED settings for `npm start` and the browser test: loads this package straight from the
// repository (nodesDir), so its nodes, icons and example flows appear without an install step.
'use strict';
const path = require('path');

module.exports = {
  uiHost: process.env.HOST || '127.0.0.1',
  uiPort: Number(process.env.PORT || 1880),
  nodesDir: [path.join(__dirname, '..')],
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || 'facefusion-local-dev',
  flowFile: 'flows.json',
  editorTheme: { projects: { enabled: false }, tours: false },
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  externalModules: { palette: { allowInstall: false } },
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
