/**
 * What every training-process manager (our TF.js worker, the official train.py) shares: the jobs it
 * started, their events, and which run folder a live one owns. The managers add how they start, talk
 * to and stop their processes.
 */
import * as path from 'node:path';
import type { JobPhase, TrainingJob, TrainingManagerEvents } from './trainingManager';

export const ACTIVE_PHASES: readonly JobPhase[] = ['starting', 'running', 'stopping'];

/** A manager's own record of a job. */
export interface JobRecord {
  job: TrainingJob;
  /** Resolves when the job's process has exited. */
  done: Promise<TrainingJob>;
}

/** A job that has just been started: nothing known yet but what the manager says, and its end as a promise. */
export function newJob(
  fields: Pick<TrainingJob, 'id' | 'overrides' | 'pid' | 'runName' | 'backend' | 'totalKimg'> & { resumeDir?: string },
): { job: TrainingJob; done: Promise<TrainingJob>; resolveDone: (j: TrainingJob) => void } {
  const job: TrainingJob = {
    ...fields,
    startedAt: Date.now(),
    phase: 'starting',
    runDir: null,
    curKimg: 0,
    tick: 0,
    secPerKimg: 0,
    etaSec: -1,
    losses: {},
    stderrTail: [],
  };
  let resolveDone!: (j: TrainingJob) => void;
  const done = new Promise<TrainingJob>((r) => (resolveDone = r));
  return { job, done, resolveDone };
}

export abstract class JobRegistry<R extends JobRecord> {
  protected readonly all = new Map<number, R>();
  private readonly listeners: { [K in keyof TrainingManagerEvents]: Set<TrainingManagerEvents[K]> } = {
    started: new Set(), progress: new Set(), log: new Set(), ended: new Set(), invalidMessage: new Set(),
  };

  /** Subscribes to an event; returns an unsubscribe function. */
  on<K extends keyof TrainingManagerEvents>(event: K, fn: TrainingManagerEvents[K]): () => void {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  /** Resolves when the job's process has exited. */
  whenEnded(id: number): Promise<TrainingJob> {
    const st = this.all.get(id);
    return st ? st.done : Promise.reject(new Error(`No training job ${id}.`));
  }

  get(id: number): TrainingJob | undefined {
    return this.all.get(id)?.job;
  }

  /** Every job started by this manager, oldest first. */
  jobs(): TrainingJob[] {
    return [...this.all.values()].map((s) => s.job);
  }

  /** Jobs whose process is still alive. */
  active(): TrainingJob[] {
    return this.jobs().filter((j) => ACTIVE_PHASES.includes(j.phase));
  }

  /** The active job training (or resuming) this run folder. */
  activeJobFor(runDir: string): TrainingJob | undefined {
    const d = path.resolve(runDir);
    return this.active().find((j) => (j.runDir !== null && path.resolve(j.runDir) === d) || j.resumeDir === d);
  }

  /** True when a live process of this manager owns the run folder. */
  ownsRunDir(runDir: string): boolean {
    return this.activeJobFor(runDir) !== undefined;
  }

  protected emit<K extends keyof TrainingManagerEvents>(event: K, ...args: Parameters<TrainingManagerEvents[K]>): void {
    for (const fn of [...this.listeners[event]]) {
      try {
        (fn as (...a: unknown[]) => void)(...args);
      } catch {
        // A faulty listener must not break the bookkeeping of the other jobs.
      }
    }
  }
}
