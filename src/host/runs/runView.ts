/**
 * A run as the UI shows it: the reader's RunSummary plus the display state (live / interrupted) and
 * the short texts used by the tree, pickers and panels. No vscode imports.
 */
import { readRun } from '../../core/runs/readRun';
import { readRunStatus } from '../../core/runs/readRunFiles';
import type { RunSummary } from '../../shared/runTypes';
import type { RunDisplayState } from '../../shared/protocol/panels/common';
import type { LossRunInfo } from '../../shared/protocol/panels/loss';
import { displayState, isPidAlive, isResumable } from './liveness';

export interface RunView {
  summary: RunSummary;
  state: RunDisplayState;
  /** Trainer pid from status.json (only read for "running" runs). */
  pid?: number;
  /** A live job of this window trains it. */
  owned: boolean;
  /** Resume Training applies (our run, not live, stopped/failed/interrupted). */
  resumable: boolean;
}

/** Adds liveness to a summary read with checkPid: false. */
export async function viewOf(summary: RunSummary, owns: (dir: string) => boolean, alive: (pid: number) => boolean = isPidAlive): Promise<RunView> {
  let pid: number | undefined;
  if (summary.state === 'running') {
    const st = await readRunStatus(summary.dir);
    if (st && !('error' in st)) pid = st.pid;
  }
  const owned = owns(summary.dir);
  const state = displayState(summary.state, pid, owned, alive);
  return { summary, state, pid, owned, resumable: summary.origin === 'gan-inspector' && isResumable(state) };
}

/** Reads one run folder and its liveness. Throws UserError when the folder is unreadable. */
export async function describeRun(dir: string, owns: (dir: string) => boolean): Promise<RunView> {
  return viewOf(await readRun(dir, { checkPid: false }), owns);
}

const fmt = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '?' : String(Number(n.toFixed(3))));

/** "kimg 1.5/4 · ggdr · wasm" (the tree item's description). */
export function runDescription(v: RunView): string {
  const s = v.summary;
  const parts = [`kimg ${fmt(s.curKimg)}/${fmt(s.totalKimg)}`];
  if (s.ggdr !== undefined) parts.push(s.ggdr ? 'ggdr' : 'baseline');
  if (s.backend) parts.push(s.workers && s.workers > 1 ? `${s.backend} ×${s.workers}` : s.backend);
  if (v.state === 'interrupted') parts.push('interrupted');
  return parts.join(' · ');
}

/** Human label of a display state. */
export function stateLabel(s: RunDisplayState): string {
  return s === 'interrupted' ? 'interrupted (trainer gone; resumable)' : s;
}

/** Markdown lines describing the run (tooltips). */
export function runDetails(v: RunView): string[] {
  const s = v.summary;
  const lines = [`**${s.name}** — ${stateLabel(v.state)}`, '', `Folder: \`${s.dir}\``];
  lines.push(`Progress: ${fmt(s.curKimg)} / ${fmt(s.totalKimg)} kimg${s.secPerKimg ? ` · ${s.secPerKimg.toFixed(1)} s/kimg` : ''}`);
  const cfg: string[] = [];
  if (s.origin === 'stylegan2-ada') cfg.push('official StyleGAN2-ADA/GGDR run');
  if (s.preset) cfg.push(`preset ${s.preset}`);
  if (s.dataset) cfg.push(`data ${s.dataset}`);
  if (s.resolution) cfg.push(`${s.resolution} px`);
  if (s.batch) cfg.push(`batch ${s.batch}`);
  if (s.seed !== undefined) cfg.push(`seed ${s.seed}`);
  if (s.backend) cfg.push(`backend ${s.backend}`);
  if (s.workers && s.workers > 1) cfg.push(`${s.workers} data-parallel workers`);
  if (cfg.length) lines.push(cfg.join(' · '));
  if (s.ggdr !== undefined) lines.push(s.ggdr ? `GGDR on: λ = ${s.ggdrWeight ?? '?'}, res ${s.ggdrRes ?? '?'}` : 'GGDR off (baseline)');
  lines.push(`Snapshots: ${s.snapshots.length} (${s.snapshots.filter((x) => x.loadable).length} loadable) · grids: ${s.grids.length} · metrics: ${s.metrics.join(', ') || 'none'}`);
  if (v.pid !== undefined) lines.push(`Trainer pid ${v.pid}${v.owned ? ' (this window)' : ''}`);
  if (s.lastError) lines.push('', `Error: ${s.lastError}`);
  return lines;
}

/** What the loss panel shows about its run. */
export function lossRunInfo(v: RunView): LossRunInfo {
  const s = v.summary;
  return {
    name: s.name,
    dir: s.dir,
    origin: s.origin,
    state: v.state,
    curKimg: s.curKimg,
    totalKimg: s.totalKimg,
    ggdr: s.ggdr,
    backend: s.backend,
    preset: s.preset,
    dataset: s.dataset,
    secPerKimg: s.secPerKimg,
    lastError: s.lastError ?? null,
  };
}

/** Newest first: highest id, then most recently modified. */
export function compareRunsNewestFirst(a: RunView, b: RunView): number {
  return b.summary.id - a.summary.id || b.summary.mtime - a.summary.mtime || a.summary.dir.localeCompare(b.summary.dir);
}
