/**
 * The real loss-curves bundle in a real Chromium (headless, via playwright-core), under the real CSP,
 * talking to the real host-side pieces (MessageHandler with the host validators, LossDataSource on a
 * run folder with 100,000 stats lines). Only acquireVsCodeApi is provided by the test page, as VS Code
 * would. Skipped when no Chromium is installed (set GAN_CHROMIUM to its path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import { MessageHandler, type RpcEnvelope } from '../../../src/shared/protocol/rpc';
import { lossHostValidators, type LossHostApi, type LossWebviewApi } from '../../../src/shared/protocol/panels';
import { LossDataSource } from '../../../src/host/loss/lossDataSource';
import { renderWebviewHtml, makeNonce } from '../../../src/host/webview/html';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The few browser globals the page callbacks use (the root tsconfig has no DOM lib, on purpose). */
interface El {
  getAttribute(name: string): string | null;
  dataset: Record<string, string | undefined>;
  click(): void;
}
interface Win {
  document: { querySelector(sel: string): El | null };
  postMessage(m: unknown, origin: string): void;
  __state?: { smoothing: number; logGroups: string[] };
  __csp: string[];
  ganLoss: { groups: Map<string, { chart: { isZoomed: boolean } }> };
}

const CHROMIUM = process.env.GAN_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));
const ORIGIN = 'https://webview.test';
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

test('loss webview: 100k points per series render, update live, read out on hover, zoom', { skip: !CHROMIUM && 'no Chromium found', timeout: 90_000 }, async () => {
  // Bundle exactly as esbuild.mjs does (in memory).
  const built = await esbuild.build({
    entryPoints: [path.join(ROOT, 'webview', 'loss', 'main.ts')],
    bundle: true, write: false, platform: 'browser', format: 'iife', target: ['chrome120'], outdir: '/out', logLevel: 'silent',
  });
  const js = built.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const css = built.outputFiles.find((f) => f.path.endsWith('.css'))!.text;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-web-'));
  const file = path.join(dir, 'stats.jsonl');
  const parts: string[] = [];
  for (let i = 0; i < N; i++) parts.push(statsLine(i));
  fs.writeFileSync(file, parts.join(''));

  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const page: Page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    const html = renderWebviewHtml({ cspSource: ORIGIN, nonce: makeNonce(), title: 'Loss', panel: 'loss', scriptUri: `${ORIGIN}/loss.js`, styleUris: [`${ORIGIN}/loss.css`] });
    await page.route(`${ORIGIN}/**`, (route) => {
      const u = new URL(route.request().url());
      if (u.pathname === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
      if (u.pathname === '/loss.js') return route.fulfill({ contentType: 'text/javascript', body: js });
      if (u.pathname === '/loss.css') return route.fulfill({ contentType: 'text/css', body: css });
      return route.fulfill({ status: 404, body: '' });
    });

    // The host end: validators on, data from the real tailer.
    const invalid: string[] = [];
    const source = new LossDataSource(dir);
    const host = new MessageHandler<LossHostApi, LossWebviewApi>({
      // As one JSON string: playwright's per-value argument serialisation would dominate the timing.
      post: async (m: RpcEnvelope) => { await page.evaluate((text) => (globalThis as unknown as Win).postMessage(JSON.parse(text), '*'), JSON.stringify(m)); },
      validators: lossHostValidators,
      onInvalid: (r) => invalid.push(r),
    });
    const pump = async () => {
      const u = await source.poll();
      for (const c of u.stats) await host.emit('stats', c);
      if (u.metrics) await host.emit('metrics', u.metrics);
    };
    let hello = 0;
    host.onRequest('hello', () => {
      hello++;
      source.restart();
      setTimeout(() => void pump(), 0);
      return { name: '00000-test', dir, origin: 'gan-inspector' as const, state: 'running' as const, curKimg: 1600, totalKimg: 2000, ggdr: true, backend: 'wasm' };
    });
    const opened: string[] = [];
    host.on('openFile', (p) => opened.push(p.target));
    await page.exposeFunction('__toHost', (m: unknown) => host.handle(m));
    // A string, not a function: tsx's keepNames would inject __name() calls the page does not have.
    await page.addInitScript(`
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__toHost(m),
        getState: () => window.__state,
        setState: (s) => { window.__state = s; },
      });
    `);

    const t0 = Date.now();
    await page.goto(`${ORIGIN}/index.html`);
    const rawCell = page.locator('#latest-values tr[data-series="Loss/G/loss"] td.raw');
    const lastG = JSON.parse(statsLine(N - 1))['Loss/G/loss'].mean;
    await page.waitForFunction((n) => (globalThis as unknown as Win).document.querySelector('#row-count')?.getAttribute('data-count') === String(n), N, { timeout: 60_000 });
    await assert.doesNotReject(async () => {
      await page.waitForFunction((v) => (globalThis as unknown as Win).document.querySelector('#latest-values tr[data-series="Loss/G/loss"] td.raw')?.getAttribute('data-value') === String(v), lastG, { timeout: 10_000 });
    });
    const loadMs = Date.now() - t0;
    assert.equal(hello, 1);
    assert.equal(await page.locator('#run-status').getAttribute('data-state'), 'running');
    assert.match((await page.locator('#run-status').textContent())!, /kimg 1600\/2000 · ggdr · wasm/);
    assert.equal(await page.locator('#latest-values tr[data-series="Loss/G/loss"] td.kimg').getAttribute('data-value'), String(Math.round((N - 1) * 16) / 1000));
    // Charts per group, in order.
    const groupsShown = await page.locator('section.group').evaluateAll((els) => els.map((e) => (e as unknown as El).dataset.group));
    assert.deepEqual(groupsShown, ['loss-g', 'ggdr', 'r1', 'loss-d', 'progress', 'timing']);
    assert.equal(await page.locator('section.group canvas').count(), 6);

    // Redraw cost with 100k points × 7 series on screen: reset zoom re-sets data on every chart.
    const redrawMs = await page.evaluate(async () => {
      const t = performance.now();
      (globalThis as unknown as Win).document.querySelector('#reset-zoom')!.click();
      await new Promise((r) => setTimeout(r, 0));
      return performance.now() - t;
    });

    // Live update: new lines → only they are sent → latest value changes.
    const before = host.pendingCount;
    fs.appendFileSync(file, statsLine(N) + statsLine(N + 1) + 'garbage line\n');
    await pump();
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
    console.log(`# webview: ${N} rows × 7 series loaded+drawn in ${loadMs} ms; full redraw of 6 charts ${redrawMs.toFixed(0)} ms`);
    assert.ok(redrawMs < 2000, `redraw took ${redrawMs} ms`);
  } finally {
    await browser.close();
  }
});
