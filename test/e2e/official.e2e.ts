/**
 * Official StyleGAN2-ADA / GGDR checkpoints in a real VS Code (code-server): the official GGDR fixture runs of
 * ../shared/fixtures/official-ggdr-pkl (copied with their dataset into the workspace at test time; the suite fails
 * when ../shared is missing). The Runs view lists their .pkl snapshots as loadable with the snapshot commands;
 * the checkpoint viewer renders a pickle (seeds 0–7 equal the official code's own images of generate.py's seeds,
 * read back from the webview's PNGs), says what seeds mean, and changes ψ, G/G_ema, interpolates and exports;
 * a .pkl opened as a file opens the viewer; the segmentation panel clusters G's features with D's GGDR decoder
 * rows on fakes and on the run's real images (its dataset found at ../datasets/mnist32.zip), and the
 * across-snapshots strip walks the run's three pickles; Compute Metrics on pickles appends real fid1k_lenet
 * lines, which the Compare Runs panel of the two official 100-kimg runs (GGDR vs baseline) shows, with the
 * same seeds rendered from both runs' pickles. No CSP violations or console errors.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Locator } from 'playwright-core';
import { decodeImage } from '../../src/core/image/codec';
import { REPO_ROOT } from './lib/codeServer';
import { e2eSuite } from './lib/suite';
import { activeWebview, copyLenetEntries, ganCacheDir, openFileByPath, waitFor } from './lib/waits';
import type { Workbench } from './lib/workbench';

const SHARED = path.join(REPO_ROOT, '..', 'shared', 'fixtures', 'official-ggdr-pkl');
const RUN = '00000-mnist32-cifar-kimg5-batch16';
const GGDR_RUN = '00001-mnist32-cifar-kimg200-batch16';
const BASE_RUN = '00002-mnist32-cifar-kimg200-batch16';
const PKL = 'network-snapshot-000005.pkl';
const METRIC = 'fid1k_lenet';

/** Copies a read-only fixture tree and makes the copy writable (metrics and exports are written into the runs). */
function copyWritable(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
  const walk = (p: string) => {
    fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o755 : 0o644);
    if (fs.statSync(p).isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  walk(to);
}

interface GridRead { count: number; psi: string; which: string; srcs: string[]; status: string; error: string; note: string; origin: string; meta: string }
async function readGrid(frame: FrameLocator): Promise<GridRead> {
  return frame.locator('body').evaluate((body) => {
    const grid = body.querySelector('#grid');
    const err = body.querySelector('#error');
    const note = body.querySelector('#seed-note');
    return {
      count: Number(grid?.getAttribute('data-render-count') ?? '0'),
      psi: grid?.getAttribute('data-psi') ?? '',
      which: grid?.getAttribute('data-which') ?? '',
      srcs: [...body.querySelectorAll('#grid .sample img')].map((i) => i.getAttribute('src') ?? ''),
      status: body.querySelector('#status')?.textContent ?? '',
      error: err && !err.hasAttribute('hidden') ? err.textContent ?? '' : '',
      note: note && !note.hasAttribute('hidden') ? note.textContent ?? '' : '',
      origin: note?.getAttribute('data-origin') ?? '',
      meta: body.querySelector('#snapshot-meta')?.textContent ?? '',
    };
  });
}

/** Gray pixels of a data:image/png URL. */
function pngPixels(src: string): Uint8Array {
  const img = decodeImage(Buffer.from(src.slice(src.indexOf(',') + 1), 'base64'), 'sample');
  assert.equal(img.channels, 1, 'grayscale model');
  return img.data;
}

/** Right-click on a Runs-view row, then the context-menu entry `label`. */
async function contextCommand(wb: Workbench, row: Locator, label: RegExp): Promise<void> {
  await row.click({ button: 'right' });
  const item = wb.page.locator('.context-view .monaco-menu .action-item').filter({ hasText: label }).first();
  // The menu ignores a mouse-up that comes right after it opened (the right-click's own), so hover first.
  await item.hover();
  await wb.page.waitForTimeout(300);
  await item.click();
}

/** Expands a run's Snapshots group in the Runs view; returns the row of one of its snapshots. */
async function snapshotRow(wb: Workbench, run: string, snapshot: string): Promise<Locator> {
  const runRow = await wb.treeItem('Runs', run, { timeoutMs: 60_000 });
  if ((await runRow.getAttribute('aria-expanded')) !== 'true') await runRow.click();
  // Each expanded run has a "Snapshots" group: the one right after this run's row (runs are listed newest first, one expanded at a time).
  const group = wb.page.locator(`.monaco-list-row[role="treeitem"][aria-level="2"]`).filter({ hasText: /^Snapshots/ }).first();
  await group.waitFor({ timeout: 15_000 });
  if ((await group.getAttribute('aria-expanded')) !== 'true') await group.click();
  return wb.treeItem('Runs', snapshot);
}

/** Collapses a run's row in the Runs view (so the next run's Snapshots group is the only one shown). */
async function collapseRun(wb: Workbench, run: string): Promise<void> {
  const row = await wb.treeItem('Runs', run);
  if ((await row.getAttribute('aria-expanded')) === 'true') await row.click();
  await waitFor(`${run} collapsed`, () => row.getAttribute('aria-expanded'), (v) => v === 'false', 10_000);
}

/** Metric lines of a run (what Compute Metrics appended). */
function metricLines(workspace: string, run: string): Array<{ metric: string; snapshot_pkl: string; results: Record<string, number> }> {
  const f = path.join(workspace, 'training-runs', run, `metric-${METRIC}.jsonl`);
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** Before a screenshot: no notifications on top, no tooltip under the pointer. */
async function tidy(wb: Workbench): Promise<void> {
  await wb.runCommand('Notifications: Clear All Notifications');
  await wb.page.mouse.move(250, 700);
  await wb.page.waitForTimeout(300);
}

const quickRows = (wb: Workbench) => wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');

/** In the open Compute Metrics pick: exactly `METRIC` checked, then accept; waits for the result notification. */
async function pickMetricAndWait(wb: Workbench, where: string): Promise<string> {
  await wb.waitForQuickInput('GAN Inspector: Compute Metrics');
  const rows = quickRows(wb);
  await rows.first().waitFor({ timeout: 10_000 });
  for (const name of ['fid2k_lenet', 'kid2k_lenet', METRIC]) {
    const row = rows.filter({ has: wb.page.locator('.label-name', { hasText: new RegExp(`^${name}$`) }) }).first();
    const want = name === METRIC;
    if (((await row.getAttribute('aria-checked')) === 'true') !== want) await row.locator('.label-name').first().click();
    await waitFor(`${name} ${want ? 'checked' : 'unchecked'}`, () => row.getAttribute('aria-checked'), (v) => v === String(want), 5000);
  }
  await wb.page.keyboard.press('Enter');
  const done = await wb.waitForNotification(new RegExp(`^Metrics ${where.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${METRIC} \\d+\\.\\d{4}`), { timeoutMs: 180_000 });
  return done.message;
}

e2eSuite('official', {
  settings: { 'ganInspector.runsRoots': ['training-runs'] },
  testTimeoutMs: 180_000,
  workspace: (dir) => {
    if (!fs.existsSync(path.join(SHARED, 'training-runs', RUN, PKL))) {
      throw new Error(`The official e2e spec needs the official GGDR fixture at ${SHARED} (../shared/fixtures/official-ggdr-pkl); it is missing, so this spec did not run.`);
    }
    for (const r of [RUN, GGDR_RUN, BASE_RUN]) copyWritable(path.join(SHARED, 'training-runs', r), path.join(dir, 'training-runs', r));
    // The pickles name their dataset by the path of the machine that trained them; the dataset resolver finds it
    // next to the runs folder, as in the fixture: <workspace>/datasets/mnist32.zip.
    copyWritable(path.join(SHARED, 'datasets'), path.join(dir, 'datasets'));
  },
}, (test) => {
  let viewer: FrameLocator;

  test('the Runs view lists the pickles as loadable official snapshots with the snapshot commands', async ({ wb }) => {
    await wb.resizeSideBar(420);
    const row = await snapshotRow(wb, RUN, PKL);
    for (const p of ['network-snapshot-000000.pkl', 'network-snapshot-000003.pkl', PKL]) {
      const r = await wb.treeItem('Runs', p);
      const text = (await r.textContent()) ?? '';
      assert.match(text, /official pickle/, `${p}: ${text}`);
      assert.doesNotMatch(text, /not loadable/, `${p}: ${text}`);
    }
    await row.click({ button: 'right' });
    const menu = wb.page.locator('.context-view .monaco-menu .action-item');
    await menu.first().waitFor({ timeout: 10_000 });
    const entries = (await menu.allTextContents()).map((t) => t.trim());
    for (const c of ['Open Checkpoint Viewer', 'Cluster Generator Feature Maps', 'Compute Metrics…']) {
      assert.ok(entries.some((e) => e.startsWith(c)), `context menu has ${c}: ${entries.join(' | ')}`);
    }
    await wb.screenshot('official-1-runs-view');
    await wb.page.keyboard.press('Escape');
  });

  test('Open Checkpoint Viewer on a pickle: seeds 0–7 are the official generate.py images; the seed note says so', async ({ wb, timings }) => {
    const t0 = Date.now();
    await contextCommand(wb, await wb.treeItem('Runs', PKL), /^Open Checkpoint Viewer/);
    viewer = await activeWebview(wb, 'viewer', PKL);
    const g = await waitFor('the first grid of the pickle', () => readGrid(viewer), (r) => r.count >= 1 || r.error !== '', 120_000);
    assert.equal(g.error, '');
    timings.firstPickleGridMs = Date.now() - t0;
    assert.equal(g.srcs.length, 16);
    assert.equal(g.origin, 'official');
    assert.match(g.note, /numpy\.random\.RandomState\(seed\)/);
    assert.match(g.note, /seed 42 here is generate\.py --seeds=42/);
    assert.match(g.meta, /official StyleGAN2-ADA\/GGDR pickle/);
    assert.match(g.meta, /32×32 gray/);
    assert.match(g.meta, /GGDR \(res 16\)/);
    assert.match(g.status, /16 samples in .*checkpoint loaded/);
    // The official code's own images of seeds 0–7 (generate.py's quantisation, ψ 1, noise const), NHWC uint8.
    const ref = fs.readFileSync(path.join(SHARED, 'reference-outputs', 'img_psi1_uint8_NHWC.npy'));
    const refPx = ref.subarray(ref.length - 8 * 32 * 32);
    let same = 0, maxDiff = 0;
    for (let s = 0; s < 8; s++) {
      const px = pngPixels(g.srcs[s]);
      assert.equal(px.length, 32 * 32);
      for (let i = 0; i < px.length; i++) {
        const d = Math.abs(px[i] - refPx[s * 1024 + i]);
        if (d === 0) same++;
        maxDiff = Math.max(maxDiff, d);
      }
    }
    timings.seedPixelsIdenticalPermille = Math.round((1000 * same) / (8 * 1024));
    assert.ok(same / (8 * 1024) >= 0.99, `seeds 0–7 match the official images: ${same} of ${8 * 1024} pixels identical`);
    assert.ok(maxDiff <= 2, `largest difference ${maxDiff}/255`);
    assert.ok(new Set(g.srcs).size > 8, 'the seeds give different samples');
    assert.equal(await viewer.locator('#class').isVisible(), false, 'no class picker for an unconditional model');
    await tidy(wb);
    await wb.screenshot('official-2-viewer');
  });

  test('ψ, G vs G_ema, interpolation and export work on the pickle', async ({ wb, workspace }) => {
    const before = await readGrid(viewer);
    await viewer.locator('#psi').focus();
    for (let i = 0; i < 6; i++) await wb.page.keyboard.press('ArrowLeft');
    const psi = await waitFor('the grid at ψ = 0.7', () => readGrid(viewer), (r) => r.psi === '0.7' && r.count > before.count, 60_000);
    assert.ok(psi.srcs.some((s, i) => s !== before.srcs[i]), 'ψ changed the samples');
    await viewer.locator('#which-G').click();
    const g = await waitFor('the grid of G', () => readGrid(viewer), (r) => r.which === 'G' && r.count > psi.count, 60_000);
    assert.equal(g.error, '');
    assert.ok(g.srcs.some((s, i) => s !== psi.srcs[i]), 'G differs from G_ema');
    await viewer.locator('#interp-run').click();
    await waitFor('the interpolation strip', () => viewer.locator('#interp-strip').evaluate((e) => ({ n: Number(e.getAttribute('data-render-count')), frames: e.querySelectorAll('img').length })),
      (s) => s.n >= 1 && s.frames === 9, 60_000);
    await viewer.locator('#export').click();
    const file = await waitFor('the exported PNG', () => viewer.locator('#export-status').getAttribute('data-file'), (f) => !!f, 60_000);
    assert.equal(path.dirname(file!), path.join(workspace, 'training-runs', RUN), 'written into the run folder');
    assert.match(path.basename(file!), /^viewer-000005-seeds0-15-psi0\.7-G\.png$/);
    assert.ok(fs.statSync(file!).size > 100);
    await wb.screenshot('official-3-viewer-psi-G-interp');
    await wb.runCommand('View: Close All Editors');
  });

  test('a .pkl opened as a file opens the checkpoint viewer (the custom editor of network-snapshot-*.pkl)', async ({ wb, workspace }) => {
    await openFileByPath(wb, path.join(workspace, 'training-runs', RUN, 'network-snapshot-000003.pkl'));
    const v = await activeWebview(wb, 'viewer', 'network-snapshot-000003.pkl');
    const g = await waitFor('the grid of the opened pickle', () => readGrid(v), (r) => r.count >= 1 || r.error !== '', 120_000);
    assert.equal(g.error, '');
    assert.equal(g.srcs.length, 16);
    assert.equal(g.origin, 'official');
    await wb.runCommand('View: Close All Editors');
  });

  test('Cluster Generator Feature Maps on a pickle: G at every resolution, D decoder rows on fakes and reals, cosine', async ({ wb, timings }) => {
    const t0 = Date.now();
    await contextCommand(wb, await snapshotRow(wb, RUN, PKL), /^Cluster Generator Feature Maps/);
    const seg = await activeWebview(wb, 'segmentation', `Segmentation · ${PKL}`);
    const r = await waitFor('the segmentation', () => seg.locator('body').evaluate((b) => ({
      runs: Number(b.querySelector('#results')?.getAttribute('data-run-count') ?? '0'),
      error: b.querySelector('#error:not([hidden])')?.textContent ?? '',
      cosine: b.querySelector('#decoder-cosine:not([hidden])')?.getAttribute('data-value') ?? null,
      sources: [...new Set([...b.querySelectorAll('.map-row[data-source]')].map((e) => `${e.getAttribute('data-source')}@${e.getAttribute('data-res') ?? ''}`))],
      samples: b.querySelectorAll('.map-row[data-source="samples"] img').length,
      reals: b.querySelectorAll('.map-row[data-source="reals"] img').length,
      note: b.querySelector('#seed-note')?.getAttribute('data-origin') ?? '',
      meta: b.querySelector('#snapshot-meta')?.textContent ?? '',
    })), (s) => s.runs >= 1 || s.error !== '', 120_000);
    timings.pickleSegmentationMs = Date.now() - t0;
    assert.equal(r.error, '');
    assert.equal(r.note, 'official');
    assert.match(r.meta, /official pickle · GGDR decoder at 16×16/);
    // 32 px: G's blocks 8, 16 and 32 clustered by default; D's decoder at 16 on fakes and on reals, and D's own clusters.
    for (const s of ['G@8', 'G@16', 'G@32', 'D-fakes@16', 'D-reals@16', 'D-own@16']) assert.ok(r.sources.includes(s), `${s} in ${r.sources.join(', ')}`);
    assert.equal(r.samples, 8);
    assert.equal(r.reals, 8, 'real images from ../datasets/mnist32.zip');
    assert.ok(r.cosine !== null && Number.isFinite(Number(r.cosine)) && Math.abs(Number(r.cosine)) <= 1, `decoder cosine ${r.cosine}`);
    await tidy(wb);
    await wb.screenshot('official-segmentation');
  });

  test('the across-snapshots strip walks the run\'s three pickles', async ({ wb, timings }) => {
    const seg = await activeWebview(wb, 'segmentation', `Segmentation · ${PKL}`);
    const t0 = Date.now();
    await seg.locator('#across-run').click();
    const done = await waitFor('the strip', () => seg.locator('#across').evaluate((e) => ({
      state: e.getAttribute('data-state') ?? '', kimg: [...e.querySelectorAll('.across-row')].map((r) => r.getAttribute('data-kimg')),
      names: [...e.querySelectorAll('.across-row')].map((r) => r.getAttribute('data-snapshot')),
      errors: e.querySelectorAll('.across-row[data-error]').length,
    })), (s) => s.state === 'done', 120_000);
    timings.pickleAcrossMs = Date.now() - t0;
    assert.deepEqual(done.kimg, ['0', '3', '5']);
    assert.deepEqual(done.names, ['network-snapshot-000000.pkl', 'network-snapshot-000003.pkl', PKL]);
    assert.equal(done.errors, 0);
    await seg.locator('#across-section').scrollIntoViewIfNeeded();
    await wb.screenshot('official-4-across');
    await wb.runCommand('View: Close All Editors');
    await collapseRun(wb, RUN);
  });

  test(`Compute Metrics on pickles appends real ${METRIC} lines (Runs view context menu, then the palette)`, async ({ cs, wb, workspace, timings }) => {
    // LeNet is trained on first use (~30 s) and cached: the server's cache gets this machine's entry when there is one.
    const userCache = ganCacheDir(process.env.XDG_CACHE_HOME);
    const seeded = copyLenetEntries(userCache, ganCacheDir(path.join(cs.workDir, 'xdg', 'cache')));
    console.log(`[e2e] LeNet cache: ${seeded.length ? `seeded ${seeded.join(', ')}` : `none in ${userCache}; the extension trains it`}`);
    await wb.runCommand('Notifications: Clear All Notifications');
    const t0 = Date.now();
    await contextCommand(wb, await snapshotRow(wb, RUN, PKL), /^Compute Metrics/);
    const msg = await pickMetricAndWait(wb, `${RUN}/${PKL}`);
    timings.pickleMetricMs = Date.now() - t0;
    const lines = metricLines(workspace, RUN);
    assert.equal(lines.length, 1);
    assert.deepEqual([lines[0].metric, lines[0].snapshot_pkl], [METRIC, PKL]);
    const fid = lines[0].results[METRIC];
    assert.ok(Number.isFinite(fid) && fid > 0, `${METRIC} ${fid}`);
    assert.ok(msg.includes(`${METRIC} ${fid.toFixed(4)}`), msg);
    await collapseRun(wb, RUN);
    // The official GGDR run (50 and 100 kimg) and its baseline (100 kimg), from the palette: run → snapshot → the remembered metric.
    for (const [run, snap] of [[GGDR_RUN, '000050'], [GGDR_RUN, '000100'], [BASE_RUN, '000100']]) {
      const pkl = `network-snapshot-${snap}.pkl`;
      await wb.runCommand('Notifications: Clear All Notifications');
      await (await wb.treeItem('Runs', run)).click();
      await wb.runCommand('GAN Inspector: Compute Metrics…');
      await wb.pickQuickItem(run);
      await wb.pickQuickItem(pkl);
      await pickMetricAndWait(wb, `${run}/${pkl}`);
      assert.equal(metricLines(workspace, run).at(-1)?.snapshot_pkl, pkl);
    }
    assert.deepEqual(metricLines(workspace, GGDR_RUN).map((l) => l.snapshot_pkl), ['network-snapshot-000050.pkl', 'network-snapshot-000100.pkl']);
  });

  test('Compare Runs on the official GGDR and baseline runs: the computed FIDs, and the same seeds rendered from their pickles', async ({ wb, workspace }) => {
    const a = await wb.treeItem('Runs', GGDR_RUN, { timeoutMs: 60_000 });
    const b = await wb.treeItem('Runs', BASE_RUN);
    await a.click();
    await b.click({ modifiers: ['Control'] });
    await contextCommand(wb, b, /^Compare Runs/);
    const frame = await wb.webviewFrame(undefined, { timeoutMs: 30_000 });
    const td = (run: string, col: string) => frame.locator(`#runs-table tr[data-run="${run}"] td[data-col="${col}"]`);
    for (const run of [GGDR_RUN, BASE_RUN]) {
      const values = metricLines(workspace, run).map((l) => l.results[METRIC]);
      for (const [col, want] of [['best', Math.min(...values)], ['final', values[values.length - 1]]] as const) {
        const got = await waitFor(`${run}: ${METRIC} ${col} in the table`, () => td(run, `${METRIC}.${col}`).getAttribute('data-value'), (v) => !!v, 30_000);
        assert.ok(Math.abs(Number(got) - want) < 1e-9, `${run}: table ${col} ${got} vs metric lines ${want}`);
      }
    }
    assert.equal(await td(GGDR_RUN, 'ggdr').getAttribute('data-value'), 'on');
    assert.equal(await td(BASE_RUN, 'ggdr').getAttribute('data-value'), 'off');
    await frame.locator('#scalar').selectOption(`Metrics/${METRIC}`);
    await frame.locator(`#series-legend button[data-run="${GGDR_RUN}"][data-points="2"]`).waitFor({ timeout: 15_000 });
    // The whole width for the chart and the table (its metric columns).
    await wb.runCommand('View: Toggle Primary Side Bar Visibility');
    await td(BASE_RUN, `${METRIC}.best`).waitFor({ state: 'visible' });
    await tidy(wb);
    await wb.screenshot('compare-official');
    // Same seeds, cell by cell: official runs render them from their pickles (their saved grids' cells are not seeds).
    await frame.locator('#sample-mode').selectOption('cells');
    for (const run of [GGDR_RUN, BASE_RUN]) {
      const strip = frame.locator(`#samples figure[data-run="${run}"] .pickle-strip`);
      await waitFor(`${run}: cells rendered from its pickle`, () => strip.locator('img[data-seed]').count(), (n) => n === 8, 120_000);
      assert.equal(await strip.getAttribute('data-snapshot'), 'network-snapshot-000100.pkl');
      assert.match((await frame.locator(`#samples figure[data-run="${run}"] .pickle-note`).textContent()) ?? '', /numpy RandomState/);
    }
    await frame.locator('#samples').evaluate((t) => t.scrollIntoView({ block: 'start' }));
    await tidy(wb);
    await wb.screenshot('official-5-compare-cells');
    await wb.runCommand('View: Toggle Primary Side Bar Visibility');
  });

  test('no CSP violations or console errors', async ({ wb }) => {
    assert.deepEqual(wb.cspViolations(), []);
    assert.deepEqual(wb.errors(), []);
  });
});
