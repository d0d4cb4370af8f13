#!/usr/bin/env node
/** `node dist/cli/models.js [fetch-defaults|list|verify] [--dir D]`: the model cache from a shell. */
import { ModelCache } from '../runtime/models/model-cache';

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'list';
  const dirIndex = argv.indexOf('--dir');
  const cache = new ModelCache({ dir: dirIndex >= 0 ? argv[dirIndex + 1] : undefined });
  if (command === 'fetch-defaults') {
    await cache.ensureDefaults();
  } else if (command === 'verify') {
    for (const m of cache.list().filter((m) => m.present)) await cache.verify(m.id);
  } else if (command !== 'list') {
    throw new Error(`unknown command "${command}" (use fetch-defaults, list or verify)`);
  }
  console.log(`models in ${cache.dir}:`);
  for (const m of cache.list()) console.log(`  ${m.present ? 'present' : 'missing'}  ${m.id.padEnd(24)} ${m.role.padEnd(11)} ${m.license}${m.default ? '  (default)' : ''}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
