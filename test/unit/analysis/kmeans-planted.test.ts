/**
 * clusterFeatures on 16 maps at the three GGDR-ish feature shapes (K=6, defaults): on planted blobs (like
 * trained generator features) it recovers the plant and converges; on i.i.d. Gaussian noise (no structure:
 * the hardest case for Lloyd iterations) it still ends with K non-empty canonical clusters within the
 * iteration cap. The times are logged only; clustering latency is measured by the bench (samples section).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adjustedRandIndex } from '../../../src/core/analysis/clusterCompare';
import { clusterFeatures, type FeatureBatch } from '../../../src/core/analysis/kmeans';
import { blobLabels, gauss, plantedFeatures, randomDirections, rng } from './synthetic';
import type { kmeans as KMeansFn } from 'ml-kmeans/lib/kmeans';

// The reference implementation our own fit replaced (ESM-only package: see require note in kmeans.ts's history).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ml-kmeans declares only ESM `exports`, which an import cannot resolve under this tsconfig's moduleResolution node (its types come from lib/ above)
const { kmeans: mlKmeans } = require('ml-kmeans') as { kmeans: typeof KMeansFn };

const SHAPES = [
  { h: 8, c: 64 },
  { h: 16, c: 32 },
  { h: 32, c: 16 },
];
const MAX_ITERATIONS = 100; // clusterFeatures' default cap

for (const { h, c } of SHAPES) {
  test(`16×${h}×${h}×${c}, K=6: planted clusters are recovered (ARI ≥ 0.95) and the fit converges`, () => {
    const { batch, truth } = makePlanted(h, c, h * c);
    const t0 = performance.now();
    const r = clusterFeatures(batch, { k: 6, seed: 0 });
    const ms = performance.now() - t0;
    const ari = adjustedRandIndex(truth, r.labels);
    console.log(`# planted 16×${h}×${h}×${c} (${16 * h * h} px): ARI ${ari.toFixed(4)}, ${r.iterations} iterations, ${ms.toFixed(0)} ms`);
    assert.equal(r.labels.length, 16 * h * h);
    assert.ok(ari >= 0.95, `ARI ${ari}`);
    assert.equal(r.converged, true);
    assert.ok(r.iterations < MAX_ITERATIONS, `${r.iterations} iterations`);
    assertCanonical(r.shares, r.labels, 6);
  });
}

test('i.i.d. Gaussian features (no structure), K=6: six non-empty canonical clusters within the iteration cap', () => {
  for (const { h, c } of SHAPES) {
    const rand = rng(h * c);
    const batch: FeatureBatch = { n: 16, h, w: h, c, data: Float32Array.from({ length: 16 * h * h * c }, () => gauss(rand)) };
    const t0 = performance.now();
    const r = clusterFeatures(batch, { k: 6, seed: 0 });
    const ms = performance.now() - t0;
    console.log(`# gaussian 16×${h}×${h}×${c}: ${r.iterations} iterations, converged=${r.converged}, ${ms.toFixed(0)} ms`);
    assert.equal(r.labels.length, 16 * h * h);
    assert.ok(r.iterations >= 1 && r.iterations <= MAX_ITERATIONS, `${r.iterations} iterations`);
    if (!r.converged) assert.equal(r.iterations, MAX_ITERATIONS, 'stopped early without converging');
    assertCanonical(r.shares, r.labels, 6);
  }
});

/** k non-empty clusters, shares descending (id 0 = largest), matching the label counts and summing to 1. */
function assertCanonical(shares: number[], labels: Int32Array, k: number): void {
  const counts = new Array<number>(k).fill(0);
  for (const l of labels) {
    assert.ok(l >= 0 && l < k, `label ${l}`);
    counts[l]++;
  }
  assert.ok(counts.every((n) => n > 0), `cluster sizes ${counts}`);
  assert.deepEqual(shares, counts.map((n) => n / labels.length));
  for (let i = 1; i < k; i++) assert.ok(shares[i] <= shares[i - 1], `shares not descending: ${shares}`);
}

function makePlanted(h: number, c: number, seed: number): { batch: FeatureBatch; truth: Int32Array } {
  const rand = rng(seed);
  const dims = { n: 16, h, w: h, c };
  const truth = blobLabels(16, h, h, 6, rand);
  return { batch: plantedFeatures(truth, dims, randomDirections(6, c, rand), 0.15, rand, (_l, r) => 0.5 + r()), truth };
}

test('a 200-pixel minority cluster among 4,096 (16×16×16×32, K=6): recovered with the default 10 restarts (ARI ≥ 0.99), objective no worse than ml-kmeans', () => {
  const dims = { n: 16, h: 16, w: 16, c: 32 };
  const total = dims.n * dims.h * dims.w;
  let worstAri = 1;
  for (const seed of [1, 2, 3]) {
    const rand = rng(1000 + seed);
    // Five big clusters in shuffled order, and 200 pixels of a sixth.
    const truth = new Int32Array(total);
    for (let i = 0; i < total; i++) truth[i] = i < 200 ? 5 : i % 5;
    for (let i = total - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [truth[i], truth[j]] = [truth[j], truth[i]];
    }
    const batch = plantedFeatures(truth, dims, randomDirections(6, dims.c, rand), 0.1, rand, (_l, r) => 0.5 + r());
    const r = clusterFeatures(batch, { k: 6, seed: 0 });
    const ari = adjustedRandIndex(truth, r.labels);
    worstAri = Math.min(worstAri, ari);
    // ml-kmeans (what clusterFeatures used before) from the same k-means++ family: our objective is at least as good.
    const points: number[][] = [];
    for (let p = 0; p < total; p++) {
      const row = Array.from(batch.data.subarray(p * dims.c, (p + 1) * dims.c));
      const norm = Math.hypot(...row);
      points.push(row.map((x) => x / norm));
    }
    let mlBest = Infinity;
    for (let s = 0; s < 10; s++) {
      const fit = mlKmeans(points, 6, { seed: s, initialization: 'kmeans++' });
      let inertia = 0;
      for (const p of points) {
        let best = Infinity;
        for (const c of fit.centroids) {
          const cn = Math.hypot(...c);
          let d = 0;
          for (let j = 0; j < c.length; j++) d += p[j] * c[j];
          best = Math.min(best, 1 - d / cn);
        }
        inertia += best;
      }
      mlBest = Math.min(mlBest, inertia);
    }
    console.log(`# minority seed ${seed}: ARI ${ari.toFixed(4)}, inertia ours ${r.inertia.toFixed(3)} vs ml-kmeans best of 10 ${mlBest.toFixed(3)}`);
    assert.ok(r.inertia <= mlBest * 1.001, `inertia ${r.inertia} vs ml-kmeans ${mlBest}`);
  }
  assert.ok(worstAri >= 0.99, `worst ARI ${worstAri}`);
});

test('the tfjs dot-product engine (what the segmentation uses) gives the JS engine\'s clustering', async () => {
  const { initBackend } = await import('../../../src/core/backend/backend');
  const { tfDotEngine } = await import('../../../src/core/analysis/kmeansTf');
  await initBackend((process.env.GAN_TEST_BACKEND ?? 'wasm') as 'wasm' | 'cpu');
  for (const { h, c } of [{ h: 16, c: 64 }, { h: 32, c: 128 }]) {
    const { batch, truth } = makePlanted(h, c, 7 * h + c);
    const js = clusterFeatures(batch, { k: 6, seed: 3 });
    const tfr = clusterFeatures(batch, { k: 6, seed: 3, dotEngine: tfDotEngine });
    const agree = adjustedRandIndex(js.labels, tfr.labels);
    console.log(`# engines 16×${h}×${h}×${c}: ARI(js, tf) ${agree.toFixed(5)}, inertia js ${js.inertia.toFixed(4)} tf ${tfr.inertia.toFixed(4)}, ARI vs truth ${adjustedRandIndex(truth, tfr.labels).toFixed(4)}`);
    assert.ok(agree >= 0.999, `engines disagree: ARI ${agree}`);
    assert.ok(Math.abs(js.inertia - tfr.inertia) <= 1e-4 * js.inertia, `inertia ${js.inertia} vs ${tfr.inertia}`);
  }
});
