import type { JobAlert, JobInfo, LiveSummary } from './types';
import type { DowngradeTransition } from '../policy/downgrade';
import type { PrivacyStats } from '../faces/face-stream';

/**
 * A job's result as one flat JSON object (the CLI's `--json` output and the face-job result
 * message carry the same fields). Counts are frames; `read` = frames decoded, `written` =
 * frames in the output, `held` = frames read but neither written nor dropped (left behind by
 * a failure or a cancel).
 */
export interface JobSummary {
  id: string;
  state: JobInfo['state'];
  kind: 'image' | 'video';
  read: number;
  written: number;
  failed: number;
  dropped: number;
  noFace: number;
  /** Faces a swap or enhance left unchanged (not a face, or turned too far), summed over frames. */
  facesSkipped: number;
  downgraded: number;
  late: number;
  held: number;
  /** Output indexes shown as the previous frame because their frame was dropped (live sources). */
  repeated: number;
  /** Live sources: the overload policy, what it dropped, the queue's peak and how the output kept time. */
  live?: LiveSummary;
  /** Wall time of the processing, seconds. */
  timeSec: number;
  /** Frames processed per second of wall time. */
  fps: number;
  /** Execution provider the sessions got (cpu, cuda), when known. */
  provider?: string;
  /** The model parameters of the job (e.g. face_enhancer_model); absent keys use the embedded defaults. */
  models: Record<string, string>;
  output?: string;
  width?: number;
  height?: number;
  stages: string[];
  /** Worker threads that ran the pixel stages (video; 0 = the main thread). */
  pixelWorkers?: number;
  alerts: JobAlert[];
  downgrades: DowngradeTransition[];
  /** Jobs that blur: what the privacy blur covered (see JobResult.privacy). */
  privacy?: PrivacyStats;
  error?: { code: string; message: string };
}

export function jobSummary(info: JobInfo, provider?: string): JobSummary {
  const r = info.result;
  const p = info.progress;
  const read = r ? r.framesProcessed : p.framesDone;
  const written = r ? r.frames : 0;
  const dropped = r ? r.framesDropped : p.framesDropped;
  const models: Record<string, string> = {};
  for (const [key, value] of Object.entries(info.args.parameters ?? {})) if (key.endsWith('_model') && typeof value === 'string') models[key] = value;
  return {
    id: info.id,
    state: info.state,
    kind: info.kind,
    read,
    written,
    failed: r ? r.framesFailed : p.framesFailed,
    dropped,
    noFace: r ? r.framesNoFace : 0,
    facesSkipped: r?.facesSkipped ?? 0,
    downgraded: r ? r.framesDowngraded : p.framesDowngraded,
    late: r?.framesLate ?? 0,
    held: Math.max(0, read - written - dropped),
    repeated: r?.framesRepeated ?? 0,
    ...(r?.live ? { live: { ...r.live } } : {}),
    timeSec: round(r ? r.elapsedSec : 0),
    fps: r ? round(r.processingFps) : p.fps,
    ...(provider ? { provider } : {}),
    models,
    ...(r ? { output: r.output, width: r.width, height: r.height } : { output: info.args.output_path }),
    stages: [...info.stages],
    ...(r?.pixelWorkers !== undefined ? { pixelWorkers: r.pixelWorkers } : {}),
    alerts: (r?.alerts ?? info.alerts).map((a) => ({ ...a })),
    downgrades: (r?.downgrades ?? []).map((d) => ({ ...d })),
    ...(r?.privacy ? { privacy: { ...r.privacy, notCoveredFrames: [...r.privacy.notCoveredFrames] } } : {}),
    ...(info.error ? { error: { ...info.error } } : {}),
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
