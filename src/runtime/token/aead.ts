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

/**
 * Chunked AES-256-GCM for large bodies (packed tokens): each chunk of CHUNK_BYTES has its own
 * tag, so a changed or forged body is refused at its first chunk, after a fraction of a
 * millisecond, instead of after decrypting megabytes. Layout: iv[12] | (ciphertext | tag[16]) per
 * chunk. Chunk i uses the iv with its last 4 bytes xored with i, and the associated data
 * `aad | u32 i | u8 last` — chunks cannot be reordered, dropped, or the body cut at a chunk edge.
 */
export const CHUNK_BYTES = 256 * 1024;

/** The sealed length of `plainLength` bytes. */
export function chunkedLength(plainLength: number): number {
  return IV_BYTES + plainLength + Math.max(1, Math.ceil(plainLength / CHUNK_BYTES)) * TAG_BYTES;
}

function chunkIv(base: Uint8Array, index: number): Buffer {
  const iv = Buffer.from(base);
  iv.writeUInt32BE((iv.readUInt32BE(IV_BYTES - 4) ^ index) >>> 0, IV_BYTES - 4);
  return iv;
}

function chunkAad(aad: Uint8Array, index: number, last: boolean): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail.writeUInt8(last ? 1 : 0, 4);
  return Buffer.concat([aad, tail]);
}

export function aeadSealChunked(plaintext: Uint8Array, key: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  const base = randomBytes(IV_BYTES);
  const count = Math.max(1, Math.ceil(plaintext.length / CHUNK_BYTES));
  const parts: Buffer[] = [base];
  for (let i = 0; i < count; i++) {
    const cipher = createCipheriv(ALGORITHM, key, chunkIv(base, i), { authTagLength: TAG_BYTES });
    cipher.setAAD(chunkAad(aad, i, i === count - 1));
    parts.push(cipher.update(plaintext.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)), cipher.final(), cipher.getAuthTag());
  }
  return Buffer.concat(parts);
}

/**
 * Opens a body from aeadSealChunked whose plaintext is `plainLength` bytes (the caller knows it
 * from authenticated-later header data, checked here chunk by chunk). Throws at the first chunk
 * that does not authenticate.
 */
export function aeadOpenChunked(sealed: Uint8Array, key: Uint8Array, aad: Uint8Array, plainLength: number): Buffer {
  checkKey(key);
  if (sealed.length !== chunkedLength(plainLength)) throw new Error('the sealed body has the wrong length');
  const base = sealed.subarray(0, IV_BYTES);
  const count = Math.max(1, Math.ceil(plainLength / CHUNK_BYTES));
  let out: Buffer | undefined;
  let at = IV_BYTES;
  for (let i = 0; i < count; i++) {
    const size = Math.min(CHUNK_BYTES, plainLength - i * CHUNK_BYTES);
    const decipher = createDecipheriv(ALGORITHM, key, chunkIv(base, i), { authTagLength: TAG_BYTES });
    decipher.setAAD(chunkAad(aad, i, i === count - 1));
    decipher.setAuthTag(sealed.subarray(at + size, at + size + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(sealed.subarray(at, at + size)), decipher.final()]);
    if (count === 1) return plain;
    // Room for the whole body only once the first chunk proved the packet ours.
    out ??= Buffer.allocUnsafe(plainLength);
    plain.copy(out, i * CHUNK_BYTES);
    at += size + TAG_BYTES;
  }
  return out as Buffer;
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
