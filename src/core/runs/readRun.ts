/**
 * Describes run folders (ours and those of the official StyleGAN2-ADA / GGDR code) for the CLI, the
 * extension host and the webviews' data providers: state, progress, snapshots, grids, metrics. Never
 * throws on corrupt content (the run still lists, with a note).
 */
import type * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { RunOrigin, RunState, RunStatus, RunSummary, SnapshotInfo } from '../../shared/runTypes';
import { asStatsLine, statMean } from '../../shared/jsonl';
import { isTempName } from './fsAtomic';
import { fsErrorCode } from './fsErrors';
import { isPidAlive } from '../util/process';
import { errMsg, num } from './jsonFile';
import { readJsonlTail } from './jsonlRead';
import { officialLogState, officialSummaryFields } from './officialRun';
import { readRunOptions, readRunStatus } from './readRunFiles';
import { GRID_RE, METRIC_RE, RUN_DIR_RE, RUN_FILES, SNAP_DIR_RE, SNAP_PKL_RE } from './runDir';
import { checkPickleFile, checkSnapshotFolder } from './snapshotCheck';

async function mapLimit<A, B>(items: A[], limit: number, fn: (a: A) => Promise<B>): Promise<B[]> {
  const out: B[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function gridOrder(name: string): number {
  const m = GRID_RE.exec(name);
  if (!m) return Infinity;
  if (m[1].toLowerCase() === 'reals') return -2;
  if (m[1].toLowerCase() === 'fakes_init') return -1;
  return Number(m[2]);
}

function datasetBase(p: unknown): string | undefined {
  if (typeof p !== 'string' || !p) return undefined;
  const trimmed = p.replace(/[\\/]+$/, '');
  return trimmed.split(/[\\/]/).pop() || trimmed;
}

export interface ReadRunOptions {
  /** For status.json saying 'running': check that its pid is alive (default true; same-machine runs only). */
  checkPid?: boolean;
}

/** The entries of run folder `abs`; UserError when it is missing, not a folder or unreadable. */
export async function readRunFolder(abs: string): Promise<fs.Dirent[]> {
  try {
    return await fsp.readdir(abs, { withFileTypes: true });
  } catch (e) {
    const code = fsErrorCode(e);
    if (code === 'ENOENT') throw new UserError(`Run folder not found: ${abs}`, 'Check the path, or list runs with the Runs view / `gan-inspector runs`.');
    if (code === 'ENOTDIR') throw new UserError(`Not a folder: ${abs}`, 'Pass a run folder such as runs/00000-mnist-…');
    throw new UserError(`Cannot read run folder ${abs}: ${errMsg(e)}`);
  }
}

/** Describes one run folder (ours or official). Throws UserError only when `dir` is not a readable folder. */
export async function readRun(dir: string, opts: ReadRunOptions = {}): Promise<RunSummary> {
  const abs = path.resolve(dir);
  const entries = await readRunFolder(abs);
  const name = path.basename(abs);
  const idMatch = RUN_DIR_RE.exec(name);
  const notes: string[] = [];
  let mtime = 0;
  const touch = async (p: string) => {
    try {
      mtime = Math.max(mtime, (await fsp.stat(p)).mtimeMs);
    } catch {
      /* absent: nothing to date */
    }
  };

  const visible = entries.filter((e) => !isTempName(e.name));
  const has = (n: string) => visible.some((e) => e.name === n);

  const [options, statusRead, tail] = await Promise.all([
    readRunOptions(abs),
    readRunStatus(abs),
    readJsonlTail(path.join(abs, RUN_FILES.stats), asStatsLine, 1),
  ]);
  await Promise.all([RUN_FILES.options, RUN_FILES.status, RUN_FILES.stats, RUN_FILES.log].map((f) => touch(path.join(abs, f))));
  if (options.kind === 'corrupt') notes.push(options.error);
  let status: RunStatus | undefined;
  if (statusRead && 'error' in statusRead) notes.push(statusRead.error);
  else status = statusRead;

  const hasPkl = visible.some((e) => SNAP_PKL_RE.test(e.name));
  const origin: RunOrigin =
    options.kind === 'gan-inspector' ? 'gan-inspector'
    : options.kind === 'stylegan2-ada' ? 'stylegan2-ada'
    : status || !hasPkl ? 'gan-inspector'
    : 'stylegan2-ada';

  const summary: RunSummary = {
    name,
    dir: abs,
    id: idMatch ? Number(idMatch[1]) : -1,
    origin,
    state: 'unknown',
    curKimg: 0,
    totalKimg: NaN,
    snapshots: [],
    grids: [],
    metrics: [],
    mtime: 0,
  };

  if (options.kind === 'gan-inspector') {
    const o = options.file.options;
    summary.preset = typeof o.preset === 'string' ? o.preset : undefined;
    summary.dataset = datasetBase(o.data);
    summary.resolution = num(o.model.resolution);
    summary.batch = num(o.model.batch);
    summary.totalKimg = num(o.kimg) ?? NaN;
    summary.seed = num(o.seed);
    summary.backend = typeof options.file.backend.name === 'string' ? options.file.backend.name : undefined;
    summary.workers = num(o.workers);
    if (typeof o.ggdr.enabled === 'boolean') summary.ggdr = o.ggdr.enabled;
    if (summary.ggdr) {
      summary.ggdrRes = num(o.ggdr.res);
      summary.ggdrWeight = num(o.ggdr.weight);
    }
  } else if (options.kind === 'stylegan2-ada') {
    const { datasetPath, ...fields } = officialSummaryFields(options.raw);
    summary.dataset = datasetBase(datasetPath);
    Object.assign(summary, fields);
  }

  // Progress: status.json when present (ours), else the last stats line.
  const last = tail[tail.length - 1];
  const lastKimg = last ? statMean(last, 'Progress/kimg') : undefined;
  const statSecPerKimg = last ? statMean(last, 'Timing/sec_per_kimg') : undefined;
  if (status) {
    summary.state = status.state;
    summary.curKimg = status.curKimg;
    if (Number.isFinite(status.totalKimg)) summary.totalKimg = status.totalKimg;
    summary.secPerKimg = status.secPerKimg ?? statSecPerKimg;
    summary.lastError = status.lastError;
    if (status.state === 'running' && status.pid !== undefined && opts.checkPid !== false && !isPidAlive(status.pid)) {
      summary.state = 'stopped';
      notes.push(`status.json says running, but trainer process ${status.pid} is gone (killed or crashed)`);
    }
  } else {
    summary.curKimg = lastKimg ?? 0;
    summary.secPerKimg = statSecPerKimg;
    // The official loop writes a final stats line once cur_nimg ≥ total_kimg·1000, then prints "Exiting...".
    const reached = lastKimg !== undefined && Number.isFinite(summary.totalKimg) && lastKimg >= summary.totalKimg - 1e-6 * Math.max(1, summary.totalKimg);
    let logState: RunState | undefined;
    if (origin === 'stylegan2-ada') {
      const fromLog = await officialLogState(abs);
      logState = fromLog.state;
      if (fromLog.lastError !== undefined) summary.lastError = fromLog.lastError;
    }
    summary.state = logState ?? (reached ? 'finished' : 'unknown');
  }

  // Snapshots, grids, metrics.
  const snapDirs: Array<{ name: string; kimg: number }> = [];
  const snapPkls: Array<{ name: string; kimg: number }> = [];
  for (const e of visible) {
    const full = path.join(abs, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const st = await fsp.stat(full);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue; // dangling link
      }
    }
    let m: RegExpExecArray | null;
    if (isDir && (m = SNAP_DIR_RE.exec(e.name))) snapDirs.push({ name: e.name, kimg: Number(m[1]) });
    else if (isFile && (m = SNAP_PKL_RE.exec(e.name))) snapPkls.push({ name: e.name, kimg: Number(m[1]) });
    else if (isFile && GRID_RE.test(e.name)) summary.grids.push(e.name);
    else if (isFile && (m = METRIC_RE.exec(e.name))) summary.metrics.push(m[1]);
  }
  const checked = await mapLimit([...snapDirs, ...snapPkls], 8, async (s) => ({
    s, c: s.name.endsWith('.pkl') ? await checkPickleFile(path.join(abs, s.name)) : await checkSnapshotFolder(path.join(abs, s.name)),
  }));
  for (const { s, c } of checked) {
    const info: SnapshotInfo = { name: s.name, path: path.join(abs, s.name), kimg: s.kimg, loadable: c.loadable };
    if (c.reason) info.reason = c.reason;
    summary.snapshots.push(info);
    mtime = Math.max(mtime, c.mtime);
  }
  summary.snapshots.sort((a, b) => a.kimg - b.kimg || a.name.localeCompare(b.name));
  summary.grids.sort((a, b) => gridOrder(a) - gridOrder(b) || a.localeCompare(b));
  summary.metrics.sort();
  const newestGrid = summary.grids[summary.grids.length - 1];
  if (newestGrid) await touch(path.join(abs, newestGrid));
  await Promise.all(summary.metrics.map((mn) => touch(path.join(abs, `metric-${mn}.jsonl`))));
  const lastSnap = summary.snapshots[summary.snapshots.length - 1];
  if (lastSnap && !lastSnap.loadable) await touch(lastSnap.path);
  summary.mtime = mtime;

  if (options.kind === 'missing' && !has(RUN_FILES.stats)) notes.push('training_options.json is missing');
  if (notes.length) summary.lastError = [summary.lastError, ...notes].filter(Boolean).join('\n');
  return summary;
}

/** Every `NNNNN-*` run folder directly under `root` that has training_options.json or stats.jsonl, newest id first. Missing root → []. */
export async function listRuns(root: string, opts: ReadRunOptions = {}): Promise<RunSummary[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(root, { withFileTypes: true });
  } catch (e) {
    const code = fsErrorCode(e);
    if (code === 'ENOENT') return [];
    if (code === 'ENOTDIR') throw new UserError(`Runs folder ${root} is a file, not a folder.`, 'Point the runs root at the folder holding NNNNN-* run folders.');
    throw new UserError(`Cannot read runs folder ${root}: ${errMsg(e)}`);
  }
  const candidates = entries.filter((e) => !isTempName(e.name) && RUN_DIR_RE.test(e.name) && (e.isDirectory() || e.isSymbolicLink()));
  const isRun = async (n: string) => {
    for (const f of [RUN_FILES.options, RUN_FILES.stats]) {
      try {
        await fsp.access(path.join(root, n, f));
        return true;
      } catch {
        /* try the next marker */
      }
    }
    return false;
  };
  const flags = await mapLimit(candidates, 16, (e) => isRun(e.name));
  const runDirs = candidates.filter((_, i) => flags[i]).map((e) => path.join(root, e.name));
  const summaries = await mapLimit(runDirs, 4, async (d) => {
    try {
      return await readRun(d, opts);
    } catch {
      return undefined; // deleted between listing and reading
    }
  });
  return summaries
    .filter((s): s is RunSummary => s !== undefined)
    .sort((a, b) => b.id - a.id || b.name.localeCompare(a.name));
}
