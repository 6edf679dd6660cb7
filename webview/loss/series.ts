/**
 * The loss panel's data model, free of DOM so it is unit-tested in Node: column store fed by StatsChunks,
 * TensorBoard-style debiased exponential smoothing (incremental), and grouping of stats names.
 */
import { statsChunkSchema, type MetricsChunk, type StatsChunk } from '../../src/shared/protocol/panels/loss';
import { validate } from '../../src/shared/protocol/schema';

/** State of an incremental debiased EMA. */
export interface EmaState {
  last: number;
  count: number;
}

/**
 * TensorBoard's smoothing: an EMA started at 0 and divided by (1 − w^n) so early points are not biased
 * toward 0. Non-finite/missing values pass through and do not advance the average. Writes out[from…].
 */
export function smoothInto(values: ArrayLike<number | null>, weight: number, out: (number | null)[], from: number, st: EmaState): void {
  // Once w^n is below half an ulp of 1 the divisor is exactly 1 (and stays so): skip Math.pow from then on.
  let biased = weight !== 0;
  for (let i = from; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    st.last = st.last * weight + (1 - weight) * v;
    st.count++;
    if (!biased) {
      out[i] = weight === 0 ? v : st.last;
      continue;
    }
    const d = 1 - Math.pow(weight, st.count);
    if (d === 1) biased = false;
    out[i] = st.last / d;
  }
}

/** Smooths a whole array (convenience for tests and one-off use). */
export function smooth(values: ArrayLike<number | null>, weight: number): (number | null)[] {
  const out: (number | null)[] = new Array(values.length);
  smoothInto(values, weight, out, 0, { last: 0, count: 0 });
  return out;
}

export interface GroupInfo {
  id: string;
  label: string;
  /** Sort key of the group on the page. */
  order: number;
}

const GROUPS: Array<{ id: string; label: string; test: (n: string) => boolean }> = [
  { id: 'loss-g', label: 'Loss/G', test: (n) => n.startsWith('Loss/G/') },
  // GGDR: our Loss/D/ggdr and the official Loss/D/loss_gen_reg.
  { id: 'ggdr', label: 'GGDR', test: (n) => (n.startsWith('Loss/') && /ggdr/i.test(n)) || n === 'Loss/D/loss_gen_reg' },
  { id: 'r1', label: 'R1', test: (n) => n === 'Loss/r1_penalty' || n === 'Loss/D/reg' || (n.startsWith('Loss/') && /r1/i.test(n)) },
  { id: 'loss-d', label: 'Loss/D', test: (n) => n.startsWith('Loss/D/') },
  { id: 'scores', label: 'Scores', test: (n) => n.startsWith('Loss/scores/') || n.startsWith('Loss/signs/') },
  { id: 'loss', label: 'Loss (other)', test: (n) => n.startsWith('Loss/') },
  // Mode coverage (classes covered, largest share, KL) on its own axis: counts and shares beside FID would be flat lines.
  { id: 'modes', label: 'Mode coverage', test: (n) => n.startsWith('Metrics/modes') },
  { id: 'metrics', label: 'Metrics', test: (n) => n.startsWith('Metrics/') },
  { id: 'progress', label: 'Progress', test: (n) => n.startsWith('Progress/') },
  { id: 'timing', label: 'Timing', test: (n) => n.startsWith('Timing/') },
  { id: 'resources', label: 'Resources', test: (n) => n.startsWith('Resources/') },
];

/** The chart a series belongs to: known groups first, else its first path segment. */
export function groupOf(name: string): GroupInfo {
  for (let i = 0; i < GROUPS.length; i++) if (GROUPS[i].test(name)) return { id: GROUPS[i].id, label: GROUPS[i].label, order: i };
  const seg = name.includes('/') ? name.slice(0, name.indexOf('/')) : 'Other';
  return { id: `other-${seg}`, label: seg, order: GROUPS.length };
}

/** One plotted column: raw values, and the smoothed copy kept up to date incrementally. */
export interface Column {
  name: string;
  raw: (number | null)[];
  smoothed: (number | null)[];
  ema: EmaState;
  /** Index of the last finite raw value, -1 if none. */
  lastIdx: number;
}

function newColumn(name: string, length: number): Column {
  return { name, raw: new Array<number | null>(length).fill(null), smoothed: new Array<number | null>(length).fill(null), ema: { last: 0, count: 0 }, lastIdx: -1 };
}

/** Rows of stats.jsonl held column-wise (uPlot's aligned-data layout). */
export class StatsStore {
  timestamp: number[] = [];
  kimg: (number | null)[] = [];
  /** stats.jsonl line index of each row (rows of a decimated history skip lines). */
  source: number[] = [];
  columns = new Map<string, Column>();
  skipped = 0;
  /** Incomplete last lines of stats.jsonl held back by the host, waiting for their newline (0 or 1). */
  incomplete = 0;
  /** Lines of stats.jsonl represented (≥ rows once a long history arrived decimated). */
  sourceRows = 0;
  /** Widest decimation bucket (stats.jsonl lines) received since the last reset; 0 = every line is here. */
  bucketRows = 0;
  /** Bumped on every reset; charts use it to rebuild. */
  generation = 0;

  constructor(private weight: number) {}

  get rows(): number {
    return this.timestamp.length;
  }

  /** True when stats.jsonl lines next to row i were left out by decimation (its neighbours are not adjacent lines). */
  decimatedAt(i: number): boolean {
    if (i < 0 || i >= this.rows || this.bucketRows === 0) return false;
    const s = this.source;
    return (i > 0 && s[i] - s[i - 1] > 1) || (i + 1 < s.length && s[i + 1] - s[i] > 1) || (i === 0 && s[0] > 0);
  }

  /** Index of the row whose x (in `xs`, non-decreasing) is nearest to `x`; -1 when empty. */
  static rowAtX(xs: ArrayLike<number>, x: number): number {
    let lo = 0;
    let hi = xs.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && Math.abs(xs[lo - 1] - x) < Math.abs(xs[lo] - x) ? lo - 1 : lo;
  }

  get smoothing(): number {
    return this.weight;
  }

  /** Appends a chunk; returns names of columns that appeared. Self-heals a chunk that does not start at the end. Throws on a malformed chunk. */
  apply(c: StatsChunk): string[] {
    const checked = validate(statsChunkSchema, c);
    if (!checked.ok) throw new Error(`malformed stats chunk from the host: ${checked.error}`);
    if (c.reset) this.clear();
    else if (c.start !== this.rows) this.truncate(Math.min(c.start, this.rows));
    const start = this.rows;
    const n = c.timestamp.length;
    const added: string[] = [];
    for (let i = 0; i < n; i++) {
      this.timestamp.push(c.timestamp[i]);
      this.kimg.push(c.kimg[i]);
      this.source.push(c.source ? c.source[i] : c.sourceRows - n + i);
    }
    this.sourceRows = c.sourceRows;
    if (c.bucketRows) this.bucketRows = Math.max(this.bucketRows, c.bucketRows);
    for (const [name, vals] of Object.entries(c.columns)) {
      let col = this.columns.get(name);
      if (!col) {
        col = newColumn(name, start);
        this.columns.set(name, col);
        added.push(name);
      }
      for (let i = 0; i < n; i++) {
        const v = vals[i] ?? null;
        col.raw.push(v);
        if (v !== null && Number.isFinite(v)) col.lastIdx = start + i;
      }
    }
    for (const col of this.columns.values()) {
      // Columns absent from this chunk get gaps so every array stays aligned with the rows.
      while (col.raw.length < this.rows) col.raw.push(null);
      // smoothInto appends after the `start` entries (growing .length first would copy the whole array per chunk).
      if (col.smoothed.length > start) col.smoothed.length = start;
      smoothInto(col.raw, this.weight, col.smoothed, start, col.ema);
    }
    this.skipped = c.skipped;
    this.incomplete = c.incomplete ?? 0;
    return added;
  }

  /** Changes the smoothing weight and recomputes every smoothed column. */
  setSmoothing(weight: number): void {
    this.weight = weight;
    for (const col of this.columns.values()) {
      col.ema = { last: 0, count: 0 };
      smoothInto(col.raw, weight, col.smoothed, 0, col.ema);
    }
  }

  /** Seconds since the first row (the wall-time x axis). */
  elapsed(): number[] {
    const t0 = this.timestamp[0] ?? 0;
    return this.timestamp.map((t) => t - t0);
  }

  /** The x value of row i (kimg falls back to the row index when a line has no Progress/kimg). */
  kimgAt(i: number): number | null {
    return this.kimg[i] ?? null;
  }

  clear(): void {
    this.timestamp = [];
    this.kimg = [];
    this.source = [];
    this.sourceRows = 0;
    this.bucketRows = 0;
    this.columns.clear();
    this.skipped = 0;
    this.incomplete = 0;
    this.generation++;
  }

  private truncate(rows: number): void {
    this.timestamp.length = rows;
    this.kimg.length = rows;
    this.source.length = rows; // sourceRows: apply() sets it from the chunk right after
    for (const col of this.columns.values()) {
      col.raw.length = rows;
      col.smoothed.length = rows;
      col.ema = { last: 0, count: 0 };
      smoothInto(col.raw, this.weight, col.smoothed, 0, col.ema);
      col.lastIdx = -1;
      for (let i = rows - 1; i >= 0; i--) if (col.raw[i] !== null) { col.lastIdx = i; break; }
    }
    this.generation++;
  }
}

/** Metric points by series name (one point per evaluated snapshot). */
export class MetricsStore {
  series = new Map<string, { kimg: (number | null)[]; timestamp: number[]; value: (number | null)[] }>();
  skipped = 0;
  generation = 0;

  apply(c: MetricsChunk): void {
    if (c.reset) {
      this.series.clear();
      this.generation++;
    }
    for (const s of c.series) {
      let cur = this.series.get(s.name);
      if (!cur) this.series.set(s.name, (cur = { kimg: [], timestamp: [], value: [] }));
      cur.kimg.push(...s.kimg);
      cur.timestamp.push(...s.timestamp);
      cur.value.push(...s.value);
    }
    this.skipped = c.skipped;
  }
}

/** Index of the last non-null value of `a` (-1 when none). */
export function lastValueIdx(a: ArrayLike<number | null | undefined>): number {
  let i = a.length - 1;
  while (i >= 0 && (a[i] === null || a[i] === undefined)) i--;
  return i;
}

/** Makes x values strictly usable by uPlot: nulls are filled from neighbours (uPlot needs numeric, ascending x). */
export function fillX(xs: (number | null)[], fallback: (i: number) => number): number[] {
  const out = new Array<number>(xs.length);
  let prev = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    let x = xs[i];
    if (x === null || !Number.isFinite(x)) x = Number.isFinite(prev) ? prev : fallback(i);
    // Keep x non-decreasing (a resumed run may repeat a kimg); uPlot assumes sorted x.
    if (x < prev) x = prev;
    out[i] = x;
    prev = x;
  }
  return out;
}

/** Formats a number for read-outs: compact but exact enough to compare with stats.jsonl. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(4);
  return Number(v.toPrecision(6)).toString();
}

/** Elapsed seconds as h:mm:ss (or m:ss). */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '—';
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
