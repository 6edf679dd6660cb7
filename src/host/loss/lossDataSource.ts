/**
 * Feeds a loss-curves panel: follows a run's stats.jsonl and metric-*.jsonl files with JsonlTailer and
 * turns only the new lines into column-wise chunks (see StatsChunk). stats.jsonl is streamed in 1 MB
 * reads straight into typed-array columns (StatsColumns), and what one poll sends is capped: a longer
 * backlog (opening a 1 GB file) is sent min/max-decimated, live rows after it exactly. No vscode imports.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { JsonlTailer } from '../../core/runs/jsonlTail';
import { METRIC_RE, RUN_FILES } from '../../core/runs/runDir';
import { asMetricLine } from '../../shared/jsonl';
import { modesResultKind } from '../../shared/modeCoverage';
import type { MetricsChunk, MetricSeriesChunk, StatsChunk } from '../../shared/protocol/panels/loss';
import type { MetricLine, StatsLine } from '../../shared/runTypes';
import { asStatsRecord, DEFAULT_HISTORY_CAP, StatsColumns } from './statsColumns';

const SNAPSHOT_KIMG_RE = /network-snapshot-(\d+)/;

export { DEFAULT_HISTORY_CAP } from './statsColumns';

export interface LossDataSourceOptions {
  /** Most rows one poll sends (default 50 000): a longer backlog is min/max-decimated to fit. */
  historyCap?: number;
  /** Read size of the streamed stats.jsonl reads (default 1 MB: JsonlTailer.BATCH_BYTES). */
  chunkBytes?: number;
}

const finiteOrNull = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** Splits stats lines into column-wise chunks of at most `maxRows` rows, starting at row `start` (no decimation). */
export function statsToChunks(lines: StatsLine[], start: number, reset: boolean, skipped: number, maxRows = 5000): StatsChunk[] {
  const cols = new StatsColumns(Math.max(16, lines.length), start);
  for (const l of lines) cols.add(l);
  return cols.toChunks(start, reset, skipped, maxRows);
}

/**
 * Metric lines → one series per result key ("fid50k_full", or "<metric>/<key>" when they differ). A modes
 * metric's per-class shares (its histograms: the checkpoint viewer draws them) are not curves.
 */
export function metricsToSeries(lines: MetricLine[]): MetricSeriesChunk[] {
  const byName = new Map<string, MetricSeriesChunk>();
  for (const l of lines) {
    const m = SNAPSHOT_KIMG_RE.exec(l.snapshot_pkl);
    const kimg = m ? Number(m[1]) : null;
    for (const [key, value] of Object.entries(l.results)) {
      const kind = modesResultKind(key);
      if (kind === 'class' || kind === 'ref') continue;
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
  /** Sent in order, then `metrics`; each chunk but the poll's last message has `more: true`. */
  stats: StatsChunk[];
  /** null when nothing changed in the metric files. */
  metrics: MetricsChunk | null;
}

/** Incremental reader of one run's scalar files. poll() calls are serialised. */
export class LossDataSource {
  private stats!: JsonlTailer<Record<string, unknown>>;
  private metricTailers = new Map<string, JsonlTailer<MetricLine>>();
  /** Rows sent since the last reset (the webview's row count). */
  private rows = 0;
  /** stats.jsonl lines represented by them (more than `rows` once a backlog was decimated). */
  private sourceRows = 0;
  private statsSkipped = 0;
  /** 1 while a held incomplete last line has been counted as skipped (it stayed unchanged across a poll). */
  private staleSkipped = 0;
  /** What the webview was last told: skipped lines and incomplete last lines. */
  private sentSkipped = 0;
  private sentIncomplete = 0;
  private metricSkipped = new Map<string, number>();
  private needReset = true;
  private chain: Promise<unknown> = Promise.resolve();
  /** stats.jsonl bytes read from disk by the tailers replaced so far (restart()). */
  private diskBytesBefore = 0;
  private readonly historyCap: number;
  private readonly chunkBytes: number | undefined;

  constructor(readonly runDir: string, private readonly maxRows = 5000, opts: LossDataSourceOptions = {}) {
    this.historyCap = Math.max(16, Math.floor(opts.historyCap ?? DEFAULT_HISTORY_CAP));
    this.chunkBytes = opts.chunkBytes;
    this.doRestart();
  }

  /** Rows delivered since the last reset. */
  get rowCount(): number {
    return this.rows;
  }

  /** stats.jsonl lines read since the last reset (delivered exactly or through decimation). */
  get sourceRowCount(): number {
    return this.sourceRows;
  }

  /** Bytes of stats.jsonl consumed so far (grows only by what was appended). */
  get statsBytesRead(): number {
    return this.stats.position;
  }

  /** Bytes of stats.jsonl actually read from disk since construction, re-reads included (tests: polls read only what is new). */
  get statsDiskBytesRead(): number {
    return this.diskBytesBefore + this.stats.bytesRead;
  }

  /** Forget everything: the next poll starts from byte 0 and its first chunks have reset: true (queued behind a running poll). */
  restart(): void {
    this.chain = this.chain.catch(() => undefined).then(() => this.doRestart());
  }

  private doRestart(): void {
    this.diskBytesBefore += (this.stats as JsonlTailer<Record<string, unknown>> | undefined)?.bytesRead ?? 0;
    this.stats = new JsonlTailer<Record<string, unknown>>(path.join(this.runDir, RUN_FILES.stats), asStatsRecord);
    this.metricTailers.clear();
    this.metricSkipped.clear();
    this.rows = 0;
    this.sourceRows = 0;
    this.statsSkipped = 0;
    this.staleSkipped = 0;
    this.sentSkipped = 0;
    this.sentIncomplete = 0;
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
    // New lines go straight into typed-array columns, decimated past the cap: memory stays O(cap), not O(file).
    let cols = new StatsColumns(this.historyCap, this.sourceRows);
    let fileReset = false;
    const before = this.stats.position;
    const hadPartial = this.stats.hasPartialLine;
    const s = await this.stats.pollBatches((b) => {
      if (b.reset) {
        fileReset = true;
        cols = new StatsColumns(this.historyCap, 0);
      }
      for (const r of b.records) cols.add(r);
    }, { chunkBytes: this.chunkBytes });
    const statsReset = reset || fileReset;
    if (fileReset) {
      this.rows = 0;
      this.sourceRows = 0;
      this.statsSkipped = 0;
    }
    this.statsSkipped += s.skipped;
    // A held incomplete last line: waiting for its newline, unless it was already held by the previous poll
    // and no byte arrived since (a torn line: the writer died mid-line). Then it counts as skipped, until
    // bytes arrive after all (the decoder then counts or delivers the line itself).
    const partial = this.stats.hasPartialLine;
    const grew = fileReset || this.stats.position !== before;
    if (!partial || grew) this.staleSkipped = 0;
    else if (hadPartial) this.staleSkipped = 1;
    const skipped = this.statsSkipped + this.staleSkipped;
    const incomplete = partial && !this.staleSkipped ? 1 : 0;
    let stats: StatsChunk[] = [];
    if (statsReset || cols.sourceRows || skipped !== this.sentSkipped || incomplete !== this.sentIncomplete) {
      stats = cols.toChunks(this.rows, statsReset, skipped, this.maxRows);
      // No rows, only counts changed: one empty chunk carries them.
      if (!stats.length) stats = [{ reset: false, start: this.rows, timestamp: [], kimg: [], columns: {}, skipped, sourceRows: this.sourceRows }];
      this.rows += cols.rows;
      this.sourceRows += cols.sourceRows;
      for (const c of stats) if (incomplete) c.incomplete = incomplete;
      this.sentSkipped = skipped;
      this.sentIncomplete = incomplete;
    }
    const metrics = await this.pollMetrics(reset);
    // Every message of this poll but the last says so: the webview draws once, after the whole backlog.
    const last = metrics ? stats.length : stats.length - 1;
    for (let i = 0; i < last; i++) stats[i].more = true;
    return { stats, metrics };
  }

  private async pollMetrics(reset: boolean): Promise<MetricsChunk | null> {
    let names: string[];
    try {
      names = (await fsp.readdir(this.runDir)).filter((n) => METRIC_RE.test(n)).sort();
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
