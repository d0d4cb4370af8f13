import type { Rect } from './frame';
import { intersectRect, rectArea } from './rect';
import { boundingRect } from './blur';

/** Faces whose regions are blurred together: indices into the rects, and the group's σ. */
export interface BlurGroup {
  readonly members: readonly number[];
  readonly sigma: number;
}

/**
 * Which of a frame's masked regions to blur together. A Gaussian region blur reads its region
 * and 3σ around it; faces that overlap (a detection and the held, enlarged box of the same face;
 * neighbours in a crowd) would each read and write their overlap, and the later one would blur
 * the earlier one's blur again. Overlapping regions are merged into one blur of their bounding
 * box, written only inside their union (blur.ts blurRasterRegions), at the largest σ among them
 * (no face is blurred less than its own σ asks), whenever that costs no more than blurring them
 * apart: cost = the area read, (w + 6σ)·(h + 6σ). A face overlapping no other is its own group,
 * blurred exactly as alone. Regions that do not overlap are never merged (each keeps its σ).
 */
export function blurGroups(rects: readonly Rect[], sigmas: readonly number[]): BlurGroup[] {
  interface Group {
    members: number[];
    box: Rect;
    sigma: number;
    cost: number;
  }
  const cost = (box: Rect, sigma: number) => (box.width + 6 * sigma) * (box.height + 6 * sigma);
  const groups: Group[] = rects.map((box, i) => ({ members: [i], box, sigma: sigmas[i], cost: cost(box, sigmas[i]) }));
  const overlap = (a: Group, b: Group) => {
    if (rectArea(intersectRect(a.box, b.box)) === 0) return false;
    return a.members.some((i) => b.members.some((j) => rectArea(intersectRect(rects[i], rects[j])) > 0));
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        const a = groups[i],
          b = groups[j];
        if (!overlap(a, b)) continue;
        const box = boundingRect([a.box, b.box]),
          sigma = Math.max(a.sigma, b.sigma);
        const merged = cost(box, sigma);
        if (merged > a.cost + b.cost) continue;
        groups[i] = { members: [...a.members, ...b.members], box, sigma, cost: merged };
        groups.splice(j, 1);
        j = i; // the grown group may now overlap groups it did not before
        changed = true;
      }
    }
  }
  return groups.map((g) => ({ members: g.members.sort((x, y) => x - y), sigma: g.sigma }));
}
