/**
 * Dense float64 linear algebra for the metrics: symmetric eigendecomposition (cyclic Jacobi for
 * small matrices, Householder tridiagonalisation + implicit QL for large ones) and the trace of
 * the matrix square root that the Fréchet distance needs. Matrices are row-major Float64Arrays.
 * No tfjs: results do not depend on the compute backend.
 */

/** Eigen-decomposition of a symmetric matrix: A = V·diag(values)·Vᵀ. */
export interface SymEig {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Row-major n×n; column k is the unit eigenvector of values[k]. */
  vectors: Float64Array;
}

/** Largest size solved with Jacobi (accurate on tiny eigenvalues, but ~4× slower than QL: 0.25 s at 128, 6 s at 512). */
export const JACOBI_MAX_N = 256;

/** Symmetric eigendecomposition; only the upper triangle of `a` is trusted (it is symmetrised). */
export function symmetricEigen(a: Float64Array, n: number, method: 'auto' | 'jacobi' | 'ql' = 'auto'): SymEig {
  if (a.length !== n * n) throw new Error(`symmetricEigen: ${a.length} values for a ${n}×${n} matrix`);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new Error('symmetricEigen: matrix has NaN/Inf entries');
  const useJacobi = method === 'jacobi' || (method === 'auto' && n <= JACOBI_MAX_N);
  return sortEig(useJacobi ? jacobiEigen(a, n) : tridiagonalQlEigen(a, n), n);
}

/** Cyclic Jacobi rotations until the off-diagonal mass is negligible. */
function jacobiEigen(src: Float64Array, n: number): SymEig {
  const a = new Float64Array(n * n); // full symmetric copy, kept symmetric by every rotation
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = src[i * n + j];
  }
  const vt = new Float64Array(n * n); // Vᵀ: row k is eigenvector k (contiguous updates)
  for (let i = 0; i < n; i++) vt[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i] * a[i];
  if (total === 0) return { values: new Float64Array(n), vectors: vt };
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < n - 1; p++) {
      const rp = p * n;
      for (let q = p + 1; q < n; q++) {
        const rq = q * n;
        const apq = a[rp + q];
        if (apq === 0) continue;
        const app = a[rp + p], aqq = a[rq + q];
        // Below rounding of both diagonal entries: drop it (after the first sweeps).
        if (sweep > 3 && Math.abs(apq) * 1e17 < Math.abs(app) && Math.abs(apq) * 1e17 < Math.abs(aqq)) {
          a[rp + q] = a[rq + p] = 0;
          continue;
        }
        // Rotation J with c on the diagonal, s at (p,q), −s at (q,p), chosen so (JᵀAJ)_pq = 0.
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          if (k === p || k === q) continue;
          const x = a[rp + k], y = a[rq + k];
          const xn = c * x - s * y, yn = s * x + c * y;
          a[rp + k] = a[k * n + p] = xn;
          a[rq + k] = a[k * n + q] = yn;
        }
        a[rp + p] = app - t * apq;
        a[rq + q] = aqq + t * apq;
        a[rp + q] = a[rq + p] = 0;
        for (let k = 0; k < n; k++) {
          const x = vt[rp + k], y = vt[rq + k];
          vt[rp + k] = c * x - s * y;
          vt[rq + k] = s * x + c * y;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) vectors[k * n + i] = vt[i * n + k];
  return { values, vectors };
}

/**
 * Householder reduction to tridiagonal form followed by the implicit-shift QL algorithm
 * (the EISPACK tred2/tql2 pair). The transform is kept column-major (w[j*n+k] = V[k][j]) so the
 * inner loops run over contiguous memory.
 */
function tridiagonalQlEigen(src: Float64Array, n: number): SymEig {
  const w = new Float64Array(n * n); // column-major V, starts as A (symmetric: same either way)
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) w[i * n + j] = w[j * n + i] = src[i * n + j];
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const V = (row: number, col: number) => col * n + row;

  // --- tred2
  for (let j = 0; j < n; j++) d[j] = w[V(n - 1, j)];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[V(i - 1, j)];
        w[V(i, j)] = 0;
        w[V(j, i)] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        w[V(j, i)] = f;
        g = e[j] + w[V(j, j)] * f;
        const cj = j * n;
        for (let k = j + 1; k <= i - 1; k++) {
          g += w[cj + k] * d[k];
          e[k] += w[cj + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const cj = j * n;
        for (let k = j; k <= i - 1; k++) w[cj + k] -= f * e[k] + g * d[k];
        d[j] = w[V(i - 1, j)];
        w[V(i, j)] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    w[V(n - 1, i)] = w[V(i, i)];
    w[V(i, i)] = 1;
    const h = d[i + 1];
    const ci1 = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[ci1 + k] / h;
      for (let j = 0; j <= i; j++) {
        const cj = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[ci1 + k] * w[cj + k];
        for (let k = 0; k <= i; k++) w[cj + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) w[ci1 + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[V(n - 1, j)];
    w[V(n - 1, j)] = 0;
  }
  w[V(n - 1, n - 1)] = 1;
  e[0] = 0;

  // --- tql2
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 200) throw new Error('symmetricEigen: QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const ci = i * n, ci1 = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const t = w[ci1 + k];
            w[ci1 + k] = s * w[ci + k] + c * t;
            w[ci + k] = c * w[ci + k] - s * t;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // Column-major → row-major.
  const vectors = new Float64Array(n * n);
  for (let col = 0; col < n; col++) for (let row = 0; row < n; row++) vectors[row * n + col] = w[col * n + row];
  return { values: d, vectors };
}

function sortEig(eig: SymEig, n: number): SymEig {
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => eig.values[x] - eig.values[y]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = eig.values[from];
    for (let r = 0; r < n; r++) vectors[r * n + to] = eig.vectors[r * n + from];
  });
  return { values, vectors };
}

/** C = A·B for row-major A [m×k], B [k×n]. */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
    }
  }
  return c;
}

/** Aᵀ·B for row-major A [k×m], B [k×n]. */
export function matmulTransA(a: Float64Array, b: Float64Array, k: number, m: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let p = 0; p < k; p++) {
    const ap = p * m, bp = p * n;
    for (let i = 0; i < m; i++) {
      const api = a[ap + i];
      if (api === 0) continue;
      const ci = i * n;
      for (let j = 0; j < n; j++) c[ci + j] += api * b[bp + j];
    }
  }
  return c;
}

export function trace(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i];
  return t;
}

/**
 * tr(√(√A·B·√A)) for symmetric positive semi-definite A, B (n×n). With A = VΛVᵀ,
 * √A·B·√A = V·(√Λ·VᵀBV·√Λ)·Vᵀ, so its eigenvalues are those of the symmetric C = √Λ·(VᵀBV)·√Λ.
 * Eigenvalues below zero (rounding on singular covariances) are clamped to 0.
 */
export function traceSqrtProduct(a: Float64Array, b: Float64Array, n: number, method: 'auto' | 'jacobi' | 'ql' = 'auto'): number {
  const { values, vectors: v } = symmetricEigen(a, n, method);
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) sq[i] = Math.sqrt(Math.max(values[i], 0));
  const bv = matmul(b, v, n, n, n);
  const c = matmulTransA(v, bv, n, n, n); // VᵀBV
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const x = 0.5 * (c[i * n + j] + c[j * n + i]) * sq[i] * sq[j];
      c[i * n + j] = c[j * n + i] = x;
    }
  }
  const { values: mu } = symmetricEigen(c, n, method);
  let t = 0;
  for (let i = 0; i < n; i++) t += Math.sqrt(Math.max(mu[i], 0));
  return t;
}
