/**
 * The compare-runs panel's protocol: the runs × key-figures table, option diff, scalar overlays, sample
 * grids and same-seed cells of several runs. Types of what the webview sends or persists are derived from
 * their schemas; what the host sends (CompareInfo …) is trusted and typed by hand.
 */
import * as s from '../schema';
import type { RpcApi, RpcValidators } from '../rpc';
import type { RunOrigin } from '../../runTypes';
import type { SampleImage } from '../inference';
import {
  folderSchema, helloSchema, seedSpecSchema, seedTextSchema, smoothingSchema, webviewErrorSchema,
  type Cancelled, type HelloParams, type RunDisplayState, type WebviewError,
} from './common';


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
const EXPORT_FORMATS: readonly CompareExportFormat[] = ['csv', 'markdown'];

/** A compared run, by folder name (the webview never sends paths). */
const runNameSchema = s.string({ min: 1, max: 512 });
export const openLossCurvesSchema = s.object({ run: runNameSchema });
export const seriesRequestSchema = s.object({ key: s.string({ min: 1, max: 512 }) });
export const exportTableSchema = s.object({ format: s.picklist(EXPORT_FORMATS) });
export const renderCellsSchema = s.object({
  run: runNameSchema,
  /** 'latest' or a kimg ≥ 0 as text. */
  kimg: s.refine(s.string({ max: 32 }), (k) =>
    k === 'latest' || (k.trim() !== '' && Number.isFinite(Number(k)) && Number(k) >= 0) ? undefined : `expected 'latest' or a kimg ≥ 0, got ${JSON.stringify(k)}`),
  seeds: seedSpecSchema,
});

/** Messages the host receives from a compare webview. */
export interface CompareHostApi extends RpcApi {
  events: {
    /** Open the loss curves of one compared run (by folder name: the webview never sends paths). */
    openLossCurves: s.Infer<typeof openLossCurvesSchema>;
    webviewError: WebviewError;
  };
  requests: {
    hello: { params: HelloParams; result: CompareInfo };
    series: { params: s.Infer<typeof seriesRequestSchema>; result: { key: string; runs: CompareSeries[] } };
    /** Save dialog, then write; `cancelled` when the dialog was dismissed. */
    exportTable: { params: s.Infer<typeof exportTableSchema>; result: { file: string } | Cancelled };
    /**
     * Same-seed cells of an official run, rendered from its .pkl snapshot at or before `kimg` ('latest' or
     * a number as text): G_ema, ψ 1, const noise. Runs are named by folder name.
     */
    renderCells: { params: s.Infer<typeof renderCellsSchema>; result: CompareCells | Cancelled };
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

/** Most runs one compare panel takes. */
export const MAX_COMPARE_RUNS = 16;

/** What the compare panel persists (its serializer reopens the same runs). */
export const comparePanelStateSchema = s.looseObject({
  v: s.literal(1),
  runDirs: s.array(folderSchema, { min: 1, max: MAX_COMPARE_RUNS }),
  scalar: s.string({ max: 512 }),
  smoothing: smoothingSchema,
  log: s.boolean(),
  /** 'latest' or a kimg (as text) for the sample grids. */
  gridKimg: s.string({ max: 32 }),
  gridMode: s.picklist(['grids', 'cells']),
  seeds: seedTextSchema,
  hidden: s.array(s.string({ max: 512 }), { max: MAX_COMPARE_RUNS }),
});
export type ComparePanelState = s.Infer<typeof comparePanelStateSchema>;
export const isComparePanelState = s.guard(comparePanelStateSchema);

/** Guards for every webview → host message of the compare panel. */
export const compareHostValidators: RpcValidators<CompareHostApi, CompareWebviewApi> = {
  events: {
    openLossCurves: s.guard(openLossCurvesSchema),
    webviewError: s.guard(webviewErrorSchema),
  },
  requests: {
    hello: s.guard(helloSchema),
    series: s.guard(seriesRequestSchema),
    exportTable: s.guard(exportTableSchema),
    renderCells: s.guard(renderCellsSchema),
  },
};
