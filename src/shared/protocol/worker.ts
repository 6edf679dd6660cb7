/**
 * Messages between the extension host and the training child process (`dist/worker.js`, started with
 * child_process.fork so both ends use Node's IPC channel), carried by rpc.ts's MessageHandler like the
 * inference process's: each process serves one request, `start` (train or resume; its reply is how the
 * run ended) or `exportDataset` (write a StyleGAN2-ADA dataset zip; its reply is the result), streams
 * events while it runs, and exits after replying. `stop` (an event) stops training after the current
 * step with a snapshot saved. Plain data only; both ends validate what they receive.
 */
import type { TrainingOverrides } from '../../core/config/options';
import type { RpcApi, RpcValidators } from './rpc';
import { isObj } from './schema';

//#region payloads

/** Start a new run with these overrides (preset + fields), or resume an existing run folder. */
export interface StartTrainingParams {
  overrides: TrainingOverrides;
  /** Absolute path of a run folder to resume from its latest good snapshot. */
  resumeDir?: string;
}

/** The run folder exists and training_options.json is written. */
export interface TrainingStarted {
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

/** The reply to `start`: the terminal state (the process exits right after). */
export interface TrainingEnded {
  runDir: string | null;
  state: 'finished' | 'stopped' | 'failed';
  /** For 'failed': what went wrong, written for people. */
  error?: string;
  /** True when the error is the user's to fix (bad dataset, unavailable backend, bad option). */
  userError?: boolean;
  latestSnapshot?: string | null;
  /** Progress when the run ended (progress events are throttled, so this is the exact figure). */
  curKimg?: number;
  /** What the user must be told besides the state, e.g. that a broken newest snapshot was skipped. */
  notices?: string[];
}

/** Export Dataset Zip (the host bundle must not embed the MNIST digits, so the export runs here). */
export interface ExportDatasetParams {
  /** 'mnist', an image folder or a dataset zip. */
  data: string;
  out: string;
  resolution?: number;
  channels?: 1 | 3;
  maxImages?: number;
  force?: boolean;
}

export interface ExportDatasetReply {
  out: string;
  count: number;
  resolution: number;
  channels: 1 | 3;
  labels: boolean;
  bytes: number;
  warnings: string[];
}

export interface ExportProgress {
  done: number;
  total: number;
  phase: 'load' | 'encode';
}

//#endregion

//#region the two sides

/** What the training process receives. */
export interface TrainingProcessApi extends RpcApi {
  events: {
    /** Stop after the current step: save a snapshot, mark the run stopped, reply to `start`. */
    stop: Record<string, never>;
  };
  requests: {
    start: { params: StartTrainingParams; result: TrainingEnded };
    exportDataset: { params: ExportDatasetParams; result: ExportDatasetReply };
  };
}

/** What the host receives from the training process. */
export interface TrainingHostApi extends RpcApi {
  events: {
    started: TrainingStarted;
    /** At most every few seconds and at every tick. */
    progress: TrainProgress;
    /** One line of the human log (also written to log.txt). */
    log: { line: string };
    exportProgress: ExportProgress;
  };
  requests: Record<string, never>;
}

//#endregion

//#region guards

const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;
const isPath = (v: unknown): v is string => isStr(v) && v.length > 0 && !v.includes('\0');
const isNum = (v: unknown): v is number => typeof v === 'number';
/** JSON turns NaN and ±Infinity into null; the host keeps its previous figure then. */
const isNumOrNull = (v: unknown): v is number | null => v === null || typeof v === 'number';
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const opt = <T>(v: unknown, g: (x: unknown) => x is T): boolean => v === undefined || g(v);
const onlyKeys = (o: Record<string, unknown>, keys: readonly string[]) => Object.keys(o).every((k) => keys.includes(k));
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => isStr(s, 10_000));

const isStarted = (p: unknown): p is TrainingStarted =>
  isObj(p) && isPath(p.runDir) && isStr(p.runName, 1000) && isStr(p.backend, 1000) && isNum(p.totalKimg);

/** Progress: finite numbers where the host computes with them; losses must be an object (non-numbers in it are dropped by the host). */
const isProgress = (p: unknown): p is TrainProgress =>
  isObj(p) && isStr(p.runDir) && isNum(p.curKimg) && isNum(p.totalKimg) && opt(p.tick, isNumOrNull) && opt(p.secPerKimg, isNumOrNull) &&
  opt(p.etaSec, isNumOrNull) && isObj(p.losses);

const isEnded = (r: unknown): r is TrainingEnded =>
  isObj(r) && (r.runDir === null || isPath(r.runDir)) && (r.state === 'finished' || r.state === 'stopped' || r.state === 'failed') &&
  opt(r.error, (v): v is string => isStr(v, 100_000)) && opt(r.userError, isBool) && (r.latestSnapshot === undefined || r.latestSnapshot === null || isStr(r.latestSnapshot)) &&
  opt(r.curKimg, isNumOrNull) && opt(r.notices, isStrList);

const EXPORT_KEYS = ['data', 'out', 'resolution', 'channels', 'maxImages', 'force'] as const;

/** Guards the training process runs on everything the host sends. */
export const trainingProcessValidators: RpcValidators<TrainingProcessApi, TrainingHostApi> = {
  events: {
    stop: (p): p is Record<string, never> => isObj(p) && Object.keys(p).length === 0,
  },
  requests: {
    start: (p): p is StartTrainingParams => isObj(p) && onlyKeys(p, ['overrides', 'resumeDir']) && isObj(p.overrides) && opt(p.resumeDir, isPath),
    exportDataset: (p): p is ExportDatasetParams =>
      isObj(p) && onlyKeys(p, EXPORT_KEYS) && isPath(p.data) && isPath(p.out) && opt(p.resolution, isCount) &&
      (p.channels === undefined || p.channels === 1 || p.channels === 3) && opt(p.maxImages, isCount) && opt(p.force, isBool),
  },
};

/** Guards the host runs on events and replies from the training process (it trusts nothing that crosses a process boundary). */
export const trainingHostValidators: RpcValidators<TrainingHostApi, TrainingProcessApi> = {
  events: {
    started: isStarted,
    progress: isProgress,
    log: (p): p is { line: string } => isObj(p) && isStr(p.line, 100_000),
    exportProgress: (p): p is ExportProgress => isObj(p) && isCount(p.done) && isCount(p.total) && (p.phase === 'load' || p.phase === 'encode'),
  },
  requests: {},
  results: {
    start: isEnded,
    exportDataset: (r): r is ExportDatasetReply =>
      isObj(r) && isPath(r.out) && isCount(r.count) && isCount(r.resolution) && (r.channels === 1 || r.channels === 3) && isBool(r.labels) &&
      isCount(r.bytes) && isStrList(r.warnings),
  },
};

//#endregion
