/**
 * What every webview panel protocol shares: view types, the run states the UI shows, the `hello` and
 * `webviewError` messages each panel has, and the value schemas the viewer, segmentation and compare
 * panels reuse (seeds, seed specs, ψ, class labels). One file per panel beside this one; rpc.ts carries
 * the messages, schema.ts derives each type from its schema. No vscode, no DOM.
 */
import * as s from '../schema';
import type { RunState } from '../../runTypes';
import { MAX_CLASSES, PSI_MAX, PSI_MIN } from '../inference';

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

/** A reply that was superseded by a newer request (the webview ignores it). */
export interface Cancelled {
  cancelled: true;
}

//#region messages every panel has

/** Params of every panel's `hello` request (the webview is ready): nothing. */
export const helloSchema = s.object({});
export type HelloParams = s.Infer<typeof helloSchema>;

/** An error inside a webview, for the Output channel (every panel's `webviewError` event). */
export const webviewErrorSchema = s.object({ message: s.string({ max: 10_000 }) });
export type WebviewError = s.Infer<typeof webviewErrorSchema>;

//#endregion

//#region values shared by the snapshot and compare panels

/** Largest seed spec text accepted from a webview. */
export const MAX_SEED_SPEC = 400;

/** A seed as StyleGAN uses them: a non-negative 32-bit integer (the rule of inference.ts's isSeed). */
export const seedSchema = s.number({ int: true, min: 0, max: 2 ** 32 - 1 });
/** Seed spec text as typed ("0-15, 20"); may be empty (in persisted state, a form being edited). */
export const seedTextSchema = s.string({ max: MAX_SEED_SPEC });
/** Seed spec text of a request: something to parse. */
export const seedSpecSchema = s.string({ max: MAX_SEED_SPEC, nonBlank: true });
/** Truncation ψ. */
export const psiSchema = s.number({ min: PSI_MIN, max: PSI_MAX });
/** A class of a conditional model, absent for unconditional ones (the host checks it against the model's classes). */
export const labelSchema = s.optional(s.number({ int: true, min: 0, max: MAX_CLASSES - 1 }));
/** A feature-map / image resolution: a power of two in [4, 1024]. */
export const resolutionSchema = s.refine(s.number({ int: true, min: 4, max: 1024 }), (r) => ((r & (r - 1)) === 0 ? undefined : `${r} is not a power of two`));
/** Default smoothing weight of the loss and compare charts (TensorBoard's debiased EMA). */
export const DEFAULT_SMOOTHING = 0.6;
/** A persisted smoothing weight, in [0, 0.99]. */
export const smoothingSchema = s.number({ min: 0, max: 0.99 });
/** A persisted folder path (the serializer checks where it is). */
export const folderSchema = s.string({ min: 1 });

//#endregion
