/**
 * The real loss-curves webview in a real Chromium (headless, via playwright-core), under the real CSP,
 * talking to the real host-side pieces (MessageHandler with the host validators, LossDataSource on a run
 * folder). Only acquireVsCodeApi is provided by the page, as VS Code would. Shared by
 * test/unit/host/lossWebview.browser.test.ts (behaviour) and the bench's `webview` mode (timings).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { MessageHandler, type RpcEnvelope } from '../src/shared/protocol/rpc';
import { lossHostValidators, type LossHostApi, type LossRunInfo, type LossWebviewApi } from '../src/shared/protocol/panels/loss';
import { LossDataSource, type LossDataSourceOptions } from '../src/host/loss/lossDataSource';
import { renderWebviewHtml, makeNonce } from '../src/host/webview/html';

const ROOT = path.resolve(__dirname, '..');

/** Chromium to drive: $GAN_CHROMIUM, else the first system Chromium / Chrome found; undefined when there is none. */
export const CHROMIUM: string | undefined = process.env.GAN_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));

/** Origin the page and its resources are served from (the CSP's webview source). */
export const WEBVIEW_ORIGIN = 'https://webview.test';

/** The loss panel's bundle, built as esbuild.mjs does (in memory). */
export async function buildLossBundle(): Promise<{ js: string; css: string }> {
  const built = await esbuild.build({
    entryPoints: [path.join(ROOT, 'webview', 'loss', 'main.ts')],
    bundle: true, write: false, platform: 'browser', format: 'iife', target: ['chrome120'], outdir: '/out', logLevel: 'silent',
  });
  const text = (ext: string) => built.outputFiles.find((f) => f.path.endsWith(ext))!.text;
  return { js: text('.js'), css: text('.css') };
}

export interface LossPageOptions {
  /** Run folder the LossDataSource follows. */
  dir: string;
  source?: LossDataSourceOptions;
  /** What the host answers to `hello` (dir is always `dir`). */
  runInfo?: Partial<LossRunInfo>;
  viewport?: { width: number; height: number };
  /** A bundle already built (buildLossBundle), to build it once for several pages. */
  bundle?: { js: string; css: string };
  /** A browser to open the page in (kept open by close()); by default one is launched and closed with the page. */
  browser?: Browser;
  /** Keep every message text posted to the page in LossPage.posted (the bench replays them to time the transport alone). */
  keepPosts?: boolean;
}

/** What the page helper reports per chart (window.__lossPage.charts()). */
export interface ChartInfo {
  rows: number; series: number; lines: number; xMin: number; xMax: number; dataMin: number; dataMax: number;
  zoomed: boolean; yDistr: number; width: number;
}

/** The page globals INIT_SCRIPT installs (for page.evaluate callbacks: `globalThis as unknown as LossPageGlobals`). */
export interface LossPageGlobals {
  /** Every message the page received: RPC name and arrival time (page clock). */
  __messages: Array<{ name?: string; t: number }>;
  /** Every render's row count (stats.jsonl lines shown) and plotted rows, with its time. */
  __rowCounts: Array<{ count: number; plotted: number; t: number }>;
  /** performance.now() of the latest canvas stroke (0: none yet). */
  __lastDraw: number;
  __lossPage: {
    charts(): Record<string, ChartInfo>;
    points(): number;
    resetZoom(): Promise<number>;
    toggleLog(groupId: string): Promise<number>;
    resize(width: number): Promise<number>;
  };
}

/** Host-side cost of one pump (poll the data source, post every chunk). */
export interface PumpTiming { pollMs: number; postMs: number; chunks: number; sentBytes: number }

/** A Chromium page showing the loss webview, wired to a LossDataSource. */
export interface LossPage {
  page: Page;
  source: LossDataSource;
  host: MessageHandler<LossHostApi, LossWebviewApi>;
  /** Page errors and console errors. */
  pageErrors: string[];
  /** Webview messages the host validators rejected. */
  invalid: string[];
  /** Targets of the webview's openFile events. */
  opened: string[];
  /** hello requests received. */
  readonly helloCount: number;
  /** Every pump so far (the first comes from the webview's hello). */
  pumps: PumpTiming[];
  /** Message texts posted to the page, in order (only with keepPosts). */
  posted: string[];
  /** Polls the data source and posts what is new, as the panel's poll timer does. */
  pump(): Promise<void>;
  /** Navigates to the panel (the webview says hello; the host resets the source and streams everything). */
  goto(): Promise<void>;
  /**
   * Waits until the webview's row count (stats.jsonl lines shown) is `rows`; the render that sets it has
   * drawn every chart. Returns when that was, in ms since the page's navigation started (page clock).
   */
  /** Page time at which every chart has been drawn with `rows` rows (the last canvas stroke after the row count showed them). */
  waitForRows(rows: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * What VS Code gives a webview page, for tests and benches that load a real webview bundle in a plain
 * page: acquireVsCodeApi() (postMessage → the page's exposed __toHost function, state in window.__state)
 * and CSP violations collected in window.__csp. Add it with page.addInitScript before navigating.
 */
export const VSCODE_WEBVIEW_SHIM = `
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__toHost(m),
    getState: () => window.__state,
    setState: (s) => { window.__state = s; },
  });
`;

/**
 * Page-side instrumentation: the arrival time of every message, every change of #row-count with its time (a MutationObserver's callback is a
 * microtask queued by renderStatus, after the uPlot commits renderCharts queued, so the charts are drawn by
 * then), and helpers the bench and the test call through page.evaluate. A string, not a function: tsx's
 * keepNames would inject __name() calls the page does not have.
 */
const INIT_SCRIPT = `${VSCODE_WEBVIEW_SHIM}
  window.__messages = [];
  window.addEventListener('message', (e) => window.__messages.push({ name: e.data && e.data.name, t: performance.now() }), true);
  window.__rowCounts = [];
  // Time of the latest canvas stroke: when uPlot really drew (its first draw can come after the row count changed).
  window.__lastDraw = 0;
  const stroke = CanvasRenderingContext2D.prototype.stroke;
  CanvasRenderingContext2D.prototype.stroke = function (...args) { window.__lastDraw = performance.now(); return stroke.apply(this, args); };
  new MutationObserver(() => {
    const el = document.getElementById('row-count');
    if (el) window.__rowCounts.push({ count: Number(el.dataset.count), plotted: Number(el.dataset.plotted), t: performance.now() });
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-count', 'data-plotted'] });
  const nextTask = () => new Promise((r) => setTimeout(r, 0));
  const until = async (cond, what) => {
    const t0 = performance.now();
    while (!cond()) {
      if (performance.now() - t0 > 30000) throw new Error('timed out waiting for ' + what);
      await nextTask();
    }
    return performance.now();
  };
  window.__lossPage = {
    /** uPlot instance of every chart, by group id. */
    plots() {
      const out = {};
      for (const [id, g] of window.ganLoss.groups) if (g.chart.plot) out[id] = g.chart.plot;
      return out;
    },
    /** Per chart: rows, series, drawn lines (raw and smoothed), shown x range vs data range, zoom, y distribution. */
    charts() {
      const out = {};
      for (const [id, p] of Object.entries(this.plots())) {
        const x = p.data[0];
        out[id] = { rows: x.length, series: window.ganLoss.groups.get(id).names.length, lines: p.series.slice(1).filter((s) => s.show).length, xMin: p.scales.x.min, xMax: p.scales.x.max,
          dataMin: x[0], dataMax: x[x.length - 1], zoomed: window.ganLoss.groups.get(id).chart.isZoomed, yDistr: p.scales.y.distr, width: p.width };
      }
      return out;
    },
    /** Points drawn: rows × shown lines, summed over the charts. */
    points() {
      let n = 0;
      for (const c of Object.values(this.charts())) n += c.rows * c.lines;
      return n;
    },
    /** ms for "Reset zoom": every chart gets its data again and redraws the full range. */
    async resetZoom() {
      const t = performance.now();
      document.querySelector('#reset-zoom').click();
      await nextTask();
      return performance.now() - t;
    },
    /** ms from ticking a group's log-scale box until the charts were re-rendered (that chart rebuilt, every other one re-set). */
    async toggleLog(id) {
      const box = document.getElementById('log-' + id);
      const want = box.checked ? 1 : 3;
      const t = performance.now();
      box.shadowRoot.querySelector('label').click(); // what a mouse click on the vscode-checkbox hits (the host element ignores click())
      const end = await until(() => this.plots()[id]?.scales.y.distr === want, 'the log-scale redraw');
      return end - t;
    },
    /** ms from a width change (at a frame start) until every chart was resized and redrawn. */
    async resize(width) {
      await new Promise((r) => requestAnimationFrame(r));
      const before = Object.values(this.plots()).map((p) => p.width);
      const t = performance.now();
      document.body.style.width = width + 'px';
      const end = await until(() => Object.values(this.plots()).every((p, i) => p.width !== before[i] && p.width === Math.max(200, p.root.parentElement.clientWidth)), 'the resize redraw');
      return end - t;
    },
  };
`;

/** Opens the loss webview on `o.dir` (not navigated yet: call goto()). */
export async function openLossPage(o: LossPageOptions): Promise<LossPage> {
  const bundle = o.bundle ?? (await buildLossBundle());
  const browser = o.browser ?? (await chromium.launch({ executablePath: CHROMIUM }));
  try {
    const page = await browser.newPage({ viewport: o.viewport ?? { width: 1200, height: 1600 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    const html = renderWebviewHtml({ cspSource: WEBVIEW_ORIGIN, nonce: makeNonce(), title: 'Loss', panel: 'loss', scriptUri: `${WEBVIEW_ORIGIN}/loss.js`, styleUris: [`${WEBVIEW_ORIGIN}/loss.css`] });
    await page.route(`${WEBVIEW_ORIGIN}/**`, (route) => {
      const u = new URL(route.request().url());
      if (u.pathname === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
      if (u.pathname === '/loss.js') return route.fulfill({ contentType: 'text/javascript', body: bundle.js });
      if (u.pathname === '/loss.css') return route.fulfill({ contentType: 'text/css', body: bundle.css });
      return route.fulfill({ status: 404, body: '' });
    });

    // The host end: validators on, data from the real tailer.
    const invalid: string[] = [];
    const opened: string[] = [];
    const pumps: PumpTiming[] = [];
    let sent = 0;
    const posted: string[] = [];
    const source = new LossDataSource(o.dir, undefined, o.source);
    const host = new MessageHandler<LossHostApi, LossWebviewApi>({
      // As one JSON string: playwright's per-value argument serialisation would dominate the timing.
      post: async (m: RpcEnvelope) => {
        const text = JSON.stringify(m);
        sent += text.length;
        if (o.keepPosts) posted.push(text);
        await page.evaluate((t) => (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(JSON.parse(t), '*'), text);
      },
      validators: lossHostValidators,
      onInvalid: (r) => invalid.push(r),
    });
    const pump = async () => {
      const t0 = performance.now();
      const u = await source.poll();
      const t1 = performance.now();
      const sent0 = sent;
      for (const c of u.stats) await host.emit('stats', c);
      if (u.metrics) await host.emit('metrics', u.metrics);
      pumps.push({ pollMs: t1 - t0, postMs: performance.now() - t1, chunks: u.stats.length, sentBytes: sent - sent0 });
    };
    let hello = 0;
    const runInfo: LossRunInfo = { name: '00000-test', origin: 'gan-inspector', state: 'running', curKimg: 1600, totalKimg: 2000, ggdr: true, backend: 'wasm', ...o.runInfo, dir: o.dir };
    host.onRequest('hello', () => {
      hello++;
      source.restart();
      setTimeout(() => void pump(), 0);
      return runInfo;
    });
    host.on('openFile', (p) => opened.push(p.target));
    await page.exposeFunction('__toHost', (m: unknown) => host.handle(m));
    await page.addInitScript(INIT_SCRIPT);

    return {
      page, source, host, pageErrors, invalid, opened, pumps, posted, pump,
      get helloCount() { return hello; },
      goto: async () => { await page.goto(`${WEBVIEW_ORIGIN}/index.html`); },
      waitForRows: async (rows, timeoutMs = 60_000) => {
        const h = await page.waitForFunction((n) => (globalThis as unknown as LossPageGlobals).__rowCounts.find((r) => r.count === n)?.t, rows, { timeout: timeoutMs });
        const shownAt = (await h.jsonValue()) as number;
        // Then until the canvases have been quiet for 250 ms: the last stroke is when the charts were drawn.
        const q = await page.waitForFunction((t0) => {
          const g = globalThis as unknown as LossPageGlobals;
          return performance.now() - Math.max(g.__lastDraw, t0) > 250 ? Math.max(g.__lastDraw, t0) : 0;
        }, shownAt, { timeout: timeoutMs, polling: 50 });
        return (await q.jsonValue()) as number;
      },
      close: async () => { await (o.browser ? page.close() : browser.close()); },
    };
  } catch (e) {
    if (!o.browser) await browser.close();
    throw e;
  }
}
