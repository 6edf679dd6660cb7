/** Synthetic feature maps with planted clusters for the analysis tests (not a test file itself). */
import type { FeatureBatch } from '../../../src/core/analysis/kmeans';

/** Seeded uniform [0,1) generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal via Box–Muller. */
export function gauss(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** `count` random unit vectors in R^c. */
export function randomDirections(count: number, c: number, rand: () => number): Float64Array[] {
  return Array.from({ length: count }, () => {
    const v = Float64Array.from({ length: c }, () => gauss(rand));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

/**
 * Planted-label maps [N,H,W]: each image is a Voronoi partition of `blobsPerImage` random seeds,
 * each seed tagged with a random cluster (every cluster appears in every image when blobs ≥ clusters).
 */
export function blobLabels(n: number, h: number, w: number, clusters: number, rand: () => number, blobsPerImage = 10): Int32Array {
  const labels = new Int32Array(n * h * w);
  for (let img = 0; img < n; img++) {
    const seeds = Array.from({ length: blobsPerImage }, (_, b) => ({
      y: rand() * h,
      x: rand() * w,
      // First `clusters` blobs cover every cluster once, the rest are random.
      label: b < clusters ? b : Math.floor(rand() * clusters),
    }));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let best = 0;
        let bestD = Infinity;
        seeds.forEach((s, i) => {
          const d = (s.y - y) ** 2 + (s.x - x) ** 2;
          if (d < bestD) {
            bestD = d;
            best = i;
          }
        });
        labels[(img * h + y) * w + x] = seeds[best].label;
      }
    }
  }
  return labels;
}

/** Features [N,H,W,C] = magnitude(label) · direction(label) + N(0, noise²) per channel. */
export function plantedFeatures(
  labels: Int32Array,
  dims: { n: number; h: number; w: number; c: number },
  directions: Float64Array[],
  noise: number,
  rand: () => number,
  magnitude: (label: number, rand: () => number) => number = () => 1,
): FeatureBatch {
  const { n, h, w, c } = dims;
  const data = new Float32Array(n * h * w * c);
  for (let p = 0; p < n * h * w; p++) {
    const l = labels[p];
    const dir = directions[l];
    const m = magnitude(l, rand);
    for (let j = 0; j < c; j++) data[p * c + j] = m * dir[j] + noise * gauss(rand);
  }
  return { data, n, h, w, c };
}
