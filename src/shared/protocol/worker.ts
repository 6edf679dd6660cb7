/**
 * Messages between the extension host and the training child process (`dist/worker.js`, started
 * with child_process.fork so both ends use Node's IPC channel). Plain data only.
 */
import type { TrainingOverrides } from '../../core/config/options';

//#region host → worker

/** Start a new run with these overrides (preset + fields), or resume an existing run folder. */
export interface StartTrainingMessage {
  type: 'start';
  overrides: TrainingOverrides;
  /** Absolute path of a run folder to resume from its latest good snapshot. */
  resumeDir?: string;
}

/** Stop after the current step: save a snapshot, mark the run stopped, exit. */
export interface StopTrainingMessage {
  type: 'stop';
}

export type ToWorkerMessage = StartTrainingMessage | StopTrainingMessage;

//#endregion

//#region worker → host

/** The run folder exists and training_options.json is written. */
export interface TrainingStartedMessage {
  type: 'started';
  runDir: string;
  runName: string;
  backend: string;
  totalKimg: number;
}

/** Training progress: what the loop reports and what the host shows. */
export interface TrainProgress {
  runDir: string;
  curKimg: number;
  totalKimg: number;
  tick: number;
  /** Seconds per kimg over the recent window; 0 before the first measurement. */
  secPerKimg: number;
  /** Estimated seconds left; -1 when unknown. */
  etaSec: number;
  /** Latest scalar losses by stats name, e.g. {'Loss/G/loss': 0.7}. */
  losses: Record<string, number>;
}

/** Sent at most every few seconds and at every tick. */
export interface TrainingProgressMessage extends TrainProgress {
  type: 'progress';
}

/** One line of the human log (also written to log.txt). */
export interface TrainingLogMessage {
  type: 'log';
  line: string;
}

/** Terminal state; the worker exits right after. */
export interface TrainingEndedMessage {
  type: 'ended';
  runDir: string | null;
  state: 'finished' | 'stopped' | 'failed';
  /** For 'failed': what went wrong, written for people. */
  error?: string;
  /** True when the error is the user's to fix (bad dataset, unavailable backend, bad option). */
  userError?: boolean;
  latestSnapshot?: string | null;
  /** Progress when the run ended (progress messages are throttled, so this is the exact figure). */
  curKimg?: number;
  /** What the user must be told besides the state, e.g. that a broken newest snapshot was skipped. */
  notices?: string[];
}

export type FromWorkerMessage = TrainingStartedMessage | TrainingProgressMessage | TrainingLogMessage | TrainingEndedMessage;

//#endregion

/** Validates a message from the worker (the host trusts nothing that crosses a process boundary). */
export function isFromWorkerMessage(m: unknown): m is FromWorkerMessage {
  if (!m || typeof m !== 'object') return false;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'started': return typeof o.runDir === 'string' && typeof o.runName === 'string' && typeof o.backend === 'string' && typeof o.totalKimg === 'number';
    case 'progress': return typeof o.runDir === 'string' && typeof o.curKimg === 'number' && typeof o.totalKimg === 'number' && typeof o.losses === 'object' && o.losses !== null;
    case 'log': return typeof o.line === 'string';
    case 'ended': return (o.runDir === null || typeof o.runDir === 'string') && (o.state === 'finished' || o.state === 'stopped' || o.state === 'failed');
    default: return false;
  }
}

export function isToWorkerMessage(m: unknown): m is ToWorkerMessage {
  if (!m || typeof m !== 'object') return false;
  const o = m as Record<string, unknown>;
  if (o.type === 'stop') return true;
  return o.type === 'start' && typeof o.overrides === 'object' && o.overrides !== null && (o.resumeDir === undefined || typeof o.resumeDir === 'string');
}
