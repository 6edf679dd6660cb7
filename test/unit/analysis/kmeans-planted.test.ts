/**
 * clusterFeatures on 16 maps at the three GGDR-ish feature shapes (K=6, defaults): on planted blobs (like
 * trained generator features) it recovers the plant and converges; on i.i.d. Gaussian noise (no structure:
 * the hardest case for Lloyd iterations) it still ends with K non-empty canonical clusters within the
 * iteration cap. The times are logged only; clustering latency is measured by the bench (samples section).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adjustedRandIndex, clusterFeatures, type FeatureBatch } from '../../../src/core/analysis/kmeans';
import { blobLabels, gauss, plantedFeatures, randomDirections, rng } from './synthetic';

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
