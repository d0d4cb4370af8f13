import { FaceError } from '../errors';
import { AEAD_OVERHEAD, aeadOpen, aeadSeal, checkKey } from './aead';
import { deepFreeze } from './token';
import type { FaceToken } from './types';
import type { TokenValidator } from './validate';

/**
 * Sealed tokens for leaving the process (mqtt, http): AES-256-GCM over the token's JSON.
 * Layout: `fft1.` + base64url(iv[12] | tag[16] | ciphertext). The prefix is also bound in as
 * associated data, so a sealed token cannot be replayed under another format version.
 */
export const SEAL_PREFIX = 'fft1.';
/** Tokens are small; refuse anything this large before decoding it. */
const MAX_SEALED_CHARS = 4 * 1024 * 1024;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
const AAD = Buffer.from(SEAL_PREFIX, 'utf8');

function sealedError(reason: string, cause?: unknown): FaceError {
  return new FaceError('E_TOKEN_SEALED', `sealed token refused: ${reason}`, cause === undefined ? {} : { cause });
}

/** Encrypts and authenticates a token; a fresh random IV each call, so equal tokens seal differently. */
export function sealToken(token: FaceToken, key: Buffer): string {
  return SEAL_PREFIX + aeadSeal(Buffer.from(JSON.stringify(token), 'utf8'), key, AAD).toString('base64url');
}

/**
 * Opens a sealed token. Throws E_TOKEN_SEALED when the text is not a sealed token, was changed,
 * or was sealed with another key; throws E_TOKEN_INVALID (from the validator) when it opens but
 * is not a valid token. The result is deep-frozen like every other token.
 */
export function unsealToken(sealed: string, key: Buffer, validator: Pick<TokenValidator, 'assert'>): FaceToken {
  checkKey(key);
  if (typeof sealed !== 'string') throw sealedError(`expected a string, got ${sealed === null ? 'null' : typeof sealed}`);
  if (sealed.length > MAX_SEALED_CHARS) throw sealedError(`it is ${sealed.length} characters long, more than a token can be`);
  if (!sealed.startsWith(SEAL_PREFIX)) throw sealedError(`it does not start with "${SEAL_PREFIX}"`);
  const body = sealed.slice(SEAL_PREFIX.length);
  if (!BASE64URL_RE.test(body)) throw sealedError('it is not base64url text');
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.length <= AEAD_OVERHEAD) throw sealedError('it is too short to hold a token');
  let plaintext: string;
  try {
    plaintext = aeadOpen(bytes, key, AAD).toString('utf8');
  } catch (cause) {
    throw sealedError('it was changed after sealing or sealed with a different key', cause);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch (cause) {
    // Authentic but not JSON: only a peer with our key can produce this, still refuse it.
    throw sealedError('its content is not JSON', cause);
  }
  return deepFreeze(validator.assert(parsed));
}
