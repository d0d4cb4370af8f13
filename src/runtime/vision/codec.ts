import { promises as fs } from 'fs';
import sharp from 'sharp';
import { FaceError } from '../errors';
import type { Frame } from './frame';

export interface DecodeOptions {
  /** Largest accepted image in pixels (width × height); checked from the header before decoding. */
  maxPixels?: number;
}

export interface EncodeOptions {
  format?: 'jpeg' | 'png' | 'webp';
  /** 1..100 for jpeg/webp. */
  quality?: number;
}

const DEFAULT_MAX_PIXELS = 64_000_000;

/**
 * Any image sharp reads (jpeg, png, webp, gif, tiff, avif…) → RGB frame, EXIF orientation
 * applied, alpha dropped. Truncated files and images over the pixel limit are refused with
 * E_BAD_IMAGE rather than half-decoded.
 */
export async function decodeImage(input: Buffer | Uint8Array, options: DecodeOptions = {}): Promise<Frame> {
  if (!input || input.length === 0) throw new FaceError('E_BAD_IMAGE', 'image is empty (0 bytes)');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const buffer = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buffer, { failOn: 'truncated', limitInputPixels: false }).metadata();
  } catch (err) {
    throw new FaceError('E_BAD_IMAGE', `not a readable image (${reason(err)})`, { cause: err });
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > maxPixels) {
    throw new FaceError('E_BAD_IMAGE', `image is too large: ${width}×${height} = ${(width * height / 1e6).toFixed(1)} megapixels, the limit is ${(maxPixels / 1e6).toFixed(1)}`);
  }
  if (width < 2 || height < 2) throw new FaceError('E_BAD_IMAGE', `image is too small (${width}×${height}); at least 2×2 pixels are needed`);
  try {
    const { data, info } = await sharp(buffer, { failOn: 'truncated', limitInputPixels: maxPixels })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    throw new FaceError('E_BAD_IMAGE', `image could not be decoded (${reason(err)})`, { cause: err });
  }
}

export async function readImageFile(path: string, options: DecodeOptions = {}): Promise<Frame> {
  let buffer: Buffer;
  try {
    buffer = await fs.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : reason(err);
    throw new FaceError('E_BAD_IMAGE', `cannot read image file ${path}: ${why}`, { cause: err });
  }
  try {
    return await decodeImage(buffer, options);
  } catch (err) {
    if (err instanceof FaceError) throw new FaceError('E_BAD_IMAGE', `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

export async function encodeImage(frame: Frame, options: EncodeOptions = {}): Promise<Buffer> {
  const format = options.format ?? 'jpeg';
  const quality = Math.min(100, Math.max(1, Math.round(options.quality ?? 90)));
  const image = sharp(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), {
    raw: { width: frame.width, height: frame.height, channels: 3 },
  });
  if (format === 'png') return image.png().toBuffer();
  if (format === 'webp') return image.webp({ quality }).toBuffer();
  return image.jpeg({ quality }).toBuffer();
}

function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].replace(/^Input buffer (has|contains) /, '').slice(0, 160);
}
