import { randomBytes } from 'crypto';
import type { Frame } from '../vision/frame';
import { expectedPixelBytes, isYuv, yuvToRgb, type Pixels } from '../vision/yuv';
import { BufferPool } from './buffer-pool';
import type { FrameRef } from '../token/types';
import { FaceError } from '../errors';
import type { FrameStoreOptions, FrameStoreStats, PutOptions, ReleaseListener, ReleaseOptions, ReleaseReason, Reservation, ReserveOptions } from './types';

interface Entry {
  frame: Pixels;
  bytes: number;
  /** Its buffer goes back to the pool when it leaves the store (PutOptions.pooled). */
  pooled?: boolean;
  /** Data derived from the frame, disposed when it leaves (see `attach`). */
  attached?: Map<string, { value: unknown; dispose: (value: unknown) => void }>;
  expiresAt: number;
  owner?: string;
}

interface Waiter {
  bytes: number;
  resolve: (reservation: Reservation) => void;
  reject: (error: FaceError) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  timer?: NodeJS.Timeout;
  priority?: boolean;
}

/** Random bytes in a frame id: refs cannot be guessed from one another (≥ 128 bits). */
const REF_RANDOM_BYTES = 16;

/**
 * Frames by reference. Producers `reserve()` room first and wait (FIFO, optionally with a time
 * bound) while the byte budget is used up; `put()` never waits and refuses a frame that does not
 * fit (E_STORE_FULL), so bytes stored + reserved never exceed the budget. Refs carry 128 random
 * bits: knowing one ref tells nothing about another. The sweeper frees frames whose token expired.
 */
export class FrameStore {
  private readonly frames = new Map<string, Entry>();
  private readonly owners = new Map<string, Set<string>>();
  private readonly waiters: Waiter[] = [];
  private readonly listeners = new Set<ReleaseListener>();
  private readonly budget: number;
  private readonly defaultTtlMs: number;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private bytes = 0;
  private reserved = 0;
  private peak = 0;
  private swept = 0;
  private closed = false;
  /** Spare pixel buffers for frames stored with `pooled: true` (video jobs). */
  private readonly pool: BufferPool;

  constructor(options: FrameStoreOptions) {
    if (!(options.budgetBytes > 0)) throw new FaceError('E_BAD_PARAMETER', `frame store budget must be > 0 bytes (got ${options.budgetBytes})`);
    this.budget = options.budgetBytes;
    // Spare buffers: at most an eighth of the budget, and never more than 64 MiB.
    this.pool = new BufferPool(Math.min(64 << 20, Math.floor(options.budgetBytes / 8)));
    this.defaultTtlMs = options.defaultTtlMs ?? 300_000;
    this.now = options.now ?? Date.now;
    const interval = options.sweepIntervalMs ?? 5000;
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval);
      this.timer.unref();
    }
  }

  /** Whether the sweeper timer is running (false with `sweepIntervalMs: 0` and after `close`). */
  get sweeping(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Stores `frame` as is (no copy: the caller promises not to change it). Never waits: a frame
   * that does not fit next to what is stored and reserved is refused with E_STORE_FULL (use
   * `reserve()` to wait for room).
   */
  put(frame: Pixels, options: PutOptions = {}): FrameRef {
    this.assertOpen();
    const bytes = checkedFrameBytes(frame);
    if (bytes > this.budget) throw tooLarge(bytes, this.budget);
    checkExpiry(options.expiresAt);
    if (!this.fits(bytes)) throw storeFull(bytes, this.budget - this.bytes - this.reserved);
    return this.insert(frame, bytes, options);
  }

  /**
   * Waits until `bytes` fit the budget next to what is stored and reserved (FIFO; `priority`
   * waiters go first). With `timeoutMs` the wait is bounded: then it rejects with E_STORE_FULL.
   * The second argument may be an AbortSignal (the older form) or the options.
   */
  reserve(bytes: number, signalOrOptions?: AbortSignal | ReserveOptions): Promise<Reservation> {
    const options: ReserveOptions = signalOrOptions === undefined ? {} : isSignal(signalOrOptions) ? { signal: signalOrOptions } : signalOrOptions;
    const signal = options.signal;
    if (this.closed) return Promise.reject(closedError());
    // A NaN or negative size would never fit (or free room it never held): refuse it up front.
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      return Promise.reject(new FaceError('E_BAD_PARAMETER', `reserve() needs a whole number of bytes >= 0 (got ${bytes})`));
    }
    if (bytes > this.budget) return Promise.reject(tooLarge(bytes, this.budget));
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    const ahead = options.priority ? this.waiters.filter((w) => w.priority).length : this.waiters.length;
    if (ahead === 0 && this.fits(bytes)) return Promise.resolve(this.grant(bytes));
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) return Promise.reject(storeFull(bytes, this.budget - this.bytes - this.reserved));
    return new Promise<Reservation>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, signal, priority: options.priority === true };
      const leave = (error: FaceError): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        this.unhook(waiter);
        reject(error);
        this.wake();
      };
      if (signal) {
        waiter.onAbort = () => leave(abortedError(signal));
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (options.timeoutMs !== undefined && Number.isFinite(options.timeoutMs)) {
        const ms = options.timeoutMs;
        waiter.timer = setTimeout(() => leave(storeFull(bytes, this.budget - this.bytes - this.reserved, ms)), ms);
      }
      if (waiter.priority) this.waiters.splice(ahead, 0, waiter);
      else this.waiters.push(waiter);
    });
  }

  /**
   * True when `ref` is stored and tagged with `owner`. Used to bind a token from a message to the
   * frames of its own request: for anything else the answer is the same false whether the
   * frame exists or not.
   */
  ownedBy(ref: FrameRef, owner: string): boolean {
    return this.frames.get(ref)?.owner === owner;
  }

  /**
   * Gives a stored frame's pixels a new ref with `owner` and a fresh expiry (default: the store's
   * TTL from now), without a copy or a change to the bytes used, and frees the old ref, which listeners hear of as released. For a sink that takes a frame
   * over from a token while upstream gates wait for that token's frame to leave.
   */
  move(ref: FrameRef, owner: string | undefined, options: { expiresAt?: number } = {}): FrameRef {
    this.assertOpen();
    const entry = this.frames.get(ref);
    if (!entry) throw new FaceError('E_FRAME_MISSING', `frame ${ref} is not in the frame store (released, expired, or never stored here)`);
    checkExpiry(options.expiresAt);
    this.frames.delete(ref);
    this.untag(ref, entry.owner);
    const next = newRef();
    this.frames.set(next, {
      frame: entry.frame,
      bytes: entry.bytes,
      expiresAt: options.expiresAt ?? this.now() + this.defaultTtlMs,
      owner,
      ...(entry.pooled ? { pooled: true } : {}),
      ...(entry.attached ? { attached: entry.attached } : {}),
    });
    entry.attached = undefined;
    this.tag(next, owner);
    this.notify(ref, 'released');
    return next;
  }

  /**
   * The frame as RGB. A YUV frame (video jobs) is converted into a new frame on every call: the
   * stages that work on video read `pixels()` and convert only what they need; this is for
   * everything else (pictures, thumbnails, packs, stages without a YUV path).
   */
  get(ref: FrameRef): Frame {
    return asRgb(this.pixels(ref));
  }

  tryGet(ref: FrameRef): Frame | undefined {
    const pixels = this.frames.get(ref)?.frame;
    return pixels === undefined ? undefined : asRgb(pixels);
  }

  /** The frame as stored: RGB, or YUV 4:2:0 for video jobs (see vision/yuv.ts). */
  pixels(ref: FrameRef): Pixels {
    const entry = this.frames.get(ref);
    if (!entry) throw new FaceError('E_FRAME_MISSING', `frame ${ref} is not in the frame store (released, expired, or never stored here)`);
    return entry.frame;
  }

  tryPixels(ref: FrameRef): Pixels | undefined {
    return this.frames.get(ref)?.frame;
  }

  /** Whether the frame's buffer returns to the pool when it is released (so it may be derived into a pooled buffer too). */
  isPooled(ref: FrameRef): boolean {
    return this.frames.get(ref)?.pooled === true;
  }

  /**
   * A pixel buffer of `bytes` bytes for a frame about to be stored with `pooled: true` (contents
   * undefined: write all of it). Reuses the buffer of a pooled frame released earlier.
   */
  acquire(bytes: number): Uint8Array {
    return this.pool.acquire(bytes);
  }

  /**
   * Data derived from a stored frame and kept with it — made by `make` on first use, given to
   * `dispose` when the frame is released (an expired or closed frame's attachments are simply
   * dropped: a stage may still hold them). For what several stages of one frame would otherwise
   * each compute again (an RGB view of a YUV frame).
   * Throws E_FRAME_MISSING for a frame that is not stored.
   */
  attach<T>(ref: FrameRef, key: string, make: () => T, dispose: (value: T) => void): T {
    const entry = this.frames.get(ref);
    if (!entry) throw new FaceError('E_FRAME_MISSING', `frame ${ref} is not in the frame store (released, expired, or never stored here)`);
    entry.attached ??= new Map();
    const known = entry.attached.get(key);
    if (known) return known.value as T;
    const value = make();
    // Widened for the map, which holds attachments of every type; each key's dispose gets its own value back.
    entry.attached.set(key, { value, dispose: dispose as (value: unknown) => void });
    return value;
  }

  /** Gives a scratch buffer from `acquire()` back (one that was never stored, or whose frame is gone). */
  recycle(buffer: Uint8Array): void {
    if (!this.closed) this.pool.give(buffer);
  }

  /** Spare buffers held, and how often a buffer was reused rather than allocated. */
  poolStats(): { spareBytes: number; reused: number; allocated: number } {
    return this.pool.stats();
  }

  /**
   * Takes a frame out of the store without a copy: its pixels are the caller's from now on and no
   * longer count against the budget (listeners hear of it as released). For a sink that keeps
   * showing a frame after it was written (the video encoder's previous frame, sent again for
   * the indexes a live source dropped). A pooled frame's buffer may go back with `recycle()`
   * once nothing reads it. Undefined when the ref is not stored.
   */
  detach(ref: FrameRef): { pixels: Pixels; pooled: boolean } | undefined {
    const entry = this.frames.get(ref);
    if (!entry) return undefined;
    this.free(ref, 'released', true);
    return { pixels: entry.frame, pooled: entry.pooled === true };
  }

  has(ref: FrameRef): boolean {
    return this.frames.has(ref);
  }

  release(ref: FrameRef): boolean {
    return this.free(ref, 'released');
  }

  releaseMany(refs: Iterable<FrameRef>): number {
    let n = 0;
    for (const ref of refs) if (this.release(ref)) n++;
    return n;
  }

  /** Frees every frame tagged with `owner`, except the refs in `options.keep` (they stay, still owned). */
  releaseOwner(owner: string, options: ReleaseOptions = {}): number {
    const set = this.owners.get(owner);
    if (!set) return 0;
    const keep = options.keep === undefined ? undefined : new Set(options.keep);
    return this.releaseMany([...set].filter((ref) => !keep?.has(ref as FrameRef)) as FrameRef[]);
  }

  /**
   * Calls `listener(ref, reason)` after each frame leaves the store: released, expired (TTL
   * sweeper) or closed (the store closing frees every frame). Runs synchronously inside the
   * call that freed the frame, after the store's own bookkeeping, so `has(ref)` is already
   * false and a listener may release or reserve further. A listener that throws is skipped
   * for that frame (the store and the other listeners go on). Returns the unsubscribe
   * function; `close()` drops every listener.
   */
  onRelease(listener: ReleaseListener): () => void {
    if (this.closed) return () => undefined;
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Moves a stored frame to another owner (`undefined`: no owner), e.g. a decoded frame handed
   * to the token that now carries it; the pixels are not copied and no release is signalled.
   * False when the ref is not stored.
   */
  reown(ref: FrameRef, owner: string | undefined): boolean {
    const entry = this.frames.get(ref);
    if (!entry) return false;
    if (entry.owner === owner) return true;
    this.untag(ref, entry.owner);
    entry.owner = owner;
    this.tag(ref, owner);
    return true;
  }

  /** The owner tag of a stored frame (undefined for an untagged or unknown ref). */
  ownerOf(ref: FrameRef): string | undefined {
    return this.frames.get(ref)?.owner;
  }

  /** Bytes a stored frame takes (0 for a ref not stored). */
  bytesOf(ref: FrameRef): number {
    return this.frames.get(ref)?.bytes ?? 0;
  }

  /** The refs tagged with `owner`. */
  refsOf(owner: string): FrameRef[] {
    return [...(this.owners.get(owner) ?? [])] as FrameRef[];
  }

  /** Brings a frame's expiry forward to `expiresAt` when that is sooner (never later); false when the ref is not stored. */
  expireBy(ref: FrameRef, expiresAt: number): boolean {
    checkExpiry(expiresAt);
    const entry = this.frames.get(ref);
    if (!entry) return false;
    entry.expiresAt = Math.min(entry.expiresAt, expiresAt);
    return true;
  }

  /** Moves a frame's expiry (epoch ms; Infinity = never); false when the ref is not stored. */
  setExpiry(ref: FrameRef, expiresAt: number): boolean {
    checkExpiry(expiresAt);
    const entry = this.frames.get(ref);
    if (!entry) return false;
    entry.expiresAt = expiresAt;
    return true;
  }

  /** Frees every frame whose expiry has passed; returns how many. */
  sweep(now: number = this.now()): number {
    if (this.closed) return 0;
    const expired: FrameRef[] = [];
    for (const [ref, entry] of this.frames) if (entry.expiresAt <= now) expired.push(ref as FrameRef);
    let n = 0;
    for (const ref of expired) if (this.free(ref, 'expired')) n++;
    this.swept += n;
    return n;
  }

  stats(): FrameStoreStats {
    return {
      frames: this.frames.size,
      bytes: this.bytes,
      peakBytes: this.peak,
      budgetBytes: this.budget,
      reservedBytes: this.reserved,
      waiting: this.waiters.length,
      swept: this.swept,
      closed: this.closed,
    };
  }

  /** Stops the sweeper, frees every frame and rejects waiting producers. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const refs = [...this.frames.keys()] as FrameRef[];
    for (const entry of this.frames.values()) entry.attached = undefined;
    this.frames.clear();
    this.owners.clear();
    this.bytes = 0;
    this.reserved = 0;
    this.pool.clear();
    for (const ref of refs) this.notify(ref, 'closed');
    this.listeners.clear();
    for (const waiter of this.waiters.splice(0)) {
      this.unhook(waiter);
      waiter.reject(closedError());
    }
  }

  private insert(frame: Pixels, bytes: number, options: PutOptions): FrameRef {
    const ref = newRef();
    const expiresAt = options.expiresAt ?? this.now() + this.defaultTtlMs;
    this.frames.set(ref, { frame, bytes, expiresAt, owner: options.owner, ...(options.pooled ? { pooled: true } : {}) });
    this.tag(ref, options.owner);
    this.bytes += bytes;
    this.notePeak();
    return ref;
  }

  private free(ref: FrameRef, reason: ReleaseReason, detached = false): boolean {
    const entry = this.frames.get(ref);
    if (!entry) return false;
    this.frames.delete(ref);
    this.bytes -= entry.bytes;
    this.untag(ref, entry.owner);
    // Only a release promises that nobody reads the frame any more: an expired frame may still be
    // in a stage's hands, so neither its buffer nor its attachments are reused then.
    if (reason === 'released') disposeAttached(entry);
    entry.attached = undefined;
    if (entry.pooled && reason === 'released' && !detached) this.pool.give(entry.frame.data);
    this.notify(ref, reason);
    this.wake();
    return true;
  }

  private notify(ref: FrameRef, reason: ReleaseReason): void {
    for (const listener of this.listeners) {
      try {
        listener(ref, reason);
      } catch {
        // A listener's failure is its own: the frame is freed either way and the others still hear of it.
      }
    }
  }

  private tag(ref: FrameRef, owner: string | undefined): void {
    if (owner === undefined) return;
    let set = this.owners.get(owner);
    if (!set) this.owners.set(owner, (set = new Set()));
    set.add(ref);
  }

  private untag(ref: FrameRef, owner: string | undefined): void {
    if (owner === undefined) return;
    const set = this.owners.get(owner);
    set?.delete(ref);
    if (set && set.size === 0) this.owners.delete(owner);
  }

  private fits(bytes: number): boolean {
    return this.bytes + this.reserved + bytes <= this.budget;
  }

  private grant(bytes: number): Reservation {
    this.reserved += bytes;
    this.notePeak();
    let open = true;
    const finish = (): void => {
      if (!open) throw new FaceError('E_BAD_PARAMETER', 'this reservation was already used or cancelled');
      open = false;
      // close() already zeroed the reserved bytes; do not count this reservation twice.
      if (!this.closed) this.reserved -= bytes;
    };
    return {
      bytes,
      put: (frame: Pixels, options: PutOptions = {}): FrameRef => {
        if (!open) throw new FaceError('E_BAD_PARAMETER', 'this reservation was already used or cancelled');
        const size = checkedFrameBytes(frame);
        if (size > bytes) throw new FaceError('E_FRAME_TOO_LARGE', `frame has ${size} bytes but only ${bytes} were reserved`);
        checkExpiry(options.expiresAt);
        finish();
        if (this.closed) throw closedError();
        const ref = this.insert(frame, size, options);
        // A frame smaller than its reservation gives the difference back to waiting producers.
        if (size < bytes) this.wake();
        return ref;
      },
      cancel: (): void => {
        if (!open) return;
        finish();
        this.wake();
      },
    };
  }

  /** Grants waiting reservations in FIFO order while they fit. */
  private wake(): void {
    while (this.waiters.length > 0 && !this.closed && this.fits(this.waiters[0].bytes)) {
      const waiter = this.waiters.shift()!;
      this.unhook(waiter);
      waiter.resolve(this.grant(waiter.bytes));
    }
  }

  private unhook(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (waiter.timer) clearTimeout(waiter.timer);
    waiter.onAbort = undefined;
    waiter.timer = undefined;
  }

  private notePeak(): void {
    const used = this.bytes + this.reserved;
    if (used > this.peak) this.peak = used;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function newRef(): FrameRef {
  return `frame:${randomBytes(REF_RANDOM_BYTES).toString('base64url')}` as FrameRef;
}

function isSignal(value: AbortSignal | ReserveOptions): value is AbortSignal {
  return typeof (value as AbortSignal).addEventListener === 'function' && 'aborted' in value;
}

function storeFull(bytes: number, free: number, waitedMs?: number): FaceError {
  const waited = waitedMs === undefined ? '' : ` after waiting ${waitedMs} ms`;
  return new FaceError('E_STORE_FULL', `the frame store has no room for a frame of ${bytes} bytes${waited} (${Math.max(0, free)} bytes free); try again later or raise the frame budget`, {
    details: { bytes },
  });
}

function closedError(): FaceError {
  return new FaceError('E_STORE_CLOSED', 'the frame store is closed');
}

function abortedError(signal: AbortSignal): FaceError {
  return new FaceError('E_CLOSED', 'waiting for room in the frame store was aborted', { cause: signal.reason });
}

/** Byte size of a frame, refusing one whose data does not match its size (it would skew the budget). */
function checkedFrameBytes(frame: Pixels): number {
  const bytes = frame.data.byteLength;
  if (isYuv(frame)) {
    const expected = expectedPixelBytes(frame);
    if (!(frame.width > 0 && frame.height > 0) || bytes !== expected)
      throw new FaceError('E_BAD_PARAMETER', `yuv420p frame ${frame.width}x${frame.height} has ${bytes} bytes of data, expected ${expected}`);
    return bytes;
  }
  if (frame.channels !== 3 || bytes !== frame.width * frame.height * 3) {
    throw new FaceError('E_BAD_PARAMETER', `frame ${frame.width}x${frame.height}x${frame.channels} has ${bytes} bytes of data, expected ${frame.width * frame.height * 3} (RGB)`);
  }
  return bytes;
}

function disposeAttached(entry: Entry): void {
  if (!entry.attached) return;
  for (const { value, dispose } of entry.attached.values()) {
    try {
      dispose(value);
    } catch {
      // A failing dispose loses only its own value; the frame is freed either way.
    }
  }
  entry.attached = undefined;
}

function asRgb(pixels: Pixels): Frame {
  return isYuv(pixels) ? yuvToRgb(pixels) : pixels;
}

/** NaN would make a frame that no sweep ever frees; Infinity is a deliberate "never". */
function checkExpiry(expiresAt: number | undefined): void {
  if (expiresAt !== undefined && Number.isNaN(expiresAt)) {
    throw new FaceError('E_BAD_PARAMETER', 'a frame expiry must be a number of epoch ms (got NaN)');
  }
}

function tooLarge(bytes: number, budget: number): FaceError {
  return new FaceError('E_FRAME_TOO_LARGE', `a frame of ${bytes} bytes does not fit the frame store budget of ${budget} bytes`);
}
