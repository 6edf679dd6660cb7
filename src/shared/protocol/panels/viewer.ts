/**
 * The checkpoint viewer's protocol (and SnapshotPanelInfo, which the segmentation panel shares): what the
 * webview asks for (grids, interpolations, PNG export), what it persists, and the host's guards. Types of
 * what the webview sends or persists are derived from their schemas.
 *
 * Adding a message: a schema here (`fooParamsSchema`), its line in ViewerHostApi (`s.Infer<typeof …>`) and
 * in viewerHostValidators (a missing guard is a compile error), then the host handler and the webview call.
 */
import * as s from '../schema';
import type { RpcApi, RpcValidators } from '../rpc';
import type { ViewerModes } from '../../modeCoverage';
import { MAX_INTERP_STEPS, type InterpMode, type InterpResult, type NetworkName, type NoiseModeName, type SampleImage } from '../inference';
import {
  folderSchema, helloSchema, labelSchema, psiSchema, seedSchema, seedSpecSchema, seedTextSchema, webviewErrorSchema,
  type Cancelled, type HelloParams, type WebviewError,
} from './common';

/** What the checkpoint viewer and the segmentation panel show about their snapshot (host → webview, trusted). */
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

const NETWORKS = ['G', 'G_ema'] as const satisfies readonly NetworkName[];
const NOISE_MODES = ['const', 'random'] as const satisfies readonly NoiseModeName[];
export const interpModeSchema = s.picklist(['lerp', 'slerp'] as const satisfies readonly InterpMode[]);
/** Columns of a grid. */
const colsSchema = s.number({ int: true, min: 1, max: 64 });
const stepsSchema = s.number({ int: true, min: 2, max: MAX_INTERP_STEPS });

/** What generation depends on (spread into each request's shape). */
const genShape = {
  which: s.picklist(NETWORKS),
  psi: psiSchema,
  noiseMode: s.picklist(NOISE_MODES),
  noiseSeed: seedSchema,
  /** Class of a conditional model (0 … classes − 1); absent for unconditional ones. */
  label: labelSchema,
};
export type ViewerGenParams = s.ObjectOf<typeof genShape>;

export const viewerRenderSchema = s.object({ ...genShape, seeds: seedSpecSchema });
export const viewerInterpolateSchema = s.object({ ...genShape, seedA: seedSchema, seedB: seedSchema, steps: stepsSchema, mode: interpModeSchema });
export const viewerExportGridSchema = s.object({ ...genShape, seeds: seedSpecSchema, cols: colsSchema });

/** The viewer's kinds of request (one lane each). */
export type ViewerJob = 'grid' | 'interp' | 'export';
const VIEWER_JOBS: readonly ViewerJob[] = ['grid', 'interp', 'export'];
export const viewerCancelSchema = s.object({ what: s.picklist(VIEWER_JOBS) });
export const openSegmentationSchema = s.object({ seeds: seedTextSchema });

export interface ViewerRenderResult {
  images: SampleImage[];
  ms: number;
  backend: string;
  /** True when the checkpoint had to be read from disk for this render. */
  loaded: boolean;
}

/** Messages the host receives from a checkpoint-viewer webview. */
export interface ViewerHostApi extends RpcApi {
  events: {
    /** Open the segmentation panel of this snapshot with these seeds. */
    openSegmentation: s.Infer<typeof openSegmentationSchema>;
    /** Cancel the request in flight of one kind (loading a big checkpoint takes seconds). */
    cancel: s.Infer<typeof viewerCancelSchema>;
    webviewError: WebviewError;
  };
  requests: {
    hello: { params: HelloParams; result: SnapshotPanelInfo };
    render: { params: s.Infer<typeof viewerRenderSchema>; result: ViewerRenderResult | Cancelled };
    interpolate: { params: s.Infer<typeof viewerInterpolateSchema>; result: InterpResult | Cancelled };
    /** Writes the grid PNG into the run folder; replies with its path. */
    exportGrid: { params: s.Infer<typeof viewerExportGridSchema>; result: { file: string } | Cancelled };
    /** The mode-coverage section: this snapshot's metric-modes* lines, or why mode coverage is undefined for its run. */
    modes: { params: HelloParams; result: ViewerModes };
    /** Computes the modes metric of this snapshot through Compute Metrics (its progress notification and Cancel), then replies as `modes`. */
    computeModes: { params: HelloParams; result: ViewerModes | Cancelled };
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
export const viewerPanelStateSchema = s.looseObject({
  v: s.literal(1),
  snapshot: folderSchema,
  seeds: seedTextSchema,
  cols: colsSchema,
  ...genShape,
  interp: s.looseObject({ a: seedSchema, b: seedSchema, steps: stepsSchema, mode: interpModeSchema, open: s.boolean() }),
});
export type ViewerPanelState = s.Infer<typeof viewerPanelStateSchema>;
export const isViewerPanelState = s.guard(viewerPanelStateSchema);

/** Guards for every webview → host message of the checkpoint viewer. */
export const viewerHostValidators: RpcValidators<ViewerHostApi, ViewerWebviewApi> = {
  events: {
    openSegmentation: s.guard(openSegmentationSchema),
    cancel: s.guard(viewerCancelSchema),
    webviewError: s.guard(webviewErrorSchema),
  },
  requests: {
    hello: s.guard(helloSchema),
    render: s.guard(viewerRenderSchema),
    interpolate: s.guard(viewerInterpolateSchema),
    exportGrid: s.guard(viewerExportGridSchema),
    modes: s.guard(helloSchema),
    computeModes: s.guard(helloSchema),
  },
};
