/**
 * The settings as the host reads them from VS Code: normalized settings (problems reported once, with
 * Open Settings), the workspace folders, the runs roots, and the named configurations of
 * gan-inspector.json files. Commands and panels ask this instead of reading the configuration themselves.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { normalizeSettings, parseWorkspaceConfigFile, resolveRunsRoots, type GanInspectorSettings } from './settings';

const WORKSPACE_CONFIG_FILE = 'gan-inspector.json';

export type NamedConfigurations = Record<string, NonNullable<GanInspectorSettings['configurations'][string]>>;

export class WorkspaceConfig {
  private reportedProblems = '';

  constructor(private readonly output: vscode.OutputChannel) {}

  settings(): GanInspectorSettings {
    const cfg = vscode.workspace.getConfiguration('ganInspector');
    const { settings, problems } = normalizeSettings((k) => cfg.get(k));
    const text = problems.join('\n');
    if (text && text !== this.reportedProblems) {
      this.reportedProblems = text;
      this.output.appendLine(`Settings problems:\n${text}`);
      void vscode.window.showWarningMessage(`GAN Inspector: ${problems[0]}`, 'Open Settings').then((a) => {
        if (a) void vscode.commands.executeCommand('workbench.action.openSettings', 'ganInspector');
      });
    }
    return settings;
  }

  workspaceDirs(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  /** The first workspace folder: where relative settings resolve and new runs go. */
  baseDir(): string | undefined {
    return this.workspaceDirs()[0];
  }

  roots(): string[] {
    const s = this.settings();
    return resolveRunsRoots(this.workspaceDirs(), s.runsRoots, s.outdir);
  }

  isRunsRoot(dir: string): boolean {
    return this.roots().some((r) => path.resolve(r) === path.resolve(dir));
  }

  /** Where a panel restored after a reload may point: the workspace folders and the runs roots. */
  restoreRoots(): string[] {
    return [...this.workspaceDirs(), ...this.roots()];
  }

  /** Named configurations: the setting, then gan-inspector.json at each workspace root (later wins). Throws UserError on a bad file. */
  configurations(s: GanInspectorSettings): NamedConfigurations {
    const out = { ...s.configurations };
    for (const dir of this.workspaceDirs()) {
      const file = path.join(dir, WORKSPACE_CONFIG_FILE);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      Object.assign(out, parseWorkspaceConfigFile(text, file));
    }
    return out;
  }
}
