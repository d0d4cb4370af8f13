import { existsSync, realpathSync } from 'fs';
import { basename, dirname, join, resolve } from 'path';
import { FaceLibrary, type LibraryOptions } from './face-library';

export interface LibraryLease {
  library: FaceLibrary;
  /** Gives the lease back; the library closes when its last lease is released. */
  release(): Promise<void>;
}

/**
 * One open FaceLibrary per database file in a process, however many flows name it: one
 * connection, so one writer per process (SQLite serialises the writers of other processes).
 * Owned by whoever loads the face nodes (one per Node-RED runtime); leases are counted.
 */
export class LibraryRegistry {
  private readonly open = new Map<string, { library: FaceLibrary; leases: number }>();

  /** Leases the library at `path` (opened with `options` by the first lease; later leases share it). */
  lease(path: string, options: LibraryOptions = {}): LibraryLease {
    const key = canonical(path);
    let entry = this.open.get(key);
    if (!entry || !entry.library.isOpen) {
      entry = { library: new FaceLibrary(resolve(path), options), leases: 0 };
      this.open.set(key, entry);
    }
    entry.leases++;
    const held = entry;
    let released = false;
    return {
      library: held.library,
      release: async () => {
        if (released) return;
        released = true;
        held.leases--;
        if (held.leases > 0) return;
        if (this.open.get(key) === held) this.open.delete(key);
        await held.library.close();
      },
    };
  }

  get size(): number {
    return this.open.size;
  }
}

/** The file's real path (its folder's symlinks resolved), so two spellings of one file share a connection. */
function canonical(path: string): string {
  const full = resolve(path);
  try {
    if (existsSync(full)) return realpathSync(full);
    const dir = dirname(full);
    return existsSync(dir) ? join(realpathSync(dir), basename(full)) : full;
  } catch {
    return full;
  }
}
