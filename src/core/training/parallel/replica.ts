/**
 * One data-parallel replica (the body of a training worker thread, src/worker/trainWorkerThread.ts):
 * starts its own backend, builds a GanTrainer from the coordinator's state and trains its rows of
 * each batch; after every phase's backward pass it all-reduces its gradients with the other workers
 * (./allReduce) and applies the batch's (see ReplicaLink in ../trainer).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/backend';
import { GanTrainer, NonFiniteLossError } from '../trainer';
import { AllReducer } from './allReduce';
import type { FromReplica, ReplicaInit, ToReplica } from './protocol';
import { loadTrainerStateFrom, readTrainerState } from './trainerState';

/** The end of a MessagePort / parentPort the replica talks through. */
export interface ReplicaPort {
  postMessage(m: FromReplica, transfer?: ArrayBuffer[]): void;
  on(event: 'message', f: (m: ToReplica) => void): unknown;
}

/**
 * Test hook: GAN_INSPECTOR_FAULT_REPLICA=<index>:<step>[:throw] makes replica <index> exit (or throw
 * an uncaught error) when asked to train step <step>, as a crashed worker would.
 */
function faultAt(index: number, step: number): 'exit' | 'throw' | null {
  const spec = process.env.GAN_INSPECTOR_FAULT_REPLICA;
  if (!spec) return null;
  const [i, s, how] = spec.split(':');
  return Number(i) === index && Number(s) === step ? (how === 'throw' ? 'throw' : 'exit') : null;
}

export async function runReplica(port: ReplicaPort, init: ReplicaInit): Promise<void> {
  let trainer: GanTrainer;
  try {
    const be = await initBackend(init.backend);
    trainer = new GanTrainer(init.opts);
    loadTrainerStateFrom(trainer, init.state);
    const reducer = new AllReducer(init.allReduce, init.index);
    trainer.replica = { start: init.start, count: init.count, total: init.total, exchange: async (_phase, local) => reducer.reduce(local) };
    port.postMessage({ type: 'ready', backend: be.name, version: be.version });
  } catch (e) {
    port.postMessage({ type: 'fatal', message: (e as Error)?.message ?? String(e) });
    return;
  }
  const t = trainer;
  // Steps are queued: a message handler must not run a second step while one is awaiting an exchange.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (m: ToReplica) => {
    chain = chain.then(async () => {
      if (m.type === 'getState') {
        const state = await readTrainerState(t);
        port.postMessage({ type: 'state', state }, [state.data.buffer as ArrayBuffer]);
        return;
      }
      const fault = faultAt(init.index, t.step);
      if (fault === 'exit') process.exit(3);
      if (fault === 'throw') throw new Error(`injected fault in replica ${init.index} at step ${t.step}`); // unhandled: the thread dies
      const reals = tf.tensor4d(m.reals, m.shape);
      try {
        const stats = await t.trainStep(reals);
        port.postMessage({ type: 'stepDone', stats });
      } catch (e) {
        const nonFinite = e instanceof NonFiniteLossError ? { term: e.term, step: e.step, value: e.value, phase: e.phase, kind: e.kind } : undefined;
        port.postMessage({ type: 'stepFailed', message: (e as Error)?.stack ?? String(e), nonFinite });
      } finally {
        reals.dispose();
      }
    });
  });
}
