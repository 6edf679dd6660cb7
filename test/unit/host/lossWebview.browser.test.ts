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
import type { Page } from 'playwright-core';
import { CHROMIUM, openLossPage, type LossPageGlobals } from '../../../bench/lossWebviewPage';

/** The few browser globals the page callbacks use (the root tsconfig has no DOM lib, on purpose). */
interface El {
  getAttribute(name: string): string | null;
  dataset: Record<string, string | undefined>;
  click(): void;
}
interface PlotLike {
  width: number;
  over: { clientWidth: number };
  data: number[][];
  scales: { x: { min: number; max: number } };
  series: Array<{ show: boolean }>;
  axes: Array<{ stroke(p: PlotLike, i: number): unknown }>;
}
interface Win extends LossPageGlobals {
  document: { querySelector(sel: string): El | null };
  __state?: { smoothing: number; logGroups: string[] };
  __csp: string[];
  ganLoss: { groups: Map<string, { chart: { isZoomed: boolean; xRange: { min: number; max: number } | null; plot?: PlotLike } }> };
}

interface Range { xMin: number; xMax: number; dataMin: number; dataMax: number; zoomed: boolean; plotWidth: number }

/** Shown x range, data range and zoom of every chart. */
function ranges(page: Page): Promise<Record<string, Range>> {
  return page.evaluate(() => {
    const out: Record<string, Range> = {};
    for (const [id, g] of (globalThis as unknown as Win).ganLoss.groups) {
      const p = g.chart.plot!;
      const x = p.data[0];
      out[id] = { xMin: p.scales.x.min, xMax: p.scales.x.max, dataMin: x[0], dataMax: x[x.length - 1], zoomed: g.chart.isZoomed, plotWidth: p.over.clientWidth };
    }
    return out;
  });
}

const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;

/** Every chart shows the loss-g chart's x range. */
function assertSynced(r: Record<string, Range>, what: string): void {
  for (const [id, c] of Object.entries(r)) {
    assert.ok(near(c.xMin, r['loss-g'].xMin, 1e-9) && near(c.xMax, r['loss-g'].xMax, 1e-9), `${what}: ${id} shows ${c.xMin}…${c.xMax}, loss-g ${r['loss-g'].xMin}…${r['loss-g'].xMax}`);
    assert.equal(c.zoomed, true, `${what}: ${id} zoomed`);
  }
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

    // Drag to zoom (every chart follows), double-click to reset.
    await page.mouse.move(box.x + box.width * 0.3, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + 20, { steps: 5 });
    await page.mouse.up();
    const zoomed = () => page.evaluate(() => (globalThis as unknown as Win).ganLoss.groups.get('loss-g')!.chart.isZoomed);
    assert.equal(await zoomed(), true);
    const z0 = await ranges(page);
    const w0 = z0['loss-g'].xMax - z0['loss-g'].xMin;
    assert.ok(w0 > 0 && w0 < 0.5 * (z0['loss-g'].dataMax - z0['loss-g'].dataMin), `zoomed to ${w0}`);
    assertSynced(z0, 'drag zoom');

    // Pan: Shift+drag to the left by a fifth of the plot shows later data, as wide as before; every chart follows.
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + box.width * 0.6, box.y + 30);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, box.y + 30, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const z1 = await ranges(page);
    assert.ok(near(z1['loss-g'].xMin - z0['loss-g'].xMin, 0.2 * w0 * box.width / z1['loss-g'].plotWidth, 0.02 * w0), `Shift+drag panned right by a fifth: ${z0['loss-g'].xMin} → ${z1['loss-g'].xMin}`);
    assert.ok(near(z1['loss-g'].xMax - z1['loss-g'].xMin, w0, 1e-9 * w0), 'pan keeps the width');
    assert.equal(z1['loss-g'].zoomed, true);
    assertSynced(z1, 'Shift+drag pan');
    // Middle-drag far to the right: stops at the start of the data.
    await page.mouse.move(box.x + box.width * 0.1, box.y + 30);
    await page.mouse.down({ button: 'middle' });
    await page.mouse.move(box.x + box.width * 0.95, box.y + 30, { steps: 4 });
    await page.mouse.move(box.x + box.width * 3, box.y + 30, { steps: 2 });
    await page.mouse.up({ button: 'middle' });
    const z2 = await ranges(page);
    assert.equal(z2['loss-g'].xMin, z2['loss-g'].dataMin, 'the pan is clamped to the first data point');
    assert.ok(near(z2['loss-g'].xMax - z2['loss-g'].xMin, w0, 1e-9 * w0));
    assertSynced(z2, 'middle-drag pan');

    // Keyboard: Shift+Right pans by a tenth of the width (plain Right still moves the read-out, not the range).
    await page.locator('section[data-group="loss-g"] .chart').focus();
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    assert.equal((await ranges(page))['loss-g'].xMin, z2['loss-g'].xMin, 'arrow keys alone do not pan');
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    const z3 = await ranges(page);
    assert.ok(near(z3['loss-g'].xMin - z2['loss-g'].xMin, 0.2 * w0, 1e-6 * w0), `Shift+Right ×2 panned by 2 tenths: ${z2['loss-g'].xMin} → ${z3['loss-g'].xMin}`);
    assertSynced(z3, 'keyboard pan');
    assert.match((await page.locator('section[data-group="loss-g"] .chart').getAttribute('aria-label'))!, /, showing [\d.]+ to [\d.]+ \(zoomed\)\. .*Shift with Left and Right pans/);
    await page.keyboard.press('Shift+ArrowLeft');
    assert.ok(near((await ranges(page))['loss-g'].xMin, z3['loss-g'].xMin - 0.1 * w0, 1e-6 * w0), 'Shift+Left pans back');

    // Ctrl+wheel zooms in around the pointer: the x under it stays put.
    const z4 = await ranges(page);
    const px = 0.25;
    const under = z4['loss-g'].xMin + px * (z4['loss-g'].xMax - z4['loss-g'].xMin);
    await page.mouse.move(box.x + box.width * px, box.y + 40);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -200);
    await page.keyboard.up('Control');
    await page.waitForFunction((w) => { const c = (globalThis as unknown as Win).ganLoss.groups.get('loss-g')!.chart; return c.xRange!.max - c.xRange!.min < w * 0.9; }, z4['loss-g'].xMax - z4['loss-g'].xMin);
    const z5 = await ranges(page);
    const w5 = z5['loss-g'].xMax - z5['loss-g'].xMin;
    assert.ok(near(z5['loss-g'].xMin + px * w5, under, 0.01 * w5), `zoomed in around ${under}, still a quarter from the left: ${z5['loss-g'].xMin}…${z5['loss-g'].xMax}`);
    assertSynced(z5, 'wheel zoom');
    // A group that appears while zoomed (a new scalar in a live line) starts at the shared zoom.
    fs.appendFileSync(file, JSON.stringify({ ...JSON.parse(statsLine(N + 2)), 'Extra/value': { num: 1, mean: 3, std: 0 } }) + '\n');
    await lp.pump();
    await page.waitForFunction(() => (globalThis as unknown as Win).ganLoss.groups.get('other-Extra')?.chart.plot !== undefined, undefined, { timeout: 10_000 });
    const z5b = await ranges(page);
    assert.deepEqual([z5b['other-Extra'].xMin, z5b['other-Extra'].xMax], [z5['loss-g'].xMin, z5['loss-g'].xMax], 'the new chart shows the zoomed range');
    assertSynced(z5b, 'new group');

    // A rebuilt chart (a series hidden, the theme changed) keeps the zoom; a theme change restyles the axes.
    const strokeOf = () => page.evaluate(() => {
      const p = (globalThis as unknown as Win).ganLoss.groups.get('loss-g')!.chart.plot!;
      return String(p.axes[0].stroke(p, 0));
    });
    const plotBefore = await page.evaluate(() => { const g = globalThis as unknown as Win & { __p?: unknown }; g.__p = g.ganLoss.groups.get('loss-g')!.chart.plot; return true; });
    assert.ok(plotBefore);
    await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { body: { classList: { add(c: string): void } }; documentElement: { style: { setProperty(k: string, v: string): void } } } }).document;
      d.documentElement.style.setProperty('--vscode-foreground', '#123456');
      d.body.classList.add('vscode-light');
    });
    await page.waitForFunction(() => { const g = globalThis as unknown as Win & { __p?: unknown }; return g.ganLoss.groups.get('loss-g')!.chart.plot !== g.__p; });
    assert.equal(await strokeOf(), '#123456', 'the axes use the new theme colour');
    const z6 = await ranges(page);
    assert.deepEqual([z6['loss-g'].xMin, z6['loss-g'].xMax, z6['loss-g'].zoomed], [z5['loss-g'].xMin, z5['loss-g'].xMax, true], 'the restyled chart kept its zoom');
    await page.locator('section[data-group="loss-g"] button.series-toggle[data-series="Loss/G/loss"]').click();
    await page.waitForFunction(() => (globalThis as unknown as Win).ganLoss.groups.get('loss-g')!.chart.plot!.series.slice(1).every((s) => !s.show));
    const z7 = await ranges(page);
    assert.deepEqual([z7['loss-g'].xMin, z7['loss-g'].xMax, z7['loss-g'].zoomed], [z5['loss-g'].xMin, z5['loss-g'].xMax, true], 'the chart rebuilt without the series kept its zoom');
    await page.locator('section[data-group="loss-g"] button.series-toggle[data-series="Loss/G/loss"]').click();

    await page.mouse.dblclick(box.x + box.width * 0.5, box.y + 20);
    assert.equal(await zoomed(), false);
    for (const [id, c] of Object.entries(await ranges(page))) assert.equal(c.zoomed, false, `${id}: double-click reset every chart`);

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

test('loss webview: an incomplete last line waits while the run trains, else counts as skipped; malformed host messages are reported, not used', { skip: !CHROMIUM && 'no Chromium found', timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-web-'));
  const file = path.join(dir, 'stats.jsonl');
  const torn = statsLine(10);
  fs.writeFileSync(file, Array.from({ length: 10 }, (_, i) => statsLine(i)).join('') + torn.slice(0, 40));
  const lp = await openLossPage({ dir, runInfo: { state: 'running' } });
  const { page, host, pageErrors, invalid } = lp;
  const reported: string[] = [];
  host.on('webviewError', (p) => reported.push(p.message));
  const attr = (sel: string, name: string) => page.locator(sel).getAttribute(name);
  const waitAttr = (sel: string, name: string, v: string) =>
    page.waitForFunction(([s, n, want]) => (globalThis as unknown as Win).document.querySelector(s)?.getAttribute(n) === want, [sel, name, v] as const, { timeout: 10_000 });
  try {
    await lp.goto();
    await waitAttr('#row-count', 'data-count', '10');
    // Live: the held line is waiting for its newline, not skipped.
    await waitAttr('#incomplete-line', 'data-count', '1');
    assert.equal(await page.locator('#incomplete-line').isVisible(), true);
    assert.equal(await page.locator('#incomplete-line').textContent(), '1 incomplete last line (waiting)');
    assert.equal(await attr('#skipped-lines', 'data-count'), '0');
    // The run stopped (status.json): the line is torn, counted as skipped.
    const base = { name: '00000-test', dir, origin: 'gan-inspector' as const, curKimg: 1, totalKimg: 2 };
    await host.emit('runInfo', { ...base, state: 'stopped' });
    await waitAttr('#skipped-lines', 'data-count', '1');
    assert.equal(await attr('#incomplete-line', 'data-count'), '0');
    assert.equal(await page.locator('#incomplete-line').isVisible(), false);
    // Running again, and the line stays unchanged across a poll: the host counts it as skipped itself.
    await host.emit('runInfo', { ...base, state: 'running' });
    await waitAttr('#incomplete-line', 'data-count', '1');
    await lp.pump();
    await waitAttr('#skipped-lines', 'data-count', '1');
    assert.equal(await attr('#incomplete-line', 'data-count'), '0');
    // Its rest arrives after all: one more row, nothing skipped.
    fs.appendFileSync(file, torn.slice(40));
    await lp.pump();
    await waitAttr('#row-count', 'data-count', '11');
    await waitAttr('#skipped-lines', 'data-count', '0');

    // Malformed host messages: dropped (title, rows unchanged) and reported to the host.
    const post = (m: unknown) => page.evaluate((t) => (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(JSON.parse(t), '*'), JSON.stringify(m));
    await post({ rpc: 1, kind: 'event', name: 'runInfo', payload: { ...base, name: 5, state: 'running' } });
    await post({ rpc: 1, kind: 'event', name: 'runInfo', payload: { ...base, state: 'exploded' } });
    await post({ rpc: 1, kind: 'event', name: 'stats', payload: { reset: true, start: 0, timestamp: [1, 2], kimg: [0], columns: {}, skipped: 0, sourceRows: 2 } });
    await post({ rpc: 1, kind: 'event', name: 'metrics', payload: { reset: true, series: [{ name: 'fid', kimg: [1], timestamp: [], value: [1] }], skipped: 0 } });
    await post({ rpc: 1, kind: 'event', name: 'openFile', payload: { target: 'log' } });
    for (let k = 0; k < 100 && reported.length < 5; k++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(reported, [
      "Loss panel ignored a message from the host: invalid payload for event 'runInfo'",
      "Loss panel ignored a message from the host: invalid payload for event 'runInfo'",
      "Loss panel ignored a message from the host: invalid payload for event 'stats'",
      "Loss panel ignored a message from the host: invalid payload for event 'metrics'",
      "Loss panel ignored a message from the host: unknown event 'openFile'",
    ]);
    assert.equal(await page.locator('#run-title').textContent(), '00000-test');
    assert.equal(await attr('#run-status', 'data-state'), 'running');
    assert.equal(await attr('#row-count', 'data-count'), '11');
    assert.equal(await page.locator('section[data-group="metrics"]').count(), 0);
    // A valid one is still used.
    await host.emit('runInfo', { ...base, state: 'finished' });
    await waitAttr('#run-status', 'data-state', 'finished');
    assert.deepEqual(invalid, []);
    assert.deepEqual(pageErrors, []);
  } finally {
    await lp.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
