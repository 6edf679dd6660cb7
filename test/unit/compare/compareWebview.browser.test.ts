/**
 * The real compare bundle in a real Chromium (headless, via playwright-core), under the real CSP, fed by
 * the real host-side pieces (compareData on the official fixture runs and two of our synthetic runs,
 * MessageHandler with the host validators). Only acquireVsCodeApi is provided by the page, as VS Code
 * would. Skipped when no Chromium is installed (set GAN_CHROMIUM to its path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { PNG } from 'pngjs';
import { chromium, type Page } from 'playwright-core';
import { appendMetricLine } from '../../../src/core/runs/runDir';
import { makeMetricLine } from '../../../src/core/metrics/index';
import { modeCoverage, modeResults } from '../../../src/core/metrics/modes';
import { compareInfo, loadCompareRuns, readCompareSeries, type LoadedRun } from '../../../src/host/panels/compareData';
import { renderWebviewHtml, makeNonce } from '../../../src/host/webview/html';
import { MessageHandler, type RpcEnvelope } from '../../../src/shared/protocol/rpc';
import { compareHostValidators, type CompareHostApi, type CompareWebviewApi } from '../../../src/shared/protocol/panels/compare';
import { VSCODE_WEBVIEW_SHIM } from '../../../bench/lossWebviewPage';
import { BASE_NAME, GGDR_NAME, makeTmp, metricLine, officialRuns, ourRuns, rmTmp } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHROMIUM = process.env.GAN_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));
const ORIGIN = 'https://webview.test';
const MODES = 'modes2k_lenet';

/** The few browser globals the page callbacks use (the root tsconfig has no DOM lib, on purpose). */
interface Canvas { getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }
interface Win {
  document: { querySelector(sel: string): unknown };
  postMessage(m: unknown, origin: string): void;
  __state?: Record<string, unknown>;
  __csp: string[];
}

/** A 4×4 grid of 16-px gray cells, cell i = gray i·16 (the tiny preset's fakes layout). */
function seedGrid(): Buffer {
  const png = new PNG({ width: 64, height: 64 });
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      const i = Math.floor(y / 16) * 4 + Math.floor(x / 16);
      const o = (y * 64 + x) * 4;
      png.data[o] = png.data[o + 1] = png.data[o + 2] = i * 16;
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

test('compare webview: table, option diff, overlaid curves, grids and seed cells from real runs', { skip: !CHROMIUM && 'no Chromium found', timeout: 90_000 }, async () => {
  const built = await esbuild.build({
    entryPoints: [path.join(ROOT, 'webview', 'compare', 'main.ts')],
    bundle: true, write: false, platform: 'browser', format: 'iife', target: ['chrome120'], outdir: '/out', logLevel: 'silent',
  });
  const js = built.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const css = built.outputFiles.find((f) => f.path.endsWith('.css'))!.text;

  const root = await makeTmp('gi-compare-web-');
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const off = await officialRuns(root);
    const our = await ourRuns(root);
    fs.writeFileSync(path.join(our.ggdr, 'fakes000003.png'), seedGrid());
    // Mode coverage at kimg 3 (#14): GGDR covers 10 classes with a 12.5% top class, the baseline 4 with 70%.
    await appendMetricLine(our.ggdr, makeMetricLine(MODES, modeResults(MODES, modeCoverage([200, 200, 200, 200, 200, 200, 200, 200, 250, 150], Array(10).fill(200))), 30, 'network-snapshot-000003', 1_700_000_400));
    await appendMetricLine(our.base, makeMetricLine(MODES, modeResults(MODES, modeCoverage([1400, 200, 200, 200, 0, 0, 0, 0, 0, 0], Array(10).fill(200))), 30, 'network-snapshot-000003', 1_700_000_400));
    const dirs = [off.ggdr, off.base, our.ggdr, our.base];
    const ourGgdr = path.basename(our.ggdr);
    const ourBase = path.basename(our.base);

    const page: Page = await browser.newPage({ viewport: { width: 1300, height: 1800 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    const html = renderWebviewHtml({ cspSource: ORIGIN, nonce: makeNonce(), title: 'Compare', panel: 'compare', scriptUri: `${ORIGIN}/compare.js`, styleUris: [`${ORIGIN}/compare.css`] });
    const served: string[] = [];
    await page.route(`${ORIGIN}/**`, (route) => {
      const u = new URL(route.request().url());
      if (u.pathname === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
      if (u.pathname === '/compare.js') return route.fulfill({ contentType: 'text/javascript', body: js });
      if (u.pathname === '/compare.css') return route.fulfill({ contentType: 'text/css', body: css });
      const file = u.searchParams.get('p') ?? '';
      // Like localResourceRoots: only files inside the compared run folders.
      if (u.pathname === '/file' && dirs.some((d) => file.startsWith(d + path.sep)) && fs.existsSync(file)) {
        served.push(path.basename(file));
        return route.fulfill({ contentType: 'image/png', body: fs.readFileSync(file) });
      }
      return route.fulfill({ status: 404, body: '' });
    });

    // The host end, as the panel wires it.
    const invalid: string[] = [];
    let runs: LoadedRun[] = [];
    const uriOf = (f: string) => `${ORIGIN}/file?p=${encodeURIComponent(f)}`;
    const load = async () => {
      const r = await loadCompareRuns(dirs, () => false);
      runs = r.runs;
      return compareInfo(r.runs, r.errors, uriOf);
    };
    const host = new MessageHandler<CompareHostApi, CompareWebviewApi>({
      post: async (m: RpcEnvelope) => { await page.evaluate((text) => (globalThis as unknown as Win).postMessage(JSON.parse(text), '*'), JSON.stringify(m)); },
      validators: compareHostValidators,
      onInvalid: (r) => invalid.push(r),
    });
    host.onRequest('hello', load);
    const keys: string[] = [];
    host.onRequest('series', async ({ key }) => {
      keys.push(key);
      return { key, runs: await Promise.all(runs.map((r) => readCompareSeries(r, key))) };
    });
    const exports: string[] = [];
    host.onRequest('exportTable', ({ format }) => { exports.push(format); return { cancelled: true as const }; });
    const opened: string[] = [];
    host.on('openLossCurves', ({ run }) => opened.push(run));
    await page.exposeFunction('__toHost', (m: unknown) => host.handle(m));
    await page.addInitScript(VSCODE_WEBVIEW_SHIM);
    await page.goto(`${ORIGIN}/index.html`);

    // Table: one row per run, stable cells.
    const td = (run: string, col: string) => page.locator(`#runs-table tr[data-run="${run}"] td[data-col="${col}"]`);
    try {
      await td(GGDR_NAME, 'ggdr').waitFor({ timeout: 15_000 });
    } catch (e) {
      throw new Error(`table did not render: ${(e as Error).message}\nstatus: ${await page.locator('#compare-status').textContent()}\npage errors: ${pageErrors.join('\n')}\ninvalid: ${invalid.join('\n')}`);
    }
    assert.equal(await page.locator('#compare-status').getAttribute('data-runs'), '4');
    assert.equal(await td(GGDR_NAME, 'ggdr').getAttribute('data-value'), 'on');
    assert.equal(await td(BASE_NAME, 'ggdr').getAttribute('data-value'), 'off');
    assert.equal(await td(GGDR_NAME, 'fid50k_full.best').getAttribute('data-value'), '243.0417');
    assert.equal(await td(GGDR_NAME, 'fid50k_full.best').textContent(), '243.04');
    assert.equal(await td(GGDR_NAME, 'fid50k_full.best_kimg').getAttribute('data-value'), '12');
    assert.match((await td(GGDR_NAME, 'fid50k_full.best').getAttribute('class'))!, /\bbest\b/, 'lowest FID marked');
    assert.equal(await td(ourGgdr, 'fid2k_lenet.best').getAttribute('data-value'), '60');
    assert.equal(await td(ourGgdr, 'fid2k_lenet.best_kimg').getAttribute('data-value'), '2');
    assert.equal(await td(ourGgdr, 'fid50k_full.best').getAttribute('data-value'), '');
    assert.equal(await td(ourGgdr, 'backend').textContent(), 'wasm');
    assert.equal(await td(BASE_NAME, 'total_kimg').getAttribute('data-value'), '12');
    // Mode coverage: the most classes covered and the smallest top share are the bests.
    const share = `${MODES}/${MODES}_maxshare`;
    assert.deepEqual([await td(ourGgdr, `${MODES}.best`).textContent(), await td(ourBase, `${MODES}.best`).textContent()], ['10', '4']);
    assert.match((await td(ourGgdr, `${MODES}.best`).getAttribute('class'))!, /\bbest\b/, 'most classes covered marked');
    assert.doesNotMatch((await td(ourBase, `${MODES}.best`).getAttribute('class'))!, /\bbest\b/);
    assert.match((await td(ourGgdr, `${share}.best`).getAttribute('class'))!, /\bbest\b/, 'smallest largest-class share marked');
    assert.equal(await td(ourBase, `${share}.final`).textContent(), '0.7');
    assert.equal(await page.locator(`#runs-table th.group`, { hasText: `${MODES} classes covered` }).getAttribute('colspan'), '4');

    // Option diff: compared within each trainer.
    const dv = (key: string, run: string) => page.locator(`#option-diff tr[data-key="${key}"] td[data-run="${run}"]`);
    assert.equal(await dv('reg_type', GGDR_NAME).textContent(), 'ggdr');
    assert.equal(await dv('reg_type', BASE_NAME).textContent(), 'none');
    assert.equal(await dv('reg_type', ourGgdr).getAttribute('data-na'), 'true');
    assert.equal(await dv('loss_kwargs.ggdr_res', GGDR_NAME).getAttribute('data-value'), '8');
    assert.equal(await dv('loss_kwargs.ggdr_res', BASE_NAME).getAttribute('data-present'), 'false');
    assert.equal(await dv('ggdr.enabled', ourGgdr).textContent(), 'true');
    assert.equal(await dv('ggdr.enabled', ourBase).textContent(), 'false');
    assert.equal(await page.locator('#option-diff tr[data-key="total_kimg"]').count(), 0);

    // Curves: no FID is shared by all four runs, so G's loss first; then a metric; then the GGDR term (official: Loss/D/loss_gen_reg).
    const chartKey = (key: string) => page.waitForFunction((k) => ((globalThis as unknown as Win).document.querySelector('#chart') as { dataset?: Record<string, string> } | null)?.dataset?.key === k, key, { timeout: 15_000 });
    await chartKey('Loss/G/loss');
    assert.equal(await page.locator('#scalar').inputValue(), 'Loss/G/loss');
    const points = (run: string) => page.locator(`#series-legend button[data-run="${run}"]`).getAttribute('data-points');
    assert.deepEqual(await Promise.all([GGDR_NAME, BASE_NAME, ourGgdr, ourBase].map(points)), ['4', '4', '3', '3']);
    await page.locator('#scalar').selectOption('Metrics/fid50k_full');
    await chartKey('Metrics/fid50k_full');
    assert.deepEqual(await Promise.all([GGDR_NAME, BASE_NAME, ourGgdr, ourBase].map(points)), ['4', '4', '0', '0']);
    await page.locator('#scalar').selectOption('Loss/D/ggdr');
    await chartKey('Loss/D/ggdr');
    assert.equal(await page.locator(`#series-legend button[data-run="${GGDR_NAME}"]`).getAttribute('data-points'), '4');
    assert.equal(await page.locator(`#series-legend button[data-run="${BASE_NAME}"]`).getAttribute('data-points'), '0');
    assert.match((await page.locator('#series-source').textContent())!, new RegExp(`${GGDR_NAME}: Loss/D/loss_gen_reg`));
    assert.match((await page.locator('#scalar option:checked').textContent())!, /GGDR term \(official runs: Loss\/D\/loss_gen_reg\) \(1 of 4 runs\)/);
    // Hover read-out: the exact official value at the hovered kimg.
    await page.locator('#smoothing').fill('0');
    // The chart is rebuilt without smoothed series after the 60 ms debounce.
    await page.waitForTimeout(300);
    const over = page.locator('#chart .u-over');
    await over.waitFor();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + 2, box.y + box.height / 2);
    const hv = page.locator(`#hover-readout span.value[data-run="${GGDR_NAME}"]`);
    await hv.waitFor({ timeout: 5000 });
    assert.equal(Number(await hv.getAttribute('data-value')), 10.403884887695312);
    assert.deepEqual(keys, ['Loss/G/loss', 'Metrics/fid50k_full', 'Loss/D/ggdr']);

    // Samples: latest grid of each run; official ones say their cells are not seeds.
    const fig = (run: string) => page.locator(`#samples figure[data-run="${run}"]`);
    assert.equal(await page.locator('#samples figure').count(), 4);
    assert.equal(await fig(GGDR_NAME).getAttribute('data-file'), 'fakes000012.png');
    assert.equal(await fig(ourGgdr).getAttribute('data-kimg'), '3');
    await page.waitForFunction(() => [...((globalThis as unknown as Win).document as unknown as { querySelectorAll(s: string): Iterable<{ complete: boolean; naturalWidth: number }> }).querySelectorAll('#samples img')].every((i) => i.complete && i.naturalWidth > 0));
    assert.match((await fig(BASE_NAME).locator('.note').textContent())!, /no loadable \.pkl snapshot to render the same seeds from/);
    // Same seeds, cell by cell: cell i of our grid is seed i.
    await page.locator('#sample-mode').selectOption('cells');
    await page.locator('#cell-seeds').fill('1, 5, 99');
    const cellValue = (seed: number) => page.evaluate(({ run, seed }) => {
      const c = (globalThis as unknown as Win).document.querySelector(`#samples figure[data-run="${run}"] canvas[data-seed="${seed}"]`) as Canvas | null;
      return c ? c.getContext('2d').getImageData(8, 8, 1, 1).data[0] : -1;
    }, { run: ourGgdr, seed });
    await page.waitForFunction((run) => !!(globalThis as unknown as Win).document.querySelector(`#samples figure[data-run="${run}"] canvas[data-seed="99"].missing`), ourGgdr, { timeout: 5000 });
    assert.equal(await cellValue(1), 16);
    assert.equal(await cellValue(5), 80);
    assert.equal(await fig(GGDR_NAME).locator('canvas').count(), 0, 'official: whole grid, no seed cells');
    await page.locator('#cell-seeds').fill('5-1');
    await page.waitForFunction(() => (((globalThis as unknown as Win).document.querySelector('#cell-seeds-error') as { textContent: string } | null)?.textContent ?? '').includes('backwards'));

    // Live update: a new metric line on disk → the host re-sends info → the table follows.
    await appendMetricLine(our.base, metricLine('fid2k_lenet', 50, 'network-snapshot-000004', 1_700_000_300));
    await host.emit('info', await load());
    await page.waitForFunction((run) => ((globalThis as unknown as Win).document.querySelector(`#runs-table tr[data-run="${run}"] td[data-col="fid2k_lenet.best"]`) as { getAttribute(n: string): string | null } | null)?.getAttribute('data-value') === '50', ourBase);
    assert.equal(await td(ourBase, 'fid2k_lenet.best_kimg').getAttribute('data-value'), '4');

    // Links and export reach the host validated; state is persisted for the serializer.
    await td(BASE_NAME, 'run').locator('button').click();
    await page.locator('#export-csv').click();
    await page.locator('#export-md').click();
    for (let k = 0; k < 50 && exports.length < 2; k++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(opened, [BASE_NAME]);
    assert.deepEqual(exports.sort(), ['csv', 'markdown']);
    const state = await page.evaluate(() => (globalThis as unknown as Win).__state);
    assert.deepEqual({ ...state, seeds: undefined }, { v: 1, runDirs: dirs, scalar: 'Loss/D/ggdr', smoothing: 0, log: false, gridKimg: 'latest', gridMode: 'cells', seeds: undefined, hidden: [] });
    assert.ok(served.includes('fakes000012.png') && served.includes('fakes000003.png'));
    await page.screenshot({ path: path.join(root, 'compare.png'), fullPage: true });
    if (process.env.GAN_SCREENSHOT_DIR) fs.copyFileSync(path.join(root, 'compare.png'), path.join(process.env.GAN_SCREENSHOT_DIR, 'compare-webview.png'));
    assert.deepEqual(invalid, []);
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Win).__csp), [], 'no CSP violations');
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await rmTmp(root);
  }
});
