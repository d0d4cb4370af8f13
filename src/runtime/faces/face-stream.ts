import type { Face } from '../token/types';
import { FaceTracks, type HoldMotion } from './face-tracks';
import { RollingScan } from './scan-schedule';
import type { ScanPlan } from './scan-plan';
import type { ScanSelection } from './scan-detect';

export interface FaceStreamOptions {
  /** blur_hold_frames: frames a face stays masked after its last sighting (raised to two scan cycles). 0: no tracking, every frame fully scanned. */
  holdFrames: number;
  motion: HoldMotion;
  /** A track is held once detected at this score (or sighted twice). */
  confirmScore: number;
  /** detect_scan_interval: seconds within which every tile of the plan is scanned (0: every frame). */
  scanInterval: number;
  /**
   * Frames a frame's masks wait for (a file job): a face first found up to this many frames
   * later is masked in this frame too, placed back along its motion. 0 for live sources and flows.
   */
  lookahead: number;
  /** Frames are observed in the order the source admitted them (a job's frames in flight wait for the ones before). */
  ordered: boolean;
  /** The source's frame interval in seconds, when known (else learned from the frames' pts). */
  frameSec?: number;
  /** Frames in flight at most (a job's window): how far the newest observed frame may be ahead of one still to be masked. */
  inFlight?: number;
}

/** What a stream reports for a job's result (`privacy` in the result and --json). */
export interface PrivacyStats {
  /** Frames that got masks from this stream. */
  frames: number;
  /** Frames whose own scan ran the whole plan (every level, every tile). */
  framesFullScan: number;
  /** Frames scanned by the whole-frame pass and a rolling share of the tiles (the rest scanned within the interval). */
  framesRollingScan: number;
  /** Frames masked from the tracks alone (no scan of their own ran). */
  framesTrackedOnly: number;
  /** Frames for which some part of the plan had not been scanned within the interval. */
  framesNotCovered: number;
  /** The first of them (at most 20). */
  notCoveredFrames: number[];
  /** Masks applied, summed over frames: faces seen in the frame, and faces placed by their track. */
  facesBlurred: number;
  facesHeld: number;
  /** Faces tracked over the whole source. */
  tracks: number;
  /** Smallest face (px) every frame's plan covers. */
  minFaceCovered?: number;
  scanIntervalSec: number;
  /**
   * A live source that fell behind: the widest interval its tiles were scanned at (the promised
   * one when it kept up), and the frames scanned while it was stretched.
   */
  scanIntervalMaxSec: number;
  framesStretchedScan: number;
  lookaheadFrames: number;
  /** Mean tiles scanned per frame (besides the whole-frame pass) and tiles in the plan. */
  tilesPerFrame: number;
  planTiles: number;
}

export interface StreamMasks {
  /** Faces the tracks place in this frame (score 0, `held` = frames to the nearest sighting). */
  faces: Face[];
  /** This frame came after a newer one had been observed (a flow's frames in their own order). */
  late: boolean;
}

/**
 * How long a frame of an ordered stream (a job) waits at most for the frames before it, and for
 * its look-ahead. Only a guard: every admitted frame is observed or finished (runFrameStages
 * finishes it whatever happens), so a wait ends when the frames it waits for are done — however
 * slow a loaded machine is; the answer never depends on timing. A frame that did run into the
 * guard is tracked late (its detections do not move the tracks).
 */
export const ORDER_WAIT_MS = 60_000;
/** Results kept for frames asked about again. */
const RESULTS_KEPT = 32;
const NOT_COVERED_LISTED = 20;

interface Waiter {
  ready(): boolean;
  wake(): void;
}

/**
 * Everything one video source (a job, a face-video-in source) carries from frame to frame for
 * privacy, in one place: the rolling scan (which tiles each frame scans), the face tracks
 * (where a face not detected in a frame is), the frame order and look-ahead, and the counts the
 * job reports. The detect stage asks it what to scan and tells it what it found; the blur stage
 * asks it for the frame's masks. Owned by the runtime's FaceStreamRegistry, released when the
 * source ends.
 */
export class FaceStream {
  readonly scan: RollingScan;
  readonly tracks: FaceTracks;
  lastUsed: number;
  private frameSec: number;
  private firstPts?: number;
  private readonly pending: number[] = [];
  private lastAdmitted = -1;
  private newest = -1;
  private ended = false;
  /** Released: every waiting frame goes on at once (the source closed). */
  private released = false;
  private readonly done = new Set<number>();
  private readonly waiters = new Set<Waiter>();
  private readonly results = new Map<number, StreamMasks>();
  private readonly scanned = new Set<number>();
  private readonly counts = { frames: 0, full: 0, rolling: 0, trackedOnly: 0, notCovered: 0, blurred: 0, held: 0, tiles: 0, stretched: 0 };
  private readonly notCovered: number[] = [];
  private plan?: ScanPlan;

  constructor(
    readonly options: FaceStreamOptions,
    now: number,
  ) {
    this.lastUsed = now;
    this.frameSec = options.frameSec && options.frameSec > 0 ? options.frameSec : 0;
    this.scan = new RollingScan(options.holdFrames > 0 ? options.scanInterval : 0);
    this.tracks = new FaceTracks({ holdFrames: this.holdSpan(), motion: options.motion, confirmScore: options.confirmScore });
  }

  /** Frames a track is kept after its last sighting: the hold, and at least two scan cycles. */
  private holdSpan(): number {
    if (!(this.options.holdFrames > 0)) return 0;
    const cycle = this.frameSec > 0 ? this.scan.cycleFrames(this.frameSec) : 1;
    return Math.max(this.options.holdFrames, 2 * cycle + 2);
  }

  /** A job's frame, in the order its decoder delivered them (ordered streams wait on these). */
  admit(index: number): void {
    if (index <= this.lastAdmitted) return;
    this.lastAdmitted = index;
    this.pending.push(index);
  }

  /** What frame `index` (at `pts` seconds) scans of the plan. */
  selection(plan: ScanPlan, index: number, pts: number): ScanSelection & { full: boolean } {
    this.learnRate(pts);
    this.plan = plan;
    const chosen = this.scan.select(plan, pts);
    if (this.scan.currentIntervalSec > this.scan.intervalSec) this.counts.stretched++;
    this.scanned.add(index);
    this.counts.tiles += chosen.tiles.length;
    if (chosen.full) this.counts.full++;
    else this.counts.rolling++;
    if (!this.scan.covers(pts, this.frameSec)) {
      this.counts.notCovered++;
      if (this.notCovered.length < NOT_COVERED_LISTED) this.notCovered.push(index);
    }
    return chosen;
  }

  /**
   * A live source's pace, told for each frame it admits: `behind` when frames were dropped before
   * it or wait behind it. The rolling scan stretches its interval while behind and comes back
   * when the job keeps up; the tracks hold faces for two of the stretched cycles, so a face
   * whose tile is scanned less often stays masked between its sightings. Returns whether the
   * interval changed.
   */
  pace(behind: boolean): boolean {
    const changed = this.scan.pace(behind, this.frameSec);
    if (changed) this.tracks.options.holdFrames = this.holdSpan();
    return changed;
  }

  /** Ordered streams: waits (bounded) until every frame admitted before `index` was observed or finished. */
  turn(index: number): Promise<void> {
    if (!this.options.ordered) return Promise.resolve();
    return this.until(() => this.pending.length === 0 || this.pending[0] >= index, ORDER_WAIT_MS);
  }

  /** The faces detected in frame `index`. Ordered streams first wait (bounded) for the frames before it. */
  async observe(index: number, faces: readonly Face[], frame?: { width: number; height: number }): Promise<{ late: boolean }> {
    await this.turn(index);
    const { late } = this.tracks.observe(index, faces, this.options.lookahead + (this.options.inFlight ?? 0) + 2, frame);
    this.newest = Math.max(this.newest, index);
    this.finish(index);
    return { late };
  }

  /** Frame `index` will not be observed (it failed, or skipped detection): later frames need not wait for it. */
  finish(index: number): void {
    if (this.done.has(index)) return;
    this.done.add(index);
    const at = this.pending.indexOf(index);
    if (at >= 0) this.pending.splice(at, 1);
    if (this.done.size > 4 * RESULTS_KEPT) for (const k of this.done) if (k < index - 2 * RESULTS_KEPT) this.done.delete(k);
    this.wake();
  }

  /** The source ended: no frame will be admitted any more. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /**
   * Where the tracks put faces in frame `index` (w × h) that its own detection did not find.
   * With look-ahead the frame first waits (bounded) until the frames after it were observed.
   * Asking again for a frame gives the same answer.
   */
  async masks(index: number, width: number, height: number): Promise<StreamMasks> {
    const known = this.results.get(index);
    if (known) return known;
    const ahead = this.options.lookahead;
    // After the source's end, an ordered stream still waits for the frames admitted before the
    // end to be observed: the answer must not depend on how far detection had got when it ended.
    if (ahead > 0) await this.until(() => this.frontier() >= index + ahead || (this.ended && (!this.options.ordered || !this.pending.some((p) => p !== index && p <= index + ahead))), ORDER_WAIT_MS);
    const cached = this.results.get(index);
    if (cached) return cached;
    if (!this.scanned.has(index)) this.counts.trackedOnly++;
    this.counts.frames++;
    const regions = this.options.holdFrames > 0 ? this.tracks.regions(index, width, height, ahead) : [];
    const result: StreamMasks = { faces: regions.map((r) => r.face), late: index < this.newest && ahead === 0 };
    this.results.set(index, result);
    for (const k of this.results.keys()) if (this.results.size > RESULTS_KEPT) this.results.delete(k);
    this.scanned.delete(index);
    return result;
  }

  /** The blur stage masked `seen` detected and `held` tracked faces in a frame. */
  noteBlurred(seen: number, held: number): void {
    this.counts.blurred += seen + held;
    this.counts.held += held;
  }

  stats(): PrivacyStats {
    const c = this.counts;
    const scannedFrames = c.full + c.rolling;
    return {
      frames: c.frames,
      framesFullScan: c.full,
      framesRollingScan: c.rolling,
      framesTrackedOnly: c.trackedOnly,
      framesNotCovered: c.notCovered,
      notCoveredFrames: [...this.notCovered],
      facesBlurred: c.blurred,
      facesHeld: c.held,
      tracks: this.tracks.started,
      ...(this.plan ? { minFaceCovered: this.plan.minFaceCovered } : {}),
      scanIntervalSec: this.scan.intervalSec,
      scanIntervalMaxSec: Math.round(this.scan.widestIntervalSec * 1000) / 1000,
      framesStretchedScan: c.stretched,
      lookaheadFrames: this.options.lookahead,
      tilesPerFrame: scannedFrames ? Math.round((c.tiles / scannedFrames) * 100) / 100 : 0,
      planTiles: this.plan?.tiles.length ?? 0,
    };
  }

  /** Lets every waiting frame go on and forgets the tracks (the source ended or closed). */
  release(): void {
    this.released = true;
    this.ended = true;
    this.wake();
    this.tracks.clear();
    this.results.clear();
  }

  /** The newest index up to which every admitted frame was observed (unordered: the newest observed). */
  private frontier(): number {
    if (!this.options.ordered) return this.newest;
    return this.pending.length ? this.pending[0] - 1 : this.lastAdmitted;
  }

  /** The frame interval, from the first two frames' pts when the source did not say. */
  private learnRate(pts: number): void {
    if (this.frameSec > 0 || !Number.isFinite(pts)) return;
    if (this.firstPts === undefined) {
      this.firstPts = pts;
      return;
    }
    if (pts > this.firstPts) {
      this.frameSec = pts - this.firstPts;
      this.tracks.options.holdFrames = this.holdSpan();
    }
  }

  private until(ready: () => boolean, ms: number): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve();
      }, ms);
      timer.unref?.();
      const waiter: Waiter = {
        ready,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      this.waiters.add(waiter);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) if (this.released || w.ready()) w.wake();
  }
}

/**
 * The streams of every source the runtime is working on, keyed by job or source id. Owned by
 * the Runtime; a stream is released when its source ends (release(key)), and one idle for longer
 * than `idleMs` is dropped the next time any stream is asked for.
 */
export class FaceStreamRegistry {
  private readonly streams = new Map<string, FaceStream>();
  /** Sources that ended (key → when): frames of theirs still in a flow get no stored stream. */
  private readonly ended = new Map<string, number>();

  constructor(private readonly idleMs: number) {}

  /**
   * The source's stream. A job opens its own (open()); a flow's is made by its first frame and
   * made again when a frame asks for other settings.
   */
  get(key: string, options: FaceStreamOptions, now: number): FaceStream {
    this.expire(now);
    // A frame of an ended source (still travelling a flow when its source closed): on its own,
    // so nothing is kept for a source that will send no more.
    if (this.ended.has(key)) return new FaceStream(options, now);
    let stream = this.streams.get(key);
    if (stream && !stream.options.ordered && !sameOptions(stream.options, options)) {
      stream.release();
      stream = undefined;
    }
    if (!stream) {
      stream = new FaceStream(options, now);
      this.streams.set(key, stream);
    }
    stream.lastUsed = now;
    return stream;
  }

  /** A job's stream, with the job's settings (ordered frames, its look-ahead and frame rate). */
  open(key: string, options: FaceStreamOptions, now: number): FaceStream {
    this.expire(now);
    this.ended.delete(key);
    this.streams.get(key)?.release();
    const stream = new FaceStream(options, now);
    this.streams.set(key, stream);
    return stream;
  }

  peek(key: string): FaceStream | undefined {
    return this.streams.get(key);
  }

  /** The source ended: its stream goes, and later frames of it keep nothing. */
  release(key: string, now = Date.now()): boolean {
    this.ended.set(key, now);
    const stream = this.streams.get(key);
    if (!stream) return false;
    stream.release();
    return this.streams.delete(key);
  }

  get size(): number {
    return this.streams.size;
  }

  clear(): void {
    for (const s of this.streams.values()) s.release();
    this.streams.clear();
    this.ended.clear();
  }

  private expire(now: number): void {
    for (const [k, s] of this.streams) if (now - s.lastUsed > this.idleMs) this.release(k, now);
    for (const [k, at] of this.ended) if (now - at > this.idleMs) this.ended.delete(k);
  }
}

function sameOptions(a: FaceStreamOptions, b: FaceStreamOptions): boolean {
  return a.holdFrames === b.holdFrames && a.motion === b.motion && a.confirmScore === b.confirmScore && a.scanInterval === b.scanInterval && a.lookahead === b.lookahead;
}
