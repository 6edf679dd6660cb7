/**
 * Reads what the compare panel shows from each run folder: summary + display state, metric lines,
 * resolved options, the stats keys (one streaming pass, cached by file size/mtime) and one scalar at a
 * time (streamed with a key filter, so a 100k-line stats.jsonl never sits in memory whole). No vscode.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import {
  buildCompareTable, buildOptionDiff, catalogKeyOf, metricSeries, scalarCatalog, statKeyFor, METRIC_SCALAR_PREFIX,
  type CompareRunData, type MetricSeries,
} from '../../core/runs/compareTable';
import { readMetrics, readStats } from '../../core/runs/jsonlRead';
import { readRunOptions } from '../../core/runs/readRunFiles';
import { RUN_FILES } from '../../core/runs/runDir';
import { statMean } from '../../shared/jsonl';
import type { CompareInfo, CompareRunInfo, CompareScalar, CompareSeries, CompareTable, OptionDiff } from '../../shared/protocol/panels/compare';
import { describeRun, type RunView } from '../runs/runView';

/** One compared run as loaded from disk. */
export interface LoadedRun extends CompareRunData {
  view: RunView;
  series: MetricSeries[];
  statKeys: string[];
}

const FAKES_RE = /^fakes(\d+(?:\.\d+)?)\.(png|jpe?g)$/i;

/** A run's fakes*.png grids with their kimg, oldest first, and whether a loadable snapshot has the same kimg. */
export function fakesGrids(view: RunView): Array<{ file: string; kimg: number; snapshot: boolean }> {
  const s = view.summary;
  const snaps = new Set(s.snapshots.filter((x) => x.loadable).map((x) => x.kimg));
  const out: Array<{ file: string; kimg: number; snapshot: boolean }> = [];
  for (const g of s.grids) {
    const m = FAKES_RE.exec(g);
    if (m) out.push({ file: g, kimg: Number(m[1]), snapshot: snaps.has(Number(m[1])) });
  }
  return out.sort((a, b) => a.kimg - b.kimg);
}

/** Stats keys of a run, cached by the file's size and mtime. */
class StatsKeyCache {
  private readonly cache = new Map<string, { sig: string; keys: string[] }>();

  async keys(file: string): Promise<string[]> {
    const sig = await fileSig(file);
    if (sig === null) return [];
    const hit = this.cache.get(file);
    if (hit && hit.sig === sig) return hit.keys;
    const found = new Set<string>();
    await readStats(file, {
      keep: (k) => {
        found.add(k);
        return false; // keep nothing: only the names are wanted
      },
    });
    const keys = [...found].sort();
    this.cache.set(file, { sig, keys });
    return keys;
  }
}

async function fileSig(file: string): Promise<string | null> {
  try {
    const st = await fsp.stat(file);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return null;
  }
}

const keyCache = new StatsKeyCache();

/** Reads one run for the comparison. Throws UserError when the folder is unreadable. */
export async function loadCompareRun(dir: string, owns: (dir: string) => boolean): Promise<LoadedRun> {
  const view = await describeRun(dir, owns);
  const s = view.summary;
  const [metrics, opts, statKeys] = await Promise.all([readMetrics(s.dir), readRunOptions(s.dir), keyCache.keys(path.join(s.dir, RUN_FILES.stats))]);
  let options: Record<string, unknown> | null = null;
  let optionsError: string | undefined;
  if (opts.kind === 'gan-inspector') options = opts.file.options as unknown as Record<string, unknown>;
  else if (opts.kind === 'stylegan2-ada') options = opts.raw;
  else optionsError = opts.kind === 'missing' ? 'no training_options.json' : opts.error;
  return { summary: s, state: view.state, metrics, options, optionsError, view, series: metricSeries(metrics), statKeys };
}

/** Loads every run; unreadable ones are reported in `errors` and left out. */
export async function loadCompareRuns(dirs: string[], owns: (dir: string) => boolean): Promise<{ runs: LoadedRun[]; errors: string[] }> {
  const runs: LoadedRun[] = [];
  const errors: string[] = [];
  for (const d of dirs) {
    try {
      runs.push(await loadCompareRun(d, owns));
    } catch (e) {
      errors.push(`${path.basename(d)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  // Rows are keyed by folder name; the same name under two runs roots gets its parent folder prefixed.
  const count = new Map<string, number>();
  for (const r of runs) count.set(r.summary.name, (count.get(r.summary.name) ?? 0) + 1);
  for (const r of runs) {
    if (count.get(r.summary.name)! > 1) r.summary = { ...r.summary, name: `${path.basename(path.dirname(r.summary.dir))}/${r.summary.name}` };
  }
  return { runs, errors };
}

/** Table, option diff and scalar catalogue of loaded runs. */
export function compareFigures(runs: LoadedRun[]): { table: CompareTable; optionDiff: OptionDiff; scalars: CompareScalar[] } {
  return {
    table: buildCompareTable(runs),
    optionDiff: buildOptionDiff(runs.map((r) => ({ run: r.summary.name, options: r.options, error: r.optionsError, group: r.summary.origin }))),
    scalars: scalarCatalog(runs.map((r) => ({ origin: r.summary.origin, statKeys: r.statKeys, metricNames: r.series.map((m) => m.name) }))),
  };
}

const OFFICIAL_NOTE = 'Official StyleGAN2-ADA/GGDR run: whole grids are its own saved fakes*.png (latents drawn by the official code, so cell i is not seed i); ' +
  '"Same seeds, cell by cell" renders the seeds from its .pkl snapshot at or before that kimg (G_ema, ψ 1, seed = numpy RandomState seed, as generate.py).';
const OFFICIAL_NOTE_NO_PKL = 'Official StyleGAN2-ADA/GGDR run: these are its own saved fakes*.png grids (latents drawn by the official code, so cell i is not seed i); ' +
  'it has no loadable .pkl snapshot to render the same seeds from.';

/** kimg of an official run's loadable .pkl snapshots, oldest first. */
export function officialPickles(view: RunView): Array<{ kimg: number; path: string; name: string }> {
  return view.summary.snapshots
    .filter((x) => x.loadable && x.name.endsWith('.pkl'))
    .map((x) => ({ kimg: x.kimg, path: x.path, name: x.name }))
    .sort((a, b) => a.kimg - b.kimg);
}

/** The pickle rendered for `kimg` ('latest' or a number as text): the newest at or before it, else the oldest. */
export function pickleFor<T extends { kimg: number }>(pickles: T[], kimg: string): T | undefined {
  if (!pickles.length) return undefined;
  if (kimg === 'latest') return pickles[pickles.length - 1];
  const want = Number(kimg);
  let pick: T | undefined;
  for (const p of pickles) if (p.kimg <= want + 1e-9) pick = p;
  return pick ?? pickles[0];
}

/** Everything the panel's webview gets; `uriOf` turns an absolute file path into a URI the webview may load. */
export function compareInfo(runs: LoadedRun[], errors: string[], uriOf: (file: string) => string): CompareInfo {
  const infos: CompareRunInfo[] = runs.map((r) => {
    const s = r.summary;
    const ours = s.origin === 'gan-inspector';
    const opts = r.options as { model?: { resolution?: unknown } } | null;
    const res = ours && typeof opts?.model?.resolution === 'number' ? opts.model.resolution : s.resolution;
    const pickles = ours ? [] : officialPickles(r.view).map((p) => p.kimg);
    return {
      name: s.name,
      dir: s.dir,
      origin: s.origin,
      state: r.view.state,
      ggdr: s.ggdr,
      grids: fakesGrids(r.view).map((g) => ({ ...g, uri: uriOf(path.join(s.dir, g.file)) })),
      cellPx: typeof res === 'number' && res > 0 ? res : null,
      seedCells: ours,
      ...(ours ? {} : { pickles, note: pickles.length ? OFFICIAL_NOTE : OFFICIAL_NOTE_NO_PKL }),
      lastError: s.lastError ?? null,
    };
  });
  return { runs: infos, ...compareFigures(runs), errors };
}

/**
 * One run's points of a catalogue key: a stats key (mapped for official runs, see statKeyFor) read
 * with a filter, or "Metrics/<series>" from the metric lines. Rows without Progress/kimg are dropped.
 */
export async function readCompareSeries(run: LoadedRun, key: string): Promise<CompareSeries> {
  const name = run.summary.name;
  if (key.startsWith(METRIC_SCALAR_PREFIX)) {
    const s = run.series.find((m) => m.name === key.slice(METRIC_SCALAR_PREFIX.length));
    if (!s) return { run: name, sourceKey: null, kimg: [], value: [] };
    const pts = s.points.filter((p) => p.kimg !== null);
    return { run: name, sourceKey: `metric-${s.name.split('/')[0]}.jsonl`, kimg: pts.map((p) => p.kimg!), value: pts.map((p) => p.value) };
  }
  const statKey = statKeyFor(key, run.summary.origin);
  if (!run.statKeys.some((k) => catalogKeyOf(k, run.summary.origin) === key)) return { run: name, sourceKey: null, kimg: [], value: [] };
  const { lines } = await readStats(path.join(run.summary.dir, RUN_FILES.stats), { keep: (k) => k === statKey || k === 'Progress/kimg' });
  const kimg: number[] = [];
  const value: (number | null)[] = [];
  for (const l of lines) {
    const x = statMean(l, 'Progress/kimg');
    if (x === undefined || !Number.isFinite(x)) continue;
    const v = statMean(l, statKey);
    kimg.push(x);
    value.push(v !== undefined && Number.isFinite(v) ? v : null);
  }
  return { run: name, sourceKey: statKey, kimg, value };
}
