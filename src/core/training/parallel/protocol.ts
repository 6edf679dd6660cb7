/**
 * Messages between the training coordinator (ParallelTrainer) and its worker threads (runReplica).
 * One step: `step` to every worker → (the workers all-reduce each phase's gradients among themselves in
 * shared memory, ./allReduce) → `stepDone` / `stepFailed` from every worker.
 */
import type { TrainingOptions, BackendName } from '../../config/options';
import type { StepStats, TrainPhase } from '../trainer';
import type { AllReduceBuffers } from './allReduce';
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
  allReduce: AllReduceBuffers;
}

export type ToReplica =
  | { type: 'step'; reals: Float32Array; shape: [number, number, number, number] }
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
  | { type: 'stepDone'; stats: StepStats }
  | { type: 'stepFailed'; message: string; nonFinite?: NonFiniteInfo }
  | { type: 'state'; state: TrainerState }
  | { type: 'fatal'; message: string };
