/**
 * Messages between the training coordinator (ParallelTrainer) and its worker threads (runReplica).
 * One step: `step` to every worker → per phase, `exchange` from every worker → `reduced` (the batch's
 * gradients, in a SharedArrayBuffer all workers read) to every worker → `stepDone` / `stepFailed`.
 */
import type { TrainingOptions, BackendName } from '../../config/options';
import type { PhaseExchange, StepStats, TrainPhase } from '../trainer';
import type { TrainerState } from './trainerState';

export interface ReplicaInit {
  /** Which replica this is (0-based) and its rows of every batch. */
  index: number;
  start: number;
  count: number;
  total: number;
  opts: TrainingOptions;
  /** The backend the coordinator runs on: every replica must compute with the same one. */
  backend: BackendName;
  state: TrainerState;
}

export type ToReplica =
  | { type: 'step'; reals: Float32Array; shape: [number, number, number, number] }
  | { type: 'reduced'; phase: TrainPhase; payload: PhaseExchange }
  | { type: 'getState' };

/** A NonFiniteLossError's fields (every replica reaches the same one). */
export interface NonFiniteInfo {
  term: string;
  step: number;
  value: number;
  phase: TrainPhase;
  kind: 'loss' | 'gradient' | 'state';
}

export type FromReplica =
  | { type: 'ready'; backend: string; version: string }
  | { type: 'exchange'; phase: TrainPhase; payload: PhaseExchange }
  | { type: 'stepDone'; stats: StepStats }
  | { type: 'stepFailed'; message: string; nonFinite?: NonFiniteInfo }
  | { type: 'state'; state: TrainerState }
  | { type: 'fatal'; message: string };
