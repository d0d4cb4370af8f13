import sharp from 'sharp';
import { FaceError } from '../errors';
import type { Frame } from './frame';
import { isYuv, resizeYuvToRgb, type Pixels } from './yuv';

/** Largest thumbnail side accepted, whatever a flow asks for: the editor gets small pictures only. */
export const THUMBNAIL_MAX_SIDE = 480;

export interface Thumbnail {
  /** JPEG bytes. */
  data: Buffer;
  width: number;
  height: number;
}

/**
 * A small JPEG of a frame whose longer side is at most `maxSide` pixels (capped at
 * THUMBNAIL_MAX_SIDE; never enlarged), for a preview in the Node-RED editor. A YUV frame (a
 * video's) is sampled from its planes at twice the thumbnail's size, never converted whole.
 */
export async function encodeThumbnail(pixels: Pixels, maxSide: number, quality = 70): Promise<Thumbnail> {
  const side = Math.max(16, Math.min(THUMBNAIL_MAX_SIDE, Math.round(maxSide)));
  const frame: Frame = isYuv(pixels) ? shrinkYuv(pixels, side) : pixels;
  if (frame.data.length !== frame.width * frame.height * 3 || frame.width < 1 || frame.height < 1) {
    throw new FaceError('E_INTERNAL', `frame ${frame.width}×${frame.height} has ${frame.data.length} bytes, expected ${frame.width * frame.height * 3}`);
  }
  const buffer = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
  const { data, info } = await sharp(buffer, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * The frame fitted inside 2·side × 2·side (never enlarged), as RGB: bilinear sampling alone
 * would alias at 4:1; sharp's filter makes the last halving.
 */
function shrinkYuv(pixels: Pixels & { format: 'yuv420p' }, side: number): Frame {
  const scale = Math.min(1, (2 * side) / pixels.width, (2 * side) / pixels.height);
  return resizeYuvToRgb(pixels, Math.max(1, Math.round(pixels.width * scale)), Math.max(1, Math.round(pixels.height * scale)));
}
