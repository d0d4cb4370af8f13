import type { Point } from './frame';

/**
 * Delaunay triangulation by Bowyer–Watson → flat index triples into `points`, every triangle
 * with positive signed area ((b−a)×(c−a) > 0; clockwise on screen because image y points down).
 *
 * The super-triangle is symbolic: its three corners sit "at infinity" and the in-circle test
 * for triangles touching them uses the limit shapes (a half-plane, or a half-plane through one
 * point), with exact tie rules. A finite super-triangle, however large, can swallow the flat
 * triangles along a nearly straight hull edge (a jaw line); the symbolic one cannot, so the
 * result always covers the convex hull. Exact duplicate points are skipped (their index never
 * appears); all-collinear input yields no triangles. O(n²) — meant for landmark sets.
 */
export function delaunay(points: ReadonlyArray<Readonly<Point>>): Uint32Array {
  const n = points.length;
  if (n < 3) return new Uint32Array(0);
  const mesh = new BowyerWatson(points);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const [x, y] = points[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const key = `${x},${y}`;
    if (seen.has(key)) continue;
    seen.add(key);
    mesh.insert(i);
  }
  return mesh.finiteTriangles();
}

/**
 * Triangles for a 68-point iBUG face, optionally with extra points (forehead, frame border)
 * whose indices follow the 68. Use the SAME list for source and target points; prefer
 * canonicalFace68Triangles() so the list does not depend on one face's pose.
 */
export function face68Triangles(points68: ReadonlyArray<Readonly<Point>>, extra: ReadonlyArray<Readonly<Point>> = []): Uint32Array {
  return delaunay(extra.length ? points68.concat(extra) : points68);
}

/** Delaunay of MEAN_FACE68: one fixed mesh for every face, so triangles never flip between faces. */
export function canonicalFace68Triangles(): Uint32Array {
  return CANONICAL_TRIANGLES.slice();
}

function buildMeanFace68(): Point[] {
  const pts: Point[] = [];
  // Origin between the eyes on the eye line; the face is about 2 units wide.
  const skew = (x: number): number => (x < 0 ? 0.004 : 0); // breaks exact mirror symmetry
  // Jaw: from the right ear (image left) at eye level, round the chin, to the left ear.
  for (let k = 0; k <= 16; k++) {
    const a = Math.PI * (1 - k / 16);
    const down = Math.sin(a);
    const x = Math.cos(a) * (0.98 - 0.1 * down * down);
    pts.push([x, -0.08 + 1.3 * down + skew(x)]);
  }
  // Brows 17–21 (image left, outer→inner) and 22–26 (inner→outer): gentle arches.
  for (let k = 0; k < 5; k++) {
    const s = k / 4;
    pts.push([-0.8 + 0.62 * s, -0.3 - 0.11 * Math.sin(Math.PI * (0.35 + 0.65 * s)) + skew(-1)]);
  }
  for (let k = 0; k < 5; k++) {
    const s = k / 4;
    pts.push([0.18 + 0.62 * s, -0.3 - 0.11 * Math.sin(Math.PI * (1 - 0.65 * s))]);
  }
  // Nose bridge 27–30, then the nostril base 31–35.
  for (let k = 0; k < 4; k++) pts.push([0, -0.04 + 0.17 * k]);
  const nostrils: Point[] = [
    [-0.22, 0.57],
    [-0.11, 0.61],
    [0, 0.63],
    [0.11, 0.61],
    [0.22, 0.57],
  ];
  for (const [x, y] of nostrils) pts.push([x, y + skew(x)]);
  // Eyes: outer corner, two upper-lid points, inner corner, two lower-lid points (iBUG order).
  // Eyes: corner, two upper-lid points, corner, two lower-lid points, left to right over the
  // top in the image for both eyes (36 outer … 39 inner; 42 inner … 45 outer).
  const eye = (cx: number): void => {
    for (const deg of [180, 120, 60, 0, -60, -120]) {
      const t = (deg * Math.PI) / 180;
      pts.push([cx + 0.16 * Math.cos(t), -0.065 * Math.sin(t) + skew(cx)]);
    }
  };
  eye(-0.42);
  eye(0.42);
  // Mouth, outer lip 48–59 from the image-left corner over the top, then the inner lip 60–67.
  const lip = (count: number, halfWidth: number, up: number, down: number): void => {
    for (let k = 0; k < count; k++) {
      const t = Math.PI - (k * 2 * Math.PI) / count;
      const s = Math.sin(t);
      const x = halfWidth * Math.cos(t);
      pts.push([x, 0.86 - (s > 0 ? up : down) * s + skew(x)]);
    }
  };
  lip(12, 0.4, 0.13, 0.16);
  lip(8, 0.3, 0.045, 0.05);
  // Normalise to the unit box without changing the aspect ratio (Delaunay is not affine-invariant).
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (const [x, y] of pts) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  const scale = 1 / Math.max(maxX - minX, maxY - minY);
  const offX = (1 - (maxX - minX) * scale) / 2,
    offY = (1 - (maxY - minY) * scale) / 2;
  return pts.map(([x, y]) => [Math.round(((x - minX) * scale + offX) * 1e6) / 1e6, Math.round(((y - minY) * scale + offY) * 1e6) / 1e6]);
}

/** Incremental Bowyer–Watson state: vertices n, n+1, n+2 are the symbolic super-triangle. */
class BowyerWatson {
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  private readonly n: number;
  /** Centre and directions of the super-triangle corners (o + R·d_k, R → ∞). */
  private readonly ox: number;
  private readonly oy: number;
  private readonly dx: Float64Array;
  private readonly dy: Float64Array;
  private tris: Int32Array;
  private count = 0;
  private readonly bad: number[] = [];
  private readonly edges: number[] = [];

  constructor(points: ReadonlyArray<Readonly<Point>>) {
    const n = points.length;
    this.n = n;
    this.xs = new Float64Array(n);
    this.ys = new Float64Array(n);
    let minX = Infinity,
      minY = Infinity,
      maxX = -Infinity,
      maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      const [x, y] = points[i];
      this.xs[i] = x;
      this.ys[i] = y;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < minX) minX = x;
      if (y < minY) minY = y;
      if (x > maxX) maxX = x;
      if (y > maxY) maxY = y;
    }
    this.ox = (minX + maxX) / 2;
    this.oy = (minY + maxY) / 2;
    // Increasing angles give a positively oriented super-triangle; the odd start angle keeps
    // its bisectors off the axis directions of grid-like inputs (fewer exact ties).
    this.dx = new Float64Array(3);
    this.dy = new Float64Array(3);
    for (let k = 0; k < 3; k++) {
      const a = 0.3141 + (k * 2 * Math.PI) / 3;
      this.dx[k] = Math.cos(a);
      this.dy[k] = Math.sin(a);
    }
    this.tris = new Int32Array(Math.max(64, 6 * n + 12));
    this.push(n, n + 1, n + 2);
  }

  insert(p: number): void {
    const bad = this.bad,
      edges = this.edges;
    bad.length = 0;
    edges.length = 0;
    const t = this.tris;
    for (let k = 0; k < this.count; k++) if (this.inCircle(t[3 * k], t[3 * k + 1], t[3 * k + 2], p)) bad.push(k);
    if (bad.length === 0) return; // only reachable through rounding; skipping keeps the mesh valid
    // Directed edges of the cavity; an edge whose reverse is also there is interior.
    for (const k of bad) edges.push(t[3 * k], t[3 * k + 1], t[3 * k + 1], t[3 * k + 2], t[3 * k + 2], t[3 * k]);
    // Remove bad triangles, highest index first, by moving the last triangle into the hole.
    for (let j = bad.length - 1; j >= 0; j--) {
      const k = bad[j],
        last = --this.count;
      t[3 * k] = t[3 * last];
      t[3 * k + 1] = t[3 * last + 1];
      t[3 * k + 2] = t[3 * last + 2];
    }
    for (let e = 0; e < edges.length; e += 2) {
      const u = edges[e],
        v = edges[e + 1];
      let interior = false;
      for (let f = 0; f < edges.length; f += 2)
        if (edges[f] === v && edges[f + 1] === u) {
          interior = true;
          break;
        }
      // Keeping the cavity edge's direction keeps the new triangle positively oriented.
      if (!interior) this.push(u, v, p);
    }
  }

  finiteTriangles(): Uint32Array {
    const out: number[] = [];
    const t = this.tris,
      n = this.n;
    for (let k = 0; k < this.count; k++) {
      const a = t[3 * k],
        b = t[3 * k + 1],
        c = t[3 * k + 2];
      if (a >= n || b >= n || c >= n) continue;
      if (this.orient(a, b, c) > 0) out.push(a, b, c);
    }
    return Uint32Array.from(out);
  }

  private push(a: number, b: number, c: number): void {
    if (3 * this.count + 3 > this.tris.length) {
      const grown = new Int32Array(this.tris.length * 2);
      grown.set(this.tris);
      this.tris = grown;
    }
    const o = 3 * this.count++;
    this.tris[o] = a;
    this.tris[o + 1] = b;
    this.tris[o + 2] = c;
  }

  private orient(a: number, b: number, c: number): number {
    const xs = this.xs,
      ys = this.ys;
    return (xs[b] - xs[a]) * (ys[c] - ys[a]) - (ys[b] - ys[a]) * (xs[c] - xs[a]);
  }

  /** Is point p strictly inside the circumcircle of the positively oriented triangle (a, b, c)? */
  private inCircle(a: number, b: number, c: number, p: number): boolean {
    const n = this.n;
    const ia = a >= n ? 1 : 0,
      ib = b >= n ? 1 : 0,
      ic = c >= n ? 1 : 0;
    const infinite = ia + ib + ic;
    const xs = this.xs,
      ys = this.ys,
      px = xs[p],
      py = ys[p];
    if (infinite === 0) {
      const ax = xs[a] - px,
        ay = ys[a] - py,
        bx = xs[b] - px,
        by = ys[b] - py,
        cx = xs[c] - px,
        cy = ys[c] - py;
      const det = (ax * ax + ay * ay) * (bx * cy - cx * by) - (bx * bx + by * by) * (ax * cy - cx * ay) + (cx * cx + cy * cy) * (ax * by - bx * ay);
      return det > 0;
    }
    if (infinite === 3) return true;
    if (infinite === 1) {
      // Rotate so the infinite corner is last: (u, v, ∞). The circle tends to the open
      // half-plane left of u→v, plus the open segment uv (a chord of every such circle).
      const u = ic ? a : ia ? b : c,
        v = ic ? b : ia ? c : a;
      const side = this.orient(u, v, p);
      if (side !== 0) return side > 0;
      const dot = (px - xs[u]) * (px - xs[v]) + (py - ys[u]) * (py - ys[v]);
      return dot < 0;
    }
    // Two infinite corners S_j, S_k and one finite corner f: the circle through them has its
    // centre near R·(d_j + d_k) from o, so it tends to the half-plane (p − f)·(d_j + d_k) > 0;
    // on the boundary line the next-order term decides: inside when p is closer to o than f.
    const f = !ia ? a : !ib ? b : c;
    let ux = 0,
      uy = 0;
    if (ia) {
      ux += this.dx[a - n];
      uy += this.dy[a - n];
    }
    if (ib) {
      ux += this.dx[b - n];
      uy += this.dy[b - n];
    }
    if (ic) {
      ux += this.dx[c - n];
      uy += this.dy[c - n];
    }
    const along = (px - xs[f]) * ux + (py - ys[f]) * uy;
    if (along !== 0) return along > 0;
    const dp = (px - this.ox) ** 2 + (py - this.oy) ** 2,
      df = (xs[f] - this.ox) ** 2 + (ys[f] - this.oy) ** 2;
    return dp < df;
  }
}

// Built last: the class above must be initialised before this module-load computation runs.
/**
 * A canonical 68-point iBUG face (jaw 0–16, brows 17–26, nose 27–35, eyes 36–47, mouth 48–67)
 * in a unit box (the longer side spans 0..1, the other is centred). Built from typical facial
 * proportions rather than measured; the two halves differ very slightly on purpose so that
 * mirrored point pairs are not exactly co-circular (which would make the mesh arbitrary).
 */
export const MEAN_FACE68: ReadonlyArray<Readonly<Point>> = Object.freeze(buildMeanFace68().map((p) => Object.freeze(p)));

const CANONICAL_TRIANGLES: Uint32Array = delaunay(MEAN_FACE68);
