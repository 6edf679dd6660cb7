/**
 * Command arguments → snapshot folders, without vscode (so it is unit-tested in plain Node): a Runs-view
 * snapshot node, an Explorer Uri (the snapshot folder, its snapshot.json or weights.bin, an official
 * .pkl) or a path string. Anything else (a run node, a run folder, nothing) means "ask".
 * src/host/inference/snapshotArgs.ts adds vscode.Uri recognition on top.
 */
import * as path from 'node:path';
import { snapshotDirOf } from './inference/snapshotInfo';

const SNAPSHOT_NAME_RE = /^network-snapshot-[^/\\]*$/;

/** True when a path names a snapshot (folder, one of its files, or a .pkl). */
export function looksLikeSnapshot(p: string): boolean {
  const base = path.basename(p);
  if (base === 'snapshot.json' || base === 'weights.bin') return SNAPSHOT_NAME_RE.test(path.basename(path.dirname(p)));
  return SNAPSHOT_NAME_RE.test(base) || base.endsWith('.pkl');
}

/** The parts of a vscode.Uri this module reads. */
export interface UriLike {
  scheme: string;
  fsPath: string;
}

/**
 * The snapshot folder (or .pkl) an argument names, if it names one. `isUri` says whether `arg` is an
 * Explorer Uri (the caller's `instanceof vscode.Uri`); only file: Uris count.
 */
export function snapshotPathFromArg(arg: unknown, isUri: (a: unknown) => a is UriLike): string | undefined {
  let p: string | undefined;
  if (typeof arg === 'string' && arg.length > 0) p = path.resolve(arg);
  else if (isUri(arg)) p = arg.scheme === 'file' ? arg.fsPath : undefined;
  else if (arg && typeof arg === 'object' && (arg as { kind?: unknown }).kind === 'snapshot') {
    // A Runs-view snapshot node: its path is the snapshot folder (or .pkl) already.
    const s = (arg as { snapshot?: { path?: unknown } }).snapshot;
    if (s && typeof s.path === 'string') return s.path;
  }
  return p && looksLikeSnapshot(p) ? snapshotDirOf(p) : undefined;
}
