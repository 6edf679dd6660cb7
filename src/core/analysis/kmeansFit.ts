/**
 * The K-means fit on flat Float32Arrays: the seeded pixel sample, the degenerate-input checks, and
 * seeded runs of greedy k-means++ seeding followed by Lloyd iterations, all restarts in lockstep.
 */
import { mulberry32 } from '../util/rng';
import type { DotEngine } from './dotEngine';
import type { KMeansMetric } from './kmeans';

/** Seeded sample of `count` distinct indices in [0,total), ascending (partial Fisher–Yates, mulberry32). */
export function samplePixels(total: number, count: number, seed: number): Int32Array {
  const rand = mulberry32((seed ^ 0x9e3779b9) >>> 0);
  const idx = new Int32Array(total);
  for (let i = 0; i < total; i++) idx[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (total - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, count).sort();
}

/**
 * Number of distinct rows up to `limit` (early exit). Rows count as equal when their squared distance
 * is ≤ 1e-10 of their squared norm, so float rounding (e.g. of normalised parallel vectors) is ignored.
 */
export function countDistinct(points: Float32Array, n: number, c: number, limit: number): number {
  const reps: number[] = [];
  for (let i = 0; i < n && reps.length < limit; i++) {
    const p = i * c;
    let pp = 0;
    for (let j = 0; j < c; j++) pp += points[p + j] * points[p + j];
    const isNew = reps.every((q) => {
      let d = 0;
      let qq = 0;
      for (let j = 0; j < c; j++) {
        d += (points[p + j] - points[q + j]) ** 2;
        qq += points[q + j] * points[q + j];
      }
      return d > 1e-10 * Math.max(pp, qq) && d > 0;
    });
    if (isNew) reps.push(p);
  }
  return reps.length;
}

/** Mean over channels of the per-channel variance of the points. */
export function meanVariance(points: Float32Array, n: number, c: number): number {
  const mean = new Float64Array(c);
  const sq = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const x = points[i * c + j];
      mean[j] += x;
      sq[j] += x * x;
    }
  }
  let v = 0;
  for (let j = 0; j < c; j++) {
    const m = mean[j] / n;
    v += Math.max(0, sq[j] / n - m * m);
  }
  return v / c;
}

export interface LloydResult {
  /** [k,C]; unit rows for 'cosine'. */
  centroids: Float32Array;
  iterations: number;
  converged: boolean;
  /** Sum over the fit points of the distance to their centroid (1−cos, or squared L2). */
  inertia: number;
}

/**
 * Seeded k-means runs, one per seed, computed in lockstep: greedy k-means++ seeding (2 + ⌊ln k⌋
 * candidates per step, as scikit-learn), then Lloyd to convergence. Each run has its own random
 * stream, so a run's result does not depend on the others; batching only widens the matMuls.
 */
export function lloydRestarts(
  points: Float32Array, engine: DotEngine, n: number, c: number, k: number, metric: KMeansMetric, seeds: number[], maxIter: number, tol: number,
): LloydResult[] {
  const R = seeds.length;
  const rands = seeds.map((seed) => mulberry32((seed * 2654435761) >>> 0));
  const xx = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += points[p * c + j] ** 2;
    xx[p] = s;
  }
  /** Squared distances of every point to the points `ids` (one engine call): out[p·m + t] = |x_p − x_ids[t]|². */
  const sqDistTo = (ids: number[]): Float64Array => {
    const m = ids.length;
    const q = new Float32Array(m * c);
    ids.forEach((id, t) => q.set(points.subarray(id * c, id * c + c), t * c));
    const sc = engine.scores(q, m);
    const out = new Float64Array(n * m);
    for (let p = 0; p < n; p++) for (let t = 0; t < m; t++) out[p * m + t] = Math.max(0, xx[p] + xx[ids[t]] - 2 * sc[p * m + t]);
    return out;
  };
  // --- k-means++ (greedy), all runs at once ---
  const centers: number[][] = rands.map((rand) => [Math.floor(rand() * n)]);
  const closest: Float64Array[] = Array.from({ length: R }, () => new Float64Array(n));
  {
    const d = sqDistTo(centers.map((cs) => cs[0]));
    for (let a = 0; a < R; a++) for (let p = 0; p < n; p++) closest[a][p] = d[p * R + a];
  }
  const trials = 2 + Math.floor(Math.log(k));
  for (let ci = 1; ci < k; ci++) {
    // Candidates sampled ∝ D² (all-zero potential, i.e. duplicates: uniform); per run, the one lowering the potential most wins.
    const cands: number[] = [];
    for (let a = 0; a < R; a++) {
      const cl = closest[a], rand = rands[a];
      let pot = 0;
      for (let p = 0; p < n; p++) pot += cl[p];
      for (let t = 0; t < trials; t++) {
        let q = n - 1;
        if (pot > 0) {
          let r = rand() * pot;
          for (let p = 0; p < n; p++) {
            r -= cl[p];
            if (r <= 0) { q = p; break; }
          }
        } else q = Math.floor(rand() * n);
        cands.push(q);
      }
    }
    const m = cands.length;
    const d = sqDistTo(cands);
    for (let a = 0; a < R; a++) {
      const cl = closest[a];
      let bestPot = Infinity, bestT = 0;
      for (let t = 0; t < trials; t++) {
        const col = a * trials + t;
        let newPot = 0;
        for (let p = 0; p < n; p++) newPot += Math.min(cl[p], d[p * m + col]);
        if (newPot < bestPot) { bestPot = newPot; bestT = t; }
      }
      const col = a * trials + bestT;
      centers[a].push(cands[col]);
      for (let p = 0; p < n; p++) cl[p] = Math.min(cl[p], d[p * m + col]);
    }
  }
  // --- Lloyd, all unconverged runs per step ---
  const runs = centers.map((cs) => {
    const cents = new Float64Array(k * c);
    cs.forEach((p, ci) => { for (let j = 0; j < c; j++) cents[ci * c + j] = points[p * c + j]; });
    return { cents, labels: new Int32Array(n), dist: new Float64Array(n), iterations: 0, converged: false, inertia: Infinity };
  });
  const assign = (active: number[]) => {
    const m = active.length * k;
    const q = new Float32Array(m * c);
    const cc = new Float64Array(m);
    active.forEach((a, i) => {
      const cents = runs[a].cents;
      for (let t = 0; t < k * c; t++) q[i * k * c + t] = cents[t];
      for (let ci = 0; ci < k; ci++) {
        let s = 0;
        for (let j = 0; j < c; j++) s += cents[ci * c + j] ** 2;
        cc[i * k + ci] = s;
      }
    });
    const sc = engine.scores(q, m);
    active.forEach((a, i) => {
      const r = runs[a];
      let inertia = 0;
      for (let p = 0; p < n; p++) {
        let best = 0, bestDist = Infinity;
        const o = p * m + i * k;
        for (let ci = 0; ci < k; ci++) {
          const dd = metric === 'cosine' ? 1 - sc[o + ci] : Math.max(0, xx[p] - 2 * sc[o + ci] + cc[i * k + ci]);
          if (dd < bestDist) { bestDist = dd; best = ci; }
        }
        r.labels[p] = best;
        r.dist[p] = bestDist;
        inertia += bestDist;
      }
      r.inertia = inertia;
    });
  };
  let active = runs.map((_, a) => a);
  for (let it = 0; it < maxIter && active.length; it++) {
    assign(active);
    // Update: means (normalised for cosine: spherical k-means); an empty cluster takes the farthest point.
    const A = active.length;
    const allLabels = new Int32Array(A * n);
    active.forEach((a, i) => allLabels.set(runs[a].labels, i * n));
    const sums = new Float64Array(A * k * c);
    engine.sums(allLabels, A, k, sums);
    const stillActive: number[] = [];
    active.forEach((a, i) => {
      const r = runs[a];
      r.iterations = it + 1;
      const counts = new Int32Array(k);
      for (let p = 0; p < n; p++) counts[r.labels[p]]++;
      let shift = 0;
      for (let ci = 0; ci < k; ci++) {
        const so = (i * k + ci) * c, co = ci * c;
        if (counts[ci] === 0) {
          let far = 0;
          for (let p = 1; p < n; p++) if (r.dist[p] > r.dist[far]) far = p;
          r.dist[far] = 0;
          for (let j = 0; j < c; j++) sums[so + j] = points[far * c + j];
          counts[ci] = 1;
        }
        let norm = 0;
        for (let j = 0; j < c; j++) {
          sums[so + j] /= counts[ci];
          norm += sums[so + j] ** 2;
        }
        if (metric === 'cosine' && norm > 0) {
          const inv = 1 / Math.sqrt(norm);
          for (let j = 0; j < c; j++) sums[so + j] *= inv;
        }
        let d = 0;
        for (let j = 0; j < c; j++) d += (sums[so + j] - r.cents[co + j]) ** 2;
        // Shift in the objective's units: squared L2, or 1−cos = ½|Δ|² between unit vectors.
        shift = Math.max(shift, metric === 'cosine' ? d / 2 : d);
        for (let j = 0; j < c; j++) r.cents[co + j] = sums[so + j];
      }
      if (shift <= tol) r.converged = true;
      else stillActive.push(a);
    });
    // Converged runs get their final assignment (labels and inertia of the final centroids).
    const finished = active.filter((a) => runs[a].converged);
    if (finished.length) assign(finished);
    active = stillActive;
  }
  return runs.map((r) => ({ centroids: Float32Array.from(r.cents), iterations: r.iterations, converged: r.converged, inertia: r.inertia }));
}
