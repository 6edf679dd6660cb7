/**
 * Small helpers every spec uses: polling for a state (never fixed sleeps for correctness), the active
 * webview of a panel, run rows in the Runs view, tiny runs trained with the real CLI, opening a file by
 * path, and seeding the server's LeNet cache.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FrameLocator, Locator } from 'playwright-core';
import { REPO_ROOT } from './codeServer';
import type { Workbench } from './workbench';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until `ok` accepts its value (a throwing probe counts as not yet); the error names the last value or error. */
export async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000, pollMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    try {
      const v = await probe();
      if (ok(v)) return v;
      last = JSON.stringify(v);
    } catch (e) {
      last = `error: ${(e as Error).message.split('\n')[0]}`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last}`);
    await sleep(pollMs);
  }
}

/**
 * Trains a tiny run with the real CLI (wasm, MNIST, ticks of 0.008 kimg) into <dir>/runs; returns its
 * folder name. `extra` comes last, so its flags override these defaults.
 */
export function trainWithCli(dir: string, extra: string[]): string {
  const runs = path.join(dir, 'runs');
  const before = new Set(fs.existsSync(runs) ? fs.readdirSync(runs) : []);
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'gan-inspector.js'), 'train', '--data', 'mnist', '--preset', 'tiny',
    '--kimg-per-tick', '0.008', '--backend', 'wasm', '--outdir', runs, ...extra], { stdio: 'pipe', timeout: 120_000 });
  const added = fs.readdirSync(runs).filter((n) => !before.has(n));
  assert.equal(added.length, 1, `one new run folder: ${added.join(', ')}`);
  return added[0];
}

/**
 * The webview of `panel` (its body's data-panel: 'viewer', 'segmentation', 'loss', 'compare') in the
 * active editor group, once its tab is active and, with `title`, its #snapshot-title matches (a string
 * must end the title). Retained hidden webviews and one still loading are skipped by checking its page.
 */
export async function activeWebview(wb: Workbench, panel: string, title?: string | RegExp, timeoutMs = 90_000): Promise<FrameLocator> {
  const matches = (t: string) => title === undefined || (typeof title === 'string' ? t.endsWith(title) : title.test(t));
  return (await waitFor(`the ${panel} webview${title ? ` of ${title}` : ''}`, async () => {
    const f = await wb.webviewFrame(undefined, { timeoutMs: 5000 });
    const page = await f.locator('body').evaluate((b) => ({ panel: b.getAttribute('data-panel'), title: b.querySelector('#snapshot-title')?.textContent ?? '' }), { timeout: 2000 });
    return page.panel === panel && matches(page.title) ? f : null;
  }, (f) => f !== null, timeoutMs))!;
}

/** The run's row in the Runs view; its aria-label is "Run <name>, <state>, kimg a/b · …". */
export async function runRow(wb: Workbench, name: string | RegExp): Promise<Locator> {
  return wb.treeItem('Runs', name, { timeoutMs: 60_000 });
}

/** The aria-label of run `name`'s row in the Runs view ('' when it has none). */
export async function runAria(wb: Workbench, name: string): Promise<string> {
  return (await (await runRow(wb, name)).getAttribute('aria-label')) ?? '';
}

/** Waits until the Runs view shows run `name` in `state`; returns its aria-label. */
export async function waitForRunState(wb: Workbench, name: string, state: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(`the Runs view to show ${name} as ${state}`, () => runAria(wb, name),
    (aria) => aria.startsWith(`Run ${name}, ${state},`), timeoutMs);
}

/** Title of step `step` of the Train… quick pick. */
export const TRAIN_TITLE = (step: number, what: string) => `GAN Inspector: Train (${step}/9) — ${what}`;
/** Title of Train…'s first step, the engine (issue #16). */
export const ENGINE_TITLE = 'GAN Inspector: Train — engine';

/** Train…'s engine step: our TensorFlow.js engine. */
export async function pickTfjsEngine(wb: Workbench): Promise<void> {
  await wb.waitForQuickInput(ENGINE_TITLE);
  await wb.pickQuickItem('GAN Inspector (TensorFlow.js)');
}

/**
 * Runs Train… and answers its quick pick for embedded MNIST, the `tiny` preset and GGDR off
 * (steps 2–9; no named configurations in the workspace), with the given length, seed and backend, and the default workers.
 */
export async function trainTinyNoGgdr(wb: Workbench, o: { kimg: number; seed: number; backend: string }): Promise<void> {
  await wb.runCommand('GAN Inspector: Train…');
  await pickTfjsEngine(wb);
  await wb.waitForQuickInput(TRAIN_TITLE(2, 'Dataset'));
  await wb.pickQuickItem('Embedded MNIST');
  await wb.waitForQuickInput(TRAIN_TITLE(3, 'Preset'));
  await wb.pickQuickItem('tiny');
  await wb.waitForQuickInput(TRAIN_TITLE(4, 'GGDR'));
  await wb.pickQuickItem('GGDR off');
  await wb.waitForQuickInput(TRAIN_TITLE(6, 'Training length'));
  await wb.typeInQuickInput(String(o.kimg));
  await wb.waitForQuickInput(TRAIN_TITLE(7, 'Seed'));
  await wb.typeInQuickInput(String(o.seed));
  await wb.waitForQuickInput(TRAIN_TITLE(8, 'Backend'));
  await wb.pickQuickItem(o.backend);
  const workers = await wb.waitForQuickInput(TRAIN_TITLE(9, 'Workers'));
  await wb.typeInQuickInput(workers.value);
}

/**
 * File: Open File… (code-server's simple file dialog) with a whole path; resolves once the dialog closed
 * (the file then opens in its default editor, as from the Explorer). The path is typed, then accepted with
 * the dialog's OK button, again (re-typing if the dialog changed the value) until the dialog closes: on a
 * busy machine the dialog can swallow an accept while it is still resolving the typed path.
 */
export async function openFileByPath(wb: Workbench, target: string): Promise<void> {
  await wb.runCommand('File: Open File...');
  const widget = wb.page.locator('.quick-input-widget');
  const box = widget.locator('input').first();
  await wb.typeInQuickInput(target, { submit: false });
  const closed = await waitFor('the file dialog to accept the path', async () => {
    if (!(await widget.isVisible())) return 'closed';
    const value = await box.inputValue();
    if (value !== target) { await box.fill(target); return `value was ${value}`; }
    await sleep(300);
    await widget.getByRole('button', { name: 'OK', exact: true }).click({ timeout: 2000 }).catch(() => undefined);
    await sleep(1000);
    return (await widget.isVisible()) ? 'still open' : 'closed';
  }, (v) => v === 'closed', 45_000);
  assert.equal(closed, 'closed');
}

/** $XDG_CACHE_HOME/gan-inspector or ~/.cache/gan-inspector: where the engine keeps its trained LeNet (defaultCacheDir in src/core/metrics/lenet.ts). */
export function ganCacheDir(xdgCacheHome: string | undefined): string {
  return path.join(xdgCacheHome && path.isAbsolute(xdgCacheHome) ? xdgCacheHome : path.join(os.homedir(), '.cache'), 'gan-inspector');
}

/** Copies the `lenet-*` cache entries `from` has and `to` lacks (via a temp name + rename: a reader never sees half an entry); returns their names. */
export function copyLenetEntries(from: string, to: string): string[] {
  const have = new Set(fs.existsSync(to) ? fs.readdirSync(to) : []);
  const copied: string[] = [];
  for (const name of fs.existsSync(from) ? fs.readdirSync(from).filter((n) => /^lenet-[0-9a-f]+$/.test(n) && !have.has(n)) : []) {
    const tmp = path.join(to, `.${name}.${process.pid}.tmp`);
    fs.mkdirSync(to, { recursive: true });
    fs.cpSync(path.join(from, name), tmp, { recursive: true });
    fs.renameSync(tmp, path.join(to, name));
    copied.push(name);
  }
  return copied;
}
