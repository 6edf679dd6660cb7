/**
 * splitLines (the process managers' stdout/stderr as lines) and pushTail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { pushTail, splitLines } from '../../../src/host/util/lines';

const tick = () => new Promise((r) => setImmediate(r));

test('lines split at \\n and \\r\\n across chunks; the rest comes with flush', async () => {
  const s = new PassThrough();
  const got: string[] = [];
  const sp = splitLines(s, (l) => got.push(l));
  s.write('one\r\ntw');
  s.write('o\nthree\rstill three\n');
  s.write('tail');
  await tick();
  assert.deepEqual(got, ['one', 'two', 'three\rstill three']);
  sp.flush();
  sp.flush();
  assert.deepEqual(got, ['one', 'two', 'three\rstill three', 'tail']);
});

test('with cr a lone \\r ends a line too (progress bars); a 64 KiB line without a newline is passed on', async () => {
  const s = new PassThrough();
  const got: string[] = [];
  splitLines(s, (l) => got.push(l), { cr: true });
  s.write('10%\r20%\r\n');
  s.write('x'.repeat(70_000));
  await tick();
  assert.deepEqual(got.slice(0, 2), ['10%', '20%']);
  assert.equal(got.length, 3);
  assert.equal(got[2].length, 70_000);
});

test('pushTail keeps the last lines', () => {
  const t: string[] = [];
  for (let i = 0; i < 5; i++) pushTail(t, String(i), 3);
  assert.deepEqual(t, ['2', '3', '4']);
});
