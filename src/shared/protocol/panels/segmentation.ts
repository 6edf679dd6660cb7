/**
 * The segmentation panel's protocol: K-means segmentations of G's features and D's decoder output for a
 * batch of seeds, and the across-snapshots strip. Types of what the webview sends or persists are derived
 * from their schemas.
 */
import * as s from '../schema';
import type { RpcApi, RpcValidators } from '../rpc';
import { MAX_K, type AcrossItem, type MetricName, type SegmentPayload } from '../inference';
import {
  folderSchema, helloSchema, labelSchema, psiSchema, resolutionSchema, seedSpecSchema, seedTextSchema, webviewErrorSchema,
  type Cancelled, type HelloParams, type WebviewError,
} from './common';
import type { SnapshotPanelInfo } from './viewer';

/** Most seeds the segmentation panel clusters at once (K-means over every pixel of the batch). */
export const MAX_SEGMENT_SEEDS = 64;
/** Most seeds per snapshot in the across-snapshots strip. */
export const MAX_ACROSS_SEEDS = 16;
/** Most resolutions one segmentation asks for. */
const MAX_RESOLUTIONS = 10;

export type SegmentationView = 'maps' | 'overlay';
const VIEWS: readonly SegmentationView[] = ['maps', 'overlay'];
const metricSchema = s.picklist(['cosine', 'euclidean'] as const satisfies readonly MetricName[]);
const kSchema = s.number({ int: true, min: 2, max: MAX_K });

/** What the segmentation panel shows about its snapshot (host → webview, trusted). */
export interface SegmentationInfo extends SnapshotPanelInfo {
  /** Every snapshot of the run, oldest first (for the across-snapshots strip). */
  snapshots: Array<{ path: string; name: string; kimg: number; loadable: boolean; reason?: string }>;
}

export const segmentRequestSchema = s.object({
  seeds: seedSpecSchema,
  resolutions: s.array(resolutionSchema, { min: 1, max: MAX_RESOLUTIONS }),
  k: kSchema,
  metric: metricSchema,
  psi: psiSchema,
  /** Also run D's decoder on real images from the run's dataset. */
  reals: s.boolean(),
  /** Class of a conditional model. */
  label: labelSchema,
});
export type SegmentRequest = s.Infer<typeof segmentRequestSchema>;

export const acrossRequestSchema = s.object({ seeds: seedSpecSchema, res: resolutionSchema, k: kSchema, metric: metricSchema, psi: psiSchema });
export type AcrossRequest = s.Infer<typeof acrossRequestSchema>;

export const segmentationCancelSchema = s.object({ what: s.picklist(['segment', 'across']) });

/** Messages the host receives from a segmentation webview. */
export interface SegmentationHostApi extends RpcApi {
  events: {
    cancel: s.Infer<typeof segmentationCancelSchema>;
    /** Open the checkpoint viewer of this snapshot. */
    openViewer: HelloParams;
    webviewError: WebviewError;
  };
  requests: {
    hello: { params: HelloParams; result: SegmentationInfo };
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
export const segmentationPanelStateSchema = s.looseObject({
  v: s.literal(1),
  snapshot: folderSchema,
  seeds: seedTextSchema,
  resolutions: s.array(resolutionSchema, { max: MAX_RESOLUTIONS }),
  k: kSchema,
  metric: metricSchema,
  psi: psiSchema,
  reals: s.boolean(),
  view: s.picklist(VIEWS),
  /** Overlay opacity in [0,1]. */
  opacity: s.number({ min: 0, max: 1 }),
  /** Highlighted cluster (per resolution: ids are per clustering). */
  selected: s.nullable(s.looseObject({ res: resolutionSchema, cluster: s.number({ int: true, min: 0, max: MAX_K - 1 }) })),
  acrossRes: resolutionSchema,
  acrossSeeds: seedTextSchema,
  /** Class of a conditional model. */
  label: labelSchema,
});
export type SegmentationPanelState = s.Infer<typeof segmentationPanelStateSchema>;
export const isSegmentationPanelState = s.guard(segmentationPanelStateSchema);

/** Guards for every webview → host message of the segmentation panel. */
export const segmentationHostValidators: RpcValidators<SegmentationHostApi, SegmentationWebviewApi> = {
  events: {
    cancel: s.guard(segmentationCancelSchema),
    openViewer: s.guard(helloSchema),
    webviewError: s.guard(webviewErrorSchema),
  },
  requests: {
    hello: s.guard(helloSchema),
    segment: s.guard(segmentRequestSchema),
    across: s.guard(acrossRequestSchema),
  },
};
