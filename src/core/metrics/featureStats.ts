/**
 * Streaming feature statistics in float64: mean and covariance merged batch by batch (Chan et al.'s
 * pairwise update, so a large mean never cancels the variance), optionally keeping every feature
 * vector (KID needs them). No tfjs.
 */

export class FeatureStats {
  /** Feature vectors seen so far. */
  count = 0;
  private readonly mu: Float64Array;
  /** Upper triangle of Σ (x−μ)(x−μ)ᵀ, row-major d×d. */
  private readonly m2: Float64Array;
  private readonly kept: Float32Array[] = [];

  /** `captureAll` keeps the raw vectors (for KID); `maxItems` caps how many are taken. */
  constructor(readonly dim: number, readonly opts: { captureAll?: boolean; maxItems?: number } = {}) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`FeatureStats: bad dimension ${dim}`);
    this.mu = new Float64Array(dim);
    this.m2 = new Float64Array(dim * dim);
  }

  /** Items still wanted before maxItems is reached (Infinity without a cap). */
  get remaining(): number {
    return this.opts.maxItems === undefined ? Infinity : Math.max(0, this.opts.maxItems - this.count);
  }

  get isFull(): boolean {
    return this.remaining === 0;
  }

  /** Adds `features` [n, dim] (row-major); rows past maxItems are ignored. Non-finite values throw. */
  append(features: Float32Array | Float64Array, n = features.length / this.dim): void {
    const d = this.dim;
    if (!Number.isInteger(n) || features.length < n * d) throw new Error(`FeatureStats.append: ${features.length} values do not hold ${n}×${d}`);
    n = Math.min(n, this.remaining);
    if (n <= 0) return;
    for (let i = 0; i < n * d; i++) {
      if (!Number.isFinite(features[i])) throw new Error('FeatureStats.append: features contain NaN/Inf');
    }
    // Batch mean and centred scatter.
    const mb = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mb[j] += features[r * d + j];
    for (let j = 0; j < d; j++) mb[j] /= n;
    const row = new Float64Array(d);
    const m2 = this.m2;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < d; j++) row[j] = features[r * d + j] - mb[j];
      for (let i = 0; i < d; i++) {
        const ri = row[i];
        if (ri === 0) continue;
        const o = i * d;
        for (let j = i; j < d; j++) m2[o + j] += ri * row[j];
      }
    }
    // Merge with what came before: M2 += δδᵀ·na·nb/n.
    const na = this.count, nt = na + n;
    if (na > 0) {
      const delta = new Float64Array(d);
      for (let j = 0; j < d; j++) delta[j] = mb[j] - this.mu[j];
      const w = (na * n) / nt;
      for (let i = 0; i < d; i++) {
        const di = delta[i] * w;
        const o = i * d;
        for (let j = i; j < d; j++) m2[o + j] += di * delta[j];
      }
      for (let j = 0; j < d; j++) this.mu[j] += (delta[j] * n) / nt;
    } else {
      this.mu.set(mb);
    }
    this.count = nt;
    if (this.opts.captureAll) this.kept.push(Float32Array.from(features.subarray(0, n * d)));
  }

  /** Mean vector (a copy). */
  mean(): Float64Array {
    return Float64Array.from(this.mu);
  }

  /** Covariance, full symmetric d×d; `ddof` 1 (default, numpy's np.cov) or 0. */
  covariance(ddof: 0 | 1 = 1): Float64Array {
    const d = this.dim;
    const denom = this.count - ddof;
    if (denom <= 0) throw new Error(`FeatureStats: covariance of ${this.count} vector(s) is undefined`);
    const c = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) c[i * d + j] = c[j * d + i] = this.m2[i * d + j] / denom;
    }
    return c;
  }

  /** Every vector appended, [count, dim] (requires captureAll). */
  all(): Float32Array {
    if (!this.opts.captureAll) throw new Error('FeatureStats.all: created without captureAll');
    const out = new Float32Array(this.count * this.dim);
    let off = 0;
    for (const k of this.kept) { out.set(k, off); off += k.length; }
    return out;
  }
}
