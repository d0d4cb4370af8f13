/**
 * node-red-contrib-facefusion runtime: a plain library (no Node-RED import).
 *
 *   const { createRuntime } = require('node-red-contrib-facefusion');
 *   const rt = createRuntime();
 *   const token = await rt.createToken({ target: 'in.jpg', source: 'me.jpg', operations: ['detect', 'landmark', 'embed', 'swap'] });
 *   const done = await rt.run(token);
 *   fs.writeFileSync('out.jpg', await rt.encode(done));
 *   rt.release(done); await rt.close();
 *
 * This is the package's public entry and is kept narrow (at most 30 names, counted by
 * test/public-entry.test.js): the runtime, the token, face and job types a caller handles, the
 * error class and its codes, and the job manager. Everything else (frame store, session pool,
 * model cache, policies, vision, video, faces, library, queue) is in `./internal.ts`
 * (dist/runtime/internal.js), which may change between versions. See docs/ARCHITECTURE.md,
 * "Entry points".
 */
export { Runtime, createRuntime } from './runtime';
export type { RuntimeOptions, TokenInput, ImageInput, DeviceRequest, Logger } from './runtime';
export type { Frame } from './vision/frame';
export { FaceError, isFaceError } from './errors';
export type { ErrorCode } from './errors';
export { STAGES, isFaceToken } from './token';
export type { FaceToken, Face, Parameters, Stage, TokenState, TokenError, JournalEntry } from './token';
export { JobManager } from './jobs/job-manager';
export type { JobManagerOptions, JobManagerEvents, CreateJobOptions } from './jobs/job-manager';
export type { JobArgs, JobInfo, JobResult, JobState, JobProgress } from './jobs';
