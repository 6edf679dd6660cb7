import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adjustedRandIndex, meanCosineSimilarity } from '../../../src/core/analysis/clusterCompare';
import {
  assignToCentroids,
  clusterFeatures,
  clusterShares,
  type FeatureBatch,
} from '../../../src/core/analysis/kmeans';
import { isUserError } from '../../../src/core/errors';
import { blobLabels, gauss, plantedFeatures, randomDirections, rng } from './synthetic';

const isUE = (e: unknown): boolean => isUserError(e);

/** Six planted directions, blobs over 8 images 16×16, C=32, random per-pixel magnitude 0.5–2. */
function plantedSix(seed = 1, noise = 0.08): { batch: FeatureBatch; truth: Int32Array } {
  const rand = rng(seed);
  const dims = { n: 8, h: 16, w: 16, c: 32 };
  const truth = blobLabels(dims.n, dims.h, dims.w, 6, rand);
  const dirs = randomDirections(6, dims.c, rand);
  const batch = plantedFeatures(truth, dims, dirs, noise, rand, (_l, r) => 0.5 + 1.5 * r());
  return { batch, truth };
}

test('ARI: known values and invariance to renaming', () => {
  assert.equal(adjustedRandIndex([0, 0, 1, 1], [5, 5, 2, 2]), 1);
  assert.ok(Math.abs(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1]) - 0.5714285714285715) < 1e-12); // sklearn doc value
  assert.equal(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3]), 0);
  assert.ok(Math.abs(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]) - -0.5) < 1e-12);
  assert.equal(adjustedRandIndex([3, 3, 3], [1, 1, 1]), 1);
  assert.throws(() => adjustedRandIndex([0, 1], [0]), isUE);
});

test('cosine K-means recovers six planted clusters (ARI ≥ 0.95), shares canonical', () => {
  const { batch, truth } = plantedSix();
  const r = clusterFeatures(batch, { k: 6, seed: 3 });
  const ari = adjustedRandIndex(truth, r.labels);
  assert.ok(ari >= 0.95, `ARI ${ari}`);
  assert.equal(r.labels.length, 8 * 16 * 16);
  assert.equal(r.centroids.length, 6 * 32);
  assert.equal(r.sampled, false);
  assert.equal(r.fitPixels, 8 * 16 * 16);
  assert.ok(Math.abs(r.shares.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  for (let i = 1; i < r.k; i++) assert.ok(r.shares[i - 1] >= r.shares[i], 'shares descend');
  assert.deepEqual(r.shares, clusterShares(r.labels, r.k));
  for (let ci = 0; ci < r.k; ci++) {
    const norm = Math.hypot(...r.centroids.subarray(ci * 32, ci * 32 + 32));
    assert.ok(Math.abs(norm - 1) < 1e-5, 'cosine centroids are unit vectors');
  }
  assert.ok(r.inertia >= 0 && Number.isFinite(r.inertia));
  assert.ok(r.iterations >= 1);
});

test('labels are batch-consistent: a planted cluster has the same label in every image', () => {
  const { batch, truth } = plantedSix(7);
  const r = clusterFeatures(batch, { k: 6, seed: 11 });
  const per = batch.h * batch.w;
  const global = new Map<number, number>();
  for (let img = 0; img < batch.n; img++) {
    for (let t = 0; t < 6; t++) {
      const counts = new Map<number, number>();
      let total = 0;
      for (let p = img * per; p < (img + 1) * per; p++) {
        if (truth[p] !== t) continue;
        counts.set(r.labels[p], (counts.get(r.labels[p]) ?? 0) + 1);
        total++;
      }
      if (total === 0) continue;
      const [label, count] = [...counts].sort((a, b) => b[1] - a[1])[0];
      if (!global.has(t)) global.set(t, label);
      assert.equal(label, global.get(t), `planted ${t} in image ${img} got label ${label}, elsewhere ${global.get(t)}`);
      assert.ok(count / total >= 0.95, `image ${img} planted ${t}: only ${count}/${total} agree`);
    }
  }
  assert.equal(new Set(global.values()).size, 6, 'planted clusters map to distinct labels');
});

test('cosine merges clusters that differ only in magnitude; euclidean separates them', () => {
  const rand = rng(21);
  const dims = { n: 8, h: 12, w: 12, c: 16 };
  const truth6 = blobLabels(dims.n, dims.h, dims.w, 6, rand); // label = dir*2 + (big ? 1 : 0)
  const dirs3 = randomDirections(3, dims.c, rand);
  const dirs6 = [0, 1, 2, 3, 4, 5].map((l) => dirs3[l >> 1]);
  const batch = plantedFeatures(truth6, dims, dirs6, 0.05, rand, (l) => (l & 1 ? 4 : 1));
  const truthDir = truth6.map((l) => l >> 1);

  const euc = clusterFeatures(batch, { k: 6, metric: 'euclidean', seed: 2 });
  const cos = clusterFeatures(batch, { k: 3, metric: 'cosine', seed: 2 });
  const cos6 = clusterFeatures(batch, { k: 6, metric: 'cosine', seed: 2 });
  const ariEuc = adjustedRandIndex(truth6, euc.labels);
  const ariCosDir = adjustedRandIndex(truthDir, cos.labels);
  const ariCos6 = adjustedRandIndex(truth6, cos6.labels);
  assert.ok(ariEuc >= 0.95, `euclidean vs 6 planted: ${ariEuc}`);
  assert.ok(ariCosDir >= 0.95, `cosine k=3 vs 3 directions: ${ariCosDir}`);
  // With k=6 cosine cannot see magnitude: its split of each direction is unrelated to the planted one.
  assert.ok(ariCos6 < 0.7, `cosine k=6 should not recover magnitude clusters, ARI ${ariCos6}`);
  // Same-direction small/big pixels: euclidean labels differ, cosine labels agree.
  let eucSame = 0;
  let cosSame = 0;
  let pairs = 0;
  for (let d = 0; d < 3; d++) {
    const small = truth6.indexOf(2 * d);
    const big = truth6.indexOf(2 * d + 1);
    pairs++;
    if (euc.labels[small] === euc.labels[big]) eucSame++;
    if (cos.labels[small] === cos.labels[big]) cosSame++;
  }
  assert.equal(eucSame, 0);
  assert.equal(cosSame, pairs);
  assert.ok(euc.inertia > 0 && cos.inertia > 0);
});

test('fitting on a 5k-pixel sample then assigning all ≈ full fit on ~51k pixels (ARI ≥ 0.9)', () => {
  const rand = rng(5);
  const dims = { n: 8, h: 80, w: 80, c: 16 };
  const truth = blobLabels(dims.n, dims.h, dims.w, 6, rand, 14);
  const dirs = randomDirections(6, dims.c, rand);
  // Noisy enough that clusters overlap (truth ARI < 1), so agreement is not trivial.
  const batch = plantedFeatures(truth, dims, dirs, 0.3, rand, (_l, r) => 0.5 + r());
  const full = clusterFeatures(batch, { k: 6, seed: 4, maxPixels: 60000 });
  const sampled = clusterFeatures(batch, { k: 6, seed: 4, maxPixels: 5000 });
  assert.equal(full.sampled, false);
  assert.equal(sampled.sampled, true);
  assert.equal(sampled.fitPixels, 5000);
  assert.equal(sampled.labels.length, 51200);
  const agree = adjustedRandIndex(full.labels, sampled.labels);
  const truthFull = adjustedRandIndex(truth, full.labels);
  console.log(`sampled-vs-full ARI ${agree.toFixed(4)}; full-vs-truth ARI ${truthFull.toFixed(4)}; inertia full ${full.inertia.toFixed(1)} sampled ${sampled.inertia.toFixed(1)}`);
  assert.ok(agree >= 0.9, `sampled vs full ARI ${agree}`);
  assert.ok(sampled.inertia <= full.inertia * 1.02, 'sampled fit inertia within 2% of full fit');
});

test('same seed → identical labels and centroids', () => {
  const { batch } = plantedSix(9, 0.4); // noisy: initialisation matters
  for (const metric of ['cosine', 'euclidean'] as const) {
    const a = clusterFeatures(batch, { k: 6, seed: 123, metric, maxPixels: 1000 });
    const b = clusterFeatures(batch, { k: 6, seed: 123, metric, maxPixels: 1000 });
    assert.deepEqual(a.labels, b.labels);
    assert.deepEqual(a.centroids, b.centroids);
    assert.equal(a.inertia, b.inertia);
  }
});

test('bad input → UserError', () => {
  const tiny: FeatureBatch = { data: Float32Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => Math.sin(i)), n: 2, h: 2, w: 2, c: 3 };
  assert.throws(() => clusterFeatures(tiny, { k: 9 }), (e: unknown) => isUE(e) && /only 8 pixels/.test((e as Error).message));
  const nan = { ...tiny, data: tiny.data.slice() };
  nan.data[3 * 5 + 1] = NaN; // pixel 5 = image 1, y 0, x 1, channel 1
  assert.throws(() => clusterFeatures(nan, { k: 2 }), (e: unknown) => isUE(e) && /NaN at image 1, y=0, x=1, channel 1/.test((e as Error).message));
  const inf = { ...tiny, data: tiny.data.slice() };
  inf.data[0] = Infinity;
  assert.throws(() => clusterFeatures(inf, { k: 2 }), isUE);
  assert.throws(() => clusterFeatures({ ...tiny, c: 4 }, { k: 2 }), isUE); // length mismatch
  assert.throws(() => clusterFeatures(tiny, { k: 0 }), isUE);
  assert.throws(() => clusterFeatures(tiny, { k: 2, metric: 'manhattan' as 'cosine' }), isUE);
  assert.throws(() => clusterFeatures(tiny, { k: 4, maxPixels: 3 }), isUE);
  // Constant maps: fewer distinct vectors than k.
  const flat: FeatureBatch = { data: new Float32Array(4 * 4 * 3).fill(0.5), n: 1, h: 4, w: 4, c: 3 };
  assert.throws(() => clusterFeatures(flat, { k: 2 }), (e: unknown) => isUE(e) && /only 1 distinct/.test((e as Error).message));
  // Same directions, different magnitudes: distinct for euclidean, one direction for cosine.
  const scaled: FeatureBatch = { data: Float32Array.from({ length: 4 * 3 }, (_, i) => 1 + Math.floor(i / 3)), n: 1, h: 2, w: 2, c: 3 };
  assert.equal(clusterFeatures(scaled, { k: 2, metric: 'euclidean' }).k, 2);
  assert.throws(() => clusterFeatures(scaled, { k: 2, metric: 'cosine' }), isUE);
});

test('assignToCentroids reproduces labels and transfers G centroids to perturbed maps', () => {
  const { batch, truth } = plantedSix(13);
  for (const metric of ['cosine', 'euclidean'] as const) {
    const r = clusterFeatures(batch, { k: 6, seed: 1, metric });
    assert.deepEqual(assignToCentroids(batch, r.centroids, metric), r.labels);
  }
  const g = clusterFeatures(batch, { k: 6, seed: 1 });
  // "D" maps: G's maps rescaled per pixel with extra noise — cosine transfer should still match.
  const rand = rng(99);
  const d: FeatureBatch = { ...batch, data: new Float32Array(batch.data.length) };
  for (let p = 0; p < batch.n * batch.h * batch.w; p++) {
    const s = 0.2 + 3 * rand();
    for (let j = 0; j < batch.c; j++) d.data[p * batch.c + j] = s * batch.data[p * batch.c + j] + 0.03 * gauss(rand);
  }
  const dl = assignToCentroids(d, g.centroids, 'cosine');
  assert.ok(adjustedRandIndex(g.labels, dl) >= 0.95);
  assert.ok(adjustedRandIndex(truth, dl) >= 0.9);
  assert.throws(() => assignToCentroids(batch, new Float32Array(6 * 31), 'cosine'), isUE);
  assert.throws(() => assignToCentroids(batch, new Float32Array(0)), isUE);
});

test('meanCosineSimilarity', () => {
  const { batch } = plantedSix(17);
  assert.ok(Math.abs(meanCosineSimilarity(batch, batch) - 1) < 1e-6);
  const neg = { ...batch, data: batch.data.map((x) => -2 * x) };
  assert.ok(Math.abs(meanCosineSimilarity(batch, neg) + 1) < 1e-6);
  // Half the pixels identical, half orthogonal → 0.5.
  const a: FeatureBatch = { data: Float32Array.from([1, 0, 1, 0, 3, 4, 0, 2]), n: 1, h: 2, w: 2, c: 2 };
  const b: FeatureBatch = { data: Float32Array.from([2, 0, 0, 5, 6, 8, 7, 0]), n: 1, h: 2, w: 2, c: 2 };
  assert.ok(Math.abs(meanCosineSimilarity(a, b) - 0.5) < 1e-9);
  assert.throws(() => meanCosineSimilarity(a, { ...b, h: 1, w: 4 }), isUE);
  assert.throws(() => meanCosineSimilarity(a, { ...b, c: 1, w: 4 }), isUE);
});
