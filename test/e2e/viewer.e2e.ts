/**
 * Checkpoint viewer and K-means segmentation in a real VS Code (code-server), end to end: tiny runs
 * trained with the CLI in the setup (GGDR and baseline); the viewer opened from the palette's
 * run → snapshot picker renders the 16-sample grid and the class histogram of a modes200_lenet line the CLI
 * appended, re-renders when ψ changes by keyboard, enlarges
 * a sample and exports the grid PNG into the run folder; opening a snapshot.json opens the same
 * custom editor (File: Open File…); the segmentation panel (from the viewer's button) shows per-cluster shares, D's
 * decoder cosine, highlighting (read back from every map's canvas pixels), overlay with its opacity slider and the
 * across-snapshots strip; a (32-px) baseline run says it has no decoder, and past the 20 000-pixel fit cap says the
 * fit was on a sample; a truncated snapshot shows a clear message. No CSP violations or console errors.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { paletteColor } from '../../src/shared/palette';
import { activeWebview, openFileByPath, trainWithCli, waitFor } from './lib/waits';
import { e2eSuite } from './lib/suite';
import { REPO_ROOT } from './lib/codeServer';
import type { Workbench } from './lib/workbench';

const SNAP = 'network-snapshot-000000.016';
const MODES = 'modes200_lenet';



interface GridRead { count: number; psi: string; seeds: string; srcs: string[]; status: string; error: string }
async function readGrid(frame: FrameLocator): Promise<GridRead> {
  return frame.locator('body').evaluate((body) => {
    const grid = body.querySelector('#grid');
    const err = body.querySelector('#error');
    return {
      count: Number(grid?.getAttribute('data-render-count') ?? '0'),
      psi: grid?.getAttribute('data-psi') ?? '',
      seeds: grid?.getAttribute('data-seeds') ?? '',
      srcs: [...body.querySelectorAll('#grid .sample img')].map((i) => i.getAttribute('src') ?? ''),
      status: body.querySelector('#status')?.textContent ?? '',
      error: err && !err.hasAttribute('hidden') ? err.textContent ?? '' : '',
    };
  });
}

interface SegRead { runs: number; shares: Record<string, number>; cosine: string | null; note: string; status: string; error: string }
async function readSeg(frame: FrameLocator): Promise<SegRead> {
  return frame.locator('body').evaluate((body) => {
    const shares: Record<string, number> = {};
    for (const tr of body.querySelectorAll('#shares tr[data-res][data-cluster]')) {
      const td = tr.querySelector('td.share[data-value]');
      if (td) shares[`${tr.getAttribute('data-res')}/${tr.getAttribute('data-cluster')}`] = Number(td.getAttribute('data-value'));
    }
    // No named helper functions in here: the test's transpiler would wrap them in a __name() the page lacks.
    const [cos, note, err] = ['#decoder-cosine', '#decoder-note', '#error'].map((sel) => {
      const e = body.querySelector(sel);
      return e && !e.hasAttribute('hidden') ? e : null;
    });
    return {
      runs: Number(body.querySelector('#results')?.getAttribute('data-run-count') ?? '0'),
      shares,
      cosine: cos?.getAttribute('data-value') ?? null,
      note: note?.textContent ?? '',
      status: body.querySelector('#status')?.textContent ?? '',
      error: err?.textContent ?? '',
    };
  });
}

/** RGBA pixels of every label-map canvas in rows matching `rowSel` (e.g. `.map-row[data-res="8"]`), in page order. */
async function readCanvases(frame: FrameLocator, rowSel: string): Promise<Array<{ source: string; rgba: number[] }>> {
  return frame.locator('body').evaluate((body, sel) => [...body.querySelectorAll(`${sel} canvas`)].map((c) => {
    const canvas = c as HTMLCanvasElement;
    return {
      source: canvas.closest('.map-row')?.getAttribute('data-source') ?? '',
      rgba: Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data),
    };
  }), rowSel);
}

/** The pixels of a canvas readout as [r,g,b,a] quadruples. */
function pixels(rgba: number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rgba.length; i += 4) out.push(rgba.slice(i, i + 4));
  return out;
}

interface FitNote { sampled: string; text: string; rows: string[] }
async function readFitNote(frame: FrameLocator): Promise<FitNote> {
  return frame.locator('body').evaluate((body) => ({
    sampled: body.querySelector('#fit-note')?.getAttribute('data-sampled') ?? '',
    text: body.querySelector('#fit-note')?.textContent ?? '',
    rows: [...body.querySelectorAll('.map-row[data-source="G"] .row-head')].map((h) => h.textContent ?? ''),
  }));
}

async function openViewerFromPalette(wb: Workbench, run: string, snap: string): Promise<void> {
  await wb.runCommand('GAN Inspector: Open Checkpoint Viewer');
  await wb.pickQuickItem(run);
  await wb.pickQuickItem(snap);
}


let ggdrRun = '';
let baselineRun = '';

e2eSuite('viewer', {
  settings: { 'ganInspector.runsRoots': ['runs'] },
  testTimeoutMs: 120_000,
  workspace: (dir) => {
    ggdrRun = trainWithCli(dir, ['--kimg', '0.016']);
    // A mode-coverage line for the viewer's chart, written by the real CLI (LeNet from ~/.cache/gan-inspector, else trained once).
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'gan-inspector.js'), 'metrics', '--snapshot', path.join(dir, 'runs', ggdrRun, SNAP),
      '--metrics', MODES, '--backend', 'wasm'], { stdio: 'pipe', timeout: 300_000 });
    // 32 px, so that 24 seeds make 24 576 pixels at 32×32: more than the panel's 20 000-pixel fit cap.
    baselineRun = trainWithCli(dir, ['--kimg', '0.008', '--no-ggdr', '--resolution', '32']);
    // A snapshot whose weights were cut short (e.g. a copy interrupted half-way).
    const bad = path.join(dir, 'runs', ggdrRun, 'network-snapshot-000000.024');
    fs.cpSync(path.join(dir, 'runs', ggdrRun, SNAP), bad, { recursive: true });
    const w = path.join(bad, 'weights.bin');
    fs.truncateSync(w, Math.floor(fs.statSync(w).size / 3));
  },
}, (test) => {
  let viewer: FrameLocator;

  test('the viewer opens from the palette (run → snapshot) and renders 16 samples', async ({ wb, timings }) => {
    await wb.treeItem('Runs', ggdrRun, { timeoutMs: 60_000 });
    const t0 = Date.now();
    await openViewerFromPalette(wb, ggdrRun, SNAP);
    viewer = await activeWebview(wb, 'viewer', SNAP);
    const g = await waitFor('the first grid', () => readGrid(viewer), (r) => r.count >= 1 || r.error !== '', 90_000);
    assert.equal(g.error, '');
    timings.firstGridMs = Date.now() - t0;
    assert.equal(g.srcs.length, 16);
    assert.equal(g.seeds, '0-15');
    assert.equal(g.psi, '1');
    assert.ok(g.srcs.every((s) => s.startsWith('data:image/png;base64,')));
    assert.match(g.status, /16 samples in .* · (wasm|cpu|webgpu|tensorflow)/);
    await wb.screenshot('viewer-1-grid');
  });

  test('the mode-coverage section draws the snapshot\'s modes line as a 10-bar class histogram', async ({ wb, workspace }) => {
    const line = fs.readFileSync(path.join(workspace, 'runs', ggdrRun, `metric-${MODES}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { results: Record<string, number>; snapshot_pkl: string }).at(-1)!;
    assert.equal(line.snapshot_pkl, SNAP);
    const chart = await waitFor('the class histogram', () => viewer.locator('body').evaluate((body) => {
      const fig = body.querySelector('figure.modes-chart');
      return {
        state: body.querySelector('#modes-section')?.getAttribute('data-state') ?? '',
        covered: fig?.getAttribute('data-covered') ?? '',
        shares: [...(fig?.querySelectorAll('.bar-col') ?? [])].map((c) => Number(c.getAttribute('data-share'))),
        ticks: fig?.querySelectorAll('.bar-col .ref').length ?? 0,
        caption: fig?.querySelector('figcaption')?.textContent ?? '',
      };
    }), (c) => c.state === 'shown' || c.state === 'error', 30_000);
    assert.equal(chart.state, 'shown');
    assert.equal(chart.covered, String(line.results[MODES]));
    assert.deepEqual(chart.shares, Array.from({ length: 10 }, (_, i) => line.results[`${MODES}_class${i}`]));
    assert.equal(chart.ticks, 10, "the dataset's share of every class");
    assert.match(chart.caption, new RegExp(`^${MODES}: ${line.results[MODES]} of 10 classes covered`));
    await viewer.locator('#modes-section').scrollIntoViewIfNeeded();
    await wb.screenshot('viewer-modes');
  });

  test('changing ψ by keyboard re-renders the grid (no reload) and the samples change', async ({ wb, timings }) => {
    const before = await readGrid(viewer);
    const t0 = Date.now();
    const psi = viewer.locator('#psi');
    await psi.focus();
    // Ten steps of 0.05: each is an input event; superseded renders are cancelled in the process.
    for (let i = 0; i < 10; i++) await wb.page.keyboard.press('ArrowLeft');
    const after = await waitFor('the grid at ψ = 0.5', () => readGrid(viewer), (r) => r.psi === '0.5', 60_000);
    timings.psiRerenderMs = Date.now() - t0;
    assert.ok(after.count > before.count, `render counter went up (${before.count} → ${after.count})`);
    assert.doesNotMatch(after.status, /checkpoint loaded/, 'ψ does not reload the checkpoint');
    assert.equal(after.srcs.length, 16);
    assert.ok(after.srcs.some((s, i) => s !== before.srcs[i]), 'the samples changed');
    assert.equal(await viewer.locator('#psi-value').textContent(), '0.50');
    await wb.screenshot('viewer-2-psi');
  });

  test('a clicked sample opens large with its seed; Escape closes it', async ({ wb }) => {
    await viewer.locator('#grid .sample[data-seed="3"]').click();
    const caption = viewer.locator('#detail-caption');
    await caption.waitFor({ state: 'visible' });
    assert.match((await caption.textContent()) ?? '', /^Seed 3 · ψ 0\.50/);
    await wb.screenshot('viewer-3-detail');
    await wb.page.keyboard.press('Escape');
    await caption.waitFor({ state: 'hidden' });
  });

  test('interpolation strip and PNG export into the run folder', async ({ wb, workspace }) => {
    await viewer.locator('#interp-run').click();
    const strip = await waitFor('the interpolation strip', () => viewer.locator('#interp-strip').evaluate((e) => ({
      count: Number(e.getAttribute('data-render-count') ?? '0'), mode: e.getAttribute('data-mode'), frames: e.querySelectorAll('img').length,
    })), (s) => s.count >= 1);
    assert.deepEqual([strip.mode, strip.frames], ['slerp', 9]);
    await viewer.locator('#export').click();
    const file = await waitFor('the export', () => viewer.locator('#export-status').getAttribute('data-file'), (f) => !!f);
    assert.equal(path.dirname(file!), path.join(workspace, 'runs', ggdrRun));
    assert.match(path.basename(file!), /^viewer-000000\.016-seeds0-15-psi0\.5-G_ema\.png$/);
    assert.ok(fs.statSync(file!).size > 100, 'PNG written');
    await wb.screenshot('viewer-4-interp-export');
  });

  test('the segmentation panel from the viewer: cluster shares, decoder cosine, highlight in every image, overlay and opacity', async ({ wb, timings }) => {
    const t0 = Date.now();
    await viewer.locator('#open-segmentation').click();
    const seg = await activeWebview(wb, 'segmentation', SNAP);
    const r = await waitFor('the segmentation', () => readSeg(seg), (s) => s.runs >= 1 || s.error !== '', 90_000);
    assert.equal(r.error, '');
    timings.firstSegmentationMs = Date.now() - t0;
    // tiny: 16 px, blocks 8 and 16 clustered by default with K = 6, over the viewer's 16 seeds.
    for (const res of [8, 16]) {
      const shares = Object.entries(r.shares).filter(([k]) => k.startsWith(`${res}/`)).map(([, v]) => v);
      assert.equal(shares.length, 6, `K=6 clusters at ${res}`);
      assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 1e-9, `shares at ${res} sum to 1`);
      assert.ok(shares[0] >= shares[5], 'cluster 0 is the largest');
    }
    assert.ok(r.cosine !== null && Number.isFinite(Number(r.cosine)) && Math.abs(Number(r.cosine)) <= 1, `decoder cosine ${r.cosine}`);
    assert.equal(await seg.locator('.map-row[data-source="samples"] img').count(), 16);
    assert.equal(await seg.locator('.map-row[data-source="reals"] img').count(), 16, 'real images from the dataset');
    await wb.screenshot('viewer-5-segmentation');
    // Highlight cluster 1 at 8×8 from the shares table; the button says so.
    const at8 = '.map-row[data-res="8"]', at16 = '.map-row[data-res="16"]';
    const before8 = await readCanvases(seg, at8), before16 = await readCanvases(seg, at16);
    // G's 8×8 maps, D's decoder maps on the fakes and on the reals (labelled with G's 8×8 centroids) and D's own clusters.
    assert.deepEqual(before8.map((m) => m.source), [...Array(16).fill('G'), ...Array(16).fill('D-fakes'), ...Array(16).fill('D-own'), ...Array(16).fill('D-reals')]);
    const pick = seg.locator('#shares tr[data-res="8"][data-cluster="1"] button.pick');
    await pick.click();
    assert.equal(await pick.getAttribute('aria-pressed'), 'true');
    const c1 = [...paletteColor(1), 255];
    const after8 = await readCanvases(seg, at8);
    // Every image labelled with G's 8×8 clusters is redrawn: cluster 1 keeps its colour, every other pixel fades
    // (an image holding no other cluster has nothing to fade). D's own clustering and the 16×16 row are untouched.
    for (const [i, m] of after8.entries()) {
      const was = pixels(before8[i].rgba), now = pixels(m.rgba);
      if (m.source === 'D-own') { assert.deepEqual(m.rgba, before8[i].rgba, `D's own map ${i} unchanged`); continue; }
      const kept = now.filter((px, j) => px.every((v, k) => v === was[j][k]));
      kept.forEach((px) => assert.deepEqual(px, c1, `${m.source} map ${i % 16}: an unchanged pixel is cluster 1`));
      const onlyCluster1 = was.every((px) => px.every((v, k) => v === c1[k]));
      assert.ok(onlyCluster1 || kept.length < now.length, `${m.source} map of image ${i % 16} changed`);
    }
    assert.ok(after8.filter((m) => m.source === 'G').some((m, i) => m.rgba.join() !== before8[i].rgba.join()), 'G maps changed');
    assert.deepEqual((await readCanvases(seg, at16)).map((m) => m.rgba), before16.map((m) => m.rgba), 'the 16×16 maps are another selection space');

    await seg.locator('#view-mode-overlay').click();
    await waitFor('overlay mode', () => seg.locator('#results').getAttribute('class'), (c) => /mode-overlay/.test(c ?? ''));
    // Overlay: cluster 1 opaque in its colour, the other clusters transparent (the sample shows through).
    const overlay = (await readCanvases(seg, `${at8}[data-source="G"]`)).flatMap((m) => pixels(m.rgba));
    assert.ok(overlay.every((px) => px[3] === 0 || px.every((v, k) => v === c1[k])), 'overlay pixels: transparent or cluster 1');
    assert.ok(overlay.some((px) => px[3] === 0) && overlay.some((px) => px[3] === 255));
    // The opacity slider sets the overlay canvases' opacity (CSS variable on the body).
    const readOpacity = () => seg.locator(`${at8}[data-source="G"] canvas`).first().evaluate((c) => ({
      css: Number(getComputedStyle(c).opacity), variable: document.body.style.getPropertyValue('--opacity'), shown: document.querySelector('#opacity-value')?.textContent ?? '',
    }));
    const op0 = await readOpacity();
    assert.deepEqual(op0, { css: 0.55, variable: '0.55', shown: '0.55' });
    await seg.locator('#opacity').focus();
    for (let i = 0; i < 5; i++) await wb.page.keyboard.press('ArrowLeft');
    const op1 = await waitFor('the overlay opacity', readOpacity, (o) => o.variable === '0.3');
    assert.deepEqual(op1, { css: 0.3, variable: '0.3', shown: '0.30' });
    await wb.screenshot('viewer-6-segmentation-highlight-overlay');
  });

  test('the across-snapshots strip clusters the same seeds at every loadable snapshot', async ({ wb, timings }) => {
    const seg = await activeWebview(wb, 'segmentation', SNAP);
    const t0 = Date.now();
    await seg.locator('#across-run').click();
    const done = await waitFor('the strip', () => seg.locator('#across').evaluate((e) => ({
      state: e.getAttribute('data-state') ?? '', kimg: [...e.querySelectorAll('.across-row')].map((r) => r.getAttribute('data-kimg')),
      errors: e.querySelectorAll('.across-row[data-error]').length,
    })), (s) => s.state === 'done', 90_000);
    timings.acrossMs = Date.now() - t0;
    // The truncated 0.024 snapshot is not loadable, so it is not walked.
    assert.deepEqual(done.kimg, ['0', '0.008', '0.016']);
    assert.equal(done.errors, 0);
    await seg.locator('#across-section').scrollIntoViewIfNeeded();
    await wb.screenshot('viewer-7-across');
  });

  test('a baseline run says its discriminator has no decoder', async ({ wb }) => {
    // Focus the Runs view first: a focused webview can take focus back from the next quick pick as the palette closes.
    await (await wb.treeItem('Runs', baselineRun)).click();
    await wb.runCommand('GAN Inspector: Cluster Generator Feature Maps');
    await wb.pickQuickItem(baselineRun);
    await wb.pickQuickItem('network-snapshot-000000.008');
    const seg = await activeWebview(wb, 'segmentation', 'network-snapshot-000000.008');
    const r = await waitFor('the baseline segmentation', () => readSeg(seg), (s) => s.runs >= 1 || s.error !== '', 90_000);
    assert.equal(r.error, '');
    assert.equal(r.cosine, null);
    assert.match(r.note, /trained without GGDR, so its discriminator has no decoder/);
    // 8 seeds × 32×32 = 8 192 pixels: every pixel is fitted, and the panel says so.
    const all = await readFitNote(seg);
    assert.equal(all.sampled, 'false');
    assert.match(all.text, /fitted on every pixel of the batch/);
    assert.ok(all.rows.some((t) => /G 32×32.*all 8,192 pixels/.test(t)), all.rows.join(' | '));
    await wb.screenshot('viewer-8-baseline');
    // 24 seeds: 24 576 pixels at 32×32, past the 20 000-pixel fit cap; 16×16 and 8×8 stay below it.
    await seg.locator('#seeds input').fill('0-23');
    await seg.locator('#run').click();
    const big = await waitFor('the 24-seed segmentation', () => readSeg(seg), (s) => s.runs >= 2 || s.error !== '', 90_000);
    assert.equal(big.error, '');
    const note = await readFitNote(seg);
    assert.equal(note.sampled, 'true');
    assert.match(note.text, /^Large maps: K-means was fitted on a seeded random sample of 20,000 pixels at 32×32 \(more than that in the batch\), then every pixel was assigned to its nearest centroid\./);
    assert.ok(note.rows.some((t) => /G 32×32.*fitted on 20,000 of 24,576 pixels/.test(t)), note.rows.join(' | '));
    assert.ok(note.rows.some((t) => /G 16×16.*all 6,144 pixels/.test(t)), note.rows.join(' | '));
    await wb.screenshot('viewer-8b-baseline-fit-on-sample');
  });

  test('opening a snapshot.json file opens the viewer; a truncated snapshot shows a clear message', async ({ wb, workspace }) => {
    // File: Open File… with the whole path of another snapshot's snapshot.json (not a pick from the listing:
    // the dialog starts in the folder of the active snapshot, which has its own snapshot.json).
    await openFileByPath(wb, path.join(workspace, 'runs', ggdrRun, 'network-snapshot-000000.008', 'snapshot.json'));
    const v = await activeWebview(wb, 'viewer', 'network-snapshot-000000.008');
    await waitFor('the grid of the second viewer', () => readGrid(v), (r) => r.count >= 1 && r.srcs.length === 16);
    assert.equal(await v.locator('#snapshot-title').textContent(), 'network-snapshot-000000.008');
    await wb.screenshot('viewer-9-open-file');

    await openViewerFromPalette(wb, ggdrRun, 'network-snapshot-000000.024');
    const bad = await activeWebview(wb, 'viewer', 'network-snapshot-000000.024');
    const err = await waitFor('the error', () => bad.locator('#error').textContent(), (t) => !!t && t.length > 0);
    assert.match(err!, /network-snapshot-000000\.024 cannot be loaded: incomplete snapshot: weights\.bin hold \d+ bytes, snapshot\.json describes \d+/);
    assert.equal(await bad.locator('#status').getAttribute('data-state'), 'error');
    await wb.screenshot('viewer-10-truncated');
  });

  test('no CSP violations or console errors', async ({ wb }) => {
    assert.deepEqual(wb.cspViolations(), []);
    assert.deepEqual(wb.errors(), []);
  });
});
