/**
 * The host's end of the inference child process (`dist/inference.js`): forks it on first use (like
 * the training worker), speaks src/shared/protocol/inference.ts over rpc.ts with validation, and adds
 * what panels need on top: lanes (a new request on a lane cancels the one still in flight there, so a
 * ψ drag never queues stale renders), progress callbacks, and reference counts of which panels use
 * which checkpoint (the last one to let go makes the process free it). No vscode imports, so it is
 * tested in plain Node against the real child process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError, UserError } from '../../core/errors';
import { MessageHandler, RpcRemoteError } from '../../shared/protocol/rpc';
import { pushTail, splitLines } from '../util/lines';
import {
  CANCELLED_MESSAGE, inferenceHostValidators,
  type AcrossItem, type InferenceHostApi, type InferenceProcessApi, type InferenceStats, type ProgressInfo,
} from '../../shared/protocol/inference';

type Requests = InferenceProcessApi['requests'];
/** Requests that run as jobs (they carry a jobId the client fills in). */
export type JobName = 'render' | 'interpolate' | 'exportGrid' | 'segment' | 'segmentAcross' | 'computeMetrics';
export type JobParams<K extends JobName> = Omit<Requests[K]['params'], 'jobId'>;
export type JobResult<K extends JobName> = Requests[K]['result'];

// A request cancelled (superseded on its lane, or cancelled explicitly) rejects with core's CancelledError.
export { CancelledError, isCancelled } from '../../core/errors';

export interface InferenceClientOptions {
  /** The process script (dist/inference.js; tests may pass the .ts source with execArgv ['--import','tsx']). */
  workerPath: string;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Backend the process starts ('auto' = best available). */
  backend?: Requests['init']['params']['backend'];
  /** Lines for the Output channel (stderr of the process, restarts). */
  log?: (line: string) => void;
  /** Stop the process after this long with no panel holding a checkpoint and nothing running (0 = never). */
  idleExitMs?: number;
  /**
   * Inference threads the process splits renders across (read when it starts): 0 or undefined = one per
   * core on wasm/cpu (the training's default), 1 = none (everything on the process's own thread).
   */
  workers?: number | (() => number | undefined);
}

export interface CallOptions {
  /** A new call on the same lane cancels the one still running there. */
  lane?: string;
  onProgress?: (p: ProgressInfo) => void;
  onAcrossItem?: (item: AcrossItem) => void;
  /** Log lines the job sends (LeNet training, model downloads). */
  onLog?: (line: string) => void;
  /** Aborting it cancels the call (it rejects with CancelledError; the process stops at its next batch). */
  signal?: AbortSignal;
}

interface Running {
  jobId: string;
  name: string;
  reject: (e: Error) => void;
  lane?: string;
}

interface Proc {
  child: ChildProcess;
  channel: MessageHandler<InferenceHostApi, InferenceProcessApi>;
  ready: Promise<string>;
  exited: Promise<never>;
  stderrTail: string[];
}

export class InferenceClient {
  private proc: Proc | undefined;
  private nextJob = 1;
  private readonly running = new Map<string, Running>();
  private readonly lanes = new Map<string, string>();
  private readonly progressFns = new Map<string, (p: ProgressInfo) => void>();
  private readonly acrossFns = new Map<string, (i: AcrossItem) => void>();
  private readonly logFns = new Map<string, (line: string) => void>();
  private readonly owners = new Map<string, Set<string>>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  /** Backend of the running process ("wasm 4.22.0"), once started. */
  backend: string | undefined;

  constructor(private readonly opts: InferenceClientOptions) {}

  /** Runs a job in the process. Rejects with CancelledError when superseded/cancelled, with the process's message otherwise. */
  async call<K extends JobName>(name: K, params: JobParams<K>, o: CallOptions = {}): Promise<JobResult<K>> {
    if (this.disposed) throw new Error('The inference client was disposed.');
    const jobId = `j${this.nextJob++}`;
    if (o.lane) {
      const prev = this.lanes.get(o.lane);
      if (prev) this.cancelJob(prev);
      this.lanes.set(o.lane, jobId);
    }
    if (o.onProgress) this.progressFns.set(jobId, o.onProgress);
    if (o.onAcrossItem) this.acrossFns.set(jobId, o.onAcrossItem);
    if (o.onLog) this.logFns.set(jobId, o.onLog);
    this.clearIdle();
    const onAbort = () => this.cancelJob(jobId);
    try {
      if (o.signal?.aborted) throw new CancelledError(name);
      o.signal?.addEventListener('abort', onAbort, { once: true });
      return await new Promise<JobResult<K>>((resolve, reject) => {
        this.running.set(jobId, { jobId, name, reject, lane: o.lane });
        this.ensure()
          .then(async (p) => {
            if (!this.running.has(jobId)) return; // cancelled while the process started
            const reply = p.channel.request(name, { ...params, jobId } as Requests[K]['params'], { timeoutMs: 0 });
            resolve(await Promise.race([reply, p.exited]));
          })
          .catch((e: unknown) => reject(this.translate(e, name)));
      });
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      this.running.delete(jobId);
      this.progressFns.delete(jobId);
      this.acrossFns.delete(jobId);
      this.logFns.delete(jobId);
      if (o.lane && this.lanes.get(o.lane) === jobId) this.lanes.delete(o.lane);
      this.scheduleIdle();
    }
  }

  /** Cancels whatever runs on a lane (its promise rejects with CancelledError). */
  cancelLane(lane: string): void {
    const jobId = this.lanes.get(lane);
    if (jobId) this.cancelJob(jobId);
  }

  /** Records that `owner` (a panel) uses `snapshot`. */
  retain(owner: string, snapshot: string): void {
    const key = path.resolve(snapshot);
    let set = this.owners.get(key);
    if (!set) this.owners.set(key, (set = new Set()));
    set.add(owner);
    this.clearIdle();
  }

  /** Drops every checkpoint `owner` held; checkpoints nobody holds any more are freed in the process. */
  async releaseOwner(owner: string): Promise<string[]> {
    const freed: string[] = [];
    for (const [snap, set] of this.owners) {
      if (!set.delete(owner) || set.size) continue;
      this.owners.delete(snap);
      freed.push(snap);
    }
    for (const lane of [...this.lanes.keys()]) if (lane.startsWith(`${owner}:`)) this.cancelLane(lane);
    const p = this.proc;
    if (p) {
      for (const snap of freed) {
        try {
          await Promise.race([p.channel.request('release', { snapshot: snap }, { timeoutMs: 30_000 }), p.exited]);
        } catch (e) {
          this.opts.log?.(`Inference: could not free ${snap}: ${(e as Error).message}`);
        }
      }
    }
    this.scheduleIdle();
    return freed;
  }

  /** Owners per checkpoint (for tests and diagnostics). */
  holders(): Map<string, string[]> {
    return new Map([...this.owners].map(([k, v]) => [k, [...v]]));
  }

  /** tf.memory() and the model cache of the process (starts it if needed). */
  async stats(): Promise<InferenceStats> {
    const p = await this.ensure();
    return Promise.race([p.channel.request('stats', {}, { timeoutMs: 30_000 }), p.exited]);
  }

  /** Process id, when running. */
  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  /** Kills the process; pending calls reject. */
  dispose(): void {
    this.disposed = true;
    this.clearIdle();
    this.stop('the extension is shutting down');
  }

  //#region internals

  private cancelJob(jobId: string): void {
    const r = this.running.get(jobId);
    if (!r) return;
    this.running.delete(jobId);
    r.reject(new CancelledError(r.name));
    void this.proc?.channel.emit('cancel', { jobId });
  }

  private translate(e: unknown, name: string): Error {
    if (e instanceof RpcRemoteError && e.message === CANCELLED_MESSAGE) return new CancelledError(name);
    if (e instanceof Error) return e;
    return new Error(String(e));
  }

  private ensure(): Promise<Proc> {
    if (this.proc) return this.proc.ready.then(() => this.proc!);
    if (!fs.existsSync(this.opts.workerPath)) {
      return Promise.reject(new UserError(`The inference process ${this.opts.workerPath} does not exist.`, 'Build the extension first: npm run build.'));
    }
    const child = fork(this.opts.workerPath, [], {
      env: this.opts.env ?? process.env,
      execArgv: this.opts.execArgv ?? [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const stderrTail: string[] = [];
    let rejectExit!: (e: Error) => void;
    const exited = new Promise<never>((_, rej) => (rejectExit = rej));
    exited.catch(() => undefined);
    const channel = new MessageHandler<InferenceHostApi, InferenceProcessApi>({
      post: (m) => new Promise<void>((resolve, reject) => {
        if (!child.connected) return reject(new Error('The inference process is not connected.'));
        child.send(m, (err) => (err ? reject(err) : resolve()));
      }),
      validators: inferenceHostValidators,
      timeoutMs: 60_000,
      onInvalid: (reason) => this.opts.log?.(`Inference: ignored a message from the process: ${reason}`),
      onHandlerError: (name, e) => this.opts.log?.(`Inference: '${name}' handler failed: ${(e as Error)?.message ?? String(e)}`),
    });
    channel.on('progress', (p) => this.progressFns.get(p.jobId)?.(p));
    channel.on('acrossItem', ({ jobId, ...item }) => this.acrossFns.get(jobId)?.(item));
    channel.on('log', ({ jobId, line }) => this.logFns.get(jobId)?.(line));
    const forward = (isErr: boolean) => (l: string) => {
      if (!l) return;
      if (isErr) pushTail(stderrTail, l, 20);
      this.opts.log?.(`[inference] ${l}`);
    };
    splitLines(child.stdout, forward(false));
    splitLines(child.stderr, forward(true));
    const proc: Proc = { child, channel, ready: undefined as unknown as Promise<string>, exited, stderrTail };
    child.on('message', (m: unknown) => channel.handle(m));
    const onGone = (why: string) => {
      if (this.proc === proc) this.proc = undefined;
      const tail = stderrTail.length ? `\n${stderrTail.slice(-8).join('\n')}` : '';
      rejectExit(new Error(`The inference process ${why}.${tail}`));
      channel.dispose();
    };
    child.on('error', (e) => onGone(`could not run (${e.message})`));
    child.on('exit', (code, signal) => {
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (!this.disposed) this.opts.log?.(`Inference: the process ${why}; it restarts on the next request.`);
      onGone(why);
    });
    proc.ready = Promise.race([
      channel.request('init', { backend: this.opts.backend ?? 'auto', ...this.workersParam() }, { timeoutMs: 120_000 }).then((r) => {
        this.backend = r.backend;
        this.opts.log?.(`Inference process ${r.pid} on ${r.backend}${r.notes.length ? ` (${r.notes.join('; ')})` : ''}`);
        return r.backend;
      }),
      exited,
    ]);
    proc.ready.catch(() => {
      if (this.proc === proc) this.stop('its backend did not start');
    });
    this.proc = proc;
    return proc.ready.then(() => proc);
  }

  private workersParam(): { workers?: number } {
    const w = typeof this.opts.workers === 'function' ? this.opts.workers() : this.opts.workers;
    return w === undefined ? {} : { workers: w };
  }

  private stop(why: string): void {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    this.opts.log?.(`Inference: stopping the process (${why}).`);
    p.channel.dispose();
    if (p.child.connected) p.child.disconnect();
    p.child.kill('SIGTERM');
  }

  private clearIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private scheduleIdle(): void {
    const ms = this.opts.idleExitMs ?? 0;
    this.clearIdle();
    if (!ms || !this.proc || this.running.size || this.owners.size) return;
    this.idleTimer = setTimeout(() => {
      if (!this.running.size && !this.owners.size) this.stop('idle');
    }, ms);
    this.idleTimer.unref?.();
  }

  //#endregion
}
