import type { Point } from '../vision/frame';

const dist = (a: Point, b: Point): number => Math.hypot(a[0] - b[0], a[1] - b[1]);

/** How open the mouth is: the mean inner-lip gap (61–67, 62–66, 63–65) over the nose-bridge-to-chin height (27–8). */
export function mouthOpenness(p: readonly Point[]): number {
  const height = dist(p[27], p[8]);
  return height > 0 ? (dist(p[61], p[67]) + dist(p[62], p[66]) + dist(p[63], p[65])) / 3 / height : 0;
}

/** How open the eyes are: the mean eye aspect ratio of both eyes (lid gaps over eye width). */
export function eyeOpenness(p: readonly Point[]): number {
  const ear = (o: number): number => {
    const width = dist(p[o], p[o + 3]);
    return width > 0 ? (dist(p[o + 1], p[o + 5]) + dist(p[o + 2], p[o + 4])) / (2 * width) : 0;
  };
  return (ear(36) + ear(42)) / 2;
}

/**
 * Mouths more apart than this (mouthOpenness) are not the same expression. Measured with the
 * default landmarker: closed mouths 0.00–0.07 (a smile with closed lips reads up to 0.12),
 * a laugh 0.19.
 */
export const MOUTH_LIMIT = 0.06;
/** Eyes more apart than this (eyeOpenness): open eyes read 0.15–0.42 on the fixtures, a blink below 0.1. */
export const EYES_LIMIT = 0.1;

/**
 * The target's own features to keep when the two faces' expressions differ: its mouth (outer
 * lips 48–59) when one mouth is open and the other is not, its eyes (36–41, 42–47) when one
 * face blinks — a warped closed mouth stretched over teeth, or lids pasted over open eyes,
 * look wrong whatever the blend. Polygons in target coordinates, grown around their centres
 * so the feathered edge lies on the skin around the feature.
 */
export function keptFeatures(source: readonly Point[], target: readonly Point[]): Point[][] {
  const out: Point[][] = [];
  if (Math.abs(mouthOpenness(source) - mouthOpenness(target)) > MOUTH_LIMIT) out.push(grown(target, 48, 59, 1.35));
  if (Math.abs(eyeOpenness(source) - eyeOpenness(target)) > EYES_LIMIT) out.push(grown(target, 36, 41, 1.6), grown(target, 42, 47, 1.6));
  return out;
}

function grown(p: readonly Point[], from: number, to: number, scale: number): Point[] {
  let cx = 0,
    cy = 0;
  for (let i = from; i <= to; i++) {
    cx += p[i][0];
    cy += p[i][1];
  }
  const n = to - from + 1;
  cx /= n;
  cy /= n;
  const out: Point[] = [];
  for (let i = from; i <= to; i++) out.push([cx + (p[i][0] - cx) * scale, cy + (p[i][1] - cy) * scale]);
  return out;
}
