/**
 * Per-panel webview protocols (carried by rpc.ts) and the guards the host runs on everything a
 * webview sends. One section per panel; the checkpoint viewer, segmentation and compare panels add
 * theirs here. No vscode, no DOM.
 */
import type { RpcApi, RpcValidators } from './rpc';
import type { RunOrigin, RunState } from '../runTypes';
import {
  MAX_INTERP_STEPS, MAX_K, PSI_MAX, PSI_MIN, isLabel, isSeed,
  type AcrossItem, type InterpMode, type InterpResult, type MetricName, type NetworkName, type NoiseModeName, type SampleImage, type SegmentPayload,
} from './inference';

/** Webview view types (also the `onWebviewPanel:` activation events). */
export const VIEW_TYPES = {
  lossCurves: 'ganInspector.lossCurves',
  /** Custom editor (CustomReadonlyEditorProvider) of the snapshot.json inside network-snapshot-* folders. */
  checkpointViewer: 'ganInspector.checkpointViewer',
  segmentation: 'ganInspector.segmentation',
  compareRuns: 'ganInspector.compareRuns',
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
 * A long backlog (more rows than the host's cap, e.g. opening a 1 GB file) arrives min/max-decimated:
 * such chunks carry `source` and `bucketRows`; each of their rows is still an exact stats.jsonl line.
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
  /** Lines of stats.jsonl represented up to this chunk's last row (since the last reset), counting lines left out by decimation. */
  sourceRows: number;
  /** Decimated chunks only: the stats.jsonl line index (0-based) of each row, increasing. Absent: the rows are lines sourceRows−n … sourceRows−1. */
  source?: number[];
  /** Decimated chunks only: bucket width in stats.jsonl lines; per bucket, each series' min and max rows were kept. */
  bucketRows?: number;
  /** More of the same poll follows (further stats chunks, or its metrics update): the webview draws once, after the last. */
  more?: boolean;
  /**
   * Incomplete last lines held back, waiting for their newline (0 or 1; absent = 0). A live run shows it as
   * waiting; a run that is not running, or a line unchanged across polls (then counted in `skipped` instead), has a torn line.
   */
  incomplete?: number;
}

const isNumOrNullArray = (v: unknown, n: number): v is (number | null)[] =>
  Array.isArray(v) && v.length === n && v.every((x) => x === null || isNum(x));

/** Structural guard of a StatsChunk (array lengths agree, indices are consistent). */
export function isStatsChunk(v: unknown): v is StatsChunk {
  if (!isObj(v) || !onlyKeys(v, ['reset', 'start', 'timestamp', 'kimg', 'columns', 'skipped', 'sourceRows', 'source', 'bucketRows', 'more', 'incomplete'])) return false;
  if (v.more !== undefined && typeof v.more !== 'boolean') return false;
  if (v.incomplete !== undefined && v.incomplete !== 0 && v.incomplete !== 1) return false;
  if (typeof v.reset !== 'boolean' || !Number.isSafeInteger(v.start) || (v.start as number) < 0) return false;
  if (!Array.isArray(v.timestamp) || !v.timestamp.every(isNum)) return false;
  const n = v.timestamp.length;
  if (!isNumOrNullArray(v.kimg, n) || !isObj(v.columns)) return false;
  for (const col of Object.values(v.columns)) if (!isNumOrNullArray(col, n)) return false;
  if (!Number.isSafeInteger(v.skipped) || (v.skipped as number) < 0) return false;
  if (!Number.isSafeInteger(v.sourceRows) || (v.sourceRows as number) < n) return false;
  if ((v.source === undefined) !== (v.bucketRows === undefined)) return false;
  if (v.source !== undefined) {
    const src = v.source;
    if (!Array.isArray(src) || src.length !== n || !Number.isSafeInteger(v.bucketRows) || (v.bucketRows as number) < 1) return false;
    for (let i = 0; i < n; i++) {
      if (!Number.isSafeInteger(src[i]) || src[i] < 0 || (i > 0 && src[i] <= src[i - 1])) return false;
    }
    if (n > 0 && src[n - 1] !== (v.sourceRows as number) - 1) return false;
  }
  return true;
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

const isNumOrNull = (v: unknown): v is number | null => v === null || typeof v === 'number';

/** Structural guard of a MetricsChunk (per series, every array has one entry per point). */
export function isMetricsChunk(v: unknown): v is MetricsChunk {
  if (!isObj(v) || !onlyKeys(v, ['reset', 'series', 'skipped']) || typeof v.reset !== 'boolean') return false;
  if (!Number.isSafeInteger(v.skipped) || (v.skipped as number) < 0 || !Array.isArray(v.series)) return false;
  return v.series.every((s) => {
    if (!isObj(s) || !onlyKeys(s, ['name', 'kimg', 'timestamp', 'value']) || !isStr(s.name, 512) || !Array.isArray(s.timestamp) || !s.timestamp.every(isNum)) return false;
    const n = s.timestamp.length;
    return isNumOrNullArray(s.kimg, n) && isNumOrNullArray(s.value, n);
  });
}

const RUN_ORIGINS: readonly RunOrigin[] = ['gan-inspector', 'stylegan2-ada'];
const isOptStr = (v: unknown, max = 4096) => v === undefined || isStr(v, max);

/**
 * Guard of a LossRunInfo from the host. Numbers that are not finite (an unknown total) arrive as null once
 * VS Code has JSON-encoded the message, so null is accepted where the panel copes with it. Extra keys are
 * tolerated (the host may send more than this panel shows); the ones it uses must have their types.
 */
export function isLossRunInfo(v: unknown): v is LossRunInfo {
  return (
    isObj(v) && isStr(v.name, 1024) && isStr(v.dir) && RUN_ORIGINS.includes(v.origin as RunOrigin) &&
    RUN_DISPLAY_STATES.includes(v.state as RunDisplayState) && isNumOrNull(v.curKimg) && isNumOrNull(v.totalKimg) &&
    (v.ggdr === undefined || typeof v.ggdr === 'boolean') && isOptStr(v.backend, 256) && isOptStr(v.preset, 256) && isOptStr(v.dataset) &&
    (v.secPerKimg === undefined || isNumOrNull(v.secPerKimg)) && (v.lastError === undefined || v.lastError === null || isStr(v.lastError, 100_000))
  );
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

/** Guards for every host → webview message of the loss-curves panel (the webview runs them before use). */
export const lossWebviewValidators: RpcValidators<LossWebviewApi, LossHostApi> = {
  events: { runInfo: isLossRunInfo, stats: isStatsChunk, metrics: isMetricsChunk },
  requests: {},
  results: { hello: isLossRunInfo },
};

//#endregion

//#region snapshot panels (checkpoint viewer, segmentation)

/** What the checkpoint viewer and the segmentation panel show about their snapshot. */
export interface SnapshotPanelInfo {
  /** Folder (or .pkl) name, e.g. "network-snapshot-000004". */
  name: string;
  /** Who wrote it: GAN Inspector (default) or the official StyleGAN2-ADA / GGDR code (a .pkl). */
  origin?: 'gan-inspector' | 'official';
  /** Classes of a conditional model (c_dim); 0 or absent = unconditional. */
  classes?: number;
  /** Absolute path of the snapshot folder (or file). */
  dir: string;
  runDir: string;
  runName: string;
  kimg: number | null;
  resolution: number | null;
  channels: number | null;
  preset?: string;
  dataset?: string;
  /** GGDR settings of the run; null when it was trained without GGDR (no decoder). */
  ggdr: { res: number; weight: number } | null;
  /** Generator block resolutions (4, 8, …, resolution). */
  blockResolutions: number[];
  createdAt?: string;
  /** Set when the snapshot cannot be loaded; the panel shows it instead of the controls. */
  error?: string;
  /** Seeds the panel should start with (e.g. handed over from the viewer). */
  initialSeeds?: string;
}

/** A reply that was superseded by a newer request (the webview ignores it). */
export interface Cancelled {
  cancelled: true;
}

/** Largest seed spec text accepted from a webview. */
export const MAX_SEED_SPEC = 400;
/** Most seeds the segmentation panel clusters at once (K-means over every pixel of the batch). */
export const MAX_SEGMENT_SEEDS = 64;
/** Most seeds per snapshot in the across-snapshots strip. */
export const MAX_ACROSS_SEEDS = 16;

//#endregion

//#region checkpoint viewer

export interface ViewerGenParams {
  which: NetworkName;
  psi: number;
  noiseMode: NoiseModeName;
  noiseSeed: number;
  /** Class of a conditional model (0 … classes − 1); absent for unconditional ones. */
  label?: number;
}

export interface ViewerRenderResult {
  images: SampleImage[];
  ms: number;
  backend: string;
  /** True when the checkpoint had to be read from disk for this render. */
  loaded: boolean;
}

/** The viewer's kinds of request (one lane each). */
export type ViewerJob = 'grid' | 'interp' | 'export';
const VIEWER_JOBS: readonly ViewerJob[] = ['grid', 'interp', 'export'];

/** Messages the host receives from a checkpoint-viewer webview. */
export interface ViewerHostApi extends RpcApi {
  events: {
    /** Open the segmentation panel of this snapshot with these seeds. */
    openSegmentation: { seeds: string };
    /** Cancel the request in flight of one kind (loading a big checkpoint takes seconds). */
    cancel: { what: ViewerJob };
    webviewError: { message: string };
  };
  requests: {
    hello: { params: Record<string, never>; result: SnapshotPanelInfo };
    render: { params: ViewerGenParams & { seeds: string }; result: ViewerRenderResult | Cancelled };
    interpolate: { params: ViewerGenParams & { seedA: number; seedB: number; steps: number; mode: InterpMode }; result: InterpResult | Cancelled };
    /** Writes the grid PNG into the run folder; replies with its path. */
    exportGrid: { params: ViewerGenParams & { seeds: string; cols: number }; result: { file: string } | Cancelled };
  };
}

/** Messages a checkpoint-viewer webview receives. */
export interface ViewerWebviewApi extends RpcApi {
  events: {
    /** `message`: what the process is doing ("loading: …" while a checkpoint is read). */
    progress: { what: ViewerJob; done: number; total: number; message?: string };
  };
  requests: Record<string, never>;
}

/** What the checkpoint viewer persists with setState. */
export interface ViewerPanelState {
  v: 1;
  snapshot: string;
  seeds: string;
  cols: number;
  which: NetworkName;
  psi: number;
  noiseMode: NoiseModeName;
  noiseSeed: number;
  interp: { a: number; b: number; steps: number; mode: InterpMode; open: boolean };
  /** Class of a conditional model. */
  label?: number;
}

const isPsi = (v: unknown): v is number => isNum(v) && v >= PSI_MIN && v <= PSI_MAX;
const isWhich = (v: unknown): v is NetworkName => v === 'G' || v === 'G_ema';
const isNoise = (v: unknown): v is NoiseModeName => v === 'const' || v === 'random';
const isIntIn = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const GEN_KEYS = ['which', 'psi', 'noiseMode', 'noiseSeed', 'label'];
const isGenParams = (p: Record<string, unknown>) =>
  isWhich(p.which) && isPsi(p.psi) && isNoise(p.noiseMode) && isSeed(p.noiseSeed) && isLabel(p.label);
const isSeedSpec = (v: unknown): v is string => isStr(v, MAX_SEED_SPEC) && v.trim().length > 0;
const isInterpMode = (v: unknown): v is InterpMode => v === 'lerp' || v === 'slerp';

export function isViewerPanelState(v: unknown): v is ViewerPanelState {
  if (!isObj(v) || v.v !== 1 || !isStr(v.snapshot) || !v.snapshot || !isStr(v.seeds, MAX_SEED_SPEC) || !isIntIn(v.cols, 1, 64)) return false;
  if (!isGenParams(v)) return false;
  const i = v.interp;
  return isObj(i) && isSeed(i.a) && isSeed(i.b) && isIntIn(i.steps, 2, MAX_INTERP_STEPS) && isInterpMode(i.mode) && typeof i.open === 'boolean';
}

/** Guards for every webview → host message of the checkpoint viewer. */
export const viewerHostValidators: RpcValidators<ViewerHostApi, ViewerWebviewApi> = {
  events: {
    openSegmentation: (p): p is { seeds: string } => isObj(p) && onlyKeys(p, ['seeds']) && isStr(p.seeds, MAX_SEED_SPEC),
    cancel: (p): p is { what: ViewerJob } => isObj(p) && onlyKeys(p, ['what']) && VIEWER_JOBS.includes(p.what as ViewerJob),
    webviewError: (p): p is { message: string } => isObj(p) && onlyKeys(p, ['message']) && isStr(p.message, 10_000),
  },
  requests: {
    hello: (p): p is Record<string, never> => isObj(p) && Object.keys(p).length === 0,
    render: (p): p is ViewerHostApi['requests']['render']['params'] =>
      isObj(p) && onlyKeys(p, [...GEN_KEYS, 'seeds']) && isGenParams(p) && isSeedSpec(p.seeds),
    interpolate: (p): p is ViewerHostApi['requests']['interpolate']['params'] =>
      isObj(p) && onlyKeys(p, [...GEN_KEYS, 'seedA', 'seedB', 'steps', 'mode']) && isGenParams(p) &&
      isSeed(p.seedA) && isSeed(p.seedB) && isIntIn(p.steps, 2, MAX_INTERP_STEPS) && isInterpMode(p.mode),
    exportGrid: (p): p is ViewerHostApi['requests']['exportGrid']['params'] =>
      isObj(p) && onlyKeys(p, [...GEN_KEYS, 'seeds', 'cols']) && isGenParams(p) && isSeedSpec(p.seeds) && isIntIn(p.cols, 1, 64),
  },
};

//#endregion

//#region segmentation

export type SegmentationView = 'maps' | 'overlay';

export interface SegmentationInfo extends SnapshotPanelInfo {
  /** Every snapshot of the run, oldest first (for the across-snapshots strip). */
  snapshots: Array<{ path: string; name: string; kimg: number; loadable: boolean; reason?: string }>;
}

export interface SegmentRequest {
  seeds: string;
  resolutions: number[];
  k: number;
  metric: MetricName;
  psi: number;
  /** Also run D's decoder on real images from the run's dataset. */
  reals: boolean;
  /** Class of a conditional model. */
  label?: number;
}

export interface AcrossRequest {
  seeds: string;
  res: number;
  k: number;
  metric: MetricName;
  psi: number;
}

/** Messages the host receives from a segmentation webview. */
export interface SegmentationHostApi extends RpcApi {
  events: {
    cancel: { what: 'segment' | 'across' };
    /** Open the checkpoint viewer of this snapshot. */
    openViewer: Record<string, never>;
    webviewError: { message: string };
  };
  requests: {
    hello: { params: Record<string, never>; result: SegmentationInfo };
    segment: { params: SegmentRequest; result: SegmentPayload | Cancelled };
    /** Items arrive as `acrossItem` events; the reply says how many succeeded. */
    across: { params: AcrossRequest; result: { done: number; failed: number } | Cancelled };
  };
}

/** Messages a segmentation webview receives. */
export interface SegmentationWebviewApi extends RpcApi {
  events: {
    progress: { what: 'segment' | 'across'; done: number; total: number; message: string };
    acrossItem: AcrossItem;
  };
  requests: Record<string, never>;
}

/** What the segmentation panel persists (and its serializer restores from). */
export interface SegmentationPanelState {
  v: 1;
  snapshot: string;
  seeds: string;
  resolutions: number[];
  k: number;
  metric: MetricName;
  psi: number;
  reals: boolean;
  view: SegmentationView;
  /** Overlay opacity in [0,1]. */
  opacity: number;
  /** Highlighted cluster (per resolution: ids are per clustering). */
  selected: { res: number; cluster: number } | null;
  acrossRes: number;
  acrossSeeds: string;
  /** Class of a conditional model. */
  label?: number;
}

const isResolution = (v: unknown): v is number => isIntIn(v, 4, 1024) && ((v as number) & ((v as number) - 1)) === 0;
const isMetric = (v: unknown): v is MetricName => v === 'cosine' || v === 'euclidean';

export function isSegmentationPanelState(v: unknown): v is SegmentationPanelState {
  return (
    isObj(v) && v.v === 1 && isStr(v.snapshot) && v.snapshot.length > 0 && isStr(v.seeds, MAX_SEED_SPEC) &&
    Array.isArray(v.resolutions) && v.resolutions.length <= 10 && v.resolutions.every(isResolution) &&
    isIntIn(v.k, 2, MAX_K) && isMetric(v.metric) && isPsi(v.psi) && typeof v.reals === 'boolean' &&
    (v.view === 'maps' || v.view === 'overlay') && isNum(v.opacity) && v.opacity >= 0 && v.opacity <= 1 &&
    (v.selected === null || (isObj(v.selected) && isResolution(v.selected.res) && isIntIn(v.selected.cluster, 0, MAX_K - 1))) &&
    isResolution(v.acrossRes) && isStr(v.acrossSeeds, MAX_SEED_SPEC) && isLabel(v.label)
  );
}

/** Guards for every webview → host message of the segmentation panel. */
export const segmentationHostValidators: RpcValidators<SegmentationHostApi, SegmentationWebviewApi> = {
  events: {
    cancel: (p): p is { what: 'segment' | 'across' } => isObj(p) && onlyKeys(p, ['what']) && (p.what === 'segment' || p.what === 'across'),
    openViewer: (p): p is Record<string, never> => isObj(p) && Object.keys(p).length === 0,
    webviewError: (p): p is { message: string } => isObj(p) && onlyKeys(p, ['message']) && isStr(p.message, 10_000),
  },
  requests: {
    hello: (p): p is Record<string, never> => isObj(p) && Object.keys(p).length === 0,
    segment: (p): p is SegmentRequest =>
      isObj(p) && onlyKeys(p, ['seeds', 'resolutions', 'k', 'metric', 'psi', 'reals', 'label']) && isSeedSpec(p.seeds) &&
      Array.isArray(p.resolutions) && p.resolutions.length > 0 && p.resolutions.length <= 10 && p.resolutions.every(isResolution) &&
      isIntIn(p.k, 2, MAX_K) && isMetric(p.metric) && isPsi(p.psi) && typeof p.reals === 'boolean' && isLabel(p.label),
    across: (p): p is AcrossRequest =>
      isObj(p) && onlyKeys(p, ['seeds', 'res', 'k', 'metric', 'psi']) && isSeedSpec(p.seeds) && isResolution(p.res) &&
      isIntIn(p.k, 2, MAX_K) && isMetric(p.metric) && isPsi(p.psi),
  },
};

//#endregion

//#region compare runs

/** A table cell: number, text, or null when the run does not have it. */
export type CompareCellValue = number | string | null;

/** One column of the runs × key-figures table. `id` is the stable `data-col` of its cells. */
export interface CompareColumn {
  id: string;
  label: string;
  kind: 'text' | 'number';
  /** How numbers are shown: kimg (≤ 3 decimals), seconds (1 decimal), metric (5 significant digits), int. */
  format?: 'kimg' | 'sec' | 'metric' | 'int';
  /** Metric series this column belongs to (metric columns only); the panel groups them under one header. */
  metric?: string;
  /** Label under the metric's group header ("final", "@kimg", …). */
  short?: string;
  /** Tooltip. */
  title?: string;
}

/** One run's row; `run` is the folder name (the `data-run` attribute). */
export interface CompareRow {
  run: string;
  cells: Record<string, CompareCellValue>;
}

export interface CompareTable {
  columns: CompareColumn[];
  rows: CompareRow[];
}

/** Options that differ between the compared runs: one row per dot path. */
export interface OptionDiffRow {
  key: string;
  /** One entry per compared run that has options, in run order; `present: false` = the key is absent there; `na` = another trainer's option. */
  values: Array<{ run: string; present: boolean; text: string; na?: true }>;
}

export interface OptionDiff {
  /** Runs whose options were compared. */
  runs: string[];
  /** Runs left out (no readable training_options.json), with the reason. */
  missing: Array<{ run: string; reason: string }>;
  rows: OptionDiffRow[];
  /** Leaf options compared in total (shared and not). */
  totalKeys: number;
}

/** A sample grid of a run that the compare panel can show. */
export interface CompareGrid {
  file: string;
  /** kimg of the grid (fakes000004.png → 4); null for fakes_init / reals. */
  kimg: number | null;
  /** Webview URI of the image. */
  uri: string;
  /** A loadable snapshot exists at this kimg (our runs). */
  snapshot: boolean;
}

/** What the compare panel shows about one run. */
export interface CompareRunInfo {
  name: string;
  dir: string;
  origin: RunOrigin;
  state: RunDisplayState;
  ggdr?: boolean;
  /** fakes*.png grids, oldest first (reals/fakes_init excluded). */
  grids: CompareGrid[];
  /** Cell size in px and cells per row of its grids, when known (our runs: cell i = seed i). */
  cellPx: number | null;
  /** True when cell i of its fakes grids is seed i (our runs); official grids use the official code's random latents. */
  seedCells: boolean;
  /**
   * Official runs: kimg of each loadable .pkl snapshot, oldest first. Same-seed cells of these runs are
   * rendered from the pickle (`renderCells`), seeds being numpy RandomState seeds as in generate.py.
   */
  pickles?: number[];
  /** Shown under the run's grid (e.g. why official snapshots cannot be rendered). */
  note?: string;
  lastError?: string | null;
}

/** One entry of the scalar dropdown. */
export interface CompareScalar {
  /** Stats key ("Loss/G/loss") or "Metrics/<series>". */
  key: string;
  label: string;
  /** How many of the compared runs have it. */
  runs: number;
}

export interface CompareInfo {
  runs: CompareRunInfo[];
  table: CompareTable;
  optionDiff: OptionDiff;
  scalars: CompareScalar[];
  /** Run folders that could not be read (they are left out). */
  errors: string[];
}

/** One run's points of the chosen scalar (compact: only rows that have a kimg). */
export interface CompareSeries {
  run: string;
  /** The key actually read for this run (official runs: Loss/D/loss_gen_reg for the GGDR term); null when absent. */
  sourceKey: string | null;
  kimg: number[];
  value: (number | null)[];
}

export type CompareExportFormat = 'csv' | 'markdown';

/** Messages the host receives from a compare webview. */
export interface CompareHostApi extends RpcApi {
  events: {
    /** Open the loss curves of one compared run (by folder name: the webview never sends paths). */
    openLossCurves: { run: string };
    webviewError: { message: string };
  };
  requests: {
    hello: { params: Record<string, never>; result: CompareInfo };
    series: { params: { key: string }; result: { key: string; runs: CompareSeries[] } };
    /** Save dialog, then write; `cancelled` when the dialog was dismissed. */
    exportTable: { params: { format: CompareExportFormat }; result: { file: string } | Cancelled };
    /**
     * Same-seed cells of an official run, rendered from its .pkl snapshot at or before `kimg` ('latest' or
     * a number as text): G_ema, ψ 1, const noise. Runs are named by folder name.
     */
    renderCells: { params: { run: string; kimg: string; seeds: string }; result: CompareCells | Cancelled };
  };
}

/** Cells rendered from a snapshot for the compare panel. */
export interface CompareCells {
  run: string;
  /** The snapshot used, e.g. "network-snapshot-000100.pkl". */
  snapshot: string;
  kimg: number;
  images: SampleImage[];
  resolution: number;
}

/** Messages a compare webview receives. */
export interface CompareWebviewApi extends RpcApi {
  events: {
    /** Runs changed on disk (training progressed, a metric line arrived): redraw. */
    info: CompareInfo;
  };
  requests: Record<string, never>;
}

/** What the compare panel persists (its serializer reopens the same runs). */
export interface ComparePanelState {
  v: 1;
  runDirs: string[];
  scalar: string;
  smoothing: number;
  log: boolean;
  /** 'latest' or a kimg (as text) for the sample grids. */
  gridKimg: string;
  gridMode: 'grids' | 'cells';
  seeds: string;
  hidden: string[];
}

/** Most runs one compare panel takes. */
export const MAX_COMPARE_RUNS = 16;

export function isComparePanelState(v: unknown): v is ComparePanelState {
  return (
    isObj(v) && v.v === 1 && isStrArray(v.runDirs, MAX_COMPARE_RUNS, 4096) && v.runDirs.length > 0 && v.runDirs.every((d) => d.length > 0) &&
    isStr(v.scalar, 512) && isNum(v.smoothing) && v.smoothing >= 0 && v.smoothing <= 0.99 && typeof v.log === 'boolean' &&
    isStr(v.gridKimg, 32) && (v.gridMode === 'grids' || v.gridMode === 'cells') && isStr(v.seeds, MAX_SEED_SPEC) &&
    isStrArray(v.hidden, MAX_COMPARE_RUNS)
  );
}

/** Guards for every webview → host message of the compare panel. */
export const compareHostValidators: RpcValidators<CompareHostApi, CompareWebviewApi> = {
  events: {
    openLossCurves: (p): p is { run: string } => isObj(p) && onlyKeys(p, ['run']) && isStr(p.run, 512) && p.run.length > 0,
    webviewError: (p): p is { message: string } => isObj(p) && onlyKeys(p, ['message']) && isStr(p.message, 10_000),
  },
  requests: {
    hello: (p): p is Record<string, never> => isObj(p) && Object.keys(p).length === 0,
    series: (p): p is { key: string } => isObj(p) && onlyKeys(p, ['key']) && isStr(p.key, 512) && p.key.length > 0,
    exportTable: (p): p is { format: CompareExportFormat } => isObj(p) && onlyKeys(p, ['format']) && (p.format === 'csv' || p.format === 'markdown'),
    renderCells: (p): p is CompareHostApi['requests']['renderCells']['params'] =>
      isObj(p) && onlyKeys(p, ['run', 'kimg', 'seeds']) && isStr(p.run, 512) && p.run.length > 0 &&
      isStr(p.kimg, 32) && (p.kimg === 'latest' || (p.kimg.trim() !== '' && Number.isFinite(Number(p.kimg)) && Number(p.kimg) >= 0)) && isSeedSpec(p.seeds),
  },
};

//#endregion
