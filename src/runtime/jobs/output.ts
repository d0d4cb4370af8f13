import { accessSync, constants, statSync } from 'fs';
import { lstat, open, readdir, readlink, realpath, rename, rm, type FileHandle } from 'fs/promises';
import { randomBytes } from 'crypto';
import { basename, dirname, extname, join, resolve } from 'path';
import { FaceError } from '../errors';

/** The absolute output path, once its directory exists and is writable; E_BAD_OUTPUT otherwise. */
export function assertOutputDir(output: string): string {
  const path = resolve(output);
  const dir = dirname(path);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new FaceError('E_BAD_OUTPUT', `cannot write "${output}": the directory ${dir} does not exist`, { details: { field: 'output_path' } });
  }
  if (!isDir) throw new FaceError('E_BAD_OUTPUT', `cannot write "${output}": ${dir} is not a directory`, { details: { field: 'output_path' } });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new FaceError('E_BAD_OUTPUT', `cannot write "${output}": the directory ${dir} is not writable`, { details: { field: 'output_path' } });
  }
  return path;
}

const PARTIAL_MARK = '.partial-';

/**
 * Whether an output can be written under a temporary name and renamed: a regular file or a path
 * not there yet. A stream URL, a named pipe or a device (e.g. /dev/null) is written in place:
 * renaming a file over a FIFO would replace the pipe a reader is waiting on.
 */
export function renamesIntoPlace(output: string): boolean {
  if (isUrlOutput(output)) return false;
  try {
    return statSync(output).isFile();
  } catch {
    return true;
  }
}

/**
 * Says whether a real path (no links left in it) is a place this output may be written: the
 * path policy's allowed folders for an output named in a message or a queued job.
 */
export type OutputCheck = (realPath: string) => Promise<boolean>;

/** The path a file descriptor really names (Linux: /proc/self/fd), or undefined where the system cannot say. */
export async function pathOfFd(fd: number): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    return await readlink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

function changed(path: string): FaceError {
  return new FaceError('E_PATH_DENIED', `cannot write "${path}": its folder changed while the output was being opened or closed (a link put in its place?); nothing was written there`, {
    details: { field: 'output_path' },
  });
}

/**
 * Opens a file to write with no check-then-use gap: its folder is resolved (realpath) and
 * checked, the file is created or opened relative to that real folder without following a link
 * (O_NOFOLLOW; O_EXCL for a new temporary file), and the path the descriptor really names is
 * checked again before a byte is written (Linux: /proc/self/fd; elsewhere the folder's realpath
 * and the file's inode are compared). An existing file is truncated only after that check.
 */
export async function openOutputFile(path: string, options: { exclusive?: boolean; check?: OutputCheck } = {}): Promise<{ handle: FileHandle; path: string }> {
  let dir: string;
  try {
    dir = await realpath(dirname(resolve(path)));
  } catch {
    throw new FaceError('E_BAD_OUTPUT', `cannot write "${path}": the directory ${dirname(resolve(path))} does not exist`, { details: { field: 'output_path' } });
  }
  const file = join(dir, basename(path));
  if (options.check && !(await options.check(file))) throw changed(path);
  const flags = constants.O_WRONLY | constants.O_CREAT | (options.exclusive ? constants.O_EXCL : 0) | (constants.O_NOFOLLOW ?? 0);
  const handle = await open(file, flags, 0o666).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ELOOP') throw new FaceError('E_PATH_DENIED', `cannot write "${path}": it is a link (outputs are never written through links)`, { details: { field: 'output_path' } });
    throw new FaceError('E_BAD_OUTPUT', `cannot write "${path}": ${error.message}`, { details: { field: 'output_path' }, cause: error });
  });
  try {
    const real = await pathOfFd(handle.fd);
    const same = real !== undefined ? real === file : (await realpath(dir).catch(() => '')) === dir && (await sameInode(handle, file));
    if (!same || (options.check && real !== undefined && !(await options.check(real)))) {
      if (options.exclusive) await rm(real ?? file, { force: true }).catch(() => undefined);
      throw changed(path);
    }
    if (!options.exclusive) await handle.truncate(0);
    return { handle, path: file };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

async function sameInode(handle: FileHandle, path: string): Promise<boolean> {
  const [a, b] = await Promise.all([handle.stat(), lstat(path).catch(() => undefined)]);
  return b !== undefined && a.ino === b.ino && a.dev === b.dev;
}

/**
 * A job writes its output under a hidden temporary name next to the final one and renames it
 * when complete (`rename` is atomic on one file system), so a half-written file never appears
 * under the final name — not even when the process is killed. The extension is kept: ffmpeg
 * and sharp choose the container/format from it.
 *
 * `open()` creates the temporary file in the checked folder (see openOutputFile) and keeps its
 * descriptor: the writer writes through it (ffmpeg inherits it), so swapping the folder for a
 * link later cannot redirect the bytes; `commit()` checks again that the name still leads to
 * that very file in that folder before the rename, and after it that the file is where it should be.
 */
export class PartialOutput {
  final: string;
  partial: string;
  private settled = false;
  private handle?: FileHandle;

  constructor(
    output: string,
    private readonly check?: OutputCheck,
  ) {
    this.final = resolve(output);
    this.partial = this.partialIn(dirname(this.final));
  }

  /** The open temporary file's descriptor, after `open()`. */
  get fd(): number | undefined {
    return this.handle?.fd;
  }

  /** Creates the temporary file (no link followed, checked where it really is) and keeps it open. */
  async open(): Promise<number> {
    if (this.handle) return this.handle.fd;
    const dir = await realpath(dirname(this.final)).catch(() => dirname(this.final));
    this.final = join(dir, basename(this.final));
    this.partial = this.partialIn(dir);
    const { handle } = await openOutputFile(this.partial, { exclusive: true, ...(this.check ? { check: this.check } : {}) });
    this.handle = handle;
    return handle.fd;
  }

  /** Writes the whole output through the open descriptor (pictures). */
  async write(bytes: Uint8Array): Promise<void> {
    await this.open();
    await this.handle!.writeFile(bytes);
  }

  /** Moves the finished file to its final name. */
  async commit(): Promise<string> {
    this.settled = true;
    const handle = this.handle;
    if (!handle) {
      await rename(this.partial, this.final);
      return this.final;
    }
    try {
      // The temporary name must still lead to our file, in the folder that was checked.
      if (!(await sameInode(handle, this.partial)) || (this.check && !(await this.check(this.final)))) throw changed(this.final);
      await rename(this.partial, this.final);
      const real = await pathOfFd(handle.fd);
      if (real !== undefined && real !== this.final) {
        await rm(real, { force: true }).catch(() => undefined);
        throw changed(this.final);
      }
      return this.final;
    } catch (error) {
      // Removed where it really is (the folder it was created in may have been moved away).
      await rm((await pathOfFd(handle.fd)) ?? this.partial, { force: true }).catch(() => undefined);
      throw error;
    } finally {
      await handle.close().catch(() => undefined);
      this.handle = undefined;
    }
  }

  /** Removes the temporary file (failure, cancel). Idempotent; a missing file is fine. */
  async discard(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    const handle = this.handle;
    this.handle = undefined;
    const real = handle ? await pathOfFd(handle.fd) : undefined;
    await handle?.close().catch(() => undefined);
    await rm(real ?? this.partial, { force: true });
  }

  private partialIn(dir: string): string {
    const ext = extname(this.final);
    return join(dir, `.${basename(this.final, ext)}${PARTIAL_MARK}${process.pid}-${randomBytes(4).toString('hex')}${ext}`);
  }
}

/**
 * Removes temporary files an earlier attempt at the same output left behind (a worker killed
 * mid-job cannot clean up). Returns how many were removed.
 */
export async function removeStalePartials(output: string): Promise<number> {
  const final = resolve(output);
  const ext = extname(final);
  const prefix = `.${basename(final, ext)}${PARTIAL_MARK}`;
  let names: string[];
  try {
    names = await readdir(dirname(final));
  } catch {
    return 0;
  }
  const stale = names.filter((n) => n.startsWith(prefix) && n.endsWith(ext) && /^\d+-[0-9a-f]{8}$/.test(n.slice(prefix.length, n.length - ext.length)));
  await Promise.all(stale.map((n) => rm(join(dirname(final), n), { force: true })));
  return stale.length;
}

/** True for a URL output (rtmp://, udp://, …): streamed, not a file to rename. */
export function isUrlOutput(output: string): boolean {
  return /^[a-z][a-z0-9+.-]+:\/\//i.test(output);
}
