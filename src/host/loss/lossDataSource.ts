/**
 * Feeds a loss-curves panel: follows a run's stats.jsonl and metric-*.jsonl files with JsonlTailer and
 * turns only the new lines into column-wise chunks (see StatsChunk). No vscode imports.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { JsonlTailer } from '../../core/runs/readers';
import { asMetricLine, asStatsLine, statMean } from '../../shared/jsonl';
import type { MetricsChunk, MetricSeriesChunk, StatsChunk } from '../../shared/protocol/panels';
import type { MetricLine, StatsLine } from '../../shared/runTypes';

const METRIC_FILE_RE = /^metric-(.+)\.jsonl$/;
const SNAPSHOT_KIMG_RE = /network-snapshot-(\d+)/;

const finiteOrNull = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** Splits stats lines into column-wise chunks of at most `maxRows` rows, starting at row `start`. */
export function statsToChunks(lines: StatsLine[], start: number, reset: boolean, skipped: number, maxRows = 5000): StatsChunk[] {
  const chunks: StatsChunk[] = [];
  for (let off = 0; off < lines.length || (reset && chunks.length === 0); off += maxRows) {
    const part = lines.slice(off, off + maxRows);
    const n = part.length;
    const columns: Record<string, (number | null)[]> = {};
    const timestamp = new Array<number>(n);
    const kimg = new Array<number | null>(n);
    for (let i = 0; i < n; i++) {
      const line = part[i];
      timestamp[i] = line.timestamp;
      kimg[i] = finiteOrNull(statMean(line, 'Progress/kimg'));
      for (const key in line) {
        if (key === 'timestamp') continue;
        let col = columns[key];
        if (!col) col = columns[key] = new Array<number | null>(n).fill(null);
        col[i] = finiteOrNull(statMean(line, key));
      }
    }
    chunks.push({ reset: reset && off === 0, start: start + off, timestamp, kimg, columns, skipped });
    if (n === 0) break;
  }
  return chunks;
}

/** Metric lines → one series per result key ("fid50k_full", or "<metric>/<key>" when they differ). */
export function metricsToSeries(lines: MetricLine[]): MetricSeriesChunk[] {
  const byName = new Map<string, MetricSeriesChunk>();
  for (const l of lines) {
    const m = SNAPSHOT_KIMG_RE.exec(l.snapshot_pkl);
    const kimg = m ? Number(m[1]) : null;
    for (const [key, value] of Object.entries(l.results)) {
      const name = key === l.metric ? key : `${l.metric}/${key}`;
      let s = byName.get(name);
      if (!s) byName.set(name, (s = { name, kimg: [], timestamp: [], value: [] }));
      s.kimg.push(kimg);
      s.timestamp.push(l.timestamp);
      s.value.push(finiteOrNull(value));
    }
  }
  return [...byName.values()];
}

export interface LossUpdate {
  stats: StatsChunk[];
  /** null when nothing changed in the metric files. */
  metrics: MetricsChunk | null;
}

/** Incremental reader of one run's scalar files. poll() calls are serialised. */
export class LossDataSource {
  private stats!: JsonlTailer<StatsLine>;
  private metricTailers = new Map<string, JsonlTailer<MetricLine>>();
  private rows = 0;
  private statsSkipped = 0;
  private metricSkipped = new Map<string, number>();
  private needReset = true;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly runDir: string, private readonly maxRows = 5000) {
    this.doRestart();
  }

  /** Rows delivered since the last reset. */
  get rowCount(): number {
    return this.rows;
  }

  /** Bytes of stats.jsonl consumed so far (grows only by what was appended). */
  get statsBytesRead(): number {
    return this.stats.position;
  }

  /** Forget everything: the next poll starts from byte 0 and its first chunks have reset: true (queued behind a running poll). */
  restart(): void {
    this.chain = this.chain.catch(() => undefined).then(() => this.doRestart());
  }

  private doRestart(): void {
    this.stats = new JsonlTailer<StatsLine>(path.join(this.runDir, 'stats.jsonl'), asStatsLine);
    this.metricTailers.clear();
    this.metricSkipped.clear();
    this.rows = 0;
    this.statsSkipped = 0;
    this.needReset = true;
  }

  /** Reads what was appended since the last poll. */
  poll(): Promise<LossUpdate> {
    const run = this.chain.catch(() => undefined).then(() => this.pollOnce());
    this.chain = run;
    return run;
  }

  private async pollOnce(): Promise<LossUpdate> {
    const reset = this.needReset;
    this.needReset = false;
    const s = await this.stats.poll();
    const statsReset = reset || s.reset;
    if (s.reset) {
      this.rows = 0;
      this.statsSkipped = 0;
    }
    this.statsSkipped += s.skipped;
    let stats: StatsChunk[] = [];
    if (statsReset || s.records.length || s.skipped) {
      stats = statsToChunks(s.records, this.rows, statsReset, this.statsSkipped, this.maxRows);
      this.rows += s.records.length;
    }
    const metrics = await this.pollMetrics(reset);
    return { stats, metrics };
  }

  private async pollMetrics(reset: boolean): Promise<MetricsChunk | null> {
    let names: string[];
    try {
      names = (await fsp.readdir(this.runDir)).filter((n) => METRIC_FILE_RE.test(n)).sort();
    } catch {
      names = [];
    }
    let anyReset = reset;
    let newSkipped = 0;
    const lines: MetricLine[] = [];
    for (const n of names) {
      let t = this.metricTailers.get(n);
      if (!t) this.metricTailers.set(n, (t = new JsonlTailer<MetricLine>(path.join(this.runDir, n), asMetricLine)));
      const r = await t.poll();
      // A rewritten metric file invalidates every metric series we sent: resend all of them.
      if (r.reset) anyReset = true;
      this.metricSkipped.set(n, (r.reset ? 0 : this.metricSkipped.get(n) ?? 0) + r.skipped);
      newSkipped += r.skipped;
      for (const rec of r.records) lines.push(rec);
    }
    for (const n of [...this.metricTailers.keys()]) {
      if (!names.includes(n)) {
        this.metricTailers.delete(n);
        this.metricSkipped.delete(n);
        anyReset = true;
      }
    }
    if (anyReset && !reset) {
      // Re-read every metric file from the start (they are one line per snapshot: small).
      this.metricTailers.clear();
      this.metricSkipped.clear();
      return this.pollMetrics(true);
    }
    const skipped = [...this.metricSkipped.values()].reduce((a, b) => a + b, 0);
    if (!reset && lines.length === 0 && newSkipped === 0) return null;
    lines.sort((a, b) => a.timestamp - b.timestamp);
    return { reset, series: metricsToSeries(lines), skipped };
  }
}
