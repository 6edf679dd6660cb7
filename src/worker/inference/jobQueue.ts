/**
 * The inference process's jobs: one at a time, in arrival order (the threads of a parallel render are
 * one job's), each with an AbortController. `cancel(jobId)` rejects a queued job at once and aborts a
 * running one, which stops at its next batch or stage; a cancelled job rejects with CANCELLED_MESSAGE
 * (the host turns that into a CancelledError).
 */
import { isCancelled } from '../../core/errors';
import { CANCELLED_MESSAGE } from '../../shared/protocol/inference';

interface Job {
  ac: AbortController;
  started: boolean;
  reject: (e: Error) => void;
}

export class JobQueue {
  private queue: Promise<void> = Promise.resolve();
  private readonly jobs = new Map<string, Job>();

  /** `before` runs first in every job (e.g. starting the backend). */
  constructor(private readonly before: () => Promise<void> = () => Promise.resolve()) {}

  /** Aborts a job: a queued one rejects now, a running one at its next batch or stage. */
  cancel(jobId: string): void {
    const j = this.jobs.get(jobId);
    if (!j) return;
    j.ac.abort();
    if (!j.started) {
      this.jobs.delete(jobId);
      j.reject(new Error(CANCELLED_MESSAGE));
    }
  }

  /** Runs `fn` after every earlier job; rejects with CANCELLED_MESSAGE when cancelled. */
  run<T>(jobId: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.jobs.has(jobId)) return Promise.reject(new Error(`Job id ${jobId} is already in use.`));
    return new Promise<T>((resolve, reject) => {
      const job: Job = { ac: new AbortController(), started: false, reject };
      this.jobs.set(jobId, job);
      const exec = async () => {
        if (job.ac.signal.aborted) return; // rejected by cancel() already
        job.started = true;
        try {
          await this.before();
          const out = await fn(job.ac.signal);
          if (job.ac.signal.aborted) throw new Error(CANCELLED_MESSAGE);
          resolve(out);
        } catch (e) {
          reject(job.ac.signal.aborted || isCancelled(e) ? new Error(CANCELLED_MESSAGE) : (e as Error));
        } finally {
          this.jobs.delete(jobId);
        }
      };
      this.queue = this.queue.then(exec);
    });
  }
}
