/**
 * JSON-lines helpers shared by the engine, the host and the webviews: line splitting with a
 * partial-line buffer, lenient parsing (Python's json.dumps writes bare NaN/Infinity, which
 * JSON.parse rejects) and shape guards for the run folder's record types. No fs, no DOM.
 */
import type { MetricLine, StatsLine, StatValue } from './runTypes';
import { isObj as isPlainObject } from './protocol/schema';

/** Result of feeding text to a JsonlDecoder. */
export interface JsonlBatch<T> {
  records: T[];
  /** Complete lines that were not valid JSON or failed the record guard (blank lines are not counted). */
  skipped: number;
}

/** Splits `pending + chunk` into complete lines and the unterminated rest (held for the next chunk). */
export function splitLines(pending: string, chunk: string): { lines: string[]; rest: string } {
  const text = pending + chunk;
  const last = text.lastIndexOf('\n');
  if (last < 0) return { lines: [], rest: text };
  const lines = text.slice(0, last).split('\n');
  for (let i = 0; i < lines.length; i++) {
    // CRLF files (edited on Windows) keep a trailing '\r' after the split.
    if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  }
  return { lines, rest: text.slice(last + 1) };
}

const NONFINITE_TAG = '__gan_inspector_nonfinite__:';
// Bare NaN / Infinity / -Infinity in a value position (after ':' '[' ','), as Python writes them.
const BARE_NONFINITE = /([:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g;

function reviveNonFinite(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(NONFINITE_TAG)) {
    const v = value.slice(NONFINITE_TAG.length);
    return v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity;
  }
  return value;
}

/** JSON.parse that also accepts Python's bare NaN/Infinity/-Infinity values; undefined on bad JSON. */
export function parseJsonLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Only retry when the line plausibly holds Python non-finite literals; keeps the common path fast.
    if (!/NaN|Infinity/.test(text)) return undefined;
    try {
      return JSON.parse(text.replace(BARE_NONFINITE, `$1"${NONFINITE_TAG}$2"`), reviveNonFinite);
    } catch {
      return undefined;
    }
  }
}

/** JSON.stringify that writes non-finite numbers as bare NaN/Infinity (Python's json.dumps style) instead of null. */
export function stringifyJsonLenient(value: unknown): string {
  let sawNonFinite = false;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      sawNonFinite = true;
      return NONFINITE_TAG + String(v);
    }
    return v;
  });
  if (!sawNonFinite) return text;
  return text.replace(new RegExp(`"${NONFINITE_TAG}(NaN|Infinity|-Infinity)"`, 'g'), '$1');
}

/** Record guard: returns the record (possibly cleaned) or undefined to skip the line. */
export type RecordGuard<T> = (value: unknown) => T | undefined;

/** Incremental JSONL decoder: feed text chunks; complete lines become records, a partial last line is held. */
export class JsonlDecoder<T> {
  private pending = '';

  constructor(private readonly guard: RecordGuard<T>) {}

  /** The unterminated text held since the last newline. */
  get partial(): string {
    return this.pending;
  }

  /** Decodes every line completed by `chunk`. */
  push(chunk: string): JsonlBatch<T> {
    const { lines, rest } = splitLines(this.pending, chunk);
    this.pending = rest;
    return this.decodeLines(lines);
  }

  /** End of input: the held partial line is decoded too (a truncated one counts as skipped). */
  end(): JsonlBatch<T> {
    const rest = this.pending;
    this.pending = '';
    return this.decodeLines(rest.length ? [rest] : []);
  }

  /** Forget any held partial line. */
  reset(): void {
    this.pending = '';
  }

  private decodeLines(lines: string[]): JsonlBatch<T> {
    const records: T[] = [];
    let skipped = 0;
    for (const line of lines) {
      if (!line.trim()) continue;
      const rec = this.guard(parseJsonLenient(line));
      if (rec === undefined) skipped++;
      else records.push(rec);
    }
    return { records, skipped };
  }
}

/** Decodes a whole JSONL text at once. */
export function decodeJsonl<T>(text: string, guard: RecordGuard<T>): JsonlBatch<T> {
  const dec = new JsonlDecoder(guard);
  const a = dec.push(text);
  const b = dec.end();
  return { records: a.records.concat(b.records), skipped: a.skipped + b.skipped };
}

/** True for `{num, mean, std}` with numeric fields (NaN allowed: a diverged loss is data, not garbage). */
export function isStatValue(v: unknown): v is StatValue {
  return isPlainObject(v) && typeof v.num === 'number' && typeof v.mean === 'number' && typeof v.std === 'number';
}

/** Guard for stats.jsonl lines: needs a numeric timestamp; keys whose value is neither a StatValue nor a number are dropped. */
export function asStatsLine(v: unknown): StatsLine | undefined {
  if (!isPlainObject(v) || typeof v.timestamp !== 'number' || !Number.isFinite(v.timestamp)) return undefined;
  const out: Record<string, StatValue | number> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'number' || isStatValue(val)) out[k] = val;
  }
  return out as StatsLine;
}

/** Guard for metric-<name>.jsonl lines (StyleGAN2-ADA's format); optional bookkeeping fields get defaults. */
export function asMetricLine(v: unknown): MetricLine | undefined {
  if (!isPlainObject(v) || !isPlainObject(v.results) || typeof v.metric !== 'string') return undefined;
  const results: Record<string, number> = {};
  for (const [k, val] of Object.entries(v.results)) {
    if (typeof val !== 'number') return undefined;
    results[k] = val;
  }
  if (typeof v.snapshot_pkl !== 'string' || typeof v.timestamp !== 'number') return undefined;
  return {
    results,
    metric: v.metric,
    total_time: typeof v.total_time === 'number' ? v.total_time : NaN,
    total_time_str: typeof v.total_time_str === 'string' ? v.total_time_str : '',
    num_gpus: typeof v.num_gpus === 'number' ? v.num_gpus : 1,
    snapshot_pkl: v.snapshot_pkl,
    timestamp: v.timestamp,
  };
}

/** Mean of a stats-line entry, or undefined when absent. */
export function statMean(line: StatsLine, name: string): number | undefined {
  const v = line[name];
  if (typeof v === 'number') return v;
  return isStatValue(v) ? v.mean : undefined;
}
