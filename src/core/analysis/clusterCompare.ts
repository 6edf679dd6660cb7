/** Comparing feature maps and labelings: mean cosine similarity of two batches, adjusted Rand index. */
import { UserError } from '../errors';
import { validateBatch, type FeatureBatch } from './kmeans';

/**
 * Mean over all N·H·W pixels of the cosine similarity between a's and b's C-vectors
 * (x·y / max(|x||y|, 1e-8), as torch's cosine_similarity). Shapes must match.
 */
export function meanCosineSimilarity(a: FeatureBatch, b: FeatureBatch): number {
  validateBatch(a, 'first feature batch');
  validateBatch(b, 'second feature batch');
  if (a.n !== b.n || a.h !== b.h || a.w !== b.w || a.c !== b.c) {
    throw new UserError(
      `meanCosineSimilarity: shapes differ, [${a.n},${a.h},${a.w},${a.c}] vs [${b.n},${b.h},${b.w},${b.c}] (NHWC).`,
      'Compare maps of the same layer/resolution and batch.',
    );
  }
  const { c } = a;
  const total = a.n * a.h * a.w;
  let sum = 0;
  for (let p = 0; p < total; p++) {
    const off = p * c;
    let d = 0;
    let aa = 0;
    let bb = 0;
    for (let j = 0; j < c; j++) {
      const x = a.data[off + j];
      const y = b.data[off + j];
      d += x * y;
      aa += x * x;
      bb += y * y;
    }
    sum += d / Math.max(Math.sqrt(aa * bb), 1e-8);
  }
  return sum / total;
}

/**
 * Adjusted Rand index of two labelings of the same items (1 = identical partitions up to renaming,
 * ~0 = chance). Labels may be any integers. Two trivial identical partitions give 1.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new UserError(`adjustedRandIndex: labelings have different lengths (${a.length} vs ${b.length}).`);
  }
  const n = a.length;
  if (n < 2) return 1;
  const ia = denseIds(a);
  const ib = denseIds(b);
  const ka = ia.count;
  const kb = ib.count;
  const table = new Float64Array(ka * kb);
  for (let i = 0; i < n; i++) table[ia.ids[i] * kb + ib.ids[i]]++;
  const rows = new Float64Array(ka);
  const cols = new Float64Array(kb);
  let sumCells = 0;
  for (let r = 0; r < ka; r++) {
    for (let s = 0; s < kb; s++) {
      const v = table[r * kb + s];
      rows[r] += v;
      cols[s] += v;
      sumCells += comb2(v);
    }
  }
  let sumRows = 0;
  let sumCols = 0;
  for (const v of rows) sumRows += comb2(v);
  for (const v of cols) sumCols += comb2(v);
  const expected = (sumRows * sumCols) / comb2(n);
  const max = (sumRows + sumCols) / 2;
  // max === expected only when both partitions are all-one-cluster or all-singletons (identical).
  if (max === expected) return 1;
  return (sumCells - expected) / (max - expected);
}

function denseIds(labels: ArrayLike<number>): { ids: Int32Array; count: number } {
  const map = new Map<number, number>();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let id = map.get(labels[i]);
    if (id === undefined) {
      id = map.size;
      map.set(labels[i], id);
    }
    ids[i] = id;
  }
  return { ids, count: map.size };
}

function comb2(x: number): number {
  return (x * (x - 1)) / 2;
}
