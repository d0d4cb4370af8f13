import { FaceError } from '../errors';
import type { FaceIdentity } from '../token/types';
import { compact, libraryError, openLibraryDatabase, type CompactResult, type Database, type OpenOptions } from './library-db';
import { VectorIndex } from './vector-index';

/** What a face must bring to be enrolled or recognised: its embedding and the recognizer that made it. */
export interface EmbeddedFace {
  embedding: ArrayLike<number>;
  embedding_model?: string;
}

export interface PersonInfo {
  id: number;
  name: string;
  /** ISO 8601. */
  created: string;
  notes: string;
  /** Enrolled pictures (embeddings) of the person. */
  embeddings: number;
  /** Of those, how many kept a thumbnail. */
  thumbnails: number;
}

export interface UnknownInfo {
  id: number;
  first_seen: string;
  last_seen: string;
  /** Visits (or pictures) it was seen in. */
  seen: number;
  camera: string | null;
  thumbnail: boolean;
}

export interface LibraryInfo {
  path: string;
  people: number;
  embeddings: number;
  unknowns: number;
  /** The recognizer every vector of the library was made by (null while the library is empty). */
  model: string | null;
  dim: number | null;
  created: string | null;
}

/** Collecting unknown faces for naming later: off by default, bounded in number and in age. */
export interface UnknownPolicy {
  collect: boolean;
  /** Most unknown faces kept; the oldest go first (default 50). */
  max: number;
  /** Days an unknown face is kept after it was last seen (default 7). */
  maxAgeDays: number;
}

export const DEFAULT_UNKNOWN_POLICY: Readonly<UnknownPolicy> = Object.freeze({ collect: false, max: 50, maxAgeDays: 7 });

export interface LibraryOptions extends OpenOptions {
  unknowns?: Partial<UnknownPolicy>;
  /** Clock (tests). */
  now?: () => number;
}

export interface EnrolResult {
  person: PersonInfo;
  /** The person was new to the library. */
  created: boolean;
  embeddingId: number;
}

export interface ForgetResult {
  name: string;
  embeddings: number;
  /** Collected unknown faces that were this person too (similarity ≥ the threshold given), erased with them. */
  unknowns: number;
  compaction: CompactResult;
}

export interface CollectResult {
  id: number;
  /** The face was already collected (similar to a kept one): its last_seen and count were updated. */
  merged: boolean;
  /** Unknown faces dropped for age or number. */
  pruned: number;
}

/**
 * Cosine similarity a face needs to be recognised as a person, with the default recognizer
 * (fr_feature), from bench/face-library.js (BENCHMARKS.md §17): on 23 labelled people with
 * augmentations the lowest threshold with a false-accept rate ≤ 1 % was 0.52; 0.55 keeps a
 * margin above it at the same true-accept rate (96 %), no stranger accepted.
 */
export const DEFAULT_RECOGNITION_THRESHOLD = 0.55;

/** Longest name (characters). */
export const MAX_NAME_LENGTH = 100;
/** Largest thumbnail kept (bytes): a small face JPEG is ≈ 3–6 kB. */
const MAX_THUMBNAIL_BYTES = 64 * 1024;

/** A person's name as stored: trimmed, 1–100 characters, no control characters. */
export function checkName(value: unknown): string {
  if (typeof value !== 'string') throw new FaceError('E_BAD_PARAMETER', `a person's name must be text (got ${value === null ? 'null' : typeof value}); set msg.name`);
  const name = value.trim();
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (!name || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new FaceError('E_BAD_PARAMETER', `a person's name must be 1 to ${MAX_NAME_LENGTH} characters without control characters (got "${name.slice(0, 40)}")`);
  }
  return name;
}

/** The embedding as a unit-length Float32Array (the stored form), refusing non-numbers. */
function unitVector(values: ArrayLike<number>, what: string): Float32Array {
  const v = Float32Array.from(values as ArrayLike<number>);
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new FaceError('E_BAD_PARAMETER', `${what} has a value that is not a finite number at ${i}`);
    sum += v[i] * v[i];
  }
  if (v.length < 2 || sum === 0) throw new FaceError('E_BAD_PARAMETER', `${what} is not an embedding (${v.length} values, length 0)`);
  const norm = Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

const toBlob = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const fromBlob = (b: Buffer): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/**
 * A face library: people (name, created, notes), their embeddings with the recognizer model and
 * dimension that made them, an optional small thumbnail per enrolment, and (only when asked)
 * unknown faces collected for naming later. One SQLite file (better-sqlite3) in WAL mode: one
 * connection per file per process writes; other processes sharing the file wait for each
 * other's writes (busy timeout) and see each other's enrolments (data_version).
 *
 * Every vector of a library comes from one recognizer: enrolling or recognising a face of
 * another model is refused (their similarities mean nothing). The first enrolment sets it; it
 * is forgotten when the library is empty again.
 *
 * Erasing (forget, an unknown face, pruning) overwrites the rows (secure_delete), empties the
 * write-ahead log and compacts the file, so neither the name nor the vectors stay in the
 * database files.
 */
export class FaceLibrary {
  readonly path: string;
  private readonly db: Database;
  private readonly policy: UnknownPolicy;
  private readonly now: () => number;
  private index?: VectorIndex;
  private names = new Map<number, string>();
  /** data_version and our own write count when the index was built: either changing means rebuild. */
  private indexedAt = '';
  private writes = 0;
  private closed = false;

  constructor(path: string, options: LibraryOptions = {}) {
    this.path = path;
    this.db = openLibraryDatabase(path, options);
    this.policy = { ...DEFAULT_UNKNOWN_POLICY, ...definedOnly(options.unknowns ?? {}) };
    this.now = options.now ?? Date.now;
  }

  get unknownPolicy(): Readonly<UnknownPolicy> {
    return this.policy;
  }

  info(): LibraryInfo {
    return this.read('reading the library', () => {
      const meta = this.meta();
      const count = (table: string): number => this.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
      return {
        path: this.path,
        people: count('people'),
        embeddings: count('embeddings'),
        unknowns: count('unknowns'),
        model: meta.model ?? null,
        dim: meta.dim ? Number(meta.dim) : null,
        created: meta.created ?? null,
      };
    });
  }

  /** Number of people. */
  size(): number {
    return this.read('counting people', () => this.db.prepare('SELECT count(*) FROM people').pluck().get() as number);
  }

  people(): PersonInfo[] {
    return this.read('listing people', () => this.db.prepare(`${PERSON_SELECT} GROUP BY p.id ORDER BY p.name COLLATE NOCASE`).all() as PersonInfo[]);
  }

  person(name: string): PersonInfo | undefined {
    const wanted = checkName(name);
    return this.read('reading a person', () => this.db.prepare(`${PERSON_SELECT} WHERE p.name = ? GROUP BY p.id`).get(wanted) as PersonInfo | undefined);
  }

  /**
   * Adds a picture's face to a person (created with that name when new). `thumbnail` (a small
   * JPEG) is kept only when given: the caller decides (off unless the user asked).
   */
  enrol(name: string, face: EmbeddedFace, options: { thumbnail?: Buffer; notes?: string } = {}): EnrolResult {
    const wanted = checkName(name);
    const model = this.modelOf(face, 'the face to enrol');
    const vector = unitVector(face.embedding, 'the face to enrol');
    const thumbnail = options.thumbnail && options.thumbnail.length <= MAX_THUMBNAIL_BYTES ? options.thumbnail : null;
    return this.write('enrolling', () => {
      this.pinModel(model, vector.length);
      const at = new Date(this.now()).toISOString();
      let person = this.db.prepare('SELECT id FROM people WHERE name = ?').get(wanted) as { id: number } | undefined;
      const created = !person;
      if (!person) person = { id: Number(this.db.prepare('INSERT INTO people (name, created, notes) VALUES (?, ?, ?)').run(wanted, at, options.notes ?? '').lastInsertRowid) };
      else if (options.notes !== undefined) this.db.prepare('UPDATE people SET notes = ? WHERE id = ?').run(options.notes, person.id);
      const embeddingId = Number(
        this.db.prepare('INSERT INTO embeddings (person, model, dim, vector, created, thumbnail) VALUES (?, ?, ?, ?, ?, ?)').run(person.id, model, vector.length, toBlob(vector), at, thumbnail)
          .lastInsertRowid,
      );
      const info = this.db.prepare(`${PERSON_SELECT} WHERE p.id = ? GROUP BY p.id`).get(person.id) as PersonInfo;
      return { person: info, created, embeddingId };
    });
  }

  /**
   * Who each face is: the person with the closest enrolled vector, their cosine similarity
   * (4 decimals) and whether it reaches `threshold`. An empty library knows nobody.
   */
  async identify(faces: readonly EmbeddedFace[], threshold: number): Promise<FaceIdentity[]> {
    if (!(threshold >= -1 && threshold <= 1)) throw new FaceError('E_BAD_PARAMETER', `the recognition threshold must be between -1 and 1 (got ${threshold})`);
    if (faces.length === 0) return [];
    const meta = this.read('reading the library', () => this.meta());
    if (!meta.model) return faces.map(() => ({ name: null, similarity: 0, known: false }));
    const queries = faces.map((face, i) => {
      const model = this.modelOf(face, `face ${i}`);
      this.assertModel(model, face.embedding.length, meta, `face ${i}`);
      return unitVector(face.embedding, `face ${i}`);
    });
    const index = this.currentIndex(Number(meta.dim));
    const names = this.names;
    const best = await index.best(queries);
    return best.map((match) => {
      if (!match) return { name: null, similarity: 0, known: false };
      const similarity = round4(match.similarity);
      const known = similarity >= threshold;
      return { name: known ? (names.get(match.person) ?? null) : null, similarity, known: known && names.has(match.person) };
    });
  }

  rename(from: string, to: string): PersonInfo {
    const old = checkName(from);
    const name = checkName(to);
    return this.write(
      'renaming',
      () => {
        const person = this.db.prepare('SELECT id FROM people WHERE name = ?').get(old) as { id: number } | undefined;
        if (!person) throw new FaceError('E_BAD_PARAMETER', `nobody called "${old}" is in the face library`);
        const other = this.db.prepare('SELECT id FROM people WHERE name = ?').get(name) as { id: number } | undefined;
        if (other && other.id !== person.id) throw new FaceError('E_BAD_PARAMETER', `"${name}" is already in the face library: forget one of them first`);
        this.db.prepare('UPDATE people SET name = ? WHERE id = ?').run(name, person.id);
        return this.db.prepare(`${PERSON_SELECT} WHERE p.id = ? GROUP BY p.id`).get(person.id) as PersonInfo;
      },
      true,
    );
  }

  setNotes(name: string, notes: string): PersonInfo {
    const wanted = checkName(name);
    return this.write(
      'writing notes',
      () => {
        const changed = this.db.prepare('UPDATE people SET notes = ? WHERE name = ?').run(String(notes).slice(0, 1000), wanted).changes;
        if (!changed) throw new FaceError('E_BAD_PARAMETER', `nobody called "${wanted}" is in the face library`);
        return this.db.prepare(`${PERSON_SELECT} WHERE p.name = ? GROUP BY p.id`).get(wanted) as PersonInfo;
      },
      true,
    );
  }

  /**
   * Erases a person: their row, every vector and thumbnail, the unknown faces collected that
   * were them (similarity ≥ `threshold` to one of their vectors), and this process's index
   * copy; then the files are compacted so no trace stays. Other processes rebuild their index
   * on their next recognition. Throws E_BAD_PARAMETER when nobody has that name.
   */
  forget(name: string, options: { threshold?: number } = {}): ForgetResult {
    const wanted = checkName(name);
    const threshold = options.threshold ?? 0.5;
    const erased = this.write(
      'forgetting',
      () => {
        const person = this.db.prepare('SELECT id, name FROM people WHERE name = ?').get(wanted) as { id: number; name: string } | undefined;
        if (!person) throw new FaceError('E_BAD_PARAMETER', `nobody called "${wanted}" is in the face library`);
        const vectors = (this.db.prepare('SELECT vector FROM embeddings WHERE person = ?').pluck().all(person.id) as Buffer[]).map(fromBlob);
        let unknowns = 0;
        for (const row of this.db.prepare('SELECT id, vector FROM unknowns').all() as Array<{ id: number; vector: Buffer }>) {
          const v = fromBlob(row.vector);
          if (vectors.some((p) => p.length === v.length && cosine(p, v) >= threshold)) unknowns += this.db.prepare('DELETE FROM unknowns WHERE id = ?').run(row.id).changes;
        }
        const embeddings = this.db.prepare('DELETE FROM embeddings WHERE person = ?').run(person.id).changes;
        this.db.prepare('DELETE FROM people WHERE id = ?').run(person.id);
        this.unpinIfEmpty();
        return { name: person.name, embeddings, unknowns };
      },
      true,
    );
    return { ...erased, compaction: this.compactNow() };
  }

  /** The thumbnail of a person's most recent enrolment that kept one. */
  thumbnail(name: string): Buffer | undefined {
    const wanted = checkName(name);
    return this.read(
      'reading a thumbnail',
      () =>
        (this.db.prepare('SELECT e.thumbnail FROM embeddings e JOIN people p ON p.id = e.person WHERE p.name = ? AND e.thumbnail IS NOT NULL ORDER BY e.id DESC LIMIT 1').pluck().get(wanted) as
          Buffer | undefined) ?? undefined,
    );
  }

  unknowns(): UnknownInfo[] {
    return this.read('listing unknown faces', () =>
      (
        this.db.prepare('SELECT id, first_seen, last_seen, seen, camera, thumbnail IS NOT NULL AS thumbnail FROM unknowns ORDER BY last_seen DESC').all() as Array<
          Omit<UnknownInfo, 'thumbnail'> & { thumbnail: number }
        >
      ).map((u) => ({ ...u, thumbnail: u.thumbnail === 1 })),
    );
  }

  unknownThumbnail(id: number): Buffer | undefined {
    return this.read('reading a thumbnail', () => (this.db.prepare('SELECT thumbnail FROM unknowns WHERE id = ?').pluck().get(id) as Buffer | null | undefined) ?? undefined);
  }

  /**
   * Keeps an unknown face for naming later, when the policy collects them: a face similar
   * (≥ `threshold`) to one already kept updates that one; the oldest beyond the policy's number
   * and those older than its age are dropped (erased like a forget). Undefined when not collecting.
   */
  collectUnknown(face: EmbeddedFace, options: { threshold: number; thumbnail?: Buffer; camera?: string }): CollectResult | undefined {
    if (!this.policy.collect) return undefined;
    const model = this.modelOf(face, 'the unknown face');
    const vector = unitVector(face.embedding, 'the unknown face');
    const thumbnail = options.thumbnail && options.thumbnail.length <= MAX_THUMBNAIL_BYTES ? options.thumbnail : null;
    const result = this.write('collecting an unknown face', () => {
      this.pinModel(model, vector.length);
      const at = new Date(this.now()).toISOString();
      let merged: number | undefined;
      let best = -2;
      for (const row of this.db.prepare('SELECT id, vector FROM unknowns WHERE dim = ?').all(vector.length) as Array<{ id: number; vector: Buffer }>) {
        const s = cosine(vector, fromBlob(row.vector));
        if (s >= options.threshold && s > best) {
          best = s;
          merged = row.id;
        }
      }
      if (merged !== undefined) {
        this.db.prepare('UPDATE unknowns SET last_seen = ?, seen = seen + 1, thumbnail = coalesce(thumbnail, ?) WHERE id = ?').run(at, thumbnail, merged);
      } else {
        merged = Number(
          this.db
            .prepare('INSERT INTO unknowns (model, dim, vector, first_seen, last_seen, seen, camera, thumbnail) VALUES (?, ?, ?, ?, ?, 1, ?, ?)')
            .run(model, vector.length, toBlob(vector), at, at, options.camera ?? null, thumbnail).lastInsertRowid,
        );
      }
      const pruned = this.pruneRows();
      return { id: merged, merged: best > -2, pruned };
    });
    if (result.pruned > 0) this.compactNow();
    return result;
  }

  /** Drops unknown faces past the policy's age or number; compacts when any went. */
  pruneUnknowns(): number {
    const pruned = this.write('pruning unknown faces', () => this.pruneRows(), true);
    if (pruned > 0) this.compactNow();
    return pruned;
  }

  /** Erases one collected unknown face (and compacts). False when there was none with that id. */
  forgetUnknown(id: number): boolean {
    const gone = this.write(
      'erasing an unknown face',
      () => {
        const n = this.db.prepare('DELETE FROM unknowns WHERE id = ?').run(id).changes;
        this.unpinIfEmpty();
        return n > 0;
      },
      true,
    );
    if (gone) this.compactNow();
    return gone;
  }

  /** Enrols a collected unknown face under `name` (with its thumbnail when it has one) and erases it from the unknown faces. */
  nameUnknown(id: number, name: string, options: { keepThumbnail?: boolean } = {}): EnrolResult {
    const row = this.read(
      'reading an unknown face',
      () => this.db.prepare('SELECT model, vector, thumbnail FROM unknowns WHERE id = ?').get(id) as { model: string; vector: Buffer; thumbnail: Buffer | null } | undefined,
    );
    if (!row) throw new FaceError('E_BAD_PARAMETER', `there is no unknown face ${id} (erased or pruned)`);
    const enrolled = this.enrol(name, { embedding: fromBlob(row.vector), embedding_model: row.model }, options.keepThumbnail && row.thumbnail ? { thumbnail: row.thumbnail } : {});
    this.forgetUnknown(id);
    return enrolled;
  }

  /** Everything needed to rebuild the library elsewhere (people, vectors, thumbnails; not the unknown faces). */
  exportData(): LibraryExport {
    return this.read('exporting', () => {
      const meta = this.meta();
      const people = this.db.prepare('SELECT id, name, created, notes FROM people ORDER BY id').all() as Array<{ id: number; name: string; created: string; notes: string }>;
      const rows = this.db.prepare('SELECT person, vector, created, thumbnail FROM embeddings ORDER BY id').all() as Array<{
        person: number;
        vector: Buffer;
        created: string;
        thumbnail: Buffer | null;
      }>;
      return {
        format: 'facefusion-library',
        v: 1,
        model: meta.model ?? null,
        dim: meta.dim ? Number(meta.dim) : null,
        exported_at: new Date(this.now()).toISOString(),
        people: people.map((p) => ({
          name: p.name,
          created: p.created,
          notes: p.notes,
          embeddings: rows
            .filter((r) => r.person === p.id)
            .map((r) => ({ vector: r.vector.toString('base64'), created: r.created, ...(r.thumbnail ? { thumbnail: r.thumbnail.toString('base64') } : {}) })),
        })),
      };
    });
  }

  /**
   * Merges an export into this library: new people are added, known names get the vectors
   * they lack. Refused whole (nothing written) when its recognizer is not this library's.
   */
  importData(data: LibraryExport): { people: number; embeddings: number } {
    checkExport(data);
    if (!data.model || !data.dim) return { people: 0, embeddings: 0 };
    return this.write('importing', () => {
      this.pinModel(data.model!, data.dim!);
      let people = 0;
      let embeddings = 0;
      for (const p of data.people) {
        const name = checkName(p.name);
        let person = this.db.prepare('SELECT id FROM people WHERE name = ?').get(name) as { id: number } | undefined;
        if (!person) {
          person = { id: Number(this.db.prepare('INSERT INTO people (name, created, notes) VALUES (?, ?, ?)').run(name, String(p.created), String(p.notes ?? '')).lastInsertRowid) };
          people++;
        }
        const have = new Set((this.db.prepare('SELECT vector FROM embeddings WHERE person = ?').pluck().all(person.id) as Buffer[]).map((b) => b.toString('base64')));
        for (const e of p.embeddings) {
          const vector = Buffer.from(e.vector, 'base64');
          if (vector.length !== data.dim! * 4) throw new FaceError('E_BAD_PARAMETER', `the export holds a vector of ${vector.length / 4} values for ${name}, the library's are ${data.dim}`);
          if (have.has(vector.toString('base64'))) continue;
          const thumbnail = e.thumbnail ? Buffer.from(e.thumbnail, 'base64') : null;
          this.db
            .prepare('INSERT INTO embeddings (person, model, dim, vector, created, thumbnail) VALUES (?, ?, ?, ?, ?, ?)')
            .run(person.id, data.model, data.dim, unitBlob(vector, name), String(e.created), thumbnail && thumbnail.length <= MAX_THUMBNAIL_BYTES ? thumbnail : null);
          embeddings++;
        }
      }
      return { people, embeddings };
    });
  }

  /** Empties the write-ahead log and rebuilds the file without free pages (done after every erase). */
  compactNow(): CompactResult {
    return this.guard('compacting', () => compact(this.db));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const index = this.index;
    this.index = undefined;
    this.names = new Map();
    try {
      // Fold the log into the file so a closed library is one file.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // another process is reading: it will checkpoint
    }
    this.db.close();
    await index?.close();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  // --- internals ---

  private meta(): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM library').all() as Array<{ key: string; value: string }>;
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  private modelOf(face: EmbeddedFace, what: string): string {
    if (!face || !face.embedding || typeof face.embedding.length !== 'number') throw new FaceError('E_BAD_PARAMETER', `${what} has no embedding: put a face embed stage before it`);
    const model = face.embedding_model;
    if (typeof model !== 'string' || !model)
      throw new FaceError('E_BAD_PARAMETER', `${what} does not say which recognizer made its embedding (embedding_model): the face library stores only embeddings whose model is known`);
    return model;
  }

  private assertModel(model: string, dim: number, meta: Record<string, string>, what: string): void {
    if (meta.model && meta.model !== model) {
      throw new FaceError(
        'E_BAD_PARAMETER',
        `${what} was embedded by ${model}, but this face library holds embeddings of ${meta.model}: embeddings of different recognizers cannot be compared; use face_recognizer_model ${meta.model}, or another library`,
        {
          details: { embedding_model: model, library_model: meta.model },
        },
      );
    }
    if (meta.dim && Number(meta.dim) !== dim) {
      throw new FaceError('E_BAD_PARAMETER', `${what} has ${dim} values, the library's embeddings ${meta.dim}: they come from different recognizers`, {
        details: { dim, library_dim: Number(meta.dim) },
      });
    }
  }

  /** Sets the library's recognizer on its first vector; refuses another one after that (inside a write). */
  private pinModel(model: string, dim: number): void {
    const meta = this.meta();
    this.assertModel(model, dim, meta, 'the face');
    if (!meta.model) {
      const put = this.db.prepare('INSERT OR REPLACE INTO library (key, value) VALUES (?, ?)');
      put.run('model', model);
      put.run('dim', String(dim));
    }
  }

  /** An empty library (no vector, no unknown face) forgets its recognizer, so another one may be used. */
  private unpinIfEmpty(): void {
    const left = this.db.prepare('SELECT (SELECT count(*) FROM embeddings) + (SELECT count(*) FROM unknowns)').pluck().get() as number;
    if (left === 0) this.db.prepare("DELETE FROM library WHERE key IN ('model', 'dim')").run();
  }

  private pruneRows(): number {
    const cutoff = new Date(this.now() - this.policy.maxAgeDays * 86_400_000).toISOString();
    let pruned = this.db.prepare('DELETE FROM unknowns WHERE last_seen < ?').run(cutoff).changes;
    pruned += this.db.prepare('DELETE FROM unknowns WHERE id NOT IN (SELECT id FROM unknowns ORDER BY last_seen DESC, id DESC LIMIT ?)').run(Math.max(0, Math.floor(this.policy.max))).changes;
    if (pruned > 0) this.unpinIfEmpty();
    return pruned;
  }

  /** The index of the current vectors: rebuilt when this process or another one changed the library. */
  private currentIndex(dim: number): VectorIndex {
    const stamp = this.read('reading the library', () => `${this.db.pragma('data_version', { simple: true })}:${this.writes}`);
    if (this.index && this.indexedAt === stamp && this.index.dim === dim) return this.index;
    const rows = this.read('loading the vectors', () => this.db.prepare('SELECT person, vector FROM embeddings WHERE dim = ?').all(dim) as Array<{ person: number; vector: Buffer }>);
    const names = this.read('loading the names', () => this.db.prepare('SELECT id, name FROM people').all() as Array<{ id: number; name: string }>);
    if (this.index && this.index.dim !== dim) {
      void this.index.close();
      this.index = undefined;
    }
    const vectors = rows.map((r) => ({ person: r.person, vector: fromBlob(r.vector) }));
    if (this.index) this.index.load(vectors);
    else this.index = new VectorIndex(dim, vectors);
    this.names = new Map(names.map((n) => [n.id, n.name]));
    this.indexedAt = stamp;
    return this.index;
  }

  private guard<T>(doing: string, work: () => T): T {
    if (this.closed) throw new FaceError('E_CLOSED', `face library ${this.path} is closed (flow stopped or redeployed)`);
    try {
      return work();
    } catch (err) {
      throw libraryError(this.path, err, doing);
    }
  }

  private read<T>(doing: string, work: () => T): T {
    return this.guard(doing, work);
  }

  /**
   * One write transaction, taken at once (BEGIN IMMEDIATE): the single writer of this process;
   * a writer of another process makes it wait up to the busy timeout. `erases` drops the index
   * copy at once (its vectors must not outlive the rows).
   */
  private write<T>(doing: string, work: () => T, erases = false): T {
    return this.guard(doing, () => {
      try {
        return this.db.transaction(work).immediate();
      } finally {
        this.writes++;
        if (erases) {
          this.index?.clear();
          this.indexedAt = '';
          this.names = new Map();
        }
      }
    });
  }
}

const PERSON_SELECT = `SELECT p.id, p.name, p.created, p.notes, count(e.id) AS embeddings, count(e.thumbnail) AS thumbnails
  FROM people p LEFT JOIN embeddings e ON e.person = p.id`;

export interface LibraryExport {
  format: 'facefusion-library';
  v: 1;
  model: string | null;
  dim: number | null;
  exported_at: string;
  people: Array<{ name: string; created: string; notes: string; embeddings: Array<{ vector: string; created: string; thumbnail?: string }> }>;
}

function checkExport(data: LibraryExport): void {
  const ok =
    data &&
    data.format === 'facefusion-library' &&
    data.v === 1 &&
    Array.isArray(data.people) &&
    data.people.every((p) => p && typeof p.name === 'string' && Array.isArray(p.embeddings) && p.embeddings.every((e) => e && typeof e.vector === 'string')) &&
    (data.model === null || (typeof data.model === 'string' && Number.isInteger(data.dim) && Number(data.dim) > 1));
  if (!ok) throw new FaceError('E_BAD_PARAMETER', 'not a face library export (format facefusion-library v1)');
}

function unitBlob(bytes: Buffer, name: string): Buffer {
  return toBlob(unitVector(fromBlob(bytes), `a vector of ${name}`));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null && !(typeof v === 'number' && Number.isNaN(v)))) as Partial<T>;
}
