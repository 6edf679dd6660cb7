/**
 * Compact column store of stats.jsonl rows for the loss panel, with min/max decimation: once it holds
 * more than `cap` rows it keeps, per bucket of `bucketRows` consecutive stats.jsonl rows, only the rows
 * that hold some series' minimum or maximum within that bucket (plus the first row, the last row, and
 * each series' last finite row), doubling the bucket width until it is back under ¾·cap. Every kept row
 * is an exact stats line (all its values), so spikes stay visible and read-outs stay exact; memory is
 * O(cap × series), whatever the file size. No vscode, no fs.
 */
import type { StatsChunk } from '../../shared/protocol/panels/loss';
import { isStatValue } from '../../shared/jsonl';
import { isObj } from '../../shared/protocol/schema';

/** Largest row count the loss panel is sent for one stats.jsonl history before it is decimated. */
export const DEFAULT_HISTORY_CAP = 50_000;

/** Scalar of a stats-line entry: a number, a StatValue's mean, or undefined (not a scalar: not a column). */
function scalarOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  return isStatValue(v) ? v.mean : undefined;
}

/** Rows appended in order; see the file comment. */
export class StatsColumns {
  private capacity: number;
  private n = 0;
  /** stats.jsonl row index of each kept row (0-based, counted since the buffer was made). */
  private src: Float64Array;
  private ts: Float64Array;
  private kimgCol: Float64Array;
  private cols: Float64Array[] = [];
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  /** Source row where each column was first seen (a chunk before it does not carry the column). */
  private readonly firstSeen: number[] = [];
  /** Column of Progress/kimg (-1 until seen): also copied into kimgCol, the x axis. */
  private kimgIdx = -1;
  private total = 0;
  private width = 1;
  private dropped = false;
  private limit: number;

  /** @param cap most rows kept (≥ 16); @param base stats.jsonl index of the first row added. */
  constructor(readonly cap = DEFAULT_HISTORY_CAP, private readonly base = 0) {
    if (!(cap >= 16)) throw new RangeError(`StatsColumns cap must be ≥ 16 (got ${cap})`);
    this.limit = cap;
    this.capacity = Math.min(1024, cap + 1);
    this.src = new Float64Array(this.capacity);
    this.ts = new Float64Array(this.capacity);
    this.kimgCol = new Float64Array(this.capacity);
  }

  /** Rows kept. */
  get rows(): number {
    return this.n;
  }

  /** Rows added (stats.jsonl rows represented, kept or not). */
  get sourceRows(): number {
    return this.total;
  }

  /** Bucket width in stats.jsonl rows once rows were left out; 0 while every row is kept. */
  get bucketRows(): number {
    return this.dropped ? this.width : 0;
  }

  /**
   * Appends one stats line (already checked to be an object with a finite numeric timestamp). Keys
   * whose value is a number or a StatValue are columns (non-finite → gap); other keys are ignored.
   */
  add(line: Record<string, unknown>): void {
    const i = this.open(line.timestamp as number);
    for (const key in line) {
      if (key === 'timestamp' || key === '__proto__') continue;
      const v = scalarOf(line[key]);
      if (v !== undefined) this.set(i, this.column(key), v);
    }
    this.close();
  }

  private open(timestamp: number): number {
    if (this.n === this.capacity) this.grow();
    const i = this.n;
    this.src[i] = this.base + this.total;
    this.ts[i] = timestamp;
    this.kimgCol[i] = NaN;
    for (const c of this.cols) c[i] = NaN;
    return i;
  }

  private set(i: number, c: number, v: number): void {
    const fv = Number.isFinite(v) ? v : NaN;
    this.cols[c][i] = fv;
    if (c === this.kimgIdx) this.kimgCol[i] = fv;
  }

  private close(): void {
    this.n++;
    this.total++;
    if (this.n > this.limit) this.compact();
  }

  private column(key: string): number {
    const c = this.index.get(key);
    return c === undefined ? this.addColumn(key, this.base + this.total) : c;
  }

  /**
   * The kept rows as column-wise chunks of at most `maxRows` rows. `start` is the receiver's row index of
   * the first row; `source` (stats.jsonl row index of each row) and `bucketRows` are set on chunks of a
   * decimated buffer. With `reset`, an empty buffer still yields one (empty) chunk.
   */
  toChunks(start: number, reset: boolean, skipped: number, maxRows = 5000): StatsChunk[] {
    const chunks: StatsChunk[] = [];
    const step = Math.max(1, Math.floor(maxRows));
    for (let off = 0; off < this.n || (reset && chunks.length === 0); off += step) {
      const end = Math.min(this.n, off + step);
      const m = end - off;
      const timestamp = new Array<number>(m);
      const kimg = new Array<number | null>(m);
      for (let i = 0; i < m; i++) {
        timestamp[i] = this.ts[off + i];
        const k = this.kimgCol[off + i];
        kimg[i] = Number.isNaN(k) ? null : k;
      }
      const lastSrc = m ? this.src[end - 1] : this.base + this.total - 1;
      const columns: Record<string, (number | null)[]> = {};
      for (let c = 0; c < this.cols.length; c++) {
        if (this.firstSeen[c] > lastSrc) continue; // not seen yet in these rows (as a line-by-line reader would)
        const col = this.cols[c];
        const out = new Array<number | null>(m);
        for (let i = 0; i < m; i++) {
          const v = col[off + i];
          out[i] = Number.isNaN(v) ? null : v;
        }
        columns[this.names[c]] = out;
      }
      const chunk: StatsChunk = { reset: reset && off === 0, start: start + off, timestamp, kimg, columns, skipped, sourceRows: m ? lastSrc + 1 : this.base + this.total };
      if (this.dropped && m) {
        chunk.source = Array.from(this.src.subarray(off, end));
        chunk.bucketRows = this.width;
      }
      chunks.push(chunk);
      if (m === 0) break;
    }
    return chunks;
  }

  private addColumn(name: string, row: number): number {
    const c = this.cols.length;
    const col = new Float64Array(this.capacity);
    col.fill(NaN, 0, this.n + 1);
    this.cols.push(col);
    this.names.push(name);
    this.firstSeen.push(row);
    this.index.set(name, c);
    if (name === 'Progress/kimg') this.kimgIdx = c;
    return c;
  }

  private grow(): void {
    const cap = Math.max(this.capacity + 1, Math.min(this.capacity * 2, this.limit + 1));
    const g = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.src = g(this.src);
    this.ts = g(this.ts);
    this.kimgCol = g(this.kimgCol);
    this.cols = this.cols.map(g);
    this.capacity = cap;
  }

  /**
   * Re-selects rows with ever wider buckets until at most ¾·cap remain (or one bucket spans everything).
   * The slack of cap/4 rows keeps compactions rare (one per ≥ cap/4 added rows, each O(cap × series)).
   */
  private compact(): void {
    const target = Math.max(1, Math.floor((this.cap * 3) / 4));
    const span = this.base + this.total;
    for (;;) {
      if (this.width > 1) this.select(this.width);
      if (this.n <= target || this.width >= span) break;
      this.width *= 2;
    }
    // Only when even one bucket keeps more than ¾·cap rows (thousands of series) may rows exceed the cap:
    // then the limit follows, or every add would re-scan.
    this.limit = this.n <= target ? this.cap : Math.max(this.cap, 2 * this.n);
  }

  /** Keeps, per bucket of `w` source rows, the argmin and argmax rows of every column, plus the pinned rows. */
  private select(w: number): void {
    const n = this.n;
    if (n === 0) return;
    const keep = new Uint8Array(n);
    keep[0] = 1; // the first row
    keep[n - 1] = 1; // the last row (latest values)
    const nc = this.cols.length;
    for (let c = 0; c < nc; c++) {
      const col = this.cols[c];
      for (let i = n - 1; i >= 0; i--) {
        if (!Number.isNaN(col[i])) {
          keep[i] = 1; // the column's last finite value (its "latest" read-out)
          break;
        }
      }
    }
    let a = 0;
    while (a < n) {
      const bucket = Math.floor(this.src[a] / w);
      let b = a + 1;
      while (b < n && Math.floor(this.src[b] / w) === bucket) b++;
      if (b - a > 2) {
        for (let c = 0; c < nc; c++) {
          const col = this.cols[c];
          let lo = -1;
          let hi = -1;
          for (let i = a; i < b; i++) {
            const v = col[i];
            if (Number.isNaN(v)) continue;
            if (lo < 0 || v < col[lo]) lo = i;
            if (hi < 0 || v > col[hi]) hi = i;
          }
          if (lo >= 0) keep[lo] = keep[hi] = 1;
        }
      } else {
        for (let i = a; i < b; i++) keep[i] = 1;
      }
      a = b;
    }
    let j = 0;
    for (let i = 0; i < n; i++) {
      if (!keep[i]) continue;
      if (i !== j) {
        this.src[j] = this.src[i];
        this.ts[j] = this.ts[i];
        this.kimgCol[j] = this.kimgCol[i];
        for (let c = 0; c < nc; c++) this.cols[c][j] = this.cols[c][i];
      }
      j++;
    }
    if (j < n) this.dropped = true;
    this.n = j;
  }
}

/** Guard for the tailer: a stats line is an object with a finite numeric timestamp (columns are picked by StatsColumns.add). */
export function asStatsRecord(v: unknown): Record<string, unknown> | undefined {
  return isObj(v) && typeof v.timestamp === 'number' && Number.isFinite(v.timestamp) ? v : undefined;
}
