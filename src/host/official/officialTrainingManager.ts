/**
 * Runs the official StyleGAN2-ADA / GGDR `train.py` as a child process and tracks it with the same job
 * shape and events as our own TrainingManager, so the same TrainingUi (status bar, progress
 * notification, Stop, Output channel) shows it. What train.py tells us comes from its files, not from a
 * protocol: the run folder from its "Output directory:" line (or the new NNNNN-* folder in --outdir),
 * progress from stats.jsonl (Progress/kimg, Timing/sec_per_kimg), the total from training_options.json.
 * train.py itself tees stdout/stderr into the run's log.txt (dnnlib.util.Logger). Stop: SIGINT to the
 * process group (what Ctrl-C does: --gpus N spawns N processes), then SIGTERM, then SIGKILL.
 * No vscode imports: tested in plain Node against a real Python child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainingOverrides } from '../../core/config/options';
import { outputDirFromLine, tracebackTail } from '../../core/official/trainer/args';
import { JsonlTailer } from '../../core/runs/jsonlTail';
import { RUN_DIR_RE, RUN_FILES, SNAP_PKL_RE } from '../../core/runs/runDir';
import type { TrainProgress } from '../../shared/protocol/worker';
import type { LogStream, TrainingJob } from '../training/trainingManager';
import { ACTIVE_PHASES, JobRegistry, newJob } from '../training/jobRegistry';
import { pushTail, splitLines, type LineSplitter } from '../util/lines';

export interface OfficialStartSpec {
  python: string;
  /** The checkout: train.py's working directory. */
  repo: string;
  /** argv after `train.py` (see buildTrainArgs). */
  args: string[];
  /** --outdir (absolute): where the run folder will appear. */
  outdir: string;
  /** The whole environment of the child (the user's environment plus the configured extras). */
  env: NodeJS.ProcessEnv;
  /** Shown until the run folder is known, e.g. "official GGDR on mnist32.zip". */
  label: string;
  data: string;
  /** --kimg when given (0: the cfg's, read from training_options.json later). */
  kimg: number;
}

export interface OfficialTrainingManagerOptions {
  /** After SIGINT, wait this long before SIGTERM (train.py ends at once on KeyboardInterrupt; a tick's pickle may be mid-write). */
  sigintGraceMs?: number;
  /** After SIGTERM, wait this long before SIGKILL. */
  killGraceMs?: number;
  /** How often stats.jsonl and --outdir are polled. */
  pollMs?: number;
  /** Output lines kept per job for the crash message. */
  tailLines?: number;
}

interface Internal {
  job: TrainingJob;
  child: ChildProcess;
  spec: OfficialStartSpec;
  /** NNNNN-* folders in outdir before the start (a new one is ours). */
  before: Set<string>;
  timers: ReturnType<typeof setTimeout>[];
  poll?: ReturnType<typeof setInterval>;
  /** Follows the run's stats.jsonl once the run folder is known. */
  stats?: JsonlTailer;
  /** Set when the process has gone and the last stats are being read: the job ends right after. */
  finishing: boolean;
  totalKnown: boolean;
  announced: boolean;
  tail: string[];
  output: LineSplitter[];
  spawnError?: Error;
  done: Promise<TrainingJob>;
  resolveDone: (j: TrainingJob) => void;
}

/** Tracks official train.py processes. */
export class OfficialTrainingManager extends JobRegistry<Internal> {
  /** Ids start high so they never collide with TrainingManager's in shared UI state. */
  private nextId = 100_001;
  private sigintGraceMs: number;
  private readonly killGraceMs: number;
  private readonly pollMs: number;
  private readonly tailLines: number;

  constructor(opts: OfficialTrainingManagerOptions = {}) {
    super();
    this.sigintGraceMs = opts.sigintGraceMs ?? 30_000;
    this.killGraceMs = opts.killGraceMs ?? 5_000;
    this.pollMs = opts.pollMs ?? 1_000;
    this.tailLines = opts.tailLines ?? 60;
  }

  /** Starts `python train.py ARGS` in the checkout. Spawn failures end the job as failed (no throw). */
  start(spec: OfficialStartSpec): TrainingJob {
    const before = new Set(listRunDirs(spec.outdir));
    const posix = process.platform !== 'win32';
    const child = spawn(spec.python, ['train.py', ...spec.args], {
      cwd: spec.repo,
      env: { ...spec.env, PYTHONUNBUFFERED: '1' },
      // Its own process group, so Stop reaches every --gpus process the way Ctrl-C in a terminal does.
      detached: posix,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const overrides: TrainingOverrides = { data: spec.data, ...(spec.kimg > 0 ? { kimg: spec.kimg } : {}) };
    const { job, done, resolveDone } = newJob({
      id: this.nextId++, overrides, pid: child.pid, runName: spec.label, backend: 'PyTorch (official train.py)', totalKimg: spec.kimg,
    });
    const st: Internal = {
      job, child, spec, before, timers: [], finishing: false, totalKnown: false, announced: false,
      tail: [], output: [], done, resolveDone,
    };
    this.all.set(job.id, st);
    // \r too: tqdm-style progress lines.
    st.output = (['stdout', 'stderr'] as const).map((stream) => splitLines(child[stream], (line) => this.onLine(st, line, stream), { cr: true }));
    child.on('error', (e) => {
      st.spawnError ??= e;
      if (child.pid === undefined) this.finish(st, null, null);
    });
    child.on('close', (code, signal) => this.finish(st, code, signal));
    st.poll = setInterval(() => void this.pollFiles(st), this.pollMs);
    return job;
  }

  /** SIGINT (like Ctrl-C), then SIGTERM after sigintGraceMs, then SIGKILL after killGraceMs. Resolves when the process is gone. */
  stop(id: number): Promise<TrainingJob> {
    const st = this.all.get(id);
    if (!st) return Promise.reject(new Error(`No official training job ${id}.`));
    if (!ACTIVE_PHASES.includes(st.job.phase) || st.job.phase === 'stopping' || st.finishing) return st.done;
    st.job.phase = 'stopping';
    this.emit('log', st.job, `Stop: sending SIGINT to train.py (pid ${st.child.pid}, its process group).`, 'worker');
    this.signal(st, 'SIGINT');
    st.timers.push(setTimeout(() => {
      if (!ACTIVE_PHASES.includes(st.job.phase)) return;
      st.job.forced = true;
      this.emit('log', st.job, `train.py still running ${Math.round(this.sigintGraceMs / 1000)} s after SIGINT; sending SIGTERM.`, 'worker');
      this.signal(st, 'SIGTERM');
      st.timers.push(setTimeout(() => {
        if (!ACTIVE_PHASES.includes(st.job.phase)) return;
        this.emit('log', st.job, 'train.py ignored SIGTERM; sending SIGKILL.', 'worker');
        this.signal(st, 'SIGKILL');
      }, this.killGraceMs));
    }, this.sigintGraceMs));
    this.emit('progress', st.job, progressMessage(st.job));
    return st.done;
  }

  async stopAll(graceMs?: number): Promise<void> {
    const saved = this.sigintGraceMs;
    if (graceMs !== undefined) this.sigintGraceMs = graceMs;
    try {
      await Promise.all(this.active().map((j) => this.stop(j.id)));
    } finally {
      this.sigintGraceMs = saved;
    }
  }

  private signal(st: Internal, sig: NodeJS.Signals): void {
    const pid = st.child.pid;
    if (pid === undefined) return;
    try {
      if (process.platform !== 'win32') process.kill(-pid, sig);
      else st.child.kill(sig);
    } catch {
      try {
        st.child.kill(sig);
      } catch {
        // already gone
      }
    }
  }

  private onLine(st: Internal, line: string, stream: LogStream): void {
    pushTail(st.tail, line, this.tailLines);
    if (stream === 'stderr') pushTail(st.job.stderrTail, line, this.tailLines);
    const out = outputDirFromLine(line);
    if (out && !st.job.runDir) this.setRunDir(st, path.resolve(st.spec.repo, out));
    this.emit('log', st.job, line, stream);
  }

  private setRunDir(st: Internal, dir: string): void {
    st.job.runDir = dir;
    st.job.runName = path.basename(dir);
    void this.pollFiles(st);
  }

  /** Finds the run folder (if train.py's line was missed), announces it once it exists, reads new stats lines. */
  private async pollFiles(st: Internal): Promise<void> {
    const job = st.job;
    if (!job.runDir) {
      const fresh = listRunDirs(st.spec.outdir).filter((n) => !st.before.has(n)).sort();
      if (fresh.length) {
        job.runDir = path.join(st.spec.outdir, fresh[fresh.length - 1]);
        job.runName = fresh[fresh.length - 1];
      }
    }
    if (!job.runDir || !fs.existsSync(job.runDir)) return;
    if (!st.totalKnown) {
      try {
        const o = JSON.parse(fs.readFileSync(path.join(job.runDir, RUN_FILES.options), 'utf8')) as { total_kimg?: unknown };
        if (typeof o.total_kimg === 'number' && o.total_kimg > 0) {
          job.totalKimg = o.total_kimg;
          st.totalKnown = true;
        }
      } catch {
        // not written yet (train.py writes it right after creating the folder)
      }
    }
    if (!st.announced) {
      st.announced = true;
      if (job.phase === 'starting') job.phase = 'running';
      this.emit('started', job);
    }
    if (await this.readStats(st)) this.emit('progress', job, progressMessage(job));
  }

  /** Applies the records appended to stats.jsonl since the last poll; true when progress changed. */
  private async readStats(st: Internal): Promise<boolean> {
    st.stats ??= new JsonlTailer(path.join(st.job.runDir!, RUN_FILES.stats));
    let changed = false;
    try {
      // Python's json writes NaN/Infinity (e.g. a std over one sample); the tailer's lenient parser takes them.
      await st.stats.pollBatches((b) => {
        for (const rec of b.records) if (applyStats(st.job, rec)) changed = true;
      });
    } catch {
      // unreadable right now (e.g. permissions while train.py creates it): the next poll tries again
    }
    return changed;
  }

  private finish(st: Internal, code: number | null, signal: NodeJS.Signals | null): void {
    const job = st.job;
    if (!ACTIVE_PHASES.includes(job.phase) || st.finishing) return;
    st.finishing = true;
    for (const t of st.timers) clearTimeout(t);
    if (st.poll) clearInterval(st.poll);
    for (const o of st.output) o.flush();
    // The last stats lines first (the tailer serialises this poll after any still running).
    void this.pollFiles(st).finally(() => this.end(st, code, signal));
  }

  private end(st: Internal, code: number | null, signal: NodeJS.Signals | null): void {
    const job = st.job;
    job.exitCode = code;
    job.signal = signal;
    job.endedAt = Date.now();
    const snaps = job.runDir ? latestPkl(job.runDir) : null;
    job.latestSnapshot = snaps;
    if (job.phase === 'stopping') {
      job.phase = 'stopped';
      if (job.forced) job.error = `train.py did not exit after SIGINT and was killed (${signal ?? `exit code ${code}`}); the newest snapshot may be incomplete.`;
    } else if (st.spawnError && job.pid === undefined) {
      job.phase = 'failed';
      job.error = `Could not start ${st.spec.python} train.py: ${st.spawnError.message}`;
    } else if (code === 0) {
      job.phase = 'finished';
    } else {
      job.phase = 'failed';
      const { exception, tail } = tracebackTail(st.tail, 8);
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      job.error = `${exception ?? `train.py ${how}`}${exception ? ` (train.py ${how})` : ''}\n${tail.join('\n')}`;
    }
    this.emit('ended', job);
    st.resolveDone(job);
  }
}

/** NNNNN-* folder names in `outdir` (none when it does not exist). */
function listRunDirs(outdir: string): string[] {
  try {
    return fs.readdirSync(outdir, { withFileTypes: true }).filter((e) => e.isDirectory() && RUN_DIR_RE.test(e.name)).map((e) => e.name);
  } catch {
    return [];
  }
}

/** The newest network-snapshot-*.pkl of a run folder (absolute), or null. */
export function latestPkl(runDir: string): string | null {
  try {
    const pkls = fs.readdirSync(runDir).filter((n) => SNAP_PKL_RE.test(n)).sort();
    return pkls.length ? path.join(runDir, pkls[pkls.length - 1]) : null;
  } catch {
    return null;
  }
}

const mean = (rec: Record<string, unknown>, k: string): number | undefined => {
  const v = rec[k];
  const m = v && typeof v === 'object' ? (v as { mean?: unknown }).mean : undefined;
  return typeof m === 'number' && Number.isFinite(m) ? m : undefined;
};

/** Applies one stats.jsonl record (StyleGAN2-ADA's `{name: {num, mean, std}}`) to a job; true when kimg moved. */
export function applyStats(job: TrainingJob, rec: Record<string, unknown>): boolean {
  const kimg = mean(rec, 'Progress/kimg');
  if (kimg === undefined) return false;
  job.curKimg = kimg;
  const tick = mean(rec, 'Progress/tick');
  if (tick !== undefined) job.tick = tick;
  const spk = mean(rec, 'Timing/sec_per_kimg');
  if (spk !== undefined && spk > 0) job.secPerKimg = spk;
  job.etaSec = job.totalKimg > 0 && job.secPerKimg > 0 ? Math.max(0, job.totalKimg - kimg) * job.secPerKimg : -1;
  const losses: Record<string, number> = {};
  for (const k of Object.keys(rec)) {
    if (!k.startsWith('Loss/')) continue;
    const m = mean(rec, k);
    if (m !== undefined) losses[k] = m;
  }
  job.losses = losses;
  return true;
}

function progressMessage(job: TrainingJob): TrainProgress {
  return {
    runDir: job.runDir ?? '', curKimg: job.curKimg, totalKimg: job.totalKimg, tick: job.tick,
    secPerKimg: job.secPerKimg, etaSec: job.etaSec, losses: job.losses,
  };
}
