import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsStore, StatsStore, fillX, formatDuration, formatValue, groupOf, smooth, smoothInto } from '../../../webview/loss/series';
import type { StatsChunk } from '../../../src/shared/protocol/panels/loss';

/** TensorBoard's smoothing written out independently (vz_line_chart2 resmoothDataset) for comparison. */
function tensorboardReference(ys: number[], w: number): number[] {
  let last = 0;
  let n = 0;
  return ys.map((y) => {
    last = last * w + (1 - w) * y;
    n++;
    return last / (1 - Math.pow(w, n));
  });
}

test('smoothing is TensorBoard-style debiased EMA', () => {
  const ys = [1, 2, 3, 10, -4, 0.5, 7];
  for (const w of [0.3, 0.6, 0.9, 0.99]) {
    const got = smooth(ys, w) as number[];
    tensorboardReference(ys, w).forEach((r, i) => assert.ok(Math.abs(got[i] - r) < 1e-12, `w=${w} i=${i}`));
  }
  // Debiased: the first point equals the first value, not (1-w)·y.
  assert.equal(smooth([5], 0.9)[0], 5);
  assert.deepEqual(smooth([1, 2, 3], 0), [1, 2, 3]);
  // Gaps and non-finite values pass through without advancing the average.
  const g = smooth([1, null, NaN, 3], 0.5);
  assert.equal(g[1], null);
  assert.ok(Number.isNaN(g[2]));
  assert.equal(g[3], tensorboardReference([1, 3], 0.5)[1]);
});

test('incremental smoothing over 100k points equals smoothing all at once', () => {
  const N = 100_000;
  const ys = Array.from({ length: N }, (_, i) => Math.sin(i / 100) + (i % 7) / 10);
  const full = smooth(ys, 0.95);
  const out: (number | null)[] = [];
  const st = { last: 0, count: 0 };
  for (let start = 0; start < N; start += 7919) {
    const upto = Math.min(N, start + 7919);
    smoothInto(ys.slice(0, upto), 0.95, out, start, st);
  }
  assert.equal(out.length, N);
  for (let i = 0; i < N; i += 997) assert.ok(Math.abs((out[i] as number) - (full[i] as number)) < 1e-9);
});

const chunk = (start: number, rows: Array<Record<string, number | null>>, extra: Partial<StatsChunk> = {}): StatsChunk => {
  const columns: Record<string, (number | null)[]> = {};
  rows.forEach((r, i) => {
    for (const [k, v] of Object.entries(r)) (columns[k] ??= new Array(rows.length).fill(null))[i] = v;
  });
  return { reset: false, start, timestamp: rows.map((_, i) => 100 + start + i), kimg: rows.map((_, i) => (start + i) * 0.5), columns, skipped: 0, sourceRows: start + rows.length, ...extra };
};

test('StatsStore: aligned columns, late columns, gaps, self-healing starts, resets', () => {
  const s = new StatsStore(0);
  assert.deepEqual(s.apply(chunk(0, [{ a: 1 }, { a: 2 }], { reset: true })), ['a']);
  assert.deepEqual(s.apply(chunk(2, [{ a: 3, b: 10 }])), ['b']);
  assert.deepEqual(s.columns.get('b')!.raw, [null, null, 10]);
  s.apply(chunk(3, [{ b: 11 }]));
  assert.deepEqual(s.columns.get('a')!.raw, [1, 2, 3, null], 'a column missing from a chunk gets a gap');
  assert.equal(s.columns.get('a')!.lastIdx, 2);
  assert.equal(s.kimgAt(3), 1.5);
  assert.deepEqual(s.elapsed(), [0, 1, 2, 3]);

  // A chunk that overlaps what we have (e.g. a stale poll) truncates and replaces.
  s.apply(chunk(2, [{ a: 30 }]));
  assert.deepEqual(s.columns.get('a')!.raw, [1, 2, 30]);
  assert.equal(s.rows, 3);

  s.apply(chunk(0, [{ c: 1 }], { reset: true, skipped: 4 }));
  assert.deepEqual([...s.columns.keys()], ['c']);
  assert.equal(s.skipped, 4);

  s.setSmoothing(0.5);
  s.apply(chunk(1, [{ c: 3 }]));
  assert.deepEqual(s.columns.get('c')!.smoothed, smooth([1, 3], 0.5));
});

test('MetricsStore appends and resets', () => {
  const m = new MetricsStore();
  m.apply({ reset: true, skipped: 0, series: [{ name: 'fid', kimg: [0], timestamp: [1], value: [300] }] });
  m.apply({ reset: false, skipped: 2, series: [{ name: 'fid', kimg: [4], timestamp: [2], value: [100] }] });
  assert.deepEqual(m.series.get('fid'), { kimg: [0, 4], timestamp: [1, 2], value: [300, 100] });
  assert.equal(m.skipped, 2);
  m.apply({ reset: true, skipped: 0, series: [] });
  assert.equal(m.series.size, 0);
});

test('groups: official and our stats names land in the right charts', () => {
  const g = (n: string) => groupOf(n).label;
  assert.equal(g('Loss/G/loss'), 'Loss/G');
  assert.equal(g('Loss/D/loss'), 'Loss/D');
  assert.equal(g('Loss/D/loss_gan_gen'), 'Loss/D');
  assert.equal(g('Loss/D/ggdr'), 'GGDR');
  assert.equal(g('Loss/D/loss_gen_reg'), 'GGDR');
  assert.equal(g('Loss/r1_penalty'), 'R1');
  assert.equal(g('Loss/D/reg'), 'R1');
  assert.equal(g('Loss/scores/fake'), 'Scores');
  assert.equal(g('Timing/sec_per_kimg'), 'Timing');
  assert.equal(g('Timing/Dggdr'), 'Timing');
  assert.equal(g('Progress/kimg'), 'Progress');
  assert.equal(g('Resources/cpu_mem_gb'), 'Resources');
  assert.equal(g('Metrics/fid2k_lenet'), 'Metrics');
  assert.equal(g('Custom/thing'), 'Custom');
  assert.ok(groupOf('Loss/G/loss').order < groupOf('Loss/D/loss').order);
  assert.ok(groupOf('Loss/G/loss').order < groupOf('Timing/x').order);
});

test('x values and formatting', () => {
  assert.deepEqual(fillX([null, 1, null, 3, 2], (i) => i), [0, 1, 1, 3, 3]);
  assert.equal(formatValue(0.123456789), '0.123457');
  assert.equal(formatValue(1.5238885680446401e-5), '1.5239e-5');
  assert.equal(formatValue(null), '—');
  assert.equal(formatValue(0), '0');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(65), '1:05');
});
