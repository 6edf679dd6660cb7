/**
 * Writers of the run folder contract (see src/shared/runTypes.ts): run folder creation with
 * StyleGAN2-ADA's numbering, file names, status.json, training_options.json and the JSONL logs.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { TrainingOptions } from '../config/options';
import type { MetricLine, RunStatus, StatsLine } from '../../shared/runTypes';
import { stringifyJsonLenient } from '../../shared/jsonl';
import { faultPoint } from './faultPoint';
import { STATS_REJECTED_SUFFIX } from './statsTrim';
import { fsUserError } from './fsErrors';
import { acquireLockFile, acquireRunLock, isRunLockHeld, LockHeldError, type RunLock } from './runLock';
import { appendLineDurable, writeFileAtomicSync, writeJsonAtomic } from './fsAtomic';

/** Fixed file names inside a run folder. */
export const RUN_FILES = {
  options: 'training_options.json',
  status: 'status.json',
  stats: 'stats.jsonl',
  log: 'log.txt',
  reals: 'reals.png',
  fakesInit: 'fakes_init.png',
} as const;

/** Which backend actually ran (not the requested 'auto'). */
export interface RunBackendInfo {
  name: string;
  version?: string;
  threads?: number;
  notes?: string | string[];
}

/** training_options.json of a GAN Inspector run; the `format` key tells it from StyleGAN2-ADA's. */
export interface OurTrainingOptionsFile {
  format: 'gan-inspector';
  formatVersion: 1;
  /** ISO time the run folder was created. */
  createdAt: string;
  /** Resolved options exactly as the training loop used them. */
  options: TrainingOptions;
  /**
   * Absolute path of the dataset folder or zip `options.data` named when the run was created (absent
   * for the built-in MNIST and for older runs): the run still finds its data when `data` was relative.
   */
  dataPath?: string;
  backend: RunBackendInfo;
  /** true: no source revision is recorded (the trainer does not run from a git checkout). */
  gitless?: boolean;
  /** GAN Inspector version that wrote the run. */
  appVersion?: string;
}

/** Id regex of run folders, as StyleGAN2-ADA reads them (leading digits then '-'). */
export const RUN_DIR_RE = /^(\d+)-(.+)$/;
/** Our snapshot folders: `network-snapshot-<kimgTag>`. */
export const SNAP_DIR_RE = /^network-snapshot-(\d+(?:\.\d+)?)$/;
/** Official network pickles: `network-snapshot-<kimg>.pkl`. */
export const SNAP_PKL_RE = /^network-snapshot-(\d+)\.pkl$/;
/** Image grids: reals, fakes_init and fakes<kimgTag> (PNG, or JPEG from the official code). */
export const GRID_RE = /^(reals|fakes_init|fakes(\d+(?:\.\d+)?))\.(png|jpe?g)$/i;
/** Metric logs: `metric-<name>.jsonl`. */
export const METRIC_RE = /^metric-(.+)\.jsonl$/;

/** True for a file name a run folder's writers own (any case: case-insensitive file systems); nothing else may write it. */
export function isRunContractName(name: string): boolean {
  const n = name.toLowerCase();
  const fixed: string[] = [RUN_FILES.options, RUN_FILES.status, RUN_FILES.stats, RUN_FILES.stats + STATS_REJECTED_SUFFIX, RUN_FILES.log];
  return fixed.includes(n) || GRID_RE.test(n) || METRIC_RE.test(n) || n.startsWith('network-snapshot-');
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Progress tag of a snapshot or grid: 6-digit kimg like StyleGAN2-ADA (`000004`) when the image
 * count is a whole kimg, else with the remainder in images (`000000.048`) — short ticks (the `tiny`
 * preset) must never collide, since snapshots are never overwritten.
 */
export function kimgTag(kimg: number): string {
  const nimg = Math.max(0, Math.round(kimg * 1000));
  const whole = pad(Math.floor(nimg / 1000), 6);
  return nimg % 1000 === 0 ? whole : `${whole}.${pad(nimg % 1000, 3)}`;
}

/** `network-snapshot-000004` for kimg 4; `network-snapshot-000000.048` for 48 images. */
export function snapshotName(kimg: number): string {
  return `network-snapshot-${kimgTag(kimg)}`;
}

/** `fakes000004.png` for kimg 4. */
export function fakesName(kimg: number): string {
  return `fakes${kimgTag(kimg)}.png`;
}

/** Makes `desc` safe as part of a folder name on every OS; throws UserError when nothing is left. */
export function sanitizeDesc(desc: string): string {
  const s = desc
    .trim()
    .replace(/[^A-Za-z0-9._+=-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/[.\s]+$/, '') // Windows drops trailing dots
    .slice(0, 120);
  if (!s || /^[-.]+$/.test(s)) {
    throw new UserError(`Run description '${desc}' gives an empty folder name.`, 'Use letters, digits, ".", "_" or "-".');
  }
  return s;
}

/** 1 + the largest id among `<digits>-*` entries of `outdir` (0 when none or when outdir is missing). */
export async function nextRunId(outdir: string): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(outdir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  let max = -1;
  for (const n of names) {
    const m = RUN_DIR_RE.exec(n);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

const LOCK_NAME = '.gan-inspector-runid.lock';
const LOCK_STALE_MS = 10_000; // the locked section is one readdir + one mkdir: milliseconds
const LOCK_WAIT_MS = 30_000;
const inProcess = new Map<string, Promise<unknown>>();

// Two trainers with different descs would both succeed in mkdir("00003-a") / mkdir("00003-b"),
// so folder-level EEXIST alone cannot keep ids unique: id choice + mkdir run under a lock file
// (runLock.ts's lock-file primitive, waited for rather than refused).
async function withIdLock<T>(outdir: string, fn: () => Promise<T>): Promise<T> {
  const key = path.resolve(outdir);
  const prev = inProcess.get(key) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(async () => {
    const lockPath = path.join(outdir, LOCK_NAME);
    const deadline = Date.now() + LOCK_WAIT_MS;
    let lock: RunLock;
    for (;;) {
      try {
        lock = acquireLockFile(lockPath, 'choosing a run id', { staleAfterMs: LOCK_STALE_MS });
        break;
      } catch (e) {
        if (!(e instanceof LockHeldError)) throw e;
        if (Date.now() > deadline) {
          throw new UserError(`Timed out waiting for ${lockPath}.`, 'Another trainer holds it; if none runs, delete the file.');
        }
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
    try {
      return await fn();
    } finally {
      lock.release();
    }
  });
  inProcess.set(key, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(key) === run) inProcess.delete(key);
  }
}

/** Creates `<outdir>/<5-digit id>-<desc>/` with the next free id; never reuses an id, even under concurrent calls. */
export async function createRunDir(outdir: string, desc: string): Promise<{ dir: string; id: number; name: string }> {
  const cleanDesc = sanitizeDesc(desc);
  try {
    await fsp.mkdir(outdir, { recursive: true });
  } catch (e) {
    let err = e;
    // Node's recursive mkdir reports ENOENT for a read-only parent; a plain mkdir tells the real reason.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') await fsp.mkdir(outdir).catch((e2: NodeJS.ErrnoException) => { if (e2.code !== 'ENOENT') err = e2; });
    throw fsUserError(err, { doing: `creating the output folder ${outdir}`, option: '--outdir' }) ??
      new UserError(`Cannot create the output folder ${outdir}: ${(err as Error).message}`, 'Choose a writable --outdir.');
  }
  return withIdLock(outdir, async () => {
    let id = await nextRunId(outdir);
    for (let attempt = 0; attempt < 10_000; attempt++, id++) {
      const name = `${pad(id, 5)}-${cleanDesc}`;
      const dir = path.resolve(outdir, name);
      try {
        await fsp.mkdir(dir); // non-recursive: EEXIST means someone else has it
        return { dir, id, name };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw fsUserError(e, { doing: `creating the run folder ${dir}`, option: '--outdir' }) ??
            new UserError(`Cannot create run folder ${dir}: ${(e as Error).message}`, 'Check permissions of --outdir.');
        }
      }
    }
    throw new UserError(`No free run id in ${outdir}.`, 'Clean up the output folder.');
  });
}

/** What training_options.json records besides the options and the backend. */
export interface TrainingOptionsExtra {
  /** The dataset's path as loaded (made absolute); undefined for the built-in MNIST. */
  dataPath?: string;
  gitless?: boolean;
  appVersion?: string;
  createdAt?: Date;
}

/** Builds the training_options.json object of a new run. */
export function makeTrainingOptionsFile(
  options: TrainingOptions,
  backend: RunBackendInfo,
  extra: TrainingOptionsExtra = {},
): OurTrainingOptionsFile {
  const file: OurTrainingOptionsFile = {
    format: 'gan-inspector',
    formatVersion: 1,
    createdAt: (extra.createdAt ?? new Date()).toISOString(),
    options,
    backend,
  };
  if (extra.dataPath !== undefined) file.dataPath = path.resolve(extra.dataPath);
  if (extra.gitless !== undefined) file.gitless = extra.gitless;
  if (extra.appVersion !== undefined) file.appVersion = extra.appVersion;
  return file;
}

/** Writes training_options.json atomically; returns what was written. */
export async function writeTrainingOptions(
  dir: string,
  options: TrainingOptions,
  backend: RunBackendInfo,
  extra: TrainingOptionsExtra = {},
): Promise<OurTrainingOptionsFile> {
  const file = makeTrainingOptionsFile(options, backend, extra);
  await writeJsonAtomic(path.join(dir, RUN_FILES.options), file);
  return file;
}

/** Appends one line to stats.jsonl (fsynced; NaN/Infinity written bare, as Python's json does). */
export async function appendStatsLine(dir: string, line: StatsLine): Promise<void> {
  if (typeof line.timestamp !== 'number') throw new Error('appendStatsLine: line.timestamp must be a number');
  const file = path.join(dir, RUN_FILES.stats);
  const text = stringifyJsonLenient(line);
  faultPoint('stats-append', () => fs.appendFileSync(file, text.slice(0, text.length >> 1))); // a torn line, as a crash mid-write leaves
  await appendLineDurable(file, text);
}

/** Metric file name for a metric, e.g. `metric-fid2k_lenet.jsonl`. */
export function metricFileName(metric: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(metric)) throw new UserError(`Invalid metric name '${metric}'.`, 'Use letters, digits, "_", "." or "-".');
  return `metric-${metric}.jsonl`;
}

/**
 * Appends one line to metric-<line.metric>.jsonl (fsynced). A caller that does not hold the run's
 * writer lock (the extension's Compute Metrics) takes it for the append: one writer per run.
 */
export async function appendMetricLine(dir: string, line: MetricLine): Promise<void> {
  const lock = isRunLockHeld(dir) ? undefined : acquireRunLock(dir, 'metrics');
  try {
    await appendLineDurable(path.join(dir, metricFileName(line.metric)), stringifyJsonLenient(line));
  } finally {
    lock?.release();
  }
}

/** Appends text to log.txt (a newline is added when missing). Not fsynced: the log is for people. */
export async function appendLog(dir: string, text: string): Promise<void> {
  await fsp.appendFile(path.join(dir, RUN_FILES.log), text.endsWith('\n') ? text : text + '\n', 'utf8');
}

/** Keeps status.json current; every update rewrites it atomically, updates are written in call order. */
export class StatusWriter {
  private current: RunStatus;
  private chain: Promise<void> = Promise.resolve();
  readonly file: string;

  /** Nothing is written until the first update(). Defaults: running, 0 kimg, this process's pid. */
  constructor(readonly dir: string, initial: Partial<RunStatus> & { totalKimg: number }) {
    this.file = path.join(dir, RUN_FILES.status);
    this.current = {
      state: 'running',
      curKimg: 0,
      tick: 0,
      lastUpdate: new Date().toISOString(),
      lastError: null,
      pid: process.pid,
      latestSnapshot: null,
      ...initial,
    };
  }

  /** A copy of the last status set. */
  get status(): RunStatus {
    return { ...this.current };
  }

  /** Merges `patch`, stamps lastUpdate and writes status.json; resolves when this write is on disk. */
  update(patch: Partial<RunStatus> = {}): Promise<void> {
    this.current = { ...this.current, ...patch, lastUpdate: new Date().toISOString() };
    // Each queued write takes the newest status when it runs, so a slow earlier write can never land last with stale data.
    const write = this.chain.catch(() => undefined).then(() => writeJsonAtomic(this.file, { ...this.current }));
    this.chain = write;
    return write;
  }

  /** Synchronous update for exit/signal handlers, where queued async writes would never run. */
  updateSync(patch: Partial<RunStatus> = {}): void {
    this.current = { ...this.current, ...patch, lastUpdate: new Date().toISOString() };
    writeFileAtomicSync(this.file, JSON.stringify(this.current, null, 2) + '\n');
  }

  /** Resolves when every queued write has finished (errors are reported by update()'s own promise). */
  async flush(): Promise<void> {
    await this.chain.catch(() => undefined);
  }
}
