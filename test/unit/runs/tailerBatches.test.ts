/** JsonlTailer.pollBatches: the streaming form of poll() (bounded batches, reset first, same records). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { asStatsLine } from '../../../src/shared/jsonl';
import { JsonlTailer, type JsonlTailBatch } from '../../../src/core/runs/jsonlTail';
import type { StatsLine } from '../../../src/shared/runTypes';
import { makeTmp, rmTmp } from './helpers';

const line = (i: number) => JSON.stringify({ timestamp: i, 'Loss/G/loss': { num: 1, mean: i / 7, std: 0 }, pad: 'x'.repeat(100) }) + '\n';

test('pollBatches hands over records per read of ≤ chunkBytes, equal to what poll() returns', async () => {
  const dir = await makeTmp();
  try {
    const f = path.join(dir, 'stats.jsonl');
    const N = 5000; // ≈ 0.75 MB
    await fsp.writeFile(f, Array.from({ length: N }, (_, i) => line(i) + (i % 1000 === 999 ? 'garbage\n' : '')).join(''));
    const batches: JsonlTailBatch<StatsLine>[] = [];
    const t = new JsonlTailer(f, asStatsLine);
    const chunkBytes = 64 * 1024;
    const total = await t.pollBatches((b) => { batches.push(b); }, { chunkBytes });
    const perLine = Buffer.byteLength(line(N - 1));
    assert.ok(batches.length >= Math.floor((await fsp.stat(f)).size / chunkBytes));
    for (const b of batches) assert.ok(b.records.length <= Math.ceil(chunkBytes / (perLine - 10)) + 1, `batch of ${b.records.length}`);
    assert.deepEqual(batches.flatMap((b) => b.records.map((r) => r.timestamp)), Array.from({ length: N }, (_, i) => i));
    assert.deepEqual(total, { records: N, skipped: 5, reset: false });
    assert.equal(batches.reduce((n, b) => n + b.skipped, 0), 5);
    assert.ok(batches.every((b) => !b.reset));
    const whole = await new JsonlTailer(f, asStatsLine).poll();
    assert.deepEqual(whole.records, batches.flatMap((b) => b.records));
    // Nothing new: no batch at all.
    const none: unknown[] = [];
    assert.deepEqual(await t.pollBatches((b) => { none.push(b); }), { records: 0, skipped: 0, reset: false });
    assert.deepEqual(none, []);
  } finally {
    await rmTmp(dir);
  }
});

test('pollBatches: a reset comes first (even with no records), a torn last line waits, an async consumer is awaited', async () => {
  const dir = await makeTmp();
  try {
    const f = path.join(dir, 'stats.jsonl');
    await fsp.writeFile(f, line(0) + line(1) + line(2));
    const t = new JsonlTailer(f, asStatsLine);
    await t.poll();
    await fsp.writeFile(f, line(9) + line(10).slice(0, 20)); // rewritten shorter, torn last line
    const seen: Array<[boolean, number[]]> = [];
    let r = await t.pollBatches(async (b) => {
      await new Promise((res) => setTimeout(res, 5));
      seen.push([b.reset, b.records.map((x) => x.timestamp)]);
    });
    assert.deepEqual(r, { records: 1, skipped: 0, reset: true });
    assert.deepEqual(seen, [[true, [9]]]);
    await fsp.appendFile(f, line(10).slice(20));
    seen.length = 0;
    r = await t.pollBatches((b) => { seen.push([b.reset, b.records.map((x) => x.timestamp)]); });
    assert.deepEqual(seen, [[false, [10]]]);
    // Deleted: one empty reset batch.
    await fsp.rm(f);
    seen.length = 0;
    r = await t.pollBatches((b) => { seen.push([b.reset, b.records.map((x) => x.timestamp)]); });
    assert.deepEqual([r, seen], [{ records: 0, skipped: 0, reset: true }, [[true, []]]]);
    // Truncated to empty (same inode): an empty reset batch too.
    await fsp.writeFile(f, line(1));
    await t.poll();
    await fsp.truncate(f, 0);
    seen.length = 0;
    r = await t.pollBatches((b) => { seen.push([b.reset, b.records.map((x) => x.timestamp)]); });
    assert.deepEqual([r, seen], [{ records: 0, skipped: 0, reset: true }, [[true, []]]]);
  } finally {
    await rmTmp(dir);
  }
});
