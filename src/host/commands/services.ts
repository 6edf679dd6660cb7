/**
 * What command bodies work with: the parts the composition root (../controller.ts) creates. Each
 * command module exports `register…Commands(reg, s)` and plain functions the root also wires into the
 * training UI and panels.
 */
import type * as vscode from 'vscode';
import type { WorkspaceConfig } from '../config/workspaceConfig';
import type { InferenceClient } from '../inference/inferenceClient';
import type { OfficialEngine } from '../official/officialEngine';
import type { OfficialTrainingManager } from '../official/officialTrainingManager';
import type { CheckpointViewerProvider } from '../panels/checkpointViewerPanel';
import type { CompareRunsPanels } from '../panels/compareRunsPanel';
import type { LossCurvesPanels } from '../panels/lossCurvesPanel';
import type { SegmentationPanels } from '../panels/segmentationPanel';
import type { RunsNode, RunsTreeProvider } from '../runs/runsTree';
import type { TrainingJob, TrainingManager } from '../training/trainingManager';
import type { TrainingUi } from '../training/trainingUi';
import type { KeyedBatcher } from '../util/batcher';

export interface HostServices {
  readonly ctx: vscode.ExtensionContext;
  readonly output: vscode.OutputChannel;
  readonly config: WorkspaceConfig;
  /** Our TensorFlow.js engine's training processes, and their status bar / notifications. */
  readonly manager: TrainingManager;
  readonly ui: TrainingUi;
  /** Official StyleGAN2-ADA / GGDR train.py processes (issue #16). */
  readonly official: OfficialTrainingManager;
  readonly officialEngine: OfficialEngine;
  readonly tree: RunsTreeProvider;
  readonly runsView: vscode.TreeView<RunsNode>;
  readonly panels: LossCurvesPanels;
  readonly compare: CompareRunsPanels;
  readonly viewer: CheckpointViewerProvider;
  readonly segmentation: SegmentationPanels;
  /** The inference child process (checkpoint viewer, segmentation, engine status), started on first use. */
  readonly inference: InferenceClient;
  /** Run folders whose files changed: the tree and open panels refresh them (batched). */
  readonly runChanged: KeyedBatcher<string>;
  /** A live job of this window (our engine or official train.py) trains `dir`. */
  ownsRunDir(dir: string): boolean;
  /** Live jobs of both engines. */
  activeJobs(): TrainingJob[];
  /** Keeps a disposable until the extension deactivates. */
  keep(d: vscode.Disposable): void;
}

/** Registers a command whose body runs inside the guard (see guard.ts). */
export type Register = (id: string, fn: (...args: unknown[]) => unknown) => void;
