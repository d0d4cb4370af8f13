import sharp from 'sharp';
import { FaceError } from '../errors';
import type { Frame } from './frame';

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
 * THUMBNAIL_MAX_SIDE; never enlarged), for a preview in the Node-RED editor.
 */
export async function encodeThumbnail(frame: Frame, maxSide: number, quality = 70): Promise<Thumbnail> {
  if (frame.data.length !== frame.width * frame.height * 3 || frame.width < 1 || frame.height < 1) {
    throw new FaceError('E_INTERNAL', `frame ${frame.width}×${frame.height} has ${frame.data.length} bytes, expected ${frame.width * frame.height * 3}`);
  }
  const side = Math.max(16, Math.min(THUMBNAIL_MAX_SIDE, Math.round(maxSide)));
  const buffer = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
  const { data, info } = await sharp(buffer, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
