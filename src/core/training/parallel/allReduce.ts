/**
 * The gradient all-reduce of data-parallel training, in shared memory between the worker threads
 * (no message through the coordinator on the hot path): each worker writes its phase gradients (the
 * mean over its rows) and its per-sample values into its own slot, waits at a barrier, sums a
 * 1/W slice of the vector over all slots — Σ_j (rows_j / batch)·g_j in worker order j = 0…W−1, in
 * float64, rounded once, so the result does not depend on which worker summed which slice — waits at
 * a second barrier and reads the whole sum. Every worker therefore holds the same bytes.
 *
 * Barriers use Atomics.wait with a short timeout and an abort flag the coordinator raises when a
 * worker dies, so the others never block for ever.
 */
import type { PhaseExchange } from '../trainer';

/** Int32 cells of the control buffer. */
const COUNT = 0, GEN = 1, ABORT = 2;

/** The shared buffers (made by the coordinator, passed to every worker). */
export interface AllReduceBuffers {
  ctrl: SharedArrayBuffer;
  /** W + 1 slots of `maxLen` floats: one per worker, then the sum. */
  grads: SharedArrayBuffer;
  /** W slots of `auxLen` floats: per-sample values and means. */
  aux: SharedArrayBuffer;
  maxLen: number;
  auxLen: number;
  /** Rows of each worker (in worker order) and the batch. */
  counts: number[];
  total: number;
}

export function allocAllReduce(maxLen: number, counts: number[]): AllReduceBuffers {
  const W = counts.length;
  const auxLen = 4 * Math.max(...counts) + 8; // ≤ 2 per-sample values per row + a few means, per phase
  return {
    ctrl: new SharedArrayBuffer(16),
    grads: new SharedArrayBuffer((W + 1) * maxLen * 4),
    aux: new SharedArrayBuffer(W * auxLen * 4),
    maxLen, auxLen, counts, total: counts.reduce((a, b) => a + b, 0),
  };
}

/** Raises the abort flag: every worker waiting at a barrier (or arriving at one) throws. */
export function abortAllReduce(b: AllReduceBuffers): void {
  const ctrl = new Int32Array(b.ctrl);
  Atomics.store(ctrl, ABORT, 1);
  Atomics.notify(ctrl, GEN);
}

export class AllReduceAborted extends Error {
  constructor() {
    super('another training worker failed (the all-reduce was aborted)');
    this.name = 'AllReduceAborted';
  }
}

/** Worker `index`'s side of the all-reduce. */
export class AllReducer {
  private readonly ctrl: Int32Array;
  private readonly slots: Float32Array[];
  private readonly sum: Float32Array;
  private readonly aux: Float32Array[];
  private readonly weights: number[];

  constructor(private readonly b: AllReduceBuffers, private readonly index: number) {
    const W = b.counts.length;
    this.ctrl = new Int32Array(b.ctrl);
    this.slots = Array.from({ length: W }, (_, j) => new Float32Array(b.grads, j * b.maxLen * 4, b.maxLen));
    this.sum = new Float32Array(b.grads, W * b.maxLen * 4, b.maxLen);
    this.aux = Array.from({ length: W }, (_, j) => new Float32Array(b.aux, j * b.auxLen * 4, b.auxLen));
    this.weights = b.counts.map((c) => c / b.total);
  }

  private barrier(): void {
    const c = this.ctrl, W = this.b.counts.length;
    if (Atomics.load(c, ABORT)) throw new AllReduceAborted();
    const gen = Atomics.load(c, GEN);
    if (Atomics.add(c, COUNT, 1) === W - 1) {
      Atomics.store(c, COUNT, 0);
      Atomics.add(c, GEN, 1);
      Atomics.notify(c, GEN);
      return;
    }
    while (Atomics.load(c, GEN) === gen) {
      if (Atomics.load(c, ABORT)) throw new AllReduceAborted();
      Atomics.wait(c, GEN, gen, 100);
    }
  }

  /** This worker's phase values → the batch's (rows and means in the order of `local`'s keys). */
  reduce(local: PhaseExchange): PhaseExchange {
    const { b, index: k } = this;
    const W = b.counts.length, len = local.grads.length;
    if (len > b.maxLen) throw new Error(`all-reduce: ${len} gradient values, room for ${b.maxLen}`);
    this.slots[k].set(local.grads);
    const rowKeys = Object.keys(local.rows), meanKeys = Object.keys(local.means);
    let o = 0;
    const mine = this.aux[k];
    for (const key of rowKeys) { mine.set(local.rows[key], o); o += local.rows[key].length; }
    for (const key of meanKeys) mine[o++] = local.means[key];
    if (o > b.auxLen) throw new Error(`all-reduce: ${o} per-sample values, room for ${b.auxLen}`);
    this.barrier();
    // Reduce-scatter: this worker's slice of the sum, the same arithmetic whoever does it.
    const lo = Math.floor((k * len) / W), hi = Math.floor(((k + 1) * len) / W);
    const sum = this.sum, slots = this.slots, w = this.weights;
    for (let i = lo; i < hi; i++) {
      let acc = 0;
      for (let j = 0; j < W; j++) acc += w[j] * slots[j][i];
      sum[i] = acc;
    }
    // Per-sample values in worker order, means weighted by rows (read before the second barrier:
    // a worker rewrites its aux slot only after it).
    const rows: Record<string, Float32Array> = {};
    rowKeys.forEach((key, r) => {
      const all = new Float32Array(b.total);
      let at = 0;
      for (let j = 0; j < W; j++) { all.set(this.aux[j].subarray(r * b.counts[j], (r + 1) * b.counts[j]), at); at += b.counts[j]; }
      rows[key] = all;
    });
    const means: Record<string, number> = {};
    meanKeys.forEach((key, m) => {
      let acc = 0;
      for (let j = 0; j < W; j++) acc += w[j] * this.aux[j][rowKeys.length * b.counts[j] + m];
      means[key] = Math.fround(acc);
    });
    this.barrier();
    return { grads: sum.slice(0, len), rows, means };
  }
}
