import { encodeThumbnail } from '../../runtime/vision/thumbnail';
import type { Pixels } from '../../runtime/vision/yuv';
import { messageOf } from './messages';
import type { Node, Red } from './red';

/** What the editor script (resources/thumbnails.js) receives on `facefusion/thumbnail/<node id>`. */
export interface ThumbnailMessage {
  id: string;
  /** data:image/jpeg;base64,… — absent to clear the thumbnail. */
  src?: string;
  width?: number;
  height?: number;
}

export type Publish = (topic: string, data: ThumbnailMessage, retain?: boolean) => void;

/** At most one thumbnail per node every this many ms, so a 25 fps stream sends ≈ 2 a second. */
export const THUMBNAIL_INTERVAL_MS = 500;

/** A node option '' / 'off' / '0' means no thumbnail; otherwise the longer side in pixels. */
export function thumbnailSize(value: unknown): number | undefined {
  const n = Number(value);
  return value === '' || value === undefined || value === null || value === false || !Number.isFinite(n) || n <= 0 ? undefined : n;
}

/**
 * Shows the latest picture of one node under it in the editor, the way image-preview nodes do:
 * the picture is shrunk on the server (sharp) and published on Node-RED's comms channel. Frames
 * offered faster than `intervalMs` are not encoded; the last one offered is shown when the interval
 * ends, so the end of a stream is what stays visible. Only one encode runs at a time.
 */
export class EditorThumbnail {
  private lastAt = -Infinity;
  private pending: Pixels | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private closed = false;
  private readonly topic: string;

  constructor(
    private readonly publish: Publish,
    private readonly nodeId: string,
    private readonly maxSide: number,
    private readonly intervalMs = THUMBNAIL_INTERVAL_MS,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.topic = `facefusion/thumbnail/${nodeId}`;
  }

  /**
   * Offer the frame just produced. Frames are immutable, so holding the object is safe even if the
   * store releases it downstream; at most one frame is held while waiting.
   */
  offer(frame: Pixels | undefined): void {
    if (this.closed || !frame) return;
    this.pending = frame;
    this.schedule();
  }

  private schedule(): void {
    if (this.busy || this.timer || !this.pending) return;
    const wait = this.lastAt + this.intervalMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      return;
    }
    const frame = this.pending;
    this.pending = undefined;
    this.busy = true;
    this.lastAt = Date.now();
    encodeThumbnail(frame, this.maxSide)
      .then(
        (thumb) => {
          if (!this.closed) {
            this.publish(this.topic, { id: this.nodeId, src: `data:image/jpeg;base64,${thumb.data.toString('base64')}`, width: thumb.width, height: thumb.height }, true);
          }
        },
        (err: unknown) => this.onError(err),
      )
      .finally(() => {
        this.busy = false;
        if (!this.closed) this.schedule();
      });
  }

  /** Stops the timer, drops the waiting frame and removes the thumbnail from the editor. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    this.publish(this.topic, { id: this.nodeId }, false);
  }

  /** For tests: whether a timer or a frame is still held. */
  get idle(): boolean {
    return !this.timer && !this.pending && !this.busy;
  }
}

/**
 * The thumbnail a node shows under itself in the editor (published over Node-RED's comms), or
 * undefined when its dialog's *Thumbnail* is off; a failure to encode one is a warning.
 */
export function nodeThumbnail(RED: Red, node: Node, setting: unknown): EditorThumbnail | undefined {
  const side = thumbnailSize(setting);
  return side
    ? new EditorThumbnail(
        (topic, data, retain) => RED.comms.publish(topic, data, retain),
        node.id,
        side,
        undefined,
        (err) => node.warn(`thumbnail: ${messageOf(err)}`),
      )
    : undefined;
}
