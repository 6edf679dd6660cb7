/**
 * Per-panel webview protocols (carried by rpc.ts) and the guards the host runs on everything a
 * webview sends. One section per panel; the checkpoint viewer, segmentation and compare panels add
 * theirs here. No vscode, no DOM.
 */
import type { RpcApi, RpcValidators } from './rpc';
import type { RunOrigin, RunState } from '../runTypes';

/** Webview view types (also the `onWebviewPanel:` activation events). */
export const VIEW_TYPES = {
  lossCurves: 'ganInspector.lossCurves',
} as const;

/** A run's state as the UI shows it: `interrupted` = status.json says running but no live process owns it. */
export type RunDisplayState = RunState | 'interrupted';
export const RUN_DISPLAY_STATES: readonly RunDisplayState[] = ['running', 'finished', 'failed', 'stopped', 'unknown', 'interrupted'];

//#region guard helpers

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** Exactly these keys may be present (extra keys make the message invalid). */
const onlyKeys = (o: Record<string, unknown>, keys: readonly string[]) => Object.keys(o).every((k) => keys.includes(k));
const isStrArray = (v: unknown, maxLen: number, maxStr = 512): v is string[] =>
  Array.isArray(v) && v.length <= maxLen && v.every((s) => isStr(s, maxStr));

//#endregion

//#region loss curves

/** What the loss-curves panel shows about its run. */
export interface LossRunInfo {
  name: string;
  dir: string;
  origin: RunOrigin;
  state: RunDisplayState;
  curKimg: number;
  totalKimg: number;
  ggdr?: boolean;
  backend?: string;
  preset?: string;
  dataset?: string;
  secPerKimg?: number;
  lastError?: string | null;
}

/**
 * New rows of stats.jsonl, column-wise. Every array has one entry per row; null = the key is absent in
 * that row or its value is not finite. A column absent from a chunk is all-null for the chunk's rows.
 */
export interface StatsChunk {
  /** Drop everything received before (first chunk after hello, or the file was truncated/replaced). */
  reset: boolean;
  /** Row index of the chunk's first row (rows received so far, after a reset 0). */
  start: number;
  /** Unix seconds of each row. */
  timestamp: number[];
  /** Progress/kimg of each row. */
  kimg: (number | null)[];
  /** Mean of each scalar, by stats name ("Loss/G/loss"). */
  columns: Record<string, (number | null)[]>;
  /** Lines of stats.jsonl skipped as unreadable so far (since the last reset). */
  skipped: number;
}

/** One metric result series from metric-<name>.jsonl (one point per evaluated snapshot). */
export interface MetricSeriesChunk {
  /** Result key, e.g. "fid50k_full". */
  name: string;
  /** Snapshot kimg of each point (null when the snapshot name has no kimg). */
  kimg: (number | null)[];
  timestamp: number[];
  value: (number | null)[];
}

export interface MetricsChunk {
  reset: boolean;
  /** Only series with new points. */
  series: MetricSeriesChunk[];
  /** Unreadable lines across all metric files so far. */
  skipped: number;
}

/** Files the loss panel may ask the host to open. */
export type LossOpenTarget = 'log' | 'stats' | 'folder';
const LOSS_OPEN_TARGETS: readonly LossOpenTarget[] = ['log', 'stats', 'folder'];

/** Messages the host receives from a loss-curves webview. */
export interface LossHostApi extends RpcApi {
  events: {
    /** Open one of the run's files (or reveal its folder). */
    openFile: { target: LossOpenTarget };
    /** An error inside the webview, for the Output channel. */
    webviewError: { message: string };
  };
  requests: {
    /** The webview is ready: reply with the run, then the host streams all data from the start. */
    hello: { params: Record<string, never>; result: LossRunInfo };
  };
}

/** Messages a loss-curves webview receives from the host. */
export interface LossWebviewApi extends RpcApi {
  events: {
    runInfo: LossRunInfo;
    stats: StatsChunk;
    metrics: MetricsChunk;
  };
  requests: Record<string, never>;
}

export type LossXAxis = 'kimg' | 'time';

/** What a loss-curves webview persists with setState (and what its serializer restores from). */
export interface LossPanelState {
  v: 1;
  runDir: string;
  /** TensorBoard smoothing weight in [0, 0.99]. */
  smoothing: number;
  xAxis: LossXAxis;
  /** Group ids drawn on a log y-scale. */
  logGroups: string[];
  /** Series hidden by the user. */
  hidden: string[];
  /** Collapsed group ids. */
  collapsed: string[];
}

export const DEFAULT_SMOOTHING = 0.6;

/** Guard for persisted state (it comes back from the webview on reload, so the host checks it). */
export function isLossPanelState(v: unknown): v is LossPanelState {
  return (
    isObj(v) && v.v === 1 && isStr(v.runDir) && v.runDir.length > 0 &&
    isNum(v.smoothing) && v.smoothing >= 0 && v.smoothing <= 0.99 &&
    (v.xAxis === 'kimg' || v.xAxis === 'time') &&
    isStrArray(v.logGroups, 100) && isStrArray(v.hidden, 1000) && isStrArray(v.collapsed, 100)
  );
}

/** Guards for every webview → host message of the loss-curves panel. */
export const lossHostValidators: RpcValidators<LossHostApi, LossWebviewApi> = {
  events: {
    openFile: (p): p is LossHostApi['events']['openFile'] =>
      isObj(p) && onlyKeys(p, ['target']) && LOSS_OPEN_TARGETS.includes(p.target as LossOpenTarget),
    webviewError: (p): p is LossHostApi['events']['webviewError'] => isObj(p) && onlyKeys(p, ['message']) && isStr(p.message, 10_000),
  },
  requests: {
    hello: (p): p is Record<string, never> => isObj(p) && Object.keys(p).length === 0,
  },
};

//#endregion
