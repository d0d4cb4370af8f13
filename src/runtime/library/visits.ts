import { FaceTracks } from '../faces/face-tracks';
import type { Face } from '../token/types';
import type { Box } from '../vision/frame';

/**
 * One event per person per visit, for automations (a door camera greets a person once, not 25
 * times a second). Faces of one source are followed across frames by the IoU tracker of
 * faces/face-tracks.ts; a tracked face is one visit:
 * - it is reported once, as the person the library named in any of its frames, the first time
 *   a frame names them; a name seen again within `gapMs` of its last sighting (the tracker lost
 *   the face for a moment, the person turned away) continues that visit: no new event;
 * - a face never named is reported as unknown after `unknownAfter` frames (a first blurred frame
 *   does not make a stranger of a known person);
 * - a face not seen for `holdFrames` frames ends its visit.
 */
export interface VisitOptions {
  /** Frames a face may be missed before its visit ends (default 25). */
  holdFrames?: number;
  /** Frames a face must stay unrecognised before it is reported as unknown (default 3). */
  unknownAfter?: number;
  /** A known person seen again within this many ms continues the visit (default 60 s). */
  gapMs?: number;
  /** A source idle this long is forgotten (default 10 min). */
  idleMs?: number;
}

export interface VisitEvent {
  /** Which face of the frame (its place in `faces`). */
  face: number;
  name: string | null;
  known: boolean;
  /** Best similarity of the visit so far. */
  similarity: number;
  /** Stable id of the visit: `<source>-<n>`. */
  visit: string;
  /** ISO 8601 time the face was first seen in this visit. */
  since: string;
  bbox: Box;
}

interface TrackState {
  visit: string;
  since: number;
  /** Frames seen; frames seen without a known identity. */
  frames: number;
  unknownFrames: number;
  votes: Map<string, number>;
  best: number;
  reported: boolean;
  lastIndex: number;
}

interface Source {
  tracker: FaceTracks;
  tracks: Map<number, TrackState>;
  /** When each name was last seen on this source (ms). */
  names: Map<string, number>;
  counter: number;
  lastUsed: number;
  visits: number;
}

export class VisitTracker {
  private readonly sources = new Map<string, Source>();
  private readonly holdFrames: number;
  private readonly unknownAfter: number;
  private readonly gapMs: number;
  private readonly idleMs: number;

  constructor(options: VisitOptions = {}) {
    this.holdFrames = Math.max(0, Math.floor(options.holdFrames ?? 25));
    this.unknownAfter = Math.max(1, Math.floor(options.unknownAfter ?? 3));
    this.gapMs = Math.max(0, options.gapMs ?? 60_000);
    this.idleMs = options.idleMs ?? 600_000;
  }

  /**
   * The events a frame gives. `faces` carry `identity` (from the library); `index` is the frame's
   * place in its source (a counter per source is used when there is none).
   */
  observe(source: string, index: number | undefined, faces: readonly Face[], now = Date.now()): VisitEvent[] {
    for (const [key, s] of this.sources) if (now - s.lastUsed > this.idleMs) this.release(key);
    let state = this.sources.get(source);
    if (!state) {
      state = { tracker: new FaceTracks({ holdFrames: this.holdFrames, motion: 'constant_velocity', confirmScore: 0 }), tracks: new Map(), names: new Map(), counter: 0, lastUsed: now, visits: 0 };
      this.sources.set(source, state);
    }
    state.lastUsed = now;
    const at = index ?? state.counter;
    state.counter = Math.max(state.counter, at) + 1;
    const detected = faces.filter((f) => f.held === undefined);
    const { ids, late } = state.tracker.observe(at, detected, 0);
    const events: VisitEvent[] = [];
    if (late) return events;
    // A face the tracker still follows after longer than the hold (no frame came for a while) is a new visit.
    for (const [id, track] of state.tracks) if (at - track.lastIndex > this.holdFrames) state.tracks.delete(id);
    detected.forEach((face, d) => {
      const id = ids[d];
      let track = state!.tracks.get(id);
      if (!track) {
        track = { visit: `${source}-${++state!.visits}`, since: now, frames: 0, unknownFrames: 0, votes: new Map(), best: -1, reported: false, lastIndex: at };
        state!.tracks.set(id, track);
      }
      track.frames++;
      track.lastIndex = at;
      const identity = face.identity;
      if (identity?.known && identity.name) {
        track.votes.set(identity.name, (track.votes.get(identity.name) ?? 0) + 1);
        track.best = Math.max(track.best, identity.similarity);
      } else {
        track.unknownFrames++;
        if (track.votes.size === 0) track.best = Math.max(track.best, identity?.similarity ?? -1);
      }
      const name = leader(track.votes);
      if (name) {
        const last = state!.names.get(name.toLowerCase());
        state!.names.set(name.toLowerCase(), now);
        if (track.reported) return;
        track.reported = true;
        // Seen moments ago under another track: the same visit goes on.
        if (last !== undefined && now - last <= this.gapMs) return;
        events.push({ face: faces.indexOf(face), name, known: true, similarity: track.best, visit: track.visit, since: new Date(track.since).toISOString(), bbox: [...face.bbox] as Box });
      } else if (!track.reported && track.unknownFrames >= this.unknownAfter) {
        track.reported = true;
        events.push({ face: faces.indexOf(face), name: null, known: false, similarity: track.best, visit: track.visit, since: new Date(track.since).toISOString(), bbox: [...face.bbox] as Box });
      }
    });
    for (const [name, seen] of state.names) if (now - seen > this.gapMs) state.names.delete(name);
    return events;
  }

  /** Visits open now on a source (faces being followed). */
  open(source: string): number {
    return this.sources.get(source)?.tracks.size ?? 0;
  }

  /** The source ended: its visits end. */
  release(source: string): void {
    this.sources.get(source)?.tracker.clear();
    this.sources.delete(source);
  }

  clear(): void {
    for (const key of [...this.sources.keys()]) this.release(key);
  }
}

/** The name with the most votes (ties: the first to get there). */
function leader(votes: Map<string, number>): string | undefined {
  let best: string | undefined;
  let count = 0;
  for (const [name, n] of votes)
    if (n > count) {
      best = name;
      count = n;
    }
  return best;
}
