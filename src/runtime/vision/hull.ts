import type { Point, Rect } from './frame';

/**
 * Convex hull by Andrew's monotone chain, O(n log n). Returns the hull vertices without
 * repeats and without collinear middle points, ordered so the shoelace area
 * Σ (x_i·y_{i+1} − x_{i+1}·y_i) is positive (clockwise on screen, since image y points down).
 * Fewer than three distinct points come back as they are (deduplicated, sorted).
 */
export function convexHull(points: Point[]): Point[] {
  const sorted = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const pts: Point[] = [];
  for (const p of sorted) {
    const last = pts[pts.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) pts.push(p);
  }
  if (pts.length < 3) return pts;
  const hull: Point[] = [];
  // Lower chain left→right, then upper chain right→left; a non-left turn pops the middle point.
  for (let pass = 0; pass < 2; pass++) {
    const start = hull.length;
    for (let k = 0; k < pts.length; k++) {
      const p = pts[pass === 0 ? k : pts.length - 1 - k];
      while (hull.length >= start + 2 && cross(hull[hull.length - 2], hull[hull.length - 1], p) <= 0) hull.pop();
      hull.push(p);
    }
    hull.pop(); // the last point of each chain starts the other one
  }
  return hull;
}

/** Smallest integer rectangle holding every point (floor of the minimum, ceil of the maximum; not clipped). */
export function polygonBounds(points: Point[]): Rect {
  if (points.length === 0) return { x: 0, y: 0, width: 0, height: 0 };
  let x1 = Infinity,
    y1 = Infinity,
    x2 = -Infinity,
    y2 = -Infinity;
  for (const [x, y] of points) {
    if (x < x1) x1 = x;
    if (y < y1) y1 = y;
    if (x > x2) x2 = x;
    if (y > y2) y2 = y;
  }
  const x = Math.floor(x1),
    y = Math.floor(y1);
  return { x, y, width: Math.ceil(x2) - x + 1, height: Math.ceil(y2) - y + 1 };
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}
