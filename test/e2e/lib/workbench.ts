/**
 * Drives a code-server workbench in headless Debian Chromium through playwright-core, and records
 * every console message, page error and Content-Security-Policy violation of the page and its webviews.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as PlaywrightCore from 'playwright-core';
import type { BrowserContext, CDPSession, ConsoleMessage, FrameLocator, Locator, Page } from 'playwright-core';
import { E2E_OUTPUT, HARNESS_DIR } from './codeServer';

/** Where `screenshot()` writes. */
export const SCREENSHOT_DIR = path.join(E2E_OUTPUT, 'screenshots');

/** Where a console message came from: the workbench itself or an extension webview. */
export type FrameKind = 'workbench' | 'webview';

export interface ConsoleEntry {
  type: string;
  text: string;
  /** Script or document URL the message came from ('' when unknown). */
  url: string;
  frame: FrameKind;
  /** Milliseconds since the workbench was opened. */
  at: number;
}

export interface CspViolation {
  /** How it was seen: a `securitypolicyviolation` event, a "Refused to …" console line, or a DevTools issue. */
  via: 'event' | 'console' | 'devtools-issue';
  text: string;
  url: string;
  frame: FrameKind;
}

export interface Notification {
  severity: 'error' | 'warning' | 'info';
  message: string;
  /** e.g. "GAN Inspector" for notifications shown by an extension. */
  source: string;
}

export interface WorkbenchOptions {
  /** Folder for the Chromium profile and the console dump. */
  workDir: string;
  viewport?: { width: number; height: number };
  /** Milliseconds to wait for the workbench to appear (default 90 000). */
  readyTimeoutMs?: number;
  /** Only webviews of this extension are considered by webviewFrame() (default: any). */
  extensionId?: string;
}

const CHROMIUM = process.env.GAN_E2E_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const WEBVIEW_URL = /\/contrib\/webview\/browser\/pre\/|vscode-webview|fake\.html/;
const CSP_CONSOLE = /Refused to (load|execute|apply|connect|frame|create|evaluate|compile|run|send|prefetch)|violates the following Content Security Policy/i;
const CSP_EVENT_TAG = '[e2e-csp-violation]';
/** Errors code-server's workbench logs on every start, unrelated to any extension (no vsda module in code-server). */
export const BENIGN_ERRORS: RegExp[] = [/404 \(Not Found\) \(http:\/\/127\.0\.0\.1:\d+\/[^)]*\/vsda(_bg)?\.(wasm|js)\)/];

// Runs in every frame before its own scripts: reports CSP violations through the console, where
// the Node side collects them. (Webview content documents are written with document.open(), which
// drops this listener; Chromium's own "Refused to …" console lines and DevTools issues cover those.)
const INIT_SCRIPT = `(() => {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(${JSON.stringify(CSP_EVENT_TAG)} + ' ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')
      + ' in ' + e.documentURI + (e.sourceFile ? ' at ' + e.sourceFile + ':' + e.lineNumber : '') + (e.sample ? ' sample: ' + e.sample : ''));
  }, true);
})();`;

function loadPlaywright(): typeof PlaywrightCore {
  const pkg = path.join(HARNESS_DIR, 'package.json');
  if (!fs.existsSync(path.join(HARNESS_DIR, 'node_modules', 'playwright-core'))) {
    throw new Error(`playwright-core not installed in ${HARNESS_DIR}; run: bash test/e2e/setup.sh`);
  }
  return createRequire(pkg)('playwright-core') as typeof PlaywrightCore;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Case-insensitive exact match of an element's whole (whitespace-normalised) text. */
function exactText(s: string): RegExp {
  return new RegExp(`^\\s*${escapeRegExp(s)}\\s*$`, 'i');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A code-server workbench open in headless Chromium. */
export class Workbench {
  readonly console: ConsoleEntry[] = [];
  readonly pageErrors: string[] = [];
  private readonly csp: CspViolation[] = [];
  private cdp: CDPSession | undefined;
  /** Milliseconds from navigation to a visible workbench. */
  readyMs = 0;
  private readonly opened = Date.now();

  private constructor(readonly context: BrowserContext, readonly page: Page, private readonly opts: WorkbenchOptions) {}

  /** Launches Chromium with a fresh profile, opens `url` and waits until the workbench is usable. */
  static async open(url: string, opts: WorkbenchOptions): Promise<Workbench> {
    const { chromium } = loadPlaywright();
    const profile = path.join(opts.workDir, 'chromium-profile');
    fs.rmSync(profile, { recursive: true, force: true });
    fs.mkdirSync(profile, { recursive: true });
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: opts.viewport ?? { width: 1400, height: 900 },
      args: CHROMIUM_ARGS,
      env: { ...process.env, TMPDIR: opts.workDir, XDG_CONFIG_HOME: path.join(opts.workDir, 'xdg'), XDG_CACHE_HOME: path.join(opts.workDir, 'xdg') },
    });
    const page = context.pages()[0] ?? await context.newPage();
    const wb = new Workbench(context, page, opts);
    try {
      await wb.attachListeners();
      const t0 = Date.now();
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      const timeout = opts.readyTimeoutMs ?? 90_000;
      await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout });
      await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout });
      // The editor area is the last part laid out; after it the keyboard shortcuts work.
      await page.locator('.monaco-workbench .part.editor').waitFor({ timeout });
      wb.readyMs = Date.now() - t0;
      return wb;
    } catch (e) {
      // A browser left open would keep the test process alive.
      await wb.screenshot(`${path.basename(path.dirname(opts.workDir))}-workbench.fail`).catch(() => undefined);
      await wb.close();
      throw e;
    }
  }

  private frameKind(url: string): FrameKind {
    return WEBVIEW_URL.test(url) ? 'webview' : 'workbench';
  }

  private async attachListeners(): Promise<void> {
    await this.context.addInitScript({ content: INIT_SCRIPT });
    this.page.on('console', (msg: ConsoleMessage) => {
      const loc = msg.location();
      const url = loc.url ?? '';
      const entry: ConsoleEntry = { type: msg.type(), text: msg.text(), url, frame: this.frameKind(url), at: Date.now() - this.opened };
      this.console.push(entry);
      if (entry.text.startsWith(CSP_EVENT_TAG)) {
        const doc = / in (\S+)/.exec(entry.text)?.[1] ?? url;
        this.csp.push({ via: 'event', text: entry.text.slice(CSP_EVENT_TAG.length + 1), url: doc, frame: this.frameKind(doc) });
      } else if (CSP_CONSOLE.test(entry.text)) {
        this.csp.push({ via: 'console', text: entry.text, url, frame: entry.frame });
      }
    });
    this.page.on('pageerror', (err) => this.pageErrors.push(`${err.name}: ${err.message}`));
    // DevTools issues report CSP blocks in every same-process frame, including webview documents.
    this.cdp = await this.context.newCDPSession(this.page);
    this.cdp.on('Audits.issueAdded', (ev) => {
      const d = ev.issue.details.contentSecurityPolicyIssueDetails;
      if (ev.issue.code !== 'ContentSecurityPolicyIssue' || !d) return;
      const url = d.sourceCodeLocation?.url ?? '';
      this.csp.push({
        via: 'devtools-issue',
        text: `${d.contentSecurityPolicyViolationType} ${d.violatedDirective} blocked ${d.blockedURL ?? 'inline'}${url ? ` at ${url}:${d.sourceCodeLocation?.lineNumber}` : ''}`,
        url, frame: this.frameKind(url),
      });
    });
    await this.cdp.send('Audits.enable');
  }

  /** Every CSP violation seen so far (optionally only those in webviews). */
  cspViolations(filter?: { frame?: FrameKind }): CspViolation[] {
    return this.csp.filter((v) => !filter?.frame || v.frame === filter.frame);
  }

  /** Console errors and uncaught page errors, minus BENIGN_ERRORS and those matching `ignore`. */
  errors(opts?: { frame?: FrameKind; ignore?: RegExp[] }): string[] {
    const ignore = [...BENIGN_ERRORS, ...(opts?.ignore ?? [])];
    const fromConsole = this.console
      .filter((e) => e.type === 'error' && (!opts?.frame || e.frame === opts.frame))
      .map((e) => `${e.frame}: ${e.text}${e.url ? ` (${e.url})` : ''}`);
    const all = opts?.frame === 'webview' ? fromConsole : [...fromConsole, ...this.pageErrors.map((e) => `pageerror: ${e}`)];
    return all.filter((t) => !ignore.some((r) => r.test(t)));
  }

  /** Saves a full-window screenshot to test-output/e2e/screenshots/<name>.png; returns its path. */
  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  private get quickInput(): Locator {
    return this.page.locator('.quick-input-widget .quick-input-box input');
  }

  private quickRow(label: string | RegExp): Locator {
    const text = typeof label === 'string' ? exactText(label) : label;
    return this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: text }) });
  }

  private async closeQuickInput(): Promise<void> {
    if (await this.quickInput.isVisible()) {
      await this.page.keyboard.press('Escape');
      await this.quickInput.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
    }
  }

  /**
   * F1, and if no palette shows: a focused webview keeps the key in its iframe (the forwarding to
   * the workbench is asynchronous and, on a loaded machine, sometimes lost), so the focus is moved
   * back to the workbench document and F1 is pressed again.
   */
  private async openPalette(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('F1');
      try {
        await this.quickInput.waitFor({ timeout: attempt < 3 ? 5_000 : 15_000 });
        return;
      } catch (e) {
        if (attempt >= 3) throw e;
        await this.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      }
    }
  }

  /**
   * Runs a command by its palette title ("Category: Title") via F1. Right after start-up the palette
   * can miss commands the extension host has not registered yet and does not refresh, so it is
   * closed and reopened until the row shows.
   */
  async runCommand(title: string, opts?: { timeoutMs?: number }): Promise<void> {
    const deadline = Date.now() + (opts?.timeoutMs ?? 60_000);
    const row = this.quickRow(title).first();
    let tries = 0;
    for (;;) {
      tries++;
      await this.closeQuickInput();
      await this.openPalette();
      await this.quickInput.fill(`>${title}`);
      try {
        await row.waitFor({ timeout: 2500 });
        break;
      } catch {
        if (Date.now() > deadline) {
          const rows = await this.page.locator('.quick-input-widget .monaco-list-row').allTextContents();
          throw new Error(`command "${title}" not in the palette after ${tries} tries; rows: ${JSON.stringify(rows.slice(0, 10))}`);
        }
      }
    }
    await row.click();
    // The row goes away (hidden or replaced) whether the palette closes or the command opens its own quick input.
    await row.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
  }

  /** Waits for a quick-pick item with this exact label (filtering by typing it if needed) and picks it. */
  async pickQuickItem(label: string | RegExp, opts?: { timeoutMs?: number }): Promise<void> {
    const timeout = opts?.timeoutMs ?? 30_000;
    await this.quickInput.waitFor({ timeout });
    const row = this.quickRow(label).first();
    try {
      await row.waitFor({ timeout: Math.min(timeout, 5000) });
    } catch {
      // Long lists are virtualised: only rows scrolled into view exist, so filter by the label.
      if (typeof label !== 'string') throw new Error(`quick pick has no item matching ${label}`);
      await this.quickInput.fill(label);
      await row.waitFor({ timeout });
    }
    await row.click();
  }

  /** Labels of the quick-pick rows currently rendered. */
  async quickItems(): Promise<string[]> {
    await this.quickInput.waitFor({ timeout: 15_000 });
    return (await this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name').allTextContents()).map((s) => s.trim());
  }

  /** Types into the open quick input (input box or pick filter) and, by default, presses Enter. */
  async typeInQuickInput(text: string, opts?: { submit?: boolean; timeoutMs?: number }): Promise<void> {
    await this.quickInput.waitFor({ timeout: opts?.timeoutMs ?? 30_000 });
    await this.quickInput.fill(text);
    if (opts?.submit ?? true) await this.page.keyboard.press('Enter');
  }

  /** Validation / prompt message under the quick input ('' when none). */
  async quickInputMessage(): Promise<string> {
    const m = this.page.locator('.quick-input-widget .quick-input-message');
    return (await m.isVisible()) ? ((await m.textContent()) ?? '').trim() : '';
  }

  /**
   * Waits until the open quick input (pick or input box) has a title matching `title` and returns
   * that title and its input's current value. Multi-step flows reuse one widget, so waiting for
   * the next step's title is what tells the previous answer was taken.
   */
  async waitForQuickInput(title: string | RegExp, opts?: { timeoutMs?: number }): Promise<{ title: string; value: string }> {
    const re = typeof title === 'string' ? exactText(title) : title;
    const deadline = Date.now() + (opts?.timeoutMs ?? 30_000);
    const titleEl = this.page.locator('.quick-input-widget .quick-input-title');
    let seen = '';
    for (;;) {
      if (await this.quickInput.isVisible()) {
        seen = ((await titleEl.textContent().catch(() => '')) ?? '').trim();
        if (re.test(seen)) return { title: seen, value: await this.quickInput.inputValue() };
      }
      if (Date.now() > deadline) throw new Error(`no quick input titled ${re}; showing ${JSON.stringify(seen || '(none)')}`);
      await sleep(100);
    }
  }

  /** The status-bar entry whose text matches (e.g. an extension's progress item); waits for it. */
  async statusBarItem(text: RegExp, opts?: { timeoutMs?: number }): Promise<Locator> {
    const item = this.page.locator('.part.statusbar .statusbar-item').filter({ hasText: text }).first();
    await item.waitFor({ timeout: opts?.timeoutMs ?? 30_000 });
    return item;
  }

  /**
   * The extension's own document inside a webview (`iframe.webview.ready` > `#active-frame`).
   * - no argument: the visible webview in the active editor group (else the only visible one);
   * - a string: the visible webview whose title (panel or view title) equals it;
   * - a number: the n-th visible webview in document order.
   */
  async webviewFrame(which?: string | number, opts?: { timeoutMs?: number }): Promise<FrameLocator> {
    const deadline = Date.now() + (opts?.timeoutMs ?? 30_000);
    let seen: string[] = [];
    for (;;) {
      const found = await this.findWebview(which);
      if (found.name) {
        return this.page.frameLocator(`iframe.webview.ready[name="${found.name}"]`).frameLocator('#active-frame');
      }
      seen = found.seen;
      if (Date.now() > deadline) {
        const tabs = await this.page.locator('.part.editor .tab').allTextContents().catch(() => [] as string[]);
        throw new Error(`no visible webview matching ${JSON.stringify(which ?? 'active editor group')}; visible: ${JSON.stringify(seen)}; editor tabs: ${JSON.stringify(tabs.map((t) => t.trim()))}`);
      }
      await sleep(300);
    }
  }

  private async findWebview(which?: string | number): Promise<{ name?: string; seen: string[] }> {
    const frames = this.page.locator('iframe.webview.ready');
    const candidates: { name: string; title: string; box: { x: number; y: number; width: number; height: number } }[] = [];
    for (const f of await frames.all()) {
      if (!(await f.isVisible().catch(() => false))) continue;
      const box = await f.boundingBox().catch(() => null);
      const name = await f.getAttribute('name').catch(() => null);
      const src = (await f.getAttribute('src').catch(() => null)) ?? '';
      if (!box || box.width < 2 || box.height < 2 || !name) continue;
      if (this.opts.extensionId && !src.includes(`extensionId=${encodeURIComponent(this.opts.extensionId)}`)) continue;
      const inner = f.contentFrame().locator('#active-frame');
      if ((await inner.count().catch(() => 0)) === 0) continue;
      const title = (await inner.getAttribute('title', { timeout: 1000 }).catch(() => null)) ?? '';
      candidates.push({ name, title, box });
    }
    const seen = candidates.map((c) => c.title || c.name);
    if (typeof which === 'number') return { name: candidates[which]?.name, seen };
    if (typeof which === 'string') {
      const exact = candidates.find((c) => c.title === which);
      return { name: exact?.name, seen };
    }
    const group = await this.page.locator('.part.editor .editor-group-container.active').first().boundingBox().catch(() => null);
    if (group) {
      const inGroup = candidates.find((c) => {
        const cx = c.box.x + c.box.width / 2, cy = c.box.y + c.box.height / 2;
        return cx >= group.x && cx <= group.x + group.width && cy >= group.y && cy <= group.y + group.height;
      });
      if (inGroup) return { name: inGroup.name, seen };
    }
    return { name: candidates.length === 1 ? candidates[0].name : undefined, seen };
  }

  /** Shows a view container of the activity bar (e.g. "GAN Inspector") in the side bar. */
  async openViewContainer(title: string, opts?: { timeoutMs?: number }): Promise<void> {
    const timeout = opts?.timeoutMs ?? 30_000;
    const item = this.page.locator('.part.activitybar .action-item')
      .filter({ has: this.page.locator(`.action-label[aria-label^="${title.replace(/"/g, '\\"')}"]`) }).first();
    await item.waitFor({ timeout });
    // Clicking the icon of the container already shown would hide the side bar.
    const checked = /\bchecked\b/.test((await item.getAttribute('class')) ?? '');
    const sidebarVisible = await this.page.locator('.part.sidebar').isVisible();
    if (!checked || !sidebarVisible) await item.click();
    await this.page.locator('.part.sidebar .composite.title').filter({ hasText: new RegExp(escapeRegExp(title), 'i') }).first().waitFor({ timeout });
  }

  /** The side-bar pane of a view (expanded), opening its container first. */
  async viewPane(viewTitle: string, opts?: { container?: string; timeoutMs?: number }): Promise<Locator> {
    const timeout = opts?.timeoutMs ?? 30_000;
    await this.openViewContainer(opts?.container ?? 'GAN Inspector', { timeoutMs: timeout });
    const pane = this.page.locator('.part.sidebar .pane')
      .filter({ has: this.page.locator('.pane-header .title', { hasText: exactText(viewTitle) }) }).first();
    await pane.waitFor({ state: 'attached', timeout });
    const header = pane.locator('.pane-header').first();
    // With several views in the container, a collapsed view has to be expanded before its rows exist.
    if ((await header.isVisible()) && (await header.getAttribute('aria-expanded')) === 'false') await header.click();
    return pane;
  }

  /** Waits for and returns the row of a custom tree view item, matched by its exact label. */
  async treeItem(viewTitle: string, label: string | RegExp, opts?: { container?: string; timeoutMs?: number }): Promise<Locator> {
    const timeout = opts?.timeoutMs ?? 30_000;
    const pane = await this.viewPane(viewTitle, opts);
    const text = typeof label === 'string' ? exactText(label) : label;
    const row = pane.locator('.monaco-list-row[role="treeitem"]')
      .filter({ has: this.page.locator('.label-name', { hasText: text }) }).first();
    await row.waitFor({ timeout });
    return row;
  }

  /**
   * Drags the sash between side bar and editor so the side bar is about `width` px wide (tree
   * descriptions are cut off at the default width); returns the new width.
   */
  async resizeSideBar(width: number): Promise<number> {
    const sidebar = this.page.locator('.part.sidebar');
    const box = await sidebar.boundingBox();
    if (!box) throw new Error('the side bar is not visible');
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, y, { steps: 5 });
    await this.page.mouse.up();
    const after = (await sidebar.boundingBox())?.width ?? 0;
    if (Math.abs(after - width) > 8) throw new Error(`side bar is ${after} px wide after dragging its sash to ${width} px`);
    return after;
  }

  /** Labels of the rows a tree view currently renders (top to bottom). */
  async treeItems(viewTitle: string, opts?: { container?: string; timeoutMs?: number }): Promise<string[]> {
    const pane = await this.viewPane(viewTitle, opts);
    return (await pane.locator('.monaco-list-row[role="treeitem"] .label-name').allTextContents()).map((s) => s.trim());
  }

  /** Notification toasts currently shown. */
  async notifications(): Promise<Notification[]> {
    const rows = this.page.locator('.notifications-toasts .notification-toast .monaco-list-row');
    const out: Notification[] = [];
    for (const row of await rows.all()) {
      const message = ((await row.locator('.notification-list-item-message').textContent().catch(() => '')) ?? '').trim();
      // The source is only rendered when a toast is expanded, but it is always in the row's aria-label.
      const aria = (await row.getAttribute('aria-label').catch(() => '')) ?? '';
      const source = /, source: (.*?), notification/.exec(aria)?.[1] ?? '';
      const iconClass = (await row.locator('.notification-list-item-icon').getAttribute('class').catch(() => '')) ?? '';
      const severity = /codicon-error/.test(iconClass) ? 'error' : /codicon-warning/.test(iconClass) ? 'warning' : 'info';
      out.push({ severity, message, source });
    }
    return out;
  }

  /** Waits until a notification toast whose message matches appears; returns it. */
  async waitForNotification(match: RegExp, opts?: { timeoutMs?: number }): Promise<Notification> {
    const deadline = Date.now() + (opts?.timeoutMs ?? 30_000);
    for (;;) {
      const hit = (await this.notifications()).find((n) => match.test(n.message));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no notification matching ${match}; shown: ${JSON.stringify(await this.notifications())}`);
      await sleep(250);
    }
  }

  /** Writes the console log next to the profile and closes the browser. */
  async close(): Promise<void> {
    try {
      fs.writeFileSync(path.join(this.opts.workDir, 'browser-console.log'),
        this.console.map((e) => `${(e.at / 1000).toFixed(2)}s ${e.frame} ${e.type}: ${e.text}${e.url ? ` (${e.url})` : ''}`).join('\n')
        + (this.pageErrors.length ? `\n--- page errors ---\n${this.pageErrors.join('\n')}` : '')
        + (this.csp.length ? `\n--- CSP violations ---\n${this.csp.map((v) => `${v.via} ${v.frame}: ${v.text}`).join('\n')}` : ''));
    } catch { /* diagnostics only */ }
    await this.context.close().catch(() => undefined);
    fs.rmSync(path.join(this.opts.workDir, 'chromium-profile'), { recursive: true, force: true });
  }
}
