import type { Point } from './frame';

/**
 * Delaunay triangulation (Bowyer–Watson with a super-triangle) → flat index triples, each
 * triangle counter-clockwise in image coordinates. O(n²): meant for landmark sets (68 points).
 */
export function delaunay(points: Point[]): Uint32Array {
  const n = points.length;
  if (n < 3) return new Uint32Array(0);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [x, y] of points) {
    minX = Math.min(minX, x); minY = Math.min(minY, y); maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
  }
  const span = Math.max(maxX - minX, maxY - minY, 1) * 20;
  const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
  const pts: Point[] = points.concat([[cx - span, cy - span], [cx + span, cy - span], [cx, cy + span]]);
  let triangles: Array<[number, number, number]> = [[n, n + 1, n + 2]];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const key = `${pts[i][0]},${pts[i][1]}`;
    if (seen.has(key)) continue; // duplicate points would make zero-area triangles
    seen.add(key);
    const bad: Array<[number, number, number]> = [];
    const good: Array<[number, number, number]> = [];
    for (const t of triangles) (inCircumcircle(pts, t, pts[i]) ? bad : good).push(t);
    // Boundary of the cavity: edges of bad triangles not shared by another bad triangle.
    const edges = new Map<string, [number, number]>();
    for (const [a, b, c] of bad) {
      for (const [u, v] of [[a, b], [b, c], [c, a]] as Array<[number, number]>) {
        const k = u < v ? `${u}:${v}` : `${v}:${u}`;
        if (edges.has(k)) edges.delete(k); else edges.set(k, [u, v]);
      }
    }
    triangles = good;
    for (const [u, v] of edges.values()) triangles.push(orient(pts, [u, v, i]));
  }
  const out: number[] = [];
  for (const t of triangles) if (t[0] < n && t[1] < n && t[2] < n && Math.abs(area2(pts, t)) > 1e-9) out.push(...t);
  return Uint32Array.from(out);
}

function area2(pts: Point[], [a, b, c]: [number, number, number]): number {
  return (pts[b][0] - pts[a][0]) * (pts[c][1] - pts[a][1]) - (pts[b][1] - pts[a][1]) * (pts[c][0] - pts[a][0]);
}

function orient(pts: Point[], t: [number, number, number]): [number, number, number] {
  return area2(pts, t) < 0 ? [t[0], t[2], t[1]] : t;
}

function inCircumcircle(pts: Point[], [a, b, c]: [number, number, number], p: Point): boolean {
  const [ax, ay] = [pts[a][0] - p[0], pts[a][1] - p[1]];
  const [bx, by] = [pts[b][0] - p[0], pts[b][1] - p[1]];
  const [cx, cy] = [pts[c][0] - p[0], pts[c][1] - p[1]];
  const det = (ax * ax + ay * ay) * (bx * cy - cx * by) - (bx * bx + by * by) * (ax * cy - cx * ay) + (cx * cx + cy * cy) * (ax * by - bx * ay);
  return area2(pts, [a, b, c]) > 0 ? det > 0 : det < 0;
}
