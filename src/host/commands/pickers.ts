/**
 * How commands find what they act on: a run folder or snapshot from the command argument (a Runs-view
 * node, a path, a file Uri), else a quick pick over the listed runs and their snapshots.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { snapshotFromArg } from '../inference/snapshotArgs';
import { describeRun, runDescription, stateLabel, type RunView } from '../runs/runView';
import type { HostServices } from './services';

/** Extracts a run folder from a command argument: a Runs-view node, a path string or a file Uri. */
export function runDirFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.length > 0) return path.resolve(arg);
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined;
  if (arg && typeof arg === 'object' && 'kind' in arg && 'dir' in arg && typeof (arg as { dir: unknown }).dir === 'string') {
    return (arg as { dir: string }).dir;
  }
  return undefined;
}

/** Quick pick over the listed runs that pass `filter`. */
export async function pickRun(s: HostServices, placeHolder: string, filter: (v: RunView) => boolean): Promise<RunView | undefined> {
  const runs = (await s.tree.runs()).filter(filter);
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

/** The run folder an argument names, else the one picked from the listed runs. */
export async function runDirOrPick(s: HostServices, arg: string | undefined, placeHolder: string, filter: (v: RunView) => boolean = () => true): Promise<string | undefined> {
  return arg ?? (await pickRun(s, placeHolder, filter))?.summary.dir;
}

/** The snapshot an argument names; for a run (or nothing) asks: run, then snapshot (newest first). */
export async function pickSnapshot(s: HostServices, arg: unknown, title: string): Promise<string | undefined> {
  const direct = snapshotFromArg(arg);
  if (direct) return direct;
  const runDir = await runDirOrPick(s, runDirFromArg(arg), `${title}: which run?`, (v) => v.summary.snapshots.length > 0);
  if (!runDir) return undefined;
  const v = s.tree.get(runDir) ?? (await describeRun(runDir, (d) => s.ownsRunDir(d)));
  const snaps = [...v.summary.snapshots].reverse();
  if (!snaps.length) throw new UserError(`${path.basename(runDir)} has no snapshots yet.`, 'Wait for the first tick of training, or pick another run.');
  const p = await vscode.window.showQuickPick(
    snaps.map((x) => ({
      label: x.name,
      description: `kimg ${x.kimg}${x.name.endsWith('.pkl') ? ' · official pickle' : ''}${x.loadable ? '' : ' · not loadable'}`,
      detail: x.loadable ? undefined : x.reason,
      path: x.path,
    })),
    { title: `GAN Inspector: ${title}`, placeHolder: `Which snapshot of ${v.summary.name}?`, matchOnDescription: true },
  );
  return p?.path;
}
