/**
 * Fréchet distance between two Gaussians fitted to feature sets (Heusel et al., 2017):
 *   FID = |μ1−μ2|² + tr(Σ1) + tr(Σ2) − 2·tr(√(√Σ1·Σ2·√Σ1))
 * The matrix square root goes through symmetric eigendecompositions (see linalg.ts), never a
 * general sqrtm, so rounding cannot produce complex values on singular covariances.
 */
import type { FeatureStats } from './featureStats';
import { trace, traceSqrtProduct } from './linalg';

/** FID from means [d] and covariances [d×d] (row-major, symmetric). */
export function frechetDistance(mu1: Float64Array, cov1: Float64Array, mu2: Float64Array, cov2: Float64Array, method: 'auto' | 'jacobi' | 'ql' = 'auto'): number {
  const d = mu1.length;
  if (mu2.length !== d || cov1.length !== d * d || cov2.length !== d * d) {
    throw new Error(`frechetDistance: mismatched shapes (μ ${mu1.length}/${mu2.length}, Σ ${cov1.length}/${cov2.length})`);
  }
  let m = 0;
  for (let i = 0; i < d; i++) m += (mu1[i] - mu2[i]) ** 2;
  const fid = m + trace(cov1, d) + trace(cov2, d) - 2 * traceSqrtProduct(cov1, cov2, d, method);
  // The squared 2-Wasserstein distance is ≥ 0; a tiny negative value is rounding.
  return Math.max(fid, 0);
}

/** FID between two accumulated feature sets (covariance with ddof = 1, as np.cov). */
export function fidFromStats(a: FeatureStats, b: FeatureStats): number {
  if (a.dim !== b.dim) throw new Error(`fidFromStats: feature sizes differ (${a.dim} vs ${b.dim})`);
  return frechetDistance(a.mean(), a.covariance(1), b.mean(), b.covariance(1));
}
