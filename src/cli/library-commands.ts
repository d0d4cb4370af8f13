import { readFileSync, writeFileSync } from 'fs';
import { extname, resolve } from 'path';
import { parseArgs } from 'node:util';
import { createRuntime, FaceError, type FaceToken, type Runtime } from '../runtime';
import { createToken, tokenKeyFrom } from '../runtime/token';
import { DEFAULT_RECOGNITION_THRESHOLD, FaceLibrary, enrolToken, recognizeToken, sealLibrary, unsealLibrary, withEmbeddings } from '../runtime/library';
import { FfmpegLocator, VideoDecoder } from '../runtime/video';
import { UsageError } from './run-options';
import type { CliIo } from './facefusion-node';

export const LIBRARY_USAGE = `face library (people and their face embeddings in one SQLite file):

  facefusion-node library enrol  --db FILE --name NAME [--largest] [--thumbnails] PICTURE…
  facefusion-node library who    --db FILE [--json] [--threshold T] [--every N] PICTURE|VIDEO
  facefusion-node library list   --db FILE [--json]
  facefusion-node library forget --db FILE --name NAME
  facefusion-node library export --db FILE --out FILE        (sealed with FACEFUSION_TOKEN_KEY)
  facefusion-node library import --db FILE EXPORT           (opened with FACEFUSION_TOKEN_KEY)

  enrol: each picture must show one face (--largest takes the largest of several); --thumbnails
    keeps a small face picture per enrolment (off by default).
  who: every face with the name it was recognised as (or unknown), its similarity and box;
    --threshold is the similarity a face needs to be a person (default ${DEFAULT_RECOGNITION_THRESHOLD},
    measured in BENCHMARKS.md §17); a video is read every --every frames (default 5).
  forget: erases the person, their vectors and thumbnails, and compacts the file (no trace left).
  Common: --models-dir DIR, --device auto|cpu|cuda. Exit codes: 0 done, 1 failed, 2 bad arguments.`;

const COMMON = {
  db: { type: 'string' as const },
  'models-dir': { type: 'string' as const },
  device: { type: 'string' as const },
};

const VIDEO_EXTENSIONS = new Set(['.mp4', '.mkv', '.mov', '.avi', '.webm', '.m4v', '.mpg', '.mpeg', '.ts', '.flv']);

function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { ...COMMON, ...options } });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function dbOf(values: Record<string, unknown>): string {
  const db = values.db;
  if (typeof db !== 'string' || !db.trim()) throw new UsageError("--db FILE is required (the face library's database file; created by the first enrol)");
  return resolve(db);
}

function nameOf(values: Record<string, unknown>): string {
  const name = values.name;
  if (typeof name !== 'string' || !name.trim()) throw new UsageError('--name NAME is required');
  return name;
}

function thresholdOf(values: Record<string, unknown>): number {
  if (values.threshold === undefined) return DEFAULT_RECOGNITION_THRESHOLD;
  const t = Number(values.threshold);
  if (!Number.isFinite(t) || t < -1 || t > 1) throw new UsageError(`--threshold must be a number from -1 to 1 (got "${String(values.threshold)}")`);
  return t;
}

function runtimeOf(values: Record<string, unknown>): Runtime {
  const device = values.device === undefined ? 'auto' : String(values.device);
  if (!['auto', 'cpu', 'cuda'].includes(device)) throw new UsageError(`--device must be auto, cpu or cuda (got "${device}")`);
  return createRuntime({ device: device as 'auto', ...(typeof values['models-dir'] === 'string' ? { modelsDir: values['models-dir'] } : {}), sweepIntervalMs: 0 });
}

/** The token key for export/import: FACEFUSION_TOKEN_KEY (64 hex digits or a passphrase of 16+ characters). */
function keyFromEnv(): Buffer {
  const key = tokenKeyFrom(process.env.FACEFUSION_TOKEN_KEY);
  if (!key) throw new UsageError('set FACEFUSION_TOKEN_KEY (64 hex digits, or a passphrase of at least 16 characters): exports are sealed with it');
  return key;
}

/** Detected and embedded faces of a picture (or a stored frame). */
async function analysed(runtime: Runtime, token: FaceToken): Promise<FaceToken> {
  const detected = await runtime.process('detect', token, { force: true });
  if (detected.state === 'failed' || detected.faces.length === 0) return detected;
  return withEmbeddings(runtime, detected);
}

/** `library …`: resolves with the exit code. */
export async function runLibraryCli(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'enrol' || sub === 'enroll') return enrol(rest, io);
  if (sub === 'who') return who(rest, io);
  if (sub === 'list') return list(rest, io);
  if (sub === 'forget') return forget(rest, io);
  if (sub === 'export') return exportLibrary(rest, io);
  if (sub === 'import') return importLibrary(rest, io);
  throw new UsageError(`library needs enrol, who, list, forget, export or import (got "${sub ?? ''}")`);
}

async function enrol(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { name: { type: 'string' }, largest: { type: 'boolean' }, thumbnails: { type: 'boolean' } });
  const db = dbOf(values);
  const name = nameOf(values);
  if (!positionals.length) throw new UsageError('give at least one picture of the person');
  const runtime = runtimeOf(values);
  const library = new FaceLibrary(db);
  let failed = 0;
  try {
    for (const picture of positionals) {
      const started = performance.now();
      const token = await analysed(runtime, await runtime.createToken({ target: picture, operations: ['detect', 'landmark', 'embed'] }));
      try {
        if (token.state === 'failed') throw new FaceError(token.error!.code as FaceError['code'], `${picture}: ${token.error!.message}`);
        const result = await enrolToken(runtime, library, token, name, { ...(values.largest ? { face: 'largest' as const } : {}), thumbnail: values.thumbnails === true });
        io.stdout.write(
          `enrolled ${result.person.name} from ${picture} (${result.person.embeddings} picture${result.person.embeddings === 1 ? '' : 's'}, ${Math.round(performance.now() - started)} ms)\n`,
        );
      } catch (error) {
        failed++;
        const e = error instanceof FaceError ? error : new FaceError('E_INTERNAL', String(error));
        io.stderr.write(`error: ${picture}: ${e.code}: ${e.message}\n`);
      } finally {
        runtime.release(token);
      }
    }
  } finally {
    await library.close();
    await runtime.close();
  }
  return failed ? 1 : 0;
}

interface WhoFace {
  name: string | null;
  known: boolean;
  similarity: number;
  box: number[];
}

async function who(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, threshold: { type: 'string' }, every: { type: 'string' } });
  const db = dbOf(values);
  const threshold = thresholdOf(values);
  if (positionals.length !== 1) throw new UsageError('give one picture or video');
  const every = values.every === undefined ? 5 : Number(values.every);
  if (!Number.isInteger(every) || every < 1) throw new UsageError(`--every must be a whole number ≥ 1 (got "${String(values.every)}")`);
  const input = positionals[0];
  const library = new FaceLibrary(db, { create: false });
  const runtime = runtimeOf(values);
  const describe = async (token: FaceToken): Promise<WhoFace[]> => {
    const analysedToken = await analysed(runtime, token);
    if (analysedToken.state === 'failed' && analysedToken.error?.code !== 'E_NO_FACE') throw new FaceError(analysedToken.error!.code as FaceError['code'], analysedToken.error!.message);
    if (analysedToken.faces.length === 0) return [];
    const recognised = await recognizeToken(library, analysedToken, threshold);
    return recognised.faces.map((f) => ({ name: f.identity?.name ?? null, known: f.identity?.known ?? false, similarity: f.identity?.similarity ?? 0, box: f.bbox.map((v) => Math.round(v)) }));
  };
  const line = (f: WhoFace): string => `${f.known ? f.name : 'unknown'}\t${f.similarity.toFixed(2)}\t[${f.box.join(', ')}]`;
  try {
    if (VIDEO_EXTENSIONS.has(extname(input).toLowerCase()) || /^[a-z]+:\/\//i.test(input)) {
      const decoder = new VideoDecoder({ locator: new FfmpegLocator(), store: runtime.store, input, owner: 'library-who' });
      const frames: Array<{ frame: number; time: number; faces: WhoFace[] }> = [];
      for await (const f of decoder.frames()) {
        if (f.index % every !== 0) {
          runtime.store.release(f.ref);
          continue;
        }
        const token = createToken({
          job_id: 'library-who',
          target: { frame: f.ref, index: f.index, pts: f.pts, width: f.width, height: f.height },
          operations: ['detect', 'landmark', 'embed'],
          parameters: {},
          ttlMs: runtime.tokenTtlMs,
        });
        try {
          const faces = await describe(token);
          frames.push({ frame: f.index, time: Math.round(f.pts * 1000) / 1000, faces });
          if (!values.json) for (const face of faces) io.stdout.write(`frame ${f.index} (${f.pts.toFixed(2)} s)\t${line(face)}\n`);
        } finally {
          runtime.release(token);
        }
      }
      if (values.json) io.stdout.write(`${JSON.stringify({ frames })}\n`);
      else if (!frames.some((f) => f.faces.length)) io.stdout.write('no face\n');
    } else {
      const token = await runtime.createToken({ target: input, operations: ['detect', 'landmark', 'embed'] });
      try {
        const faces = await describe(token);
        if (values.json) io.stdout.write(`${JSON.stringify({ faces })}\n`);
        else io.stdout.write(faces.length ? `${faces.map(line).join('\n')}\n` : 'no face\n');
      } finally {
        runtime.release(token);
      }
    }
    return 0;
  } finally {
    await library.close();
    await runtime.close();
  }
}

async function list(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const library = new FaceLibrary(dbOf(values), { create: false });
  try {
    const people = library.people();
    const info = library.info();
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ ...info, list: people, unknown_faces: library.unknowns() })}\n`);
      return 0;
    }
    io.stdout.write(
      `${info.people} ${info.people === 1 ? 'person' : 'people'}, ${info.embeddings} picture${info.embeddings === 1 ? '' : 's'}${info.model ? ` (${info.model}, ${info.dim} values)` : ''}, ${info.unknowns} unknown face${info.unknowns === 1 ? '' : 's'} in ${info.path}\n`,
    );
    for (const p of people) io.stdout.write(`${p.name}\t${p.embeddings} picture${p.embeddings === 1 ? '' : 's'}\tsince ${p.created}${p.notes ? `\t${p.notes}` : ''}\n`);
    return 0;
  } finally {
    await library.close();
  }
}

async function forget(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, { name: { type: 'string' } });
  const library = new FaceLibrary(dbOf(values), { create: false });
  try {
    const result = library.forget(nameOf(values));
    io.stdout.write(
      `forgot ${result.name}: ${result.embeddings} picture${result.embeddings === 1 ? '' : 's'}${result.unknowns ? ` and ${result.unknowns} collected unknown face${result.unknowns === 1 ? '' : 's'}` : ''} erased, file compacted${result.compaction.walTruncated ? '' : ' (another process is reading: its log is emptied at its next checkpoint)'}\n`,
    );
    return 0;
  } finally {
    await library.close();
  }
}

async function exportLibrary(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, { out: { type: 'string' } });
  if (typeof values.out !== 'string' || !values.out) throw new UsageError('--out FILE is required');
  const key = keyFromEnv();
  const library = new FaceLibrary(dbOf(values), { create: false });
  try {
    const data = library.exportData();
    writeFileSync(values.out, sealLibrary(data, key), { mode: 0o600 });
    io.stdout.write(`exported ${data.people.length} people to ${values.out} (sealed)\n`);
    return 0;
  } finally {
    await library.close();
  }
}

async function importLibrary(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, {});
  if (positionals.length !== 1) throw new UsageError('give one export file');
  const key = keyFromEnv();
  const data = unsealLibrary(readFileSync(positionals[0]), key);
  const library = new FaceLibrary(dbOf(values));
  try {
    const added = library.importData(data);
    io.stdout.write(`imported ${added.people} new people and ${added.embeddings} pictures into ${library.path}\n`);
    return 0;
  } finally {
    await library.close();
  }
}
