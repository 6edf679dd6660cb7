/**
 * The run folder contract, as types shared by the engine, the extension host and the webviews.
 * No tfjs, no vscode, no DOM here.
 *
 * A run folder is `<outdir>/<5-digit id>-<desc>/` (StyleGAN2-ADA's naming) holding:
 *   training_options.json   resolved options + backend, written first
 *   log.txt                 human log
 *   stats.jsonl             one flushed StatsLine per tick
 *   metric-<name>.jsonl     one MetricLine per evaluated snapshot
 *   reals.png, fakes_init.png, fakes<kimg6>.png   sample grids from a fixed set of latents
 *   status.json             RunStatus, rewritten atomically
 *   network-snapshot-<kimg6>/   our checkpoints (snapshot.json + weights.bin, tfjs weights-manifest format)
 *   network-snapshot-<kimg6>.pkl  official checkpoints: listed, never loadable here
 */

/** One aggregated statistic, as StyleGAN2-ADA's training_stats writes it. */
export interface StatValue {
  num: number;
  mean: number;
  std: number;
}

/** One line of stats.jsonl: every key but `timestamp` maps to a StatValue. */
export type StatsLine = { timestamp: number } & { [name: string]: StatValue | number };

export type RunState = 'running' | 'finished' | 'failed' | 'stopped' | 'unknown';

/** status.json */
export interface RunStatus {
  state: RunState;
  curKimg: number;
  totalKimg: number;
  tick: number;
  /** ISO time of the last update. */
  lastUpdate: string;
  /** Message of the error that ended the run, or null. */
  lastError: string | null;
  /** Process id of the trainer while running (lets a reloaded window tell a live run from a dead one). */
  pid?: number;
  /** Folder name of the newest complete snapshot, e.g. "network-snapshot-000004". */
  latestSnapshot?: string | null;
  /** Seconds per kimg over the last tick. */
  secPerKimg?: number;
  /** Something the user must know about this run, e.g. that a broken newest snapshot was skipped on resume. */
  notice?: string | null;
}

/** One line of metric-<name>.jsonl, in StyleGAN2-ADA's format. */
export interface MetricLine {
  results: Record<string, number>;
  metric: string;
  total_time: number;
  total_time_str: string;
  num_gpus: number;
  /** Snapshot name relative to the run folder (ours: the folder name; official: the .pkl). */
  snapshot_pkl: string;
  timestamp: number;
}

export interface SnapshotInfo {
  /** File or folder name inside the run folder. */
  name: string;
  /** Absolute path. */
  path: string;
  kimg: number;
  /** false for official .pkl files and for incomplete/corrupt folders. */
  loadable: boolean;
  /** Why it cannot be loaded, when it cannot. */
  reason?: string;
}

export type RunOrigin = 'gan-inspector' | 'stylegan2-ada';

/** Everything a viewer needs to list and describe a run, normalised across our and official runs. */
export interface RunSummary {
  /** Folder name, e.g. "00003-mnist-mnist32-ggdr-kimg4-batch16-seed0". */
  name: string;
  /** Absolute path of the run folder. */
  dir: string;
  /** Numeric id from the folder name. */
  id: number;
  origin: RunOrigin;
  state: RunState;
  curKimg: number;
  totalKimg: number;
  /** GGDR on/off; undefined when the options do not say. */
  ggdr?: boolean;
  ggdrRes?: number;
  ggdrWeight?: number;
  resolution?: number;
  batch?: number;
  preset?: string;
  dataset?: string;
  backend?: string;
  /** Data-parallel worker threads the run trains with (our runs; absent before they existed = 1). */
  workers?: number;
  seed?: number;
  secPerKimg?: number;
  lastError?: string | null;
  /** Sorted by kimg. */
  snapshots: SnapshotInfo[];
  /** Sample-grid file names (reals.png, fakes_init.png, fakes000004.png, …), sorted. */
  grids: string[];
  /** Metric names with a metric-<name>.jsonl file. */
  metrics: string[];
  /** Modification time (ms) of the newest file we looked at. */
  mtime: number;
}
