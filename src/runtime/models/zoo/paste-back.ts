import type { Affine, Frame, Rect } from '../../vision/frame';
import { invertAffine, transformedBounds, warpAffineInto } from '../../vision/affine';
import { blendMaskedInto, type PixelTarget } from '../../vision/blend';
import { clipRect } from '../../vision/rect';

/**
 * Bilinear warp of a single-channel float mask (w×h) into a rect-sized buffer; `m` maps mask
 * coordinates to rect coordinates. Outside the mask is 0 (constant border, like cv2's default),
 * so nothing beyond the crop is blended.
 */
export function warpMask(mask: Float32Array, width: number, height: number, m: Affine, outWidth: number, outHeight: number): Float32Array {
  const inv = invertAffine(m);
  const out = new Float32Array(outWidth * outHeight);
  const maxX = width - 1,
    maxY = height - 1;
  for (let y = 0; y < outHeight; y++) {
    let sx = inv[1] * y + inv[2];
    let sy = inv[4] * y + inv[5];
    for (let x = 0; x < outWidth; x++, sx += inv[0], sy += inv[3]) {
      if (sx < 0 || sy < 0 || sx > maxX || sy > maxY) continue;
      const x0 = sx | 0,
        y0 = sy | 0;
      const ax = sx - x0,
        ay = sy - y0;
      const x1 = x0 < maxX ? x0 + 1 : x0,
        y1 = y0 < maxY ? y0 + 1 : y0;
      const top = mask[y0 * width + x0] + (mask[y0 * width + x1] - mask[y0 * width + x0]) * ax;
      const bottom = mask[y1 * width + x0] + (mask[y1 * width + x1] - mask[y1 * width + x0]) * ax;
      out[y * outWidth + x] = top + (bottom - top) * ay;
    }
  }
  return out;
}

/**
 * FaceFusion's paste-back: the processed crop goes back through the inverse of `cropMatrix`
 * (frame → crop), warped only over the rectangle the crop's corners cover, and blended into
 * `out` by mask × `blend`. Returns the rectangle written (empty when the face is off-frame).
 */
export function pasteBack(out: PixelTarget, crop: Frame, cropMatrix: Affine, mask: Float32Array, blend: number): Rect {
  const toFrame = invertAffine(cropMatrix);
  const rect = clipRect(transformedBounds(toFrame, crop.width, crop.height), out.width, out.height);
  if (rect.width === 0 || rect.height === 0) return rect;
  const local: Affine = [toFrame[0], toFrame[1], toFrame[2] - rect.x, toFrame[3], toFrame[4], toFrame[5] - rect.y];
  const warped = { width: rect.width, height: rect.height, channels: 3 as const, data: new Uint8Array(rect.width * rect.height * 3) };
  warpAffineInto(crop, local, warped, undefined, { border: 'replicate' });
  const warpedMask = warpMask(mask, crop.width, crop.height, local, rect.width, rect.height);
  blendMaskedInto(out, warped, warpedMask, rect, blend);
  return rect;
}
