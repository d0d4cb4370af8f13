import type { Box } from '../vision/frame';
import type { Face } from '../token/types';
import { iou } from '../vision/nms';

/** How a track moves between its sightings: along its velocity, or not at all. */
export type HoldMotion = 'constant_velocity' | 'static';

export interface TrackOptions {
  /**
   * Frames a track is kept after its last sighting (masked where its motion puts it). The
   * stream makes it at least two scan cycles, so a face seen only by the rolling scan is kept
   * from one sighting to the next even when one scan misses it.
   */
  holdFrames: number;
  motion: HoldMotion;
  /**
   * A track is held (and masked before its first sighting, with look-ahead) only once it is a
   * sure face: detected at this score or more once (the token's score_threshold), or sighted at
   * least SURE_SIGHTINGS times. A detection that only flickers above the blur stage's lower
   * threshold is blurred where it is seen, not held.
   */
  confirmScore: number;
}

/** Sightings that make a track sure whatever their score. */
const SURE_SIGHTINGS = 2;
/**
 * A box this close to a side of the frame (fraction of its size) is a face entering or leaving the
 * view, partly cut by the frame: the detector sees such faces late and scores them low, so one
 * sighting makes the track sure, and a face last seen there is held EDGE_HOLD times longer —
 * while its motion keeps some of it inside the frame (a slow pan leaves a face half out of view
 * for seconds, BENCHMARKS.md §15).
 */
const EDGE_MARGIN = 0.15;
const EDGE_HOLD = 4;
/** A detection continues a track when it overlaps the track's predicted box by at least this IoU… */
const MATCH_IOU = 0.2;
/**
 * …or when their centres are closer than this fraction of the larger box and their sizes agree;
 * the allowance grows with the frames since the track's last sighting (more for a track whose
 * velocity is not known yet: a face the rolling scan sees every few frames has moved meanwhile).
 */
const MATCH_CENTRE = 0.6;
const MATCH_CENTRE_PER_FRAME_KNOWN = 0.03;
const MATCH_CENTRE_PER_FRAME_UNKNOWN = 0.1;
const MATCH_CENTRE_MAX = 1.5;
const MATCH_SIZE_RATIO = 1.8;
/** Frames of sightings a placed box's motion is fitted over (see fittedVelocity), and the fewest it trusts without the scene's motion. */
const VELOCITY_SPAN = 10;
const MIN_VELOCITY_SPAN = 4;
/** Weight of the newest measured velocity (the rest is the previous estimate): damps detector jitter. */
const VELOCITY_GAIN = 0.6;
/**
 * A box placed from a track's motion grows by this fraction of its size on every side for every
 * frame away from a sighting (its uncertainty): more when the track's own velocity is unknown
 * (one sighting: the scene's motion, or none, stands in for it), less between two sightings.
 */
const GROWTH_KNOWN = 0.03;
const GROWTH_UNKNOWN = 0.06;
const GROWTH_BETWEEN = 0.015;
/** A track placed for matching takes the largest size of this many of its last sightings. */
const RECENT_SIZES = 6;
/** Growth stops at this fraction per side (a box at most triples in width). */
const GROWTH_MAX = 1;

/** Per-frame motion of a face's centre (x, y). */
type Velocity = [number, number];

interface Sighting {
  index: number;
  box: Box;
  score: number;
}

interface Track {
  id: number;
  sightings: Sighting[];
  /** Per-frame motion of the centre, once sighted twice. */
  velocity?: Velocity;
  best: number;
  count: number;
}

export interface TrackedRegion {
  /** Where the face is, by its track: clipped to the frame, grown by its uncertainty. */
  face: Face;
  /** Frames to the nearest sighting. */
  distance: number;
  /** Placed before the track's first sighting (look-ahead). */
  before: boolean;
}

/**
 * The faces of one source across frames: IoU tracks with a velocity, each keeping its last few
 * sightings. `observe` adds one frame's detections (frames in index order); `regions(index)`
 * says where every sure track puts a face in a frame it was not sighted in:
 *   between two sightings: interpolated (look-ahead lets a frame wait for the next sighting);
 *   after the last: moved along its velocity, for `holdFrames`;
 *   before the first (look-ahead only): moved back along its velocity, or the scene's motion.
 * Every such box grows with its distance from a sighting. Frames far behind the newest one
 * keep no state: a track and its sightings go once they cannot matter.
 */
export class FaceTracks {
  private tracks: Track[] = [];
  private nextId = 1;
  /** Index of the newest frame observed. */
  private newest = -1;
  /** Tracks ever started (for the job's summary). */
  started = 0;

  constructor(readonly options: TrackOptions) {}

  get size(): number {
    return this.tracks.length;
  }

  /**
   * One frame's detections. `late`: the frame came after a newer one was observed (a flow's
   * frames arrive in their own order): its detections are not used to move tracks. `ids`: the
   * track of each detection, in the order of `detected` (0 for a late frame's), so a caller can
   * follow one face across frames (face recognize's visits).
   */
  observe(index: number, detected: readonly Face[], keepFrames: number, frame?: { width: number; height: number }): { late: boolean; ids: number[] } {
    const ids = detected.map(() => 0);
    if (index <= this.newest) return { late: true, ids };
    const moving = this.options.motion === 'constant_velocity';
    const prior = moving ? this.sceneVelocity(index) : undefined;
    const pairs: Array<[number, number, number]> = [];
    const predicted = this.tracks.map((t) => this.place(t, index, prior));
    const reach = this.tracks.map((t) =>
      Math.min(MATCH_CENTRE_MAX, MATCH_CENTRE + (index - last(t).index) * (t.velocity || (moving && prior) ? MATCH_CENTRE_PER_FRAME_KNOWN : MATCH_CENTRE_PER_FRAME_UNKNOWN)),
    );
    detected.forEach((f, d) =>
      predicted.forEach((p, t) => {
        const score = matchScore(f.bbox, p, reach[t]);
        if (score > 0) pairs.push([score, d, t]);
      }),
    );
    pairs.sort((a, b) => b[0] - a[0]);
    const usedD = new Set<number>(),
      usedT = new Set<number>();
    for (const [, d, t] of pairs) {
      if (usedD.has(d) || usedT.has(t)) continue;
      usedD.add(d);
      usedT.add(t);
      this.extend(this.tracks[t], index, detected[d], moving);
      ids[d] = this.tracks[t].id;
    }
    detected.forEach((f, d) => {
      if (usedD.has(d)) return;
      ids[d] = this.nextId;
      this.tracks.push({ id: this.nextId++, sightings: [{ index, box: [...f.bbox] as Box, score: f.score }], best: f.score, count: 1 });
      this.started++;
    });
    this.newest = index;
    // What can no longer place a face in a frame still to be asked about (up to `keepFrames`
    // behind this one) goes: tracks, and sightings beyond the last two.
    const horizon = index - this.options.holdFrames - keepFrames;
    const edgeHorizon = index - EDGE_HOLD * this.options.holdFrames - keepFrames;
    this.tracks = this.tracks.filter((t) => last(t).index >= (frame && atEdge(last(t).box, frame.width, frame.height) ? edgeHorizon : horizon));
    for (const t of this.tracks) while (t.sightings.length > 2 && t.sightings[0].index < horizon) t.sightings.shift();
    return { late: false, ids };
  }

  /**
   * The regions of every sure track not sighted in frame `index` (a w × h frame), from what was
   * seen up to `lookahead` frames after it. Only sightings up to index + lookahead count, whatever
   * was observed since (a job observes a few frames further while this one waits for the encoder):
   * the answer for a frame never depends on timing.
   */
  regions(index: number, width: number, height: number, lookahead: number): TrackedRegion[] {
    const limit = index + lookahead;
    const moving = this.options.motion === 'constant_velocity';
    const views = this.tracks.map((t) => t.sightings.filter((s) => s.index <= limit)).filter((v) => v.length > 0);
    const prior = moving ? sceneVelocity(views.filter((v) => v.length > 1 && index - v[v.length - 1].index <= this.options.holdFrames).map(velocityOf)) : undefined;
    const out: TrackedRegion[] = [];
    for (const seen of views) {
      const sure = Math.max(...seen.map((s) => s.score)) >= this.options.confirmScore || seen.length >= SURE_SIGHTINGS || seen.some((s) => atEdge(s.box, width, height));
      if (!sure) continue;
      let prev: Sighting | undefined,
        next: Sighting | undefined,
        here = false;
      for (const s of seen) {
        if (s.index === index) here = true;
        else if (s.index < index) prev = s;
        else if (!next) next = s;
      }
      // Sighted in this very frame: the frame's own detection masks it.
      if (here) continue;
      // The motion next to the sighting a box is placed from: the two sightings ending at `prev`
      // (held after it), or the two starting at `next` (placed before it).
      const ownAfter = moving && prev ? fittedVelocity(seen, prev.index - VELOCITY_SPAN, prev.index, prior) : undefined;
      const ownBefore = moving && next ? fittedVelocity(seen, next.index, next.index + VELOCITY_SPAN, prior) : undefined;
      const size: [number, number] = [Math.max(...seen.map((s) => boxWidth(s.box))), Math.max(...seen.map((s) => boxHeight(s.box)))];
      let box: Box | undefined,
        distance = 0,
        growth = GROWTH_KNOWN,
        before = false;
      const hold = prev && atEdge(prev.box, width, height) ? EDGE_HOLD * this.options.holdFrames : this.options.holdFrames;
      const after = prev && index - prev.index <= hold ? index - prev.index : Infinity;
      const ahead = next && next.index - index <= lookahead ? next.index - index : Infinity;
      if (prev && next && next.index - prev.index <= this.options.holdFrames) {
        const w = (index - prev.index) / (next.index - prev.index);
        const [ax, ay] = centre(prev.box),
          [bx, by] = centre(next.box);
        box = sized(ax + (bx - ax) * w, ay + (by - ay) * w, Math.max(boxWidth(prev.box), boxWidth(next.box)), Math.max(boxHeight(prev.box), boxHeight(next.box)));
        distance = Math.min(index - prev.index, next.index - index);
        growth = GROWTH_BETWEEN;
      } else if (prev && after <= ahead) {
        distance = after;
        box = moved(prev.box, size, moving ? (ownAfter ?? prior) : undefined, distance);
        growth = moving && !ownAfter ? GROWTH_UNKNOWN : GROWTH_KNOWN;
      } else if (next && ahead !== Infinity) {
        distance = ahead;
        box = moved(next.box, size, moving ? (ownBefore ?? prior) : undefined, -distance);
        growth = moving && !ownBefore ? GROWTH_UNKNOWN : GROWTH_KNOWN;
        before = true;
      }
      if (!box) continue;
      const face = grownFace(box, Math.min(GROWTH_MAX, growth * distance), Math.max(1, distance), width, height);
      if (face) out.push({ face, distance, before });
    }
    return out;
  }

  /** Whether `box` in frame `index` continues a sure track (its predicted box overlaps it by `minIou`: a second look is not needed). */
  confirms(index: number, box: Box, minIou = 0.3): boolean {
    const prior = this.options.motion === 'constant_velocity' ? this.sceneVelocity(index) : undefined;
    return this.tracks.some((t) => this.sure(t) && iou(this.place(t, index, prior), box) >= minIou);
  }

  /** Forgets every track (the source ended). */
  clear(): void {
    this.tracks = [];
  }

  private extend(track: Track, index: number, face: Face, moving: boolean): void {
    const prev = last(track);
    const span = Math.max(1, index - prev.index);
    if (moving) {
      const [px, py] = centre(prev.box),
        [cx, cy] = centre(face.bbox);
      const measured: Velocity = [(cx - px) / span, (cy - py) / span];
      const known = track.velocity;
      track.velocity = known ? [(1 - VELOCITY_GAIN) * known[0] + VELOCITY_GAIN * measured[0], (1 - VELOCITY_GAIN) * known[1] + VELOCITY_GAIN * measured[1]] : measured;
    }
    track.sightings.push({ index, box: [...face.bbox] as Box, score: face.score });
    track.best = Math.max(track.best, face.score);
    track.count++;
  }

  /** Where a track puts its face in frame `index`, by its motion (for matching). */
  private place(track: Track, index: number, prior: Velocity | undefined): Box {
    const s = last(track);
    const v = this.options.motion === 'constant_velocity' ? (track.velocity ?? prior) : undefined;
    const recent = track.sightings.slice(-RECENT_SIZES);
    return moved(s.box, [Math.max(...recent.map((r) => boxWidth(r.box))), Math.max(...recent.map((r) => boxHeight(r.box)))], v, index - s.index);
  }

  /** The scene's motion (see sceneVelocity) from the tracks' running velocities, for matching. */
  private sceneVelocity(index: number): Velocity | undefined {
    return sceneVelocity(this.tracks.filter((t) => t.velocity && index - last(t).index <= this.options.holdFrames).map((t) => t.velocity as Velocity));
  }

  private sure(track: Track): boolean {
    return track.best >= this.options.confirmScore || track.count >= SURE_SIGHTINGS;
  }
}

/** How well a detection continues a predicted box: its IoU, or a small score for near centres of a like size; 0 for no match. */
function matchScore(a: Box, b: Box, reach: number): number {
  const o = iou(a, b);
  if (o >= MATCH_IOU) return o;
  const sa = Math.max(a[2] - a[0], a[3] - a[1]),
    sb = Math.max(b[2] - b[0], b[3] - b[1]);
  if (!(sa > 0 && sb > 0) || Math.max(sa, sb) / Math.min(sa, sb) > MATCH_SIZE_RATIO) return 0;
  const dx = (a[0] + a[2] - b[0] - b[2]) / 2,
    dy = (a[1] + a[3] - b[1] - b[3]) / 2;
  const d = Math.hypot(dx, dy) / Math.max(sa, sb);
  return d <= reach ? 0.01 * (1 - d / reach) + 1e-6 : 0;
}

function last(track: Track): Sighting {
  return track.sightings[track.sightings.length - 1];
}

/** Whether a box is within EDGE_MARGIN of its size of a side of the w × h frame. */
function atEdge(b: Box, width: number, height: number): boolean {
  const m = EDGE_MARGIN * Math.max(b[2] - b[0], b[3] - b[1]);
  return b[0] <= m || b[1] <= m || b[2] >= width - m || b[3] >= height - m;
}

function centre(b: Box): [number, number] {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
}

function boxWidth(b: Box): number {
  return b[2] - b[0];
}

function boxHeight(b: Box): number {
  return b[3] - b[1];
}

function sized(cx: number, cy: number, w: number, h: number): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

/**
 * The face `frames` away from the sighting `from` (negative: before it): its centre moved along
 * `v`, its size the largest of the track's sightings (a detector's box jitters a few pixels from
 * frame to frame; a mask placed from its motion must not shrink with that jitter).
 */
function moved(from: Box, size: [number, number], v: Velocity | undefined, frames: number): Box {
  const [cx, cy] = centre(from);
  return v ? sized(cx + v[0] * frames, cy + v[1] * frames, size[0], size[1]) : sized(cx, cy, size[0], size[1]);
}

/**
 * A track's motion near a sighting, for placing its face before its first sighting or after its
 * last: the least-squares line through the centres of its sightings in frames [from, to]. Two
 * sightings a frame apart make a poor estimate — a detector's box jitters by a few pixels, which is
 * several pixels a frame, and a face placed a second away from its sighting then lands a face
 * width off (a face entering a pan was placed outside the frame, BENCHMARKS.md §15) — so below
 * MIN_VELOCITY_SPAN frames the scene's motion (`prior`) is taken when there is one. Undefined
 * for fewer than two sightings (the caller falls back to the scene's motion, with more growth).
 */
function fittedVelocity(seen: readonly Sighting[], from: number, to: number, prior: Velocity | undefined): Velocity | undefined {
  let n = 0,
    st = 0,
    sx = 0,
    sy = 0,
    stt = 0,
    stx = 0,
    sty = 0,
    first = Infinity,
    lastIndex = -Infinity;
  for (const s of seen) {
    if (s.index < from || s.index > to) continue;
    const [x, y] = centre(s.box);
    const t = s.index;
    n++;
    st += t;
    sx += x;
    sy += y;
    stt += t * t;
    stx += t * x;
    sty += t * y;
    first = Math.min(first, t);
    lastIndex = Math.max(lastIndex, t);
  }
  if (n < 2 || lastIndex - first < 1) return undefined;
  if (lastIndex - first < MIN_VELOCITY_SPAN && prior) return prior;
  const d = n * stt - st * st;
  return [(n * stx - st * sx) / d, (n * sty - st * sy) / d];
}

/** A track's motion from its last two sightings (centre, per frame). */
function velocityOf(seen: readonly Sighting[]): Velocity {
  const a = seen[seen.length - 2],
    b = seen[seen.length - 1];
  const [ax, ay] = centre(a.box),
    [bx, by] = centre(b.box);
  const span = Math.max(1, b.index - a.index);
  return [(bx - ax) / span, (by - ay) / span];
}

/**
 * The scene's motion: the median of the tracks' velocities, from 3 tracks on (a panning camera
 * moves every face alike). It stands in for a new track's own.
 */
function sceneVelocity(velocities: readonly Velocity[]): Velocity | undefined {
  if (velocities.length < 3) return undefined;
  return [median(velocities.map((v) => v[0])), median(velocities.map((v) => v[1]))];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The box grown by `g` of its size per side, clipped to the frame; undefined when nothing of it is inside. */
function grownFace(box: Box, g: number, distance: number, width: number, height: number): Face | undefined {
  const w = box[2] - box[0],
    h = box[3] - box[1];
  const r = (v: number) => Math.round(v * 10) / 10;
  const x1 = Math.max(0, box[0] - w * g),
    y1 = Math.max(0, box[1] - h * g);
  const x2 = Math.min(width, box[2] + w * g),
    y2 = Math.min(height, box[3] + h * g);
  if (!(x2 - x1 >= 1 && y2 - y1 >= 1)) return undefined;
  return { bbox: [r(x1), r(y1), r(x2), r(y2)], score: 0, held: distance };
}
