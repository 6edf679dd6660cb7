/**
 * The composition root: creates the settings reader, the Runs view and its watcher, the training
 * managers and their UI, the panels and the inference process, wires them to each other, and lets the
 * command modules (./commands) register their commands. extension.ts only creates this on activation.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { VIEW_TYPES } from '../shared/protocol/panels/common';
import { registerCheckpointCommands } from './commands/checkpoints';
import { makeGuard } from './commands/guard';
import { registerRunsCommands, openLog, openRunFile } from './commands/runs';
import type { HostServices, Register } from './commands/services';
import { registerTrainingCommands, resumeTraining, stopJob } from './commands/training';
import { WorkspaceConfig } from './config/workspaceConfig';
import { InferenceClient } from './inference/inferenceClient';
import { OfficialEngine } from './official/officialEngine';
import { latestPkl, OfficialTrainingManager } from './official/officialTrainingManager';
import { CheckpointViewerProvider } from './panels/checkpointViewerPanel';
import { CompareRunsPanels } from './panels/compareRunsPanel';
import { LossCurvesPanels } from './panels/lossCurvesPanel';
import { SegmentationPanels } from './panels/segmentationPanel';
import { describeRun, lossRunInfo } from './runs/runView';
import { RUNS_VIEW_ID, RunsTreeProvider, type RunsNode } from './runs/runsTree';
import { RunsWatcher } from './runs/runsWatcher';
import { TrainingManager, type TrainingJob } from './training/trainingManager';
import { TrainingUi } from './training/trainingUi';
import { KeyedBatcher } from './util/batcher';

export class Controller implements vscode.Disposable {
  private readonly s: HostServices;
  private readonly watcher: RunsWatcher;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(ctx: vscode.ExtensionContext) {
    const output = vscode.window.createOutputChannel('GAN Inspector');
    const log = (l: string) => output.appendLine(l);
    const config = new WorkspaceConfig(output);
    const manager = new TrainingManager({ workerPath: ctx.asAbsolutePath(path.join('dist', 'worker.js')) });
    const official = new OfficialTrainingManager();
    const ownsRunDir = (dir: string) => manager.ownsRunDir(dir) || official.ownsRunDir(dir);
    const guard = makeGuard(output);
    // Filled in below, once every part exists; the callbacks that use it run only after construction.
    const s = {} as HostServices;

    const tree = new RunsTreeProvider(() => config.roots(), ownsRunDir, log);
    const runChanged = new KeyedBatcher<string>(300, async (dirs) => {
      await tree.refreshRuns(dirs);
      for (const d of dirs) {
        panels.poke(d);
        compare.poke(d);
      }
    });
    this.watcher = new RunsWatcher(async ({ runDirs, structural }) => {
      if (structural) await tree.refreshAll();
      if (runDirs.size) await tree.refreshRuns(runDirs);
    });
    const panels = new LossCurvesPanels({
      extensionUri: ctx.extensionUri,
      runInfo: async (dir) => lossRunInfo(await describeRun(dir, ownsRunDir)),
      log,
      openFile: (dir, target) => void guard('ganInspector.openLog', () => openRunFile(s, dir, target)),
      restoreRoots: () => config.restoreRoots(),
    });
    const uiActions = {
      output,
      stop: (j: TrainingJob) => void guard('ganInspector.stopTraining', () => stopJob(s, j)),
      openLog: (dir: string | null) => void guard('ganInspector.openLog', () => openLog(s, dir ?? undefined)),
      openLossCurves: (dir: string) => panels.show(dir),
      onRunChanged: (dir: string) => runChanged.add(dir),
    };
    const ui = new TrainingUi({ ...uiActions, manager, resume: (dir) => void guard('ganInspector.resumeTraining', () => resumeTraining(s, dir)) });
    const officialUi = new TrainingUi({
      ...uiActions,
      manager: official,
      statusId: 'ganInspector.officialTraining',
      statusName: 'GAN Inspector official training',
      // An official run continues as a new run from its newest pkl (train.py --resume).
      resume: (dir) => void guard('ganInspector.resumeTraining', () => officialEngine.train({ resume: latestPkl(dir) ?? '' })),
    });
    const officialEngine = new OfficialEngine({
      ctx, output, manager: official, ui: officialUi, baseDir: () => config.baseDir(),
      outdir: () => path.resolve(config.baseDir() ?? '', config.settings().outdir),
      isRunsRoot: (dir) => config.isRunsRoot(dir),
    });
    const inference = new InferenceClient({
      workerPath: ctx.asAbsolutePath(path.join('dist', 'inference.js')),
      backend: 'auto',
      log,
      idleExitMs: 5 * 60_000,
      // Read when the process starts: a changed setting applies from the next start (Engine Status shows the threads).
      workers: () => config.settings().inferenceWorkers,
    });
    const segmentation = new SegmentationPanels({ extensionUri: ctx.extensionUri, client: inference, log, openViewer: (d) => void viewer.open(d), restoreRoots: () => config.restoreRoots() });
    const viewer = new CheckpointViewerProvider({ extensionUri: ctx.extensionUri, client: inference, log, openSegmentation: (d, seeds) => void segmentation.show(d, seeds) });
    const compare = new CompareRunsPanels({
      extensionUri: ctx.extensionUri,
      log,
      owns: ownsRunDir,
      openLossCurves: (dir) => panels.show(dir),
      exportDir: () => config.baseDir(),
      restoreRoots: () => config.restoreRoots(),
      client: inference,
    });
    // canSelectMany: Compare Runs takes the multi-selection.
    const runsView = vscode.window.createTreeView<RunsNode>(RUNS_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
    Object.assign<HostServices, HostServices>(s, {
      ctx, output, config, manager, ui, official, officialEngine, tree, runsView, panels, compare, viewer, segmentation, inference, runChanged,
      ownsRunDir,
      activeJobs: () => [...manager.active(), ...official.active()],
      keep: (d) => this.disposables.push(d),
    });
    this.s = s;
    this.disposables.push(
      output, tree, this.watcher, panels, ui, officialUi, runsView,
      { dispose: () => runChanged.dispose() },
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.lossCurves, panels),
      compare, vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.compareRuns, compare),
      viewer.register(), viewer, segmentation,
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.segmentation, segmentation),
      // After the panels, so their releases reach the process before it is stopped.
      { dispose: () => inference.dispose() },
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('ganInspector.runsRoots') || e.affectsConfiguration('ganInspector.outdir')) this.rewatch(true);
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.rewatch(true)),
    );
    const reg: Register = (id, fn) => this.disposables.push(vscode.commands.registerCommand(id, (...args: unknown[]) => guard(id, () => fn(...args))));
    registerTrainingCommands(reg, s);
    registerRunsCommands(reg, s);
    registerCheckpointCommands(reg, s);
    this.rewatch(false);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** On deactivate: ask running workers to stop (they also exit when the IPC channel closes). */
  async shutdown(): Promise<void> {
    if (!this.s.activeJobs().length) return;
    await Promise.race([Promise.all([this.s.manager.stopAll(2000), this.s.official.stopAll(2000)]), new Promise((r) => setTimeout(r, 4000))]);
  }

  private rewatch(refresh: boolean): void {
    this.watcher.watch(this.s.config.roots(), vscode.workspace.workspaceFolders ?? []);
    if (refresh) void this.s.tree.refreshAll();
  }
}

export type { RunsNode };
