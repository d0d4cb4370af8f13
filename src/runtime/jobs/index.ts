/** Headless face jobs (FaceFusion-style args) on one Runtime: images and videos. */
export { JobManager, DEFAULT_PIXEL_WORKERS, checkPixelWorkers, pixelWorkersFor } from './job-manager';
export type { JobManagerOptions, JobManagerEvents, JobNotice } from './job-manager';
export { JobManagerRegistry } from './registry';
export { JobArgsValidator, isImagePath, IMAGE_EXTENSIONS, MAX_PIXEL_WORKERS } from './args';
export type { JobArgs, FailurePolicy, NormalizedJob } from './args';
export { resolveStages, knownProcessors, PROCESSOR_ALIASES } from './processors';
export type { JobProgress } from './progress';
export { JOB_STATES } from './types';
export type { JobAlert, JobInfo, JobResult, JobState, LiveSummary } from './types';
export type { JobFrameInfo } from './video-job';
export { jobSummary } from './summary';
export type { JobSummary } from './summary';
export { FrameTokenSource, FrameTokenSink } from './frame-streams';
export { PixelWorkerPool } from './pixel-workers';
export { PIXEL_WORKER_STAGES } from './pixel-protocol';
export type { FrameTokenSourceOptions, FrameTokenSourceDecoderOptions, FrameTokenSinkOptions, SinkResult, SourcedToken } from './frame-streams';
