/**
 * The loss-curves panel's protocol: what the host streams (run info, stats.jsonl rows, metric series),
 * what the webview sends, and the state it persists. Every type is derived from its schema; the host
 * checks everything the webview sends, and the webview checks everything the host sends.
 */
import * as s from '../schema';
import type { RpcApi, RpcValidators } from '../rpc';
import type { RunOrigin } from '../../runTypes';
import { RUN_DISPLAY_STATES, folderSchema, helloSchema, smoothingSchema, webviewErrorSchema, type HelloParams, type WebviewError } from './common';

const RUN_ORIGINS: readonly RunOrigin[] = ['gan-inspector', 'stylegan2-ada'];
/** Numbers that are not finite (an unknown total) arrive as null once VS Code has JSON-encoded the message. */
const jsonNumber = s.nullable(s.number({ finite: false }));
const numOrNull = s.nullable(s.number());

/**
 * What the loss-curves panel shows about its run. Extra keys are tolerated (the host may send more than
 * this panel shows); the ones it uses must have their types.
 */
export const lossRunInfoSchema = s.looseObject({
  name: s.string({ max: 1024 }),
  dir: s.string(),
  origin: s.picklist(RUN_ORIGINS),
  state: s.picklist(RUN_DISPLAY_STATES),
  curKimg: jsonNumber,
  totalKimg: jsonNumber,
  ggdr: s.optional(s.boolean()),
  backend: s.optional(s.string({ max: 256 })),
  preset: s.optional(s.string({ max: 256 })),
  dataset: s.optional(s.string()),
  secPerKimg: s.optional(jsonNumber),
  lastError: s.optional(s.nullable(s.string({ max: 100_000 }))),
});
export type LossRunInfo = s.Infer<typeof lossRunInfoSchema>;

/** The problem of an array at `path` with `got` entries where there should be one per row/point (`n`). */
const lengthIssue = (path: s.Path, got: number, n: number, per = 'row'): s.Issue => ({ path, message: `${got} entries, expected ${n} (one per ${per})` });

/**
 * New rows of stats.jsonl, column-wise. Every array has one entry per row; null = the key is absent in
 * that row or its value is not finite. A column absent from a chunk is all-null for the chunk's rows.
 * A long backlog (more rows than the host's cap, e.g. opening a 1 GB file) arrives min/max-decimated:
 * such chunks carry `source` and `bucketRows`; each of their rows is still an exact stats.jsonl line.
 */
export const statsChunkSchema = s.refine(
  s.object({
    /** Drop everything received before (first chunk after hello, or the file was truncated/replaced). */
    reset: s.boolean(),
    /** Row index of the chunk's first row (rows received so far, after a reset 0). */
    start: s.count(),
    /** Unix seconds of each row. */
    timestamp: s.array(s.number()),
    /** Progress/kimg of each row. */
    kimg: s.array(numOrNull),
    /** Mean of each scalar, by stats name ("Loss/G/loss"). */
    columns: s.record(s.array(numOrNull)),
    /** Lines of stats.jsonl skipped as unreadable so far (since the last reset). */
    skipped: s.count(),
    /** Lines of stats.jsonl represented up to this chunk's last row (since the last reset), counting lines left out by decimation. */
    sourceRows: s.count(),
    /** Decimated chunks only: the stats.jsonl line index (0-based) of each row, increasing. Absent: the rows are lines sourceRows−n … sourceRows−1. */
    source: s.optional(s.array(s.count())),
    /** Decimated chunks only: bucket width in stats.jsonl lines; per bucket, each series' min and max rows were kept. */
    bucketRows: s.optional(s.count(1)),
    /** More of the same poll follows (further stats chunks, or its metrics update): the webview draws once, after the last. */
    more: s.optional(s.boolean()),
    /**
     * Incomplete last lines held back, waiting for their newline (0 or 1; absent = 0). A live run shows it as
     * waiting; a run that is not running, or a line unchanged across polls (then counted in `skipped` instead), has a torn line.
     */
    incomplete: s.optional(s.number({ int: true, min: 0, max: 1 })),
  }),
  (c) => {
    const n = c.timestamp.length;
    if (c.kimg.length !== n) return lengthIssue(['kimg'], c.kimg.length, n);
    for (const [key, col] of Object.entries(c.columns)) if (col.length !== n) return lengthIssue(['columns', key], col.length, n);
    if (c.sourceRows < n) return { path: ['sourceRows'], message: `${c.sourceRows} is less than the chunk's ${n} rows` };
    if ((c.source === undefined) !== (c.bucketRows === undefined)) return 'source and bucketRows come together (decimated chunks) or not at all';
    const src = c.source;
    if (src) {
      if (src.length !== n) return lengthIssue(['source'], src.length, n);
      for (let i = 1; i < n; i++) if (src[i] <= src[i - 1]) return { path: ['source', i], message: `line ${src[i]} does not increase` };
      if (n > 0 && src[n - 1] !== c.sourceRows - 1) return { path: ['source', n - 1], message: `last line ${src[n - 1]} is not sourceRows − 1 (${c.sourceRows - 1})` };
    }
    return undefined;
  },
);
export type StatsChunk = s.Infer<typeof statsChunkSchema>;

/** One metric result series from metric-<name>.jsonl (one point per evaluated snapshot). */
export const metricSeriesChunkSchema = s.refine(
  s.object({
    /** Result key, e.g. "fid50k_full". */
    name: s.string({ max: 512 }),
    /** Snapshot kimg of each point (null when the snapshot name has no kimg). */
    kimg: s.array(numOrNull),
    timestamp: s.array(s.number()),
    value: s.array(numOrNull),
  }),
  (m) => {
    const n = m.timestamp.length;
    if (m.kimg.length !== n) return lengthIssue(['kimg'], m.kimg.length, n, 'point');
    if (m.value.length !== n) return lengthIssue(['value'], m.value.length, n, 'point');
    return undefined;
  },
);
export type MetricSeriesChunk = s.Infer<typeof metricSeriesChunkSchema>;

export const metricsChunkSchema = s.object({
  reset: s.boolean(),
  /** Only series with new points. */
  series: s.array(metricSeriesChunkSchema),
  /** Unreadable lines across all metric files so far. */
  skipped: s.count(),
});
export type MetricsChunk = s.Infer<typeof metricsChunkSchema>;

/** Files the loss panel may ask the host to open. */
export type LossOpenTarget = 'log' | 'stats' | 'folder';
const LOSS_OPEN_TARGETS: readonly LossOpenTarget[] = ['log', 'stats', 'folder'];
export const lossOpenFileSchema = s.object({ target: s.picklist(LOSS_OPEN_TARGETS) });

/** Messages the host receives from a loss-curves webview. */
export interface LossHostApi extends RpcApi {
  events: {
    /** Open one of the run's files (or reveal its folder). */
    openFile: s.Infer<typeof lossOpenFileSchema>;
    webviewError: WebviewError;
  };
  requests: {
    /** The webview is ready: reply with the run, then the host streams all data from the start. */
    hello: { params: HelloParams; result: LossRunInfo };
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
const LOSS_X_AXES: readonly LossXAxis[] = ['kimg', 'time'];

/** What a loss-curves webview persists with setState (and what its serializer restores from). */
export const lossPanelStateSchema = s.looseObject({
  v: s.literal(1),
  runDir: folderSchema,
  /** TensorBoard smoothing weight in [0, 0.99]. */
  smoothing: smoothingSchema,
  xAxis: s.picklist(LOSS_X_AXES),
  /** Group ids drawn on a log y-scale. */
  logGroups: s.array(s.string({ max: 512 }), { max: 100 }),
  /** Series hidden by the user. */
  hidden: s.array(s.string({ max: 512 }), { max: 1000 }),
  /** Collapsed group ids. */
  collapsed: s.array(s.string({ max: 512 }), { max: 100 }),
});
export type LossPanelState = s.Infer<typeof lossPanelStateSchema>;

export const isLossRunInfo = s.guard(lossRunInfoSchema);
/** Structural guard of a StatsChunk (array lengths agree, indices are consistent). */
export const isStatsChunk = s.guard(statsChunkSchema);
export const isMetricsChunk = s.guard(metricsChunkSchema);
/** Guard for persisted state (it comes back from the webview on reload, so the host checks it). */
export const isLossPanelState = s.guard(lossPanelStateSchema);

/** Guards for every webview → host message of the loss-curves panel. */
export const lossHostValidators: RpcValidators<LossHostApi, LossWebviewApi> = {
  events: { openFile: s.guard(lossOpenFileSchema), webviewError: s.guard(webviewErrorSchema) },
  requests: { hello: s.guard(helloSchema) },
};

/** Guards for every host → webview message of the loss-curves panel (the webview runs them before use). */
export const lossWebviewValidators: RpcValidators<LossWebviewApi, LossHostApi> = {
  events: { runInfo: isLossRunInfo, stats: isStatsChunk, metrics: isMetricsChunk },
  requests: {},
  results: { hello: isLossRunInfo },
};
