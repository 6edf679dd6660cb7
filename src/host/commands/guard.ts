/**
 * How a command's failure reaches people: a UserError (or a file-system error with a known cause) is a
 * notification with what to do, offering Open Settings only when the error names the setting to fix;
 * anything else is a bug, logged with its stack, with Show Output.
 */
import * as vscode from 'vscode';
import { isUserError, UserError } from '../../core/errors';
import { fsUserError } from '../../core/runs/fsErrors';

export type Guard = (id: string, fn: () => unknown) => Promise<unknown>;

/** The same UserError, now saying which setting fixes it (core errors know the option, not the setting). */
export function aboutSetting(e: unknown, setting: string): unknown {
  return isUserError(e) && !e.setting ? new UserError(e.message, undefined, { setting }) : e;
}

export function makeGuard(output: vscode.OutputChannel): Guard {
  return async (id, fn) => {
    try {
      return await fn();
    } catch (caught) {
      // Disk full, read-only, a folder where a file goes, …: a notification with what to do, not a stack.
      const e = fsUserError(caught) ?? caught;
      if (isUserError(e)) {
        output.appendLine(`${id}: ${e.message}`);
        const text = e.message.split('\n').join(' ');
        if (e.setting) {
          const a = await vscode.window.showErrorMessage(text, 'Open Settings');
          if (a) void vscode.commands.executeCommand('workbench.action.openSettings', e.setting);
        } else {
          await vscode.window.showErrorMessage(text);
        }
      } else {
        const err = e instanceof Error ? e : new Error(String(e));
        output.appendLine(`${id} failed: ${err.stack ?? err.message}`);
        const a = await vscode.window.showErrorMessage(`GAN Inspector: ${id} failed: ${err.message}`, 'Show Output');
        if (a) output.show(true);
      }
      return undefined;
    }
  };
}
