/**
 * How many data-parallel workers a run trains with. Each worker is a thread with its own tfjs backend
 * computing its share of every batch (StyleGAN2-ADA's per-GPU batch), so it pays off where a backend
 * computes on one thread (wasm, cpu); tensorflow and webgpu already use every core / the GPU.
 */
import * as os from 'node:os';
import type { TrainingOptions } from './options';
import { UserError } from '../errors';

/** `opts` training with `workers` threads, as a run records it: the field only when > 1. */
export function withWorkers(opts: TrainingOptions, workers: number): TrainingOptions {
  const out: TrainingOptions = { ...opts, workers };
  if (workers <= 1) delete out.workers;
  return out;
}

/** Backends whose kernels run on the calling thread only (workers multiply their throughput). */
export const THREADED_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/** CPU cores this process may use. */
export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Auto worker count: one per core, capped so that every worker holds at least one whole
 * minibatch-stddev group (batch / group), at least 1.
 */
export function autoWorkers(model: Pick<TrainingOptions['model'], 'batch' | 'mbstdGroup'>, cores = availableCores()): number {
  const group = Math.max(1, Math.min(model.mbstdGroup, model.batch));
  return Math.max(1, Math.min(cores, Math.floor(model.batch / group)));
}

/** The rows [start, start+count) of a batch of `batch` that worker `index` of `workers` computes (as even as possible, in order). */
export function shardRows(batch: number, workers: number, index: number): { start: number; count: number } {
  const base = Math.floor(batch / workers), extra = batch % workers;
  const start = index * base + Math.min(index, extra);
  return { start, count: base + (index < extra ? 1 : 0) };
}

/**
 * The requested count (`opts.workers`; 0 = auto; unset = `unset`: auto for a new run, 1 for a stored
 * run, which records the count only when > 1) → the count this run trains with on `backend`, and a
 * line for the log. Throws UserError for an explicit count > 1 on a backend that cannot run in threads.
 */
export function resolveWorkers(opts: TrainingOptions, backend: { name: string }, unset: 0 | 1 = 0, cores = availableCores()): { workers: number; note: string } {
  const threaded = THREADED_BACKENDS.includes(backend.name);
  const requested = opts.workers ?? unset;
  let n = requested;
  if (n === 0) n = threaded ? autoWorkers(opts.model, cores) : 1;
  else if (n > 1 && !threaded) {
    throw new UserError(`--workers ${n} needs the wasm or cpu backend; ${backend.name} already computes on every core (or the GPU).`,
      'Use --workers 1 (or 0 for auto), or --backend wasm.');
  }
  if (n <= 1) {
    const why = requested === 0 ? (threaded ? ` (auto: ${cores} core${cores === 1 ? '' : 's'}, batch ${opts.model.batch}, mbstd group ${opts.model.mbstdGroup})` : ` (auto: ${backend.name} uses every core itself)`) : '';
    return { workers: 1, note: `Workers: 1, training on this thread${why}` };
  }
  const sizes = Array.from({ length: n }, (_, i) => shardRows(opts.model.batch, n, i).count);
  const uneven = sizes.some((c) => c !== sizes[0]);
  return {
    workers: n,
    note: `Workers: ${n} threads, data-parallel (${uneven ? sizes.join('/') : sizes[0]} images of each batch of ${opts.model.batch} per worker; ` +
      `minibatch-stddev groups within a worker; gradients summed in worker order)${requested === 0 ? ` (auto: ${cores} cores)` : ''}`,
  };
}
