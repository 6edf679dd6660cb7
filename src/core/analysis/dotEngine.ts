/**
 * The K-means dot-product engines' interface and the plain-JS engine (kmeansTf.ts has the tfjs one):
 * the fit points stay fixed while the centroids change every step.
 */

/** Dot products of fixed points [n,c] with changing centroids [k,c]. */
export interface DotEngine {
  /** scores[p·k + ci] = x_p · c_ci */
  scores(cents: Float32Array, k: number): ArrayLike<number>;
  /**
   * Per-cluster sums of the points for `runs` labelings at once (labels[a·n + p] ∈ [0,k) is point p's
   * cluster in run a): out[(a·k + ci)·c + j] = Σ_{p: labels[a·n+p] = ci} x_p[j].
   */
  sums(labels: Int32Array, runs: number, k: number, out: Float64Array): void;
  dispose(): void;
}
export type DotEngineFactory = (points: Float32Array, n: number, c: number) => DotEngine;

/** The plain-JS engine: four accumulators over contiguous rows. */
export const jsDotEngine: DotEngineFactory = (points, n, c) => ({
  scores(cents, k) {
    const out = new Float64Array(n * k);
    dotScores(points, n, c, cents, k, out);
    return out;
  },
  sums(labels, runs, k, out) {
    out.fill(0, 0, runs * k * c);
    for (let a = 0; a < runs; a++) {
      for (let p = 0; p < n; p++) {
        const so = (a * k + labels[a * n + p]) * c, po = p * c;
        for (let j = 0; j < c; j++) out[so + j] += points[po + j];
      }
    }
  },
  dispose() {},
});

/**
 * Scores of every point against every centroid: s[p,ci] = x_p·c_ci, with four independent
 * accumulators over contiguous rows (1.5× faster in V8 than a transposed-centroid inner loop).
 */
function dotScores(points: Float32Array, n: number, c: number, cents: Float32Array, k: number, out: Float64Array): void {
  const c4 = c - (c % 4);
  for (let p = 0; p < n; p++) {
    const po = p * c, oo = p * k;
    for (let ci = 0; ci < k; ci++) {
      const co = ci * c;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < c4; j += 4) {
        s0 += points[po + j] * cents[co + j];
        s1 += points[po + j + 1] * cents[co + j + 1];
        s2 += points[po + j + 2] * cents[co + j + 2];
        s3 += points[po + j + 3] * cents[co + j + 3];
      }
      for (let j = c4; j < c; j++) s0 += points[po + j] * cents[co + j];
      out[oo + ci] = s0 + s1 + s2 + s3;
    }
  }
}
