/**
 * Opening a huge stats.jsonl: LossDataSource streams it into typed-array columns and sends at most
 * `historyCap` rows, min/max-decimated (every kept row an exact line, every bucket's extremes kept),
 * then live rows exactly after it; the webview's StatsStore plots and labels that history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { LossDataSource, statsToChunks } from '../../../src/host/loss/lossDataSource';
import { StatsColumns } from '../../../src/host/loss/statsColumns';
import { isStatsChunk, type StatsChunk } from '../../../src/shared/protocol/panels/loss';
import type { StatsLine } from '../../../src/shared/runTypes';
import { StatsStore } from '../../../webview/loss/series';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const tmpRun = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gi-lossdec-'));

/** Deterministic pseudo-random in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A line shaped like ours: noisy losses with rare spikes, a GGDR term only every 4th tick, kimg, timing. */
function makeLine(i: number, r: () => number): StatsLine {
  const v = (x: number) => ({ num: 16, mean: x, std: 0.1 });
  const spike = r() < 0.001 ? 50 * (r() - 0.5) : 0;
  const l: StatsLine = {
    'Loss/G/loss': v(1 + Math.sin(i / 500) + 0.3 * r() + spike),
    'Loss/D/loss': v(0.5 + Math.cos(i / 700) + 0.2 * r()),
    'Loss/scores/fake': v(r() - 0.5),
    'Progress/kimg': v(i * 0.016),
    'Timing/sec_per_kimg': v(40 + r()),
    timestamp: 1_700_000_000 + i * 0.5,
  };
  if (i % 4 === 0) l['Loss/D/ggdr'] = v(10 / (1 + i / 1000) + r());
  if (i % 97 === 5) (l['Loss/G/loss'] as { mean: number }).mean = NaN; // a diverged tick: a gap, not a value
  return l;
}

const lineText = (l: StatsLine) => JSON.stringify(l).replace(/null/g, 'NaN') + '\n'; // Python writes bare NaN

function writeRun(dir: string, n: number, seed = 1): StatsLine[] {
  const r = rng(seed);
  const lines: StatsLine[] = [];
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = makeLine(i, r);
    lines.push(l);
    parts.push(lineText(l));
  }
  fs.writeFileSync(path.join(dir, 'stats.jsonl'), parts.join(''));
  return lines;
}

const meanOf = (l: StatsLine, k: string): number | null => {
  const v = l[k];
  const m = typeof v === 'number' ? v : v?.mean;
  return m === undefined || !Number.isFinite(m) ? null : m;
};

/** Every decimated-chunk invariant against the full data: exact rows, extremes of every bucket, first/last rows. */
function checkDecimated(chunks: StatsChunk[], lines: StatsLine[], cap: number): { rows: number; w: number } {
  const rows = chunks.reduce((n, c) => n + c.timestamp.length, 0);
  assert.ok(rows <= cap, `${rows} rows sent, cap ${cap}`);
  const w = chunks[0].bucketRows!;
  assert.ok(w > 1, 'decimated');
  const src = chunks.flatMap((c) => c.source!);
  assert.equal(src.length, rows);
  assert.equal(src[0], 0, 'first line kept');
  assert.equal(src.at(-1), lines.length - 1, 'last line kept');
  assert.equal(chunks.at(-1)!.sourceRows, lines.length);
  const names = [...new Set(lines.flatMap((l) => Object.keys(l)).filter((k) => k !== 'timestamp'))];
  const got = new Map<number, { ts: number; kimg: number | null; vals: Record<string, number | null> }>();
  for (const c of chunks) {
    assert.ok(isStatsChunk(c), 'valid chunk');
    c.source!.forEach((s, i) => {
      const vals: Record<string, number | null> = {};
      for (const k of names) vals[k] = c.columns[k]?.[i] ?? null;
      got.set(s, { ts: c.timestamp[i], kimg: c.kimg[i], vals });
    });
  }
  // Each kept row is the exact line.
  for (const [s, g] of got) {
    assert.equal(g.ts, lines[s].timestamp);
    assert.equal(g.kimg, meanOf(lines[s], 'Progress/kimg'));
    for (const k of names) assert.equal(g.vals[k], meanOf(lines[s], k), `line ${s} ${k}`);
  }
  // Per bucket of w lines and per series: the min and the max of the full data are among the kept rows of that bucket.
  for (let b0 = 0; b0 < lines.length; b0 += w) {
    const b1 = Math.min(lines.length, b0 + w);
    for (const k of names) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = b0; i < b1; i++) {
        const v = meanOf(lines[i], k);
        if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      }
      if (lo === Infinity) continue;
      let klo = Infinity;
      let khi = -Infinity;
      for (let i = b0; i < b1; i++) {
        const g = got.get(i)?.vals[k];
        if (g !== undefined && g !== null) { klo = Math.min(klo, g); khi = Math.max(khi, g); }
      }
      assert.equal(klo, lo, `bucket ${b0} ${k} min`);
      assert.equal(khi, hi, `bucket ${b0} ${k} max`);
    }
  }
  // Each series' last finite value (the "latest" read-out) is kept.
  for (const k of names) {
    let last = lines.length - 1;
    while (last >= 0 && meanOf(lines[last], k) === null) last--;
    assert.ok(got.has(last), `${k}'s last finite line ${last} kept`);
  }
  return { rows, w };
}

test('StatsColumns: under the cap the rows are exact and undecimated', () => {
  const r = rng(3);
  const lines = Array.from({ length: 999 }, (_, i) => makeLine(i, r));
  const cols = new StatsColumns(1000);
  for (const l of lines) cols.add(l);
  assert.equal(cols.bucketRows, 0);
  const chunks = cols.toChunks(0, true, 0, 400);
  assert.deepEqual(chunks.map((c) => [c.start, c.timestamp.length, c.sourceRows, c.source, c.bucketRows]), [[0, 400, 400, undefined, undefined], [400, 400, 800, undefined, undefined], [800, 199, 999, undefined, undefined]]);
  for (const c of chunks) {
    assert.ok(isStatsChunk(c));
    c.timestamp.forEach((t, i) => {
      const l = lines[c.start + i];
      assert.equal(t, l.timestamp);
      for (const k of Object.keys(c.columns)) assert.equal(c.columns[k][i], meanOf(l, k));
    });
  }
  assert.deepEqual(statsToChunks(lines, 0, true, 0, 400), chunks);
});

test('StatsColumns: min/max decimation keeps every bucket\'s extremes, first/last rows and exact values', () => {
  for (const [n, cap] of [[20_000, 1000], [5003, 64], [1001, 1000], [100_000, 5000]] as const) {
    const r = rng(n);
    const lines = Array.from({ length: n }, (_, i) => makeLine(i, r));
    const cols = new StatsColumns(cap);
    let most = 0;
    for (const l of lines) {
      cols.add(l);
      most = Math.max(most, cols.rows);
    }
    assert.ok(most <= cap, `held ${most} rows at some point (cap ${cap})`);
    const { rows, w } = checkDecimated(cols.toChunks(0, true, 0, 300), lines, cap);
    assert.equal(cols.rows, rows);
    assert.ok(rows >= Math.min(n, cap / 8), `not over-decimated: ${rows} rows (w ${w})`);
  }
});

test('decimated history then live appends: exact rows after it; the store plots and labels both', async () => {
  const dir = tmpRun();
  const N = 20_000;
  const cap = 2000;
  const lines = writeRun(dir, N, 5);
  const src = new LossDataSource(dir, 700, { historyCap: cap, chunkBytes: 256 * 1024 });
  const first = await src.poll();
  assert.equal(first.stats[0].reset, true);
  assert.ok(first.stats.slice(1).every((c) => !c.reset));
  const { rows } = checkDecimated(first.stats, lines, cap);
  assert.equal(src.rowCount, rows);
  assert.equal(src.sourceRowCount, N);

  const store = new StatsStore(0.6);
  for (const c of first.stats) store.apply(c);
  assert.equal(store.rows, rows);
  assert.equal(store.sourceRows, N);
  assert.equal(store.bucketRows, first.stats[0].bucketRows);
  // Latest values are exact: each series' last finite line.
  const lastG = [...lines].reverse().find((l) => meanOf(l, 'Loss/G/loss') !== null)!;
  const colG = store.columns.get('Loss/G/loss')!;
  assert.equal(colG.raw[colG.lastIdx], meanOf(lastG, 'Loss/G/loss'));
  const decimatedRows = Array.from({ length: rows }, (_, i) => store.decimatedAt(i)).filter(Boolean).length;
  assert.ok(decimatedRows > rows / 2, 'most history rows are flagged as decimated');

  // Live: a few appended lines arrive exactly, after the decimated history.
  const r = rng(99);
  const more = Array.from({ length: 5 }, (_, k) => makeLine(N + k, r));
  fs.appendFileSync(path.join(dir, 'stats.jsonl'), more.map(lineText).join(''));
  const second = await src.poll();
  assert.equal(second.stats.length, 1);
  const c = second.stats[0];
  assert.ok(isStatsChunk(c));
  assert.deepEqual([c.reset, c.start, c.timestamp.length, c.sourceRows, c.source, c.bucketRows], [false, rows, 5, N + 5, undefined, undefined]);
  assert.deepEqual(c.columns['Loss/D/loss'], more.map((l) => meanOf(l, 'Loss/D/loss')));
  store.apply(c);
  assert.equal(store.rows, rows + 5);
  assert.equal(store.sourceRows, N + 5);
  assert.deepEqual(store.source.slice(-6), [N - 1, N, N + 1, N + 2, N + 3, N + 4]);
  assert.equal(store.decimatedAt(rows + 4), false, 'live rows are exact');
  assert.equal(store.decimatedAt(rows + 2), false);
  assert.equal(store.columns.get('Loss/D/loss')!.raw.at(-1), meanOf(more[4], 'Loss/D/loss'));
  assert.equal(store.kimgAt(store.rows - 1), meanOf(more[4], 'Progress/kimg'));
  // Hover lookup: the row nearest an x value.
  const xs = store.kimg.map((k) => k!);
  const mid = Math.floor(rows / 2);
  assert.equal(StatsStore.rowAtX(xs, xs[mid] + 1e-9), mid);

  // A backlog larger than the cap between two polls is decimated on its own and appended (bounded too).
  const r2 = rng(7);
  const burst = Array.from({ length: 6000 }, (_, k) => makeLine(N + 5 + k, r2));
  fs.appendFileSync(path.join(dir, 'stats.jsonl'), burst.map(lineText).join(''));
  const third = await src.poll();
  const sent = third.stats.reduce((n, x) => n + x.timestamp.length, 0);
  assert.ok(sent <= cap && third.stats[0].start === rows + 5 && !third.stats[0].reset);
  assert.equal(third.stats[0].source![0], N + 5);
  for (const x of third.stats) { assert.ok(isStatsChunk(x)); store.apply(x); }
  assert.equal(store.sourceRows, N + 5 + 6000);
  assert.equal(store.columns.get('Loss/D/loss')!.raw.at(-1), meanOf(burst.at(-1)!, 'Loss/D/loss'));

  // The file is replaced by a short one: reset, exact again.
  fs.writeFileSync(path.join(dir, 'stats.jsonl'), lines.slice(0, 3).map(lineText).join(''));
  const fourth = await src.poll();
  assert.deepEqual(fourth.stats.map((x) => [x.reset, x.start, x.timestamp.length, x.sourceRows, x.source]), [[true, 0, 3, 3, undefined]]);
  for (const x of fourth.stats) store.apply(x);
  assert.deepEqual([store.rows, store.sourceRows, store.bucketRows], [3, 3, 0]);
});

test('opening a 300k-line stats.jsonl: rows sent ≤ cap and memory bounded', async () => {
  const dir = tmpRun();
  const N = 300_000;
  // Fast to generate: one template per line, the numbers varied in place.
  const fd = fs.openSync(path.join(dir, 'stats.jsonl'), 'w');
  let buf: string[] = [];
  for (let i = 0; i < N; i++) {
    const g = 1 + Math.sin(i / 300) + (i % 7919 === 0 ? 40 : 0);
    buf.push(`{"Loss/G/loss": {"num": 16, "mean": ${g}, "std": 0.1}, "Loss/D/loss": {"num": 16, "mean": ${0.5 + Math.cos(i / 900)}, "std": 0.1}, ` +
      `"Loss/D/ggdr": {"num": 16, "mean": ${10 / (1 + i / 1000)}, "std": 0.1}, "Loss/r1_penalty": {"num": 16, "mean": ${(i % 13) / 1000}, "std": 0}, ` +
      `"Progress/kimg": {"num": 1, "mean": ${i * 0.016}, "std": 0}, "Timing/sec_per_kimg": {"num": 1, "mean": ${40 + (i % 3)}, "std": 0}, "timestamp": ${1.7e9 + i * 0.5}}\n`);
    if (buf.length === 20_000) { fs.writeSync(fd, buf.join('')); buf = []; }
  }
  fs.writeSync(fd, buf.join(''));
  fs.closeSync(fd);
  const size = fs.statSync(path.join(dir, 'stats.jsonl')).size;

  const cap = 20_000;
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().heapUsed); }, 5);
  const src = new LossDataSource(dir, 5000, { historyCap: cap });
  const t = performance.now();
  const u = await src.poll();
  const ms = performance.now() - t;
  clearInterval(sampler);
  gc();
  const retained = process.memoryUsage().heapUsed - before; // `u` (every chunk) is still referenced here
  const rows = u.stats.reduce((n, c) => n + c.timestamp.length, 0);
  assert.ok(rows <= cap, `${rows} rows sent (cap ${cap})`);
  assert.ok(rows > cap / 8, `${rows} rows: the history is not decimated to nothing`);
  assert.equal(src.sourceRowCount, N);
  assert.equal(src.statsBytesRead, size);
  assert.equal(u.stats.at(-1)!.sourceRows, N);
  assert.ok(u.stats.every(isStatsChunk));
  // Every spike (40 added at i % 7919 = 0) survives decimation with its exact value.
  const g = new Map<number, number | null>();
  for (const c of u.stats) c.source!.forEach((s, i) => g.set(s, c.columns['Loss/G/loss'][i]));
  for (let i = 0; i < N; i += 7919) assert.equal(g.get(i), 1 + Math.sin(i / 300) + 40, `spike at line ${i}`);
  assert.equal(g.get(N - 1), 1 + Math.sin((N - 1) / 300));
  const MB = 2 ** 20;
  console.log(`# ${N} lines (${(size / MB).toFixed(0)} MB): first poll ${ms.toFixed(0)} ms, ${rows} rows sent (w ${u.stats[0].bucketRows}), ` +
    `heap retained ${(retained / MB).toFixed(1)} MB, peak +${((peak - before) / MB).toFixed(1)} MB`);
  // Holding every line as objects would take hundreds of MB; the output is ≤ cap rows × 7 columns.
  assert.ok(retained < 40 * MB, `retained heap ${(retained / MB).toFixed(1)} MB`);
  assert.ok(peak - before < 150 * MB, `peak heap growth ${((peak - before) / MB).toFixed(1)} MB`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('isStatsChunk rejects inconsistent chunks; the store refuses them', () => {
  const ok: StatsChunk = { reset: false, start: 0, timestamp: [1, 2], kimg: [0, null], columns: { a: [1, null] }, skipped: 0, sourceRows: 10, source: [3, 9], bucketRows: 4 };
  assert.ok(isStatsChunk(ok));
  assert.ok(isStatsChunk({ ...ok, source: undefined, bucketRows: undefined }));
  for (const bad of [
    { ...ok, kimg: [0] }, { ...ok, columns: { a: [1] } }, { ...ok, columns: { a: [1, 'x'] } }, { ...ok, timestamp: [1, NaN] },
    { ...ok, sourceRows: 1 }, { ...ok, source: [9, 3] }, { ...ok, source: [3, 8] }, { ...ok, bucketRows: undefined }, { ...ok, source: undefined },
    { ...ok, start: -1 }, { ...ok, skipped: 0.5 }, { ...ok, extra: 1 }, null, [],
  ]) assert.equal(isStatsChunk(bad), false, JSON.stringify(bad));
  const store = new StatsStore(0);
  assert.throws(() => store.apply({ ...ok, kimg: [0] }), /malformed stats chunk/);
  store.apply({ ...ok, reset: true });
  assert.deepEqual([store.rows, store.sourceRows, store.bucketRows, store.source], [2, 10, 4, [3, 9]]);
  assert.deepEqual([store.decimatedAt(0), store.decimatedAt(1)], [true, true]);
});
