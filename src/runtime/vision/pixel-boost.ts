import type { Frame } from './frame';

/**
 * FaceFusion's pixel boost, split: a (size·f)×(size·f) crop becomes f² tiles of size×size,
 * tile k = i·f + j holding the pixels (y·f + i, x·f + j) — every f-th pixel, offset (i, j).
 * So each tile is the whole face at the model's resolution, and the f² model results
 * interleave back into a crop f times sharper (depthToSpace).
 */
export function spaceToDepth(frame: Frame, factor: number): Frame[] {
  checkFactor(factor, frame.width, frame.height);
  const tw = frame.width / factor,
    th = frame.height / factor;
  const src = frame.data,
    rowBytes = frame.width * 3;
  const tiles: Frame[] = [];
  for (let i = 0; i < factor; i++) {
    for (let j = 0; j < factor; j++) {
      const data = new Uint8Array(tw * th * 3);
      let o = 0;
      for (let y = 0; y < th; y++) {
        for (let x = 0, p = (y * factor + i) * rowBytes + j * 3, step = factor * 3; x < tw; x++, p += step) {
          data[o++] = src[p];
          data[o++] = src[p + 1];
          data[o++] = src[p + 2];
        }
      }
      tiles.push({ width: tw, height: th, channels: 3, data });
    }
  }
  return tiles;
}

/** The inverse of spaceToDepth: factor² same-sized tiles (in tile order) → one crop factor times larger. */
export function depthToSpace(tiles: readonly Frame[], factor: number): Frame {
  if (tiles.length !== factor * factor) throw new RangeError(`depthToSpace: ${tiles.length} tiles given, ${factor * factor} needed for factor ${factor}`);
  const tw = tiles[0].width,
    th = tiles[0].height;
  const width = tw * factor,
    height = th * factor;
  const out = new Uint8Array(width * height * 3);
  const rowBytes = width * 3;
  for (let i = 0; i < factor; i++) {
    for (let j = 0; j < factor; j++) {
      const tile = tiles[i * factor + j];
      if (tile.width !== tw || tile.height !== th) throw new RangeError(`depthToSpace: tile ${i * factor + j} is ${tile.width}×${tile.height}, expected ${tw}×${th}`);
      const src = tile.data;
      let s = 0;
      for (let y = 0; y < th; y++) {
        for (let x = 0, p = (y * factor + i) * rowBytes + j * 3, step = factor * 3; x < tw; x++, p += step) {
          out[p] = src[s++];
          out[p + 1] = src[s++];
          out[p + 2] = src[s++];
        }
      }
    }
  }
  return { width, height, channels: 3, data: out };
}

function checkFactor(factor: number, width: number, height: number): void {
  if (!Number.isInteger(factor) || factor < 1 || width % factor !== 0 || height % factor !== 0) {
    throw new RangeError(`spaceToDepth: factor ${factor} must be a positive integer dividing ${width}×${height}`);
  }
}
