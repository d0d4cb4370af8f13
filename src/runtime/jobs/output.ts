import { accessSync, constants, statSync } from 'fs';
import { readdir, rename, rm } from 'fs/promises';
import { randomBytes } from 'crypto';
import { basename, dirname, extname, join, resolve } from 'path';
import { FaceError } from '../errors';

/** The absolute output path, once its directory exists and is writable; E_BAD_OUTPUT otherwise. */
export function assertOutputDir(output: string): string {
  const path = resolve(output);
  const dir = dirname(path);
  let isDir = false;
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
 * A job writes its output under a hidden temporary name next to the final one and renames it
 * when complete (`rename` is atomic on one file system), so a half-written file never appears
 * under the final name — not even when the process is killed. The extension is kept: ffmpeg
 * and sharp choose the container/format from it.
 */
export class PartialOutput {
  readonly final: string;
  readonly partial: string;
  private settled = false;

  constructor(output: string) {
    this.final = resolve(output);
    const ext = extname(this.final);
    this.partial = join(dirname(this.final), `.${basename(this.final, ext)}${PARTIAL_MARK}${process.pid}-${randomBytes(4).toString('hex')}${ext}`);
  }

  /** Moves the finished file to its final name. */
  async commit(): Promise<string> {
    this.settled = true;
    await rename(this.partial, this.final);
    return this.final;
  }

  /** Removes the temporary file (failure, cancel). Idempotent; a missing file is fine. */
  async discard(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await rm(this.partial, { force: true });
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
