import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsCollector, makeStatsLine } from '../../../src/core/training/stats';

test('StatsCollector aggregates num / mean / population std per name and resets on drain', () => {
  const c = new StatsCollector();
  c.report('Loss/G/loss', [1, 2, 3, 4]);
  c.report('Loss/G/loss', 10);
  c.report('Loss/D/loss', new Float32Array([2, 2]));
  c.report('empty', []);
  const d = c.drain();
  assert.deepEqual(Object.keys(d), ['Loss/G/loss', 'Loss/D/loss']);
  // values 1,2,3,4,10: mean 4, population variance (9+4+1+0+36)/5 = 10
  assert.equal(d['Loss/G/loss'].num, 5);
  assert.ok(Math.abs(d['Loss/G/loss'].mean - 4) < 1e-12);
  assert.ok(Math.abs(d['Loss/G/loss'].std - Math.sqrt(10)) < 1e-12);
  assert.deepEqual(d['Loss/D/loss'], { num: 2, mean: 2, std: 0 });
  assert.deepEqual(c.drain(), {});
  c.report('x', 1);
  assert.deepEqual(c.drain(), { x: { num: 1, mean: 1, std: 0 } });
});

test('StatsCollector std stays accurate for a large mean (no E[x²]−E[x]² cancellation)', () => {
  const c = new StatsCollector();
  const xs = Array.from({ length: 1000 }, (_, i) => 1e8 + (i % 2 ? 1 : -1));
  c.report('kimg', xs);
  const v = c.drain().kimg;
  assert.ok(Math.abs(v.std - 1) < 1e-9, `std ${v.std}`);
  assert.ok(Math.abs(v.mean - 1e8) < 1e-6);
});

test('NaN propagates into the aggregate (a diverged loss must show)', () => {
  const c = new StatsCollector();
  c.report('l', [1, NaN, 2]);
  const v = c.drain().l;
  assert.equal(v.num, 3);
  assert.ok(Number.isNaN(v.mean));
});

test('makeStatsLine puts timestamp last, as the official files do', () => {
  const line = makeStatsLine({ a: { num: 1, mean: 2, std: 0 } }, 123.5);
  assert.deepEqual(Object.keys(line), ['a', 'timestamp']);
  assert.equal(line.timestamp, 123.5);
  const now = makeStatsLine({});
  assert.ok(Math.abs(now.timestamp - Date.now() / 1000) < 5);
});
