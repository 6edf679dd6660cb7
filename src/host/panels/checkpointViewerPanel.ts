/**
 * Checkpoint viewer: a read-only custom editor of `network-snapshot-*` folders (registered for their
 * snapshot.json) and of official StyleGAN2-ADA / GGDR `network-snapshot-*.pkl` files.
 * Generation runs in the inference process; this side validates every webview message, turns seed
 * specs into seeds, keeps one lane per kind of request (a new ψ cancels the render in flight), and
 * tells the client which checkpoint the editor holds so it is freed when the last panel closes. The
 * mode-coverage section reads the run's metric-modes* lines (viewerModes.ts) and computes through Compute Metrics.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { MAX_SEEDS, parseSeedSpec, type MetricsJobResult, type ProgressInfo } from '../../shared/protocol/inference';
import { VIEW_TYPES, type Cancelled } from '../../shared/protocol/panels/common';
import { viewerHostValidators, type SnapshotPanelInfo, type ViewerHostApi, type ViewerJob, type ViewerWebviewApi } from '../../shared/protocol/panels/viewer';
import { isCancelled, type InferenceClient } from '../inference/inferenceClient';
import { describeSnapshot, exportFileName, labelFor, snapshotDirOf } from '../inference/snapshotInfo';
import { panelHtml, webviewOptions } from '../webview/html';
import { modesUnavailableReason, readViewerModes } from './viewerModes';
import { DEFAULT_MODES_METRIC } from '../../shared/modeCoverage';
import { PanelSession } from '../webview/panelSession';

export interface SnapshotPanelDeps {
  extensionUri: vscode.Uri;
  client: InferenceClient;
  log: (line: string) => void;
  /** Opens (or reveals) the segmentation panel of a snapshot, optionally with seeds. */
  openSegmentation: (snapshotDir: string, seeds?: string) => void;
}

const CANCELLED: Cancelled = { cancelled: true };

/** `p`'s result, or `{ cancelled: true }` when the inference client cancelled it (a newer request took its lane). */
export async function cancellable<T>(p: Promise<T>): Promise<T | Cancelled> {
  try {
    return await p;
  } catch (e) {
    if (isCancelled(e)) return CANCELLED;
    throw e;
  }
}

/** Seeds from a webview's spec, or a UserError that the webview shows. */
export function seedsFromSpec(spec: string, max = MAX_SEEDS): number[] {
  const r = parseSeedSpec(spec, max);
  if ('error' in r) throw new UserError(r.error);
  return r.seeds;
}

class SnapshotDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

let nextOwner = 1;

class ViewerSession extends PanelSession<ViewerHostApi, ViewerWebviewApi> {
  private readonly owner = `viewer#${nextOwner++}`;
  private info: SnapshotPanelInfo | undefined;

  constructor(panel: vscode.WebviewPanel, readonly dir: string, deps: SnapshotPanelDeps, onDispose: () => void) {
    super(panel, { name: 'Checkpoint viewer', label: path.basename(dir), validators: viewerHostValidators, log: deps.log }, onDispose);
    this.disposables.push({ dispose: () => void deps.client.releaseOwner(this.owner) });
    // Images travel as data: URLs, so the webview needs no run folder among its resource roots.
    panel.webview.options = webviewOptions(deps.extensionUri);
    const c = this.channel;
    c.onRequest('hello', async () => {
      this.info = await describeSnapshot(dir);
      if (!this.info.error) deps.client.retain(this.owner, dir);
      return this.info;
    });
    const progress = (what: ViewerJob) => (q: ProgressInfo) => void c.emit('progress', { what, done: q.done, total: q.total, message: q.message });
    c.onRequest('render', async (p) => {
      const seeds = seedsFromSpec(p.seeds);
      const label = labelFor(this.ready(), p.label);
      return cancellable(deps.client.call('render', { snapshot: dir, seeds, which: p.which, psi: p.psi, noiseMode: p.noiseMode, noiseSeed: p.noiseSeed, ...label }, {
        lane: `${this.owner}:grid`,
        onProgress: progress('grid'),
      }).then((r) => ({ images: r.images, ms: r.ms, backend: r.backend, loaded: r.loaded })));
    });
    c.onRequest('interpolate', async (p) => {
      const label = labelFor(this.ready(), p.label);
      return cancellable(deps.client.call('interpolate', { snapshot: dir, ...p, ...label }, {
        lane: `${this.owner}:interp`,
        onProgress: progress('interp'),
      }));
    });
    c.onRequest('exportGrid', async (p) => {
      const seeds = seedsFromSpec(p.seeds);
      const info = this.ready();
      const label = labelFor(info, p.label);
      const file = path.join(info.runDir, exportFileName(info, seeds, p.psi, p.which, p.noiseMode, label.label));
      const r = await cancellable(deps.client.call('exportGrid', { snapshot: dir, seeds, cols: p.cols, file, which: p.which, psi: p.psi, noiseMode: p.noiseMode, noiseSeed: p.noiseSeed, ...label }, {
        lane: `${this.owner}:export`,
        onProgress: progress('export'),
      }));
      if ('cancelled' in r) return r;
      deps.log(`Checkpoint viewer: wrote ${r.file} (${r.width}×${r.height})`);
      void vscode.window.showInformationMessage(`Saved ${path.basename(r.file)} in ${path.basename(info.runDir)}.`, 'Open').then((a) => {
        if (a) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(r.file), { preview: true });
      });
      return { file: r.file };
    });
    c.onRequest('modes', async () => readViewerModes(this.ready()));
    c.onRequest('computeModes', async () => {
      const info = this.ready();
      const why = modesUnavailableReason(info);
      if (why) throw new UserError(why);
      // Through the command: its progress notification, Cancel, result message and metric-file bookkeeping.
      const r = await vscode.commands.executeCommand<MetricsJobResult | undefined>('ganInspector.computeMetrics', dir, [DEFAULT_MODES_METRIC]);
      return r ? readViewerModes(info) : CANCELLED;
    });
    c.on('openSegmentation', ({ seeds }) => deps.openSegmentation(dir, seeds));
    c.on('cancel', ({ what }) => deps.client.cancelLane(`${this.owner}:${what}`));
    this.setHtml(() => panelHtml(panel.webview, deps.extensionUri, 'viewer', `Checkpoint · ${path.basename(dir)}`));
  }

  /** The snapshot's info; throws its load error so the webview shows it. */
  private ready(): SnapshotPanelInfo {
    if (!this.info) throw new UserError('The viewer is not initialised yet.');
    if (this.info.error) throw new UserError(this.info.error);
    return this.info;
  }
}

/** The custom editor provider; one ViewerSession per open editor. */
export class CheckpointViewerProvider implements vscode.CustomReadonlyEditorProvider<SnapshotDocument>, vscode.Disposable {
  private readonly sessions = new Set<ViewerSession>();

  constructor(private readonly deps: SnapshotPanelDeps) {}

  /** Registers the provider (multiple editors per snapshot allowed; state restored by VS Code). */
  register(): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(VIEW_TYPES.checkpointViewer, this, {
      webviewOptions: { retainContextWhenHidden: true },
      supportsMultipleEditorsPerDocument: true,
    });
  }

  openCustomDocument(uri: vscode.Uri): SnapshotDocument {
    return new SnapshotDocument(uri);
  }

  resolveCustomEditor(document: SnapshotDocument, panel: vscode.WebviewPanel): void {
    const dir = snapshotDirOf(document.uri.fsPath);
    const s = new ViewerSession(panel, dir, this.deps, () => this.sessions.delete(s));
    this.sessions.add(s);
  }

  /** Opens the viewer on a snapshot folder (its snapshot.json) or an official .pkl. */
  async open(snapshot: string): Promise<void> {
    const dir = snapshotDirOf(snapshot);
    const target = dir.endsWith('.pkl') ? dir : path.join(dir, 'snapshot.json');
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(target), VIEW_TYPES.checkpointViewer);
  }

  /** Snapshot folders with an open viewer. */
  openSnapshots(): string[] {
    return [...this.sessions].map((s) => s.dir);
  }

  dispose(): void {
    for (const s of [...this.sessions]) s.dispose();
    this.sessions.clear();
  }
}
