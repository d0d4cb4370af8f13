import type { Box } from '../vision/frame';
import type { FaceLikeness } from '../token/types';
import { iou } from '../vision/nms';

/** A verdict is reused for a box of a frame at most this many frames from the frame it was measured on. */
export const LIKENESS_REUSE_FRAMES = 30;
/** …when the box overlaps the measured one by at least this IoU (the same face, moved a little). */
const REUSE_IOU = 0.5;
/** Verdicts kept per source; the ones measured on the frames furthest away go first. */
const KEPT_PER_SOURCE = 64;

interface Entry {
  box: Box;
  index: number;
  verdict: FaceLikeness;
}

interface Source {
  entries: Entry[];
  lastUsed: number;
}

/**
 * The face-likeness verdicts of a video's or live source's recent frames (key: the token's
 * job_id), so a face seen in frame after frame is measured about once a second instead of on
 * every frame (the measures cost ≈ 15 ms a face, mostly the identity embedding). A verdict
 * counts for a box of the same source within LIKENESS_REUSE_FRAMES frames that overlaps the
 * measured box (IoU ≥ 0.5); order does not matter (a job has several frames in flight).
 * Owned by the runtime; a source's verdicts go when it ends (Runtime.releaseStream), when it
 * was idle for `idleMs`, or on close.
 */
export class LikenessMemory {
  private readonly sources = new Map<string, Source>();

  constructor(private readonly idleMs: number) {}

  recall(key: string, index: number, box: Box, now: number): FaceLikeness | undefined {
    this.sweep(now);
    const source = this.sources.get(key);
    if (!source) return undefined;
    source.lastUsed = now;
    let best: Entry | undefined;
    for (const e of source.entries) {
      if (Math.abs(e.index - index) > LIKENESS_REUSE_FRAMES || iou(e.box, box) < REUSE_IOU) continue;
      if (!best || Math.abs(e.index - index) < Math.abs(best.index - index)) best = e;
    }
    return best?.verdict;
  }

  remember(key: string, index: number, box: Box, verdict: FaceLikeness, now: number): void {
    let source = this.sources.get(key);
    if (!source) {
      source = { entries: [], lastUsed: now };
      this.sources.set(key, source);
    }
    source.lastUsed = now;
    source.entries.push({ box: [box[0], box[1], box[2], box[3]], index, verdict });
    if (source.entries.length > KEPT_PER_SOURCE) {
      source.entries.sort((a, b) => Math.abs(a.index - index) - Math.abs(b.index - index));
      source.entries.length = KEPT_PER_SOURCE;
    }
  }

  /** Forgets a source's verdicts (it ended). */
  release(key: string): boolean {
    return this.sources.delete(key);
  }

  /** Forgets sources idle for longer than idleMs; returns how many went. */
  sweep(now: number): number {
    let gone = 0;
    for (const [key, source] of this.sources) {
      if (now - source.lastUsed > this.idleMs) {
        this.sources.delete(key);
        gone++;
      }
    }
    return gone;
  }

  get size(): number {
    return this.sources.size;
  }

  clear(): void {
    this.sources.clear();
  }
}
