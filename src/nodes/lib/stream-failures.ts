import type { NodeMessage } from './red';

/** What a watcher hears of a frame of its stream that failed in some node. */
export interface FrameFailure {
  code: string;
  /** `msg.parts.index` of the frame. */
  index?: number;
}

/**
 * Failures of the frames of video streams, owned by the config node (one per runtime). A frame
 * message of *face video in* carries `msg.parts` = { id, index, type: 'frames' }; every node that
 * fails on such a message reports it here, and the *face video in* that sent it watches its id,
 * so a stream whose frames all fail further down (e.g. *face pack* without a token key) turns its
 * status red instead of staying green on the frames it sends (docs/ARCHITECTURE.md, "Node
 * statuses and errors").
 */
export class StreamFailures {
  private readonly watchers = new Map<string, (failure: FrameFailure) => void>();

  /** Calls `onFailure` for each failed frame of stream `id` until the returned function is called. */
  watch(id: string, onFailure: (failure: FrameFailure) => void): () => void {
    this.watchers.set(id, onFailure);
    return () => {
      if (this.watchers.get(id) === onFailure) this.watchers.delete(id);
    };
  }

  /** A node failed on `msg`: tells the stream's watcher, if `msg` is a frame of a watched stream. */
  report(msg: NodeMessage, error: { code: string }): void {
    const parts = msg.parts as { id?: unknown; index?: unknown; type?: unknown } | undefined;
    if (!parts || typeof parts !== 'object' || parts.type !== 'frames' || typeof parts.id !== 'string') return;
    const watcher = this.watchers.get(parts.id);
    if (!watcher) return;
    try {
      watcher({ code: error.code, ...(typeof parts.index === 'number' ? { index: parts.index } : {}) });
    } catch {
      // a watcher's status update must not turn a reported failure into another one
    }
  }

  /** Streams watched now (tests check that a stopped stream leaves none behind). */
  get size(): number {
    return this.watchers.size;
  }
}

export type StreamState = 'ok' | 'some-failing' | 'failing';

/**
 * How a stream's frames fare, as *face video in* shows it: `failing` when in the last 5–10
 * seconds at least as many frames failed further down as came back done (every frame failing:
 * red), `some-failing` when some failed (yellow), else `ok` (green). A frame is "back" once its
 * picture left the store (`sent - outstanding`); a failed frame whose picture is kept until its
 * TTL never comes back, so a stream stuck on failures reads `failing` too.
 */
export class StreamHealth {
  failed = 0;
  lastCode?: string;
  private mark: { at: number; failed: number; back: number };
  private previous: { at: number; failed: number; back: number };

  constructor(
    now = performance.now(),
    private readonly windowMs = 5000,
  ) {
    this.mark = { at: now, failed: 0, back: 0 };
    this.previous = this.mark;
  }

  failure(failure: FrameFailure): void {
    this.failed++;
    this.lastCode = failure.code;
  }

  state(sent: number, outstanding: number, now = performance.now()): StreamState {
    const back = Math.max(0, sent - outstanding);
    if (now - this.mark.at >= this.windowMs) {
      this.previous = this.mark;
      this.mark = { at: now, failed: this.failed, back };
    }
    const failedRecently = this.failed - this.previous.failed;
    const backRecently = back - this.previous.back;
    if (failedRecently > 0 && failedRecently >= backRecently) return 'failing';
    return failedRecently > 0 ? 'some-failing' : 'ok';
  }
}
