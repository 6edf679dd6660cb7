/**
 * K-means clustering of feature maps, as in the GGDR paper's segmentation pictures: every pixel's
 * C-dimensional feature vector is a point, and the whole batch is clustered at once so a cluster id
 * (and hence a colour) means the same thing in every image. tfjs-free: plain Float32Arrays in NHWC.
 *
 * The fit is our own Lloyd iteration on flat Float32Arrays (greedy k-means++ seeding as scikit-learn's,
 * 10 restarts by default, the assignment step as blocked dot products against transposed centroids);
 * ml-kmeans, which it replaced (3–10× slower on number[][] with a generic distance callback), is what
 * the tests compare its objective against.
 */
import { UserError } from '../errors';
import { mulberry32 } from '../util/rng';

/** A batch of feature maps, [N,H,W,C] row-major (NHWC). */
export interface FeatureBatch {
  data: Float32Array;
  n: number;
  h: number;
  w: number;
  c: number;
}

export type KMeansMetric = 'cosine' | 'euclidean';

/** Options for {@link clusterFeatures}. */
export interface KMeansOptions {
  /** Number of clusters (default 6). */
  k: number;
  /** 'cosine' (default) L2-normalises each pixel's feature vector; 'euclidean' uses raw vectors. */
  metric: KMeansMetric;
  /** Seed for pixel sampling and k-means++ initialisation (default 0). */
  seed: number;
  /** Fit on at most this many pixels (seeded sample without replacement), then assign all (default 20000). */
  maxPixels: number;
  /** Lloyd iterations cap (default 100). */
  maxIterations?: number;
  /**
   * Independent k-means++ runs (seeds seed, seed+1, …); the one with the lowest inertia on the fit
   * pixels wins (default 10, as scikit-learn's n_init). One run lands in a visibly worse local minimum
   * fairly often, and three still miss small clusters.
   */
  restarts?: number;
  /**
   * Convergence: stop when no centroid moves more than tolerance × mean per-channel variance of the
   * fit points (squared L2; 1−cos for 'cosine'), as scikit-learn's relative tol (default 1e-4).
   */
  tolerance?: number;
  /**
   * Where the point·centroid dot products (all of the fit's heavy work) are computed: plain JS by
   * default; the inference process passes the tfjs backend's matMul (src/core/analysis/kmeansTf.ts),
   * 10–30× faster on wide feature maps (256–512 channels of big official generators).
   */
  dotEngine?: DotEngineFactory;
}

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

/** Result of {@link clusterFeatures}; cluster ids are canonical (0 = largest share). */
export interface KMeansResult {
  /** Cluster id per pixel, [N,H,W]. */
  labels: Int32Array;
  /** [k,C]; unit length for 'cosine' (zero if the cluster's mean direction is zero). */
  centroids: Float32Array;
  k: number;
  /** Fraction of all N·H·W pixels per cluster, descending. */
  shares: number[];
  /** True when the fit used a subsample of the pixels. */
  sampled: boolean;
  /** Number of pixels the centroids were fitted on. */
  fitPixels: number;
  /** Lloyd iterations run by the winning fit. */
  iterations: number;
  /** Whether the fit converged before maxIterations. */
  converged: boolean;
  /** Sum over ALL pixels of the distance to their centroid: 1−cos for 'cosine', squared L2 for 'euclidean'. */
  inertia: number;
  metric: KMeansMetric;
}

const DEFAULTS: Required<Omit<KMeansOptions, 'dotEngine'>> = {
  k: 6,
  metric: 'cosine',
  seed: 0,
  maxPixels: 20000,
  maxIterations: 100,
  restarts: 10,
  tolerance: 1e-4,
};

/** Cluster every pixel of the batch jointly; deterministic for equal inputs and seed. */
export function clusterFeatures(batch: FeatureBatch, opts: Partial<KMeansOptions> = {}): KMeansResult {
  const o = resolveOptions(opts);
  validateBatch(batch, 'features');
  const { c } = batch;
  const total = batch.n * batch.h * batch.w;
  if (o.k > total) {
    throw new UserError(
      `K-means: k=${o.k} clusters but the feature maps have only ${total} pixels (${batch.n}×${batch.h}×${batch.w}).`,
      `Use k ≤ ${total}, or cluster a larger batch / higher resolution.`,
    );
  }

  // Pixels to fit on: all of them, or a seeded sample without replacement (sorted for locality).
  const sampled = total > o.maxPixels;
  const fitIdx = sampled ? samplePixels(total, o.maxPixels, o.seed) : null;
  const fitCount = fitIdx ? fitIdx.length : total;

  // Fit points as one flat row-major array; unit vectors for cosine.
  const points = new Float32Array(fitCount * c);
  for (let i = 0; i < fitCount; i++) {
    const p = fitIdx ? fitIdx[i] : i;
    points.set(batch.data.subarray(p * c, p * c + c), i * c);
  }
  if (o.metric === 'cosine') normaliseRows(points, fitCount, c);
  const distinct = countDistinct(points, fitCount, c, o.k);
  if (distinct < o.k) {
    throw new UserError(
      `K-means: only ${distinct} distinct ${o.metric === 'cosine' ? 'feature directions' : 'feature vectors'} ` +
        `among the ${fitCount}${sampled ? ' sampled' : ''} pixels, fewer than k=${o.k}.`,
      `Lower k to ${Math.max(1, distinct)} or less; the feature maps may be constant (e.g. an untrained or collapsed layer).`,
    );
  }

  // k-means++ uses squared L2; on unit vectors that is 2·(1−cos), so it matches the cosine objective.
  const tol = o.tolerance * meanVariance(points, fitCount, c);
  let best: LloydResult | undefined;
  const engineFactory = opts.dotEngine ?? jsDotEngine;
  const engine = engineFactory(points, fitCount, c);
  try {
    // All restarts in lockstep: every step's dot products of all runs are one (wider, faster) matMul.
    const seeds = Array.from({ length: o.restarts }, (_, r) => o.seed + r);
    for (const fit of lloydRestarts(points, engine, fitCount, c, o.k, o.metric, seeds, o.maxIterations, tol)) {
      if (!best || fit.inertia < best.inertia) best = fit;
    }
  } finally {
    engine.dispose();
  }
  const fit = best!;
  const rawCentroids = fit.centroids;

  // Assign ALL pixels to the fitted centroids (also when not sampled, so labels match the final centroids).
  const raw = assignInternal(batch, rawCentroids, o.k, o.metric, engineFactory);

  // Canonical relabelling: descending share, ties by fitted index, so colours are stable across runs.
  const counts = new Array<number>(o.k).fill(0);
  for (let i = 0; i < total; i++) counts[raw.labels[i]]++;
  const order = counts.map((_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  const remap = new Int32Array(o.k);
  order.forEach((oldId, newId) => (remap[oldId] = newId));
  const labels = new Int32Array(total);
  for (let i = 0; i < total; i++) labels[i] = remap[raw.labels[i]];
  const centroids = new Float32Array(o.k * c);
  order.forEach((oldId, newId) => centroids.set(rawCentroids.subarray(oldId * c, oldId * c + c), newId * c));

  return {
    labels,
    centroids,
    k: o.k,
    shares: order.map((oldId) => counts[oldId] / total),
    sampled,
    fitPixels: fitCount,
    iterations: fit.iterations,
    converged: fit.converged,
    inertia: raw.inertia,
    metric: o.metric,
  };
}

/**
 * Label every pixel of `batch` with its nearest centroid ([k,C], e.g. G's centroids applied to D's
 * decoder maps). Channels must match. Ties go to the lower index; returns [N,H,W] labels.
 */
export function assignToCentroids(
  batch: FeatureBatch,
  centroids: Float32Array,
  metric: KMeansMetric = 'cosine',
  dotEngine: DotEngineFactory = jsDotEngine,
): Int32Array {
  validateBatch(batch, 'features');
  checkMetric(metric);
  if (centroids.length === 0 || centroids.length % batch.c !== 0) {
    throw new UserError(
      `assignToCentroids: centroids have ${centroids.length} values, not a multiple of the feature maps' ${batch.c} channels.`,
      'Centroids from one layer can only be applied to feature maps with the same channel count.',
    );
  }
  for (let i = 0; i < centroids.length; i++) {
    if (!Number.isFinite(centroids[i])) throw new UserError(`assignToCentroids: centroid value ${i} is ${centroids[i]}.`);
  }
  const k = centroids.length / batch.c;
  let cents = centroids;
  if (metric === 'cosine') {
    cents = Float32Array.from(centroids);
    normaliseRows(cents, k, batch.c);
  }
  return assignInternal(batch, cents, k, metric, dotEngine).labels;
}

/** Fraction of labels per cluster id 0..k-1. */
export function clusterShares(labels: ArrayLike<number>, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!(l >= 0 && l < k && Number.isInteger(l))) throw new UserError(`clusterShares: label ${l} at ${i} is outside 0..${k - 1}.`);
    counts[l]++;
  }
  return counts.map((n) => (labels.length ? n / labels.length : 0));
}

/**
 * Mean over all N·H·W pixels of the cosine similarity between a's and b's C-vectors
 * (x·y / max(|x||y|, 1e-8), as torch's cosine_similarity). Shapes must match.
 */
export function meanCosineSimilarity(a: FeatureBatch, b: FeatureBatch): number {
  validateBatch(a, 'first feature batch');
  validateBatch(b, 'second feature batch');
  if (a.n !== b.n || a.h !== b.h || a.w !== b.w || a.c !== b.c) {
    throw new UserError(
      `meanCosineSimilarity: shapes differ, [${a.n},${a.h},${a.w},${a.c}] vs [${b.n},${b.h},${b.w},${b.c}] (NHWC).`,
      'Compare maps of the same layer/resolution and batch.',
    );
  }
  const { c } = a;
  const total = a.n * a.h * a.w;
  let sum = 0;
  for (let p = 0; p < total; p++) {
    const off = p * c;
    let d = 0;
    let aa = 0;
    let bb = 0;
    for (let j = 0; j < c; j++) {
      const x = a.data[off + j];
      const y = b.data[off + j];
      d += x * y;
      aa += x * x;
      bb += y * y;
    }
    sum += d / Math.max(Math.sqrt(aa * bb), 1e-8);
  }
  return sum / total;
}

/**
 * Adjusted Rand index of two labelings of the same items (1 = identical partitions up to renaming,
 * ~0 = chance). Labels may be any integers. Two trivial identical partitions give 1.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new UserError(`adjustedRandIndex: labelings have different lengths (${a.length} vs ${b.length}).`);
  }
  const n = a.length;
  if (n < 2) return 1;
  const ia = denseIds(a);
  const ib = denseIds(b);
  const ka = ia.count;
  const kb = ib.count;
  const table = new Float64Array(ka * kb);
  for (let i = 0; i < n; i++) table[ia.ids[i] * kb + ib.ids[i]]++;
  const rows = new Float64Array(ka);
  const cols = new Float64Array(kb);
  let sumCells = 0;
  for (let r = 0; r < ka; r++) {
    for (let s = 0; s < kb; s++) {
      const v = table[r * kb + s];
      rows[r] += v;
      cols[s] += v;
      sumCells += comb2(v);
    }
  }
  let sumRows = 0;
  let sumCols = 0;
  for (const v of rows) sumRows += comb2(v);
  for (const v of cols) sumCols += comb2(v);
  const expected = (sumRows * sumCols) / comb2(n);
  const max = (sumRows + sumCols) / 2;
  // max === expected only when both partitions are all-one-cluster or all-singletons (identical).
  if (max === expected) return 1;
  return (sumCells - expected) / (max - expected);
}

// ---------------------------------------------------------------------------------------------

function resolveOptions(opts: Partial<KMeansOptions>): Required<Omit<KMeansOptions, 'dotEngine'>> {
  const o: Required<Omit<KMeansOptions, 'dotEngine'>> = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    if (opts[key] !== undefined) (o as unknown as Record<string, unknown>)[key] = opts[key];
  }
  checkMetric(o.metric);
  if (!Number.isInteger(o.k) || o.k < 1) throw new UserError(`K-means: k must be a positive integer, got ${o.k}.`);
  if (!Number.isInteger(o.seed)) throw new UserError(`K-means: seed must be an integer, got ${o.seed}.`);
  if (!Number.isInteger(o.maxPixels) || o.maxPixels < o.k) {
    throw new UserError(`K-means: maxPixels must be an integer ≥ k (${o.k}), got ${o.maxPixels}.`);
  }
  if (!(o.tolerance >= 0 && Number.isFinite(o.tolerance))) {
    throw new UserError(`K-means: tolerance must be a finite number ≥ 0, got ${o.tolerance}.`);
  }
  if (!Number.isInteger(o.restarts) || o.restarts < 1) {
    throw new UserError(`K-means: restarts must be a positive integer, got ${o.restarts}.`);
  }
  if (!Number.isInteger(o.maxIterations) || o.maxIterations < 1) {
    throw new UserError(`K-means: maxIterations must be a positive integer, got ${o.maxIterations}.`);
  }
  return o;
}

function checkMetric(metric: string): void {
  if (metric !== 'cosine' && metric !== 'euclidean') {
    throw new UserError(`K-means: unknown metric '${metric}'.`, "Use 'cosine' or 'euclidean'.");
  }
}

function validateBatch(b: FeatureBatch, what: string): void {
  for (const dim of ['n', 'h', 'w', 'c'] as const) {
    if (!Number.isInteger(b[dim]) || b[dim] < 1) {
      throw new UserError(`K-means: ${what} has invalid ${dim}=${b[dim]}; expected a positive integer (shape [N,H,W,C]).`);
    }
  }
  const expected = b.n * b.h * b.w * b.c;
  if (!(b.data instanceof Float32Array) || b.data.length !== expected) {
    throw new UserError(
      `K-means: ${what} data has ${b.data?.length ?? 'no'} values but shape [${b.n},${b.h},${b.w},${b.c}] needs ${expected}.`,
      'Pass an NHWC Float32Array matching n, h, w, c.',
    );
  }
  for (let i = 0; i < expected; i++) {
    if (!Number.isFinite(b.data[i])) {
      const ch = i % b.c;
      const p = (i - ch) / b.c;
      const x = p % b.w;
      const y = ((p - x) / b.w) % b.h;
      const img = Math.floor(p / (b.w * b.h));
      throw new UserError(
        `K-means: ${what} contain ${b.data[i]} at image ${img}, y=${y}, x=${x}, channel ${ch}.`,
        'The model produced non-finite activations (diverged training or a corrupt checkpoint); segmentation needs finite features.',
      );
    }
  }
}

function normaliseRows(m: Float32Array, rows: number, c: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += m[r * c + j] ** 2;
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < c; j++) m[r * c + j] *= inv;
    }
  }
}

/** Nearest-centroid labels [N,H,W] and inertia; for 'cosine', `cents` must already be unit rows. */
function assignInternal(
  batch: FeatureBatch,
  cents: Float32Array,
  k: number,
  metric: KMeansMetric,
  engineFactory: DotEngineFactory,
): { labels: Int32Array; inertia: number } {
  const { c, data } = batch;
  const total = batch.n * batch.h * batch.w;
  const labels = new Int32Array(total);
  const norms2 = new Float64Array(k);
  for (let ci = 0; ci < k; ci++) for (let j = 0; j < c; j++) norms2[ci] += cents[ci * c + j] ** 2;
  const engine = engineFactory(data, total, c);
  let scores: ArrayLike<number>;
  try {
    scores = engine.scores(Float32Array.from(cents), k);
  } finally {
    engine.dispose();
  }
  let inertia = 0;
  for (let p = 0; p < total; p++) {
    const off = p * c;
    let xx = 0;
    for (let j = 0; j < c; j++) xx += data[off + j] * data[off + j];
    let best = 0;
    let bestDist = Infinity;
    for (let ci = 0; ci < k; ci++) {
      const d = scores[p * k + ci];
      // cosine: 1 − x·ĉ/|x| (ĉ unit); euclidean: |x|² − 2x·c + |c|² (clamped against rounding).
      const dist = metric === 'cosine' ? (xx > 0 ? 1 - d / Math.sqrt(xx) : 1) : Math.max(0, xx - 2 * d + norms2[ci]);
      if (dist < bestDist) {
        bestDist = dist;
        best = ci;
      }
    }
    labels[p] = best;
    inertia += bestDist;
  }
  return { labels, inertia };
}

/** Seeded sample of `count` distinct indices in [0,total), ascending (partial Fisher–Yates, mulberry32). */
function samplePixels(total: number, count: number, seed: number): Int32Array {
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
function countDistinct(points: Float32Array, n: number, c: number, limit: number): number {
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
function meanVariance(points: Float32Array, n: number, c: number): number {
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

interface LloydResult {
  /** [k,C]; unit rows for 'cosine'. */
  centroids: Float32Array;
  iterations: number;
  converged: boolean;
  /** Sum over the fit points of the distance to their centroid (1−cos, or squared L2). */
  inertia: number;
}

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

/**
 * Seeded k-means runs, one per seed, computed in lockstep: greedy k-means++ seeding (2 + ⌊ln k⌋
 * candidates per step, as scikit-learn), then Lloyd to convergence. Each run has its own random
 * stream, so a run's result does not depend on the others; batching only widens the matMuls.
 */
function lloydRestarts(
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

function denseIds(labels: ArrayLike<number>): { ids: Int32Array; count: number } {
  const map = new Map<number, number>();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let id = map.get(labels[i]);
    if (id === undefined) {
      id = map.size;
      map.set(labels[i], id);
    }
    ids[i] = id;
  }
  return { ids, count: map.size };
}

function comb2(x: number): number {
  return (x * (x - 1)) / 2;
}
