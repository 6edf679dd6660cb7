/**
 * Commands on listed runs: Open Loss Curves, Refresh, Reveal Run Folder, Open Log and Compare Runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { runDescription, stateLabel } from '../runs/runView';
import { runDirFromArg, runDirOrPick } from './pickers';
import type { HostServices, Register } from './services';

export function registerRunsCommands(reg: Register, s: HostServices): void {
  reg('ganInspector.openLossCurves', (a) => openLossCurves(s, runDirFromArg(a)));
  reg('ganInspector.refreshRuns', () => s.tree.refreshAll());
  reg('ganInspector.revealRunFolder', (a) => revealRunFolder(s, runDirFromArg(a)));
  reg('ganInspector.openLog', (a) => openLog(s, runDirFromArg(a)));
  reg('ganInspector.compareRuns', (a, b) => compareRuns(s, a, b));
}

async function openLossCurves(s: HostServices, dir?: string): Promise<void> {
  const runDir = await runDirOrPick(s, dir, 'Open loss curves of which run?');
  if (!runDir) return;
  if (!fs.existsSync(runDir)) throw new UserError(`Run folder not found: ${runDir}`, 'Refresh the Runs view.');
  s.panels.show(runDir);
}

async function revealRunFolder(s: HostServices, dir?: string): Promise<void> {
  const runDir = await runDirOrPick(s, dir, 'Reveal which run folder?');
  if (!runDir) return;
  const uri = vscode.Uri.file(runDir);
  const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
  // revealFileInOS does not exist in a browser (code-server); the Explorer works for workspace folders.
  try {
    await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
  } catch {
    const a = await vscode.window.showInformationMessage(`Run folder: ${runDir}`, 'Copy Path');
    if (a) await vscode.env.clipboard.writeText(runDir);
  }
}

/** Open Log: a run's log.txt (picked when no run is given), else the GAN Inspector output. */
export async function openLog(s: HostServices, dir?: string): Promise<void> {
  const runDir = await runDirOrPick(s, dir, 'Open the log of which run?');
  if (!runDir) {
    s.output.show(true);
    return;
  }
  await openRunFile(s, runDir, 'log');
}

/** A run's log.txt, stats.jsonl or folder (the loss-curve panel's links). */
export async function openRunFile(s: HostServices, dir: string, target: 'log' | 'stats' | 'folder'): Promise<void> {
  if (target === 'folder') return revealRunFolder(s, dir);
  const file = path.join(dir, target === 'log' ? 'log.txt' : 'stats.jsonl');
  if (!fs.existsSync(file)) {
    void vscode.window.showInformationMessage(`${path.basename(dir)} has no ${path.basename(file)} yet; showing the GAN Inspector output instead.`);
    s.output.show(true);
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
}

/**
 * Compare Runs: the Runs view's multi-selection (context menu: clicked node + selected nodes; palette:
 * the current selection), a list of run paths, or else a multi-select quick pick.
 */
async function compareRuns(s: HostServices, arg?: unknown, selected?: unknown): Promise<void> {
  const toDirs = (xs: unknown[]) => [...new Set(xs.map(runDirFromArg).filter((d): d is string => d !== undefined))];
  let dirs = Array.isArray(selected) ? toDirs(selected) : Array.isArray(arg) ? toDirs(arg) : toDirs(arg === undefined ? [] : [arg]);
  if (arg === undefined && dirs.length < 2) dirs = toDirs([...s.runsView.selection]);
  if (dirs.length < 2) {
    const runs = await s.tree.runs();
    if (runs.length < 2) {
      throw new UserError('Compare Runs needs at least two runs in the Runs view.', 'Train a second run, or add a runs folder in ganInspector.runsRoots.', { setting: 'ganInspector.runsRoots' });
    }
    const picks = await vscode.window.showQuickPick(
      runs.map((v) => ({ label: v.summary.name, description: `${stateLabel(v.state)} · ${runDescription(v)}`, detail: v.summary.dir, picked: dirs.includes(v.summary.dir), dir: v.summary.dir })),
      { title: 'GAN Inspector: Compare Runs', placeHolder: 'Choose two or more runs', canPickMany: true, matchOnDescription: true, matchOnDetail: true },
    );
    if (!picks) return;
    if (picks.length < 2) {
      void vscode.window.showInformationMessage('Choose at least two runs to compare.');
      return;
    }
    dirs = picks.map((p) => p.dir);
  }
  for (const d of dirs) if (!fs.existsSync(d)) throw new UserError(`Run folder not found: ${d}`, 'Refresh the Runs view.');
  s.compare.show(dirs);
}
