/**
 * Kernel Inception Distance (Bińkowski et al., 2018) as StyleGAN2-ADA reports it: the unbiased
 * MMD² estimate with the cubic polynomial kernel k(x,y) = (x·y/d + 1)³, averaged over
 * `numSubsets` random subsets of m = min(nGen, nReal, maxSubsetSize) vectors from each set.
 * Float64 throughout; subsets come from a seeded generator, so a result is reproducible.
 */
import { Rng } from '../util/rng';

export interface KidOptions {
  numSubsets?: number;      // 100 in StyleGAN2-ADA
  maxSubsetSize?: number;   // 1000 in StyleGAN2-ADA
  seed?: number;            // subset selection seed (0 by default)
  /** Kernel entries (all three matrices) up to which kernels are computed once for all subsets. */
  precomputeLimit?: number;
}

/** Above this many kernel entries (all three matrices), kernels are computed per subset instead of once. */
export const MAX_PRECOMPUTED_ENTRIES = 13_000_000;

/** The index subsets KID uses: for each subset, m distinct generated and m distinct real indices. */
export function kidSubsets(nGen: number, nReal: number, opts: KidOptions = {}): { m: number; gen: Int32Array[]; real: Int32Array[] } {
  const numSubsets = opts.numSubsets ?? 100;
  const m = Math.min(nGen, nReal, opts.maxSubsetSize ?? 1000);
  if (!Number.isInteger(numSubsets) || numSubsets < 1) throw new Error(`KID: numSubsets must be a positive integer, got ${numSubsets}`);
  if (m < 2) throw new Error(`KID needs at least 2 generated and 2 real feature vectors (got ${nGen} and ${nReal})`);
  const rng = Rng.for('kid-subsets', opts.seed ?? 0);
  const pick = (n: number): Int32Array => {
    // Partial Fisher–Yates: the first m entries are a uniform m-subset without replacement.
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    for (let i = 0; i < m; i++) {
      const j = i + rng.int(n - i);
      const t = idx[i]; idx[i] = idx[j]; idx[j] = t;
    }
    return idx.slice(0, m);
  };
  const gen: Int32Array[] = [], real: Int32Array[] = [];
  for (let s = 0; s < numSubsets; s++) {
    gen.push(pick(nGen));
    real.push(pick(nReal));
  }
  return { m, gen, real };
}

/** k(x_i, y_j) for all rows of x [nx,d] and y [ny,d] → [nx,ny] float64 (4 rows of x per pass share each load of y). */
function kernelMatrix(x: ArrayLike<number>, nx: number, y: ArrayLike<number>, ny: number, d: number, symmetric: boolean): Float64Array {
  const out = new Float64Array(nx * ny);
  const yf = Float64Array.from({ length: ny * d }, (_, i) => y[i]);
  const xb = new Float64Array(4 * d);
  for (let i0 = 0; i0 < nx; i0 += 4) {
    const rows = Math.min(4, nx - i0);
    xb.fill(0);
    for (let r = 0; r < rows; r++) for (let k = 0; k < d; k++) xb[r * d + k] = x[(i0 + r) * d + k];
    for (let j = symmetric ? i0 : 0; j < ny; j++) {
      const o = j * d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < d; k++) {
        const yk = yf[o + k];
        s0 += xb[k] * yk;
        s1 += xb[d + k] * yk;
        s2 += xb[2 * d + k] * yk;
        s3 += xb[3 * d + k] * yk;
      }
      const sums = [s0, s1, s2, s3];
      for (let r = 0; r < rows; r++) {
        const i = i0 + r;
        if (symmetric && j < i) continue;
        const base = sums[r] / d + 1;
        const v = base * base * base;
        out[i * ny + j] = v;
        if (symmetric) out[j * ny + i] = v;
      }
    }
  }
  return out;
}

function gatherRows(src: ArrayLike<number>, idx: Int32Array, d: number): Float64Array {
  const out = new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) for (let k = 0; k < d; k++) out[r * d + k] = src[idx[r] * d + k];
  return out;
}

/** Sum of K[a_i, b_j] over all i, j (K is [n×n] or [n×n'] row-major with row stride `stride`). */
function sumOver(K: Float64Array, stride: number, a: Int32Array, b: Int32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const o = a[i] * stride;
    for (let j = 0; j < b.length; j++) s += K[o + b[j]];
  }
  return s;
}

/**
 * KID between generated features `gen` [nGen,d] and real features `real` [nReal,d] (row-major).
 * Deterministic for a given seed; `onProgress(done, total)` counts subsets.
 */
export function kernelInceptionDistance(
  gen: ArrayLike<number>, nGen: number, real: ArrayLike<number>, nReal: number, d: number,
  opts: KidOptions & { onProgress?: (done: number, total: number) => void } = {},
): number {
  if (gen.length < nGen * d || real.length < nReal * d) throw new Error('KID: feature arrays are shorter than n×d');
  const { m, gen: gs, real: rs } = kidSubsets(nGen, nReal, opts);
  const total = gs.length;
  const precompute = nGen * nGen + nReal * nReal + nGen * nReal <= (opts.precomputeLimit ?? MAX_PRECOMPUTED_ENTRIES);
  let Kgg: Float64Array | undefined, Krr: Float64Array | undefined, Kgr: Float64Array | undefined;
  if (precompute) {
    Kgg = kernelMatrix(gen, nGen, gen, nGen, d, true);
    Krr = kernelMatrix(real, nReal, real, nReal, d, true);
    Kgr = kernelMatrix(gen, nGen, real, nReal, d, false);
  }
  let t = 0;
  for (let s = 0; s < total; s++) {
    let sxx: number, syy: number, sxy: number, dx = 0, dy = 0;
    if (precompute) {
      // Sorted indices walk the matrices in memory order (same sums, far fewer cache misses).
      const g = gs[s].slice().sort(), r = rs[s].slice().sort();
      sxx = sumOver(Kgg!, nGen, g, g);
      syy = sumOver(Krr!, nReal, r, r);
      sxy = sumOver(Kgr!, nReal, g, r);
      for (const i of gs[s]) dx += Kgg![i * nGen + i];
      for (const i of rs[s]) dy += Krr![i * nReal + i];
    } else {
      const x = gatherRows(gen, gs[s], d), y = gatherRows(real, rs[s], d);
      const kxx = kernelMatrix(x, m, x, m, d, true), kyy = kernelMatrix(y, m, y, m, d, true), kxy = kernelMatrix(x, m, y, m, d, false);
      sxx = 0; syy = 0; sxy = 0;
      for (let i = 0; i < m * m; i++) { sxx += kxx[i]; syy += kyy[i]; sxy += kxy[i]; }
      for (let i = 0; i < m; i++) { dx += kxx[i * m + i]; dy += kyy[i * m + i]; }
    }
    // Unbiased MMD²·m: off-diagonal within-set means minus twice the cross mean.
    t += (sxx - dx + syy - dy) / (m - 1) - (2 * sxy) / m;
    opts.onProgress?.(s + 1, total);
  }
  return t / total / m;
}
