/**
 * The Runs view: every run folder under the runs roots, newest first, with state icons, and children
 * for snapshots (ours and official .pkl ones; unloadable ones greyed with the reason), sample grids, metric files and logs.
 * Refreshed per run from file-system events (see RunsWatcher); never polls.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listRuns } from '../../core/runs/readRun';
import type { RunDisplayState } from '../../shared/protocol/panels/common';
import type { SnapshotInfo } from '../../shared/runTypes';
import { compareRunsNewestFirst, describeRun, runDescription, runDetails, stateLabel, viewOf, type RunView } from './runView';

export const RUNS_VIEW_ID = 'ganInspector.runs';
/** URI scheme used only to grey out unloadable snapshots through a FileDecorationProvider. */
const UNLOADABLE_SCHEME = 'gan-inspector-unloadable';

export type RunsNode =
  | { kind: 'run'; dir: string }
  | { kind: 'group'; dir: string; group: 'snapshots' | 'grids' | 'metrics' }
  | { kind: 'snapshot'; dir: string; snapshot: SnapshotInfo }
  | { kind: 'file'; dir: string; file: string; label?: string; icon: string; description?: string }
  | { kind: 'message'; text: string; detail?: string };

const STATE_ICONS: Record<RunDisplayState, [string, string | undefined]> = {
  running: ['sync~spin', 'charts.blue'],
  finished: ['pass', 'testing.iconPassed'],
  failed: ['error', 'errorForeground'],
  stopped: ['debug-pause', 'charts.yellow'],
  interrupted: ['debug-disconnect', 'charts.orange'],
  unknown: ['question', undefined],
};

/** The provider. `roots()` is re-read on every full refresh. */
export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private views = new Map<string, RunView>();
  /** Stable node objects: VS Code matches refresh events by object identity. */
  private runNodes = new Map<string, Extract<RunsNode, { kind: 'run' }>>();
  private order: string[] = [];
  private problems: RunsNode[] = [];
  private loaded: Promise<void> | undefined;
  private readonly decorations: vscode.Disposable;
  private readonly visibleChanged = new vscode.EventEmitter<void>();
  /** Fires after any refresh (pickers and panels listen). */
  readonly onDidChangeRuns = this.visibleChanged.event;

  constructor(
    private readonly roots: () => string[],
    private readonly owns: (dir: string) => boolean,
    private readonly log: (line: string) => void,
  ) {
    this.decorations = vscode.window.registerFileDecorationProvider({
      provideFileDecoration: (uri) =>
        uri.scheme === UNLOADABLE_SCHEME ? { color: new vscode.ThemeColor('disabledForeground'), tooltip: 'Not loadable here' } : undefined,
    });
  }

  dispose(): void {
    this.changed.dispose();
    this.visibleChanged.dispose();
    this.decorations.dispose();
  }

  /** Every known run, newest first (loads once if needed). */
  async runs(): Promise<RunView[]> {
    await (this.loaded ??= this.refreshAll());
    return this.order.map((d) => this.views.get(d)!).filter(Boolean);
  }

  /** The cached view of a run folder, if listed. */
  get(dir: string): RunView | undefined {
    return this.views.get(path.resolve(dir));
  }

  /** The node object of a run folder (for reveal). */
  nodeOf(dir: string): RunsNode | undefined {
    return this.runNodes.get(path.resolve(dir));
  }

  /** Re-lists every root. */
  async refreshAll(): Promise<void> {
    const next = new Map<string, RunView>();
    const problems: RunsNode[] = [];
    for (const root of this.roots()) {
      try {
        for (const s of await listRuns(root, { checkPid: false })) next.set(s.dir, await viewOf(s, this.owns));
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        problems.push({ kind: 'message', text: `Cannot list ${root}`, detail: msg });
        this.log(`Runs view: ${msg}`);
      }
    }
    this.views = next;
    this.order = [...next.values()].sort(compareRunsNewestFirst).map((v) => v.summary.dir);
    for (const d of [...this.runNodes.keys()]) if (!next.has(d)) this.runNodes.delete(d);
    this.problems = problems;
    this.loaded ??= Promise.resolve();
    void vscode.commands.executeCommand('setContext', 'ganInspector.hasRuns', this.order.length > 0);
    this.changed.fire(undefined);
    this.visibleChanged.fire();
  }

  /** Re-reads the given run folders; unknown or vanished ones trigger a full re-list. */
  async refreshRuns(dirs: Iterable<string>): Promise<void> {
    let structural = false;
    for (const raw of dirs) {
      const dir = path.resolve(raw);
      if (!this.views.has(dir)) {
        structural = true;
        continue;
      }
      try {
        const v = await describeRun(dir, this.owns);
        this.views.set(dir, v);
        const node = this.runNodes.get(dir);
        if (node) this.changed.fire(node);
      } catch {
        structural = true; // deleted or no longer a folder
      }
    }
    if (structural) await this.refreshAll();
    else this.visibleChanged.fire();
  }

  getTreeItem(n: RunsNode): vscode.TreeItem {
    switch (n.kind) {
      case 'run': return this.runItem(n);
      case 'group': return this.groupItem(n);
      case 'snapshot': return snapshotItem(n);
      case 'file': {
        const full = path.join(n.dir, n.file);
        const item = new vscode.TreeItem(n.label ?? n.file, vscode.TreeItemCollapsibleState.None);
        item.id = `file:${full}`;
        item.iconPath = new vscode.ThemeIcon(n.icon);
        item.description = n.description;
        item.tooltip = full;
        item.resourceUri = vscode.Uri.file(full);
        item.contextValue = 'runFile';
        item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(full), { preview: true }] };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(n.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        item.tooltip = n.detail;
        item.description = n.detail;
        return item;
      }
    }
  }

  async getChildren(n?: RunsNode): Promise<RunsNode[]> {
    if (!n) {
      await (this.loaded ??= this.refreshAll());
      return [...this.problems, ...this.order.map((d) => this.runNode(d))];
    }
    const v = 'dir' in n ? this.views.get(n.dir) : undefined;
    if (n.kind === 'run') {
      if (!v) return [];
      const s = v.summary;
      const out: RunsNode[] = [];
      if (s.snapshots.length) out.push({ kind: 'group', dir: s.dir, group: 'snapshots' });
      if (s.grids.length) out.push({ kind: 'group', dir: s.dir, group: 'grids' });
      if (s.metrics.length) out.push({ kind: 'group', dir: s.dir, group: 'metrics' });
      const files: Array<[string, string]> = [['stats.jsonl', 'graph-line'], ['log.txt', 'output'], ['training_options.json', 'settings'], ['status.json', 'info']];
      for (const [f, icon] of files) if (fs.existsSync(path.join(s.dir, f))) out.push({ kind: 'file', dir: s.dir, file: f, icon });
      return out;
    }
    if (n.kind === 'group' && v) {
      const s = v.summary;
      if (n.group === 'snapshots') return s.snapshots.map((snapshot) => ({ kind: 'snapshot', dir: s.dir, snapshot }));
      if (n.group === 'grids') return [...s.grids].reverse().map((g) => ({ kind: 'file', dir: s.dir, file: g, icon: 'file-media', description: gridDescription(g) }));
      return s.metrics.map((m) => ({ kind: 'file', dir: s.dir, file: `metric-${m}.jsonl`, label: m, icon: 'graph', description: `metric-${m}.jsonl` }));
    }
    return [];
  }

  getParent(n: RunsNode): RunsNode | undefined {
    if (n.kind === 'run' || n.kind === 'message') return undefined;
    if (n.kind === 'group') return this.runNode(n.dir);
    return undefined;
  }

  private runNode(dir: string): Extract<RunsNode, { kind: 'run' }> {
    let node = this.runNodes.get(dir);
    if (!node) this.runNodes.set(dir, (node = { kind: 'run', dir }));
    return node;
  }

  private runItem(n: Extract<RunsNode, { kind: 'run' }>): vscode.TreeItem {
    const v = this.views.get(n.dir);
    const item = new vscode.TreeItem(path.basename(n.dir), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `run:${n.dir}`;
    if (!v) return item;
    const [icon, color] = STATE_ICONS[v.state];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.description = runDescription(v);
    const md = new vscode.MarkdownString(runDetails(v).join('  \n'));
    md.supportHtml = false;
    item.tooltip = md;
    const ctx = ['run', `state-${v.state}`, `origin-${v.summary.origin}`];
    if (v.resumable) ctx.push('resumable');
    if (v.owned) ctx.push('stoppable');
    item.contextValue = ctx.join(' ');
    item.accessibilityInformation = { label: `Run ${v.summary.name}, ${stateLabel(v.state)}, ${runDescription(v)}` };
    return item;
  }

  private groupItem(n: Extract<RunsNode, { kind: 'group' }>): vscode.TreeItem {
    const s = this.views.get(n.dir)?.summary;
    const count = s ? (n.group === 'snapshots' ? s.snapshots.length : n.group === 'grids' ? s.grids.length : s.metrics.length) : 0;
    const label = n.group === 'snapshots' ? 'Snapshots' : n.group === 'grids' ? 'Sample grids' : 'Metrics';
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `group:${n.group}:${n.dir}`;
    item.description = String(count);
    item.iconPath = new vscode.ThemeIcon(n.group === 'snapshots' ? 'package' : n.group === 'grids' ? 'files' : 'graph');
    item.contextValue = `group-${n.group}`;
    return item;
  }
}

function snapshotItem(n: Extract<RunsNode, { kind: 'snapshot' }>): vscode.TreeItem {
  const s = n.snapshot;
  const item = new vscode.TreeItem(s.name, vscode.TreeItemCollapsibleState.None);
  item.id = `snapshot:${s.path}`;
  const official = s.name.endsWith('.pkl');
  if (s.loadable) {
    item.iconPath = new vscode.ThemeIcon('package');
    item.description = `kimg ${s.kimg}${official ? ' · official pickle' : ''}`;
    item.tooltip = official ? `${s.path}\nOfficial StyleGAN2-ADA / GGDR pickle (read safely: nothing in it is executed)` : s.path;
    item.contextValue = 'snapshot loadable';
  } else {
    item.iconPath = new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground'));
    item.description = `kimg ${s.kimg} · ${s.reason ?? 'not loadable'}`;
    item.tooltip = `${s.path}\n${s.reason ?? 'not loadable'}`;
    item.resourceUri = vscode.Uri.from({ scheme: UNLOADABLE_SCHEME, path: vscode.Uri.file(s.path).path });
    item.contextValue = 'snapshot unloadable';
  }
  return item;
}

function gridDescription(name: string): string | undefined {
  const m = /^fakes(\d+)\./.exec(name);
  if (m) return `kimg ${Number(m[1])}`;
  if (name.startsWith('reals')) return 'training data';
  if (name.startsWith('fakes_init')) return 'before training';
  return undefined;
}
