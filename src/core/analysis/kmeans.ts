/**
 * K-means clustering of feature maps, as in the GGDR paper's segmentation pictures: every pixel's
 * C-dimensional feature vector is a point, and the whole batch is clustered at once so a cluster id
 * (and hence a colour) means the same thing in every image. tfjs-free: plain Float32Arrays in NHWC.
 *
 * The fit (kmeansFit.ts) is our own Lloyd iteration on flat Float32Arrays (greedy k-means++ seeding as
 * scikit-learn's, 10 restarts by default, the assignment step as dot products of a dotEngine.ts engine);
 * ml-kmeans, which it replaced (3–10× slower on number[][] with a generic distance callback), is what
 * the tests compare its objective against.
 */
import { UserError } from '../errors';
import { jsDotEngine, type DotEngineFactory } from './dotEngine';
import { countDistinct, lloydRestarts, meanVariance, samplePixels, type LloydResult } from './kmeansFit';

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

/** Throws a UserError naming `what` unless `b` is a finite [N,H,W,C] batch. */
export function validateBatch(b: FeatureBatch, what: string): void {
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
