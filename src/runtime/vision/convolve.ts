/**
 * Separable convolution with the exact Gaussian kernel on float planes (w × h, row-major), the
 * kernel of the region blur (blur.ts): at full resolution for a small σ, on a grid of cells for
 * a larger one. Every function writes into buffers it is given; edges repeat the edge sample.
 */

/** Taps of the exact Gaussian of σ, radius ⌈3σ⌉ (at least 1), summing to 1, into `out` when it is long enough. */
export function gaussianKernel(sigma: number, out?: Float32Array): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = out && out.length >= 2 * r + 1 ? out.subarray(0, 2 * r + 1) : new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Length of gaussianKernel(σ). */
export function gaussianTaps(sigma: number): number {
  return 2 * Math.max(1, Math.ceil(3 * sigma)) + 1;
}

/**
 * dst = src ⊛ kernel along each row, written for the columns [x0, x1) only (default all; the
 * rest of dst is left as it was). Symmetric kernel: mirrored taps share a multiply; edge values
 * repeated.
 */
export function convolveRows(src: Float32Array, dst: Float32Array, w: number, h: number, kernel: Float32Array, x0 = 0, x1 = w): void {
  const r = (kernel.length - 1) >> 1;
  const w0 = kernel[r];
  for (let y = 0; y < h; y++) {
    const row = y * w,
      last = row + w - 1;
    for (let x = x0; x < x1; x++) {
      const i = row + x;
      let sum = w0 * src[i];
      if (x >= r && x + r < w) {
        for (let k = 1; k <= r; k++) sum += kernel[r + k] * (src[i - k] + src[i + k]);
      } else {
        for (let k = 1; k <= r; k++) sum += kernel[r + k] * (src[i - k < row ? row : i - k] + src[i + k > last ? last : i + k]);
      }
      dst[i] = sum;
    }
  }
}

/**
 * dst = src ⊛ kernel down the columns [x0, x1), for rows [y0, y1) only; edge rows repeated.
 * The kernel is symmetric, so rows y − k and y + k share one multiply.
 */
export function convolveColumns(src: Float32Array, dst: Float32Array, w: number, h: number, kernel: Float32Array, x0: number, x1: number, y0: number, y1: number): void {
  const r = (kernel.length - 1) >> 1;
  for (let y = y0; y < y1; y++) {
    const o = y * w;
    const w0 = kernel[r];
    for (let i = o + x0, end = o + x1; i < end; i++) dst[i] = w0 * src[i];
    for (let k = 1; k <= r; k++) {
      const up = y - k < 0 ? 0 : y - k,
        down = y + k >= h ? h - 1 : y + k;
      const fu = up * w - o,
        fd = down * w - o;
      const wk = kernel[r + k];
      for (let i = o + x0, end = o + x1; i < end; i++) dst[i] += wk * (src[i + fu] + src[i + fd]);
    }
  }
}
