import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { FaceError } from '../errors';

/**
 * AES-256-GCM as every sealed format of ours uses it (sealed tokens, packed tokens): a fresh
 * random 12-byte IV per call, a 16-byte tag, and caller-chosen associated data bound in.
 * Output layout: iv[12] | tag[16] | ciphertext.
 */
const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes the envelope adds to the plaintext. */
export const AEAD_OVERHEAD = IV_BYTES + TAG_BYTES;

export function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : typeof key;
    throw new FaceError('E_BAD_PARAMETER', `the token seal key must be ${KEY_BYTES} bytes (got ${got})`);
  }
}

export function aeadSeal(plaintext: Uint8Array, key: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

/** Opens iv|tag|ciphertext; throws (a plain Error from node:crypto) when anything was changed or the key differs. */
export function aeadOpen(sealed: Uint8Array, key: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  if (sealed.length < AEAD_OVERHEAD) throw new Error('too short to hold an AES-GCM envelope');
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(IV_BYTES, AEAD_OVERHEAD);
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(AEAD_OVERHEAD)), decipher.final()]);
}

/** Salt of the passphrase derivation: fixed, so every runtime given the same passphrase gets the same key. */
const PASSPHRASE_SALT = 'node-red-contrib-facefusion/token-key/v1';
const MIN_PASSPHRASE = 16;

/**
 * A 32-byte key from what a user types: 64 hex digits are the key itself; any other text of at
 * least 16 characters is a passphrase stretched with scrypt. Blank → undefined (no key set).
 */
export function tokenKeyFrom(text: string | undefined): Buffer | undefined {
  const value = (text ?? '').trim();
  if (value === '') return undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (value.length < MIN_PASSPHRASE) {
    throw new FaceError('E_BAD_PARAMETER', `the token key must be 64 hex digits or a passphrase of at least ${MIN_PASSPHRASE} characters (got ${value.length} characters)`);
  }
  return scryptSync(value, PASSPHRASE_SALT, KEY_BYTES);
}
