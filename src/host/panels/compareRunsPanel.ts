/**
 * Compare Runs panels: one per set of run folders (create-or-reveal), restored after a reload by a
 * serializer. The host reads the runs (compareData.ts), sends the table, the option diff, the scalar
 * catalogue and grid URIs, answers one scalar at a time, renders official runs' same-seed cells from
 * their .pkl snapshots (inference process), and writes CSV / Markdown exports through a
 * save dialog. Webview messages are validated; runs are named by folder name, never by path.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { tableToCsv, tableToMarkdown } from '../../core/runs/compareTable';
import { writeFileAtomic } from '../../core/runs/fsAtomic';
import { VIEW_TYPES, type Cancelled } from '../../shared/protocol/panels/common';
import { MAX_COMPARE_RUNS, compareHostValidators, isComparePanelState, type CompareCells, type CompareExportFormat, type CompareHostApi, type CompareInfo, type CompareWebviewApi } from '../../shared/protocol/panels/compare';
import { KeyedBatcher } from '../util/batcher';
import { panelHtml, webviewOptions } from '../webview/html';
import { PanelRegistry } from '../webview/panelRegistry';
import { PanelSession } from '../webview/panelSession';
import type { InferenceClient } from '../inference/inferenceClient';
import { cancellable, seedsFromSpec } from './checkpointViewerPanel';
import { compareFigures, compareInfo, loadCompareRuns, officialPickles, pickleFor, readCompareSeries, type LoadedRun } from './compareData';
import { admitRestore, checkRestoredFolders } from './restoreGuard';

export interface ComparePanelDeps {
  extensionUri: vscode.Uri;
  log: (line: string) => void;
  /** True when a live job of this window trains the folder. */
  owns: (dir: string) => boolean;
  openLossCurves: (dir: string) => void;
  /** Folder the export save dialog starts in (the workspace folder). */
  exportDir: () => string | undefined;
  /** Folders a restored panel may open (workspace folders + runs roots); the saved state is untrusted. */
  restoreRoots: () => string[];
  /** The inference process: renders official runs' same-seed cells from their .pkl snapshots. */
  client?: InferenceClient;
}

let nextOwner = 1;

const WATCHED_RE = /^(stats\.jsonl|status\.json|training_options\.json|metric-.+\.jsonl|fakes.*\.(png|jpe?g)|network-snapshot-.*)$/;

/** "2025-01-31_14-05-09" for file names. */
export function fileStamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

class CompareRunsPanel extends PanelSession<CompareHostApi, CompareWebviewApi> {
  private readonly owner = `compare#${nextOwner++}`;
  private readonly batcher: KeyedBatcher<'reload'>;
  private runs: LoadedRun[] = [];
  private loading: Promise<CompareInfo> | undefined;
  private ready = false;

  constructor(panel: vscode.WebviewPanel, readonly dirs: string[], private readonly deps: ComparePanelDeps, onDispose: () => void) {
    super(panel, { name: 'Compare panel', validators: compareHostValidators, log: deps.log }, onDispose);
    panel.webview.options = webviewOptions(deps.extensionUri, dirs.map((d) => vscode.Uri.file(d)));
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'compare-runs.svg');
    this.channel.onRequest('hello', () => {
      this.ready = true;
      return this.load();
    });
    this.channel.onRequest('series', async ({ key }) => {
      if (!this.runs.length) await this.load();
      return { key, runs: await Promise.all(this.runs.map((r) => readCompareSeries(r, key))) };
    });
    this.channel.onRequest('exportTable', ({ format }) => this.export(format));
    this.channel.onRequest('renderCells', (p) => this.renderCells(p.run, p.kimg, p.seeds));
    if (deps.client) {
      const client = deps.client;
      this.disposables.push({ dispose: () => void client.releaseOwner(this.owner) });
    }
    this.channel.on('openLossCurves', ({ run }) => {
      const r = this.runs.find((x) => x.summary.name === run);
      if (r) deps.openLossCurves(r.summary.dir);
      else deps.log(`Compare panel: no compared run named ${run}`);
    });

    this.batcher = new KeyedBatcher(500, () => this.reload());
    this.disposables.push(this.batcher);
    for (const d of dirs) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(d), '*'));
      const on = (uri: vscode.Uri) => {
        if (WATCHED_RE.test(path.basename(uri.fsPath))) this.batcher.add('reload');
      };
      this.disposables.push(w, w.onDidChange(on), w.onDidCreate(on), w.onDidDelete(on));
    }
    this.setHtml(() => panelHtml(panel.webview, deps.extensionUri, 'compare', panelTitle(dirs)));
  }

  /** A compared run changed (training progress, tree refresh): reload soon. */
  poke(): void {
    this.batcher.add('reload');
  }

  private load(): Promise<CompareInfo> {
    // Concurrent callers share one read.
    this.loading ??= this.doLoad().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async doLoad(): Promise<CompareInfo> {
    const { runs, errors } = await loadCompareRuns(this.dirs, this.deps.owns);
    this.runs = runs;
    for (const e of errors) this.deps.log(`Compare panel: ${e}`);
    const webview = this.panel.webview;
    return compareInfo(runs, errors, (file) => webview.asWebviewUri(vscode.Uri.file(file)).toString());
  }

  private async reload(): Promise<void> {
    if (!this.ready || this.disposed) return;
    try {
      await this.channel.emit('info', await this.load());
    } catch (e) {
      this.deps.log(`Compare panel: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Same-seed cells of an official run, from the .pkl at or before `kimg` (one lane per run: a newer request cancels the older). */
  private async renderCells(run: string, kimg: string, spec: string): Promise<CompareCells | Cancelled> {
    const client = this.deps.client;
    if (!client) throw new UserError('Rendering from snapshots is not available here.');
    if (!this.runs.length) await this.load();
    const r = this.runs.find((x) => x.summary.name === run);
    if (!r) throw new UserError(`No compared run named ${run}.`);
    const pkl = pickleFor(officialPickles(r.view), kimg);
    if (!pkl) throw new UserError(`${run} has no loadable .pkl snapshot.`);
    const seeds = seedsFromSpec(spec, 64);
    client.retain(this.owner, pkl.path);
    const res = await cancellable(client.call('render', { snapshot: pkl.path, seeds, which: 'G_ema', psi: 1, noiseMode: 'const', noiseSeed: 0 }, {
      lane: `${this.owner}:cells:${run}`,
    }));
    if ('cancelled' in res) return res;
    return { run, snapshot: pkl.name, kimg: pkl.kimg, images: res.images, resolution: res.resolution };
  }

  private async export(format: CompareExportFormat): Promise<{ file: string } | { cancelled: true }> {
    if (!this.runs.length) await this.load();
    if (!this.runs.length) throw new UserError('None of the compared runs could be read; nothing to export.');
    const ext = format === 'csv' ? 'csv' : 'md';
    const base = this.deps.exportDir() ?? path.dirname(this.runs[0].summary.dir);
    const target = await vscode.window.showSaveDialog({
      title: `Export the comparison table as ${format === 'csv' ? 'CSV' : 'Markdown'}`,
      defaultUri: vscode.Uri.file(path.join(base, `gan-compare-${fileStamp()}.${ext}`)),
      filters: format === 'csv' ? { CSV: ['csv'] } : { Markdown: ['md'] },
      saveLabel: 'Export',
    });
    if (!target) return { cancelled: true };
    if (target.scheme !== 'file') throw new UserError(`Cannot write to ${target.toString()}.`, 'Choose a file on this machine.');
    const { table, optionDiff } = compareFigures(this.runs);
    const text = format === 'csv'
      ? tableToCsv(table)
      : tableToMarkdown(table, { title: `GAN run comparison (${new Date().toISOString().slice(0, 19).replace('T', ' ')})`, optionDiff });
    await writeFileAtomic(target.fsPath, text);
    this.deps.log(`Compare panel: exported ${format} to ${target.fsPath}`);
    void vscode.window.showInformationMessage(`Exported the comparison to ${path.basename(target.fsPath)}.`, 'Open').then((a) => {
      if (a) void vscode.window.showTextDocument(target, { preview: true });
    });
    return { file: target.fsPath };
  }
}

function panelTitle(dirs: string[]): string {
  const ids = dirs.map((d) => /^(\d+)-/.exec(path.basename(d))?.[1] ?? path.basename(d).slice(0, 12));
  return `Compare · ${ids.join(' vs ')}`.slice(0, 80);
}

/** Owns every compare panel. */
export class CompareRunsPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private readonly panels = new PanelRegistry<CompareRunsPanel>();

  constructor(private readonly deps: ComparePanelDeps) {}

  /** Opens a comparison of these run folders (ordered by folder name, duplicates dropped), or reveals the open one. */
  show(runDirs: string[]): void {
    const dirs = normalizeDirs(runDirs);
    if (dirs.length < 1) throw new UserError('Choose at least one run to compare.', 'Select runs in the Runs view (Ctrl/Cmd+click) and run Compare Runs.');
    if (dirs.length > MAX_COMPARE_RUNS) throw new UserError(`Too many runs (${dirs.length}) to compare at once.`, `Choose at most ${MAX_COMPARE_RUNS}.`);
    if (this.panels.reveal(keyOf(dirs))) return;
    const panel = vscode.window.createWebviewPanel(VIEW_TYPES.compareRuns, panelTitle(dirs), vscode.ViewColumn.Active, {
      ...webviewOptions(this.deps.extensionUri, dirs.map((d) => vscode.Uri.file(d))),
      retainContextWhenHidden: true,
    });
    this.panels.adopt(keyOf(dirs), (onDispose) => new CompareRunsPanel(panel, dirs, this.deps, onDispose));
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const ok = admitRestore(panel, state, isComparePanelState, (st) => checkRestoredFolders(st.runDirs, this.deps.restoreRoots()), {
      what: 'a comparison panel',
      unreadable: 'This comparison could not be restored. Select runs in the Runs view and run GAN Inspector: Compare Runs again.',
      refused: 'This comparison was not restored: one of its run folders is not under the workspace or ganInspector.runsRoots. Select runs in the Runs view and run GAN Inspector: Compare Runs again.',
    }, this.deps.log);
    if (!ok) return;
    const dirs = normalizeDirs(ok.paths);
    this.panels.restore(keyOf(dirs), panel, (onDispose) => new CompareRunsPanel(panel, dirs, this.deps, onDispose));
  }

  /** Tells every panel comparing this run that it changed. */
  poke(runDir: string): void {
    const d = path.resolve(runDir);
    for (const p of this.panels.values()) if (p.dirs.includes(d)) p.poke();
  }

  dispose(): void {
    this.panels.dispose();
  }
}

/** Absolute, deduplicated, ordered by folder name (run id) then path, so every selection order gives the same panel. */
function normalizeDirs(dirs: string[]): string[] {
  return [...new Set(dirs.map((d) => path.resolve(d)))].sort((a, b) => path.basename(a).localeCompare(path.basename(b)) || a.localeCompare(b));
}

function keyOf(dirs: string[]): string {
  return [...dirs].sort().join('\n');
}
