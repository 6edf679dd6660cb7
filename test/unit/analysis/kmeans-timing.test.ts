/**
 * Timing of clusterFeatures for 16 maps at the three GGDR-ish resolutions (K=6, defaults), on
 * structured maps (planted blobs, like trained generator features) and on i.i.d. Gaussian noise
 * (no structure: the slowest case for Lloyd iterations). Logs the numbers; fails only if absurdly slow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterFeatures, type FeatureBatch } from '../../../src/core/analysis/kmeans';
import { blobLabels, gauss, plantedFeatures, randomDirections, rng } from './synthetic';

const SHAPES = [
  { h: 8, c: 64 },
  { h: 16, c: 32 },
  { h: 32, c: 16 },
];

for (const kind of ['planted', 'gaussian'] as const) {
  test(`timing: 16 maps, K=6, ${kind} features`, () => {
    clusterFeatures(makeBatch('planted', 8, 8, 1), { k: 6 }); // warm-up (JIT)
    for (const { h, c } of SHAPES) {
      const batch = makeBatch(kind, h, c, h * c);
      const t0 = performance.now();
      const r = clusterFeatures(batch, { k: 6, seed: 0 });
      const ms = performance.now() - t0;
      console.log(
        `${kind} 16×${h}×${h}×${c} (${16 * h * h} px): ${ms.toFixed(0)} ms, ${r.iterations} iterations (best of 3 restarts), converged=${r.converged}`,
      );
      assert.equal(r.labels.length, 16 * h * h);
      assert.ok(ms < 20000, `clustering 16×${h}×${h}×${c} took ${ms} ms`);
    }
  });
}

function makeBatch(kind: 'planted' | 'gaussian', h: number, c: number, seed: number): FeatureBatch {
  const rand = rng(seed);
  const dims = { n: 16, h, w: h, c };
  if (kind === 'gaussian') {
    return { ...dims, data: Float32Array.from({ length: 16 * h * h * c }, () => gauss(rand)) };
  }
  const labels = blobLabels(16, h, h, 6, rand);
  return plantedFeatures(labels, dims, randomDirections(6, c, rand), 0.15, rand, (_l, r) => 0.5 + r());
}
