#!/usr/bin/env node
/** `node dist/cli/models.js [fetch-defaults|list|verify] [--dir D]`: the model cache from a shell. */
import { ModelCache } from '../runtime/models/model-cache';

const USAGE = 'usage: models [fetch-defaults|list|verify] [--dir DIR]';

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  let dir: string | undefined;
  const dirIndex = args.indexOf('--dir');
  if (dirIndex >= 0) {
    dir = args[dirIndex + 1];
    if (!dir) throw new Error(`--dir needs a directory (${USAGE})`);
    args.splice(dirIndex, 2);
  }
  const command = args[0] ?? 'list';
  if (args.length > 1 || !['fetch-defaults', 'list', 'verify'].includes(command)) throw new Error(`unknown arguments "${args.join(' ')}" (${USAGE})`);
  const cache = new ModelCache({ dir });
  const status = new Map<string, string>();
  if (command === 'fetch-defaults') {
    await cache.ensureDefaults();
  } else if (command === 'verify') {
    // Check every present file, report all of them, then fail if any was bad.
    const failures: string[] = [];
    for (const m of cache.list().filter((m) => m.present)) {
      try {
        await cache.verify(m.id);
        status.set(m.id, 'ok');
      } catch (err) {
        status.set(m.id, 'BAD (deleted)');
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    printTable(cache, status);
    if (failures.length > 0) throw new Error(failures.join('\n'));
    return;
  }
  printTable(cache, status);
}

function printTable(cache: ModelCache, status: Map<string, string>): void {
  const rows = cache.list().map((m) => [m.id, m.role, m.present ? status.get(m.id) ?? 'present' : 'missing', m.default ? 'yes' : '', m.license]);
  const header = ['model', 'role', 'state', 'default', 'licence'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log(`models in ${cache.dir}`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
