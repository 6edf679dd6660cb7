/**
 * FID/KID maths: eigensolvers, streaming statistics, and a cross-check of FID and KID against an
 * independent numpy/scipy computation (scipy.linalg.sqrtm) run by the system Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { symmetricEigen, traceSqrtProduct, matmul } from '../../../src/core/metrics/linalg';
import { FeatureStats } from '../../../src/core/metrics/featureStats';
import { fidFromStats, frechetDistance } from '../../../src/core/metrics/fid';
import { kernelInceptionDistance, kidSubsets } from '../../../src/core/metrics/kid';
import { Rng } from '../../../src/core/util/rng';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'fid_reference.py');

function randomSym(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  return a;
}

/** n samples of a correlated Gaussian in d dims: z·A + shift, A random [k×d] (rank k). */
function gaussianFeatures(n: number, d: number, k: number, seed: number, shift: number, scale = 1, sampleSeed = seed): Float32Array {
  const dist = new Rng(seed);
  const A = dist.normalArray(k * d, scale / Math.sqrt(k));
  const mu = dist.normalArray(d, shift);
  const rng = sampleSeed === seed ? dist : new Rng(sampleSeed);
  const out = new Float32Array(n * d);
  const z = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < k; i++) z[i] = rng.normal();
    for (let j = 0; j < d; j++) {
      let s = mu[j];
      for (let i = 0; i < k; i++) s += z[i] * A[i * d + j];
      out[r * d + j] = s;
    }
  }
  return out;
}

function statsOf(x: Float32Array, d: number, batch = 97): FeatureStats {
  const s = new FeatureStats(d);
  for (let off = 0; off < x.length; off += batch * d) s.append(x.subarray(off, Math.min(x.length, off + batch * d)));
  return s;
}

function checkEig(a: Float64Array, n: number, method: 'jacobi' | 'ql'): Float64Array {
  const { values, vectors: v } = symmetricEigen(a, n, method);
  // Reconstruction A = V Λ Vᵀ and orthogonality VᵀV = I.
  const vl = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) vl[i * n + k] = v[i * n + k] * values[k];
  let scale = 0;
  for (const x of a) scale = Math.max(scale, Math.abs(x));
  let errA = 0, errI = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, o = 0;
      for (let k = 0; k < n; k++) { s += vl[i * n + k] * v[j * n + k]; o += v[k * n + i] * v[k * n + j]; }
      errA = Math.max(errA, Math.abs(s - a[i * n + j]));
      errI = Math.max(errI, Math.abs(o - (i === j ? 1 : 0)));
    }
  }
  assert.ok(errA < 1e-10 * scale * n, `${method} n=${n}: |VΛVᵀ − A| = ${errA}`);
  assert.ok(errI < 1e-10 * n, `${method} n=${n}: |VᵀV − I| = ${errI}`);
  for (let i = 1; i < n; i++) assert.ok(values[i] >= values[i - 1], 'eigenvalues ascending');
  return values;
}

test('Jacobi and tridiagonal-QL eigensolvers decompose symmetric matrices and agree', () => {
  const rng = new Rng(11);
  for (const n of [1, 2, 7, 40]) {
    const a = randomSym(n, rng);
    const vj = checkEig(a, n, 'jacobi');
    const vq = checkEig(a, n, 'ql');
    for (let i = 0; i < n; i++) assert.ok(Math.abs(vj[i] - vq[i]) < 1e-10 * (1 + Math.abs(vj[i])), `eigenvalue ${i}: ${vj[i]} vs ${vq[i]}`);
  }
  // Degenerate spectrum (identity + rank-1) and the zero matrix.
  const n = 12;
  const u = rng.normalArray(n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (i === j ? 2 : 0) + u[i] * u[j];
  for (const m of ['jacobi', 'ql'] as const) {
    const v = checkEig(a, n, m);
    for (let i = 0; i < n - 1; i++) assert.ok(Math.abs(v[i] - 2) < 1e-12);
    assert.deepEqual([...symmetricEigen(new Float64Array(9), 3, m).values], [0, 0, 0]);
  }
  assert.throws(() => symmetricEigen(new Float64Array([1, NaN, NaN, 1]), 2), /NaN/);
});

test('tr(√(√A·B·√A)) matches a known closed form', () => {
  // For commuting diagonal A, B the trace is Σ √(a_i b_i).
  const n = 5;
  const a = new Float64Array(n * n), b = new Float64Array(n * n);
  const ad = [1, 4, 0, 9, 2], bd = [16, 1, 3, 4, 8];
  for (let i = 0; i < n; i++) { a[i * n + i] = ad[i]; b[i * n + i] = bd[i]; }
  const want = ad.reduce((s, x, i) => s + Math.sqrt(x * bd[i]), 0);
  for (const m of ['jacobi', 'ql'] as const) assert.ok(Math.abs(traceSqrtProduct(a, b, n, m) - want) < 1e-12);
  // Rotated (non-commuting) SPD matrices: tr√(√A B √A) = tr√(B^{1/2} A B^{1/2}) (symmetric in A, B).
  const rng = new Rng(3);
  const x = randomSym(8, rng), y = randomSym(8, rng);
  const A = matmul(x, x, 8, 8, 8), B = matmul(y, y, 8, 8, 8); // x², y² are PSD
  const t1 = traceSqrtProduct(A, B, 8), t2 = traceSqrtProduct(B, A, 8);
  assert.ok(Math.abs(t1 - t2) < 1e-9 * t1, `${t1} vs ${t2}`);
});

test('streaming statistics equal a two-pass computation, even far from the origin', () => {
  const d = 6, n = 500;
  const x = gaussianFeatures(n, d, 6, 5, 0);
  for (let i = 0; i < x.length; i++) x[i] += 1e4; // large mean: naive Σx² − n·μ² would lose digits
  const s = statsOf(x, d, 37);
  assert.equal(s.count, n);
  const mu = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mu[j] += x[r * d + j] / n;
  const cov = new Float64Array(d * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] += (x[r * d + i] - mu[i]) * (x[r * d + j] - mu[j]) / (n - 1);
  const gm = s.mean(), gc = s.covariance();
  for (let j = 0; j < d; j++) assert.ok(Math.abs(gm[j] - mu[j]) < 1e-9 * 1e4);
  for (let i = 0; i < d * d; i++) assert.ok(Math.abs(gc[i] - cov[i]) < 1e-8, `cov[${i}] ${gc[i]} vs ${cov[i]}`);
  // maxItems caps what is taken; captureAll returns exactly the vectors appended.
  const capped = new FeatureStats(d, { maxItems: 120, captureAll: true });
  capped.append(x.subarray(0, 100 * d));
  capped.append(x.subarray(100 * d, 200 * d));
  assert.equal(capped.count, 120);
  assert.ok(capped.isFull);
  assert.deepEqual(capped.all(), x.slice(0, 120 * d));
  assert.throws(() => new FeatureStats(2).append(new Float32Array([1, NaN])), /NaN/);
});

test('FID of identical feature sets is ≈ 0, also for singular covariances', () => {
  for (const [d, k] of [[64, 64], [64, 10], [300, 40]] as const) {
    const x = gaussianFeatures(d === 300 ? 200 : 800, d, k, 21, 1);
    const s = statsOf(x, d);
    const mu = s.mean(), cov = s.covariance();
    let trCov = 0;
    for (let i = 0; i < d; i++) trCov += cov[i * d + i];
    for (const method of ['jacobi', 'ql'] as const) {
      const fid = frechetDistance(mu, cov, mu, cov, method);
      assert.ok(Number.isFinite(fid) && fid >= 0, `FID ${fid}`);
      assert.ok(fid < 1e-6 * trCov, `d=${d} rank=${k} ${method}: FID(x,x) = ${fid} (tr Σ = ${trCov})`);
    }
    assert.ok(fidFromStats(s, s) < 1e-6 * trCov);
  }
});

test('KID subsets are seeded, distinct and in range', () => {
  const a = kidSubsets(50, 30, { numSubsets: 4, maxSubsetSize: 20, seed: 1 });
  const b = kidSubsets(50, 30, { numSubsets: 4, maxSubsetSize: 20, seed: 1 });
  const c = kidSubsets(50, 30, { numSubsets: 4, maxSubsetSize: 20, seed: 2 });
  assert.equal(a.m, 20);
  assert.deepEqual(a.gen, b.gen);
  assert.notDeepEqual(a.gen, c.gen);
  for (const s of [...a.gen, ...a.real]) assert.equal(new Set(s).size, 20);
  for (const s of a.real) for (const i of s) assert.ok(i >= 0 && i < 30);
  assert.throws(() => kidSubsets(1, 10), /at least 2/);
});

test('FID and KID match numpy/scipy (sqrtm) to 1e-3 relative', (t) => {
  const probe = spawnSync(PYTHON, ['-c', 'import numpy, scipy.linalg'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    assert.fail(`The FID/KID cross-check needs numpy and scipy for ${PYTHON} ` +
      `(${probe.error ? probe.error.message : probe.stderr.trim().split('\n').pop()}). ` +
      'Install them with: apt-get install -y python3-numpy python3-scipy');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fid-ref-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  type Case = { name: string; d: number; gen: Float32Array; real: Float32Array; kid?: { numSubsets: number; maxSubsetSize: number; seed: number; precomputeLimit?: number } };
  const cases: Case[] = [
    // Jacobi path; KID over real subsets (m < n).
    { name: 'd64', d: 64, gen: gaussianFeatures(600, 64, 64, 1, 0.5), real: gaussianFeatures(700, 64, 64, 2, 0.5, 1.3), kid: { numSubsets: 20, maxSubsetSize: 300, seed: 7 } },
    // Same data, KID kernels computed per subset instead of once.
    { name: 'd64-persubset', d: 64, gen: gaussianFeatures(600, 64, 64, 1, 0.5), real: gaussianFeatures(700, 64, 64, 2, 0.5, 1.3), kid: { numSubsets: 5, maxSubsetSize: 300, seed: 7, precomputeLimit: 0 } },
    // Close distributions (small FID), ReLU-like non-negative features.
    { name: 'close', d: 32, gen: gaussianFeatures(900, 32, 32, 3, 2).map(Math.abs), real: gaussianFeatures(900, 32, 32, 3, 2, 1.1, 99).map(Math.abs), kid: { numSubsets: 10, maxSubsetSize: 1000, seed: 0 } },
    // Tridiagonal-QL path (d > JACOBI_MAX_N = 256).
    { name: 'd520', d: 520, gen: gaussianFeatures(1100, 520, 520, 4, 0.2), real: gaussianFeatures(1100, 520, 520, 5, 0.2, 0.8) },
  ];
  const meta = cases.map((c) => {
    fs.writeFileSync(path.join(dir, `${c.name}-gen.f32`), Buffer.from(c.gen.buffer, c.gen.byteOffset, c.gen.byteLength));
    fs.writeFileSync(path.join(dir, `${c.name}-real.f32`), Buffer.from(c.real.buffer, c.real.byteOffset, c.real.byteLength));
    const m: Record<string, unknown> = { name: c.name, d: c.d, gen: `${c.name}-gen.f32`, real: `${c.name}-real.f32` };
    if (c.kid) {
      const s = kidSubsets(c.gen.length / c.d, c.real.length / c.d, c.kid);
      const cat = (xs: Int32Array[]) => { const o = new Int32Array(xs.length * s.m); xs.forEach((x, i) => o.set(x, i * s.m)); return Buffer.from(o.buffer); };
      fs.writeFileSync(path.join(dir, `${c.name}-kg.i32`), cat(s.gen));
      fs.writeFileSync(path.join(dir, `${c.name}-kr.i32`), cat(s.real));
      Object.assign(m, { kidM: s.m, kidGen: `${c.name}-kg.i32`, kidReal: `${c.name}-kr.i32` });
    }
    return m;
  });
  fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(meta));
  const r = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `reference script failed: ${r.error?.message ?? r.stderr}`);
  const ref = JSON.parse(r.stdout) as Record<string, { fid: number; kid?: number }>;
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
  for (const c of cases) {
    const ng = c.gen.length / c.d, nr = c.real.length / c.d;
    const fid = fidFromStats(statsOf(c.gen, c.d), statsOf(c.real, c.d));
    assert.ok(rel(fid, ref[c.name].fid) < 1e-3, `${c.name}: FID ${fid} vs numpy ${ref[c.name].fid}`);
    t.diagnostic(`${c.name}: FID ${fid.toFixed(6)} (numpy ${ref[c.name].fid.toFixed(6)})`);
    if (c.kid) {
      const kid = kernelInceptionDistance(c.gen, ng, c.real, nr, c.d, c.kid);
      assert.ok(rel(kid, ref[c.name].kid!) < 1e-3, `${c.name}: KID ${kid} vs numpy ${ref[c.name].kid}`);
      t.diagnostic(`${c.name}: KID ${kid.toExponential(6)} (numpy ${ref[c.name].kid!.toExponential(6)})`);
    }
  }
});
