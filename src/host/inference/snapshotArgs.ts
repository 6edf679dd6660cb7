/**
 * Command arguments → snapshot paths for the checkpoint viewer and segmentation commands: a Runs-view
 * snapshot node, an Explorer Uri (the snapshot folder, its snapshot.json or weights.bin, an official
 * .pkl) or a path string. Anything else (a run node, nothing) means "ask".
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { snapshotDirOf } from './snapshotInfo';

const SNAPSHOT_NAME_RE = /^network-snapshot-[^/\\]*$/;

/** True when a path names a snapshot (folder, one of its files, or a .pkl). */
export function looksLikeSnapshot(p: string): boolean {
  const base = path.basename(p);
  if (base === 'snapshot.json' || base === 'weights.bin') return SNAPSHOT_NAME_RE.test(path.basename(path.dirname(p)));
  return SNAPSHOT_NAME_RE.test(base) || base.endsWith('.pkl');
}

/** The snapshot an argument names, if it names one. */
export function snapshotFromArg(arg: unknown): string | undefined {
  let p: string | undefined;
  if (typeof arg === 'string' && arg.length > 0) p = path.resolve(arg);
  else if (arg instanceof vscode.Uri) p = arg.scheme === 'file' ? arg.fsPath : undefined;
  else if (arg && typeof arg === 'object' && (arg as { kind?: unknown }).kind === 'snapshot') {
    const s = (arg as { snapshot?: { path?: unknown } }).snapshot;
    if (s && typeof s.path === 'string') return s.path;
  }
  return p && looksLikeSnapshot(p) ? snapshotDirOf(p) : undefined;
}
