import type { Box } from '../vision/frame';
import type { Face } from '../token/types';
import { iou } from '../vision/nms';

/** How a held region moves while its face is not seen: along its last velocity, or not at all. */
export type HoldMotion = 'constant_velocity' | 'static';

export interface HoldOptions {
  /** Frames a region stays masked after its face was last detected (0 = no hold). */
  frames: number;
  motion: HoldMotion;
  /**
   * A track is held only once it is a sure face: detected at this score or more at least once
   * (the token's score_threshold), or in CONFIRM_STREAK frames in a row. A detection that only
   * flickers above the blur stage's lower threshold is blurred where it is seen, not held.
   */
  confirmScore?: number;
}

/** Results kept for frames asked about again. */
const RESULTS_KEPT = 16;
/** Frames in a row that make a track sure even when its score stayed low. */
const CONFIRM_STREAK = 3;

/** A detection continues a track when its box overlaps the track's predicted box by at least this IoU. */
const MATCH_IOU = 0.2;
/** Weight of the newest measured velocity (the rest is the previous estimate): damps detector jitter. */
const VELOCITY_GAIN = 0.6;
/** A held box grows by this fraction of its size per side for every frame it is held (the face may have moved off the prediction). */
const GROWTH_PER_FRAME = 0.03;
/** How long a frame waits for the frames before it (in index order) before going on without them. */
export const ORDER_WAIT_MS = 1000;

interface Track {
  box: Box;
  /** Per-frame change of x1, y1, x2, y2. */
  velocity: [number, number, number, number];
  /** Index of the frame the face was last detected in. */
  seen: number;
  /** Best score it was detected with, and frames in a row it was detected. */
  best: number;
  streak: number;
}

export interface HoldResult {
  /** The frame's detected faces, then one face per held region (score 0, `held` = frames since seen). */
  faces: Face[];
  held: number;
  /** The frame came after a later one had been tracked: regions were not updated by it. */
  late: boolean;
}

/**
 * The faces of one source (a video job, a live stream) across frames: a small IoU tracker with
 * constant-velocity prediction. Each frame's detections extend the tracks they overlap; a track
 * whose face was not detected is still returned, moved along its velocity, for `frames` frames
 * after it was last seen, so a detector miss of a few frames leaves the region masked.
 *
 * Frames must be seen in index order. A job processes a few frames at once, so its frames ask
 * with `inOrder`: update() then waits (at most ORDER_WAIT_MS) for the previous index to be
 * updated or skipped. A Node-RED flow delivers a source's frames to the blur node one at a time
 * in arrival order, and may drop some upstream: it does not wait. A frame arriving after a later
 * one was tracked is masked with the current tracks' regions and does not change them. The
 * result of the last few frames is kept, so asking twice for one frame gives the same answer.
 */
export class FaceTracker {
  private tracks: Track[] = [];
  /** Index of the last frame tracked (or skipped). */
  private last?: number;
  private waiters = new Map<number, () => void>();
  /** Index of the last frame whose detections updated the tracks (skipped ones did not: motion is predicted from here). */
  private tracked?: number;
  /** Indexes skipped while a frame before them is still on its way: passed over in order. */
  private readonly skippedAhead = new Set<number>();
  /** Results of the last frames, by index (asking again for a frame returns its result). */
  private readonly results = new Map<number, HoldResult>();
  lastUsed: number;

  constructor(readonly options: HoldOptions, now: number) {
    this.lastUsed = now;
  }

  /** Waits until every frame before `index` was tracked or skipped, or ORDER_WAIT_MS passed. */
  private async turn(index: number): Promise<void> {
    if (this.last === undefined || index <= this.last + 1) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.waiters.delete(index); resolve(); }, ORDER_WAIT_MS);
      timer.unref?.();
      this.waiters.set(index, () => { clearTimeout(timer); resolve(); });
    });
  }

  private advance(index: number): void {
    this.last = this.last === undefined ? index : Math.max(this.last, index);
    while (this.skippedAhead.delete(this.last + 1)) this.last++;
    for (const k of this.skippedAhead) if (k <= this.last) this.skippedAhead.delete(k);
    const next = this.waiters.get(this.last + 1);
    if (next) { this.waiters.delete(this.last + 1); next(); }
  }

  /**
   * A frame that will not be tracked (it failed before the blur stage, or a live source's overload
   * policy dropped it): later frames need not wait for it. Skipped ahead of a frame still on its
   * way, it is passed over once that frame is tracked (that frame is not taken for a late one).
   */
  skip(index: number): void {
    if (this.last !== undefined && index > this.last + 1) {
      this.skippedAhead.add(index);
      return;
    }
    this.advance(index);
  }

  /** Tracks the frame's detections and returns them with the held regions (clipped to width × height). */
  async update(index: number, detected: readonly Face[], width: number, height: number, now: number, inOrder = false): Promise<HoldResult> {
    this.lastUsed = now;
    const known = this.results.get(index);
    if (known) return known;
    if (inOrder) await this.turn(index);
    const result = this.track(index, detected, width, height);
    this.results.set(index, result);
    for (const k of this.results.keys()) if (this.results.size > RESULTS_KEPT) this.results.delete(k);
    return result;
  }

  private track(index: number, detected: readonly Face[], width: number, height: number): HoldResult {
    const late = this.last !== undefined && index <= this.last;
    if (late) {
      const held = this.tracks.filter((t) => this.sure(t)).map((t) => heldFace(t.box, Math.max(1, index - t.seen), width, height));
      this.advance(index);
      return { faces: [...detected, ...held], held: held.length, late };
    }
    const dt = this.tracked === undefined ? 1 : index - this.tracked;
    const moving = this.options.motion === 'constant_velocity';
    const predicted = this.tracks.map((t) => (moving ? add(t.box, t.velocity, dt) : t.box));
    // Greedy matching by IoU, best pairs first.
    const pairs: Array<[number, number, number]> = [];
    detected.forEach((f, d) => predicted.forEach((p, t) => {
      const o = iou(f.bbox, p);
      if (o >= MATCH_IOU) pairs.push([o, d, t]);
    }));
    pairs.sort((a, b) => b[0] - a[0]);
    const usedD = new Set<number>(), usedT = new Set<number>();
    const next: Track[] = [];
    for (const [, d, t] of pairs) {
      if (usedD.has(d) || usedT.has(t)) continue;
      usedD.add(d); usedT.add(t);
      const track = this.tracks[t];
      const box = detected[d].bbox;
      const span = Math.max(1, index - track.seen);
      const velocity = moving
        ? (track.velocity.map((v, k) => (1 - VELOCITY_GAIN) * v + (VELOCITY_GAIN * (box[k] - track.box[k])) / span) as Track['velocity'])
        : ([0, 0, 0, 0] as Track['velocity']);
      const streak = track.seen === index - 1 ? track.streak + 1 : 1;
      next.push({ box: [...box] as Box, velocity, seen: index, best: Math.max(track.best, detected[d].score), streak });
    }
    const held: Face[] = [];
    this.tracks.forEach((track, t) => {
      if (usedT.has(t)) return;
      const age = index - track.seen;
      if (age > this.options.frames) return;
      if (!this.sure(track)) return;
      // The track's box is its last known one, moved on: keep it so the next prediction starts there.
      next.push({ ...track, box: predicted[t] });
      held.push(heldFace(predicted[t], age, width, height));
    });
    detected.forEach((f, d) => {
      if (!usedD.has(d)) next.push({ box: [...f.bbox] as Box, velocity: [0, 0, 0, 0], seen: index, best: f.score, streak: 1 });
    });
    this.tracks = next;
    this.tracked = index;
    this.advance(index);
    return { faces: [...detected, ...held], held: held.length, late };
  }

  get size(): number {
    return this.tracks.length;
  }

  /** A track worth holding: a sure face (see HoldOptions.confirmScore). */
  private sure(track: Track): boolean {
    return track.best >= (this.options.confirmScore ?? 0) || track.streak >= CONFIRM_STREAK;
  }

  /** Lets every waiting frame go on (the source ended). */
  release(): void {
    for (const wake of this.waiters.values()) wake();
    this.waiters.clear();
    this.tracks = [];
    this.results.clear();
  }
}

function add(box: Box, v: readonly number[], dt: number): Box {
  return [box[0] + v[0] * dt, box[1] + v[1] * dt, box[2] + v[2] * dt, box[3] + v[3] * dt];
}

function heldFace(box: Box, age: number, width: number, height: number): Face {
  const w = box[2] - box[0], h = box[3] - box[1];
  const g = GROWTH_PER_FRAME * age;
  const r = (v: number) => Math.round(v * 10) / 10;
  const bbox: Box = [
    r(Math.max(0, box[0] - w * g)), r(Math.max(0, box[1] - h * g)),
    r(Math.min(width, box[2] + w * g)), r(Math.min(height, box[3] + h * g)),
  ];
  return { bbox, score: 0, held: age };
}

/**
 * The trackers of every source the runtime is working on, keyed by job or source id. Owned by
 * the Runtime; a source's tracker is released when the source ends (release(key)), and one
 * idle for longer than `idleMs` is dropped the next time any tracker is asked for.
 */
export class FaceTrackRegistry {
  private readonly trackers = new Map<string, FaceTracker>();
  /** Sources that ended (key → when): frames of theirs still in a flow get no stored tracker. */
  private readonly ended = new Map<string, number>();

  constructor(private readonly idleMs: number) {}

  get(key: string, options: HoldOptions, now: number): FaceTracker {
    for (const [k, t] of this.trackers) if (now - t.lastUsed > this.idleMs) this.release(k, now);
    for (const [k, at] of this.ended) if (now - at > this.idleMs) this.ended.delete(k);
    // A frame of an ended source (still travelling a flow when its source closed): tracked
    // alone, so nothing is kept for a source that will send no more.
    if (this.ended.has(key)) return new FaceTracker(options, now);
    let tracker = this.trackers.get(key);
    if (!tracker || tracker.options.frames !== options.frames || tracker.options.motion !== options.motion || tracker.options.confirmScore !== options.confirmScore) {
      tracker?.release();
      tracker = new FaceTracker(options, now);
      this.trackers.set(key, tracker);
    }
    return tracker;
  }

  peek(key: string): FaceTracker | undefined {
    return this.trackers.get(key);
  }

  /** The source ended: its tracks go, and later frames of it keep nothing. */
  release(key: string, now = Date.now()): boolean {
    this.ended.set(key, now);
    const tracker = this.trackers.get(key);
    if (!tracker) return false;
    tracker.release();
    return this.trackers.delete(key);
  }

  get size(): number {
    return this.trackers.size;
  }

  clear(): void {
    for (const t of this.trackers.values()) t.release();
    this.trackers.clear();
    this.ended.clear();
  }
}
