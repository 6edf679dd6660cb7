import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import {
  asMetricLine, asStatsLine, decodeJsonl, JsonlDecoder, parseJsonLenient, splitLines, stringifyJsonLenient,
} from '../../../src/shared/jsonl';
import { JsonlTailer } from '../../../src/core/runs/jsonlTail';
import { makeTmp, rmTmp } from './helpers';

const line = (i: number) => JSON.stringify({ timestamp: i, 'Progress/kimg': { num: 1, mean: i, std: 0 } }) + '\n';

test('splitLines holds the unterminated rest and strips CR', () => {
  assert.deepEqual(splitLines('', 'a\nb\r\nc'), { lines: ['a', 'b'], rest: 'c' });
  assert.deepEqual(splitLines('c', 'd\n'), { lines: ['cd'], rest: '' });
  assert.deepEqual(splitLines('', 'no newline'), { lines: [], rest: 'no newline' });
});

test('lenient JSON reads and writes Python-style NaN / Infinity', () => {
  const py = '{"Loss/G/loss": {"num": 16, "mean": NaN, "std": Infinity}, "x": [-Infinity, 1], "s": "NaN inside", "timestamp": 1.5}';
  const v = parseJsonLenient(py) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form parsed JSON, read field by field
  assert.ok(Number.isNaN(v['Loss/G/loss'].mean));
  assert.equal(v['Loss/G/loss'].std, Infinity);
  assert.deepEqual(v.x, [-Infinity, 1]);
  assert.equal(v.s, 'NaN inside');
  assert.equal(parseJsonLenient('{"a": NaNx}'), undefined);
  assert.equal(parseJsonLenient('{"a": 1'), undefined);
  const text = stringifyJsonLenient({ a: NaN, b: [Infinity, -Infinity], c: 'ok' });
  assert.equal(text, '{"a":NaN,"b":[Infinity,-Infinity],"c":"ok"}');
  assert.deepEqual(parseJsonLenient(text), { a: NaN, b: [Infinity, -Infinity], c: 'ok' });
  assert.equal(stringifyJsonLenient({ a: 1 }), '{"a":1}');
});

test('record guards accept the official shapes and reject garbage', () => {
  assert.equal(asStatsLine({ a: 1 }), undefined); // no timestamp
  assert.equal(asStatsLine([1]), undefined);
  const s = asStatsLine({ timestamp: 2, 'Loss/G/loss': { num: 1, mean: 2, std: 0 }, junk: 'text' });
  assert.deepEqual(s, { timestamp: 2, 'Loss/G/loss': { num: 1, mean: 2, std: 0 } });
  const m = { results: { fid: 3 }, metric: 'fid', total_time: 1, total_time_str: '1s', num_gpus: 1, snapshot_pkl: 'a.pkl', timestamp: 4 };
  assert.deepEqual(asMetricLine(m), m);
  assert.equal(asMetricLine({ ...m, results: { fid: 'x' } }), undefined);
  assert.equal(asMetricLine({ ...m, snapshot_pkl: undefined }), undefined);
});

test('JsonlDecoder: partial lines across chunks, blank lines ignored, garbage counted, end() judges the rest', () => {
  const dec = new JsonlDecoder(asStatsLine);
  const l1 = line(1);
  let b = dec.push(l1.slice(0, 10));
  assert.deepEqual(b, { records: [], skipped: 0 });
  assert.equal(dec.partial, l1.slice(0, 10));
  b = dec.push(l1.slice(10) + '\n\ngarbage\n{"timestamp": 3}\n{"timest');
  assert.equal(b.records.length, 2);
  assert.equal(b.skipped, 1);
  assert.deepEqual(dec.end(), { records: [], skipped: 1 });
  assert.deepEqual(decodeJsonl('{"timestamp":1}', asStatsLine), { records: [{ timestamp: 1 }], skipped: 0 });
});

test('JsonlTailer returns only new records, holds a partial last line, counts garbage once', async () => {
  const dir = await makeTmp();
  try {
    const f = path.join(dir, 'stats.jsonl');
    const t = new JsonlTailer(f, asStatsLine);
    assert.deepEqual(await t.poll(), { records: [], skipped: 0, reset: false }); // not yet created
    await fsp.writeFile(f, line(0) + line(1));
    let r = await t.poll();
    assert.deepEqual(r.records.map((x) => x.timestamp), [0, 1]);
    assert.equal(r.reset, false);
    assert.deepEqual(await t.poll(), { records: [], skipped: 0, reset: false });

    const l2 = line(2);
    await fsp.appendFile(f, l2.slice(0, 17)); // torn: writer still busy
    r = await t.poll();
    assert.deepEqual([r.records.length, r.skipped], [0, 0]);
    await fsp.appendFile(f, l2.slice(17) + 'not json at all\n' + line(3));
    r = await t.poll();
    assert.deepEqual(r.records.map((x) => x.timestamp), [2, 3]);
    assert.equal(r.skipped, 1);
    assert.equal(t.position, (await fsp.stat(f)).size);

    // A multi-byte UTF-8 character split across two polls.
    const uni = JSON.stringify({ timestamp: 4, note: 'naïve ✓' }) + '\n';
    const bytes = Buffer.from(uni);
    const cut = bytes.indexOf(Buffer.from('✓')) + 1;
    await fsp.appendFile(f, bytes.subarray(0, cut));
    assert.equal((await t.poll()).records.length, 0);
    await fsp.appendFile(f, bytes.subarray(cut));
    const t2 = new JsonlTailer<Record<string, unknown>>(f); // default guard: any object
    r = await t.poll();
    assert.deepEqual(r.records.map((x) => x.timestamp), [4]);
    const all = await t2.poll(); // a fresh tailer reads everything
    assert.deepEqual([all.records.length, all.skipped], [5, 1]);
    assert.equal(all.records[4].note, 'naïve ✓');
  } finally {
    await rmTmp(dir);
  }
});

test('JsonlTailer detects truncation, replacement, in-place rewrite and deletion', async () => {
  const dir = await makeTmp();
  try {
    const f = path.join(dir, 'stats.jsonl');
    const t = new JsonlTailer(f, asStatsLine);
    await fsp.writeFile(f, line(0) + line(1) + line(2));
    assert.equal((await t.poll()).records.length, 3);

    await fsp.writeFile(f, line(10)); // truncated + rewritten shorter
    let r = await t.poll();
    assert.equal(r.reset, true);
    assert.deepEqual(r.records.map((x) => x.timestamp), [10]);

    const repl = path.join(dir, '.stats.jsonl.tmp');
    await fsp.writeFile(repl, line(20) + line(21) + line(22) + line(23));
    await fsp.rename(repl, f); // replaced (new inode), and longer than before
    r = await t.poll();
    assert.equal(r.reset, true);
    assert.deepEqual(r.records.map((x) => x.timestamp), [20, 21, 22, 23]);

    // Same inode, rewritten in place with more bytes and a different beginning.
    const fh = await fsp.open(f, 'r+');
    await fh.write(line(90) + line(91) + line(92) + line(93) + line(94), 0);
    await fh.close();
    r = await t.poll();
    assert.equal(r.reset, true);
    assert.deepEqual(r.records.map((x) => x.timestamp), [90, 91, 92, 93, 94]);

    await fsp.rm(f);
    r = await t.poll();
    assert.deepEqual(r, { records: [], skipped: 0, reset: true });
    await fsp.writeFile(f, line(5));
    r = await t.poll();
    assert.deepEqual([r.reset, r.records.length], [false, 1]);
  } finally {
    await rmTmp(dir);
  }
});

test('concurrent polls never return a record twice', async () => {
  const dir = await makeTmp();
  try {
    const f = path.join(dir, 's.jsonl');
    await fsp.writeFile(f, Array.from({ length: 200 }, (_, i) => line(i)).join(''));
    const t = new JsonlTailer(f, asStatsLine);
    const rs = await Promise.all([t.poll(), t.poll(), t.poll()]);
    assert.equal(rs.reduce((n, r) => n + r.records.length, 0), 200);
  } finally {
    await rmTmp(dir);
  }
});
