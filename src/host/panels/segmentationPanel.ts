/**
 * Feature-map segmentation panels: one per snapshot (create-or-reveal), restored after a reload by a
 * serializer. K-means of G's features (and of D's GGDR decoder output on the same fakes and on reals)
 * runs in the inference process; this side validates every webview message, checks the requested
 * resolutions against the snapshot, and forwards progress, per-snapshot strip items and cancellation.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { VIEW_TYPES } from '../../shared/protocol/panels/common';
import { MAX_ACROSS_SEEDS, MAX_SEGMENT_SEEDS, isSegmentationPanelState, segmentationHostValidators, type SegmentationHostApi, type SegmentationInfo, type SegmentationWebviewApi } from '../../shared/protocol/panels/segmentation';
import type { InferenceClient } from '../inference/inferenceClient';
import { describeForSegmentation, labelFor, snapshotDirOf } from '../inference/snapshotInfo';
import { panelHtml, webviewOptions } from '../webview/html';
import { PanelRegistry } from '../webview/panelRegistry';
import { PanelSession } from '../webview/panelSession';
import { cancellable, seedsFromSpec } from './checkpointViewerPanel';
import { admitRestore, checkRestoredSnapshot } from './restoreGuard';

export interface SegmentationPanelDeps {
  extensionUri: vscode.Uri;
  client: InferenceClient;
  log: (line: string) => void;
  openViewer: (snapshotDir: string) => void;
  /** Folders a restored panel may open (workspace folders + runs roots); the saved state is untrusted. */
  restoreRoots: () => string[];
}

/** K-means fits on at most this many pixels (a seeded sample), then assigns every pixel. */
export const FIT_PIXELS = 20_000;
const KMEANS_SEED = 0;
let nextOwner = 1;

class SegmentationPanel extends PanelSession<SegmentationHostApi, SegmentationWebviewApi> {
  private readonly owner = `seg#${nextOwner++}`;
  private info: SegmentationInfo | undefined;
  /** Seeds handed over by the viewer, offered on the next hello. */
  initialSeeds: string | undefined;

  constructor(panel: vscode.WebviewPanel, readonly dir: string, deps: SegmentationPanelDeps, onDispose: () => void) {
    super(panel, { name: 'Segmentation', label: path.basename(dir), validators: segmentationHostValidators, log: deps.log }, onDispose);
    this.disposables.push({ dispose: () => void deps.client.releaseOwner(this.owner) });
    panel.webview.options = webviewOptions(deps.extensionUri);
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'gan-inspector.svg');
    const c = this.channel;
    c.onRequest('hello', async () => {
      this.info = await describeForSegmentation(dir);
      if (!this.info.error) deps.client.retain(this.owner, dir);
      const seeds = this.initialSeeds;
      this.initialSeeds = undefined;
      return seeds ? { ...this.info, initialSeeds: seeds } : this.info;
    });
    c.onRequest('segment', async (p) => {
      const info = this.ready();
      const seeds = seedsFromSpec(p.seeds, MAX_SEGMENT_SEEDS);
      const bad = p.resolutions.filter((r) => !info.blockResolutions.includes(r));
      if (bad.length) throw new UserError(`Resolution ${bad.join(', ')} is not a generator block of this ${info.resolution}px model.`, `Use ${info.blockResolutions.join(', ')}.`);
      return cancellable(deps.client.call('segment', {
        snapshot: dir, seeds, resolutions: p.resolutions, k: p.k, metric: p.metric, psi: p.psi,
        kmeansSeed: KMEANS_SEED, maxPixels: FIT_PIXELS, withDecoder: true, reals: p.reals ? seeds.length : 0, ...labelFor(info, p.label),
      }, {
        lane: `${this.owner}:segment`,
        onProgress: (q) => void c.emit('progress', { what: 'segment', done: q.done, total: q.total, message: q.message }),
      }));
    });
    c.onRequest('across', async (p) => {
      const info = this.ready();
      const seeds = seedsFromSpec(p.seeds, MAX_ACROSS_SEEDS);
      const snapshots = info.snapshots.filter((s) => s.loadable).map((s) => s.path);
      if (!snapshots.length) throw new UserError(`${info.runName} has no loadable snapshots.`);
      return cancellable(deps.client.call('segmentAcross', {
        snapshots, seeds, res: p.res, k: p.k, metric: p.metric, psi: p.psi, kmeansSeed: KMEANS_SEED, maxPixels: FIT_PIXELS,
      }, {
        lane: `${this.owner}:across`,
        onProgress: (q) => void c.emit('progress', { what: 'across', done: q.done, total: q.total, message: q.message }),
        onAcrossItem: (item) => void c.emit('acrossItem', item),
      }));
    });
    c.on('cancel', ({ what }) => deps.client.cancelLane(`${this.owner}:${what}`));
    c.on('openViewer', () => deps.openViewer(dir));
    this.setHtml(() => panelHtml(panel.webview, deps.extensionUri, 'segmentation', `Segmentation · ${path.basename(dir)}`));
  }

  private ready(): SegmentationInfo {
    if (!this.info) throw new UserError('The panel is not initialised yet.');
    if (this.info.error) throw new UserError(this.info.error);
    return this.info;
  }
}

/** Owns every segmentation panel. */
export class SegmentationPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private readonly panels = new PanelRegistry<SegmentationPanel>();

  constructor(private readonly deps: SegmentationPanelDeps) {}

  /** Opens the snapshot's panel, or reveals it when already open; resolves once its webview has started. */
  show(snapshot: string, seeds?: string): Promise<void> {
    const dir = snapshotDirOf(snapshot);
    if (this.panels.reveal(dir)) return Promise.resolve();
    const panel = vscode.window.createWebviewPanel(VIEW_TYPES.segmentation, `Segmentation · ${path.basename(dir)}`, vscode.ViewColumn.Active, {
      ...webviewOptions(this.deps.extensionUri),
      // K-means results are expensive to recompute on every tab switch.
      retainContextWhenHidden: true,
    });
    const session = this.panels.adopt(dir, (onDispose) => new SegmentationPanel(panel, dir, this.deps, onDispose));
    session.initialSeeds = seeds;
    return session.started;
  }

  /** Restores a panel after a window reload from the state its webview saved. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const ok = admitRestore(panel, state, isSegmentationPanelState, (st) => checkRestoredSnapshot(snapshotDirOf(st.snapshot), this.deps.restoreRoots()), {
      what: 'a segmentation panel',
      unreadable: 'This segmentation panel could not be restored. Open it again from the Runs view (snapshot → Cluster Generator Feature Maps).',
      refused: 'This segmentation panel was not restored: its snapshot is not under the workspace or ganInspector.runsRoots. Open it again from the Runs view.',
    }, this.deps.log);
    if (!ok) return;
    const dir = ok.path;
    this.panels.restore(dir, panel, (onDispose) => new SegmentationPanel(panel, dir, this.deps, onDispose));
  }

  /** Snapshot folders with an open panel. */
  openSnapshots(): string[] {
    return this.panels.keys();
  }

  dispose(): void {
    this.panels.dispose();
  }
}
