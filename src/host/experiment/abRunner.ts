/**
 * Runs a planned GGDR A/B experiment through the TrainingManager: `concurrency` runs at a time in plan
 * order, the record rewritten (atomically, serialised) whenever a run starts or ends, overall progress
 * for the UI, and cancel = stop the active runs (they save a snapshot) and skip the rest. No vscode.
 */
import type { TrainingJob, TrainingManager } from '../training/trainingManager';
import { newRecord, writeRecord, type AbExperimentRecord, type AbPlan, type AbRunRecord } from './abPlan';

export interface AbProgress {
  /** Runs that ended (any way). */
  done: number;
  total: number;
  /** 0…1, by kimg across all runs. */
  fraction: number;
  message: string;
}

export interface AbRunnerDeps {
  manager: TrainingManager;
  /** Working directory of the training processes. */
  cwd: string;
  /** Each job right after it starts (the UI tracks it like any training). */
  onJob?: (job: TrainingJob, run: AbRunRecord) => void;
  onProgress?: (p: AbProgress) => void;
  log?: (line: string) => void;
}

const kimgText = (n: number) => String(Number(n.toFixed(3)));

export class AbRunner {
  readonly record: AbExperimentRecord;
  private readonly jobs = new Map<number, TrainingJob>();
  private cancelled = false;
  private writes: Promise<void> = Promise.resolve();
  private writeError: unknown;

  constructor(readonly plan: AbPlan, private readonly deps: AbRunnerDeps) {
    this.record = newRecord(plan);
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  /** Runs every arm; resolves with the final record (already written). Throws only when the record cannot be written at the start. */
  async run(): Promise<AbExperimentRecord> {
    const t0 = Date.now();
    await writeRecord(this.plan.recordFile, this.record);
    const n = this.plan.runs.length;
    let next = 0;
    const lane = async () => {
      while (!this.cancelled && next < n) await this.runOne(next++);
    };
    const unsub = this.deps.manager.on('progress', (j) => {
      if ([...this.jobs.values()].includes(j)) this.report();
    });
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(this.plan.choices.concurrency, n)) }, lane));
    } finally {
      unsub();
    }
    for (const r of this.record.runs) if (r.state === 'pending') r.state = 'skipped';
    const states = this.record.runs.map((r) => r.state);
    this.record.state = this.cancelled ? 'cancelled' : states.every((s) => s === 'finished') ? 'finished' : 'failed';
    this.record.wallSec = (Date.now() - t0) / 1000;
    this.save();
    await this.writes;
    this.report();
    return this.record;
  }

  /** Stops the active runs (each saves a snapshot) and skips the ones not started. */
  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    this.deps.log?.(`[${this.plan.id}] cancelling: stopping ${this.jobs.size} active run(s)`);
    await Promise.all([...this.jobs.values()].map((j) => this.deps.manager.stop(j.id).catch(() => undefined)));
  }

  /** Overall progress: every run counts equally, by the fraction of its kimg done. */
  progress(): AbProgress {
    const runs = this.record.runs;
    let sum = 0;
    let done = 0;
    const active: string[] = [];
    runs.forEach((r, i) => {
      if (r.state === 'finished') sum += 1;
      const j = this.jobs.get(i);
      if (j) {
        sum += j.totalKimg > 0 ? Math.min(1, j.curKimg / j.totalKimg) : 0;
        active.push(`${r.arm} seed ${r.seed} ${kimgText(j.curKimg)}/${kimgText(j.totalKimg)} kimg`);
      }
      if (r.state !== 'pending' && r.state !== 'running') done++;
    });
    const total = runs.length;
    const message = `${done}/${total} runs done${active.length ? ` · ${active.join(' · ')}` : ''}`;
    return { done, total, fraction: total ? sum / total : 1, message };
  }

  private report(): void {
    this.deps.onProgress?.(this.progress());
  }

  /** Queues a record write; writes never overlap and a failure is logged once, not thrown into the run. */
  private save(): void {
    const snapshot = structuredClone(this.record);
    this.writes = this.writes.then(() => writeRecord(this.plan.recordFile, snapshot)).catch((e: unknown) => {
      if (this.writeError === undefined) this.deps.log?.(`[${this.plan.id}] cannot write ${this.plan.recordFile}: ${e instanceof Error ? e.message : String(e)}`);
      this.writeError = e;
    });
  }

  private async runOne(i: number): Promise<void> {
    const r = this.record.runs[i];
    const p = this.plan.runs[i];
    let job: TrainingJob;
    const started = Date.now();
    try {
      job = this.deps.manager.start(p.overrides, { cwd: this.deps.cwd });
    } catch (e) {
      r.state = 'failed';
      r.error = e instanceof Error ? e.message : String(e);
      this.save();
      this.report();
      return;
    }
    this.jobs.set(i, job);
    r.state = 'running';
    r.startedAt = new Date(started).toISOString();
    this.deps.onJob?.(job, r);
    const unsub = this.deps.manager.on('started', (j) => {
      if (j !== job) return;
      r.runDir = j.runDir;
      r.runName = j.runName;
      this.save();
    });
    this.save();
    this.report();
    // A cancel that raced the start must still stop this job.
    if (this.cancelled) void this.deps.manager.stop(job.id).catch(() => undefined);
    let end: TrainingJob;
    try {
      end = await this.deps.manager.whenEnded(job.id);
    } finally {
      unsub();
      this.jobs.delete(i);
    }
    r.runDir = end.runDir ?? r.runDir;
    r.runName = end.runName ?? (r.runDir ? r.runDir.split(/[\\/]/).pop()! : null);
    r.state = end.phase === 'finished' ? 'finished' : end.phase === 'stopped' ? 'stopped' : 'failed';
    r.endedAt = new Date().toISOString();
    r.wallSec = (Date.now() - started) / 1000;
    r.curKimg = end.curKimg;
    if (end.secPerKimg > 0) r.secPerKimg = end.secPerKimg;
    if (end.error) r.error = end.error;
    this.deps.log?.(`[${this.plan.id}] ${r.arm} seed ${r.seed}: ${r.state}${r.runName ? ` (${r.runName})` : ''} in ${r.wallSec.toFixed(1)} s`);
    this.save();
    this.report();
  }
}
