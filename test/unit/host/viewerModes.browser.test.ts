/**
 * The checkpoint viewer's mode-coverage section in a real Chromium (headless, playwright-core): the real
 * viewer bundle under the real CSP, its host end wired as the panel wires it (describeSnapshot, the real
 * inference process for the grid and for Compute, readViewerModes on the run folder, the host validators).
 * A tiny MNIST run trained here with --metrics modes200_lenet: the chart draws that line (bar heights and
 * dataset ticks from the line's shares, a caption and a table for screen readers); Compute appends
 * modes2k_lenet and redraws with both; a run on a folder of images says why instead of offering Compute.
 * Skipped when no Chromium is installed (set GAN_CHROMIUM to its path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { PNG } from 'pngjs';
import { chromium, type Page } from 'playwright-core';
import { readMetrics } from '../../../src/core/runs/jsonlRead';
import { describeSnapshot } from '../../../src/host/inference/snapshotInfo';
import { modesUnavailableReason, readViewerModes } from '../../../src/host/panels/viewerModes';
import { renderWebviewHtml, makeNonce } from '../../../src/host/webview/html';
import { MessageHandler, type RpcEnvelope } from '../../../src/shared/protocol/rpc';
import { viewerHostValidators, type ViewerHostApi, type ViewerWebviewApi } from '../../../src/shared/protocol/panels/viewer';
import { DEFAULT_MODES_METRIC } from '../../../src/shared/modeCoverage';
import { MAX_SEEDS, parseSeedSpec } from '../../../src/shared/protocol/inference';
import { VSCODE_WEBVIEW_SHIM } from '../../../bench/lossWebviewPage';
import { newClient, tmpDir, trainTinyRun } from '../inference/helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHROMIUM = process.env.GAN_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));
const ORIGIN = 'https://webview.test';
const M = 'modes200_lenet';

interface Win { postMessage(m: unknown, origin: string): void; __csp: string[] }
interface Box { top: number; bottom: number; height: number }

test('viewer: class histogram of the snapshot\'s modes line, Compute, and the reason on a folder run', { skip: !CHROMIUM && 'no Chromium found', timeout: 240_000 }, async () => {
  const built = await esbuild.build({
    entryPoints: [path.join(ROOT, 'webview', 'viewer', 'main.ts')],
    bundle: true, write: false, platform: 'browser', format: 'iife', target: ['chrome120'], outdir: '/out', logLevel: 'silent',
  });
  const js = built.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const css = built.outputFiles.find((f) => f.path.endsWith('.css'))!.text;
  const tmp = tmpDir('gi-viewer-modes-');
  const client = await newClient();
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const mnist = await trainTinyRun(path.join(tmp, 'runs'), { metrics: [M] });
    const snap = mnist.snapshots.at(-1)!;
    const data = path.join(tmp, 'shapes');
    fs.mkdirSync(data);
    for (let i = 0; i < 8; i++) {
      const png = new PNG({ width: 16, height: 16 });
      for (let p = 0; p < 256; p++) png.data.set([(i * 30 + p) % 256, p % 256, 128, 255], p * 4);
      fs.writeFileSync(path.join(data, `s${i}.png`), PNG.sync.write(png));
    }
    const folder = await trainTinyRun(path.join(tmp, 'runs'), { data, seed: 1 });

    /** Opens the viewer page on a snapshot with its host end; returns the page and what the host saw. */
    async function open(dir: string): Promise<{ page: Page; invalid: string[]; errors: string[]; computed: string[] }> {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      const html = renderWebviewHtml({ cspSource: ORIGIN, nonce: makeNonce(), title: 'Checkpoint', panel: 'viewer', scriptUri: `${ORIGIN}/viewer.js`, styleUris: [`${ORIGIN}/viewer.css`] });
      await page.route(`${ORIGIN}/**`, (route) => {
        const p = new URL(route.request().url()).pathname;
        if (p === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
        if (p === '/viewer.js') return route.fulfill({ contentType: 'text/javascript', body: js });
        if (p === '/viewer.css') return route.fulfill({ contentType: 'text/css', body: css });
        return route.fulfill({ status: 404, body: '' });
      });
      const invalid: string[] = [];
      const computed: string[] = [];
      const host = new MessageHandler<ViewerHostApi, ViewerWebviewApi>({
        post: async (m: RpcEnvelope) => { await page.evaluate((text) => (globalThis as unknown as Win).postMessage(JSON.parse(text), '*'), JSON.stringify(m)); },
        validators: viewerHostValidators,
        onInvalid: (r) => invalid.push(r),
      });
      const info = await describeSnapshot(dir);
      host.onRequest('hello', async () => info);
      host.onRequest('render', async (p) => {
        const seeds = parseSeedSpec(p.seeds, MAX_SEEDS);
        if ('error' in seeds) throw new Error(seeds.error);
        const r = await client.call('render', { snapshot: dir, seeds: seeds.seeds, which: p.which, psi: p.psi, noiseMode: p.noiseMode, noiseSeed: p.noiseSeed });
        return { images: r.images, ms: r.ms, backend: r.backend, loaded: r.loaded };
      });
      host.onRequest('modes', () => readViewerModes(info));
      // As the panel does through Compute Metrics: the same inference request, appended to the run.
      host.onRequest('computeModes', async () => {
        const why = modesUnavailableReason(info);
        if (why) throw new Error(why);
        computed.push(DEFAULT_MODES_METRIC);
        await client.call('computeMetrics', { snapshot: dir, metrics: [DEFAULT_MODES_METRIC], append: true });
        return readViewerModes(info);
      });
      await page.exposeFunction('__toHost', (m: unknown) => host.handle(m));
      await page.addInitScript(VSCODE_WEBVIEW_SHIM);
      await page.goto(`${ORIGIN}/index.html`);
      return { page, invalid, errors, computed };
    }

    // 1. The MNIST run: the line training wrote, drawn.
    const v = await open(snap);
    const section = v.page.locator('#modes-section');
    await v.page.locator('#modes-section[data-state="shown"]').waitFor({ timeout: 30_000 });
    const line = (await readMetrics(mnist.runDir))[M].at(-1)!.results;
    const share = (c: number) => line[`${M}_class${c}`];
    const ref = (c: number) => line[`${M}_ref${c}`];
    const fig = v.page.locator(`figure.modes-chart[data-metric="${M}"]`);
    assert.equal(await fig.getAttribute('data-covered'), String(line[M]));
    assert.equal(Number(await fig.getAttribute('data-max-share')), line[`${M}_maxshare`]);
    assert.equal(Number(await fig.getAttribute('data-kl')), line[`${M}_kl`]);
    const caption = (await fig.locator('figcaption').textContent())!;
    assert.match(caption, new RegExp(`^${M}: ${line[M]} of 10 classes covered \\(≥ 1% of 200 samples\\) · largest class \\d with ${(line[`${M}_maxshare`] * 100).toFixed(1)}% · KL to the dataset ${line[`${M}_kl`].toFixed(3)} nats$`));
    assert.equal(await fig.getAttribute('aria-labelledby'), await fig.locator('figcaption').getAttribute('id'));
    // Geometry: bar height / plot height = share / axis top, the dataset tick at its share; uncovered bars marked.
    const plot = (await fig.locator('.modes-plot').boundingBox())!;
    const top = Number((await fig.locator('.axis-top').textContent())!.replace('%', '')) / 100;
    const maxVal = Math.max(...Array.from({ length: 10 }, (_, c) => Math.max(share(c), ref(c))));
    assert.equal(top, Math.ceil(maxVal * 10 - 1e-9) / 10, 'axis top: the largest value rounded up to 10%');
    const inner = await fig.locator('.modes-plot').evaluate((e) => (e as unknown as { clientHeight: number }).clientHeight);
    for (let c = 0; c < 10; c++) {
      const col = fig.locator(`.bar-col[data-class="${c}"]`);
      assert.equal(Number(await col.getAttribute('data-share')), share(c));
      assert.equal(Number(await col.getAttribute('data-reference')), ref(c));
      const bar = (await col.locator('.bar').boundingBox()) as Box | null;
      const h = bar?.height ?? 0;
      assert.ok(Math.abs(h - (inner * share(c)) / top) <= 1.01, `class ${c}: bar ${h}px for share ${share(c)} of ${top} on ${inner}px`);
      const tick = (await col.locator('.ref').boundingBox())!;
      const tickFromBottom = plot.y + plot.height - 1 - tick.y - 2; // border-bottom 1px; the tick's 2-px border sits above its bottom
      assert.ok(Math.abs(tickFromBottom - (inner * ref(c)) / top) <= 1.5, `class ${c}: dataset tick ${tickFromBottom}px for ${ref(c)}`);
      assert.equal((await col.locator('.bar').getAttribute('class'))!.includes('uncovered'), share(c) < 0.01);
    }
    // Screen readers: a table of every class with both shares.
    const rows = await fig.locator('table.modes-table tbody tr').allTextContents();
    assert.deepEqual(rows, Array.from({ length: 10 }, (_, c) => `${c}${(share(c) * 100).toFixed(1)}%${(ref(c) * 100).toFixed(1)}%`));
    assert.equal(await fig.locator('.modes-plot').getAttribute('aria-hidden'), 'true');
    assert.equal(await v.page.locator('#modes-compute').textContent(), 'Recompute');

    // 2. Compute: modes2k_lenet appended through the inference process, both charts, the default first.
    await v.page.locator('#modes-compute').click();
    await v.page.locator(`figure.modes-chart[data-metric="${DEFAULT_MODES_METRIC}"]`).waitFor({ timeout: 120_000 });
    assert.deepEqual(v.computed, [DEFAULT_MODES_METRIC]);
    assert.deepEqual(await v.page.locator('figure.modes-chart').evaluateAll((fs) => fs.map((f) => f.getAttribute('data-metric'))), [DEFAULT_MODES_METRIC, M]);
    const two = (await readMetrics(mnist.runDir))[DEFAULT_MODES_METRIC];
    assert.equal(two.length, 1);
    assert.equal(await v.page.locator(`figure.modes-chart[data-metric="${DEFAULT_MODES_METRIC}"]`).getAttribute('data-covered'), String(two[0].results[DEFAULT_MODES_METRIC]));
    assert.match((await v.page.locator('#modes-note').textContent())!, /^From the run's metric-modes2k_lenet\.jsonl/);
    assert.equal(await section.getAttribute('data-state'), 'shown');
    await v.page.screenshot({ path: path.join(tmp, 'viewer-modes.png'), fullPage: true });
    if (process.env.GAN_SCREENSHOT_DIR) fs.copyFileSync(path.join(tmp, 'viewer-modes.png'), path.join(process.env.GAN_SCREENSHOT_DIR, 'viewer-modes.png'));
    assert.deepEqual(v.invalid, []);
    assert.deepEqual(await v.page.evaluate(() => (globalThis as unknown as Win).__csp), [], 'no CSP violations (bar heights go through CSS variables)');
    assert.deepEqual(v.errors, []);

    // 3. The folder run: the reason, no Compute button, no chart.
    const f = await open(folder.snapshots.at(-1)!);
    await f.page.locator('#modes-section[data-state="unavailable"]').waitFor({ timeout: 30_000 });
    assert.match((await f.page.locator('#modes-note').textContent())!, /^Mode coverage is not defined for this run: .*This run trained on 'shapes', whose classes LeNet does not know/);
    assert.equal(await f.page.locator('#modes-compute').isVisible(), false);
    assert.equal(await f.page.locator('figure.modes-chart').count(), 0);
    assert.deepEqual(f.invalid, []);
    assert.deepEqual(f.errors, []);
  } finally {
    await browser.close();
    client.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
