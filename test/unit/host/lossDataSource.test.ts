import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LossDataSource, metricsToSeries, statsToChunks } from '../../../src/host/loss/lossDataSource';
import type { StatsChunk } from '../../../src/shared/protocol/panels/loss';
import { StatsStore } from '../../../webview/loss/series';

const OFFICIAL_GGDR = path.resolve(__dirname, '..', '..', 'fixtures', 'official-ggdr-cpu', 'training-runs', '00000-shapes32-cifartiny-kimg12-batch16-noaug');

function line(i: number): string {
  const v = (x: number) => ({ num: 16, mean: x, std: 0.1 });
  return JSON.stringify({
    'Loss/G/loss': v(1 + Math.sin(i / 50)),
    'Loss/D/loss': v(0.5 + Math.cos(i / 70)),
    'Loss/D/ggdr': v(10 / (1 + i / 1000)),
    'Loss/r1_penalty': v(0.003),
    'Progress/kimg': v(i * 0.016),
    'Timing/sec_per_kimg': v(40),
    timestamp: 1_700_000_000 + i * 0.5,
  }) + '\n';
}

const tmpRun = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gi-loss-'));

test('100,000 stats lines: first poll streams them in chunks; later polls read only appended bytes', async () => {
  const dir = tmpRun();
  const file = path.join(dir, 'stats.jsonl');
  const N = 100_000;
  const parts: string[] = [];
  for (let i = 0; i < N; i++) parts.push(line(i));
  fs.writeFileSync(file, parts.join(''));
  const size = fs.statSync(file).size;

  // A cap above N: every row is sent exactly (decimation past the cap is tested in lossDecimation.test.ts).
  const src = new LossDataSource(dir, 5000, { historyCap: 200_000 });
  let t = performance.now();
  const first = await src.poll();
  const firstMs = performance.now() - t;
  assert.equal(first.stats.length, N / 5000);
  assert.equal(first.stats[0].reset, true);
  assert.ok(first.stats.slice(1).every((c) => !c.reset));
  assert.deepEqual(first.stats.map((c) => c.start), Array.from({ length: 20 }, (_, k) => k * 5000));
  assert.equal(src.rowCount, N);
  assert.equal(src.statsBytesRead, size);
  assert.equal(src.statsDiskBytesRead, size, 'the first poll reads every byte once');
  const last = first.stats.at(-1)!;
  assert.equal(last.kimg.at(-1), (N - 1) * 0.016);
  assert.equal(last.columns['Loss/D/ggdr'].at(-1), 10 / (1 + (N - 1) / 1000));

  // The webview's store takes all of it, smoothing incrementally.
  const store = new StatsStore(0.6);
  t = performance.now();
  for (const c of first.stats) store.apply(c);
  const applyMs = performance.now() - t;
  assert.equal(store.rows, N);
  assert.equal(store.columns.get('Loss/G/loss')!.smoothed.length, N);

  // Append 3 lines plus a torn one: only those bytes are read, and the torn line waits for its newline.
  const appended = line(N) + line(N + 1) + line(N + 2) + line(N + 3).slice(0, 40);
  fs.appendFileSync(file, appended);
  t = performance.now();
  const second = await src.poll();
  const secondMs = performance.now() - t;
  // From disk: the appended bytes plus at most the 64-byte probe that checks the file was not rewritten.
  const readAgain = src.statsDiskBytesRead - size;
  assert.ok(readAgain >= appended.length && readAgain <= appended.length + 64, `the incremental poll read ${readAgain} bytes for ${appended.length} appended`);
  assert.equal(second.stats.length, 1);
  assert.equal(second.stats[0].start, N);
  assert.equal(second.stats[0].timestamp.length, 3);
  assert.equal(second.stats[0].reset, false);
  assert.equal(second.stats[0].incomplete, 1, 'the torn line is reported as waiting');
  assert.equal(second.stats[0].skipped, 0);
  assert.equal(src.statsBytesRead, fs.statSync(file).size);
  store.apply(second.stats[0]);
  assert.equal(store.rows, N + 3);

  fs.appendFileSync(file, line(N + 3).slice(40));
  const third = await src.poll();
  assert.equal(third.stats[0].start, N + 3);
  assert.equal(third.stats[0].kimg[0], (N + 3) * 0.016);
  assert.equal(third.stats[0].skipped, 0);
  assert.equal(third.stats[0].incomplete, undefined, 'no longer waiting');

  // Nothing new: no chunks at all (the panel posts nothing).
  assert.deepEqual((await src.poll()).stats, []);
  // Read only what is new, over all four polls (the times are the bench's: loss-panel section).
  assert.ok(src.statsDiskBytesRead <= fs.statSync(file).size + 3 * 64, `${src.statsDiskBytesRead} bytes read for a ${fs.statSync(file).size}-byte file`);
  console.log(`# 100k lines (${(size / 1e6).toFixed(1)} MB): first poll ${firstMs.toFixed(0)} ms, store.apply ${applyMs.toFixed(0)} ms, incremental poll ${secondMs.toFixed(1)} ms`);
});

test('garbage and truncated lines are skipped and counted; a rewritten file resets', async () => {
  const dir = tmpRun();
  const file = path.join(dir, 'stats.jsonl');
  fs.writeFileSync(file, line(0) + 'not json\n' + '{"Loss/G/loss": {"num":1,"mean":1,"std":0}}\n' + line(1) + '[1,2]\n');
  const src = new LossDataSource(dir);
  const a = await src.poll();
  assert.equal(a.stats.length, 1);
  assert.equal(a.stats[0].timestamp.length, 2);
  assert.equal(a.stats[0].skipped, 3, 'bad JSON, a line without timestamp, and an array');
  fs.appendFileSync(file, '{"timestamp": 5, "Loss/G/loss": {"num": 1, "mean": NaN, "std": 0}}\n{"trunc');
  const b = await src.poll();
  assert.deepEqual(b.stats[0].columns['Loss/G/loss'], [null], 'NaN (Python writes bare NaN) becomes a gap');
  assert.equal(b.stats[0].skipped, 3);
  assert.equal(b.stats[0].incomplete, 1, 'the truncated last line is held and reported as waiting');
  // Unchanged at the next poll: torn (the writer died mid-line), so it is counted as skipped; one empty chunk says so.
  const stale = await src.poll();
  assert.deepEqual(stale.stats, [{ reset: false, start: 3, timestamp: [], kimg: [], columns: {}, skipped: 4, sourceRows: 3 }]);
  assert.deepEqual((await src.poll()).stats, [], 'nothing changed since');
  // Its rest arrives after all: a good line, so the provisional count is dropped again.
  fs.appendFileSync(file, '": 1, "timestamp": 9}\n');
  const done = await src.poll();
  assert.equal(done.stats.length, 1);
  assert.deepEqual([done.stats[0].start, done.stats[0].timestamp, done.stats[0].columns.trunc, done.stats[0].skipped, done.stats[0].incomplete], [3, [9], [1], 3, undefined]);
  // A garbage line alone (no new rows) still reaches the webview.
  fs.appendFileSync(file, 'garbage\n');
  assert.deepEqual((await src.poll()).stats, [{ reset: false, start: 4, timestamp: [], kimg: [], columns: {}, skipped: 4, sourceRows: 4 }]);
  // A torn line the decoder rejects once complete: counted once, not twice.
  fs.appendFileSync(file, '{"x');
  assert.equal((await src.poll()).stats[0].incomplete, 1);
  assert.equal((await src.poll()).stats[0].skipped, 5);
  fs.appendFileSync(file, 'y\n');
  assert.deepEqual((await src.poll()).stats, [], 'still 5 (now counted by the decoder), nothing waiting: nothing to send');

  // A new run writing over the same path (smaller file): reset, counts restart.
  fs.writeFileSync(file, line(7));
  const c = await src.poll();
  assert.equal(c.stats[0].reset, true);
  assert.equal(c.stats[0].start, 0);
  assert.equal(c.stats[0].skipped, 0);
  assert.equal(c.stats[0].kimg[0], 7 * 0.016);

  // restart() (webview reload): everything again from byte 0.
  src.restart();
  const d = await src.poll();
  assert.equal(d.stats[0].reset, true);
  assert.equal(d.stats[0].timestamp.length, 1);
});

test('missing stats.jsonl: an empty reset chunk, then data once it appears', async () => {
  const dir = tmpRun();
  const src = new LossDataSource(dir);
  const a = await src.poll();
  assert.equal(a.stats.length, 1);
  assert.equal(a.stats[0].reset, true);
  assert.equal(a.stats[0].timestamp.length, 0);
  assert.deepEqual((await src.poll()).stats, []);
  fs.writeFileSync(path.join(dir, 'stats.jsonl'), line(0));
  const b = await src.poll();
  assert.equal(b.stats[0].timestamp.length, 1);
  assert.equal(b.stats[0].reset, false);
});

test('official GGDR stats.jsonl: every scalar becomes a column (incl. Loss/D/loss_gen_reg)', async () => {
  const src = new LossDataSource(OFFICIAL_GGDR);
  const u = await src.poll();
  const c = u.stats[0];
  assert.equal(c.timestamp.length, 4);
  assert.deepEqual(c.kimg.map((k) => k && Math.round(k * 1000) / 1000), [0.016, 4.016, 8.016, 12]);
  assert.ok(c.columns['Loss/D/loss_gen_reg'][0]! > 10);
  assert.ok('Timing/sec_per_kimg' in c.columns && 'Resources/cpu_mem_gb' in c.columns && 'Loss/r1_penalty' in c.columns);
  assert.equal(u.metrics?.series.length, 0);
});

test('metric files: one series per result, new points only, rewritten file resends all', async () => {
  const dir = tmpRun();
  const m = (kimg: number, fid: number) => JSON.stringify({ results: { fid2k_lenet: fid }, metric: 'fid2k_lenet', total_time: 1, total_time_str: '1s', num_gpus: 1, snapshot_pkl: `network-snapshot-${String(kimg).padStart(6, '0')}`, timestamp: 100 + kimg }) + '\n';
  const file = path.join(dir, 'metric-fid2k_lenet.jsonl');
  fs.writeFileSync(file, m(0, 300) + m(4, 120));
  const src = new LossDataSource(dir);
  const a = await src.poll();
  assert.deepEqual(a.metrics, { reset: true, skipped: 0, series: [{ name: 'fid2k_lenet', kimg: [0, 4], timestamp: [100, 104], value: [300, 120] }] });
  fs.appendFileSync(file, m(8, 80) + 'garbage\n');
  const b = await src.poll();
  assert.deepEqual(b.metrics, { reset: false, skipped: 1, series: [{ name: 'fid2k_lenet', kimg: [8], timestamp: [108], value: [80] }] });
  assert.equal((await src.poll()).metrics, null);
  fs.writeFileSync(file, m(0, 1));
  const c = await src.poll();
  assert.equal(c.metrics?.reset, true);
  assert.deepEqual(c.metrics?.series[0].value, [1]);

  // Multi-result metrics get "<metric>/<key>" names.
  assert.deepEqual(metricsToSeries([{ results: { pr50k3_full_precision: 0.6, pr50k3_full_recall: 0.4 }, metric: 'pr50k3_full', total_time: 0, total_time_str: '', num_gpus: 1, snapshot_pkl: 'network-snapshot-000012.pkl', timestamp: 1 }]).map((s) => [s.name, s.kimg[0]]), [
    ['pr50k3_full/pr50k3_full_precision', 12], ['pr50k3_full/pr50k3_full_recall', 12],
  ]);
});

test('statsToChunks: a key appearing mid-chunk is null before it', () => {
  const chunks: StatsChunk[] = statsToChunks([
    { timestamp: 1, a: { num: 1, mean: 1, std: 0 } },
    { timestamp: 2, a: 2, b: { num: 1, mean: 5, std: 0 } },
  ], 10, false, 0);
  assert.deepEqual(chunks, [{ reset: false, start: 10, timestamp: [1, 2], kimg: [null, null], columns: { a: [1, 2], b: [null, 5] }, skipped: 0, sourceRows: 12 }]);
});
