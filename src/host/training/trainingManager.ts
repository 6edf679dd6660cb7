/**
 * Runs training jobs in child processes (`dist/worker.js`, forked with an IPC channel) and tracks them.
 * Speaks src/shared/protocol/worker.ts over rpc.ts (like the inference client), validating every
 * message: one `start` request per process, whose reply is how the run ended. No vscode imports, so it
 * is tested in plain Node against real child processes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainingOverrides } from '../../core/config/options';
import { UserError } from '../../core/errors';
import { ACTIVE_PHASES, JobRegistry, newJob } from './jobRegistry';
import { pushTail, splitLines, type LineSplitter } from '../util/lines';
import { MessageHandler, RpcRemoteError } from '../../shared/protocol/rpc';
import { trainingHostValidators, type TrainingEnded, type ReceivedProgress, type TrainingHostApi, type TrainingProcessApi, type TrainProgress } from '../../shared/protocol/worker';

export type JobPhase = 'starting' | 'running' | 'stopping' | 'finished' | 'stopped' | 'failed';

/** A training job: one child process, at most one run folder. Fields update as messages arrive. */
export interface TrainingJob extends Omit<TrainProgress, 'runDir'> {
  readonly id: number;
  readonly overrides: TrainingOverrides;
  readonly resumeDir?: string;
  readonly startedAt: number;
  pid: number | undefined;
  phase: JobPhase;
  runDir: string | null;
  runName: string | null;
  backend: string | null;
  endedAt?: number;
  /** For 'failed' (and forced stops): what went wrong, for people. */
  error?: string;
  /** Things the user must be told besides the end state (e.g. a broken newest snapshot was skipped on resume). */
  notices?: string[];
  userError?: boolean;
  latestSnapshot?: string | null;
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
  /** True when the manager had to send SIGTERM/SIGKILL. */
  forced?: boolean;
  /** Last lines the process wrote to stderr. */
  stderrTail: string[];
}

export interface TrainingManagerOptions {
  /** The worker script (dist/worker.js). */
  workerPath: string;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait this long after the stop event before SIGTERM (the worker saves a snapshot first). */
  stopGraceMs?: number;
  /** Wait this long after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** stderr lines kept per job. */
  stderrTailLines?: number;
}

export type LogStream = 'worker' | 'stdout' | 'stderr';

export interface TrainingManagerEvents {
  started: (job: TrainingJob) => void;
  progress: (job: TrainingJob, progress: ReceivedProgress) => void;
  log: (job: TrainingJob, line: string, stream: LogStream) => void;
  /** The process is gone and `job.phase` is final. */
  ended: (job: TrainingJob) => void;
  /** A message from the worker failed validation (it is ignored); `message` is what arrived. */
  invalidMessage: (job: TrainingJob, message: unknown) => void;
}

export interface StartOptions {
  resumeDir?: string;
  /** Working directory of the child (relative paths in overrides resolve against it). */
  cwd?: string;
}

interface Internal {
  job: TrainingJob;
  child: ChildProcess;
  channel: MessageHandler<TrainingHostApi, TrainingProcessApi>;
  /** The reply to `start`. */
  endedMsg?: TrainingEnded;
  spawnError?: Error;
  timers: ReturnType<typeof setTimeout>[];
  done: Promise<TrainingJob>;
  resolveDone: (j: TrainingJob) => void;
  output: LineSplitter[];
}


/** Tracks any number of concurrent training child processes. */
export class TrainingManager extends JobRegistry<Internal> {
  private nextId = 1;
  private readonly stopGraceMs: number;
  private readonly killGraceMs: number;
  private readonly tailLines: number;

  constructor(private readonly opts: TrainingManagerOptions) {
    super();
    this.stopGraceMs = opts.stopGraceMs ?? 60_000;
    this.killGraceMs = opts.killGraceMs ?? 5_000;
    this.tailLines = opts.stderrTailLines ?? 40;
  }

  /** Forks a worker and sends it the start request. Throws UserError when the worker script is missing. */
  start(overrides: TrainingOverrides, options: StartOptions = {}): TrainingJob {
    if (!fs.existsSync(this.opts.workerPath)) {
      throw new UserError(`The training worker ${this.opts.workerPath} does not exist.`, 'Build the extension first: npm run build.');
    }
    const child = fork(this.opts.workerPath, [], {
      cwd: options.cwd,
      env: this.opts.env ?? process.env,
      execArgv: this.opts.execArgv ?? [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const { job, done, resolveDone } = newJob({
      id: this.nextId++, overrides, resumeDir: options.resumeDir ? path.resolve(options.resumeDir) : undefined, pid: child.pid,
      runName: null, backend: null, totalKimg: typeof overrides.kimg === 'number' ? overrides.kimg : 0,
    });
    const channel = new MessageHandler<TrainingHostApi, TrainingProcessApi>({
      post: (m) => new Promise<void>((resolve, reject) => {
        if (!child.connected) return reject(new Error('The training worker is not connected.'));
        // Channel closed under us: the exit handler decides the state.
        child.send(m, (err) => (err ? reject((st.spawnError ??= err)) : resolve()));
      }),
      validators: trainingHostValidators,
      onInvalid: (_reason, m) => this.emit('invalidMessage', job, m),
      onHandlerError: (name, e) => {
        if (name !== 'stop') this.emit('log', job, `Training worker: handling '${name}' failed: ${(e as Error)?.message ?? String(e)}`, 'worker');
      },
    });
    const st: Internal = { job, child, channel, timers: [], done, resolveDone, output: [] };
    this.all.set(job.id, st);
    this.listen(st);

    st.output = (['stdout', 'stderr'] as const).map((stream) => splitLines(child[stream], (line) => this.line(st, line, stream)));
    child.on('message', (m: unknown) => channel.handle(m));
    child.on('error', (e) => {
      // Spawn failures (ENOENT, EACCES) and IPC send errors; the process may never have started.
      st.spawnError ??= e;
      if (child.pid === undefined || child.exitCode !== null) this.finish(st, null, null);
    });
    child.on('close', (code, signal) => this.finish(st, code, signal));

    channel.request('start', job.resumeDir ? { overrides, resumeDir: job.resumeDir } : { overrides }, { timeoutMs: 0 }).then(
      (ended) => {
        st.endedMsg = ended;
        if (ended.runDir) job.runDir = ended.runDir;
      },
      (e: unknown) => {
        // The worker refused the request (it stays alive without a job): fail the job and end the process.
        if (!(e instanceof RpcRemoteError) || !ACTIVE_PHASES.includes(job.phase)) return;
        st.endedMsg = { runDir: job.runDir, state: 'failed', error: `The training worker refused to start: ${e.message}` };
        child.kill('SIGTERM');
      },
    );
    return job;
  }

  /**
   * Asks a job to stop: the stop event, then SIGTERM after stopGraceMs, then SIGKILL after killGraceMs.
   * Resolves with the job once its process is gone.
   */
  stop(id: number): Promise<TrainingJob> {
    const st = this.all.get(id);
    if (!st) return Promise.reject(new Error(`No training job ${id}.`));
    if (!ACTIVE_PHASES.includes(st.job.phase) || st.job.phase === 'stopping') return st.done;
    st.job.phase = 'stopping';
    if (!st.child.connected) {
      // No IPC channel left to carry the stop message: go straight to signals.
      this.escalate(st, 'has no IPC channel');
      return st.done;
    }
    void st.channel.emit('stop', {});
    st.timers.push(setTimeout(() => this.escalate(st), this.stopGraceMs));
    return st.done;
  }

  /** Stops every active job; `graceMs` shortens the wait before signals (used on deactivate). */
  async stopAll(graceMs?: number): Promise<void> {
    const active = this.active();
    for (const j of active) {
      const st = this.all.get(j.id)!;
      void this.stop(j.id);
      if (graceMs !== undefined) st.timers.push(setTimeout(() => this.escalate(st), graceMs));
    }
    await Promise.all(active.map((j) => this.all.get(j.id)!.done));
  }

  /** Kills every child immediately (SIGKILL); for tests and emergencies. */
  dispose(): void {
    for (const st of this.all.values()) {
      if (ACTIVE_PHASES.includes(st.job.phase)) {
        st.job.forced = true;
        st.child.kill('SIGKILL');
      }
    }
  }

  private escalate(st: Internal, why = 'did not stop in time'): void {
    if (!ACTIVE_PHASES.includes(st.job.phase)) return;
    st.job.forced = true;
    this.emit('log', st.job, `Worker ${why}; sending SIGTERM to pid ${st.child.pid}.`, 'worker');
    st.child.kill('SIGTERM');
    st.timers.push(setTimeout(() => {
      if (!ACTIVE_PHASES.includes(st.job.phase)) return;
      this.emit('log', st.job, `Worker ignored SIGTERM; sending SIGKILL to pid ${st.child.pid}.`, 'worker');
      st.child.kill('SIGKILL');
    }, this.killGraceMs));
  }

  private line(st: Internal, line: string, stream: 'stdout' | 'stderr'): void {
    if (stream === 'stderr') pushTail(st.job.stderrTail, line, this.tailLines);
    this.emit('log', st.job, line, stream);
  }

  /** Job fields follow the worker's events. */
  private listen(st: Internal): void {
    const { job, channel } = st;
    channel.on('started', (m) => {
      job.runDir = m.runDir;
      job.runName = m.runName;
      job.backend = m.backend;
      job.totalKimg = m.totalKimg;
      if (job.phase === 'starting') job.phase = 'running';
      this.emit('started', job);
    });
    channel.on('progress', (m) => {
      job.runDir ??= m.runDir;
      job.curKimg = m.curKimg;
      job.totalKimg = m.totalKimg;
      if (typeof m.tick === 'number') job.tick = m.tick;
      if (typeof m.secPerKimg === 'number' && Number.isFinite(m.secPerKimg)) job.secPerKimg = m.secPerKimg;
      if (typeof m.etaSec === 'number' && Number.isFinite(m.etaSec)) job.etaSec = m.etaSec;
      job.losses = finiteNumbers(m.losses);
      this.emit('progress', job, m);
    });
    channel.on('log', (m) => this.emit('log', job, m.line, 'worker'));
  }

  private finish(st: Internal, code: number | null, signal: NodeJS.Signals | null): void {
    const job = st.job;
    if (!ACTIVE_PHASES.includes(job.phase)) return;
    for (const t of st.timers) clearTimeout(t);
    st.channel.dispose();
    for (const o of st.output) o.flush();
    job.exitCode = code;
    job.signal = signal;
    job.endedAt = Date.now();
    const tail = job.stderrTail.length ? `\n${job.stderrTail.slice(-15).join('\n')}` : '';
    const e = st.endedMsg;
    if (e) {
      job.phase = e.state;
      job.error = e.error;
      job.userError = e.userError;
      if (e.latestSnapshot !== undefined) job.latestSnapshot = e.latestSnapshot;
      if (typeof e.curKimg === 'number') job.curKimg = e.curKimg;
      if (Array.isArray(e.notices)) job.notices = e.notices.filter((n): n is string => typeof n === 'string');
      if (e.state === 'failed' && !e.error) job.error = `Training failed (no message from the worker).${tail}`;
    } else if (job.phase === 'stopping') {
      // We asked it to stop and it went away, possibly by our signal: stopped, maybe without a final snapshot.
      job.phase = 'stopped';
      if (job.forced) job.error = `The worker did not exit after the stop request and was killed (${signal ?? `exit code ${code}`}); the newest snapshot may be older than the last tick.`;
    } else if (st.spawnError && job.pid === undefined) {
      job.phase = 'failed';
      job.error = `Could not start the training worker: ${st.spawnError.message}`;
    } else {
      job.phase = 'failed';
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      job.error = `The training process ${how} without reporting an end state.${tail}`;
    }
    this.emit('ended', job);
    st.resolveDone(job);
  }
}

function finiteNumbers(o: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}
