/**
 * Messages between the extension host and the training child process (`dist/worker.js`, started with
 * child_process.fork so both ends use Node's IPC channel), carried by rpc.ts's MessageHandler like the
 * inference process's: each process serves one request, `start` (train or resume; its reply is how the
 * run ended) or `exportDataset` (write a StyleGAN2-ADA dataset zip; its reply is the result), streams
 * events while it runs, and exits after replying. `stop` (an event) stops training after the current
 * step with a snapshot saved. Plain data only; both ends validate what they receive, with the types
 * of what crosses the boundary derived from their schemas (schema.ts).
 */
import type { TrainingOverrides } from '../../core/config/options';
import type { RpcApi, RpcValidators } from './rpc';
import * as s from './schema';

//#region payloads

/** A path as it crosses the process boundary: non-empty, no NUL byte. */
const pathSchema = s.refine(s.string({ min: 1 }), (p) => (p.includes('\0') ? 'contains a NUL byte' : undefined));

/** Overrides are checked field by field by resolveOptions in the process (a UserError for people); here: an object. */
const overridesSchema = s.looseObject({}) as s.Schema<unknown> as s.Schema<TrainingOverrides>;

/** Start a new run with these overrides (preset + fields), or resume an existing run folder. */
export const startTrainingSchema = s.object({
  overrides: overridesSchema,
  /** Absolute path of a run folder to resume from its latest good snapshot. */
  resumeDir: s.optional(pathSchema),
});
export type StartTrainingParams = s.Infer<typeof startTrainingSchema>;

/** The run folder exists and training_options.json is written. */
export const trainingStartedSchema = s.object({
  runDir: pathSchema,
  runName: s.string({ max: 1000 }),
  backend: s.string({ max: 1000 }),
  totalKimg: s.number(),
});
export type TrainingStarted = s.Infer<typeof trainingStartedSchema>;

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

/** A figure JSON may have turned into null (NaN, ±Infinity): the host keeps its previous one then. */
const figureSchema = s.optional(s.nullable(s.number({ finite: false })));

/** TrainProgress as the host accepts it: losses must be an object (non-numbers in it are dropped by the host). */
export const trainProgressSchema = s.object({
  runDir: s.string(),
  curKimg: s.number(),
  totalKimg: s.number(),
  tick: figureSchema,
  secPerKimg: figureSchema,
  etaSec: figureSchema,
  losses: s.record(s.nullable(s.union([s.number({ finite: false }), s.string(), s.boolean()])), { maxKeys: 1000 }),
});
export type ReceivedProgress = s.Infer<typeof trainProgressSchema>;

/** The reply to `start`: the terminal state (the process exits right after). */
export const trainingEndedSchema = s.object({
  runDir: s.nullable(pathSchema),
  state: s.picklist(['finished', 'stopped', 'failed'] as const),
  /** For 'failed': what went wrong, written for people. */
  error: s.optional(s.string({ max: 100_000 })),
  /** True when the error is the user's to fix (bad dataset, unavailable backend, bad option). */
  userError: s.optional(s.boolean()),
  latestSnapshot: s.optional(s.nullable(s.string())),
  /** Progress when the run ended (progress events are throttled, so this is the exact figure). */
  curKimg: figureSchema,
  /** What the user must be told besides the state, e.g. that a broken newest snapshot was skipped. */
  notices: s.optional(s.array(s.string({ max: 10_000 }), { max: 100 })),
});
export type TrainingEnded = s.Infer<typeof trainingEndedSchema>;

/** Export Dataset Zip (the host bundle must not embed the MNIST digits, so the export runs here). */
export const exportDatasetSchema = s.object({
  /** 'mnist', an image folder or a dataset zip. */
  data: pathSchema,
  out: pathSchema,
  resolution: s.optional(s.count(1)),
  channels: s.optional(s.picklist([1, 3] as const)),
  maxImages: s.optional(s.count()),
  force: s.optional(s.boolean()),
});
export type ExportDatasetParams = s.Infer<typeof exportDatasetSchema>;

export const exportDatasetReplySchema = s.object({
  out: pathSchema,
  count: s.count(),
  resolution: s.count(),
  channels: s.picklist([1, 3] as const),
  labels: s.boolean(),
  bytes: s.count(),
  warnings: s.array(s.string({ max: 10_000 })),
});
export type ExportDatasetReply = s.Infer<typeof exportDatasetReplySchema>;

export const exportProgressSchema = s.object({ done: s.count(), total: s.count(), phase: s.picklist(['load', 'encode'] as const) });
export type ExportProgress = s.Infer<typeof exportProgressSchema>;

const stopSchema = s.object({});
const logSchema = s.object({ line: s.string({ max: 100_000 }) });

//#endregion

//#region the two sides

/** What the training process receives. */
export interface TrainingProcessApi extends RpcApi {
  events: {
    /** Stop after the current step: save a snapshot, mark the run stopped, reply to `start`. */
    stop: s.Infer<typeof stopSchema>;
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
    progress: ReceivedProgress;
    /** One line of the human log (also written to log.txt). */
    log: s.Infer<typeof logSchema>;
    exportProgress: ExportProgress;
  };
  requests: Record<string, never>;
}

//#endregion

//#region validators

/** Guards the training process runs on everything the host sends. */
export const trainingProcessValidators: RpcValidators<TrainingProcessApi, TrainingHostApi> = {
  events: { stop: s.guard(stopSchema) },
  requests: { start: s.guard(startTrainingSchema), exportDataset: s.guard(exportDatasetSchema) },
};

/** Guards the host runs on events and replies from the training process (it trusts nothing that crosses a process boundary). */
export const trainingHostValidators: RpcValidators<TrainingHostApi, TrainingProcessApi> = {
  events: {
    started: s.guard(trainingStartedSchema),
    progress: s.guard(trainProgressSchema),
    log: s.guard(logSchema),
    exportProgress: s.guard(exportProgressSchema),
  },
  requests: {},
  results: { start: s.guard(trainingEndedSchema), exportDataset: s.guard(exportDatasetReplySchema) },
};

//#endregion
