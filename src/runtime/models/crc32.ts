import { createReadStream } from 'fs';
import * as zlib from 'zlib';

/** zlib.crc32 exists from Node 20.15 / 22.2; older runtimes use the table below. */
type NativeCrc32 = (data: Uint8Array, value?: number) => number;
const nativeCrc32: NativeCrc32 | undefined = typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (zlib as unknown as { crc32: NativeCrc32 }).crc32 : undefined;

/** The reflected CRC-32 (IEEE 802.3, polynomial 0xEDB88320) lookup table; built once, only read afterwards. */
const TABLE: Readonly<Uint32Array> = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Table-driven CRC-32 of `data`, continuing from `value` (the CRC of what came before). */
export function crc32Update(data: Uint8Array, value = 0, useNative = true): number {
  if (useNative && nativeCrc32) return nativeCrc32(data, value) >>> 0;
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A CRC-32 as FaceFusion's `.hash` files write it: 8 lower-case hex digits. */
export function crc32Hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** CRC-32 of a file, read as a stream (model files are hundreds of MB). */
export function crc32File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let value = 0;
    createReadStream(path)
      .on('data', (chunk) => {
        value = crc32Update(chunk as Buffer, value);
      })
      .on('error', reject)
      .on('end', () => resolvePromise(crc32Hex(value)));
  });
}

/** True when this Node has zlib.crc32 (the table is used otherwise). */
export const HAS_NATIVE_CRC32 = nativeCrc32 !== undefined;
