/**
 * Loss-curves panels: one per run folder (create-or-reveal), restored after a reload by a serializer.
 * The host tails stats.jsonl / metric-*.jsonl with LossDataSource on file events (batched) and sends
 * only new rows; every message from the webview is validated before use.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { VIEW_TYPES } from '../../shared/protocol/panels/common';
import { isLossPanelState, lossHostValidators, type LossHostApi, type LossRunInfo, type LossWebviewApi } from '../../shared/protocol/panels/loss';
import { LossDataSource } from '../loss/lossDataSource';
import { KeyedBatcher } from '../util/batcher';
import { panelHtml, webviewOptions } from '../webview/html';
import { PanelRegistry } from '../webview/panelRegistry';
import { PanelSession } from '../webview/panelSession';
import { admitRestore, checkRestoredFolder } from './restoreGuard';

export interface LossPanelDeps {
  extensionUri: vscode.Uri;
  /** Current info about a run folder (throws UserError when unreadable). */
  runInfo: (dir: string) => Promise<LossRunInfo>;
  log: (line: string) => void;
  /** Opens one of the run's files for the webview's links. */
  openFile: (dir: string, target: 'log' | 'stats' | 'folder') => void;
  /** Folders a restored panel may open (workspace folders + runs roots); the saved state is untrusted. */
  restoreRoots: () => string[];
}

const DATA_FILE_RE = /^(stats\.jsonl|metric-.+\.jsonl)$/;
const INFO_FILE_RE = /^(status\.json|training_options\.json)$/;

class LossCurvesPanel extends PanelSession<LossHostApi, LossWebviewApi> {
  private readonly source: LossDataSource;
  private readonly batcher: KeyedBatcher<'data' | 'info'>;
  private ready = false;

  constructor(panel: vscode.WebviewPanel, readonly runDir: string, private readonly deps: LossPanelDeps, onDispose: () => void) {
    super(panel, { name: 'Loss panel', label: path.basename(runDir), validators: lossHostValidators, log: deps.log }, onDispose);
    this.source = new LossDataSource(runDir);
    panel.webview.options = webviewOptions(deps.extensionUri, [vscode.Uri.file(runDir)]);
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'loss-curves.svg');
    this.channel.onRequest('hello', async () => {
      this.ready = true;
      this.source.restart();
      // Stream the data after the reply has gone out.
      setTimeout(() => this.batcher.flushNow(), 0);
      this.batcher.add('data');
      return this.deps.runInfo(runDir);
    });
    this.channel.on('openFile', ({ target }) => deps.openFile(runDir, target));

    this.batcher = new KeyedBatcher(300, (keys) => this.update(keys));
    this.disposables.push(this.batcher);
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(runDir), '*'));
    const on = (uri: vscode.Uri) => this.onFileEvent(uri);
    this.disposables.push(watcher, watcher.onDidChange(on), watcher.onDidCreate(on), watcher.onDidDelete(on));
    this.setHtml(() => panelHtml(panel.webview, deps.extensionUri, 'loss', `Loss · ${path.basename(runDir)}`));
  }

  /** Something about the run changed (training progress, a tree refresh): re-read soon. */
  poke(): void {
    this.batcher.add('data');
    this.batcher.add('info');
  }

  private onFileEvent(uri: vscode.Uri): void {
    const name = path.basename(uri.fsPath);
    if (DATA_FILE_RE.test(name)) this.batcher.add('data');
    // An official run has no status.json: its progress (the header's kimg) is the newest stats line.
    if (INFO_FILE_RE.test(name) || name === 'stats.jsonl') this.batcher.add('info');
  }

  private async update(keys: Set<'data' | 'info'>): Promise<void> {
    if (!this.ready || this.disposed) return;
    try {
      if (keys.has('info')) await this.channel.emit('runInfo', await this.deps.runInfo(this.runDir));
      if (keys.has('data')) {
        const u = await this.source.poll();
        // Awaiting each post keeps a 100k-line backlog from queueing megabytes at once.
        for (const c of u.stats) await this.channel.emit('stats', c);
        if (u.metrics) await this.channel.emit('metrics', u.metrics);
      }
    } catch (e) {
      this.deps.log(`Loss panel (${path.basename(this.runDir)}): ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Owns every loss-curves panel. */
export class LossCurvesPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private readonly panels = new PanelRegistry<LossCurvesPanel>();

  constructor(private readonly deps: LossPanelDeps) {}

  /** Opens the run's panel, or reveals it when already open. */
  show(runDir: string): void {
    const dir = path.resolve(runDir);
    if (this.panels.reveal(dir)) return;
    const panel = vscode.window.createWebviewPanel(VIEW_TYPES.lossCurves, `Loss · ${path.basename(dir)}`, vscode.ViewColumn.Active, {
      ...webviewOptions(this.deps.extensionUri, [vscode.Uri.file(dir)]),
      // A live chart panel keeps its state while hidden instead of re-reading 100k lines on every tab switch.
      retainContextWhenHidden: true,
    });
    this.panels.adopt(dir, (onDispose) => new LossCurvesPanel(panel, dir, this.deps, onDispose));
  }

  /** Restores a panel after a window reload from the state its webview saved. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const ok = admitRestore(panel, state, isLossPanelState, (st) => checkRestoredFolder(st.runDir, this.deps.restoreRoots()), {
      what: 'a loss-curves panel',
      unreadable: 'This loss-curves panel could not be restored. Open it again from the Runs view.',
      refused: 'This loss-curves panel was not restored: its run folder is not under the workspace or ganInspector.runsRoots. Open it again from the Runs view.',
    }, this.deps.log);
    if (!ok) return;
    const dir = ok.path;
    this.panels.restore(dir, panel, (onDispose) => new LossCurvesPanel(panel, dir, this.deps, onDispose));
  }

  /** Tells the run's panel (if open) that something changed. */
  poke(runDir: string): void {
    this.panels.get(path.resolve(runDir))?.poke();
  }

  /** Run folders with an open panel. */
  openRuns(): string[] {
    return this.panels.keys();
  }

  dispose(): void {
    this.panels.dispose();
  }
}
