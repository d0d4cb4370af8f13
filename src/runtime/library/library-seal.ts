import { FaceError } from '../errors';
import { aeadOpen, aeadSeal, AEAD_OVERHEAD } from '../token/aead';
import type { LibraryExport } from './face-library';

/**
 * A library export sealed with the runtime's token key (the config node's Token key or
 * FACEFUSION_TOKEN_KEY): `FFLIB1` + AES-256-GCM(iv | tag | JSON), the magic bound in as
 * associated data. Embeddings are biometric data: an export never leaves the runtime readable.
 */
const MAGIC = Buffer.from('FFLIB1', 'ascii');
/** Far above any real library (10,000 vectors ≈ 30 MB of JSON): refuse before decrypting. */
const MAX_SEALED_BYTES = 512 * 1024 * 1024;

export function sealLibrary(data: LibraryExport, key: Buffer | undefined): Buffer {
  if (!key) throw new FaceError('E_BAD_PARAMETER', "exporting the face library needs a token key (the runtime's Token key, or FACEFUSION_TOKEN_KEY): the export is sealed with it");
  return Buffer.concat([MAGIC, aeadSeal(Buffer.from(JSON.stringify(data), 'utf8'), key, MAGIC)]);
}

export function unsealLibrary(sealed: Uint8Array, key: Buffer | undefined): LibraryExport {
  if (!key) throw new FaceError('E_BAD_PARAMETER', "importing a face library export needs the token key it was sealed with (the runtime's Token key, or FACEFUSION_TOKEN_KEY)");
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < MAGIC.length + AEAD_OVERHEAD || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new FaceError('E_TOKEN_INVALID', 'not a sealed face library export (it does not start with FFLIB1)');
  }
  if (bytes.length > MAX_SEALED_BYTES) throw new FaceError('E_TOKEN_INVALID', `the export is ${bytes.length} bytes, more than a face library can be`);
  let plain: Buffer;
  try {
    plain = aeadOpen(bytes.subarray(MAGIC.length), key, MAGIC);
  } catch (cause) {
    throw new FaceError('E_TOKEN_INVALID', 'the face library export was changed after sealing or sealed with a different key', { cause });
  }
  try {
    return JSON.parse(plain.toString('utf8')) as LibraryExport;
  } catch (cause) {
    throw new FaceError('E_TOKEN_INVALID', 'the face library export opened but its content is not JSON', { cause });
  }
}
