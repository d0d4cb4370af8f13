import type { Stage } from '../token/types';
import type { JobArgs } from './args';
import type { JobProgress } from './progress';
import type { DowngradeTransition } from '../policy/downgrade';
import type { OverloadPolicy } from '../video/decoder';
import type { PrivacyStats } from '../faces/face-stream';

/**
 * A live run's overload decisions: the decoder's policy and what it dropped, and how the output
 * kept time for the dropped frames.
 */
export interface LiveSummary {
  /** The overload policy in effect (`block`: nothing dropped, the delay grows instead). */
  policy: OverloadPolicy;
  /** Frames that may wait before the policy drops. */
  maxQueue: number;
  /** every-nth: one frame kept in this many. */
  everyNth?: number;
  /** Most frames that waited at once. */
  queuePeak: number;
  /** Source frames the policy dropped (also counted in framesDropped). */
  dropped: number;
  /** Output indexes shown as the previous frame (= framesRepeated). */
  repeated: number;
  /** `hold`: by the previous frame's timestamp, nothing encoded; `repeat`: the previous frame encoded again. */
  gaps: 'hold' | 'repeat';
  /** The camera's frame rate and interval (what a frame may cost to keep up). */
  fps: number;
  frameIntervalMs: number;
  /** The x264 preset of the output (ultrafast by default for a camera of a high pixel rate per core: io-defaults LIVE_FAST_PRESET). */
  preset: string;
}

/** Raised once per job when `alert_after_failures` frames failed. */
export interface JobAlert {
  code: 'E_FAILURE_ALERT';
  jobId: string;
  message: string;
  framesFailed: number;
  threshold: number;
  /** The error of the last frame that failed. */
  lastError?: { code: string; message: string };
}

export const JOB_STATES = ['drafted', 'queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** What a finished job produced. */
export interface JobResult {
  kind: 'image' | 'video';
  /** Absolute output path (or the stream URL). */
  output: string;
  /** Frames written (1 for an image). */
  frames: number;
  framesProcessed: number;
  /** Frames whose stages failed (written unchanged, dropped or retried per failure_policy). */
  framesFailed: number;
  framesDropped: number;
  /** Frames without a face (written unchanged). */
  framesNoFace: number;
  /** Faces a swap or enhance left unchanged, summed over the frames: not a face (face-likeness check) or turned too far from the source (pose guard); each frame's journal says which and why. */
  facesSkipped: number;
  /** Frames read from the source (video). */
  framesRead?: number;
  /** Frames written to the output, repeats included (video; same as `frames`). */
  framesWritten?: number;
  /**
   * Indexes the output shows as the previous frame because their own frame was dropped (video;
   * live sources): held on screen by its timestamp, or written again (`live.gaps`).
   */
  framesRepeated?: number;
  /** How a live source's overload was handled (live sources only). */
  live?: LiveSummary;
  /** The job was stopped early (a live source stopped by the user) and its output closed properly. */
  stopped?: boolean;
  /** Frames whose optional work the downgrade policy dropped (job arg `downgrade`). */
  framesDowngraded: number;
  /** Frames that finished too late to be written: after their index was given up, or after the grace of a stop (video). */
  framesLate?: number;
  /** What the downgrade policy dropped and restored, in order (empty without `downgrade`). */
  downgrades: DowngradeTransition[];
  /** Alerts raised (job arg `alert_after_failures`). */
  alerts: JobAlert[];
  width: number;
  height: number;
  /** Output frame rate (video). */
  fps?: number;
  /** Output duration in seconds (video). */
  durationSec?: number;
  /** Whether the source audio was muxed in (video). */
  audio?: boolean;
  /** Wall time of the processing. */
  elapsedSec: number;
  /** Frames processed per second of wall time. */
  processingFps: number;
  /** Worker threads that ran the pixel stages (video; 0 = the main thread did). */
  pixelWorkers?: number;
  /**
   * What the privacy blur covered (jobs with the blur stage): faces blurred, frames fully scanned
   * vs covered by the rolling scan and the tracks, the smallest face covered, frames that could not
   * be fully scanned within the scan interval (see faces/face-stream.ts).
   */
  privacy?: PrivacyStats;
  stages: Stage[];
}

/** A job as getJob/listJobs report it (a snapshot; changing it changes nothing). */
export interface JobInfo {
  id: string;
  state: JobState;
  kind: 'image' | 'video';
  args: JobArgs;
  stages: Stage[];
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  progress: JobProgress;
  result?: JobResult;
  error?: { code: string; message: string };
  /** Alerts raised so far (`alert_after_failures`). */
  alerts: JobAlert[];
  /** ffmpeg pids while the job runs (diagnostics, tests). */
  processes: { decoder?: number; encoder?: number };
}

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);
