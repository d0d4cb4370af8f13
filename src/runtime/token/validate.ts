import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { FaceError } from '../errors';
import { FACE_TOKEN_SCHEMA, PATTERN_DESCRIPTIONS } from './schema';
import type { FaceToken } from './types';

export type TokenValidation = { ok: true; token: FaceToken } | { ok: false; errors: string[] };

/** How many problems a thrown message lists before summarising the rest. */
const MAX_LISTED_ERRORS = 12;

/**
 * Full schema check for tokens crossing a trust boundary. Compiling the schema is the costly
 * part, so the runtime builds one validator and shares it; nothing is cached at module level.
 */
export class TokenValidator {
  private readonly check: ValidateFunction<FaceToken>;

  constructor() {
    // allErrors so one message can list every problem; strictNumbers rejects NaN/Infinity,
    // which JSON cannot carry and would turn into null on the wire; verbose puts the bad value
    // on each error so messages can quote it.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictNumbers: true });
    this.check = ajv.compile<FaceToken>(FACE_TOKEN_SCHEMA);
  }

  validate(value: unknown): TokenValidation {
    if (this.check(value)) return { ok: true, token: value };
    return { ok: false, errors: describeErrors(this.check.errors ?? []) };
  }

  /** Returns the value typed as a token, or throws E_TOKEN_INVALID naming each bad field. */
  assert(value: unknown): FaceToken {
    const result = this.validate(value);
    if (result.ok) return result.token;
    throw new FaceError('E_TOKEN_INVALID', invalidMessage(result.errors), { details: { errors: result.errors } });
  }
}

function invalidMessage(errors: string[]): string {
  const listed = errors.slice(0, MAX_LISTED_ERRORS).join('; ');
  const rest = errors.length - MAX_LISTED_ERRORS;
  return `token is invalid: ${listed}${rest > 0 ? `; and ${rest} more problem${rest === 1 ? '' : 's'}` : ''}`;
}

/** Turns ajv errors into one plain sentence each, without duplicates. */
export function describeErrors(errors: readonly ErrorObject[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const sentence = describeError(error);
    if (!seen.has(sentence)) {
      seen.add(sentence);
      out.push(sentence);
    }
  }
  return out;
}

function childPath(parent: string, key: string): string {
  // JSON Pointer escaping, so the path can be followed back into the value.
  return `${parent}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function show(value: unknown): string {
  // JSON would print NaN and Infinity as null, hiding the actual problem.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeError(error: ErrorObject): string {
  const path = error.instancePath === '' ? 'token' : error.instancePath;
  // ajv's params are typed per keyword only loosely; read the few fields we need defensively.
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${childPath(error.instancePath, String(params.missingProperty))} is required`;
    case 'additionalProperties':
      return `${childPath(error.instancePath, String(params.additionalProperty))} is not allowed (unexpected key "${String(params.additionalProperty)}")`;
    case 'type': {
      const types = String(params.type).split(',');
      return `${path} must be ${types.map(article).join(' or ')} (got ${show(error.data)})`;
    }
    case 'const':
      return `${path} must be ${show(params.allowedValue)} (got ${show(error.data)})`;
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      return `${path} must be one of ${allowed.map(show).join(', ')} (got ${show(error.data)})`;
    }
    case 'pattern': {
      const description = PATTERN_DESCRIPTIONS[String(params.pattern)];
      return `${path} ${description ?? `must match ${String(params.pattern)}`} (got ${show(error.data)})`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${path} must be ${String(params.comparison)} ${String(params.limit)} (got ${show(error.data)})`;
    case 'minItems':
      return `${path} must have at least ${String(params.limit)} items (got ${Array.isArray(error.data) ? error.data.length : '?'})`;
    case 'maxItems':
      return `${path} must have at most ${String(params.limit)} items (got ${Array.isArray(error.data) ? error.data.length : '?'})`;
    case 'uniqueItems':
      return `${path} must not repeat items (items ${String(params.j)} and ${String(params.i)} are the same)`;
    case 'minLength':
      return Number(params.limit) === 1 ? `${path} must not be empty` : `${path} must be at least ${String(params.limit)} characters long`;
    case 'maxLength':
      return `${path} must be at most ${String(params.limit)} characters long`;
    default:
      return `${path} ${error.message ?? `fails the "${error.keyword}" rule`}`;
  }
}

/**
 * Cheap shape check for tokens inside a trusted chain (they were validated when they entered).
 * Checks the version and that the required fields have the right kinds, not their contents.
 */
export function isFaceToken(value: unknown): value is FaceToken {
  if (value === null || typeof value !== 'object') return false;
  const t = value as Record<string, unknown>;
  const target = t.target as Record<string, unknown> | null | undefined;
  return (
    t.v === 1 &&
    typeof t.request_id === 'string' &&
    target !== null &&
    typeof target === 'object' &&
    typeof target.frame === 'string' &&
    Array.isArray(t.operations) &&
    t.parameters !== null &&
    typeof t.parameters === 'object' &&
    Array.isArray(t.faces) &&
    typeof t.state === 'string' &&
    Array.isArray(t.journal) &&
    typeof t.created_at === 'string' &&
    typeof t.expires_at === 'string'
  );
}
