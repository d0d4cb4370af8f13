import { randomBytes } from 'crypto';
import { hostname } from 'os';
import { link, open, readFile, rename, stat, unlink, utimes } from 'fs/promises';

/** What a lock file holds: who took it and when. */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO 8601 time the lock was taken. */
  started: string;
  /** Random per lock: tells this holder's file from a later one at the same path. */
  token: string;
}

export interface FileLockOptions {
  /**
   * A lock whose file has not been touched for this long is stale (its holder is gone or stuck)
   * and may be taken over; the holder touches it every staleMs / 4. Default 120 000 ms.
   */
  staleMs?: number;
}

export const DEFAULT_LOCK_STALE_MS = 120_000;

/**
 * An exclusive lock between processes on one folder: a file created with the 'wx' flag holding
 * pid, host, start time and a token. While held, a timer keeps its mtime fresh. A lock whose
 * pid is dead (same host) or whose file is older than staleMs is taken over. release() stops
 * the timer and deletes the file, unless someone took it over meanwhile.
 */
export class FileLock {
  private timer: NodeJS.Timeout | undefined;
  private held = true;

  private constructor(
    readonly path: string,
    readonly owner: LockOwner,
    staleMs: number,
  ) {
    this.timer = setInterval(
      () => {
        const now = new Date();
        utimes(this.path, now, now).catch(() => undefined);
      },
      Math.max(10, Math.floor(staleMs / 4)),
    );
    this.timer.unref();
  }

  /** True until release(). */
  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Takes the lock at `path`, or returns the current holder when it is held (and not stale).
   * A stale lock is moved aside and the attempt repeated (a few times at most).
   */
  static async tryAcquire(path: string, options: FileLockOptions = {}): Promise<FileLock | { holder: LockOwner | undefined }> {
    const staleMs = options.staleMs && options.staleMs > 0 ? options.staleMs : DEFAULT_LOCK_STALE_MS;
    for (let attempt = 0; attempt < 4; attempt++) {
      const owner: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString(), token: randomBytes(8).toString('hex') };
      const created = await createExclusive(path, `${JSON.stringify(owner)}\n`);
      if (created) return new FileLock(path, owner, staleMs);
      const current = await readLock(path);
      if (!current) continue; // gone between the two calls: try again
      if (!isStale(current, staleMs)) return { holder: current.owner };
      await takeAway(path, current.text);
    }
    return { holder: (await readLock(path))?.owner };
  }

  /** Stops the heartbeat and deletes the lock file if it is still this holder's. Safe to call twice. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.held) return;
    this.held = false;
    const current = await readLock(this.path);
    if (current?.owner?.token === this.owner.token) await unlink(this.path).catch(() => undefined);
  }
}

/** Creates `path` with `text` only if it does not exist; false when it does. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
  return true;
}

interface ReadLock {
  text: string;
  /** Undefined when the file does not hold a lock record (being written, or foreign). */
  owner: LockOwner | undefined;
  mtimeMs: number;
}

async function readLock(path: string): Promise<ReadLock | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, owner: parseOwner(text), mtimeMs: info.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.started === 'string' && typeof value.token === 'string') {
      return { pid: value.pid, host: value.host, started: value.started, token: value.token };
    }
  } catch {
    // not a lock record (yet): judged by age alone
  }
  return undefined;
}

/** Stale: untouched for staleMs, or its pid no longer runs on this host. */
function isStale(lock: ReadLock, staleMs: number): boolean {
  if (Date.now() - lock.mtimeMs > staleMs) return true;
  return lock.owner !== undefined && lock.owner.host === hostname() && !processRuns(lock.owner.pid);
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves a stale lock aside (rename is atomic: of two takers only one gets it). If what was moved
 * is not the stale file that was judged (another taker replaced it meanwhile), it is put back
 * unless a newer one is already there.
 */
async function takeAway(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleText);
  if (moved !== staleText) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}
