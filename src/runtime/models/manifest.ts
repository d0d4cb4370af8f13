import { readFileSync } from 'fs';
import { join } from 'path';
import type { ModelRole } from './types';

export interface ManifestEntry {
  id: string;
  role: ModelRole;
  file: string;
  contract: string;
  source: { npm?: string; path?: string; urls?: string[] };
  sha256?: string;
  crc32?: string;
  size?: number;
  license: string;
  default?: boolean;
}

export interface Manifest {
  version: 1;
  models: ManifestEntry[];
}

/** The package root (dist/runtime/models → ../../..). */
export const PACKAGE_ROOT = join(__dirname, '..', '..', '..');
export const MANIFEST_PATH = join(PACKAGE_ROOT, 'models', 'manifest.json');

export function loadManifest(path: string = MANIFEST_PATH): Manifest {
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  if (manifest.version !== 1 || !Array.isArray(manifest.models)) throw new Error(`${path} is not a version 1 model manifest`);
  return manifest;
}
