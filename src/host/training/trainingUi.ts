/**
 * What the user sees of running jobs: a cancellable progress notification per job, a status-bar item
 * (kimg/total, s/kimg, ETA), worker output in the "GAN Inspector" Output channel, and end-of-run
 * notifications with actions.
 */
import * as vscode from 'vscode';
import { jobEndNotice, jobLabel, jobLogTarget, kimgText } from './jobNotice';
import type { TrainingJob, TrainingManager } from './trainingManager';

/** "1:02:03" / "2:03" / "—". */
export function formatEta(sec: number): string {
  if (!(sec >= 0) || !Number.isFinite(sec)) return '—';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "1.5/4 kimg · 12.3 s/kimg · ETA 0:30". */
export function progressText(j: TrainingJob): string {
  const parts = [`${kimgText(j.curKimg)}/${kimgText(j.totalKimg)} kimg`];
  if (j.secPerKimg > 0) parts.push(`${j.secPerKimg.toFixed(1)} s/kimg`);
  if (j.etaSec >= 0) parts.push(`ETA ${formatEta(j.etaSec)}`);
  return parts.join(' · ');
}

export interface TrainingUiDeps {
  /** Our TrainingManager, or anything with its job events (the official engine's OfficialTrainingManager). */
  manager: Pick<TrainingManager, 'on' | 'active' | 'whenEnded'>;
  /** Status-bar item id; one per job source (default 'ganInspector.training'). */
  statusId?: string;
  /** Status-bar name (default 'GAN Inspector training'). */
  statusName?: string;
  output: vscode.OutputChannel;
  /** Stop a job (the Stop Training logic: message, then signals). */
  stop: (job: TrainingJob) => void;
  /** Opens a run's log.txt (jobs without a run folder show the Output channel instead). */
  openLog: (runDir: string) => void;
  openLossCurves: (runDir: string) => void;
  resume: (runDir: string) => void;
  /** A job's run folder changed state (tree + panels refresh). */
  onRunChanged: (runDir: string) => void;
}

export class TrainingUi implements vscode.Disposable {
  private readonly status: vscode.StatusBarItem;
  private readonly subs: Array<() => void> = [];
  private readonly progressWaiters = new Map<number, (j: TrainingJob) => void>();

  constructor(private readonly d: TrainingUiDeps) {
    this.status = vscode.window.createStatusBarItem(d.statusId ?? 'ganInspector.training', vscode.StatusBarAlignment.Left, 10);
    this.status.name = d.statusName ?? 'GAN Inspector training';
    const m = d.manager;
    this.subs.push(
      m.on('started', (j) => {
        d.output.appendLine(`[${label(j)}] started: ${j.runDir} (backend ${j.backend}, ${j.totalKimg} kimg)`);
        if (j.runDir) d.onRunChanged(j.runDir);
        this.updateStatus();
      }),
      m.on('progress', (j) => {
        this.progressWaiters.get(j.id)?.(j);
        if (j.runDir) d.onRunChanged(j.runDir);
        this.updateStatus();
      }),
      m.on('log', (j, line, stream) => d.output.appendLine(`[${label(j)}]${stream === 'stderr' ? ' stderr:' : stream === 'stdout' ? ' stdout:' : ''} ${line}`)),
      m.on('invalidMessage', (j, msg) => d.output.appendLine(`[${label(j)}] ignored an invalid message from the worker: ${safeJson(msg)}`)),
      m.on('ended', (j) => this.onEnded(j)),
    );
  }

  /** Shows the cancellable progress notification of a job until it ends. */
  track(job: TrainingJob): void {
    this.updateStatus();
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'GAN Inspector', cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          let reported = 0;
          const report = (j: TrainingJob) => {
            const pct = j.totalKimg > 0 ? Math.min(100, (100 * j.curKimg) / j.totalKimg) : 0;
            const name = j.runName ?? `${jobLabel(j)} (starting…)`;
            progress.report({ increment: Math.max(0, pct - reported), message: `${j.phase === 'stopping' ? 'Stopping ' : 'Training '}${name} · ${progressText(j)}` });
            reported = Math.max(reported, pct);
          };
          progress.report({ message: 'Starting the training process…' });
          this.progressWaiters.set(job.id, report);
          token.onCancellationRequested(() => {
            progress.report({ message: `Stopping ${job.runName ?? ''} (saving a snapshot)…` });
            this.d.stop(job);
          });
          void this.d.manager.whenEnded(job.id).then(() => {
            this.progressWaiters.delete(job.id);
            resolve();
          });
        }),
    );
  }

  dispose(): void {
    for (const off of this.subs) off();
    this.status.dispose();
  }

  private updateStatus(): void {
    const active = this.d.manager.active();
    if (!active.length) {
      this.status.hide();
      return;
    }
    const j = active[active.length - 1];
    const more = active.length > 1 ? ` (+${active.length - 1})` : '';
    this.status.text = `$(pulse) ${j.phase === 'stopping' ? 'Stopping' : 'GAN'} ${progressText(j)}${more}`;
    // The backend line says how many data-parallel workers train (e.g. "wasm 4.22.0 · 2 workers").
    const tip = new vscode.MarkdownString(active.map((a) => `**${a.runName ?? 'starting…'}** — ${a.phase}  \n${progressText(a)}${a.backend ? `  \n${a.backend}` : ''}`).join('\n\n'));
    tip.appendMarkdown('\n\nClick to open the loss curves.');
    this.status.tooltip = tip;
    this.status.command = j.runDir ? { command: 'ganInspector.openLossCurves', title: 'Open Loss Curves', arguments: [j.runDir] } : undefined;
    this.status.accessibilityInformation = { label: `GAN Inspector training ${j.runName ?? ''}: ${progressText(j)}` };
    this.status.show();
  }

  private onEnded(j: TrainingJob): void {
    this.updateStatus();
    this.d.output.appendLine(`[${label(j)}] ${j.phase}${j.exitCode !== undefined && j.exitCode !== null ? ` (exit ${j.exitCode})` : ''}${j.signal ? ` (${j.signal})` : ''}${j.error ? `: ${j.error}` : ''}`);
    if (j.runDir) this.d.onRunChanged(j.runDir);
    const notice = jobEndNotice(j);
    if (!notice) return;
    const show = notice.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
    void show(notice.message, ...notice.actions).then((a) => {
      const runDir = j.runDir ?? j.resumeDir;
      switch (a) {
        case 'Open Loss Curves':
          if (runDir) this.d.openLossCurves(runDir);
          break;
        case 'Resume Training':
          if (runDir) this.d.resume(runDir);
          break;
        case 'Open Log': {
          const t = jobLogTarget(j);
          if (t.kind === 'runLog') this.d.openLog(t.runDir);
          else this.d.output.show(true);
          break;
        }
        case 'Open Settings':
          void vscode.commands.executeCommand('workbench.action.openSettings', 'ganInspector');
          break;
      }
    });
  }
}

/** Output-channel prefix of a job's lines: its run name, else "job N". */
function label(j: TrainingJob): string {
  return j.runName ?? `job ${j.id}`;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v).slice(0, 500);
  } catch {
    return String(v);
  }
}
