/**
 * The run comparison, as pure functions: metric series and their final/best points, the runs × key
 * figures table, the option diff across N runs, the scalar catalogue (with the official GGDR term mapped
 * onto ours) and CSV / Markdown export. Input is what the readers return; no fs here.
 */
import type { MetricLine, RunSummary } from '../../shared/runTypes';
import type { CompareCellValue, CompareColumn, CompareScalar, CompareTable, OptionDiff, OptionDiffRow } from '../../shared/protocol/panels/compare';
import { flattenOptions } from './optionDiff';
import { higherIsBetter, modesResultKind } from '../../shared/modeCoverage';

/** Our GGDR stats key, and the key under which the official GGDR code logs the same term. */
export const GGDR_STAT_KEY = 'Loss/D/ggdr';
export const OFFICIAL_GGDR_STAT_KEY = 'Loss/D/loss_gen_reg';
/** Prefix of metric series in the scalar catalogue. */
export const METRIC_SCALAR_PREFIX = 'Metrics/';

/** Snapshot name → kimg: "network-snapshot-000012.pkl" → 12, ours "network-snapshot-000000.048" → 0.048. */
export function snapshotKimg(snapshot: string): number | null {
  const m = /network-snapshot-(\d+(?:\.\d+)?)(?:\.pkl)?$/.exec(snapshot.replace(/[\\/]+$/, ''));
  return m ? Number(m[1]) : null;
}

/** One metric result over training: one point per evaluated snapshot, sorted by kimg then time. */
export interface MetricSeries {
  /** Result key ("fid2k_lenet"), or "<metric>/<key>" when a metric reports several results. */
  name: string;
  points: Array<{ kimg: number | null; value: number; timestamp: number }>;
}

/** Metric lines (from every metric-*.jsonl of a run) → one series per result key; non-finite values are dropped. */
export function metricSeries(metrics: Record<string, MetricLine[]>): MetricSeries[] {
  const byName = new Map<string, MetricSeries>();
  for (const lines of Object.values(metrics)) {
    for (const l of lines) {
      const kimg = snapshotKimg(l.snapshot_pkl);
      for (const [key, value] of Object.entries(l.results)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        const name = key === l.metric ? key : `${l.metric}/${key}`;
        let s = byName.get(name);
        if (!s) byName.set(name, (s = { name, points: [] }));
        s.points.push({ kimg, value, timestamp: l.timestamp });
      }
    }
  }
  const order = (k: number | null) => (k === null ? -Infinity : k);
  for (const s of byName.values()) s.points.sort((a, b) => order(a.kimg) - order(b.kimg) || a.timestamp - b.timestamp);
  return [...byName.values()].sort((a, b) => metricOrder(a.name) - metricOrder(b.name) || a.name.localeCompare(b.name));
}

function metricOrder(name: string): number {
  return name.startsWith('fid') ? 0 : name.startsWith('kid') ? 1 : 2;
}

export { higherIsBetter };

export interface MetricFigures {
  final: { value: number; kimg: number | null } | null;
  best: { value: number; kimg: number | null } | null;
  count: number;
}

/** Final (latest kimg, then latest time) and best (earliest among equals) point of a series. */
export function metricFigures(s: MetricSeries | undefined): MetricFigures {
  if (!s || !s.points.length) return { final: null, best: null, count: 0 };
  const last = s.points[s.points.length - 1];
  const up = higherIsBetter(s.name);
  let best = s.points[0];
  for (const p of s.points) if (up ? p.value > best.value : p.value < best.value) best = p;
  return { final: { value: last.value, kimg: last.kimg }, best: { value: best.value, kimg: best.kimg }, count: s.points.length };
}

/** Everything the table needs about one run. */
export interface CompareRunData {
  summary: RunSummary;
  /** Display state (e.g. 'interrupted'); defaults to summary.state. */
  state?: string;
  /** metric-<name>.jsonl lines by <name>. */
  metrics: Record<string, MetricLine[]>;
  /** Resolved options (ours: the `options` object; official: the whole training_options.json); null when unreadable. */
  options: Record<string, unknown> | null;
  /** Why options is null. */
  optionsError?: string;
}

const BASE_COLUMNS: CompareColumn[] = [
  { id: 'run', label: 'Run', kind: 'text' },
  { id: 'origin', label: 'Trainer', kind: 'text', title: 'gan-inspector or the official StyleGAN2-ADA/GGDR code' },
  { id: 'state', label: 'State', kind: 'text' },
  { id: 'ggdr', label: 'GGDR', kind: 'text', title: 'on / off (baseline)' },
  { id: 'dataset', label: 'Dataset', kind: 'text' },
  { id: 'preset', label: 'Preset', kind: 'text' },
  { id: 'backend', label: 'Backend', kind: 'text' },
  { id: 'seed', label: 'Seed', kind: 'number', format: 'int' },
  { id: 'kimg', label: 'kimg', kind: 'number', format: 'kimg', title: 'kimg reached' },
  { id: 'total_kimg', label: 'Total kimg', kind: 'number', format: 'kimg' },
  { id: 'sec_per_kimg', label: 'sec/kimg', kind: 'number', format: 'sec', title: 'Seconds per kimg over the last tick' },
];

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/**
 * The key figures of a mode-coverage metric: classes covered (the metric's own key) and the largest class
 * share; its KL and per-class shares stay in the curves and the viewer. undefined for other series.
 */
function modesFigure(series: string): { group: string; what: string; figures: Array<'final' | 'final_kimg' | 'best' | 'best_kimg'> } | null | undefined {
  const key = series.slice(series.lastIndexOf('/') + 1);
  const metric = series.includes('/') ? series.slice(0, series.indexOf('/')) : series;
  switch (modesResultKind(key)) {
    case undefined: return undefined;
    case 'covered': return { group: `${metric} classes covered`, what: 'classes covered (≥ 1% of the samples)', figures: ['final', 'final_kimg', 'best', 'best_kimg'] };
    case 'maxShare': return { group: `${metric} max share`, what: 'largest class share of the samples (0.1 = even over 10 classes)', figures: ['final', 'best'] };
    default: return null; // KL and the class histograms: not key figures
  }
}

/**
 * The runs × key-figures table: base columns, then final/best (+ kimg) of every metric series any run
 * has; of a mode-coverage metric, classes covered and the largest class share (modesFigure).
 */
export function buildCompareTable(runs: CompareRunData[]): CompareTable {
  const series = runs.map((r) => metricSeries(r.metrics));
  const names = [...new Set(series.flatMap((ss) => ss.map((s) => s.name)))]
    .filter((n) => modesFigure(n) !== null)
    .sort((a, b) => metricOrder(a) - metricOrder(b) || a.localeCompare(b));
  const columns = [...BASE_COLUMNS];
  for (const n of names) {
    const dir = higherIsBetter(n) ? 'highest' : 'lowest';
    const modes = modesFigure(n);
    if (modes) {
      const g = modes.group;
      const col: Record<string, CompareColumn> = {
        final: { id: `${n}.final`, label: `${g} final`, short: 'final', kind: 'number', format: 'metric', metric: g, title: `${modes.what} at the last evaluated snapshot` },
        final_kimg: { id: `${n}.final_kimg`, label: `${g} final @kimg`, short: '@kimg', kind: 'number', format: 'kimg', metric: g, title: `kimg of the last ${n} evaluation` },
        best: { id: `${n}.best`, label: `${g} best`, short: 'best', kind: 'number', format: 'metric', metric: g, title: `${dir} ${modes.what} over all evaluations` },
        best_kimg: { id: `${n}.best_kimg`, label: `${g} best @kimg`, short: '@kimg', kind: 'number', format: 'kimg', metric: g, title: `kimg where the best ${g} was reached` },
      };
      columns.push(...modes.figures.map((f) => col[f]));
      continue;
    }
    columns.push(
      { id: `${n}.final`, label: `${n} final`, short: 'final', kind: 'number', format: 'metric', metric: n, title: `${n} at the last evaluated snapshot` },
      { id: `${n}.final_kimg`, label: `${n} final @kimg`, short: '@kimg', kind: 'number', format: 'kimg', metric: n, title: `kimg of the last ${n} evaluation` },
      { id: `${n}.best`, label: `${n} best`, short: 'best', kind: 'number', format: 'metric', metric: n, title: `${dir} ${n} over all evaluations` },
      { id: `${n}.best_kimg`, label: `${n} best @kimg`, short: '@kimg', kind: 'number', format: 'kimg', metric: n, title: `kimg where the best ${n} was reached` },
    );
  }
  const rows = runs.map((r, i) => {
    const s = r.summary;
    const cells: Record<string, CompareCellValue> = {
      run: s.name,
      origin: s.origin,
      state: r.state ?? s.state,
      ggdr: s.ggdr === undefined ? null : s.ggdr ? 'on' : 'off',
      dataset: s.dataset ?? null,
      preset: s.preset ?? null,
      backend: s.backend ?? null,
      seed: finite(s.seed),
      kimg: finite(s.curKimg),
      total_kimg: finite(s.totalKimg),
      sec_per_kimg: finite(s.secPerKimg),
    };
    for (const n of names) {
      const f = metricFigures(series[i].find((x) => x.name === n));
      const figures = modesFigure(n)?.figures;
      const set = (fig: 'final' | 'final_kimg' | 'best' | 'best_kimg', v: number | null) => { if (!figures || figures.includes(fig)) cells[`${n}.${fig}`] = v; };
      set('final', f.final?.value ?? null);
      set('final_kimg', f.final?.kimg ?? null);
      set('best', f.best?.value ?? null);
      set('best_kimg', f.best?.kimg ?? null);
    }
    return { run: s.name, cells };
  });
  return { columns, rows };
}

/** Display text of a cell (table, Markdown); '—' for missing. */
export function formatCell(col: CompareColumn, v: CompareCellValue): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  switch (col.format) {
    case 'int': return String(Math.round(v));
    case 'kimg': return String(Number(v.toFixed(3)));
    case 'sec': return v.toFixed(1);
    case 'metric': {
      const a = Math.abs(v);
      return a !== 0 && (a < 1e-4 || a >= 1e7) ? v.toExponential(4) : String(Number(v.toPrecision(5)));
    }
    default: return String(v);
  }
}

//#region option diff

/** Canonical text of an option value (object keys sorted; non-finite numbers by name). */
export function optionText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '—';
  const canon = (x: unknown): unknown => {
    if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
    if (Array.isArray(x)) return x.map(canon);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, canon((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(canon(v));
}

/**
 * Dot paths whose values are not the same in every run that has options (a path missing in some run
 * counts as different), sorted. Runs without options are listed in `missing` and left out. With
 * `group` (the trainer: our and the official option files share almost no keys), a key is compared only
 * among the runs of the groups that use it; the other runs show it as not applicable.
 */
export function buildOptionDiff(runs: Array<{ run: string; options: Record<string, unknown> | null; error?: string; group?: string }>): OptionDiff {
  const have = runs.filter((r) => r.options !== null);
  const missing = runs.filter((r) => r.options === null).map((r) => ({ run: r.run, reason: r.error ?? 'no training_options.json' }));
  const flat = have.map((r) => flattenOptions(r.options));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const has = (i: number, key: string) => Object.prototype.hasOwnProperty.call(flat[i], key);
  const rows: OptionDiffRow[] = [];
  for (const key of keys) {
    const groups = new Set(have.filter((r, i) => has(i, key)).map((r) => r.group));
    const values = have.map((r, i) => {
      if (!groups.has(r.group)) return { run: r.run, present: false, text: 'n/a', na: true as const };
      const present = has(i, key);
      return { run: r.run, present, text: present ? optionText(flat[i][key]) : '—' };
    });
    const relevant = values.filter((v) => !('na' in v));
    const same = relevant.every((v) => v.present) && relevant.every((v) => v.text === relevant[0].text);
    if (!same) rows.push({ key, values });
  }
  return { runs: have.map((r) => r.run), missing, rows, totalKeys: keys.length };
}

//#endregion

//#region scalars

/** The stats key to read in a run of this origin for a catalogue key (official runs log the GGDR term as Loss/D/loss_gen_reg). */
export function statKeyFor(key: string, origin: RunSummary['origin']): string {
  return origin === 'stylegan2-ada' && key === GGDR_STAT_KEY ? OFFICIAL_GGDR_STAT_KEY : key;
}

/** The catalogue key of a stats key found in a run of this origin (inverse of statKeyFor). */
export function catalogKeyOf(statKey: string, origin: RunSummary['origin']): string {
  return origin === 'stylegan2-ada' && statKey === OFFICIAL_GGDR_STAT_KEY ? GGDR_STAT_KEY : statKey;
}

function scalarOrder(key: string): number {
  if (key.startsWith(METRIC_SCALAR_PREFIX)) return 0;
  if (key === 'Loss/G/loss') return 1;
  if (key === GGDR_STAT_KEY) return 2;
  if (key.startsWith('Loss/')) return 3;
  if (key.startsWith('Progress/')) return 5;
  if (key.startsWith('Timing/')) return 6;
  if (key.startsWith('Resources/')) return 7;
  return 4;
}

function isHistogramKey(series: string): boolean {
  const kind = modesResultKind(series.slice(series.lastIndexOf('/') + 1));
  return kind === 'class' || kind === 'ref';
}

/** Dropdown entries: the union of every run's stats keys (official GGDR term folded into ours) and metric series (not a modes metric's class shares). */
export function scalarCatalog(runs: Array<{ origin: RunSummary['origin']; statKeys: string[]; metricNames: string[] }>): CompareScalar[] {
  const count = new Map<string, number>();
  const official = new Set<string>();
  for (const r of runs) {
    const keys = new Set<string>();
    for (const k of r.statKeys) {
      if (k === 'timestamp') continue;
      const c = catalogKeyOf(k, r.origin);
      keys.add(c);
      if (c !== k) official.add(c);
    }
    // A modes metric's per-class shares are its histograms (the viewer draws them), not twenty curves to pick from.
    for (const m of r.metricNames) if (!isHistogramKey(m)) keys.add(METRIC_SCALAR_PREFIX + m);
    for (const k of keys) count.set(k, (count.get(k) ?? 0) + 1);
  }
  return [...count.entries()]
    .map(([key, n]) => ({
      key,
      runs: n,
      label: key === GGDR_STAT_KEY ? `${key} — GGDR term${official.has(key) ? ` (official runs: ${OFFICIAL_GGDR_STAT_KEY})` : ''}` : key,
    }))
    .sort((a, b) => scalarOrder(a.key) - scalarOrder(b.key) || a.key.localeCompare(b.key));
}

/** The scalar shown first: a FID series if any, else G's loss, else the first entry. */
export function defaultScalar(scalars: CompareScalar[]): string | undefined {
  const all = (k: CompareScalar) => k.runs === Math.max(...scalars.map((s) => s.runs));
  return (
    scalars.find((s) => s.key.startsWith(`${METRIC_SCALAR_PREFIX}fid`) && all(s))?.key ??
    scalars.find((s) => s.key === 'Loss/G/loss')?.key ??
    scalars[0]?.key
  );
}

//#endregion

//#region export

/** RFC 4180 field: quoted when it holds a comma, quote, CR/LF or edge spaces; text that a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvField(v: CompareCellValue): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'number' ? String(v) : v;
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The table as CSV: a header of column ids, then one line per run; full-precision numbers, empty for missing; CRLF line ends. */
export function tableToCsv(t: CompareTable): string {
  const lines = [t.columns.map((c) => csvField(c.id)).join(',')];
  for (const r of t.rows) lines.push(t.columns.map((c) => csvField(r.cells[c.id] ?? null)).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Escapes text for a Markdown table cell: pipes, backslashes, emphasis/code/link/HTML characters, newlines. */
export function markdownCell(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/[|`*[\]<>]/g, (c) => `\\${c}`)
    // Intraword '_' never starts emphasis in CommonMark; escape only the others.
    .replace(/_/g, (c, i: number, all: string) => (/[A-Za-z0-9]/.test(all[i - 1] ?? '') && /[A-Za-z0-9]/.test(all[i + 1] ?? '') ? c : `\\${c}`))
    .replace(/\r\n|\r|\n/g, '<br>');
}

function mdTable(header: string[], align: Array<'l' | 'r'>, rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

/** The table as GitHub-flavoured Markdown (numbers formatted as in the panel); the option diff follows when given. */
export function tableToMarkdown(t: CompareTable, opts: { title?: string; optionDiff?: OptionDiff } = {}): string {
  const out: string[] = [];
  if (opts.title) out.push(`# ${markdownCell(opts.title)}`, '');
  const header = t.columns.map((c) => markdownCell(c.label));
  out.push(...mdTable(header, t.columns.map((c) => (c.kind === 'number' ? 'r' : 'l')), t.rows.map((r) => t.columns.map((c) => markdownCell(formatCell(c, r.cells[c.id] ?? null))))));
  const d = opts.optionDiff;
  if (d) {
    out.push('', `## Options that differ (${d.rows.length} of ${d.totalKeys})`, '');
    if (d.rows.length) {
      out.push(...mdTable(['Option', ...d.runs.map(markdownCell)], ['l', ...d.runs.map(() => 'l' as const)], d.rows.map((r) => [markdownCell(r.key), ...r.values.map((v) => markdownCell(v.text))])));
    } else {
      out.push(d.runs.length > 1 ? 'No compared option differs.' : 'Fewer than two runs have options to compare.');
    }
    for (const m of d.missing) out.push('', `${markdownCell(m.run)}: options not compared (${markdownCell(m.reason)}).`);
  }
  return out.join('\n') + '\n';
}

//#endregion
