#!/usr/bin/env node
/**
 * `node dist/cli/models.js list|fetch|verify …`: the model cache from a shell (also reached as
 * `facefusion-node models …`).
 */
import { isFaceError } from '../runtime/errors';
import { isPermissiveLicense } from '../runtime/models/manifest';
import { ModelCache, type FetchProgress } from '../runtime/models/model-cache';

export const MODELS_USAGE = `usage: models list|fetch|verify [ids…] [--dir DIR] [--mirror DIR] [--timeout SECONDS]
  list                 every known model: role, present/missing, licence ([!] = not permissive)
  fetch [ID…]          download the models named (none: the default models), progress on stderr
  verify [ID…]         check size / sha256 / CRC32 of the models named (none: every present one);
                       a bad file is deleted and the exit code is 1
  --dir DIR            models folder (default FACEFUSION_MODELS_DIR, else ~/.cache/facefusion/models
                       — XDG_CACHE_HOME honoured — or models/ in a clone of the repository)
  --mirror DIR         offline mirror folder tried before the network (default FACEFUSION_MODELS_MIRROR)
  --timeout SECONDS    connect/idle timeout of downloads (default 30)
exit codes: 0 done, 1 a model failed, 2 bad arguments`;

export interface ModelsCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

class ModelsUsageError extends Error {}

interface ParsedArgs {
  command: 'list' | 'fetch' | 'verify';
  ids: string[];
  dir?: string;
  mirrorDir?: string;
  timeoutMs?: number;
}

function parse(argv: string[]): ParsedArgs {
  const rest: string[] = [];
  const parsed: Partial<ParsedArgs> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--dir' || arg === '--mirror' || arg === '--timeout') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new ModelsUsageError(`${arg} needs a value`);
      if (arg === '--dir') parsed.dir = value;
      else if (arg === '--mirror') parsed.mirrorDir = value;
      else {
        const seconds = Number(value);
        if (!Number.isFinite(seconds) || seconds <= 0) throw new ModelsUsageError(`--timeout needs a positive number of seconds, got "${value}"`);
        parsed.timeoutMs = seconds * 1000;
      }
    } else if (arg.startsWith('--')) {
      throw new ModelsUsageError(`unknown option ${arg}`);
    } else {
      rest.push(arg);
    }
  }
  const [command = 'list', ...ids] = rest;
  // `fetch-defaults` is what `npm run models` runs.
  if (command === 'fetch-defaults') {
    if (ids.length > 0) throw new ModelsUsageError('fetch-defaults takes no model ids');
    return { ...parsed, command: 'fetch', ids: [] };
  }
  if (command !== 'list' && command !== 'fetch' && command !== 'verify') throw new ModelsUsageError(`unknown command "${command}"`);
  if (command === 'list' && ids.length > 0) throw new ModelsUsageError(`list takes no model ids (got ${ids.join(' ')})`);
  return { ...parsed, command, ids };
}

/** Runs `models …`; resolves with the exit code. */
export async function runModelsCli(argv: string[], io: ModelsCliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parse(argv);
  } catch (err) {
    if (err instanceof ModelsUsageError) {
      io.stderr.write(`error: ${err.message}\nsee facefusion-node models --help\n`);
      return 2;
    }
    throw err;
  }
  const cache = new ModelCache({ dir: args.dir, mirrorDir: args.mirrorDir, timeoutMs: args.timeoutMs });
  for (const id of args.ids) {
    try {
      cache.entry(id);
    } catch (err) {
      io.stderr.write(`error: ${describe(err)}\n`);
      return 2;
    }
  }
  if (args.command === 'list') {
    printTable(io, cache, new Map());
    return 0;
  }
  if (args.command === 'fetch') return fetchModels(io, cache, args.ids);
  return verifyModels(io, cache, args.ids);
}

/** The model ids a command works on: those named on the command line, else the ids of `fallback`'s models. */
function namedOr(named: string[], fallback: () => Array<{ id: string }>): string[] {
  return named.length > 0 ? named : fallback().map((m) => m.id);
}

async function fetchModels(io: ModelsCliIo, cache: ModelCache, named: string[]): Promise<number> {
  const ids = namedOr(named, () => cache.entries().filter((m) => m.default === true));
  const failures: string[] = [];
  for (const id of ids) {
    const entry = cache.entry(id);
    if (!isPermissiveLicense(entry.license)) {
      io.stderr.write(`${id}: licence ${entry.license} — not a permissive licence; read its terms before use (commercial use may be forbidden)\n`);
    }
    const progress = new ProgressReporter(io.stderr);
    try {
      const path = await cache.fetch(id, { onProgress: (e) => progress.report(e) });
      progress.end();
      io.stdout.write(`${id}: ${path}\n`);
    } catch (err) {
      progress.end();
      failures.push(`${id}: ${describe(err)}`);
      io.stderr.write(`error: ${describe(err)}\n`);
    }
  }
  if (failures.length > 0) {
    io.stderr.write(`failed: ${failures.map((f) => f.split(':')[0]).join(', ')}\n`);
    return 1;
  }
  return 0;
}

async function verifyModels(io: ModelsCliIo, cache: ModelCache, named: string[]): Promise<number> {
  const ids = namedOr(named, () => cache.list().filter((m) => m.present));
  const status = new Map<string, string>();
  const failures: string[] = [];
  // Check every model asked for, report all of them, then fail if any was bad.
  for (const id of ids) {
    try {
      const result = await cache.verify(id);
      status.set(id, result.checked.length > 0 ? `ok (${result.checked.join(', ')})` : 'present (nothing to check against)');
    } catch (err) {
      const missing = isFaceError(err) && err.code === 'E_MODEL_MISSING';
      status.set(id, missing ? 'MISSING' : 'BAD (deleted)');
      failures.push(`${id}: ${describe(err)}`);
    }
  }
  printTable(io, cache, status);
  if (failures.length > 0) {
    for (const failure of failures) io.stderr.write(`error: ${failure}\n`);
    io.stderr.write(`failed: ${failures.map((f) => f.split(':')[0]).join(', ')}\n`);
    return 1;
  }
  return 0;
}

function printTable(io: ModelsCliIo, cache: ModelCache, status: Map<string, string>): void {
  const listed = cache.list();
  const rows = listed.map((m) => [m.id, m.role, status.get(m.id) ?? (m.present ? 'present' : 'missing'), m.default ? 'yes' : '', m.permissive ? m.license : `${m.license} [!]`]);
  const header = ['model', 'role', 'state', 'default', 'licence'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  io.stdout.write(`models in ${cache.dir}\n${line(header)}\n`);
  for (const row of rows) io.stdout.write(`${line(row)}\n`);
  if (listed.some((m) => !m.permissive)) io.stdout.write('[!] not a permissive licence: read its terms before use (many forbid commercial use)\n');
}

/** Download progress on stderr: one rewritten line on a terminal, a line per 10 % otherwise. */
class ProgressReporter {
  private lastStep = -1;
  private wroteInline = false;

  constructor(private readonly out: ModelsCliIo['stderr']) {}

  report(e: FetchProgress): void {
    const percent = e.total ? Math.floor((e.received / e.total) * 100) : undefined;
    const text = `${e.id}: ${formatBytes(e.received)}${e.total ? ` / ${formatBytes(e.total)} (${percent}%)` : ''} from ${e.source}`;
    if (this.out.isTTY) {
      this.out.write(`\r${text}\x1b[K`);
      this.wroteInline = true;
      return;
    }
    const step = percent === undefined ? Math.floor(e.received / (16 * 1024 * 1024)) : Math.floor(percent / 10);
    if (step !== this.lastStep) {
      this.lastStep = step;
      this.out.write(`${text}\n`);
    }
  }

  end(): void {
    if (this.wroteInline) this.out.write('\n');
    this.wroteInline = false;
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${n} B`;
}

function describe(err: unknown): string {
  if (isFaceError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

if (require.main === module) {
  runModelsCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${describe(err)}\n`);
      process.exitCode = 1;
    },
  );
}
