import type { ScanPlan } from './scan-plan';
import type { ScanSelection } from './scan-detect';

/**
 * The rolling scan of one video source: every frame gets the whole-frame pass, and the plan's
 * tiles are spread over the frames so that each is scanned at least once every `interval`
 * seconds of the source's own time (pts). The share is paid by time, not by frame: tiles fall
 * due at T / interval a second, so a frame that follows dropped ones (a live source under
 * overload) scans what fell due meanwhile, and a camera's frame interval sets the cadence —
 * 2–3 tiles a frame at 25 fps for a 12-tile plan and 0.2 s, a full scan every frame at 5 fps.
 * The first frame (and the first after the plan changed) is scanned in full.
 *
 * Like DeepStream's inference interval with a tracker in between, with one difference: the
 * whole frame is searched every frame and nothing is left unsearched for longer than the interval.
 */
/** How far a live source's scan interval may be stretched to keep up (× the promised interval). */
export const MAX_STRETCH = 8;

export class RollingScan {
  private plan?: ScanPlan;
  private lastPts = -Infinity;
  private credit = 0;
  private cursor = 0;
  /** pts of each tile's last scan. */
  private scanned = new Float64Array(0);
  /** The interval in force: `intervalSec`, stretched while a live source is behind (pace). */
  private effective: number;
  private widest: number;
  /** Set by pace(): the source's frame interval, which bounds what one frame may catch up. */
  private pacedFrameSec = 0;

  constructor(readonly intervalSec: number) {
    this.effective = intervalSec;
    this.widest = intervalSec;
  }

  /** The interval tiles are scanned at now, and the widest it was stretched to. */
  get currentIntervalSec(): number {
    return this.effective;
  }
  get widestIntervalSec(): number {
    return this.widest;
  }

  /**
   * A live source's cadence, from the camera's frame interval: while frames wait or are dropped
   * (`behind`) the interval is stretched (× 1.25 a frame, up to MAX_STRETCH × the promised one),
   * and it comes back (÷ 1.03 a frame) once the job keeps up. A frame after dropped ones then
   * scans one frame's share, not what fell due during the gap: catching up would cost the most
   * exactly when the job is furthest behind, and drop the frames after it too. Returns whether
   * the interval changed.
   */
  pace(behind: boolean, frameSec: number): boolean {
    if (!(this.intervalSec > 0)) return false;
    this.pacedFrameSec = frameSec > 0 ? frameSec : this.pacedFrameSec;
    const before = this.effective;
    this.effective = behind ? Math.min(this.intervalSec * MAX_STRETCH, this.effective * 1.25) : Math.max(this.intervalSec, this.effective / 1.03);
    this.widest = Math.max(this.widest, this.effective);
    return this.effective !== before;
  }

  /** The passes frame `pts` runs, and whether that is the whole plan. */
  select(plan: ScanPlan, pts: number): ScanSelection & { full: boolean } {
    const count = plan.tiles.length;
    if (plan !== this.plan || !(this.intervalSec > 0) || count === 0) {
      this.reset(plan, pts);
      return { whole: true, tiles: allTiles(count), full: true };
    }
    const elapsed = Math.max(0, pts - this.lastPts);
    this.credit += (this.pacedFrameSec > 0 ? Math.min(elapsed, this.pacedFrameSec) : elapsed) * (count / this.effective);
    this.lastPts = Math.max(this.lastPts, pts);
    const n = Math.min(count, Math.floor(this.credit + 1e-9));
    this.credit -= n;
    const tiles: number[] = [];
    for (let k = 0; k < n; k++) {
      const t = (this.cursor + k) % count;
      tiles.push(t);
      this.scanned[t] = Math.max(this.scanned[t], pts);
    }
    this.cursor = (this.cursor + n) % count;
    return { whole: true, tiles, full: n === count };
  }

  /**
   * Whether every tile was scanned within the interval before `pts` (one frame's slack:
   * `frameSec`). A frame for which this fails was not fully covered by the scan.
   */
  covers(pts: number, frameSec: number): boolean {
    if (!this.plan) return false;
    for (let t = 0; t < this.scanned.length; t++) if (pts - this.scanned[t] > this.intervalSec + frameSec + 1e-6) return false;
    return true;
  }

  /** Frames the interval spans at this frame rate (at least 1). */
  cycleFrames(frameSec: number): number {
    return frameSec > 0 && this.effective > 0 ? Math.max(1, Math.ceil(this.effective / frameSec - 1e-9)) : 1;
  }

  private reset(plan: ScanPlan, pts: number): void {
    this.plan = plan;
    this.lastPts = pts;
    this.credit = 0;
    this.cursor = 0;
    this.scanned = new Float64Array(plan.tiles.length).fill(pts);
  }
}

function allTiles(count: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = i;
  return out;
}
