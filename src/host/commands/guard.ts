/**
 * Runs command bodies and turns their failures into notifications (errorNotice.ts decides what they
 * say): Open Settings only for errors about a setting, Show Output for bugs.
 */
import * as vscode from 'vscode';
import { errorNotice } from './errorNotice';

export type Guard = (id: string, fn: () => unknown) => Promise<unknown>;

export function makeGuard(output: vscode.OutputChannel): Guard {
  return async (id, fn) => {
    try {
      return await fn();
    } catch (caught) {
      const n = errorNotice(id, caught);
      output.appendLine(n.log);
      if (n.kind === 'bug') {
        if (await vscode.window.showErrorMessage(n.text, 'Show Output')) output.show(true);
      } else if (n.setting) {
        if (await vscode.window.showErrorMessage(n.text, 'Open Settings')) void vscode.commands.executeCommand('workbench.action.openSettings', n.setting);
      } else {
        await vscode.window.showErrorMessage(n.text);
      }
      return undefined;
    }
  };
}
