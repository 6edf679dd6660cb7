/**
 * Wires the extension together: settings, the Runs view and its watcher, the training manager and its
 * UI, loss-curve panels, the checkpoint viewer and segmentation panels (with the inference process),
 * and every command. extension.ts only creates this on activation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveOptions } from '../core/config/options';
import { isUserError, UserError } from '../core/errors';
import { fsUserError } from '../core/runs/fsErrors';
import { VIEW_TYPES } from '../shared/protocol/panels';
import {
  buildOverrides, choicesFromSettings, isTrainChoices, normalizeSettings, parseWorkspaceConfigFile, resolveRunsRoots,
  type GanInspectorSettings, type TrainChoices,
} from './config/settings';
import { runGgdrExperiment } from './experiment/abCommand';
import { showEngineStatus } from './inference/engineStatus';
import { InferenceClient } from './inference/inferenceClient';
import { snapshotFromArg } from './inference/snapshotArgs';
import { CheckpointViewerProvider } from './panels/checkpointViewerPanel';
import { CompareRunsPanels } from './panels/compareRunsPanel';
import { LossCurvesPanels } from './panels/lossCurvesPanel';
import { ComputeMetricsCommand } from './metrics/computeMetricsCommand';
import { SegmentationPanels } from './panels/segmentationPanel';
import { lossRunInfo, describeRun, runDescription, stateLabel, type RunView } from './runs/runView';
import { RUNS_VIEW_ID, RunsTreeProvider, type RunsNode } from './runs/runsTree';
import { RunsWatcher } from './runs/runsWatcher';
import { askTrainChoices } from './training/trainFlow';
import { TrainingManager, type TrainingJob } from './training/trainingManager';
import { TrainingUi } from './training/trainingUi';
import { KeyedBatcher } from './util/batcher';
import { askEngine, type Engine } from './official/officialFlow';
import { OfficialEngine } from './official/officialEngine';
import { latestPkl, OfficialTrainingManager } from './official/officialTrainingManager';

const LAST_CHOICES_KEY = 'ganInspector.lastTrainChoices';
/** Which engine Train… was last answered for ('tfjs' | 'official'). */
const LAST_ENGINE_KEY = 'ganInspector.lastTrainEngine';
const WORKSPACE_CONFIG_FILE = 'gan-inspector.json';

/** Extracts a run folder from a command argument: a Runs-view node, a path string or a file Uri. */
export function runDirFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.length > 0) return path.resolve(arg);
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined;
  if (arg && typeof arg === 'object' && 'kind' in arg && 'dir' in arg && typeof (arg as { dir: unknown }).dir === 'string') {
    return (arg as { dir: string }).dir;
  }
  return undefined;
}

export class Controller implements vscode.Disposable {
  readonly output: vscode.OutputChannel;
  readonly manager: TrainingManager;
  /** Official StyleGAN2-ADA / GGDR train.py processes (issue #16). */
  readonly official: OfficialTrainingManager;
  private readonly officialUi: TrainingUi;
  private readonly officialEngine: OfficialEngine;
  readonly tree: RunsTreeProvider;
  private readonly watcher: RunsWatcher;
  private readonly panels: LossCurvesPanels;
  private readonly ui: TrainingUi;
  private readonly runChanged: KeyedBatcher<string>;
  private readonly compare: CompareRunsPanels;
  private readonly runsView: vscode.TreeView<RunsNode>;
  /** The inference child process (checkpoint viewer, segmentation), started on first use. */
  readonly inference: InferenceClient;
  private readonly viewer: CheckpointViewerProvider;
  private readonly segmentation: SegmentationPanels;
  private readonly disposables: vscode.Disposable[] = [];
  private reportedProblems = '';

  constructor(private readonly ctx: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('GAN Inspector');
    this.manager = new TrainingManager({ workerPath: ctx.asAbsolutePath(path.join('dist', 'worker.js')) });
    this.official = new OfficialTrainingManager();
    this.tree = new RunsTreeProvider(() => this.roots(), (d) => this.ownsRunDir(d), (l) => this.output.appendLine(l));
    this.runChanged = new KeyedBatcher<string>(300, async (dirs) => {
      await this.tree.refreshRuns(dirs);
      for (const d of dirs) {
        this.panels.poke(d);
        this.compare.poke(d);
      }
    });
    this.watcher = new RunsWatcher(async ({ runDirs, structural }) => {
      if (structural) await this.tree.refreshAll();
      if (runDirs.size) await this.tree.refreshRuns(runDirs);
    });
    this.panels = new LossCurvesPanels({
      extensionUri: ctx.extensionUri,
      runInfo: async (dir) => lossRunInfo(await describeRun(dir, (d) => this.ownsRunDir(d))),
      log: (l) => this.output.appendLine(l),
      openFile: (dir, target) => void this.openRunFile(dir, target),
      restoreRoots: () => this.restoreRoots(),
    });
    this.ui = new TrainingUi({
      manager: this.manager,
      output: this.output,
      stop: (j) => void this.stopJob(j),
      openLog: (dir) => void this.openLog(dir ?? undefined),
      openLossCurves: (dir) => this.panels.show(dir),
      resume: (dir) => void this.resumeTraining(dir),
      onRunChanged: (dir) => this.runChanged.add(dir),
    });
    this.officialUi = new TrainingUi({
      manager: this.official,
      statusId: 'ganInspector.officialTraining',
      statusName: 'GAN Inspector official training',
      output: this.output,
      stop: (j) => void this.stopJob(j),
      openLog: (dir) => void this.openLog(dir ?? undefined),
      openLossCurves: (dir) => this.panels.show(dir),
      // An official run continues as a new run from its newest pkl (train.py --resume).
      resume: (dir) => void this.guard('ganInspector.resumeTraining', () => this.officialEngine.train({ resume: latestPkl(dir) ?? '' })),
      onRunChanged: (dir) => this.runChanged.add(dir),
    });
    this.officialEngine = new OfficialEngine({
      ctx, output: this.output, manager: this.official, ui: this.officialUi, baseDir: () => this.baseDir(),
      outdir: () => path.resolve(this.baseDir() ?? '', this.settings().outdir),
      isRunsRoot: (dir) => this.roots().some((r) => path.resolve(r) === path.resolve(dir)),
    });
    this.inference = new InferenceClient({
      workerPath: ctx.asAbsolutePath(path.join('dist', 'inference.js')),
      backend: 'auto',
      log: (l) => this.output.appendLine(l),
      idleExitMs: 5 * 60_000,
    });
    const log = (l: string) => this.output.appendLine(l);
    this.segmentation = new SegmentationPanels({ extensionUri: ctx.extensionUri, client: this.inference, log, openViewer: (d) => void this.viewer.open(d), restoreRoots: () => this.restoreRoots() });
    this.viewer = new CheckpointViewerProvider({ extensionUri: ctx.extensionUri, client: this.inference, log, openSegmentation: (d, seeds) => void this.segmentation.show(d, seeds) });
    this.compare = new CompareRunsPanels({
      extensionUri: ctx.extensionUri,
      log: (l) => this.output.appendLine(l),
      owns: (d) => this.ownsRunDir(d),
      openLossCurves: (dir) => this.panels.show(dir),
      exportDir: () => this.baseDir(),
      restoreRoots: () => this.restoreRoots(),
      client: this.inference,
    });
    // canSelectMany: Compare Runs takes the multi-selection.
    const view = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: this.tree, showCollapseAll: true, canSelectMany: true });
    this.runsView = view;
    this.disposables.push(
      this.output, this.tree, this.watcher, this.panels, this.ui, this.officialUi, view,
      { dispose: () => this.runChanged.dispose() },
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.lossCurves, this.panels),
      this.compare, vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.compareRuns, this.compare),
      this.viewer.register(), this.viewer, this.segmentation,
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPES.segmentation, this.segmentation),
      // After the panels, so their releases reach the process before it is stopped.
      { dispose: () => this.inference.dispose() },
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('ganInspector.runsRoots') || e.affectsConfiguration('ganInspector.outdir')) this.rewatch(true);
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.rewatch(true)),
    );
    this.registerCommands();
    this.rewatch(false);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** On deactivate: ask running workers to stop (they also exit when the IPC channel closes). */
  async shutdown(): Promise<void> {
    const active = this.activeJobs();
    if (!active.length) return;
    await Promise.race([Promise.all([this.manager.stopAll(2000), this.official.stopAll(2000)]), new Promise((r) => setTimeout(r, 4000))]);
  }

  /** A live job of this window (our engine or official train.py) trains `dir`. */
  /** Live jobs of both engines. */
  private activeJobs() {
    return [...this.manager.active(), ...this.official.active()];
  }

  private ownsRunDir(dir: string): boolean {
    return this.manager.ownsRunDir(dir) || this.official.ownsRunDir(dir);
  }

  //#region settings

  settings(): GanInspectorSettings {
    const cfg = vscode.workspace.getConfiguration('ganInspector');
    const { settings, problems } = normalizeSettings((k) => cfg.get(k));
    const text = problems.join('\n');
    if (text && text !== this.reportedProblems) {
      this.reportedProblems = text;
      this.output.appendLine(`Settings problems:\n${text}`);
      void vscode.window.showWarningMessage(`GAN Inspector: ${problems[0]}`, 'Open Settings').then((a) => {
        if (a) void vscode.commands.executeCommand('workbench.action.openSettings', 'ganInspector');
      });
    }
    return settings;
  }

  private workspaceDirs(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  private baseDir(): string | undefined {
    return this.workspaceDirs()[0];
  }

  /** Where a panel restored after a reload may point: the workspace folders and the runs roots. */
  private restoreRoots(): string[] {
    return [...this.workspaceDirs(), ...this.roots()];
  }

  roots(): string[] {
    const s = this.settings();
    return resolveRunsRoots(this.workspaceDirs(), s.runsRoots, s.outdir);
  }

  /** Named configurations: the setting, then gan-inspector.json at each workspace root (later wins). Throws UserError on a bad file. */
  configurations(s: GanInspectorSettings): Record<string, NonNullable<GanInspectorSettings['configurations'][string]>> {
    const out = { ...s.configurations };
    for (const dir of this.workspaceDirs()) {
      const file = path.join(dir, WORKSPACE_CONFIG_FILE);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      Object.assign(out, parseWorkspaceConfigFile(text, file));
    }
    return out;
  }

  private rewatch(refresh: boolean): void {
    this.watcher.watch(this.roots(), vscode.workspace.workspaceFolders ?? []);
    if (refresh) void this.tree.refreshAll();
  }

  //#endregion

  //#region commands

  private registerCommands(): void {
    const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
      this.disposables.push(vscode.commands.registerCommand(id, (...args: unknown[]) => this.guard(id, () => fn(...args))));
    reg('ganInspector.train', () => this.train(false));
    reg('ganInspector.trainCurrent', () => this.train(true));
    reg('ganInspector.stopTraining', (a) => this.stopTraining(runDirFromArg(a)));
    reg('ganInspector.resumeTraining', (a) => this.resumeTraining(runDirFromArg(a)));
    reg('ganInspector.openLossCurves', (a) => this.openLossCurves(runDirFromArg(a)));
    reg('ganInspector.refreshRuns', () => this.tree.refreshAll());
    reg('ganInspector.revealRunFolder', (a) => this.revealRunFolder(runDirFromArg(a)));
    reg('ganInspector.openLog', (a) => this.openLog(runDirFromArg(a)));
    reg('ganInspector.showResolvedConfig', () => this.showResolvedConfig());
    reg('ganInspector.compareRuns', (a, b) => this.compareRuns(a, b));
    reg('ganInspector.runGgdrExperiment', () => this.runGgdrExperiment());
    reg('ganInspector.openCheckpointViewer', (a) => this.openCheckpointViewer(a));
    reg('ganInspector.clusterFeatureMaps', (a) => this.clusterFeatureMaps(a));
    const metrics = new ComputeMetricsCommand({
      workerPath: this.ctx.asAbsolutePath(path.join('dist', 'inference.js')), output: this.output, modelCacheDir: this.ctx.globalStorageUri.fsPath,
      state: this.ctx.globalState, pickSnapshot: (a, t) => this.pickSnapshot(a, t), onAppended: (d) => this.runChanged.add(d), openLossCurves: (d) => this.panels.show(d),
    });
    this.disposables.push(metrics);
    reg('ganInspector.computeMetrics', (a, b) => metrics.run(a, b));
    reg('ganInspector.exportDataset', () => this.officialEngine.exportDatasetCommand());
    reg('ganInspector.showEngineStatus', () => showEngineStatus({
      client: this.inference, activeJobs: () => this.activeJobs(), output: this.output,
      showMessage: (m, ...a) => vscode.window.showInformationMessage(m, ...a),
    }));
  }

  /** Runs a command body; UserErrors become notifications, anything else is logged with its stack. */
  private async guard(id: string, fn: () => unknown): Promise<unknown> {
    try {
      return await fn();
    } catch (caught) {
      // Disk full, read-only, a folder where a file goes, …: a notification with what to do, not a stack.
      const e = fsUserError(caught) ?? caught;
      if (isUserError(e)) {
        const lines = e.message.split('\n');
        this.output.appendLine(`${id}: ${e.message}`);
        const a = await vscode.window.showErrorMessage(lines.join(' '), 'Open Settings');
        if (a) void vscode.commands.executeCommand('workbench.action.openSettings', 'ganInspector');
      } else {
        const err = e instanceof Error ? e : new Error(String(e));
        this.output.appendLine(`${id} failed: ${err.stack ?? err.message}`);
        const a = await vscode.window.showErrorMessage(`GAN Inspector: ${id} failed: ${err.message}`, 'Show Output');
        if (a) this.output.show(true);
      }
      return undefined;
    }
  }

  private lastChoices(): TrainChoices | undefined {
    const v = this.ctx.workspaceState.get<unknown>(LAST_CHOICES_KEY);
    return isTrainChoices(v) ? v : undefined;
  }

  /** Train… (asks) or Train with Current Settings (last answers, else the settings). */
  async train(current: boolean): Promise<TrainingJob | undefined> {
    const settings = this.settings();
    const configurations = this.configurations(settings);
    const baseDir = this.baseDir();
    let choices: TrainChoices | undefined;
    // Engine step (issue #16): our TensorFlow.js engine or the official PyTorch train.py.
    const lastEngine = this.ctx.workspaceState.get<Engine>(LAST_ENGINE_KEY);
    const engine = current ? (lastEngine === 'official' && this.officialEngine.hasLastChoices() ? 'official' : 'tfjs') : await askEngine(lastEngine, this.officialEngine.problems());
    if (!engine) return undefined;
    if (engine === 'official') {
      const problems = this.officialEngine.problems();
      if (!problems.length) await this.ctx.workspaceState.update(LAST_ENGINE_KEY, engine);
      return this.officialEngine.train({ current });
    }
    if (!current) await this.ctx.workspaceState.update(LAST_ENGINE_KEY, engine);
    if (current) {
      choices = this.lastChoices() ?? choicesFromSettings(settings, undefined, configurations);
    } else {
      choices = await askTrainChoices({ settings, configurations, last: this.lastChoices(), baseDir });
      if (!choices) return undefined;
    }
    const overrides = buildOverrides(choices, { outdir: settings.outdir, baseDir, configurations });
    // Validate here so a bad option is a notification now, not a failed worker later.
    const resolved = resolveOptions(overrides);
    if (resolved.data !== 'mnist' && !fs.existsSync(resolved.data)) {
      throw new UserError(`Dataset not found: ${resolved.data}`, 'Pick an existing image folder or dataset zip (GAN Inspector: Train…).');
    }
    await this.ctx.workspaceState.update(LAST_CHOICES_KEY, choices);
    fs.mkdirSync(resolved.outdir, { recursive: true });
    const job = this.manager.start(overrides, { cwd: baseDir ?? resolved.outdir });
    this.output.appendLine(`[job ${job.id}] starting: ${JSON.stringify(overrides)}`);
    this.ui.track(job);
    if (!this.roots().some((r) => path.resolve(r) === path.resolve(resolved.outdir))) {
      this.output.appendLine(`Note: ${resolved.outdir} is not a runs root; add it to ganInspector.runsRoots to list its runs.`);
    }
    return job;
  }

  async stopTraining(dir?: string): Promise<void> {
    let job: TrainingJob | undefined;
    if (dir) {
      job = this.manager.activeJobFor(dir) ?? this.official.activeJobFor(dir);
      if (!job) {
        const v = this.tree.get(dir);
        const other = v?.state === 'running' && v.pid !== undefined ? ` It is trained by process ${v.pid}, not by this window; stop it there.` : '';
        void vscode.window.showInformationMessage(`${path.basename(dir)} is not being trained by this window.${other}`);
        return;
      }
    } else {
      const active = this.activeJobs();
      if (!active.length) {
        void vscode.window.showInformationMessage('No training is running in this window.');
        return;
      }
      if (active.length === 1) job = active[0];
      else {
        const p = await vscode.window.showQuickPick(
          active.map((j) => ({ label: j.runName ?? `job ${j.id} (starting)`, description: `${j.phase} · ${j.curKimg}/${j.totalKimg} kimg`, job: j })),
          { title: 'GAN Inspector: Stop Training', placeHolder: 'Which run?' },
        );
        job = p?.job;
      }
    }
    if (job) await this.stopJob(job);
  }

  private async stopJob(job: TrainingJob): Promise<void> {
    if (job.phase === 'stopping') return;
    this.output.appendLine(`[${job.runName ?? `job ${job.id}`}] stop requested`);
    if (this.official.jobs().includes(job)) await this.official.stop(job.id);
    else await this.manager.stop(job.id);
  }

  async resumeTraining(dir?: string): Promise<TrainingJob | undefined> {
    const runDir = dir ?? (await this.pickRun('Resume which run?', (v) => v.resumable))?.summary.dir;
    if (!runDir) return undefined;
    if (this.manager.ownsRunDir(runDir)) throw new UserError(`${path.basename(runDir)} is already training in this window.`);
    const v = await describeRun(runDir, (d) => this.ownsRunDir(d));
    if (v.summary.origin !== 'gan-inspector') {
      throw new UserError(`${v.summary.name} was written by the official StyleGAN2-ADA/GGDR code; its .pkl snapshots cannot be resumed here.`, 'Start a new run with GAN Inspector: Train….');
    }
    if (v.state === 'running') throw new UserError(`${v.summary.name} is still running (process ${v.pid}).`, 'Stop it first, or wait for it to end.');
    if (v.state === 'finished') throw new UserError(`${v.summary.name} already finished.`, 'Start a new run, or extend kimg with a configuration.');
    const job = this.manager.start({}, { resumeDir: runDir, cwd: this.baseDir() ?? path.dirname(runDir) });
    this.output.appendLine(`[job ${job.id}] resuming ${runDir}`);
    this.ui.track(job);
    this.runChanged.add(runDir);
    return job;
  }

  async openLossCurves(dir?: string): Promise<void> {
    const runDir = dir ?? (await this.pickRun('Open loss curves of which run?', () => true))?.summary.dir;
    if (!runDir) return;
    if (!fs.existsSync(runDir)) throw new UserError(`Run folder not found: ${runDir}`, 'Refresh the Runs view.');
    this.panels.show(runDir);
  }

  async revealRunFolder(dir?: string): Promise<void> {
    const runDir = dir ?? (await this.pickRun('Reveal which run folder?', () => true))?.summary.dir;
    if (!runDir) return;
    const uri = vscode.Uri.file(runDir);
    const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
    // revealFileInOS does not exist in a browser (code-server); the Explorer works for workspace folders.
    try {
      await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
    } catch {
      const a = await vscode.window.showInformationMessage(`Run folder: ${runDir}`, 'Copy Path');
      if (a) await vscode.env.clipboard.writeText(runDir);
    }
  }

  async openLog(dir?: string): Promise<void> {
    const runDir = dir ?? (await this.pickRun('Open the log of which run?', () => true))?.summary.dir;
    if (!runDir) {
      this.output.show(true);
      return;
    }
    await this.openRunFile(runDir, 'log');
  }

  private async openRunFile(dir: string, target: 'log' | 'stats' | 'folder'): Promise<void> {
    if (target === 'folder') return this.revealRunFolder(dir);
    const file = path.join(dir, target === 'log' ? 'log.txt' : 'stats.jsonl');
    if (!fs.existsSync(file)) {
      void vscode.window.showInformationMessage(`${path.basename(dir)} has no ${path.basename(file)} yet; showing the GAN Inspector output instead.`);
      this.output.show(true);
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  }

  async showResolvedConfig(): Promise<void> {
    if (this.ctx.workspaceState.get<Engine>(LAST_ENGINE_KEY) === 'official' && this.officialEngine.hasLastChoices()) return this.officialEngine.showResolvedConfig();
    const settings = this.settings();
    const configurations = this.configurations(settings);
    const last = this.lastChoices();
    const choices = last ?? choicesFromSettings(settings, undefined, configurations);
    const overrides = buildOverrides(choices, { outdir: settings.outdir, baseDir: this.baseDir(), configurations });
    const resolved = resolveOptions(overrides);
    const source = `${last ? 'last Train… answers' : 'settings'}${choices.configuration ? ` + configuration "${choices.configuration}"` : ''}`;
    const content = [
      '// GAN Inspector — resolved training options (dry run: nothing was started).',
      `// Source: ${source}. "Train with Current Settings" would start exactly this.`,
      JSON.stringify({ overrides, resolved }, null, 2),
      '',
    ].join('\n');
    const doc = await vscode.workspace.openTextDocument({ language: 'jsonc', content });
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  async openCheckpointViewer(arg?: unknown): Promise<void> {
    const snap = await this.pickSnapshot(arg, 'Open Checkpoint Viewer');
    if (snap) await this.viewer.open(snap);
  }

  async clusterFeatureMaps(arg?: unknown): Promise<void> {
    const snap = await this.pickSnapshot(arg, 'Cluster Generator Feature Maps');
    if (snap) void this.segmentation.show(snap);
  }

  /** The snapshot an argument names; for a run (or nothing) asks: run, then snapshot (newest first). */
  private async pickSnapshot(arg: unknown, title: string): Promise<string | undefined> {
    const direct = snapshotFromArg(arg);
    if (direct) return direct;
    const runDir = runDirFromArg(arg) ?? (await this.pickRun(`${title}: which run?`, (v) => v.summary.snapshots.length > 0))?.summary.dir;
    if (!runDir) return undefined;
    const v = this.tree.get(runDir) ?? (await describeRun(runDir, (d) => this.ownsRunDir(d)));
    const snaps = [...v.summary.snapshots].reverse();
    if (!snaps.length) throw new UserError(`${path.basename(runDir)} has no snapshots yet.`, 'Wait for the first tick of training, or pick another run.');
    const p = await vscode.window.showQuickPick(
      snaps.map((s) => ({
        label: s.name,
        description: `kimg ${s.kimg}${s.name.endsWith('.pkl') ? ' · official pickle' : ''}${s.loadable ? '' : ' · not loadable'}`,
        detail: s.loadable ? undefined : s.reason,
        path: s.path,
      })),
      { title: `GAN Inspector: ${title}`, placeHolder: `Which snapshot of ${v.summary.name}?`, matchOnDescription: true },
    );
    return p?.path;
  }

  /**
   * Compare Runs: the Runs view's multi-selection (context menu: clicked node + selected nodes; palette:
   * the current selection), a list of run paths, or else a multi-select quick pick.
   */
  async compareRuns(arg?: unknown, selected?: unknown): Promise<void> {
    const toDirs = (xs: unknown[]) => [...new Set(xs.map(runDirFromArg).filter((d): d is string => d !== undefined))];
    let dirs = Array.isArray(selected) ? toDirs(selected) : Array.isArray(arg) ? toDirs(arg) : toDirs(arg === undefined ? [] : [arg]);
    if (arg === undefined && dirs.length < 2) dirs = toDirs([...this.runsView.selection]);
    if (dirs.length < 2) {
      const runs = await this.tree.runs();
      if (runs.length < 2) throw new UserError('Compare Runs needs at least two runs in the Runs view.', 'Train a second run, or add a runs folder in ganInspector.runsRoots.');
      const picks = await vscode.window.showQuickPick(
        runs.map((v) => ({ label: v.summary.name, description: `${stateLabel(v.state)} · ${runDescription(v)}`, detail: v.summary.dir, picked: dirs.includes(v.summary.dir), dir: v.summary.dir })),
        { title: 'GAN Inspector: Compare Runs', placeHolder: 'Choose two or more runs', canPickMany: true, matchOnDescription: true, matchOnDetail: true },
      );
      if (!picks) return;
      if (picks.length < 2) {
        void vscode.window.showInformationMessage('Choose at least two runs to compare.');
        return;
      }
      dirs = picks.map((p) => p.dir);
    }
    for (const d of dirs) if (!fs.existsSync(d)) throw new UserError(`Run folder not found: ${d}`, 'Refresh the Runs view.');
    this.compare.show(dirs);
  }

  /** Run GGDR Experiment: A/B runs that differ only in GGDR, then their comparison. */
  async runGgdrExperiment(): Promise<void> {
    const settings = this.settings();
    const baseDir = this.baseDir();
    if (!baseDir && !path.isAbsolute(settings.outdir)) throw new UserError('Open a folder first: the experiment writes its runs into the workspace.', 'Or set ganInspector.outdir to an absolute path.');
    const outdir = path.resolve(baseDir ?? '', settings.outdir);
    await runGgdrExperiment({ manager: this.manager, settings, baseDir, outdir, output: this.output, openCompare: (d) => this.compare.show(d), openSegmentation: (s) => this.segmentation.show(s) });
  }

  /** Quick pick over the listed runs that pass `filter`. */
  private async pickRun(placeHolder: string, filter: (v: RunView) => boolean): Promise<RunView | undefined> {
    const runs = (await this.tree.runs()).filter(filter);
    if (!runs.length) {
      const a = await vscode.window.showInformationMessage('No matching runs under the configured runs folders.', 'Train…', 'Open Settings');
      if (a === 'Train…') void vscode.commands.executeCommand('ganInspector.train');
      else if (a === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'ganInspector.runsRoots');
      return undefined;
    }
    const p = await vscode.window.showQuickPick(
      runs.map((v) => ({ label: v.summary.name, description: `${stateLabel(v.state)} · ${runDescription(v)}`, detail: v.summary.dir, view: v })),
      { title: 'GAN Inspector', placeHolder, matchOnDescription: true, matchOnDetail: true },
    );
    return p?.view;
  }

  //#endregion
}

/** The newest network-snapshot-*.pkl of an official run folder ('' when none). */

export type { RunsNode };
