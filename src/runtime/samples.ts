import { readdirSync } from 'fs';
import { join } from 'path';
import { FaceError } from './errors';
import { PACKAGE_ROOT } from './models/manifest';

/** The small pictures and clip shipped with the package (see samples/README.md for sources and licences). */
export const SAMPLES_DIR = join(PACKAGE_ROOT, 'samples');

const SAMPLE_REF = /^sample:/i;
const SAMPLE_NAME = /^[a-z0-9][a-z0-9._-]*$/i;

/** `sample:obama.jpg` names a file shipped in the package's samples/ folder. */
export function isSampleRef(value: unknown): boolean {
  return typeof value === 'string' && SAMPLE_REF.test(value);
}

/** The names usable after `sample:`. */
export function listSamples(): string[] {
  try {
    return readdirSync(SAMPLES_DIR)
      .filter((name) => SAMPLE_NAME.test(name) && !/\.md$/i.test(name))
      .sort();
  } catch {
    return [];
  }
}

/**
 * `sample:<name>` → the absolute path of that file in samples/; any other string is returned
 * unchanged. Only plain names listed in the folder are accepted (no `/`, no `..`), so a
 * message cannot use `sample:` to reach other files.
 */
export function resolveSample(value: string): string {
  if (!isSampleRef(value)) return value;
  const name = value.slice('sample:'.length).trim();
  const known = listSamples();
  if (!SAMPLE_NAME.test(name) || !known.includes(name)) {
    throw new FaceError('E_BAD_PARAMETER', `unknown sample "${name}" (samples shipped with the package: ${known.join(', ') || 'none'})`, { details: { sample: name } });
  }
  return join(SAMPLES_DIR, name);
}
