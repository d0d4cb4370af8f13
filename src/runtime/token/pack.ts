import { createHash } from 'node:crypto';
import { FaceError } from '../errors';
import { aeadOpenChunked, aeadSealChunked, CHUNK_BYTES, chunkedLength, IV_BYTES, TAG_BYTES } from './aead';
import { tokenFrameRefs } from './token';
import type { FaceToken, FrameRef } from './types';

/**
 * A packed token: the token and the pixels of every frame it names, in one Buffer that any
 * transport (mqtt, tcp, websocket, http) can carry to another process.
 *
 *   "FFPK" | version u8 | flags u8 (bit 0: sealed) | header length u32 BE | header JSON | body
 *
 * The header is small plain JSON that can be checked before anything is decrypted or decoded:
 * the byte length of the token JSON and of each encoded frame, and each frame's size and format.
 * The body is the token JSON followed by the encoded frames, in header order. Sealed packets
 * encrypt the body with AES-256-GCM in chunks of 256 KiB (see aead.ts: each chunk authenticated
 * on its own, so a forged body is refused at its first chunk, in well under a millisecond) and
 * bind the first 10 bytes and the header in as associated data, so changing any byte anywhere is
 * refused; unsealed ones carry a sha256 of the body in the header, which catches corruption (not
 * forgery: unsealed is an explicit, trusting choice). Version 2 (chunked); version 1 (one GCM
 * over the whole body) is no longer read.
 *
 * Before anything is decrypted the header is checked: each frame's byte length must fit what
 * a picture of its declared size and format can take (a 64×64 frame cannot bring megabytes),
 * and the whole packet must fit the limit, by default derived from the frame limit.
 */
export const PACK_MAGIC = 'FFPK';
export const PACK_VERSION = 2;
const PREFIX_BYTES = 10;
const FLAG_SEALED = 1;
/** The header is a few hundred bytes; anything larger is not one of ours. */
const MAX_HEADER_BYTES = 8192;
/** Token JSON is small (the schema caps faces and journal); refuse more before parsing. */
const MAX_TOKEN_BYTES = 4 * 1024 * 1024;

export type PackImageFormat = 'png' | 'jpeg';

export interface PackedFrameInfo {
  /** Which of the token's frames: 'target' or 'source'. */
  role: 'target' | 'source';
  format: PackImageFormat;
  width: number;
  height: number;
  bytes: number;
}

export interface PackHeader {
  v: typeof PACK_VERSION;
  sealed: boolean;
  token_bytes: number;
  frames: PackedFrameInfo[];
  /** sha256 (hex) of the body; unsealed packets only. */
  sha256?: string;
}

export interface PackOptions {
  /** 32-byte key; required unless `sealed` is false. */
  key?: Uint8Array;
  /** Seal with AES-256-GCM (default true). */
  sealed?: boolean;
  /** Lossless png (default) or jpeg. */
  format?: PackImageFormat;
  /** jpeg quality 1..100 (default 90). */
  quality?: number;
}

export interface UnpackLimits {
  /** Largest packet accepted, in bytes (default: what two frames of `maxPixels` can take as PNG, see packetLimit). */
  maxBytes?: number;
  /** Largest frame accepted, in pixels (default 3840×2160, 4K). */
  maxPixels?: number;
}

export interface UnpackOptions extends UnpackLimits {
  key?: Uint8Array;
  /** Accept packets that were not sealed (default false: they are refused). */
  allowUnsealed?: boolean;
  /**
   * Replay window: a packet this runtime unpacked before is refused (E_TOKEN_INVALID) until its
   * token expires. Also drops duplicates an at-least-once transport (MQTT QoS 1) delivers.
   */
  refuseReplays?: boolean;
}

/** A packet opened and checked, its frames still encoded. */
export interface OpenedPacket {
  header: PackHeader;
  /** What tells this packet from every other sealing (a replay of it has the same id). */
  id: string;
  /** The token as it was packed (not validated yet: the caller's validator does that). */
  token: unknown;
  frames: { info: PackedFrameInfo; data: Buffer }[];
}

/** Frames a packet may carry by default: up to 4K (a camera frame; larger pictures are not sent frame by frame). */
export const DEFAULT_PACK_MAX_PIXELS = 3840 * 2160;

/** Room for a picture's own metadata (ICC profile, EXIF) beyond its pixels. */
const METADATA_SLACK = 64 * 1024;

/**
 * The most bytes a picture of `width`×`height` can take in `format`: PNG stores filtered rows
 * deflated, which at worst adds a few bytes per 64 KiB block to the raw pixels (+1 filter byte a
 * row); baseline JPEG at quality 100 of noise stays under 3 bytes a pixel. Either way plus room
 * for metadata. A frame entry declaring more is forged.
 */
export function frameByteLimit(format: PackImageFormat, width: number, height: number): number {
  const raw = width * height * 3;
  if (format === 'png') return raw + height + Math.ceil(raw / 16_000) * 5 + 1024 + METADATA_SLACK;
  return raw + 2048 + METADATA_SLACK;
}

/** The largest packet two frames of `maxPixels` can make (PNG, the larger format), with the token and the sealing. */
export function packetLimit(maxPixels: number = DEFAULT_PACK_MAX_PIXELS): number {
  const side = Math.ceil(Math.sqrt(maxPixels));
  const frame = frameByteLimit('png', side, side);
  return PREFIX_BYTES + MAX_HEADER_BYTES + chunkedLength(2 * frame + MAX_TOKEN_BYTES);
}

/** The default packet limit (≈ 58 MB: two 4K PNG frames and a token). */
export const DEFAULT_PACK_MAX_BYTES = packetLimit(DEFAULT_PACK_MAX_PIXELS);

function invalid(reason: string, cause?: unknown): FaceError {
  return new FaceError('E_TOKEN_INVALID', `packed token refused: ${reason}`, cause === undefined ? {} : { cause });
}

/** The token's frames in packing order, with their roles. */
export function packedRoles(token: FaceToken): { role: 'target' | 'source'; ref: FrameRef }[] {
  return tokenFrameRefs(token).map((ref) => ({ role: ref === token.target.frame ? 'target' : 'source', ref }));
}

/**
 * Builds a packet from a token and its frames, already encoded by the caller (the runtime
 * encodes with sharp), in the order of `packedRoles(token)`.
 */
export function buildPacket(token: FaceToken, frames: { info: PackedFrameInfo; data: Buffer }[], options: Pick<PackOptions, 'key' | 'sealed'>): Buffer {
  const sealed = options.sealed !== false;
  if (sealed && !options.key) {
    throw new FaceError('E_BAD_PARAMETER', "sealing a packed token needs a key: set the config node's token key (or FACEFUSION_TOKEN_KEY), or choose unsealed packets");
  }
  const tokenJson = Buffer.from(JSON.stringify(token), 'utf8');
  const body = Buffer.concat([tokenJson, ...frames.map((f) => f.data)]);
  const header: PackHeader = { v: PACK_VERSION, sealed, token_bytes: tokenJson.length, frames: frames.map((f) => f.info) };
  if (!sealed) header.sha256 = createHash('sha256').update(body).digest('hex');
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(PACK_MAGIC, 0, 'latin1');
  prefix.writeUInt8(PACK_VERSION, 4);
  prefix.writeUInt8(sealed ? FLAG_SEALED : 0, 5);
  prefix.writeUInt32BE(headerBytes.length, 6);
  const aad = Buffer.concat([prefix, headerBytes]);
  return Buffer.concat([aad, sealed ? aeadSealChunked(body, options.key as Uint8Array, aad) : body]);
}

/**
 * Checks a packet and opens it: the size and header before anything else, then the seal (or
 * checksum), then the token JSON. Every refusal is E_TOKEN_INVALID with the reason. Frames are
 * returned encoded, with sizes already checked against `maxPixels`.
 */
export function openPacket(packet: unknown, options: UnpackOptions = {}): OpenedPacket {
  if (!(packet instanceof Uint8Array)) throw invalid(`expected a Buffer, got ${packet === null ? 'null' : typeof packet}`);
  const buf = Buffer.isBuffer(packet) ? packet : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const maxBytes = options.maxBytes ?? DEFAULT_PACK_MAX_BYTES;
  const maxPixels = options.maxPixels ?? DEFAULT_PACK_MAX_PIXELS;
  if (buf.length > maxBytes) throw invalid(`it is ${buf.length} bytes, more than the limit of ${maxBytes}`);
  if (buf.length < PREFIX_BYTES || buf.toString('latin1', 0, 4) !== PACK_MAGIC) throw invalid(`it does not start with "${PACK_MAGIC}" (not a packed face token)`);
  const version = buf.readUInt8(4);
  if (version !== PACK_VERSION) throw invalid(`format version ${version} is not supported (this runtime reads version ${PACK_VERSION})`);
  const flags = buf.readUInt8(5);
  const headerLength = buf.readUInt32BE(6);
  if (headerLength > MAX_HEADER_BYTES || PREFIX_BYTES + headerLength > buf.length) throw invalid('its header is truncated or too large');
  const headerEnd = PREFIX_BYTES + headerLength;
  const header = parseHeader(buf.subarray(PREFIX_BYTES, headerEnd), maxPixels);
  if (header.sealed !== ((flags & FLAG_SEALED) !== 0) || (flags & ~FLAG_SEALED) !== 0) throw invalid('its flags do not match its header');

  const bodyBytes = header.token_bytes + header.frames.reduce((n, f) => n + f.bytes, 0);
  const rest = buf.subarray(headerEnd);
  let body: Buffer;
  let id: string;
  if (header.sealed) {
    if (!options.key) throw invalid('it is sealed and no key is set here (config node token key, or FACEFUSION_TOKEN_KEY)');
    if (rest.length !== chunkedLength(bodyBytes)) throw invalid(`its body is ${rest.length} bytes, the header says ${chunkedLength(bodyBytes)} (truncated or padded)`);
    try {
      body = aeadOpenChunked(rest, options.key, buf.subarray(0, headerEnd), bodyBytes);
    } catch (cause) {
      throw invalid('it was changed after packing or sealed with a different key', cause);
    }
    // The random iv and the first chunk's tag: unique per sealing, authenticated by now.
    const firstTag = IV_BYTES + Math.min(bodyBytes, CHUNK_BYTES);
    id = `s:${rest.subarray(0, IV_BYTES).toString('hex')}${rest.subarray(firstTag, firstTag + TAG_BYTES).toString('hex')}`;
  } else {
    if (!options.allowUnsealed) throw invalid('it is not sealed, and this node accepts sealed packets only');
    if (rest.length !== bodyBytes) throw invalid(`its body is ${rest.length} bytes, the header says ${bodyBytes} (truncated or padded)`);
    if (createHash('sha256').update(rest).digest('hex') !== header.sha256) throw invalid('its checksum does not match (corrupted in transit)');
    body = rest;
    id = `u:${header.sha256 as string}`;
  }

  let token: unknown;
  try {
    token = JSON.parse(body.toString('utf8', 0, header.token_bytes));
  } catch (cause) {
    throw invalid('its token is not JSON', cause);
  }
  const frames: OpenedPacket['frames'] = [];
  let at = header.token_bytes;
  for (const info of header.frames) {
    frames.push({ info, data: body.subarray(at, at + info.bytes) });
    at += info.bytes;
  }
  return { header, token, frames, id };
}

const isCount = (v: unknown, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;

function parseHeader(bytes: Buffer, maxPixels: number): PackHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw invalid('its header is not JSON', cause);
  }
  const h = raw as Partial<PackHeader>;
  if (typeof h !== 'object' || h === null || h.v !== PACK_VERSION || typeof h.sealed !== 'boolean') throw invalid('its header is not a version 1 pack header');
  if (!isCount(h.token_bytes, MAX_TOKEN_BYTES) || h.token_bytes === 0) throw invalid(`its token size ${String(h.token_bytes)} is out of range`);
  if (!Array.isArray(h.frames) || h.frames.length < 1 || h.frames.length > 2) throw invalid('it must carry one or two frames (target, source)');
  const roles = new Set<string>();
  for (const f of h.frames as Partial<PackedFrameInfo>[]) {
    if (typeof f !== 'object' || f === null || (f.role !== 'target' && f.role !== 'source') || roles.has(f.role)) throw invalid('a frame entry has no role or a repeated one');
    roles.add(f.role);
    if (f.format !== 'png' && f.format !== 'jpeg') throw invalid(`frame format ${JSON.stringify(f.format)} is not png or jpeg`);
    if (!isCount(f.width, 1 << 16) || !isCount(f.height, 1 << 16) || (f.width as number) < 1 || (f.height as number) < 1) throw invalid('a frame has no valid size');
    if ((f.width as number) * (f.height as number) > maxPixels) throw invalid(`its ${f.role} frame is ${f.width}×${f.height}, more than the limit of ${maxPixels} pixels`);
    if (!isCount(f.bytes, 0x7fffffff) || f.bytes === 0) throw invalid('a frame has no valid byte length');
    if (f.bytes > frameByteLimit(f.format, f.width as number, f.height as number))
      throw invalid(`its ${f.role} frame claims ${f.bytes} bytes, more than a ${f.width}×${f.height} ${f.format} can take`);
  }
  if (!roles.has('target')) throw invalid('it carries no target frame');
  if (!h.sealed && (typeof h.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(h.sha256))) throw invalid('an unsealed packet must carry a sha256 of its body');
  return h as PackHeader;
}

/** The frame a packed entry decodes to must be the size its header declared. */
export function checkDecodedSize(info: PackedFrameInfo, frame: { width: number; height: number }): void {
  if (frame.width !== info.width || frame.height !== info.height) {
    throw invalid(`its ${info.role} frame decodes to ${frame.width}×${frame.height}, the header says ${info.width}×${info.height}`);
  }
}
