import { randomUUID } from 'node:crypto';
import { FaceError } from '../errors';
import { FRAME_ID_PATTERN, FRAME_REF_PATTERN, UUID_PATTERN } from './schema';
import { STAGES, TOKEN_VERSION } from './types';
import type { FaceToken, FrameRef, JournalEntry, Parameters, Stage } from './types';

/** Default token lifetime: 5 minutes, after which the token and its frames may be swept. */
export const DEFAULT_TOKEN_TTL_MS = 300_000;

/** Fields a stage may change. Identity, birth time and the journal are managed by the helpers. */
export type TokenPatch = Partial<Omit<FaceToken, 'v' | 'request_id' | 'created_at' | 'journal'>>;
/** Fields a fork may change; the fork gets its own request_id and keeps the job_id. */
export type ForkPatch = Partial<Omit<FaceToken, 'v' | 'request_id' | 'created_at' | 'journal' | 'job_id'>>;
export type JournalInput = Omit<JournalEntry, 'at'> & { at?: string };

export interface CreateTokenInit {
  target: FaceToken['target'];
  source?: FaceToken['source'];
  operations?: Stage[];
  parameters?: Parameters;
  /** Lifetime in ms (default 300000). */
  ttlMs?: number;
  job_id?: string;
  request_id?: string;
  /** Epoch ms used for created_at; defaults to Date.now(). */
  now?: number;
}

const FRAME_REF_RE = new RegExp(FRAME_REF_PATTERN);
const FRAME_ID_RE = new RegExp(FRAME_ID_PATTERN);
const UUID_RE = new RegExp(UUID_PATTERN);
const OUTCOMES: ReadonlySet<string> = new Set<JournalEntry['outcome']>(['ok', 'skipped', 'failed', 'no_face']);
const STAGE_SET: ReadonlySet<string> = new Set<string>(STAGES);
/** Keys no patch may touch. */
const FIXED_KEYS = ['v', 'request_id', 'created_at', 'journal'] as const;
/** Keys a token cannot lose; a patch may change them but not set them to undefined. */
const REQUIRED_KEYS: ReadonlySet<string> = new Set(['target', 'operations', 'parameters', 'faces', 'state', 'expires_at']);
/** Tokens are small JSON; anything deeper is a mistake (or a cycle). */
const MAX_DEPTH = 32;

function badParameter(message: string): FaceError {
  return new FaceError('E_BAD_PARAMETER', message);
}

// ---------------------------------------------------------------------------------------------
// Frame references

export function isFrameRef(value: unknown): value is FrameRef {
  return typeof value === 'string' && FRAME_REF_RE.test(value);
}

/** `frame:<id>` → `<id>`; throws E_BAD_PARAMETER for anything else. */
export function parseFrameRef(ref: unknown): string {
  if (!isFrameRef(ref)) {
    throw badParameter(`${JSON.stringify(ref) ?? String(ref)} is not a frame reference (expected "frame:<id>" with letters, digits, "_" or "-")`);
  }
  return ref.slice('frame:'.length);
}

/** `<id>` → `frame:<id>`; throws E_BAD_PARAMETER when the id has characters a ref cannot carry. */
export function makeFrameRef(id: string): FrameRef {
  if (typeof id !== 'string' || !FRAME_ID_RE.test(id)) {
    throw badParameter(`${JSON.stringify(id) ?? String(id)} cannot be a frame id (use letters, digits, "_" or "-")`);
  }
  return `frame:${id}`;
}

// ---------------------------------------------------------------------------------------------
// Freezing and copying

/**
 * Freezes an object graph in place and returns it. Typed arrays are left as they are: JS cannot
 * freeze a view that has elements (token helpers convert them to plain arrays before freezing).
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value as object)) deepFreeze(child);
  return value;
}

/**
 * Freezes what is not frozen yet. Inside a token, a frozen object was frozen deeply by these
 * helpers, so skipping it keeps advance() cheap; tokens parsed from JSON get frozen here once.
 */
function freezeUnfrozen(value: unknown): void {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) deepFreeze(value);
}

/**
 * Copies caller data into token-owned plain JSON data, so freezing never touches the caller's
 * objects. Typed arrays (embeddings straight from a model) become number arrays; undefined
 * object fields are dropped as JSON would; anything JSON cannot carry is refused.
 */
function clonePlain(value: unknown, path: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw badParameter(`${path} is nested more than ${MAX_DEPTH} levels deep; token values must be plain JSON data`);
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      throw badParameter(`${path} is ${typeof value}; token values must be plain JSON data`);
  }
  if (ArrayBuffer.isView(value)) {
    if (value instanceof DataView || value instanceof BigInt64Array || value instanceof BigUint64Array) {
      throw badParameter(`${path} is a ${value.constructor.name}; token values must be plain JSON data`);
    }
    return Array.from(value as unknown as ArrayLike<number>);
  }
  if (Array.isArray(value)) return value.map((item: unknown, i) => clonePlain(item, `${path}/${i}`, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw badParameter(`${path} is a ${name}; token values must be plain JSON data`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) out[key] = clonePlain(item, `${path}/${key}`, depth + 1);
  }
  return out;
}

function frozenCopy<T>(value: T, path: string): T {
  return deepFreeze(clonePlain(value, path, 0) as T);
}

function isoFromMs(ms: number, what: string): string {
  const date = new Date(ms);
  if (!Number.isFinite(date.getTime())) throw badParameter(`${what} is not a usable time (got ${String(ms)})`);
  return date.toISOString();
}

// ---------------------------------------------------------------------------------------------
// Creating and advancing

function checkOperations(operations: readonly unknown[]): void {
  const seen = new Set<unknown>();
  for (const op of operations) {
    if (typeof op !== 'string' || !STAGE_SET.has(op)) {
      throw badParameter(`operation ${JSON.stringify(op) ?? String(op)} is not a stage (use one of ${STAGES.join(', ')})`);
    }
    if (seen.has(op)) throw badParameter(`operation "${op}" is listed twice`);
    seen.add(op);
  }
}

/** A new, deep-frozen token in state `initialized` with no faces and an empty journal. */
export function createToken(init: CreateTokenInit): FaceToken {
  const now = init.now ?? Date.now();
  const ttlMs = init.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw badParameter(`ttlMs must be a positive number of milliseconds (got ${String(ttlMs)})`);
  }
  if (init.target === null || typeof init.target !== 'object') throw badParameter('target is required: { frame: "frame:<id>" }');
  parseFrameRef(init.target.frame);
  if (init.source?.frame !== undefined) parseFrameRef(init.source.frame);
  if (init.request_id !== undefined && (typeof init.request_id !== 'string' || !UUID_RE.test(init.request_id))) {
    throw badParameter(`request_id must be a UUID (got ${JSON.stringify(init.request_id)})`);
  }
  if (init.job_id !== undefined && (typeof init.job_id !== 'string' || init.job_id.length === 0)) {
    throw badParameter('job_id must be a non-empty string');
  }
  const operations = init.operations ?? [];
  if (!Array.isArray(operations)) throw badParameter('operations must be an array of stage names');
  checkOperations(operations);

  const token: FaceToken = {
    v: TOKEN_VERSION,
    request_id: init.request_id ?? randomUUID(),
    ...(init.job_id !== undefined ? { job_id: init.job_id } : {}),
    ...(init.source !== undefined ? { source: clonePlain(init.source, '/source', 0) as FaceToken['source'] } : {}),
    target: clonePlain(init.target, '/target', 0) as FaceToken['target'],
    operations: [...operations],
    parameters: (clonePlain(init.parameters ?? {}, '/parameters', 0) ?? {}) as Parameters,
    faces: [],
    state: 'initialized',
    journal: [],
    created_at: isoFromMs(now, 'now'),
    expires_at: isoFromMs(now + ttlMs, 'now + ttlMs'),
  };
  return deepFreeze(token);
}

function makeEntry(entry: JournalInput): JournalEntry {
  if (entry === null || typeof entry !== 'object') throw badParameter('a journal entry { stage, ms, outcome } is required');
  if (typeof entry.stage !== 'string' || entry.stage.length === 0) throw badParameter('journal entry stage must be a non-empty string');
  if (typeof entry.ms !== 'number' || !Number.isFinite(entry.ms) || entry.ms < 0) {
    throw badParameter(`journal entry ms must be a number >= 0 (got ${String(entry.ms)})`);
  }
  if (!OUTCOMES.has(entry.outcome)) {
    throw badParameter(`journal entry outcome must be one of ${[...OUTCOMES].join(', ')} (got ${JSON.stringify(entry.outcome)})`);
  }
  if (entry.note !== undefined && typeof entry.note !== 'string') throw badParameter('journal entry note must be a string');
  if (entry.at !== undefined && typeof entry.at !== 'string') throw badParameter('journal entry at must be an ISO date-time string');
  if (entry.figures !== undefined && (typeof entry.figures !== 'object' || entry.figures === null || Object.values(entry.figures).some((v) => typeof v !== 'number'))) {
    throw badParameter('journal entry figures must be an object of numbers');
  }
  return Object.freeze({
    stage: entry.stage,
    at: entry.at ?? new Date().toISOString(),
    ms: entry.ms,
    outcome: entry.outcome,
    ...(entry.note !== undefined ? { note: entry.note } : {}),
    ...(entry.figures !== undefined ? { figures: Object.freeze({ ...entry.figures }) } : {}),
    ...(entry.faces_skipped?.length ? { faces_skipped: Object.freeze(entry.faces_skipped.map((f) => Object.freeze({ ...f }))) as JournalEntry['faces_skipped'] } : {}),
  });
}

/** Applies a patch to a shallow copy: undefined removes an optional field; values are copied and frozen. */
function applyPatch(base: Record<string, unknown>, patch: object, caller: string): void {
  if (patch === null || typeof patch !== 'object') throw badParameter(`${caller}: the patch must be an object`);
  for (const key of FIXED_KEYS) {
    if (Object.prototype.hasOwnProperty.call(patch, key)) throw badParameter(`${caller} cannot change ${key}`);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) {
      if (REQUIRED_KEYS.has(key)) throw badParameter(`${caller} cannot remove ${key}`);
      delete base[key];
    } else {
      base[key] = frozenCopy(value, `/${key}`);
    }
  }
}

function sealCopy(next: Record<string, unknown>): FaceToken {
  for (const value of Object.values(next)) freezeUnfrozen(value);
  return Object.freeze(next) as unknown as FaceToken;
}

/**
 * A new deep-frozen token: `token` with `patch` applied and `entry` appended to the journal.
 * The input is never changed; untouched fields are shared with it (they are frozen).
 */
export function advance(token: FaceToken, patch: TokenPatch, entry: JournalInput): FaceToken {
  const journalEntry = makeEntry(entry);
  const next: Record<string, unknown> = { ...token };
  applyPatch(next, patch, 'advance()');
  next.journal = Object.freeze([...token.journal, journalEntry]);
  return sealCopy(next);
}

/**
 * The token with parameters merged in (e.g. a node's dialog options over the token's own),
 * without a journal entry: choosing parameters is not a stage.
 */
export function withParameters(token: FaceToken, parameters: Parameters): FaceToken {
  if (Object.keys(parameters).length === 0) return token;
  const next: Record<string, unknown> = { ...token };
  applyPatch(next, { parameters: { ...token.parameters, ...parameters } }, 'withParameters()');
  return sealCopy(next);
}

/** The token after `stage` failed: state `failed`, `error` set, journal outcome `failed` noted with the code. */
export function failToken(token: FaceToken, stage: string, error: { code: string; message: string }, ms: number): FaceToken {
  return advance(token, { state: 'failed', error: { stage, code: error.code, message: error.message } }, { stage, ms, outcome: 'failed', note: error.code });
}

/** The token after `stage` chose not to run: a `skipped` journal entry, state unchanged. */
export function skipStage(token: FaceToken, stage: string, note: string): FaceToken {
  return advance(token, {}, { stage, ms: 0, outcome: 'skipped', note });
}

/** True once `now` reaches expires_at (an unreadable expires_at counts as expired). */
export function isExpired(token: FaceToken, now: number = Date.now()): boolean {
  const expiresAt = Date.parse(token.expires_at);
  return !(expiresAt > now);
}

/** Every frame the token points at (target first), without duplicates. */
export function tokenFrameRefs(token: FaceToken): FrameRef[] {
  const refs: FrameRef[] = [token.target.frame];
  const source = token.source?.frame;
  if (source !== undefined && source !== token.target.frame) refs.push(source);
  return refs;
}

/**
 * The same token under a new request_id (everything else kept): a packed token unpacked here
 * becomes a request of this runtime, so two unpacked copies of one packet never share frames.
 */
export function rebindToken(token: FaceToken, request_id: string): FaceToken {
  if (!UUID_RE.test(request_id)) throw badParameter(`request_id must be a UUID (got ${JSON.stringify(request_id)})`);
  return sealCopy({ ...token, request_id });
}

/**
 * A per-frame copy of a job token: new request_id, same job_id (the parent's request_id when
 * the parent had none, so copies stay traceable), fresh created_at and the parent's lifetime.
 * The parent's journal is kept as the copy's history.
 */
export function forkToken(token: FaceToken, patch: ForkPatch, options: { now?: number; request_id?: string } = {}): FaceToken {
  if (patch !== null && typeof patch === 'object' && Object.prototype.hasOwnProperty.call(patch, 'job_id')) {
    throw badParameter('forkToken() keeps the job_id; it cannot be changed');
  }
  if (options.request_id !== undefined && !UUID_RE.test(options.request_id)) {
    throw badParameter(`request_id must be a UUID (got ${JSON.stringify(options.request_id)})`);
  }
  const now = options.now ?? Date.now();
  const parentTtl = Date.parse(token.expires_at) - Date.parse(token.created_at);
  const ttlMs = Number.isFinite(parentTtl) && parentTtl > 0 ? parentTtl : DEFAULT_TOKEN_TTL_MS;
  const next: Record<string, unknown> = {
    ...token,
    request_id: options.request_id ?? randomUUID(),
    job_id: token.job_id ?? token.request_id,
    created_at: isoFromMs(now, 'now'),
    expires_at: isoFromMs(now + ttlMs, 'now + ttl'),
  };
  applyPatch(next, patch, 'forkToken()');
  return sealCopy(next);
}
