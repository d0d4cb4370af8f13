import type { Point } from './frame';

/** 1 inside the polygon (pixel centres, even–odd rule), 0 outside. */
export function polygonMask(width: number, height: number, polygon: Point[]): Float32Array {
  const mask = new Float32Array(width * height);
  const n = polygon.length;
  const xs: number[] = [];
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [xi, yi] = polygon[i];
      const [xj, yj] = polygon[j];
      if ((yi <= cy && yj > cy) || (yj <= cy && yi > cy)) xs.push(xi + ((cy - yi) / (yj - yi)) * (xj - xi));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k] - 0.5));
      const to = Math.min(width - 1, Math.floor(xs[k + 1] - 0.5));
      mask.fill(1, y * width + from, y * width + to + 1);
    }
  }
  return mask;
}

/**
 * Soft edge that stays INSIDE the mask: the mask is box-blurred (two passes, radius/2 each),
 * values are rescaled so 0.5 (the old edge) becomes 0 and 1 stays 1, then multiplied by the
 * original mask. Result in 0..1; exactly 0 wherever the input was 0, so pixels outside a
 * face mask are never touched.
 */
export function featherMask(mask: Float32Array, width: number, height: number, radius: number): Float32Array {
  const r = Math.max(1, Math.round(radius / 2));
  const blurred = new Float32Array(mask);
  const line = new Float32Array(Math.max(width, height));
  const tmp = new Float32Array(line.length);
  for (let pass = 0; pass < 2; pass++) {
    for (let y = 0; y < height; y++) {
      const row = blurred.subarray(y * width, (y + 1) * width);
      line.set(row);
      boxLine(line, width, r, tmp);
      row.set(line.subarray(0, width));
    }
    for (let x = 0; x < width; x++) {
      for (let y = 0; y < height; y++) line[y] = blurred[y * width + x];
      boxLine(line, height, r, tmp);
      for (let y = 0; y < height; y++) blurred[y * width + x] = line[y];
    }
  }
  const out = new Float32Array(mask.length);
  for (let i = 0; i < out.length; i++) {
    if (mask[i] <= 0) continue;
    const v = (blurred[i] - 0.5) * 2;
    out[i] = mask[i] * (v <= 0 ? 0 : v >= 1 ? 1 : v);
  }
  return out;
}

/**
 * FaceFusion's static box mask for a crop: 1 in the middle, 0 in a border band, Gaussian-soft
 * in between. blur = int(size·0.5·blurFraction); band = max(blur/2, padding% of the side);
 * padding is [top, right, bottom, left] in percent. Returns width×height values in 0..1.
 */
export function boxMask(width: number, height: number, blurFraction: number, padding: [number, number, number, number]): Float32Array {
  const size = Math.max(width, height);
  const blur = Math.floor(size * 0.5 * blurFraction);
  const half = Math.max(1, Math.floor(blur / 2));
  const top = Math.max(half, Math.floor((height * padding[0]) / 100));
  const right = Math.max(half, Math.floor((width * padding[1]) / 100));
  const bottom = Math.max(half, Math.floor((height * padding[2]) / 100));
  const left = Math.max(half, Math.floor((width * padding[3]) / 100));
  const mask = new Float32Array(width * height);
  for (let y = top; y < height - bottom; y++) mask.fill(1, y * width + left, y * width + width - right);
  if (blur <= 0) return mask;
  // Separable smoothing (box passes approximating a Gaussian of sigma blur/4).
  const r = Math.max(1, Math.round(blur / 4));
  const line = new Float32Array(Math.max(width, height));
  const tmp = new Float32Array(line.length);
  for (let pass = 0; pass < 2; pass++) {
    for (let y = 0; y < height; y++) {
      const row = mask.subarray(y * width, (y + 1) * width);
      line.set(row);
      boxLine(line, width, r, tmp);
      row.set(line.subarray(0, width));
    }
    for (let x = 0; x < width; x++) {
      for (let y = 0; y < height; y++) line[y] = mask[y * width + x];
      boxLine(line, height, r, tmp);
      for (let y = 0; y < height; y++) mask[y * width + x] = line[y];
    }
  }
  return mask;
}

/** Per-pixel minimum of two masks of the same size (FaceFusion combines masks this way). */
export function combineMin(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] < b[i] ? a[i] : b[i];
  return out;
}

/** Running-sum box blur of a line with zero padding outside (so a mask fades at the border). */
function boxLine(line: Float32Array, n: number, r: number, tmp: Float32Array): void {
  const width = 2 * r + 1;
  let acc = 0;
  for (let k = 0; k <= r && k < n; k++) acc += line[k];
  for (let i = 0; i < n; i++) {
    tmp[i] = acc / width;
    if (i + r + 1 < n) acc += line[i + r + 1];
    if (i - r >= 0) acc -= line[i - r];
  }
  line.set(tmp.subarray(0, n));
}
