import { FaceError, type ErrorCode } from '../errors';

/** Default BullMQ queue name for face jobs. */
export const DEFAULT_QUEUE_NAME = 'facefusion-jobs';

/** BullMQ job name of a face job. */
export const FACE_JOB_NAME = 'face-job';

/** Where cancel requests go: a key per job (seen by a worker that picks the job up later) and a channel (seen by the worker running it). */
export function cancelKey(prefix: string, queue: string, id: string): string {
  return `${prefix}:${queue}:ff-cancel:${id}`;
}
export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:ff-cancel`;
}

/** Job errors travel through Redis as "E_CODE: message" (BullMQ keeps a failure as a string). */
export function encodeFailure(error: { code: string; message: string }): string {
  return `${error.code}: ${error.message}`;
}

export function decodeFailure(reason: string | undefined): { code: ErrorCode; message: string } | undefined {
  if (!reason) return undefined;
  const m = /^(E_[A-Z_]+): ([\s\S]*)$/.exec(reason);
  return m ? { code: m[1] as ErrorCode, message: m[2] } : { code: 'E_JOB', message: reason };
}

/**
 * Failures that another attempt cannot fix: bad arguments, a missing or wrong model, a refused
 * path, a cancel. These end the job at once; anything else (a decoder that died, a full store, a
 * worker that stalled) is tried again up to the job's attempts.
 */
export const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'E_JOB',
  'E_BAD_OUTPUT',
  'E_BAD_PARAMETER',
  'E_BAD_IMAGE',
  'E_PATH_DENIED',
  'E_MODEL_CONTRACT',
  'E_MODEL_MISSING',
  'E_MODEL_INTEGRITY',
  'E_UNSUPPORTED_SOURCE',
  'E_NO_SOURCE',
  'E_CLOSED',
  'E_FFMPEG_MISSING',
]);

export function queueError(message: string, cause?: unknown): FaceError {
  return new FaceError('E_JOB', message, cause === undefined ? {} : { cause });
}
