/**
 * Float mask planes (one value per pixel, row-major) as FaceFusion treats segmentation
 * masks: bilinear resize (cv2.resize), Gaussian blur (cv2.GaussianBlur on float32), and the
 * "soft inside edge" rescale of its occlusion and region masks.
 */

/** Bilinear resize with pixel-centre alignment (as cv2.resize INTER_LINEAR): src (sw×sh) → dw×dh. */
export function resizePlaneBilinear(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  if (src.length < sw * sh) throw new RangeError(`resizePlaneBilinear: plane has ${src.length} values, ${sw * sh} needed`);
  const out = new Float32Array(dw * dh);
  if (sw === dw && sh === dh) {
    out.set(src.subarray(0, sw * sh));
    return out;
  }
  const x0 = new Int32Array(dw),
    x1 = new Int32Array(dw),
    fx = new Float32Array(dw);
  for (let x = 0; x < dw; x++) {
    const v = Math.min(Math.max((x + 0.5) * (sw / dw) - 0.5, 0), sw - 1);
    const i = Math.floor(v);
    x0[x] = i;
    x1[x] = Math.min(i + 1, sw - 1);
    fx[x] = v - i;
  }
  for (let y = 0, o = 0; y < dh; y++) {
    const v = Math.min(Math.max((y + 0.5) * (sh / dh) - 0.5, 0), sh - 1);
    const j = Math.floor(v),
      fy = v - j;
    const r0 = j * sw,
      r1 = Math.min(j + 1, sh - 1) * sw;
    for (let x = 0; x < dw; x++) {
      const top = src[r0 + x0[x]] + (src[r0 + x1[x]] - src[r0 + x0[x]]) * fx[x];
      const bottom = src[r1 + x0[x]] + (src[r1 + x1[x]] - src[r1 + x0[x]]) * fx[x];
      out[o++] = top + (bottom - top) * fy;
    }
  }
  return out;
}

/** cv2.getGaussianKernel for float images and ksize (0,0): 2·round(4σ)+1 taps, normalised. */
export function gaussianKernel1d(sigma: number): Float64Array {
  const radius = Math.max(1, Math.round(4 * sigma));
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Separable Gaussian blur of a float plane, reflected borders without repeating the edge (OpenCV's default, BORDER_REFLECT_101). */
export function gaussianBlurPlane(plane: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (plane.length !== width * height) throw new RangeError(`gaussianBlurPlane: plane has ${plane.length} values, expected ${width * height}`);
  if (!(sigma > 0)) return new Float32Array(plane);
  const k = gaussianKernel1d(sigma);
  const r = (k.length - 1) >> 1;
  const tmp = new Float32Array(plane.length);
  const out = new Float32Array(plane.length);
  const xs = reflectIndex(width, r);
  const ys = reflectIndex(height, r);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = 0; t < k.length; t++) acc += k[t] * plane[row + xs[x + t]];
      tmp[row + x] = acc;
    }
  }
  const acc = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let t = 0; t < k.length; t++) {
      const from = ys[y + t] * width,
        w = k[t];
      for (let x = 0; x < width; x++) acc[x] += w * tmp[from + x];
    }
    out.set(acc, y * width);
  }
  return out;
}

/**
 * FaceFusion's smoothing of occlusion (xseg) and region (bisenet) masks, as a new plane:
 * (clamp(GaussianBlur(clamp(m, 0, 1), σ), 0.5, 1) − 0.5) × 2. The blur's half level, where the
 * hard edge was, maps to 0: the soft ramp lies inside the kept area.
 */
export function smoothSegmentationMask(mask: Float32Array, width: number, height: number, sigma = 5): Float32Array {
  const clamped = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) clamped[i] = mask[i] > 0 ? (mask[i] < 1 ? mask[i] : 1) : 0;
  const blurred = gaussianBlurPlane(clamped, width, height, sigma);
  for (let i = 0; i < blurred.length; i++) {
    const v = blurred[i];
    blurred[i] = v <= 0.5 ? 0 : v >= 1 ? 1 : (v - 0.5) * 2;
  }
  return blurred;
}

/** target ← min(target, other), per pixel (FaceFusion combines masks this way); NaN counts as 0. */
export function minMaskInto(target: Float32Array, other: Float32Array): void {
  if (target.length !== other.length) throw new RangeError(`minMaskInto: masks have ${target.length} and ${other.length} values`);
  for (let i = 0; i < target.length; i++) {
    const v = other[i] > 0 ? other[i] : 0;
    if (v < target[i]) target[i] = v;
  }
}

/** Index table for positions −r..n−1+r (offset by r) reflected into 0..n−1, edge not repeated. */
function reflectIndex(n: number, r: number): Int32Array {
  const idx = new Int32Array(n + 2 * r);
  const period = n > 1 ? 2 * (n - 1) : 1;
  for (let i = 0; i < idx.length; i++) {
    let j = (i - r) % period;
    if (j < 0) j += period;
    if (j >= n) j = period - j;
    idx[i] = n > 1 ? j : 0;
  }
  return idx;
}
