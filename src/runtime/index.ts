/**
 * node-red-contrib-facefusion runtime: a plain library (no Node-RED import).
 *
 *   const { createRuntime } = require('node-red-contrib-facefusion');
 *   const rt = createRuntime();
 *   const token = await rt.createToken({ target: 'in.jpg', source: 'me.jpg', operations: ['detect', 'landmark', 'embed', 'swap'] });
 *   const done = await rt.run(token);
 *   fs.writeFileSync('out.jpg', await rt.encode(done));
 *   rt.release(done); await rt.close();
 */
export { Runtime, createRuntime } from './runtime';
export type { RuntimeOptions, TokenInput, ImageInput, DeviceRequest, Logger } from './runtime';
export * from './errors';
export { PathPolicy, MESSAGE_URL_SCHEMES, foldersFromText, redact } from './policy/path-policy';
export { DowngradePolicy, DOWNGRADE_STEPS } from './policy/downgrade';
export type { DowngradeOptions, DowngradeStep, DowngradeReason, DowngradeState, DowngradeTransition, DowngradePlan, MemorySample } from './policy/downgrade';
export * from './token';
export { FrameStore, InFlightLimit } from './store';
export type { FrameStoreOptions, FrameStoreStats, PutOptions, Reservation, ReleaseListener, ReleaseOptions, ReleaseReason } from './store';
export { SessionPool } from './sessions/session-pool';
export { ModelCache } from './models/model-cache';
export { chooseModelsDir, describeModelsDir } from './models/models-dir';
export type { ModelsDirChoice, ModelsDirReason } from './models/models-dir';
export type { ModelListing, FetchProgress } from './models/model-cache';
export { loadManifest, isPermissiveLicense } from './models/manifest';
export type { ManifestEntry } from './models/manifest';
export { resolveModel, entryForFile } from './models/model-ref';
export type { Frame, Point, Box, Rect, Affine } from './vision/frame';
export { createFrame, cloneFrame, frameBytes } from './vision/frame';
export { decodeImage, encodeImage, readImageFile } from './vision/codec';
export { cosineSimilarity, landmarks5From68 } from './faces/landmarks';
export { selectFaces } from './faces/select';
export { matchFaces, assertSameRecognizer } from './faces/match';
export type { Identity, FaceMatch } from './faces/match';
export { PROCESSORS } from './processors';
export { SAMPLES_DIR, isSampleRef, listSamples, resolveSample } from './samples';
export type { Processor, ProcessorContext, ProcessOptions } from './processors';
export * from './library';
