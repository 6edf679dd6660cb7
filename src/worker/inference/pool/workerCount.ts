/**
 * How many inference threads the process renders on: the training's rule (one per core, see
 * src/core/config/workers.ts) for backends that compute on the calling thread only (wasm, cpu);
 * 1 — this thread, no pool — for tensorflow and webgpu, which use every core or the GPU themselves.
 */
import { availableCores, THREADED_BACKENDS } from '../../../core/config/workers';

/** Most inference threads (each holds a copy of every generator in use). */
export const MAX_INFERENCE_WORKERS = 64;

/** `requested` (0 or undefined = auto) on `backend` → the thread count, and a line for the log. */
export function inferenceWorkers(requested: number | undefined, backend: string, cores = availableCores()): { workers: number; note: string } {
  const threaded = THREADED_BACKENDS.includes(backend);
  const auto = !requested;
  let n = auto ? cores : Math.min(requested, MAX_INFERENCE_WORKERS);
  if (!threaded && n > 1) {
    return { workers: 1, note: `inference on this thread (${backend} uses every core or the GPU itself${auto ? '' : `; ${requested} workers asked`})` };
  }
  n = Math.max(1, n);
  if (n === 1) return { workers: 1, note: `inference on this thread${auto ? ` (auto: ${cores} core)` : ''}` };
  return { workers: n, note: `inference split across ${n} threads${auto ? ` (auto: ${cores} cores)` : ''}` };
}
