import { existsSync, mkdirSync } from 'fs';
import { dirname } from 'path';
import type BetterSqlite3 from 'better-sqlite3';
import { FaceError } from '../errors';

export type Database = BetterSqlite3.Database;

/** "FFLB" in the SQLite header's application_id: this file is a face library. */
export const LIBRARY_APPLICATION_ID = 0x46464c42;
/** Schema version in the header's user_version. */
export const LIBRARY_SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS library (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS people (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created TEXT NOT NULL,
  notes TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS embeddings (
  id INTEGER PRIMARY KEY,
  person INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  dim INTEGER NOT NULL,
  vector BLOB NOT NULL,
  created TEXT NOT NULL,
  thumbnail BLOB
);
CREATE INDEX IF NOT EXISTS embeddings_person ON embeddings(person);
CREATE TABLE IF NOT EXISTS unknowns (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  dim INTEGER NOT NULL,
  vector BLOB NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  seen INTEGER NOT NULL DEFAULT 1,
  camera TEXT,
  thumbnail BLOB
);
`;

type SqliteConstructor = new (path: string, options?: BetterSqlite3.Options) => Database;

/**
 * better-sqlite3 is loaded when a library is first opened, so a machine where its native
 * binary is missing loses the face library only, with this message, not the whole package.
 */
function sqlite(): SqliteConstructor {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
    return require('better-sqlite3') as SqliteConstructor;
  } catch (cause) {
    throw new FaceError(
      'E_LIBRARY',
      `the face library needs the better-sqlite3 package, which could not be loaded (${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}); reinstall node-red-contrib-facefusion on this machine`,
      { cause },
    );
  }
}

/** SQLite's error (better-sqlite3's SqliteError carries a code such as SQLITE_CORRUPT). */
function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

/** SQLite's answer when another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED, with their extended codes). */
function lockCode(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** A library error (libraryError) that says another process held the file's lock: trying again may succeed. */
export function lockedOut(error: FaceError | undefined): boolean {
  const code = error?.details?.sqlite;
  return typeof code === 'string' && lockCode(code);
}

/** Any failure of the database as a FaceError naming the file and what to do. */
export function libraryError(path: string, err: unknown, doing: string): FaceError {
  if (err instanceof FaceError) return err;
  const code = sqliteCode(err) ?? '';
  const text = err instanceof Error ? err.message : String(err);
  let why: string;
  if (code === 'SQLITE_NOTADB') why = 'it is not a SQLite database (a damaged, encrypted or unrelated file)';
  else if (code.startsWith('SQLITE_CORRUPT')) why = `the database is damaged (${text}); restore it from an export or move it away to start a new library`;
  else if (lockCode(code)) why = `another process kept the database locked for too long (${text}); try again`;
  else if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM'))
    why = `the file or its folder cannot be written (${text})`;
  else if (code === 'SQLITE_FULL') why = 'the disk is full';
  else why = text;
  return new FaceError('E_LIBRARY', `face library ${path}: ${doing} failed: ${why}`, { cause: err, details: code ? { sqlite: code } : undefined });
}

export interface OpenOptions {
  /** Create the file (and its folder) when it does not exist (default true). */
  create?: boolean;
  /** How long a write waits for another process's write to finish (default 5 s). */
  busyTimeoutMs?: number;
}

/**
 * Opens (or creates) a face library file and makes sure it is one: a file that is not SQLite,
 * is damaged, belongs to another application or was written by a newer schema is refused with
 * E_LIBRARY before anything is written to it. Then: WAL (readers never wait for the writer;
 * other processes may share the file), synchronous FULL (an enrolment that returned is on
 * disk), secure_delete (deleted rows are overwritten with zeros), foreign keys (a person's
 * vectors go with them), temporary tables in memory (no temp file holds a copy).
 */
export function openLibraryDatabase(path: string, options: OpenOptions = {}): Database {
  const create = options.create !== false;
  if (!create && !existsSync(path)) throw new FaceError('E_LIBRARY', `no face library at ${path} (enrol someone first, or check the path)`);
  const Sqlite = sqlite();
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  let db: Database;
  try {
    if (create) mkdirSync(dirname(path), { recursive: true });
    db = new Sqlite(path, { fileMustExist: !create, timeout: busyTimeoutMs });
  } catch (err) {
    throw libraryError(path, err, 'opening');
  }
  try {
    // Nothing is written before the file is known to be ours (or empty). The three reads are one
    // snapshot: read one by one, another process's schema write could land between them.
    const { appId, version, tables } = db.transaction(() => ({
      appId: db.pragma('application_id', { simple: true }) as number,
      version: db.pragma('user_version', { simple: true }) as number,
      tables: db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[],
    }))();
    const fresh = appId === 0 && version === 0 && tables.length === 0;
    if (!fresh && appId !== LIBRARY_APPLICATION_ID) {
      throw new FaceError(
        'E_LIBRARY',
        `${path} is a SQLite database of another application (tables: ${tables.slice(0, 5).join(', ') || 'none'}), not a face library; it was left untouched: give another file`,
      );
    }
    if (version > LIBRARY_SCHEMA_VERSION) {
      throw new FaceError(
        'E_LIBRARY',
        `${path} was written by a newer version of node-red-contrib-facefusion (library schema ${version}, this one knows ${LIBRARY_SCHEMA_VERSION}): update the package`,
      );
    }
    if (!fresh) {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new FaceError('E_LIBRARY', `face library ${path} is damaged (integrity check: ${String(check)}); restore it from an export or move it away to start a new library`);
    }
    if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') whileBusy(() => db.pragma('journal_mode = WAL'), busyTimeoutMs);
    db.pragma('synchronous = FULL');
    db.pragma('secure_delete = ON');
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    if (fresh) initialise(db, path);
    return db;
  } catch (err) {
    db.close();
    throw libraryError(path, err, 'opening');
  }
}

/**
 * Runs `step` again while SQLite answers SQLITE_BUSY, for at most `timeoutMs`. Needed for
 * `PRAGMA journal_mode = WAL`: SQLite does not call the busy handler for it, so two processes
 * opening a new library at the same moment failed at once (19 of 30 simultaneous opens, measured)
 * instead of waiting the busy timeout as every other statement does. Synchronous like
 * better-sqlite3 itself; the pauses (2 ms doubling to 50 ms) happen only while another process
 * holds the lock.
 */
function whileBusy<T>(step: () => T, timeoutMs: number): T {
  const until = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    try {
      return step();
    } catch (err) {
      if (!(sqliteCode(err) ?? '').startsWith('SQLITE_BUSY') || Date.now() >= until) throw err;
      Atomics.wait(pause, 0, 0, wait);
    }
  }
}

/** Writes the schema into an empty file; a process that created it meanwhile wins, the check repeats inside the write lock. */
function initialise(db: Database, path: string): void {
  db.transaction(() => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    if (appId === LIBRARY_APPLICATION_ID) return;
    const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number;
    if (appId !== 0 || tables > 0) throw new FaceError('E_LIBRARY', `${path} became a database of another application while it was being opened`);
    db.exec(SCHEMA);
    db.prepare('INSERT INTO library (key, value) VALUES (?, ?)').run('created', new Date().toISOString());
    db.pragma(`application_id = ${LIBRARY_APPLICATION_ID}`);
    db.pragma(`user_version = ${LIBRARY_SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * Whether another connection holds the file's lock right now: a read that fails with SQLITE_BUSY
 * at once (no busy wait). For a node that could not open its library because of a lock: it tries
 * again only once the file is free, without blocking on the busy timeout for every message.
 * False for any other failure (the open that follows reports it).
 */
export function libraryLocked(path: string): boolean {
  let db: Database | undefined;
  try {
    db = new (sqlite())(path, { fileMustExist: true, timeout: 0 });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return false;
  } catch (err) {
    return (sqliteCode(err) ?? '').startsWith('SQLITE_BUSY');
  } finally {
    db?.close();
  }
}

export interface CompactResult {
  /** The write-ahead log was emptied (truncated to 0 bytes). */
  walTruncated: boolean;
  /** Pages of the database file after compaction. */
  pageCount: number;
}

/**
 * After rows were erased: copy the write-ahead log into the database and truncate it, rebuild
 * the file without free pages (VACUUM), then empty the log again. With secure_delete on, no
 * byte of an erased row stays in the database file or the log (what the file system keeps of
 * blocks it freed is outside SQLite's reach; see the README). A checkpoint that another process's
 * reader blocks is retried for about a second.
 */
export function compact(db: Database): CompactResult {
  const truncate = (): boolean => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (row && row.busy === 0) return true;
      sleep(50);
    }
    return false;
  };
  truncate();
  db.exec('VACUUM');
  const walTruncated = truncate();
  return { walTruncated, pageCount: db.pragma('page_count', { simple: true }) as number };
}

/** A short blocking wait (the database calls around it are synchronous too). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
