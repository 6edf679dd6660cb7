/**
 * One poll's backlog is drawn once: the host marks every message of a poll but the last with
 * StatsChunk.more (LossDataSource), and the loss webview (real bundle, headless Chromium via
 * bench/lossWebviewPage.ts) holds its draw until the poll's last message, or draws what came when the rest
 * never does. The browser part is skipped when no Chromium is installed (set GAN_CHROMIUM to its path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LossDataSource } from '../../../src/host/loss/lossDataSource';
import { isStatsChunk, type StatsChunk } from '../../../src/shared/protocol/panels/loss';
import { smooth, StatsStore } from '../../../webview/loss/series';
import { CHROMIUM, openLossPage, type LossPageGlobals } from '../../../bench/lossWebviewPage';

function line(i: number): string {
  const v = (x: number) => ({ num: 16, mean: x, std: 0 });
  return JSON.stringify({ 'Loss/G/loss': v(1 + i / 10), 'Progress/kimg': v(i * 0.016), timestamp: 1_700_000_000 + i }) + '\n';
}
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => line(from + k)).join('');
const metricLine = (kimg: number, fid: number) => JSON.stringify({ results: { fid2k_lenet: fid }, metric: 'fid2k_lenet', total_time: 1, total_time_str: '1s', num_gpus: 1, snapshot_pkl: `network-snapshot-${String(kimg).padStart(6, '0')}`, timestamp: 1_700_000_000 + kimg }) + '\n';

test('LossDataSource: every message of a poll but its last says more follows', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-batch-'));
  try {
    const file = path.join(dir, 'stats.jsonl');
    fs.writeFileSync(file, lines(0, 12));
    const src = new LossDataSource(dir, 5);
    // First poll: 3 stats chunks, then the (reset) metrics update ends the poll.
    const a = await src.poll();
    assert.deepEqual(a.stats.map((c) => c.more), [true, true, true]);
    assert.ok(a.metrics?.reset);
    assert.ok(a.stats.every(isStatsChunk));
    // Stats only: the last chunk ends the poll.
    fs.appendFileSync(file, lines(12, 19));
    const b = await src.poll();
    assert.equal(b.metrics, null);
    assert.deepEqual(b.stats.map((c) => [c.start, c.timestamp.length, c.more]), [[12, 5, true], [17, 2, undefined]]);
    fs.appendFileSync(file, lines(19, 20));
    const c = await src.poll();
    assert.deepEqual(c.stats.map((x) => x.more), [undefined]);
    // New stats and a new metric point: the metrics update comes last.
    fs.appendFileSync(file, lines(20, 21));
    fs.writeFileSync(path.join(dir, 'metric-fid2k_lenet.jsonl'), metricLine(4, 50));
    const d = await src.poll();
    assert.deepEqual(d.stats.map((x) => x.more), [true]);
    assert.deepEqual(d.metrics?.series.map((s) => s.value), [[50]]);
    // The flag changes nothing in the data: the store holds what it would without it.
    const withFlag = new StatsStore(0.6);
    const without = new StatsStore(0.6);
    for (const x of [...a.stats, ...b.stats, ...c.stats, ...d.stats]) {
      withFlag.apply(x);
      const { more: _more, ...plain } = x;
      without.apply(plain);
    }
    assert.equal(withFlag.rows, 21);
    assert.deepEqual(withFlag.columns, without.columns);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('isStatsChunk: more is an optional boolean', () => {
  const ok: StatsChunk = { reset: false, start: 0, timestamp: [1], kimg: [0], columns: { a: [1] }, skipped: 0, sourceRows: 1 };
  assert.ok(isStatsChunk({ ...ok, more: true }));
  assert.ok(isStatsChunk({ ...ok, more: false }));
  assert.equal(isStatsChunk({ ...ok, more: 'yes' }), false);
  assert.equal(isStatsChunk({ ...ok, more: 1 }), false);
});

test('smoothing is exactly the debiased EMA over long runs (Math.pow skipped once it no longer matters)', () => {
  const ys = Array.from({ length: 5000 }, (_, i) => Math.sin(i / 37) + (i % 11) / 7);
  for (const w of [0.3, 0.6, 0.95, 0.99]) {
    let last = 0;
    const ref = ys.map((y, n) => {
      last = last * w + (1 - w) * y;
      return last / (1 - Math.pow(w, n + 1));
    });
    assert.deepEqual(smooth(ys, w), ref, `w=${w}`);
  }
});

/** Page state the browser test reads (the root tsconfig has no DOM lib, on purpose). */
interface Win extends LossPageGlobals {
  document: { querySelector(sel: string): { textContent: string | null; getAttribute(n: string): string | null } | null; querySelectorAll(sel: string): { length: number } };
  postMessage(m: unknown, origin: string): void;
  addEventListener(type: 'message', fn: () => void): void;
  removeEventListener(type: 'message', fn: () => void): void;
}

/** A stats chunk of rows [from, to) as the host sends it. */
function chunk(from: number, to: number, more: boolean): StatsChunk {
  const n = to - from;
  const idx = Array.from({ length: n }, (_, k) => from + k);
  const c: StatsChunk = {
    reset: false, start: from, timestamp: idx.map((i) => 1_700_000_000 + i), kimg: idx.map((i) => i * 0.016),
    columns: { 'Loss/G/loss': idx.map((i) => 1 + i / 10), 'Loss/D/loss': idx.map((i) => 2 - i / 1000) }, skipped: 0, sourceRows: to,
  };
  if (more) c.more = true;
  return c;
}
const envelope = (payload: StatsChunk) => ({ rpc: 1, kind: 'event', name: 'stats', payload });

test('loss webview: a poll\'s chunks are drawn once, after the last; a poll cut short is still drawn', { skip: !CHROMIUM && 'no Chromium found', timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-batch-web-'));
  const lp = await openLossPage({ dir });
  const { page } = lp;
  try {
    await lp.goto();
    // The hello poll of the empty folder: an empty reset chunk, then the metrics update, drawn (0 rows).
    await page.waitForFunction(() => (globalThis as unknown as Win).__messages.some((m) => m.name === 'metrics') && (globalThis as unknown as Win).__rowCounts.length > 0);
    const rendersBefore = await page.evaluate(() => (globalThis as unknown as Win).__rowCounts.length);

    // Two chunks marked `more`, posted back to back; look at the page right after the second was handled.
    const mid = await page.evaluate(([a, b]) => new Promise<{ renders: number; canvases: number; count: string | null; text: string | null }>((resolve) => {
      const w = globalThis as unknown as Win;
      let seen = 0;
      // Added after the panel's own listener, so it runs right after the panel handled the message.
      // (In an array: a named function would get tsx's __name() helper, which the page lacks.)
      const fns = [() => {
        if (++seen < 2) return;
        w.removeEventListener('message', fns[0]);
        resolve({ renders: w.__rowCounts.length, canvases: w.document.querySelectorAll('#charts canvas').length, count: w.document.querySelector('#row-count')!.getAttribute('data-count'), text: w.document.querySelector('#empty-state')!.textContent });
      }];
      w.addEventListener('message', fns[0]);
      w.postMessage(a, '*');
      w.postMessage(b, '*');
    }), [envelope(chunk(0, 100, true)), envelope(chunk(100, 200, true))]);
    assert.deepEqual(mid, { renders: rendersBefore, canvases: 0, count: '0', text: 'Loading stats.jsonl… 200 lines received' }, 'nothing drawn while the poll goes on; its progress is shown');

    // The poll's last chunk: one draw with every row.
    await page.evaluate((c) => (globalThis as unknown as Win).postMessage(c, '*'), envelope(chunk(200, 300, false)));
    await lp.waitForRows(300);
    const after = await page.evaluate(() => ({ renders: (globalThis as unknown as Win).__rowCounts.map((r) => r.count), charts: (globalThis as unknown as Win).__lossPage.charts() }));
    assert.deepEqual(after.renders.slice(rendersBefore), [300], 'one draw for the whole poll');
    assert.deepEqual(Object.keys(after.charts).sort(), ['loss-d', 'loss-g']);
    for (const c of Object.values(after.charts)) assert.equal(c.rows, 300);
    assert.equal(await page.locator('#empty-state').isHidden(), true);
    const latest = await page.locator('#latest-values tr[data-series="Loss/G/loss"] td.raw').getAttribute('data-value');
    assert.equal(latest, String(1 + 299 / 10));

    // A chunk that says more follows, and nothing does (the host failed mid-poll): it is drawn anyway.
    await page.evaluate((c) => (globalThis as unknown as Win).postMessage(c, '*'), envelope(chunk(300, 310, true)));
    await lp.waitForRows(310, 20_000);
    const charts = await page.evaluate(() => (globalThis as unknown as Win).__lossPage.charts());
    for (const c of Object.values(charts)) assert.equal(c.rows, 310);
    assert.deepEqual([...lp.pageErrors, ...lp.invalid], []);
  } finally {
    await lp.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
