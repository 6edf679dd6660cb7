/**
 * Tells live runs from dead ones: status.json may say "running" long after its trainer died (window
 * reload, crash, kill -9). No vscode imports.
 */
import type { RunState } from '../../shared/runTypes';
import type { RunDisplayState } from '../../shared/protocol/panels/common';

import { isPidAlive } from '../../core/util/process';

export { isPidAlive };

/**
 * The state to show. A run owned by one of our live jobs is running whatever its files say; a
 * "running" status.json whose pid is gone (or missing) is `interrupted` (stopped, resumable).
 */
export function displayState(state: RunState, pid: number | undefined, ownedByUs: boolean, alive: (pid: number) => boolean = isPidAlive): RunDisplayState {
  if (ownedByUs) return 'running';
  if (state !== 'running') return state;
  return pid !== undefined && alive(pid) ? 'running' : 'interrupted';
}

/** States from which Resume Training makes sense. */
export function isResumable(s: RunDisplayState): boolean {
  return s === 'stopped' || s === 'failed' || s === 'interrupted';
}
