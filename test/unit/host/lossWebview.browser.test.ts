/**
 * The real loss-curves bundle in a real Chromium (headless, via playwright-core), under the real CSP,
 * talking to the real host-side pieces (MessageHandler with the host validators, LossDataSource on a
 * run folder with 100,000 stats lines, sent min/max-decimated to ≤ 50k rows as shipped). The page
 * harness is bench/lossWebviewPage.ts, which the bench also uses to time the panel
 * (`npm run bench -- --only webview`). Skipped when no Chromium is installed (set GAN_CHROMIUM to its path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHROMIUM, openLossPage, type LossPageGlobals } from '../../../bench/lossWebviewPage';

/** The few browser globals the page callbacks use (the root tsconfig has no DOM lib, on purpose). */
interface El {
  getAttribute(name: string): string | null;
  dataset: Record<string, string | undefined>;
  click(): void;
}
interface Win extends LossPageGlobals {
  document: { querySelector(sel: string): El | null };
  __state?: { smoothing: number; logGroups: string[] };
  __csp: string[];
  ganLoss: { groups: Map<string, { chart: { isZoomed: boolean } }> };
}

const N = Number(process.env.GAN_WEBVIEW_N ?? 100_000);

function statsLine(i: number): string {
  const v = (x: number) => ({ num: 16, mean: x, std: 0 });
  return JSON.stringify({
    'Loss/G/loss': v(1 + 0.5 * Math.sin(i / 300) + ((i * 7919) % 13) / 50),
    'Loss/D/loss': v(0.7 + 0.3 * Math.cos(i / 500)),
    'Loss/D/ggdr': v(8 / (1 + i / 5000)),
    'Loss/r1_penalty': v(0.002 + (i % 5) / 1000),
    'Progress/kimg': v(Math.round(i * 16) / 1000),
    'Timing/sec_per_kimg': v(40 + (i % 3)),
    timestamp: 1_700_000_000 + i * 0.5,
  }) + '\n';
}

test('loss webview: 100k stats lines (history decimated to the cap) render, update live, read out on hover, zoom', { skip: !CHROMIUM && 'no Chromium found', timeout: 90_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-web-'));
  const file = path.join(dir, 'stats.jsonl');
  const parts: string[] = [];
  for (let i = 0; i < N; i++) parts.push(statsLine(i));
  fs.writeFileSync(file, parts.join(''));

  const lp = await openLossPage({ dir });
  const { page, host, pageErrors, invalid, opened } = lp;
  try {
    const t0 = Date.now();
    await lp.goto();
    const rawCell = page.locator('#latest-values tr[data-series="Loss/G/loss"] td.raw');
    const lastG = JSON.parse(statsLine(N - 1))['Loss/G/loss'].mean;
    await page.waitForFunction((n) => (globalThis as unknown as Win).document.querySelector('#row-count')?.getAttribute('data-count') === String(n), N, { timeout: 60_000 });
    await assert.doesNotReject(async () => {
      await page.waitForFunction((v) => (globalThis as unknown as Win).document.querySelector('#latest-values tr[data-series="Loss/G/loss"] td.raw')?.getAttribute('data-value') === String(v), lastG, { timeout: 10_000 });
    });
    const loadMs = Date.now() - t0;
    assert.equal(lp.helloCount, 1);
    assert.equal(await page.locator('#run-status').getAttribute('data-state'), 'running');
    assert.match((await page.locator('#run-status').textContent())!, /kimg 1600\/2000 · ggdr · wasm/);
    assert.equal(await page.locator('#latest-values tr[data-series="Loss/G/loss"] td.kimg').getAttribute('data-value'), String(Math.round((N - 1) * 16) / 1000));
    // Charts per group, in order.
    const groupsShown = await page.locator('section.group').evaluateAll((els) => els.map((e) => (e as unknown as El).dataset.group));
    assert.deepEqual(groupsShown, ['loss-g', 'ggdr', 'r1', 'loss-d', 'progress', 'timing']);
    assert.equal(await page.locator('section.group canvas').count(), 6);

    // Reset zoom re-sets the data of every chart: each shows every plotted row over the full x range
    // (its cost is timed by the bench's webview section, not here).
    const plotted = Number(await page.locator('#row-count').getAttribute('data-plotted'));
    assert.ok(plotted > 0 && plotted <= N, `plotted ${plotted}`);
    const redrawMs = await page.evaluate(() => (globalThis as unknown as Win).__lossPage.resetZoom());
    const charts = await page.evaluate(() => (globalThis as unknown as Win).__lossPage.charts());
    assert.deepEqual(Object.keys(charts).sort(), ['ggdr', 'loss-d', 'loss-g', 'progress', 'r1', 'timing']);
    for (const [id, c] of Object.entries(charts)) {
      assert.equal(c.rows, plotted, `${id}: rows drawn`);
      assert.ok(c.lines >= 1, `${id}: lines drawn`);
      assert.equal(c.zoomed, false, `${id}: not zoomed`);
      assert.ok(c.xMin <= c.dataMin && c.xMax >= c.dataMax, `${id}: x range ${c.xMin}…${c.xMax} covers the data ${c.dataMin}…${c.dataMax}`);
    }
    assert.equal(charts['loss-g'].dataMax, Math.round((N - 1) * 16) / 1000);

    // Live update: new lines → only they are sent → latest value changes.
    const before = host.pendingCount;
    fs.appendFileSync(file, statsLine(N) + statsLine(N + 1) + 'garbage line\n');
    await lp.pump();
    const newG = JSON.parse(statsLine(N + 1))['Loss/G/loss'].mean;
    await page.waitForFunction((v) => (globalThis as unknown as Win).document.querySelector('#latest-values tr[data-series="Loss/G/loss"] td.raw')?.getAttribute('data-value') === String(v), newG, { timeout: 10_000 });
    assert.equal(await rawCell.getAttribute('data-value'), String(newG));
    await page.waitForFunction(() => (globalThis as unknown as Win).document.querySelector('#skipped-lines')?.getAttribute('data-count') === '1');
    assert.equal(await page.locator('#row-count').getAttribute('data-count'), String(N + 2));
    assert.equal(before, 0);

    // Hover read-out over the Loss/G chart.
    const over = page.locator('section[data-group="loss-g"] .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    const hv = page.locator('#hover-readout span.value[data-series="Loss/G/loss"]');
    await hv.waitFor({ timeout: 5000 });
    const hoverValue = Number(await hv.getAttribute('data-value'));
    const hoverX = Number(await page.locator('#hover-readout span.x').getAttribute('data-x'));
    // The read-out is the exact raw value of the stats line at that kimg.
    const i = Math.round(hoverX / 0.016);
    assert.equal(hoverValue, JSON.parse(statsLine(i))['Loss/G/loss'].mean);

    // Drag to zoom, double-click to reset.
    await page.mouse.move(box.x + box.width * 0.3, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + 20, { steps: 5 });
    await page.mouse.up();
    const zoomed = () => page.evaluate(() => (globalThis as unknown as Win).ganLoss.groups.get('loss-g')!.chart.isZoomed);
    assert.equal(await zoomed(), true);
    await page.mouse.dblclick(box.x + box.width * 0.5, box.y + 20);
    assert.equal(await zoomed(), false);

    // Controls: log scale and smoothing persist through setState; the open-log link reaches the host validated.
    await page.locator('#log-loss-g').click();
    await page.locator('#smoothing').fill('0.9');
    await page.locator('#open-log').click();
    await page.waitForFunction(() => {
      const st = (globalThis as unknown as Win).__state;
      return st?.smoothing === 0.9 && st.logGroups.includes('loss-g');
    });
    const saved = await page.evaluate(() => (globalThis as unknown as Win).__state);
    assert.deepEqual(saved, { v: 1, runDir: dir, smoothing: 0.9, xAxis: 'kimg', logGroups: ['loss-g'], hidden: [], collapsed: [] });
    assert.equal(await page.locator('section[data-group="loss-g"] canvas').count(), 1, 'chart rebuilt on a log scale');
    for (let k = 0; k < 50 && opened.length === 0; k++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(opened, ['log']);
    assert.deepEqual(invalid, []);
    const cspViolations = await page.evaluate(() => (globalThis as unknown as Win).__csp);
    assert.deepEqual(cspViolations, [], 'no CSP violations');
    assert.deepEqual(pageErrors, []);
    console.log(`# webview: ${N} stats lines (${plotted} rows plotted) × 7 series loaded+drawn in ${loadMs} ms; full redraw of 6 charts ${redrawMs.toFixed(0)} ms`);
  } finally {
    await lp.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
