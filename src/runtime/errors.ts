/**
 * Errors are values with a code and a human message. Every failure the user can see
 * (node status, Catch node, CLI) carries one of these codes.
 */
export type ErrorCode =
  | 'E_BAD_IMAGE'
  | 'E_NO_FACE'
  | 'E_NO_SOURCE'
  | 'E_MODEL_CONTRACT'
  | 'E_MODEL_MISSING'
  | 'E_MODEL_INTEGRITY'
  | 'E_TOKEN_EXPIRED'
  | 'E_TOKEN_INVALID'
  | 'E_TOKEN_SEALED'
  | 'E_FRAME_MISSING'
  | 'E_PATH_DENIED'
  | 'E_STORE_CLOSED'
  | 'E_FRAME_TOO_LARGE'
  /** The frame store stayed full for longer than a producer may wait (nothing was allocated). */
  | 'E_STORE_FULL'
  | 'E_SESSION'
  | 'E_BAD_PARAMETER'
  | 'E_CLOSED'
  | 'E_FFMPEG_MISSING'
  | 'E_VIDEO_OPEN'
  | 'E_VIDEO_DECODE'
  | 'E_VIDEO_ENCODE'
  | 'E_BAD_OUTPUT'
  | 'E_UNSUPPORTED_SOURCE'
  | 'E_JOB'
  /** The face library's database file cannot be used (corrupt, another application's, newer, locked). */
  | 'E_LIBRARY'
  | 'E_INTERNAL';

export class FaceError extends Error {
  readonly code: ErrorCode;
  /** Stage that raised it, when known (detect, swap, …). */
  readonly stage?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { stage?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FaceError';
    this.code = code;
    this.stage = options.stage;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; stage?: string } {
    return { code: this.code, message: this.message, ...(this.stage ? { stage: this.stage } : {}) };
  }
}

export function faceError(code: ErrorCode, message: string, options?: { stage?: string; details?: Record<string, unknown>; cause?: unknown }): FaceError {
  return new FaceError(code, message, options);
}

export function isFaceError(value: unknown): value is FaceError {
  return value instanceof FaceError;
}

/** Wraps anything thrown into a FaceError, keeping codes that are already there. */
export function toFaceError(value: unknown, fallback: ErrorCode = 'E_INTERNAL', stage?: string): FaceError {
  if (value instanceof FaceError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new FaceError(fallback, message, { stage, cause: value });
}
