/**
 * What a failed command tells people (guard.ts shows it): a UserError, or a file-system error with a
 * known cause (disk full, read-only, …), is a message with what to do, and offers Open Settings only
 * when it names the setting to fix; anything else is a bug, logged with its stack. No vscode.
 */
import { isUserError, UserError } from '../../core/errors';
import { fsUserError } from '../../core/runs/fsErrors';

export type ErrorNotice =
  | { kind: 'user'; text: string; log: string; setting?: string }
  | { kind: 'bug'; text: string; log: string };

/** The same UserError, now saying which setting fixes it (core errors know the option, not the setting). */
export function aboutSetting(e: unknown, setting: string): unknown {
  return isUserError(e) && !e.setting ? new UserError(e.message, undefined, { setting }) : e;
}

export function errorNotice(id: string, caught: unknown): ErrorNotice {
  const e = fsUserError(caught) ?? caught;
  if (isUserError(e)) {
    const n: ErrorNotice = { kind: 'user', text: e.message.split('\n').join(' '), log: `${id}: ${e.message}` };
    if (e.setting) n.setting = e.setting;
    return n;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: 'bug', text: `GAN Inspector: ${id} failed: ${err.message}`, log: `${id} failed: ${err.stack ?? err.message}` };
}
