/**
 * Worker threads (node:worker_threads) as both parallel engines use them — the data-parallel training
 * replicas (../training/parallel) and the inference threads (src/worker/inference/pool): finding the
 * thread's script (the bundle's dist/<name>.js, or the .ts source under tsx) and one handle per thread
 * that remembers why it died (uncaught error, exit, unreadable message) so callers fail cleanly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/** A thread's script: a file to run, or (from source) code that registers tsx and requires the .ts entry. */
export interface ThreadScript {
  file: string;
  eval: boolean;
}

/**
 * The script of thread entry `name` (src/worker/<name>.ts, bundled as dist/<name>.js): the bundle next
 * to the running one, else the source found in src/worker/ of a folder above (tests and the CLI under tsx).
 */
export function threadScript(name: string): ThreadScript {
  const bundled = path.join(__dirname, `${name}.js`);
  if (fs.existsSync(bundled)) return { file: bundled, eval: false };
  const tried = [bundled];
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const src = path.join(dir, 'src', 'worker', `${name}.ts`);
    tried.push(src);
    // Worker threads do not inherit tsx's loader; register it in the thread first.
    if (fs.existsSync(src)) return { file: `require('tsx/cjs/api').register(); require(${JSON.stringify(src)});`, eval: true };
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`thread script ${name} not found (looked for ${tried.slice(0, 3).join(', ')}, …)`);
}

/** Starts a thread running `script` with `workerData` (its stdout/stderr go to the parent's). */
export function startThread(script: ThreadScript, workerData: unknown): Worker {
  return new Worker(script.file, { eval: script.eval, workerData, stdout: false, stderr: false });
}

/**
 * One worker thread: its messages go to `onMessage` when given, else into a queue read with next();
 * once the thread is gone or unusable, `failure` says why, a waiting next() rejects and post() throws.
 */
export class ThreadHandle<To, From> {
  private readonly queue: From[] = [];
  private waiter: { resolve: (m: From) => void; reject: (e: Error) => void } | null = null;
  private readonly failListeners: Array<(reason: string) => void> = [];
  /** Set once the thread is gone or unusable. */
  failure: string | null = null;

  constructor(readonly index: number, readonly worker: Worker, onMessage?: (m: From) => void) {
    worker.on('message', (m: From) => {
      if (onMessage) onMessage(m);
      else if (this.waiter) { const w = this.waiter; this.waiter = null; w.resolve(m); } else this.queue.push(m);
    });
    worker.on('error', (e) => this.fail(`uncaught error: ${e?.message ?? String(e)}`));
    worker.on('exit', (code) => { this.fail(`the thread exited (code ${code})`); });
    worker.on('messageerror', (e) => this.fail(`a message could not be read: ${e?.message ?? String(e)}`));
  }

  /** Calls `f` once with the reason when the thread fails (at once if it has already). */
  onFail(f: (reason: string) => void): void {
    if (this.failure) f(this.failure);
    else this.failListeners.push(f);
  }

  private fail(reason: string): void {
    if (!this.failure) {
      this.failure = reason;
      for (const f of this.failListeners.splice(0)) f(reason);
    }
    if (this.waiter) { const w = this.waiter; this.waiter = null; w.reject(new Error(this.failure)); }
  }

  post(m: To, transfer?: ArrayBuffer[]): void {
    if (this.failure) throw new Error(this.failure);
    this.worker.postMessage(m, transfer);
  }

  next(): Promise<From> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(new Error(this.failure));
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  /** Stops the thread (never rejects). */
  async terminate(): Promise<void> {
    await this.worker.terminate().catch(() => undefined);
  }
}
