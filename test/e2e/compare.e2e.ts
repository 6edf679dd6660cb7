/**
 * Compare Runs in a real VS Code (code-server): the two official GGDR fixture runs (with the hand-made
 * metric lines) and two tiny runs trained by the CLI in setup. Multi-select in the Runs view → context
 * menu → the panel's table, option diff and sample grids; then the palette's multi-select quick pick on
 * our runs. Screenshots are kept; no CSP violations or console errors.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './lib/codeServer';
import { e2eSuite } from './lib/suite';
import { trainWithCli } from './lib/waits';
import type { Workbench } from './lib/workbench';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'official-ggdr-cpu');
const GGDR_RUN = '00000-shapes32-cifartiny-kimg12-batch16-noaug';
const BASELINE_RUN = '00001-shapes32-cifartiny-kimg12-batch16-noaug';
const OUR_GGDR = '00000-mnist-tiny-ggdr-kimg0.016-batch4-seed0';
const OUR_BASE = '00001-mnist-tiny-noggdr-kimg0.016-batch4-seed0';

e2eSuite('compare', {
  settings: { 'ganInspector.runsRoots': ['training-runs', 'runs'] },
  workspace: (dir) => {
    const runs = path.join(dir, 'training-runs');
    fs.cpSync(path.join(FIXTURE, 'training-runs'), runs, { recursive: true });
    for (const r of [GGDR_RUN, BASELINE_RUN]) {
      fs.copyFileSync(path.join(FIXTURE, 'metric-format-samples', r, 'metric-fid50k_full.HANDMADE.jsonl'), path.join(runs, r, 'metric-fid50k_full.jsonl'));
    }
    // Two of our runs, same seed, GGDR on and off, trained by the CLI (one tick each: the preset's 0.016 kimg).
    for (const flag of ['--ggdr', '--no-ggdr']) trainWithCli(dir, ['--kimg', '0.016', '--kimg-per-tick', '0.016', '--backend', 'cpu', '--seed', '0', flag]);
  },
  testTimeoutMs: 180_000,
}, (test) => {
  /** Selects two runs in the Runs view (click, Ctrl+click) and runs Compare Runs from their context menu. */
  async function compareFromTree(wb: Workbench, first: string, second: string) {
    const a = await wb.treeItem('Runs', first, { timeoutMs: 60_000 });
    const b = await wb.treeItem('Runs', second);
    await a.click();
    await b.click({ modifiers: ['Control'] });
    await b.click({ button: 'right' });
    const item = wb.page.locator('.context-view .monaco-menu .action-item').filter({ hasText: /^Compare Runs/ }).first();
    // The menu ignores a mouse-up that comes right after it opened (the right-click's own), so hover first.
    await item.hover();
    await wb.page.waitForTimeout(300);
    await item.click();
    return wb.webviewFrame(undefined, { timeoutMs: 30_000 });
  }

  test('two official runs selected in the Runs view → Compare Runs: table, option diff, grids', async ({ wb, timings }) => {
    const t0 = Date.now();
    const frame = await compareFromTree(wb, GGDR_RUN, BASELINE_RUN);
    const td = (run: string, col: string) => frame.locator(`#runs-table tr[data-run="${run}"] td[data-col="${col}"]`);
    await td(GGDR_RUN, 'ggdr').waitFor({ timeout: 30_000 });
    timings.compareOpenMs = Date.now() - t0;
    assert.equal(await frame.locator('#runs-table tbody tr').count(), 2);
    assert.equal(await td(GGDR_RUN, 'ggdr').getAttribute('data-value'), 'on');
    assert.equal(await td(BASELINE_RUN, 'ggdr').getAttribute('data-value'), 'off');
    assert.equal(await td(GGDR_RUN, 'fid50k_full.best').getAttribute('data-value'), '243.0417');
    assert.equal(await td(BASELINE_RUN, 'fid50k_full.best_kimg').getAttribute('data-value'), '12');
    assert.equal(await td(GGDR_RUN, 'backend').textContent(), 'pytorch');
    const dv = (key: string, run: string) => frame.locator(`#option-diff tr[data-key="${key}"] td[data-run="${run}"]`);
    assert.equal(await dv('reg_type', GGDR_RUN).textContent(), 'ggdr');
    assert.equal(await dv('reg_type', BASELINE_RUN).textContent(), 'none');
    assert.equal(await dv('loss_kwargs.ggdr_res', GGDR_RUN).getAttribute('data-value'), '8');
    assert.equal(await dv('loss_kwargs.ggdr_res', BASELINE_RUN).getAttribute('data-present'), 'false');
    // The GGDR term of the official run (Loss/D/loss_gen_reg) in the overlaid chart.
    await frame.locator('#scalar').selectOption('Loss/D/ggdr');
    await frame.locator(`#series-legend button[data-run="${GGDR_RUN}"][data-points="4"]`).waitFor({ timeout: 15_000 });
    assert.equal(await frame.locator('#chart canvas').count(), 1);
    // Both saved grids load through the webview's resource roots.
    for (const r of [GGDR_RUN, BASELINE_RUN]) {
      const img = frame.locator(`#samples figure[data-run="${r}"] img`);
      await img.waitFor({ timeout: 15_000 });
      await assert.doesNotReject(() => img.evaluate((e) => new Promise<void>((ok, bad) => {
        const i = e as unknown as { complete: boolean; naturalWidth: number; onload: () => void; onerror: () => void };
        if (i.complete) return i.naturalWidth > 0 ? ok() : bad(new Error('broken image'));
        i.onload = () => ok();
        i.onerror = () => bad(new Error('image failed'));
      })));
    }
    await wb.screenshot('compare-official-handmade');
    await wb.runCommand('View: Close All Editors');
  });

  test('two of our tiny runs selected in the Runs view → Compare Runs: a table cell and the option-diff row', async ({ wb }) => {
    const frame = await compareFromTree(wb, OUR_GGDR, OUR_BASE);
    const td = (run: string, col: string) => frame.locator(`#runs-table tr[data-run="${run}"] td[data-col="${col}"]`);
    await td(OUR_GGDR, 'ggdr').waitFor({ timeout: 30_000 });
    assert.equal(await frame.locator('#runs-table tbody tr').count(), 2);
    assert.equal(await td(OUR_GGDR, 'ggdr').getAttribute('data-value'), 'on');
    assert.equal(await td(OUR_BASE, 'preset').textContent(), 'tiny');
    const dv = (run: string) => frame.locator(`#option-diff tr[data-key="ggdr.enabled"] td[data-run="${run}"]`);
    assert.equal(await dv(OUR_GGDR).textContent(), 'true');
    assert.equal(await dv(OUR_BASE).textContent(), 'false');
    await wb.screenshot('compare-ours-tree');
    await wb.runCommand('View: Close All Editors');
  });

  test('Compare Runs from the palette: multi-select quick pick of our CLI runs (same-seed cells)', async ({ wb }) => {
    // One run selected: the command asks, with that run preselected.
    const ours = await wb.treeItem('Runs', OUR_GGDR, { timeoutMs: 30_000 });
    await ours.click();
    await wb.runCommand('GAN Inspector: Compare Runs');
    await wb.waitForQuickInput(/GAN Inspector: Compare Runs/);
    // The run selected in the tree is preselected; clicking a row of a multi-select pick toggles it.
    const rows = wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    assert.equal(await rows.filter({ hasText: OUR_GGDR }).first().getAttribute('aria-checked'), 'true');
    await rows.filter({ hasText: OUR_BASE }).first().locator('.label-name').first().click();
    await wb.page.locator('.quick-input-widget .quick-input-count, .quick-input-widget .monaco-count-badge').filter({ hasText: /2 Selected/ }).first().waitFor({ timeout: 10_000 });
    await wb.page.keyboard.press('Enter');
    const frame = await wb.webviewFrame(undefined, { timeoutMs: 30_000 });
    const td = (run: string, col: string) => frame.locator(`#runs-table tr[data-run="${run}"] td[data-col="${col}"]`);
    await td(OUR_GGDR, 'ggdr').waitFor({ timeout: 30_000 });
    assert.deepEqual(await frame.locator('#runs-table tbody tr').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { run: string } }).dataset.run)), [OUR_GGDR, OUR_BASE]);
    assert.equal(await td(OUR_BASE, 'ggdr').getAttribute('data-value'), 'off');
    assert.equal(await td(OUR_GGDR, 'preset').textContent(), 'tiny');
    const diffKeys = await frame.locator('#option-diff tbody tr').evaluateAll((r) => r.map((x) => (x as unknown as { dataset: { key: string } }).dataset.key));
    assert.deepEqual(diffKeys, ['ggdr.enabled'], 'same seed and settings: only GGDR differs');
    await frame.locator('#sample-mode').selectOption('cells');
    await frame.locator(`#samples figure[data-run="${OUR_BASE}"] canvas[data-seed="7"]`).waitFor({ timeout: 15_000 });
    await wb.screenshot('compare-ours-cells');
  });

  test('no CSP violations or console errors', async ({ wb }) => {
    assert.deepEqual(wb.cspViolations(), []);
    assert.deepEqual(wb.errors(), []);
  });
});
