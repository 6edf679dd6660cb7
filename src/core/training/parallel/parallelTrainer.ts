/**
 * Data-parallel training across worker threads (node:worker_threads), StyleGAN2-ADA's scheme on one
 * machine: each worker has its own tfjs backend and a full replica of the trainer, computes its rows of
 * every batch (so minibatch-stddev groups stay within a worker), and after each phase's backward pass
 * the workers sum their gradients in worker order in shared memory (./allReduce; deterministic for a
 * given worker count) and each applies the same optimiser step to the same sum — so the replicas stay
 * bit-identical (checked at every sync). The coordinator only hands out rows and collects stats. The coordinator's own GanTrainer is the loop's view of the
 * state (snapshots, sample grids, metrics): `sync()` copies worker 0's state into it.
 *
 * A worker that dies (an uncaught error, an exit, the thread killed) fails the step with a
 * ReplicaFailedError and every worker is stopped; nothing is written, so the last good snapshot stays.
 */
import type { Worker } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../config/options';
import { type GanTrainer, NonFiniteLossError, type StepStats } from '../trainer';
import { abortAllReduce, allocAllReduce, type AllReduceBuffers } from './allReduce';
import type { FromReplica, ReplicaInit, ToReplica } from './protocol';
import { loadTrainerStateFrom, readTrainerState, sameState, type TrainerState } from './trainerState';
import { shardRows } from '../../config/workers';
import { startThread, threadScript, ThreadHandle } from '../../parallel/threads';

/** A worker thread failed (died, or failed outside the finite checks); the step did not happen. */
export class ReplicaFailedError extends Error {
  constructor(readonly worker: number, readonly workers: number, readonly step: number, readonly reason: string) {
    super(`Training worker ${worker + 1} of ${workers} failed during step ${step}: ${reason}`);
    this.name = 'ReplicaFailedError';
  }
}

/** One training worker thread, the rows of every batch it computes, and its queue of messages. */
class ReplicaHandle extends ThreadHandle<ToReplica, FromReplica> {
  constructor(index: number, worker: Worker, readonly rows: { start: number; count: number }) {
    super(index, worker);
  }
}

export interface ParallelTrainerOptions {
  /** Called with each worker's thread id once it is ready (tests). */
  onReady?(threadIds: number[]): void;
}

export class ParallelTrainer {
  private dead: ReplicaFailedError | null = null;
  /** Whether the coordinator's trainer lags the workers (a step since the last sync). */
  private stale = false;

  private constructor(readonly trainer: GanTrainer, private readonly replicas: ReplicaHandle[], private readonly shared: AllReduceBuffers) {}

  get workers(): number {
    return this.replicas.length;
  }

  /** The worker threads' ids (for Engine Status and tests). */
  get threadIds(): number[] {
    return this.replicas.map((r) => r.worker.threadId);
  }

  /**
   * Starts `workers` threads on `backend`, each a replica of `trainer`'s current state (fresh or
   * resumed). Rejects (with every thread stopped) if one cannot start.
   */
  static async start(trainer: GanTrainer, workers: number, backend: BackendName, o: ParallelTrainerOptions = {}): Promise<ParallelTrainer> {
    const state = await readTrainerState(trainer);
    const entry = threadScript('trainWorkerThread');
    const total = trainer.opts.model.batch;
    const replicas: ReplicaHandle[] = [];
    const size = (vs: tf.Variable[]) => vs.reduce((s, v) => s + v.size, 0);
    const shared = allocAllReduce(Math.max(size(trainer.G.params.trainable()), size(trainer.D.params.trainable())),
      Array.from({ length: workers }, (_, i) => shardRows(total, workers, i).count));
    try {
      for (let i = 0; i < workers; i++) {
        const rows = shardRows(total, workers, i);
        const init: ReplicaInit = { index: i, ...rows, total, opts: trainer.opts, backend, state, allReduce: shared };
        const w = startThread(entry, init);
        replicas.push(new ReplicaHandle(i, w, rows));
      }
      for (const r of replicas) {
        const m = await r.next().catch((e: Error) => ({ type: 'fatal' as const, message: e.message }));
        if (m.type !== 'ready') throw new ReplicaFailedError(r.index, workers, trainer.step, `could not start: ${m.type === 'fatal' ? m.message : `unexpected ${m.type}`}`);
      }
    } catch (e) {
      await Promise.all(replicas.map((r) => r.worker.terminate()));
      throw e;
    }
    const p = new ParallelTrainer(trainer, replicas, shared);
    o.onReady?.(p.threadIds);
    return p;
  }

  /**
   * One step on the batch `reals` [N,R,R,C]: each worker trains its rows; returns the batch's stats
   * (as GanTrainer.trainStep does). Throws NonFiniteLossError (the step rolled back in every worker)
   * or ReplicaFailedError (the workers are stopped; this trainer can no longer step).
   */
  async trainStep(reals: tf.Tensor4D): Promise<StepStats> {
    if (this.dead) throw this.dead;
    const [n, h, w, c] = reals.shape;
    const total = this.trainer.opts.model.batch;
    if (n !== total) throw new Error(`ParallelTrainer: batch of ${n}, expected ${total}`);
    const step = this.trainer.step;
    const data = (await reals.data()) as Float32Array;
    const per = h * w * c;
    try {
      for (const r of this.replicas) {
        const rows = data.slice(r.rows.start * per, (r.rows.start + r.rows.count) * per);
        this.send(r, step, { type: 'step', reals: rows, shape: [r.rows.count, h, w, c] }, [rows.buffer]);
      }
      this.stale = true;
      const msgs = await this.round(step);
      const first = msgs[0];
      if (first.type === 'stepDone' && msgs.every((m) => m.type === 'stepDone')) {
        this.trainer.step++;
        this.trainer.nimg += total;
        return first.stats;
      }
      if (first.type === 'stepFailed' && first.nonFinite && msgs.every((m) => m.type === 'stepFailed' && m.nonFinite)) {
        const f = first.nonFinite;
        throw new NonFiniteLossError(f.term, f.step, f.value, f.phase, f.kind);
      }
      throw this.mismatch(step, msgs);
    } catch (e) {
      if (e instanceof NonFiniteLossError) throw e;
      throw await this.kill(e instanceof ReplicaFailedError ? e : new ReplicaFailedError(0, this.workers, step, (e as Error)?.message ?? String(e)));
    }
  }

  /** Posts to a worker; a worker already gone is a ReplicaFailedError naming it. */
  private send(r: ReplicaHandle, step: number, m: ToReplica, transfer?: ArrayBuffer[]): void {
    try {
      r.post(m, transfer);
    } catch (e) {
      throw new ReplicaFailedError(r.index, this.workers, step, (e as Error).message);
    }
  }

  /** The next message of every worker; a worker that fails (or reports a failed step) rejects at once. */
  private round(step: number): Promise<FromReplica[]> {
    return Promise.all(this.replicas.map(async (r) => {
      let m: FromReplica;
      try {
        m = await r.next();
      } catch (e) {
        throw new ReplicaFailedError(r.index, this.workers, step, (e as Error).message);
      }
      if (m.type === 'stepFailed' && !m.nonFinite) throw new ReplicaFailedError(r.index, this.workers, step, m.message.split('\n')[0]);
      if (m.type === 'fatal') throw new ReplicaFailedError(r.index, this.workers, step, m.message);
      return m;
    }));
  }

  private mismatch(step: number, msgs: FromReplica[]): ReplicaFailedError {
    const what = msgs.map((m, i) => `worker ${i + 1}: ${m.type}`).join(', ');
    return new ReplicaFailedError(0, this.workers, step, `the workers went out of step (${what})`);
  }

  /** Every worker's full state (in worker order). */
  async states(): Promise<TrainerState[]> {
    if (this.dead) throw this.dead;
    try {
      for (const r of this.replicas) this.send(r, this.trainer.step, { type: 'getState' });
      return (await this.round(this.trainer.step)).map((m, i) => {
        if (m.type !== 'state') throw new ReplicaFailedError(i, this.workers, this.trainer.step, `expected its state, got ${m.type}`);
        return m.state;
      });
    } catch (e) {
      throw await this.kill(e instanceof ReplicaFailedError ? e : new ReplicaFailedError(0, this.workers, this.trainer.step, String(e)));
    }
  }

  /**
   * Brings the coordinator's trainer to the workers' state (after checking that every worker's is
   * bit-identical). Cheap when nothing changed since the last sync.
   */
  async sync(): Promise<void> {
    if (!this.stale) return;
    const states = await this.states();
    for (let i = 1; i < states.length; i++) {
      if (!sameState(states[0], states[i])) {
        throw await this.kill(new ReplicaFailedError(i, this.workers, this.trainer.step, 'its weights differ from worker 1\'s (the replicas diverged)'));
      }
    }
    loadTrainerStateFrom(this.trainer, states[0]);
    this.stale = false;
  }

  /** Stops every worker and remembers why; returns the error. */
  private async kill(e: ReplicaFailedError): Promise<ReplicaFailedError> {
    if (!this.dead) this.dead = e;
    abortAllReduce(this.shared); // workers waiting for the dead one stop waiting
    await Promise.all(this.replicas.map((r) => r.worker.terminate().catch(() => undefined)));
    return this.dead;
  }

  /** Stops the worker threads (the coordinator's trainer stays as last synced). */
  async dispose(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.worker.terminate().catch(() => undefined)));
  }
}
