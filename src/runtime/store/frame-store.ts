import { randomBytes } from 'crypto';
import type { Frame } from '../vision/frame';
import type { FrameRef } from '../token/types';
import { FaceError } from '../errors';
import type { FrameStoreOptions, FrameStoreStats, PutOptions, Reservation } from './types';

interface Entry {
  frame: Frame;
  bytes: number;
  expiresAt: number;
  owner?: string;
}

interface Waiter {
  bytes: number;
  resolve: (reservation: Reservation) => void;
  reject: (error: FaceError) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Frames by reference. Producers that could flood memory (the video decoder) `reserve()` room
 * first and wait while the byte budget is used up; stages that derive a frame from one already
 * stored `put()` without waiting. The sweeper frees frames whose token expired.
 */
export class FrameStore {
  private readonly frames = new Map<string, Entry>();
  private readonly owners = new Map<string, Set<string>>();
  private readonly waiters: Waiter[] = [];
  private readonly budget: number;
  private readonly defaultTtlMs: number;
  private readonly now: () => number;
  private readonly prefix = randomBytes(4).toString('hex');
  private timer?: NodeJS.Timeout;
  private counter = 0;
  private bytes = 0;
  private reserved = 0;
  private peak = 0;
  private swept = 0;
  private closed = false;

  constructor(options: FrameStoreOptions) {
    if (!(options.budgetBytes > 0)) throw new FaceError('E_BAD_PARAMETER', `frame store budget must be > 0 bytes (got ${options.budgetBytes})`);
    this.budget = options.budgetBytes;
    this.defaultTtlMs = options.defaultTtlMs ?? 300_000;
    this.now = options.now ?? Date.now;
    const interval = options.sweepIntervalMs ?? 5000;
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval);
      this.timer.unref();
    }
  }

  put(frame: Frame, options: PutOptions = {}): FrameRef {
    this.assertOpen();
    const bytes = frame.data.byteLength;
    if (bytes > this.budget) throw tooLarge(bytes, this.budget);
    return this.insert(frame, bytes, options);
  }

  reserve(bytes: number, signal?: AbortSignal): Promise<Reservation> {
    if (this.closed) return Promise.reject(closedError());
    if (bytes > this.budget) return Promise.reject(tooLarge(bytes, this.budget));
    if (signal?.aborted) return Promise.reject(abortedError());
    if (this.waiters.length === 0 && this.fits(bytes)) return Promise.resolve(this.grant(bytes));
    return new Promise<Reservation>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(abortedError());
          this.wake();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  get(ref: FrameRef): Frame {
    const entry = this.frames.get(ref);
    if (!entry) throw new FaceError('E_FRAME_MISSING', `frame ${ref} is not in the frame store (released, expired, or never stored here)`);
    return entry.frame;
  }

  tryGet(ref: FrameRef): Frame | undefined {
    return this.frames.get(ref)?.frame;
  }

  has(ref: FrameRef): boolean {
    return this.frames.has(ref);
  }

  release(ref: FrameRef): boolean {
    const entry = this.frames.get(ref);
    if (!entry) return false;
    this.frames.delete(ref);
    this.bytes -= entry.bytes;
    if (entry.owner !== undefined) {
      const set = this.owners.get(entry.owner);
      set?.delete(ref);
      if (set && set.size === 0) this.owners.delete(entry.owner);
    }
    this.wake();
    return true;
  }

  releaseMany(refs: Iterable<FrameRef>): number {
    let n = 0;
    for (const ref of refs) if (this.release(ref)) n++;
    return n;
  }

  releaseOwner(owner: string): number {
    const set = this.owners.get(owner);
    if (!set) return 0;
    return this.releaseMany([...set] as FrameRef[]);
  }

  setExpiry(ref: FrameRef, expiresAt: number): void {
    const entry = this.frames.get(ref);
    if (entry) entry.expiresAt = expiresAt;
  }

  /** Frees every frame whose expiry has passed; returns how many. */
  sweep(now: number = this.now()): number {
    const expired: FrameRef[] = [];
    for (const [ref, entry] of this.frames) if (entry.expiresAt <= now) expired.push(ref as FrameRef);
    const n = this.releaseMany(expired);
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
    this.frames.clear();
    this.owners.clear();
    this.bytes = 0;
    this.reserved = 0;
    for (const waiter of this.waiters.splice(0)) {
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(closedError());
    }
  }

  private insert(frame: Frame, bytes: number, options: PutOptions): FrameRef {
    const ref = `frame:${this.prefix}${(this.counter++).toString(36)}` as FrameRef;
    const expiresAt = options.expiresAt ?? this.now() + this.defaultTtlMs;
    this.frames.set(ref, { frame, bytes, expiresAt, owner: options.owner });
    if (options.owner !== undefined) {
      let set = this.owners.get(options.owner);
      if (!set) this.owners.set(options.owner, (set = new Set()));
      set.add(ref);
    }
    this.bytes += bytes;
    this.notePeak();
    return ref;
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
      this.reserved -= bytes;
    };
    return {
      bytes,
      put: (frame: Frame, options: PutOptions = {}): FrameRef => {
        if (frame.data.byteLength > bytes) throw new FaceError('E_FRAME_TOO_LARGE', `frame has ${frame.data.byteLength} bytes but only ${bytes} were reserved`);
        finish();
        if (this.closed) throw closedError();
        return this.insert(frame, frame.data.byteLength, options);
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
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.grant(waiter.bytes));
    }
  }

  private notePeak(): void {
    const used = this.bytes + this.reserved;
    if (used > this.peak) this.peak = used;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function closedError(): FaceError {
  return new FaceError('E_STORE_CLOSED', 'the frame store is closed');
}

function abortedError(): FaceError {
  return new FaceError('E_CLOSED', 'waiting for room in the frame store was aborted');
}

function tooLarge(bytes: number, budget: number): FaceError {
  return new FaceError('E_FRAME_TOO_LARGE', `a frame of ${bytes} bytes does not fit the frame store budget of ${budget} bytes`);
}
