/**
 * GAN Inspector: Show Engine Status — what the inference process holds right now (backend, live tfjs
 * tensor count and bytes, which checkpoints are loaded and which panels hold them) and which trainings
 * this window runs: a one-line notification, the full report in the Output channel. For people
 * chasing memory ("did closing the viewer free its model?"). Never starts the inference process.
 * Only type imports of vscode: the formatting is tested in plain Node.
 */
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { InferenceStats } from '../../shared/protocol/inference';
import type { TrainingJob } from '../training/trainingManager';
import type { InferenceClient } from './inferenceClient';

/** The notification's fixed prefix (tests and people search for it). */
export const ENGINE_STATUS_PREFIX = 'GAN Inspector engine:';

/** A training job as the report shows it. */
export type EngineStatusJob = Pick<TrainingJob, 'id' | 'phase' | 'runName' | 'curKimg' | 'totalKimg' | 'pid' | 'backend'>;

export interface EngineStatusInput {
  /** The process's own report; undefined when it is not running. */
  stats: InferenceStats | undefined;
  /** Why the process could not report (it died or timed out), if so. */
  error?: string;
  /** Checkpoint → panels holding it (InferenceClient.holders()). */
  holders: Map<string, string[]>;
  /** Active training jobs of this window. */
  training: EngineStatusJob[];
}

export interface EngineStatusReport {
  /** One line for the notification. */
  summary: string;
  /** The full report for the Output channel. */
  details: string[];
}

/** "0 B", "12.3 KB", "4.5 MB" (powers of 1024, like tf.memory()). */
export function formatBytes(n: number): string {
  if (!(n >= 0)) return '?';
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

const kimgText = (n: number) => String(Number(n.toFixed(3)));
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** "run/network-snapshot-…" — the snapshot with its run folder, which is what tells snapshots apart. */
const shortSnapshot = (p: string) => `${path.basename(path.dirname(p))}/${path.basename(p)}`;

function jobText(j: EngineStatusJob): string {
  return `${j.runName ?? `job ${j.id}`} ${j.phase} ${kimgText(j.curKimg)}/${kimgText(j.totalKimg)} kimg`;
}

/** The report's lines on the inference threads: how many the process renders on, and what each running one holds. */
function workerLines(w: InferenceStats['workers']): string[] {
  if (!w) return [];
  if (w.count <= 1) return ['Inference threads: none (renders run on the process\'s own thread)'];
  if (!w.threads.length) return [`Inference threads: ${w.count}, not running (they start with the next render and stop once they hold nothing)`];
  const out = [`Inference threads: ${w.threads.length} of ${w.count} running, each with its own copy of every generator in use:`];
  w.threads.forEach((t, i) => {
    const held = t.models.length ? t.models.map((m) => `${shortSnapshot(m.snapshot)} ${m.which}`).join(', ') : 'nothing';
    out.push(`  thread ${i + 1} (id ${t.threadId}, ${t.backend}): ${plural(t.numTensors, 'tensor')} (${formatBytes(t.numBytes)}); holds ${held}`);
  });
  return out;
}

/** Builds the notification line and the Output-channel report. Pure. */
export function formatEngineStatus(input: EngineStatusInput): EngineStatusReport {
  const { stats, holders, training } = input;
  const details: string[] = [];
  const parts: string[] = [];
  if (stats) {
    parts.push(stats.backend, plural(stats.numTensors, 'tensor'), formatBytes(stats.numBytes));
    const names = stats.models.map((m) => shortSnapshot(m.snapshot));
    parts.push(stats.models.length === 0 ? 'no snapshots loaded'
      : `${plural(stats.models.length, 'snapshot')} loaded${names.length <= 3 ? ` (${names.join(', ')})` : ''}`);
    details.push(`Inference process: pid ${stats.pid}, backend ${stats.backend}`);
    details.push(`Tensors: ${stats.numTensors} (${formatBytes(stats.numBytes)})`);
    details.push(`Loaded snapshots: ${stats.models.length} (checkpoint reads from disk since start: ${stats.totalLoads})`);
    for (const m of stats.models) {
      const by = holders.get(path.resolve(m.snapshot)) ?? [];
      details.push(`  ${m.snapshot}: ${m.parts.join(', ') || 'nothing'}; read ${plural(m.loads, 'time')}; ${by.length ? `held by ${by.join(', ')}` : 'held by no panel'}`);
    }
    details.push(...workerLines(stats.workers));
  } else {
    parts.push(input.error ? `not answering (${input.error.split('\n')[0]})` : 'not running (it starts with the first checkpoint viewer or segmentation panel)');
    details.push(input.error ? `Inference process: not answering: ${input.error}` : 'Inference process: not running.');
  }
  const loaded = new Set((stats?.models ?? []).map((m) => path.resolve(m.snapshot)));
  const waiting = [...holders].filter(([snap, by]) => by.length && !loaded.has(snap));
  if (waiting.length) {
    details.push('Held by panels, not loaded yet (loaded on their first render):');
    for (const [snap, by] of waiting) details.push(`  ${snap}: ${by.join(', ')}`);
  }
  parts.push(training.length ? `training: ${training.map(jobText).join('; ')}` : 'training: none');
  details.push(training.length ? 'Training in this window:' : 'Training in this window: none.');
  for (const j of training) details.push(`  ${jobText(j)}${j.pid !== undefined ? `, pid ${j.pid}` : ''}${j.backend ? `, ${j.backend}` : ''}`);
  return { summary: `${ENGINE_STATUS_PREFIX} ${parts.join(' · ')}`, details };
}

export interface ShowEngineStatusDeps {
  client: InferenceClient;
  activeJobs: () => EngineStatusJob[];
  output: vscode.OutputChannel;
  /** vscode.window.showInformationMessage. */
  showMessage: (message: string, ...actions: string[]) => Thenable<string | undefined>;
}

/** The command: asks a running inference process for its stats (without starting one), reports, returns the report. */
export async function showEngineStatus(deps: ShowEngineStatusDeps): Promise<EngineStatusReport> {
  let stats: InferenceStats | undefined;
  let error: string | undefined;
  if (deps.client.pid !== undefined) {
    try {
      stats = await deps.client.stats();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
  }
  const report = formatEngineStatus({ stats, error, holders: deps.client.holders(), training: deps.activeJobs() });
  deps.output.appendLine(`[engine status ${new Date().toLocaleTimeString()}]`);
  for (const l of report.details) deps.output.appendLine(l);
  const details = 'Show Details';
  void deps.showMessage(report.summary, details).then((a) => {
    if (a === details) deps.output.show(true);
  });
  return report;
}
