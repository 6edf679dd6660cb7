/**
 * File-system watching of the runs roots: events are mapped to the run folder they touch and batched
 * (~300 ms), so a training run writing stats, grids and snapshots refreshes only its own tree item.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { KeyedBatcher } from '../util/batcher';
import { classifyEventPath } from './eventPaths';

export type RunsChange = { runDirs: Set<string>; structural: boolean };

/** Watches the roots; calls `onChange` with the batch of touched run folders. */
export class RunsWatcher implements vscode.Disposable {
  private watchers: vscode.Disposable[] = [];
  private roots: string[] = [];
  private readonly batcher: KeyedBatcher<string>;
  private static readonly STRUCTURAL = '\0structural';

  constructor(private readonly onChange: (c: RunsChange) => void | Promise<void>, delayMs = 300) {
    this.batcher = new KeyedBatcher<string>(delayMs, (keys) => {
      const structural = keys.delete(RunsWatcher.STRUCTURAL);
      return this.onChange({ runDirs: keys, structural });
    });
  }

  /** (Re)starts watching these absolute root folders. */
  watch(roots: string[], workspaceFolders: readonly vscode.WorkspaceFolder[]): void {
    this.disposeWatchers();
    this.roots = roots;
    for (const root of roots) {
      // Inside a workspace folder, a pattern relative to the folder also sees the root being created later.
      const ws = workspaceFolders.find((w) => {
        const rel = path.relative(w.uri.fsPath, root);
        return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
      });
      const pattern = ws
        ? new vscode.RelativePattern(ws, `${path.relative(ws.uri.fsPath, root).split(path.sep).join('/')}/**`)
        : new vscode.RelativePattern(vscode.Uri.file(root), '**');
      const w = vscode.workspace.createFileSystemWatcher(pattern);
      const on = (uri: vscode.Uri) => this.onEvent(uri);
      this.watchers.push(w, w.onDidCreate(on), w.onDidChange(on), w.onDidDelete(on));
    }
  }

  dispose(): void {
    this.disposeWatchers();
    this.batcher.dispose();
  }

  private onEvent(uri: vscode.Uri): void {
    if (uri.scheme !== 'file') return;
    const c = classifyEventPath(this.roots, uri.fsPath);
    if (!c) return;
    this.batcher.add('structural' in c ? RunsWatcher.STRUCTURAL : c.runDir);
  }

  private disposeWatchers(): void {
    for (const d of this.watchers) d.dispose();
    this.watchers = [];
  }
}
