import * as ort from 'onnxruntime-node';
import { GEMM_INPUTS, GEMM_OUTPUT, gemmModel } from './gemm-model';

export interface IndexedVector {
  /** The person (people.id) the vector belongs to. */
  person: number;
  /** L2-normalised, `dim` values. */
  vector: Float32Array;
}

export interface BestMatch {
  person: number;
  /** Cosine similarity of the query to that person's closest vector. */
  similarity: number;
}

/**
 * Every enrolled vector of a library in one row-major Float32Array, scored against query faces
 * by a flat scan: one Gemm (queries · vectorsᵀ) in onnxruntime, then the best row per query.
 * A person's similarity is that of their closest vector, so the best row names the best person.
 *
 * A flat scan is exact and needs no training; it grows linearly with the vectors (≈ 0.25 ms
 * per 1,000 vectors of 512 values on one core, BENCHMARKS.md §17): past ≈ 100,000 vectors
 * (25 ms per face) an approximate index (HNSW, IVF) would be the better tool.
 */
export class VectorIndex {
  private matrix = new Float32Array(0);
  private owners = new Int32Array(0);
  private session?: Promise<ort.InferenceSession>;
  /** Scans running now: close() waits for them before releasing the session. */
  private running = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    readonly dim: number,
    rows: readonly IndexedVector[] = [],
  ) {
    this.load(rows);
  }

  get size(): number {
    return this.owners.length;
  }

  /** Replaces the vectors (the old matrix is zeroed: no copy of a forgotten vector stays in memory). */
  load(rows: readonly IndexedVector[]): void {
    const matrix = new Float32Array(rows.length * this.dim);
    const owners = new Int32Array(rows.length);
    rows.forEach((row, i) => {
      matrix.set(row.vector.subarray(0, this.dim), i * this.dim);
      owners[i] = row.person;
    });
    this.clear();
    this.matrix = matrix;
    this.owners = owners;
  }

  /** Zeroes and drops every vector (a scan already running reads zeros: nobody is recognised by it). */
  clear(): void {
    this.matrix.fill(0);
    this.matrix = new Float32Array(0);
    this.owners = new Int32Array(0);
  }

  /** The best person for each query (undefined when the index is empty). */
  async best(queries: readonly Float32Array[]): Promise<Array<BestMatch | undefined>> {
    if (this.closed) throw new Error('the vector index is closed');
    const n = this.owners.length;
    if (n === 0 || queries.length === 0) return queries.map(() => undefined);
    const run = this.scan(queries, this.matrix, this.owners);
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  /** Releases the scoring session once running scans ended; the vectors are zeroed. */
  async close(): Promise<void> {
    this.closed = true;
    this.clear();
    await Promise.allSettled(this.running);
    const session = this.session;
    this.session = undefined;
    if (session)
      await session.then(
        (s) => s.release(),
        () => undefined,
      );
  }

  private async scan(queries: readonly Float32Array[], matrix: Float32Array, owners: Int32Array): Promise<BestMatch[]> {
    const n = owners.length;
    const packed = new Float32Array(queries.length * this.dim);
    queries.forEach((q, i) => packed.set(q.subarray(0, this.dim), i * this.dim));
    const session = await this.sessionOf();
    const out = await session.run({
      [GEMM_INPUTS.queries]: new ort.Tensor('float32', packed, [queries.length, this.dim]),
      [GEMM_INPUTS.vectors]: new ort.Tensor('float32', matrix, [n, this.dim]),
    });
    const scores = out[GEMM_OUTPUT].data as Float32Array;
    const result: BestMatch[] = [];
    for (let q = 0; q < queries.length; q++) {
      let best = 0;
      const row = q * n;
      for (let i = 1; i < n; i++) if (scores[row + i] > scores[row + best]) best = i;
      result.push({ person: owners[best], similarity: Math.max(-1, Math.min(1, scores[row + best])) });
    }
    out[GEMM_OUTPUT].dispose?.();
    return result;
  }

  /** One intra-op thread: the scan is bound by memory bandwidth, a second thread measured slower on 2 cores. */
  private sessionOf(): Promise<ort.InferenceSession> {
    if (!this.session) {
      const opening = ort.InferenceSession.create(gemmModel(this.dim), { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      this.session = opening;
      opening.catch(() => {
        if (this.session === opening) this.session = undefined;
      });
    }
    return this.session;
  }
}
