/**
 * Command arguments → snapshot paths for the checkpoint viewer and segmentation commands: a Runs-view
 * snapshot node, an Explorer Uri (the snapshot folder, its snapshot.json or weights.bin, an official
 * .pkl) or a path string. Anything else (a run node, nothing) means "ask".
 */
import * as vscode from 'vscode';
import { snapshotPathFromArg } from '../snapshotPaths';

export { looksLikeSnapshot } from '../snapshotPaths';

/** The snapshot an argument names, if it names one (the path logic is in ../snapshotPaths.ts, vscode-free). */
export function snapshotFromArg(arg: unknown): string | undefined {
  return snapshotPathFromArg(arg, (a): a is vscode.Uri => a instanceof vscode.Uri);
}
