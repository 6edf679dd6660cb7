/**
 * Readers of the run folder contract (src/shared/runTypes.ts) for the CLI, the extension host and
 * the webviews' data providers. They read our runs and runs written by the official
 * StyleGAN2-ADA / GGDR code, never throw on corrupt content (the run still lists, with a note),
 * and stream JSONL files so memory stays bounded by the records kept.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { UserError } from '../errors';
import { upgradeStoredOptions, validateOptions, type TrainingOptions } from '../config/options';
import type { MetricLine, RunOrigin, RunState, RunStatus, RunSummary, SnapshotInfo, StatsLine } from '../../shared/runTypes';
import { asMetricLine, asStatsLine, JsonlDecoder, parseJsonLenient, statMean, type RecordGuard } from '../../shared/jsonl';
import { isTempName } from './fsAtomic';
import { isPidAlive } from '../util/process';
import { RUN_DIR_RE, RUN_FILES, type OurTrainingOptionsFile } from './runDir';

const RUN_STATES: readonly RunState[] = ['running', 'finished', 'failed', 'stopped', 'unknown'];
const MAX_JSON_BYTES = 16 * 1024 * 1024; // options/status/snapshot manifests are KBs; refuse to slurp a huge stray file
/**
 * Cheap check that a file can be an official network pickle (the safe unpickler reports anything
 * deeper when it is opened): not empty, and starting like a pickle or a torch.save zip.
 */
export async function checkPickleFile(file: string): Promise<{ loadable: boolean; reason?: string; mtime: number }> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(file, 'r');
    const st = await fh.stat();
    if (st.size === 0) return { loadable: false, reason: 'empty file (0 bytes): an interrupted copy or save?', mtime: st.mtimeMs };
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    if (head[0] !== 0x80 && !(head[0] === 0x50 && head[1] === 0x4b)) return { loadable: false, reason: 'not a pickle (wrong first bytes)', mtime: st.mtimeMs };
    return { loadable: true, mtime: st.mtimeMs };
  } catch (e) {
    return { loadable: false, reason: `cannot read: ${errMsg(e)}`, mtime: 0 };
  } finally {
    await fh?.close();
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const errCode = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;

type JsonRead = { kind: 'ok'; value: unknown } | { kind: 'missing' } | { kind: 'corrupt'; error: string };

async function readJsonFile(file: string): Promise<JsonRead> {
  try {
    const st = await fsp.stat(file);
    if (st.size > MAX_JSON_BYTES) return { kind: 'corrupt', error: `${path.basename(file)} is ${st.size} bytes, too large` };
    const text = await fsp.readFile(file, 'utf8');
    const value = parseJsonLenient(text);
    if (value === undefined) {
      return { kind: 'corrupt', error: `${path.basename(file)} is not valid JSON${text.length ? '' : ' (empty file)'}` };
    }
    return { kind: 'ok', value };
  } catch (e) {
    if (errCode(e) === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', error: `cannot read ${path.basename(file)}: ${errMsg(e)}` };
  }
}

/** training_options.json, classified. */
export type RunOptionsRead =
  | { kind: 'gan-inspector'; file: OurTrainingOptionsFile }
  | { kind: 'stylegan2-ada'; raw: Record<string, unknown> }
  | { kind: 'missing' }
  | { kind: 'corrupt'; error: string };

/** Reads and classifies `<dir>/training_options.json` (ours by `format: "gan-inspector"`, else official). Never throws. */
export async function readRunOptions(dir: string): Promise<RunOptionsRead> {
  const r = await readJsonFile(path.join(dir, RUN_FILES.options));
  if (r.kind !== 'ok') return r;
  const v = r.value;
  if (!isObj(v)) return { kind: 'corrupt', error: 'training_options.json is not a JSON object' };
  if (v.format === 'gan-inspector') {
    if (!isObj(v.options) || !isObj(v.options.model) || !isObj(v.options.ggdr)) {
      return { kind: 'corrupt', error: 'training_options.json (gan-inspector) lacks options.model / options.ggdr' };
    }
    if (!isObj(v.backend)) v.backend = { name: 'unknown' };
    return { kind: 'gan-inspector', file: v as unknown as OurTrainingOptionsFile };
  }
  if (v.format !== undefined) return { kind: 'corrupt', error: `training_options.json has unknown format '${String(v.format)}'` };
  if ('total_kimg' in v || 'training_set_kwargs' in v || 'G_kwargs' in v || 'run_dir' in v) return { kind: 'stylegan2-ada', raw: v };
  return { kind: 'corrupt', error: 'training_options.json is neither a GAN Inspector nor a StyleGAN2-ADA options file' };
}

function asRunStatus(v: unknown): RunStatus | undefined {
  if (!isObj(v) || typeof v.state !== 'string' || !RUN_STATES.includes(v.state as RunState)) return undefined;
  if (num(v.curKimg) === undefined) return undefined;
  return {
    state: v.state as RunState,
    curKimg: v.curKimg as number,
    totalKimg: num(v.totalKimg) ?? NaN,
    tick: num(v.tick) ?? 0,
    lastUpdate: typeof v.lastUpdate === 'string' ? v.lastUpdate : '',
    lastError: typeof v.lastError === 'string' ? v.lastError : null,
    pid: num(v.pid),
    latestSnapshot: typeof v.latestSnapshot === 'string' ? v.latestSnapshot : null,
    secPerKimg: num(v.secPerKimg),
  };
}

/** Reads `<dir>/status.json`; `undefined` when absent, `{error}` when corrupt. Never throws. */
export async function readRunStatus(dir: string): Promise<RunStatus | undefined | { error: string }> {
  const r = await readJsonFile(path.join(dir, RUN_FILES.status));
  if (r.kind === 'missing') return undefined;
  if (r.kind === 'corrupt') return { error: r.error };
  return asRunStatus(r.value) ?? { error: 'status.json does not hold a valid RunStatus' };
}

/** The last `count` valid records of a JSONL file, oldest first, reading backwards from the end (at most `maxBytes`). */
export async function readJsonlTail<T>(file: string, guard: RecordGuard<T>, count = 1, maxBytes = 4 * 1024 * 1024): Promise<T[]> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch {
    return [];
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return []; // a folder where the log should be: the writer reports it by name
    const { size } = st;
    const found: T[] = [];
    const consider = (bytes: Buffer) => {
      const line = bytes.toString('utf8').trim();
      if (!line) return;
      // A last line without '\n' is parsed too: a completed final line counts, a torn one fails the guard.
      const rec = guard(parseJsonLenient(line));
      if (rec !== undefined) found.unshift(rec);
    };
    const CHUNK = 64 * 1024;
    let pos = size;
    let carry = Buffer.alloc(0); // start of a line whose beginning lies before `pos`
    while (pos > 0 && size - pos < maxBytes && found.length < count) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      const data = Buffer.concat([buf, carry]);
      let end = data.length;
      for (let i = data.length - 1; i >= 0 && found.length < count; i--) {
        if (data[i] !== 0x0a) continue;
        consider(data.subarray(i + 1, end));
        end = i;
      }
      if (pos === 0 && found.length < count) {
        consider(data.subarray(0, end));
        end = 0;
      }
      carry = data.subarray(0, end);
    }
    return found;
  } finally {
    await fh.close();
  }
}

async function readTextTail(file: string, bytes: number): Promise<string | undefined> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Number of weight bytes a tfjs weights manifest describes, and the shard files holding them. */
export function manifestWeightBytes(manifest: unknown): { bytes: number; paths: string[] } | { error: string } {
  const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };
  const specBytes = (w: unknown): number | string => {
    if (!isObj(w) || !Array.isArray(w.shape) || typeof w.dtype !== 'string') return 'a weight entry lacks shape/dtype';
    const q = isObj(w.quantization) ? w.quantization.dtype : undefined;
    const per = DTYPE_BYTES[typeof q === 'string' ? q : w.dtype];
    if (per === undefined) return `unsupported dtype '${String(q ?? w.dtype)}' of ${String(w.name)}`;
    let n = 1;
    for (const d of w.shape) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) return `bad shape of ${String(w.name)}`;
      n *= d;
    }
    return n * per;
  };
  let groups: unknown;
  let specs: unknown;
  if (Array.isArray(manifest)) groups = manifest;
  else if (isObj(manifest)) {
    groups = manifest.weightsManifest;
    specs = manifest.weightSpecs;
  }
  let bytes = 0;
  const paths: string[] = [];
  if (Array.isArray(groups)) {
    for (const g of groups) {
      if (!isObj(g) || !Array.isArray(g.weights)) return { error: 'weightsManifest group lacks weights' };
      if (Array.isArray(g.paths)) for (const p of g.paths) if (typeof p === 'string' && !paths.includes(p)) paths.push(p);
      for (const w of g.weights) {
        const b = specBytes(w);
        if (typeof b === 'string') return { error: b };
        bytes += b;
      }
    }
  } else if (Array.isArray(specs)) {
    for (const w of specs) {
      const b = specBytes(w);
      if (typeof b === 'string') return { error: b };
      bytes += b;
    }
  } else if (isObj(manifest) && num(manifest.weightDataBytes) !== undefined) {
    bytes = manifest.weightDataBytes as number;
  } else {
    return { error: 'snapshot.json has no weightsManifest' };
  }
  if (!paths.length) paths.push('weights.bin');
  return { bytes, paths };
}

/** Checks one of our snapshot folders: snapshot.json parses and the weight files hold exactly the bytes it describes. */
export async function checkSnapshotFolder(dir: string): Promise<{ loadable: boolean; reason?: string; mtime: number }> {
  const manifestFile = path.join(dir, 'snapshot.json');
  const r = await readJsonFile(manifestFile);
  if (r.kind === 'missing') return { loadable: false, reason: 'incomplete snapshot: snapshot.json is missing', mtime: 0 };
  if (r.kind === 'corrupt') return { loadable: false, reason: `corrupt snapshot: ${r.error}`, mtime: 0 };
  const m = manifestWeightBytes(r.value);
  if ('error' in m) return { loadable: false, reason: `corrupt snapshot: ${m.error}`, mtime: 0 };
  let total = 0;
  let mtime = 0;
  for (const p of m.paths) {
    if (p.includes('/') || p.includes('\\') || p === '..' || p === '.') {
      return { loadable: false, reason: `corrupt snapshot: weight path '${p}' leaves the snapshot folder`, mtime };
    }
    try {
      const st = await fsp.stat(path.join(dir, p));
      total += st.size;
      mtime = Math.max(mtime, st.mtimeMs);
    } catch {
      return { loadable: false, reason: `incomplete snapshot: ${p} is missing`, mtime };
    }
  }
  if (total !== m.bytes) {
    return { loadable: false, reason: `incomplete snapshot: ${m.paths.join('+')} hold ${total} bytes, snapshot.json describes ${m.bytes}`, mtime };
  }
  return { loadable: true, mtime };
}

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

const GRID_RE = /^(reals|fakes_init|fakes(\d+(?:\.\d+)?))\.(png|jpe?g)$/i;
const SNAP_DIR_RE = /^network-snapshot-(\d+(?:\.\d+)?)$/;
const SNAP_PKL_RE = /^network-snapshot-(\d+)\.pkl$/;
const METRIC_RE = /^metric-(.+)\.jsonl$/;

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

/** Describes one run folder (ours or official). Throws UserError only when `dir` is not a readable folder. */
export async function readRun(dir: string, opts: ReadRunOptions = {}): Promise<RunSummary> {
  const abs = path.resolve(dir);
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(abs, { withFileTypes: true });
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT') throw new UserError(`Run folder not found: ${abs}`, 'Check the path, or list runs with the Runs view / `gan-inspector runs`.');
    if (code === 'ENOTDIR') throw new UserError(`Not a folder: ${abs}`, 'Pass a run folder such as runs/00000-mnist-…');
    throw new UserError(`Cannot read run folder ${abs}: ${errMsg(e)}`);
  }
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
    const o = options.raw;
    const ds = isObj(o.training_set_kwargs) ? o.training_set_kwargs : {};
    const loss = isObj(o.loss_kwargs) ? o.loss_kwargs : {};
    const D = isObj(o.D_kwargs) ? o.D_kwargs : {};
    summary.dataset = datasetBase(ds.path);
    summary.resolution = num(ds.resolution);
    summary.batch = num(o.batch_size);
    summary.totalKimg = num(o.total_kimg) ?? NaN;
    summary.seed = num(o.random_seed);
    summary.backend = 'pytorch';
    // GGDR's train.py records reg_type; plain StyleGAN2-ADA has none, and its loss class tells.
    if (typeof o.reg_type === 'string') summary.ggdr = o.reg_type === 'ggdr';
    else if (typeof loss.class_name === 'string') summary.ggdr = /ggdr/i.test(loss.class_name);
    if (summary.ggdr) {
      summary.ggdrRes = num(loss.ggdr_res) ?? num(D.decoder_res);
      summary.ggdrWeight = num(loss.ggdr_weight) ?? 10; // the official loss hard-codes λ = 10
    }
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
      const logTail = await readTextTail(path.join(abs, RUN_FILES.log), 16 * 1024);
      if (logTail !== undefined && /^Exiting\.\.\.\s*$/m.test(logTail)) logState = 'finished';
      // Ctrl-C / Stop Training (SIGINT): train.py's click ends with "Aborted!" (exit 1) — stopped, not unknown.
      else if (logTail !== undefined && /(^|\n)Aborted!\s*$/.test(logTail)) logState = 'stopped';
      else if (logTail !== undefined && /Traceback \(most recent call last\)/.test(logTail)) {
        const lines = logTail.trim().split(/\r?\n/);
        const last = lines[lines.length - 1] || 'Python traceback in log.txt';
        // Ctrl-C / Stop Training (SIGINT) ends train.py with a KeyboardInterrupt traceback: stopped, not failed.
        if (/^KeyboardInterrupt\s*$/.test(last)) logState = 'stopped';
        else {
          logState = 'failed';
          summary.lastError = last;
        }
      }
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
    else if (isFile && (m = SNAP_PKL_RE.exec(e.name))) snapPkls.push({ name: e.name, kimg: Number(m[1]) }); else if (isFile && GRID_RE.test(e.name)) summary.grids.push(e.name);
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
    const code = errCode(e);
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

/** Streams a JSONL file through `guard`; `onRecord` sees each valid record. Missing file → 0 skipped, no records. */
export async function streamJsonl<T>(file: string, guard: RecordGuard<T>, onRecord: (r: T) => void): Promise<{ skipped: number }> {
  const dec = new JsonlDecoder(guard);
  const sd = new StringDecoder('utf8'); // holds a UTF-8 sequence split across chunks
  let skipped = 0;
  const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream) {
      const b = dec.push(sd.write(chunk as Buffer));
      skipped += b.skipped;
      for (const r of b.records) onRecord(r);
    }
  } catch (e) {
    if (errCode(e) === 'ENOENT') return { skipped: 0 };
    throw new UserError(`Cannot read ${file}: ${errMsg(e)}`);
  }
  const tailText = sd.end();
  const b1 = dec.push(tailText);
  const b2 = dec.end(); // a final line without '\n': kept if complete, counted as skipped if torn
  for (const r of [...b1.records, ...b2.records]) onRecord(r);
  return { skipped: skipped + b1.skipped + b2.skipped };
}

/** Reads stats.jsonl, streamed; garbage lines and a torn last line are skipped and counted. `keep` filters stat names to save memory. */
export async function readStats(file: string, opts: { keep?: (name: string) => boolean } = {}): Promise<{ lines: StatsLine[]; skipped: number }> {
  const lines: StatsLine[] = [];
  const keep = opts.keep;
  const { skipped } = await streamJsonl(file, asStatsLine, (l) => {
    if (!keep) {
      lines.push(l);
      return;
    }
    const out: Record<string, unknown> = { timestamp: l.timestamp };
    for (const k of Object.keys(l)) if (k !== 'timestamp' && keep(k)) out[k] = l[k];
    lines.push(out as StatsLine);
  });
  return { lines, skipped };
}

/** Every metric-<name>.jsonl of a run, keyed by <name>; bad lines skipped. Missing folder → {}. */
export async function readMetrics(runDir: string): Promise<Record<string, MetricLine[]>> {
  let names: string[];
  try {
    names = await fsp.readdir(runDir);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return {};
    throw new UserError(`Cannot read run folder ${runDir}: ${errMsg(e)}`);
  }
  const out: Record<string, MetricLine[]> = {};
  for (const n of names.sort()) {
    const m = METRIC_RE.exec(n);
    if (!m || isTempName(n)) continue;
    const lines: MetricLine[] = [];
    await streamJsonl(path.join(runDir, n), asMetricLine, (l) => lines.push(l));
    out[m[1]] = lines;
  }
  return out;
}

/** Default tailer guard: any JSON object. */
const anyObject = <T>(v: unknown): T | undefined => (isObj(v) ? (v as T) : undefined);

/** One batch of a JsonlTailer.pollBatches() call: the records decoded from one read of at most `chunkBytes`. */
export interface JsonlTailBatch<T> {
  records: T[];
  /** Unreadable complete lines in this batch. */
  skipped: number;
  /** True on the first batch of a poll that restarted from byte 0 (drop what earlier polls gave). */
  reset: boolean;
}

/**
 * Follows a growing JSONL file: each poll() returns only records appended since the previous poll.
 * A partial last line is held until its newline arrives. Truncation, replacement (new inode, e.g. an
 * atomic rewrite) or a rewritten beginning restarts from byte 0 with `reset: true`.
 * pollBatches() is the streaming form: records are handed over one read chunk at a time, so a 1 GB
 * backlog never exists as one array.
 */
export class JsonlTailer<T = Record<string, unknown>> {
  private offset = 0;
  private ino = 0;
  private head = Buffer.alloc(0); // first bytes consumed, to detect an in-place rewrite
  private decoder: JsonlDecoder<T>;
  private sd = new StringDecoder('utf8');
  private busy: Promise<unknown> = Promise.resolve();
  private diskBytes = 0;
  private static readonly HEAD = 64;
  private static readonly CHUNK = 1024 * 1024;
  /** Default read size of pollBatches() (bigger reads only raise the peak heap: a batch's text and records are live at once). */
  static readonly BATCH_BYTES = 1024 * 1024;

  constructor(readonly path: string, private readonly guard: RecordGuard<T> = anyObject) {
    this.decoder = new JsonlDecoder(guard);
  }

  /** Byte offset consumed so far. */
  get position(): number {
    return this.offset;
  }

  /** Bytes read from the file over all polls, re-reads after a rewrite and the rewrite probe included (≥ position). */
  get bytesRead(): number {
    return this.diskBytes;
  }

  /** True while a non-blank last line without its newline is held back (a line being written, or a torn one). */
  get hasPartialLine(): boolean {
    return this.decoder.partial.trim().length > 0;
  }

  /** New records since the last poll; concurrent calls are serialised. */
  poll(): Promise<{ records: T[]; skipped: number; reset: boolean }> {
    const records: T[] = [];
    return this.pollBatches((b) => {
      for (const r of b.records) records.push(r);
    }, { chunkBytes: JsonlTailer.CHUNK }).then(({ skipped, reset }) => ({ records, skipped, reset }));
  }

  /**
   * New records since the last poll, handed to `onBatch` per read of at most `chunkBytes` (default 1 MB;
   * awaited, so a slow consumer throttles the reading). A poll that restarted from byte 0 delivers a batch
   * with `reset: true` first (possibly empty). Resolves to the totals; serialised with poll().
   */
  pollBatches(
    onBatch: (b: JsonlTailBatch<T>) => void | Promise<void>,
    opts: { chunkBytes?: number } = {},
  ): Promise<{ records: number; skipped: number; reset: boolean }> {
    const chunkBytes = Math.max(64 * 1024, Math.floor(opts.chunkBytes ?? JsonlTailer.BATCH_BYTES));
    const run = this.busy.catch(() => undefined).then(() => this.pollOnce(onBatch, chunkBytes));
    this.busy = run;
    return run;
  }

  private restart(): void {
    this.offset = 0;
    this.ino = 0;
    this.head = Buffer.alloc(0);
    this.decoder = new JsonlDecoder(this.guard);
    this.sd = new StringDecoder('utf8');
  }

  private async pollOnce(
    onBatch: (b: JsonlTailBatch<T>) => void | Promise<void>,
    chunkBytes: number,
  ): Promise<{ records: number; skipped: number; reset: boolean }> {
    let fh: fsp.FileHandle;
    const started = this.offset > 0 || this.decoder.partial.length > 0;
    try {
      fh = await fsp.open(this.path, 'r');
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw new UserError(`Cannot read ${this.path}: ${errMsg(e)}`);
      // Gone (e.g. mid-replacement or deleted): whatever we had is no longer the file.
      if (started) {
        this.restart();
        await onBatch({ records: [], skipped: 0, reset: true });
      }
      return { records: 0, skipped: 0, reset: started };
    }
    try {
      const st = await fh.stat();
      let reset = false;
      if (started) {
        const replaced = this.ino !== 0 && st.ino !== 0 && st.ino !== this.ino;
        let rewritten = st.size < this.offset;
        if (!replaced && !rewritten && this.head.length) {
          const now = Buffer.alloc(this.head.length);
          const { bytesRead } = await fh.read(now, 0, now.length, 0);
          this.diskBytes += bytesRead;
          rewritten = bytesRead < now.length || !now.equals(this.head);
        }
        if (replaced || rewritten) {
          this.restart();
          reset = true;
        }
      }
      this.ino = st.ino;
      let records = 0;
      let skipped = 0;
      let pendingReset = reset;
      // Only the bytes present at the start of the poll: a file growing while we read waits for the next poll.
      const end = st.size;
      const buf = Buffer.alloc(Math.min(chunkBytes, Math.max(0, end - this.offset)));
      while (this.offset < end) {
        const want = Math.min(buf.length, end - this.offset);
        const { bytesRead } = await fh.read(buf, 0, want, this.offset);
        if (bytesRead <= 0) break;
        this.diskBytes += bytesRead;
        const chunk = buf.subarray(0, bytesRead);
        if (this.head.length < JsonlTailer.HEAD && this.offset < JsonlTailer.HEAD) {
          this.head = Buffer.concat([this.head, chunk.subarray(0, JsonlTailer.HEAD - this.offset)]);
        }
        this.offset += bytesRead;
        const b = this.decoder.push(this.sd.write(chunk));
        records += b.records.length;
        skipped += b.skipped;
        if (b.records.length || b.skipped || pendingReset) {
          await onBatch({ records: b.records, skipped: b.skipped, reset: pendingReset });
          pendingReset = false;
        }
      }
      if (pendingReset) await onBatch({ records: [], skipped: 0, reset: true });
      return { records, skipped, reset };
    } finally {
      await fh.close();
    }
  }
}

/** A flat dot-path view of nested plain objects; arrays and other values are leaves. */
export function flattenOptions(obj: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (isObj(obj) && Object.keys(obj).length > 0) {
    for (const [k, v] of Object.entries(obj)) flattenOptions(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = obj;
  }
  return out;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Keys (dot paths) whose values differ between two option objects, sorted; a key missing on one side shows undefined. */
export function diffOptions(a: object, b: object): Array<{ key: string; a: unknown; b: unknown }> {
  const fa = flattenOptions(a);
  const fb = flattenOptions(b);
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort();
  const out: Array<{ key: string; a: unknown; b: unknown }> = [];
  for (const key of keys) {
    const has = [key in fa, key in fb];
    if (has[0] && has[1] && deepEqual(fa[key], fb[key])) continue;
    out.push({ key, a: fa[key], b: fb[key] });
  }
  return out;
}

/**
 * What a --resume of run folder `dir` continues from: its stored options (upgraded, validated) and
 * its newest loadable snapshot. Throws UserError when it cannot be resumed (not a run folder, not
 * ours, still running, no loadable snapshot). No tfjs: the CLI checks this before loading the engine.
 */
export async function resumeTarget(dir: string): Promise<ResumeTarget> {
  const abs = path.resolve(dir);
  const run = await readRun(abs); // UserError when missing or not a folder
  const read = await readRunOptions(abs);
  if (read.kind === 'missing') {
    throw new UserError(`${abs} is not a run folder: it has no training_options.json.`, 'Pass a run folder such as runs/00000-mnist-mnist32-ggdr-…');
  }
  if (read.kind === 'corrupt') throw new UserError(`${run.name}: ${read.error}.`, 'This run cannot be resumed; start a new one.');
  if (read.kind !== 'gan-inspector' || run.origin !== 'gan-inspector') {
    throw new UserError(`${abs} was not written by GAN Inspector and cannot be resumed here.`, 'Resume runs created by GAN Inspector; official runs need the official code.');
  }
  // readRun reports a "running" status whose process is gone as stopped, so 'running' here means alive.
  if (run.state === 'running') throw new UserError(`${run.name} is still running.`, 'Stop it first, or wait for it to finish.');
  const newestFirst = [...run.snapshots].reverse().filter((s) => !s.name.endsWith('.pkl'));
  const candidates = newestFirst.filter((s) => s.loadable).map((s) => s.path);
  if (!candidates.length) throw new UserError(`${run.name} has no loadable snapshot to resume from.`, 'Start a new run instead.');
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const s of newestFirst) {
    if (s.loadable) break;
    skipped.push({ name: s.name, reason: s.reason ?? 'not loadable' });
  }
  const options = upgradeStoredOptions(read.file.options); // older runs: the effective values of new fields
  validateOptions(options);
  return { runDir: abs, options, snapshotDir: candidates[0], candidates, skipped };
}

/** What --resume continues: the run, its options, and its snapshots newest first. */
export interface ResumeTarget {
  runDir: string;
  options: TrainingOptions;
  /** The newest snapshot that passes the folder check (the one a resume tries first). */
  snapshotDir: string;
  /** Every snapshot passing the folder check, newest first (older ones are used when loading the newest fails). */
  candidates: string[];
  /** Snapshots newer than `snapshotDir` that failed the folder check, with why. */
  skipped: Array<{ name: string; reason: string }>;
}
