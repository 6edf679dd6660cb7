/**
 * What the user is told when a training job ends, and where its "Open Log" action leads: pure functions
 * of the job (no vscode), so the wording and the action choice are unit-tested without a UI. A job that
 * failed before its run folder existed (bad backend, bad options) is named by what it was asked to
 * train, and its log is the Output channel (the worker's lines went there; there is no log.txt).
 */
import * as path from 'node:path';
import type { TrainingJob } from './trainingManager';

/** Buttons of an end-of-job notification. */
export type JobNoticeAction = 'Open Loss Curves' | 'Resume Training' | 'Open Log' | 'Open Settings';

export interface JobNotice {
  severity: 'info' | 'error';
  message: string;
  actions: JobNoticeAction[];
}

/** Where "Open Log" of a job leads: the run's log.txt, or the Output channel when there is no run folder. */
export type JobLogTarget = { kind: 'runLog'; runDir: string } | { kind: 'output' };

type JobFacts = Pick<TrainingJob, 'id' | 'phase' | 'runDir' | 'runName' | 'overrides' | 'resumeDir' | 'curKimg' | 'totalKimg' | 'error' | 'forced'> & Partial<Pick<TrainingJob, 'notices'>>;

/** A kimg count as shown to people: at most 3 decimals, no trailing zeros. */
export const kimgText = (n: number): string => String(Number(n.toFixed(3)));

/**
 * A job's name for people: its run folder name; before there is one, the run it resumes, else what it
 * was asked to train ("tiny preset on mnist", data paths shortened to their base name).
 */
export function jobLabel(j: Pick<JobFacts, 'id' | 'runDir' | 'runName' | 'overrides' | 'resumeDir'>): string {
  if (j.runName) return j.runName;
  if (j.runDir) return path.basename(j.runDir);
  if (j.resumeDir) return path.basename(j.resumeDir);
  const o = j.overrides;
  const data = typeof o.data === 'string' && o.data ? path.basename(o.data.replace(/[\\/]+$/, '')) || o.data : 'mnist';
  return `${o.preset ?? 'mnist32'} preset on ${data}`;
}

/**
 * Where "Open Log" of this job leads. Only a job that reported its run folder wrote its error to log.txt;
 * a resume that failed before it started did not (the run's old log.txt would not show why).
 */
export function jobLogTarget(j: Pick<JobFacts, 'runDir'>): JobLogTarget {
  return j.runDir ? { kind: 'runLog', runDir: j.runDir } : { kind: 'output' };
}

/** The notification for a job that ended (null while it is still active). */
export function jobEndNotice(j: JobFacts): JobNotice | null {
  const n = baseEndNotice(j);
  // "The newest snapshot was broken, resumed from an older one" is said on every surface, including this one.
  if (n && j.notices?.length) n.message += ` Note: ${j.notices.join(' ')}`;
  return n;
}

function baseEndNotice(j: JobFacts): JobNotice | null {
  const name = jobLabel(j);
  const hasRun = !!(j.runDir ?? j.resumeDir);
  switch (j.phase) {
    case 'finished':
      return { severity: 'info', message: `Training ${name} finished (${kimgText(j.totalKimg)} kimg).`, actions: hasRun ? ['Open Loss Curves'] : [] };
    case 'stopped':
      return {
        severity: 'info',
        message: `Training ${name} stopped at ${kimgText(j.curKimg)} kimg.${j.forced ? ' The worker had to be killed; the newest snapshot may be older.' : ''}`,
        actions: hasRun ? ['Resume Training', 'Open Loss Curves'] : [],
      };
    case 'failed': {
      const first = (j.error ?? 'unknown error').split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' ');
      const message = j.runDir
        ? `Training ${name} failed: ${first}`
        : `Training job ${j.id} (${name}) failed ${j.resumeDir ? 'before resuming' : 'before its run folder was created'}: ${first}`;
      return { severity: 'error', message, actions: ['Open Log', 'Open Settings'] };
    }
    default:
      return null;
  }
}
