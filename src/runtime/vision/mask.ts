import type { Point } from './frame';
import type { Scratch } from './scratch';

/**
 * Hard polygon mask, width×height, values exactly 0 or 1. Pixel (x, y) is the point (x, y)
 * (landmarks are pixel centres, as in the piecewise warp) and is 1 when that point is inside
 * the polygon by the even–odd rule; points on a left or right edge count as inside. Scanline
 * fill: per row, the crossings with each edge are sorted and the spans between pairs filled.
 * `out` (width·height values, any old contents), when given, is cleared, filled and returned
 * instead of a new array.
 */
export function polygonMask(width: number, height: number, polygon: ReadonlyArray<Readonly<Point>>, out?: Float32Array): Float32Array {
  let mask: Float32Array;
  if (out) {
    if (out.length !== width * height) throw new RangeError(`polygonMask: out has ${out.length} values, expected ${width * height}`);
    mask = out.fill(0);
  } else {
    mask = new Float32Array(width * height);
  }
  const n = polygon.length;
  if (n < 3) return mask;
  let minY = Infinity,
    maxY = -Infinity;
  for (const [, y] of polygon) {
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const crossings = new Float64Array(n);
  const y0 = Math.max(0, Math.ceil(minY)),
    y1 = Math.min(height - 1, Math.floor(maxY));
  for (let y = y0; y <= y1; y++) {
    let count = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const yi = polygon[i][1],
        yj = polygon[j][1];
      // Half-open in y so a vertex shared by two edges is counted once.
      if ((yi <= y && yj > y) || (yj <= y && yi > y)) {
        const xi = polygon[i][0],
          xj = polygon[j][0];
        crossings[count++] = xi + ((y - yi) / (yj - yi)) * (xj - xi);
      }
    }
    const xs = crossings.subarray(0, count).sort();
    for (let k = 0; k + 1 < count; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k] - 1e-9));
      const to = Math.min(width - 1, Math.floor(xs[k + 1] + 1e-9));
      if (to >= from) mask.fill(1, y * width + from, y * width + to + 1);
    }
  }
  return mask;
}

/**
 * Soft edge that stays INSIDE the mask. The mask is blurred (three box passes per axis of
 * radius r = round(radius/3), close to a Gaussian with σ² = r(r+1), support 3r; zero outside
 * the frame), then rescaled so the blur's half level — where the old edge was — maps to 0 and
 * full coverage maps to 1: out = mask · clamp(2·blur − 1, 0, 1). So:
 *  - returns values in 0..1, exactly 0 wherever `mask` is 0 (pixels outside a face mask are
 *    never blended), exactly 1 wherever the whole blur support is inside the mask (≥ 3r from
 *    the edge), and a ramp rising monotonically from the edge inward over about `radius` px;
 *  - radius ≤ 0 returns a copy of the mask.
 * `out` (width·height values, any old contents; may be `mask` itself), when given, receives the
 * result and is returned instead of a new array; `work`, when given, lends the blur's buffers
 * (roles featherMask.*) so the call allocates nothing. Same values either way.
 */
export function featherMask(mask: Float32Array, width: number, height: number, radius: number, out?: Float32Array, work?: Scratch): Float32Array {
  if (mask.length !== width * height) throw new RangeError(`featherMask: mask has ${mask.length} values, expected ${width * height}`);
  if (out && out.length !== mask.length) throw new RangeError(`featherMask: out has ${out.length} values, expected ${mask.length}`);
  if (!(radius > 0)) return out ? (out === mask ? out : (out.set(mask), out)) : new Float32Array(mask);
  const r = Math.max(1, Math.round(radius / 3));
  const blurred = work ? work.float32('featherMask.blurred', mask.length) : new Float32Array(mask.length);
  blurred.set(mask);
  const lineLength = Math.max(width, height);
  const line = work ? work.float64('featherMask.line', lineLength) : new Float64Array(lineLength);
  const tmp = work ? work.float64('featherMask.tmp', lineLength) : new Float64Array(lineLength);
  for (let y = 0; y < height; y++) {
    const off = y * width;
    for (let x = 0; x < width; x++) line[x] = blurred[off + x];
    for (let pass = 0; pass < 3; pass++) boxLine(line, width, r, tmp);
    for (let x = 0; x < width; x++) blurred[off + x] = line[x];
  }
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) line[y] = blurred[y * width + x];
    for (let pass = 0; pass < 3; pass++) boxLine(line, height, r, tmp);
    for (let y = 0; y < height; y++) blurred[y * width + x] = line[y];
  }
  const result = out ?? new Float32Array(mask.length);
  for (let i = 0; i < result.length; i++) {
    const m = mask[i];
    if (!(m > 0)) {
      result[i] = 0;
      continue;
    }
    const v = 2 * blurred[i] - 1;
    // Float sums of k/(2r+1) land a hair under 1 deep inside: snap so "inside" is exactly 1.
    result[i] = m * (v <= 0 ? 0 : v >= 1 - 1e-5 ? 1 : v);
  }
  return result;
}

/**
 * FaceFusion's static box mask for a width×height crop. blur = floor(width·0.5·blurFraction);
 * a border band of max(floor(blur/2), 1) px — or padding% of the side, when larger; padding
 * is [top, right, bottom, left] in percent — is 0, the rest 1, and the result is smoothed by a
 * Gaussian of σ = blur/4 (mirrored borders, like OpenCV's default). Values in 0..1. The box is
 * a product of a row profile and a column profile, and so is its blur, so it costs O(w + h)
 * blurring plus one pass to fill.
 */
export function boxMask(width: number, height: number, blurFraction: number, padding: [number, number, number, number]): Float32Array {
  const blur = Math.floor(width * 0.5 * Math.max(0, blurFraction));
  const band = Math.max(Math.floor(blur / 2), 1);
  const top = Math.max(band, Math.floor((height * padding[0]) / 100));
  const right = Math.max(band, Math.floor((width * padding[1]) / 100));
  const bottom = Math.max(band, Math.floor((height * padding[2]) / 100));
  const left = Math.max(band, Math.floor((width * padding[3]) / 100));
  const cols = new Float64Array(width);
  const rows = new Float64Array(height);
  for (let x = left; x < width - right; x++) cols[x] = 1;
  for (let y = top; y < height - bottom; y++) rows[y] = 1;
  if (blur > 0) {
    gaussianLine(cols, blur / 4);
    gaussianLine(rows, blur / 4);
  }
  const mask = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const ry = rows[y];
    if (ry === 0) continue;
    for (let x = 0; x < width; x++) mask[y * width + x] = ry * cols[x];
  }
  return mask;
}

/**
 * Per-pixel minimum of two same-sized masks (FaceFusion combines masks this way); range is that
 * of the inputs. `out` (same size; may be `a` or `b`), when given, receives it instead of a new array.
 */
export function combineMin(a: Float32Array, b: Float32Array, out: Float32Array = new Float32Array(a.length)): Float32Array {
  if (a.length !== b.length) throw new RangeError(`combineMin: masks have ${a.length} and ${b.length} values`);
  if (out.length !== a.length) throw new RangeError(`combineMin: out has ${out.length} values, expected ${a.length}`);
  for (let i = 0; i < a.length; i++) out[i] = a[i] < b[i] ? a[i] : b[i];
  return out;
}

/** In-place running-sum box blur of line[0..n) with radius r, zero outside (a mask fades at the frame border). */
function boxLine(line: Float64Array, n: number, r: number, tmp: Float64Array): void {
  const size = 2 * r + 1;
  let acc = 0;
  for (let k = 0; k <= r && k < n; k++) acc += line[k];
  for (let i = 0; i < n; i++) {
    tmp[i] = acc / size;
    if (i + r + 1 < n) acc += line[i + r + 1];
    if (i - r >= 0) acc -= line[i - r];
  }
  for (let i = 0; i < n; i++) line[i] = tmp[i];
}

/** In-place Gaussian blur of a line, radius ceil(3σ), mirrored border without repeating the edge sample. */
function gaussianLine(line: Float64Array, sigma: number): void {
  const n = line.length;
  if (n < 2 || !(sigma > 0)) return;
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) sum += kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k] /= sum;
  const src = Float64Array.from(line);
  const period = 2 * (n - 1);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let k = -radius; k <= radius; k++) {
      let j = (i + k) % period;
      if (j < 0) j += period;
      if (j >= n) j = period - j;
      acc += kernel[k + radius] * src[j];
    }
    line[i] = acc;
  }
}
