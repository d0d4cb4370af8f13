/** Progress of a running job, as sent with the `progress` event. */
export interface JobProgress {
  id: string;
  framesDone: number;
  /** Known for files (estimated from duration × fps), absent for live streams. */
  framesTotal?: number;
  /** Frames per second over the run so far. */
  fps: number;
  etaSec?: number;
  /** 0–100; stays below 100 until the job completes. */
  percent?: number;
  framesFailed: number;
  framesDropped: number;
  /** Frames whose optional work the downgrade policy dropped. */
  framesDowngraded: number;
}

/** Counts frames and derives fps, ETA and percent; the clock is injectable for tests. */
export class ProgressMeter {
  private started?: number;
  framesDone = 0;
  framesFailed = 0;
  framesDropped = 0;
  framesNoFace = 0;
  /** Faces left unchanged by a swap or enhance (journal faces_skipped), summed over frames. */
  facesSkipped = 0;
  framesDowngraded = 0;

  constructor(
    private readonly id: string,
    public framesTotal?: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    this.started ??= this.now();
  }

  elapsedSec(): number {
    return this.started === undefined ? 0 : (this.now() - this.started) / 1000;
  }

  snapshot(final = false): JobProgress {
    const elapsed = this.elapsedSec();
    const fps = elapsed > 0 ? this.framesDone / elapsed : 0;
    const out: JobProgress = {
      id: this.id,
      framesDone: this.framesDone,
      fps: Math.round(fps * 100) / 100,
      framesFailed: this.framesFailed,
      framesDropped: this.framesDropped,
      framesDowngraded: this.framesDowngraded,
    };
    const total = this.framesTotal;
    if (total !== undefined && total > 0) {
      out.framesTotal = total;
      const ratio = Math.min(1, this.framesDone / total);
      out.percent = final ? 100 : Math.min(99, Math.floor(ratio * 1000) / 10);
      if (fps > 0) out.etaSec = final ? 0 : Math.max(0, Math.round(((total - this.framesDone) / fps) * 10) / 10);
    }
    return out;
  }
}
