import type { Frame, Rect } from './frame';
import { clipRect } from './rect';

/** Above this sigma a 3-pass box blur replaces the exact kernel: O(1) per pixel whatever the radius. */
const BOX_BLUR_SIGMA = 3;

/**
 * Gaussian blur of one region: a new frame whose pixels outside `rect` are byte-identical.
 * Pixels just outside the region feed the blur (so its edge is not darker), clamped at the
 * frame border. Large sigmas (privacy blur of a big face) use three box passes, which
 * approximate a Gaussian closely and cost the same for σ = 5 or σ = 60.
 */
export function gaussianBlurRegion(frame: Frame, rect: Rect, sigma: number): Frame {
  const out = new Uint8Array(frame.data);
  const region = clipRect(rect, frame.width, frame.height);
  if (region.width === 0 || region.height === 0 || sigma <= 0) return { ...frame, data: out };
  const radius = Math.ceil(3 * sigma);
  const ext = clipRect({ x: region.x - radius, y: region.y - radius, width: region.width + 2 * radius, height: region.height + 2 * radius }, frame.width, frame.height);
  const buf = new Float32Array(ext.width * ext.height * 3);
  for (let y = 0; y < ext.height; y++) {
    const s = ((ext.y + y) * frame.width + ext.x) * 3;
    for (let i = 0; i < ext.width * 3; i++) buf[y * ext.width * 3 + i] = frame.data[s + i];
  }
  const line = new Float32Array(Math.max(ext.width, ext.height));
  const tmp = new Float32Array(line.length);
  const passes: Array<(l: Float32Array, n: number) => void> = [];
  if (sigma < BOX_BLUR_SIGMA) {
    const kernel = gaussianKernel(sigma);
    passes.push((l, n) => convolveLine(l, n, kernel, tmp));
  } else {
    for (const r of boxRadiiForGauss(sigma, 3)) passes.push((l, n) => boxLine(l, n, r, tmp));
  }
  // Horizontal then vertical, each channel separately.
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < ext.height; y++) {
      const base = y * ext.width * 3 + c;
      for (let x = 0; x < ext.width; x++) line[x] = buf[base + x * 3];
      for (const pass of passes) pass(line, ext.width);
      for (let x = 0; x < ext.width; x++) buf[base + x * 3] = line[x];
    }
    for (let x = 0; x < ext.width; x++) {
      const base = x * 3 + c;
      const stride = ext.width * 3;
      for (let y = 0; y < ext.height; y++) line[y] = buf[base + y * stride];
      for (const pass of passes) pass(line, ext.height);
      for (let y = 0; y < ext.height; y++) buf[base + y * stride] = line[y];
    }
  }
  const ox = region.x - ext.x, oy = region.y - ext.y;
  for (let y = 0; y < region.height; y++) {
    let s = ((oy + y) * ext.width + ox) * 3;
    let d = ((region.y + y) * frame.width + region.x) * 3;
    for (let i = 0; i < region.width * 3; i++, s++, d++) {
      const v = buf[s];
      out[d] = v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5;
    }
  }
  return { width: frame.width, height: frame.height, channels: 3, data: out };
}

/** Pixelate one region into blocks of the block's mean colour; outside the region is unchanged. */
export function pixelateRegion(frame: Frame, rect: Rect, blockSize: number): Frame {
  const out = new Uint8Array(frame.data);
  const region = clipRect(rect, frame.width, frame.height);
  const block = Math.max(1, Math.round(blockSize));
  for (let by = region.y; by < region.y + region.height; by += block) {
    const bh = Math.min(block, region.y + region.height - by);
    for (let bx = region.x; bx < region.x + region.width; bx += block) {
      const bw = Math.min(block, region.x + region.width - bx);
      let r = 0, g = 0, b = 0;
      for (let y = by; y < by + bh; y++) {
        let p = (y * frame.width + bx) * 3;
        for (let x = 0; x < bw; x++, p += 3) {
          r += frame.data[p]; g += frame.data[p + 1]; b += frame.data[p + 2];
        }
      }
      const n = bw * bh;
      r = Math.round(r / n); g = Math.round(g / n); b = Math.round(b / n);
      for (let y = by; y < by + bh; y++) {
        let p = (y * frame.width + bx) * 3;
        for (let x = 0; x < bw; x++, p += 3) {
          out[p] = r; out[p + 1] = g; out[p + 2] = b;
        }
      }
    }
  }
  return { width: frame.width, height: frame.height, channels: 3, data: out };
}

function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

function convolveLine(line: Float32Array, n: number, kernel: Float32Array, tmp: Float32Array): void {
  const r = (kernel.length - 1) >> 1;
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let k = -r; k <= r; k++) {
      const j = i + k < 0 ? 0 : i + k >= n ? n - 1 : i + k;
      acc += line[j] * kernel[k + r];
    }
    tmp[i] = acc;
  }
  line.set(tmp.subarray(0, n));
}

/** Running-sum box blur of radius r with clamped edges. */
function boxLine(line: Float32Array, n: number, r: number, tmp: Float32Array): void {
  if (r <= 0) return;
  const width = 2 * r + 1;
  let acc = 0;
  for (let k = -r; k <= r; k++) acc += line[k < 0 ? 0 : k >= n ? n - 1 : k];
  for (let i = 0; i < n; i++) {
    tmp[i] = acc / width;
    const add = i + r + 1 >= n ? n - 1 : i + r + 1;
    const sub = i - r < 0 ? 0 : i - r;
    acc += line[add] - line[sub];
  }
  line.set(tmp.subarray(0, n));
}

/** Radii of `n` box blurs whose sequence approximates a Gaussian of `sigma`. */
function boxRadiiForGauss(sigma: number, n: number): number[] {
  const ideal = Math.sqrt((12 * sigma * sigma) / n + 1);
  let wl = Math.floor(ideal);
  if (wl % 2 === 0) wl--;
  const wu = wl + 2;
  const m = Math.round((12 * sigma * sigma - n * wl * wl - 4 * n * wl - 3 * n) / (-4 * wl - 4));
  return Array.from({ length: n }, (_, i) => ((i < m ? wl : wu) - 1) / 2);
}
