import { promises as fs } from 'fs';
import sharp from 'sharp';
import { resolveSample } from '../samples';
import { FaceError } from '../errors';
import type { Frame } from './frame';

export interface DecodeOptions {
  /** Largest accepted image in pixels (width × height); checked from the header before decoding. Default 64 000 000. */
  maxPixels?: number;
  /** Accept SVG (rendered by librsvg, whose cost a small file can make huge); default false. */
  allowSvg?: boolean;
  /** Largest SVG render in pixels (default 4 000 000), checked from its declared size. */
  svgMaxPixels?: number;
  /** Longest an SVG render may take, in whole seconds (default 5); then E_BAD_IMAGE. */
  svgTimeoutSec?: number;
}

/** What the header says, once the format and size were accepted. */
export interface ImageHeader {
  format: AcceptedFormat;
  width: number;
  height: number;
  hasAlpha: boolean;
}

export interface EncodeOptions {
  format?: 'jpeg' | 'png' | 'webp';
  /** 1..100 for jpeg/webp (default 90); ignored for png. */
  quality?: number;
  /** An XMP packet to embed (provenance marks: see provenance.ts). */
  xmp?: string;
}

export interface ImageInfo {
  format: string;
  /** Size as displayed, i.e. after the EXIF orientation is applied. */
  width: number;
  height: number;
  /** EXIF orientation 1..8 (1 when absent). */
  orientation: number;
  hasAlpha: boolean;
}

export const DEFAULT_MAX_PIXELS = 64_000_000;
export const DEFAULT_SVG_MAX_PIXELS = 4_000_000;
const DEFAULT_SVG_TIMEOUT_SEC = 5;
const FORMATS = ['jpeg', 'png', 'webp'] as const;
/** Raster formats read (TIFF and GIF: first page/frame only; AVIF when sharp's libheif has AV1). SVG only when allowed. */
export const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif', 'svg'] as const;
export type AcceptedFormat = (typeof ACCEPTED_FORMATS)[number];

/**
 * The header of an image, refused (E_BAD_IMAGE) unless it is an accepted format within the
 * pixel limit: reads no pixels, so a decompression bomb costs nothing here.
 */
export async function probeImage(input: Buffer | Uint8Array, options: DecodeOptions = {}): Promise<ImageHeader> {
  if (!(input instanceof Uint8Array)) throw new FaceError('E_BAD_IMAGE', 'image must be a Buffer or Uint8Array');
  if (input.length === 0) throw new FaceError('E_BAD_IMAGE', 'image is empty (0 bytes)');
  const meta = await readMetadata(asBuffer(input));
  const format = acceptedFormat(meta, options);
  const maxPixels = format === 'svg' ? Math.min(pixelLimit(options.maxPixels), svgLimit(options.svgMaxPixels)) : pixelLimit(options.maxPixels);
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > maxPixels) {
    throw new FaceError('E_BAD_IMAGE', `image is too large: ${width}×${height} = ${mp(width * height)} megapixels, the limit${format === 'svg' ? ' for SVG' : ''} is ${mp(maxPixels)} megapixels`, {
      details: { width, height, maxPixels },
    });
  }
  if (width < 2 || height < 2) throw new FaceError('E_BAD_IMAGE', `image is too small (${width}×${height}); at least 2×2 pixels are needed`);
  return { format, width, height, hasAlpha: meta.hasAlpha ?? false };
}

function acceptedFormat(meta: sharp.Metadata, options: DecodeOptions): AcceptedFormat {
  const format = meta.format as string | undefined;
  if (format === 'svg') {
    if (options.allowSvg) return 'svg';
    throw new FaceError('E_BAD_IMAGE', 'SVG images are refused (their rendering cost has no bound); enable SVG input in the config node to accept them');
  }
  // sharp names AVIF and HEIC both "heif"; only AV1 (AVIF) is decodable with the bundled libheif.
  if (format === 'heif') {
    if (meta.compression === 'av1') return 'avif';
    throw new FaceError('E_BAD_IMAGE', `${meta.compression ?? 'heif'} images (HEIC) are not supported; use JPEG, PNG, WebP, TIFF, GIF or AVIF`);
  }
  if (format && (ACCEPTED_FORMATS as readonly string[]).includes(format)) return format as AcceptedFormat;
  throw new FaceError('E_BAD_IMAGE', `${format ?? 'this'} images are not supported; use JPEG, PNG, WebP, TIFF, GIF or AVIF`);
}

/**
 * A JPEG, PNG, WebP, TIFF/GIF (first page), AVIF (or, when allowed, SVG within its render
 * bounds) → 8-bit sRGB frame, EXIF orientation applied, alpha composited onto black. Empty, unreadable and truncated files,
 * images under 2×2 and images over the pixel limit are refused with E_BAD_IMAGE — the size
 * check reads only the header, so a huge declared image costs no memory.
 */
export async function decodeImage(input: Buffer | Uint8Array, options: DecodeOptions = {}): Promise<Frame> {
  const header = await probeImage(input, options);
  const buffer = asBuffer(input);
  const svg = header.format === 'svg';
  try {
    // failOn 'truncated': libjpeg/libpng would otherwise hand back a half-grey picture with only a warning.
    // pages 1: TIFF and GIF give their first page / frame only.
    let image = sharp(buffer, { failOn: 'truncated', limitInputPixels: header.width * header.height, pages: 1 }).rotate();
    if (svg) image = image.timeout({ seconds: Math.max(1, Math.floor(options.svgTimeoutSec ?? DEFAULT_SVG_TIMEOUT_SEC)) });
    if (header.hasAlpha) image = image.flatten({ background: { r: 0, g: 0, b: 0 } });
    const { data, info } = await image.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    throw new FaceError('E_BAD_IMAGE', `image could not be decoded (${reason(err)})`, { cause: err });
  }
}

/** Format and displayed size from the header only (no pixels decoded). */
export async function imageInfo(input: Buffer | Uint8Array): Promise<ImageInfo> {
  if (!(input instanceof Uint8Array) || input.length === 0) throw new FaceError('E_BAD_IMAGE', 'image is empty (0 bytes)');
  const meta = await readMetadata(asBuffer(input));
  const orientation = meta.orientation ?? 1;
  const swap = orientation >= 5; // orientations 5..8 turn the picture by 90°
  const w = meta.width ?? 0,
    h = meta.height ?? 0;
  return { format: meta.format ?? 'unknown', width: swap ? h : w, height: swap ? w : h, orientation, hasAlpha: meta.hasAlpha ?? false };
}

export async function readImageFile(path: string, options: DecodeOptions = {}): Promise<Frame> {
  const buffer = await readImageBytes(path);
  return withPath(path, () => decodeImage(buffer, options));
}

/** The bytes of an image file (E_BAD_IMAGE naming the path when it cannot be read). */
export async function readImageBytes(path: string): Promise<Buffer> {
  path = resolveSample(path); // `sample:obama.jpg` → the picture shipped in samples/
  try {
    return await fs.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : reason(err);
    throw new FaceError('E_BAD_IMAGE', `cannot read image file ${path}: ${why}`, { cause: err });
  }
}

/** Runs a decode step of a file, naming the path in its error. */
export async function withPath<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof FaceError) throw new FaceError('E_BAD_IMAGE', `${path}: ${err.message}`, { cause: err, details: err.details });
    throw err;
  }
}

export async function encodeImage(frame: Frame, options: EncodeOptions = {}): Promise<Buffer> {
  const format = options.format ?? 'jpeg';
  if (!FORMATS.includes(format)) throw new FaceError('E_BAD_PARAMETER', `cannot encode to "${String(format)}"; use one of ${FORMATS.join(', ')}`);
  if (frame.data.length !== frame.width * frame.height * 3 || frame.width < 1 || frame.height < 1) {
    throw new FaceError('E_INTERNAL', `frame ${frame.width}×${frame.height} has ${frame.data.length} bytes, expected ${frame.width * frame.height * 3}`);
  }
  const quality = Math.min(100, Math.max(1, Math.round(options.quality ?? 90)));
  let image = sharp(asBuffer(frame.data), { raw: { width: frame.width, height: frame.height, channels: 3 } });
  if (options.xmp) image = image.withXmp(options.xmp);
  if (format === 'png') return image.png().toBuffer();
  if (format === 'webp') return image.webp({ quality }).toBuffer();
  return image.jpeg({ quality }).toBuffer();
}

async function readMetadata(buffer: Buffer): Promise<sharp.Metadata> {
  try {
    // Header only: the pixel limit is applied by us, with a message that gives the size.
    return await sharp(buffer, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new FaceError('E_BAD_IMAGE', `not a readable image (${reason(err)})`, { cause: err });
  }
}

function svgLimit(value: number | undefined): number {
  if (value === undefined) return DEFAULT_SVG_MAX_PIXELS;
  if (!(value >= 4)) throw new FaceError('E_BAD_PARAMETER', `svgMaxPixels must be a number ≥ 4, got ${value}`);
  return Math.floor(value);
}

function pixelLimit(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_PIXELS;
  if (!(value >= 4)) throw new FaceError('E_BAD_PARAMETER', `maxPixels must be a number ≥ 4, got ${value}`);
  return Math.floor(value);
}

/** Zero-copy view for sharp, which wants a Buffer. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function mp(pixels: number): string {
  return (pixels / 1e6).toFixed(1);
}

function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .split('\n')[0]
    .replace(/^Input buffer (has|contains) /, '')
    .slice(0, 160);
}
