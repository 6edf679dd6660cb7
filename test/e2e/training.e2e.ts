/**
 * Training from the command palette in a real VS Code (code-server), end to end: the 8-step Train…
 * quick pick (embedded MNIST, preset tiny, GGDR on, 2 kimg, seed 0, backend auto) starts a worker; the
 * Runs view shows the run as running and the status bar its kimg progress; the loss-curves webview plots
 * live ticks, and the Loss/G chart's own read-out (keyboard cursor on its last point) equals stats.jsonl
 * on disk; Stop Training leaves a stopped run whose newest snapshot the engine loads and samples from;
 * an unavailable backend fails before any run folder with a notification that names the job, whose
 * "Open Log" shows the Output channel. No CSP violations or console errors anywhere on the way.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { PRESETS } from '../../src/core/config/options';
import type { OurTrainingOptionsFile } from '../../src/core/runs/runDir';
import type { RunStatus, StatsLine, StatValue } from '../../src/shared/runTypes';
import type { Workbench } from './lib/workbench';
import { pickTfjsEngine, runRow, TRAIN_TITLE, trainTinyNoGgdr, waitFor, waitForRunState } from './lib/waits';
import { e2eSuite } from './lib/suite';

const KIMG = 2;
const RUN_RE = /^\d{5}-/;





/** Moves the pointer to the empty side bar and lets any hover (tab title, tree tooltip) fade, for clean screenshots. */
async function parkPointer(wb: Workbench): Promise<void> {
  await wb.page.mouse.move(250, 600);
  await wb.page.locator('.workbench-hover-container, .monaco-hover:not(.hidden)').first().waitFor({ state: 'hidden', timeout: 3000 }).catch(() => undefined);
}

function readStatsLines(runDir: string): StatsLine[] {
  const text = fs.readFileSync(path.join(runDir, 'stats.jsonl'), 'utf8');
  // A line being appended right now may be incomplete; only newline-terminated lines count.
  return text.split('\n').slice(0, -1).filter((l) => l.trim()).map((l) => JSON.parse(l) as StatsLine);
}

const mean = (line: StatsLine, key: string) => (line[key] as StatValue | undefined)?.mean;

interface LatestRow { count: number; raw: string; rawText: string; kimg: string; state: string; canvases: number }

/** One consistent read of the loss panel: tick count, latest Loss/G/loss (value + text) and its kimg. */
async function readLossPanel(frame: FrameLocator): Promise<LatestRow> {
  return frame.locator('body').evaluate((body) => {
    const row = body.querySelector('#latest-values tr[data-series="Loss/G/loss"]');
    return {
      count: Number(body.querySelector('#row-count')?.getAttribute('data-count') ?? '0'),
      raw: row?.querySelector('td.raw')?.getAttribute('data-value') ?? '',
      rawText: (row?.querySelector('td.raw')?.textContent ?? '').trim(),
      kimg: row?.querySelector('td.kimg')?.getAttribute('data-value') ?? '',
      state: body.querySelector('#run-status')?.getAttribute('data-state') ?? '',
      canvases: body.querySelectorAll('section.group[data-group] canvas').length,
    };
  });
}

interface ChartReadout { group: string; x: string; value: string; text: string; countBefore: number }

/**
 * What the Loss/G chart plots at its last point, read from the chart itself: the chart is focused and End
 * puts its cursor on the last plotted tick (as a keyboard user does); the hover read-out then holds that
 * tick's exact x (kimg) and raw Loss/G/loss. `countBefore`: rows plotted just before End was pressed
 * (live rows may arrive meanwhile; the cursor then stays on the right edge, so on a newer tick).
 */
async function readChartAtEnd(wb: Workbench, frame: FrameLocator, newerThan = -Infinity): Promise<ChartReadout> {
  const chart = frame.locator('section.group[data-group="loss-g"] .chart');
  await chart.focus();
  const countBefore = Number(await frame.locator('#row-count').getAttribute('data-count'));
  await wb.page.keyboard.press('End');
  const r = await waitFor('the Loss/G chart read-out at its last point', () => frame.locator('#hover-readout').evaluate((ro) => {
    const v = ro.querySelector('.value[data-series="Loss/G/loss"]');
    return { group: ro.getAttribute('data-group') ?? '', x: ro.querySelector('.x')?.getAttribute('data-x') ?? '', value: v?.getAttribute('data-value') ?? '', text: (v?.textContent ?? '').trim() };
  }), (o) => o.group === 'loss-g' && o.x !== '' && o.value !== '' && Number(o.x) > newerThan, 10_000);
  return { ...r, countBefore };
}

/** The stats.jsonl line at the read-out's kimg; its Loss/G/loss mean must be the value the chart shows, exactly. */
function checkReadoutAgainstDisk(r: ChartReadout): void {
  const lines = readStatsLines(runDir);
  const at = lines.filter((l) => String(mean(l, 'Progress/kimg')) === r.x);
  assert.equal(at.length, 1, `one stats.jsonl line at the read-out's kimg ${r.x} (kimgs: ${lines.map((l) => mean(l, 'Progress/kimg')).join(', ')})`);
  const onDisk = mean(at[0], 'Loss/G/loss');
  assert.ok(onDisk !== undefined && Number.isFinite(onDisk), 'stats.jsonl has a finite Loss/G/loss mean');
  assert.equal(r.value, String(onDisk), 'the chart read-out (data-value) is exactly the mean on disk');
  const shown = /^Loss\/G\/loss (\S+)/.exec(r.text)?.[1];
  assert.equal(Number(shown), Number(onDisk.toPrecision(6)), `read-out text "${r.text}" shows the mean to 6 significant digits`);
  assert.ok(lines.indexOf(at[0]) >= r.countBefore - 1, `End read the last plotted tick (line ${lines.indexOf(at[0]) + 1}, ${r.countBefore} rows plotted before)`);
}

let runName = '';
let runDir = '';

e2eSuite('training', { testTimeoutMs: 90_000 }, (test) => {
  test('Train… walks the 9-step quick pick and starts a run', async ({ wb, timings }) => {
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Train…');
    await pickTfjsEngine(wb);
    // Step 1 (named configuration) is skipped: the workspace defines none.
    await wb.waitForQuickInput(TRAIN_TITLE(2, 'Dataset'));
    await wb.screenshot('training-1-palette-dataset');
    await wb.pickQuickItem('Embedded MNIST');
    await wb.waitForQuickInput(TRAIN_TITLE(3, 'Preset'));
    await wb.pickQuickItem('tiny');
    await wb.waitForQuickInput(TRAIN_TITLE(4, 'GGDR'));
    await wb.pickQuickItem('GGDR on');
    const weight = await wb.waitForQuickInput(TRAIN_TITLE(5, 'GGDR weight λ'));
    assert.equal(weight.value, '10', 'default λ is the paper\'s 10');
    await wb.typeInQuickInput(weight.value);
    const res = await wb.waitForQuickInput(TRAIN_TITLE(5, 'GGDR resolution'));
    assert.equal(res.value, '0', 'default GGDR resolution is 0 (= preset default)');
    await wb.typeInQuickInput(res.value);
    await wb.waitForQuickInput(TRAIN_TITLE(6, 'Training length'));
    await wb.typeInQuickInput(String(KIMG));
    await wb.waitForQuickInput(TRAIN_TITLE(7, 'Seed'));
    await wb.typeInQuickInput('0');
    await wb.waitForQuickInput(TRAIN_TITLE(8, 'Backend'));
    assert.ok((await wb.quickItems()).includes('auto'), 'backend choices include auto');
    await wb.screenshot('training-2-palette-backend');
    await wb.pickQuickItem('auto');
    const workers = await wb.waitForQuickInput(TRAIN_TITLE(9, 'Workers'));
    assert.equal(workers.value, '0', 'default workers: 0 = auto');
    await wb.typeInQuickInput(workers.value);
    timings.quickPickFlowMs = Date.now() - t0;

    const row = await runRow(wb, RUN_RE);
    runName = ((await row.locator('.label-name').textContent()) ?? '').trim();
    assert.match(runName, /^\d{5}-mnist\b.*\btiny\b.*\bggdr\b/, 'run folder names dataset, preset and GGDR');
  });

  test('the Runs view shows the run running and the status bar its kimg progress', async ({ wb, workspace, timings }, t) => {
    assert.ok(runName, 'a run was started');
    const t0 = Date.now();
    runDir = path.join(workspace, 'runs', runName);
    assert.ok(fs.existsSync(runDir), `run folder ${runDir} exists`);
    const aria = await waitForRunState(wb, runName, 'running');
    // Every answer of the flow reached the worker: training_options.json holds the resolved options.
    const opts = JSON.parse(fs.readFileSync(path.join(runDir, 'training_options.json'), 'utf8')) as OurTrainingOptionsFile;
    assert.equal(opts.options.data, 'mnist');
    assert.equal(opts.options.preset, 'tiny');
    assert.equal(opts.options.kimg, KIMG);
    assert.equal(opts.options.seed, 0);
    assert.equal(opts.options.backend, 'auto');
    // GGDR resolution 0 resolves to the preset's default feature-map resolution.
    assert.deepEqual(opts.options.ggdr, { enabled: true, weight: 10, res: PRESETS.tiny.ggdrRes });
    const backend = opts.backend?.name ?? '';
    assert.ok(['tensorflow', 'webgpu', 'wasm', 'cpu'].includes(backend), `auto resolved to a backend (${backend})`);
    assert.match(aria, new RegExp(`kimg [\\d.]+/${KIMG} · ggdr · ${backend}`), 'tree description: progress, GGDR, backend');
    t.diagnostic(`backend auto resolved to ${backend}`);

    // The status bar shows cur/total kimg per step; speed and ETA join after the first tick.
    const item = await wb.statusBarItem(/GAN .*\/2 kimg/);
    const text = await waitFor('the status bar to show kimg progress, s/kimg and ETA', async () => ((await item.textContent()) ?? '').trim(),
      (t) => /GAN [\d.]+\/2 kimg · [\d.]+ s\/kimg · ETA \d/.test(t));
    assert.ok(Number(/GAN ([\d.]+)\/2 kimg/.exec(text)![1]) > 0, `progress moved off 0 (${text})`);
    // Wide enough for the row's description (kimg · ggdr · backend); the pointer off any tooltip.
    await wb.resizeSideBar(560);
    await parkPointer(wb);
    await waitForRunState(wb, runName, 'running');
    await wb.screenshot('training-3-runs-view-running');
    timings.runningShownMs = Date.now() - t0;
  });

  test('the loss curves plot live ticks; the Loss/G chart read-out (and the latest-values table) equal stats.jsonl', async ({ wb, timings }) => {
    assert.ok(runDir, 'a run folder is known');
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Open Loss Curves');
    await wb.waitForQuickInput('GAN Inspector');
    await wb.pickQuickItem(runName);
    const frame = await wb.webviewFrame(undefined, { timeoutMs: 30_000 });
    const first = await waitFor('≥ 2 plotted ticks with a Loss/G/loss value', () => readLossPanel(frame),
      (r) => r.count >= 2 && r.raw !== '' && r.kimg !== '', 60_000);
    timings.lossPanelTwoTicksMs = Date.now() - t0;
    assert.equal(first.state, 'running');
    assert.ok(first.canvases > 0, 'charts are drawn');

    // The value the chart plots at its last point, read from the chart (keyboard cursor + hover read-out), is the
    // Loss/G/loss mean of the stats.jsonl line at the read-out's kimg.
    const atEnd = await readChartAtEnd(wb, frame);
    checkReadoutAgainstDisk(atEnd);
    await wb.screenshot('training-4-loss-curves');
    // The latest-values table agrees with the file too.
    const latestLine = readStatsLines(runDir).find((l) => String(mean(l, 'Progress/kimg')) === first.kimg);
    assert.equal(first.raw, String(latestLine && mean(latestLine, 'Loss/G/loss')), 'the latest-values table shows the mean on disk');

    // Live: new ticks arrive without reopening the panel, and the chart follows the file.
    await waitFor('another tick to be plotted', () => readLossPanel(frame), (r) => r.count > atEnd.countBefore && Number(r.kimg) > Number(atEnd.x), 30_000);
    const later = await readChartAtEnd(wb, frame, Number(atEnd.x));
    assert.ok(Number(later.x) > Number(atEnd.x), `End reads the newer tick (${atEnd.x} → ${later.x})`);
    checkReadoutAgainstDisk(later);
    await parkPointer(wb);
    // The table the values were read from, scrolled into view (then back, for the stopped screenshot).
    await frame.locator('#latest-values').scrollIntoViewIfNeeded();
    await wb.screenshot('training-4b-loss-latest-values');
    await frame.locator('#run-title').scrollIntoViewIfNeeded();
  });

  test('Stop Training leaves a stopped run whose newest snapshot loads and generates', async ({ wb, timings }) => {
    assert.ok(runDir, 'a run folder is known');
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Stop Training');
    await waitForRunState(wb, runName, 'stopped', 60_000);
    timings.stopToStoppedMs = Date.now() - t0;
    const note = await wb.waitForNotification(/stopped at [\d.]+ kimg/);
    assert.equal(note.severity, 'info');
    const status = JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')) as RunStatus;
    assert.equal(status.state, 'stopped');
    assert.equal(status.lastError, null);
    assert.ok(status.curKimg > 0 && status.curKimg < KIMG, `stopped part-way (${status.curKimg} kimg)`);
    assert.ok(status.latestSnapshot, 'status.json names the newest snapshot');
    // The status-bar item goes away with the last job; the open loss panel follows the run's state.
    await wb.page.locator('.part.statusbar .statusbar-item').filter({ hasText: /GAN .*\/2 kimg/ }).waitFor({ state: 'detached', timeout: 15_000 });
    const frame = await wb.webviewFrame(undefined, { timeoutMs: 15_000 });
    await waitFor('the loss panel to show the run stopped', () => readLossPanel(frame), (r) => r.state === 'stopped', 15_000);
    await (await runRow(wb, runName)).click(); // selected and expanded: the screenshot shows its snapshots
    await parkPointer(wb);
    await wb.screenshot('training-5-stopped');

    // The engine, in this test process, loads the snapshot the extension's worker wrote and samples from it.
    const t1 = Date.now();
    const { initBackend } = await import('../../src/core/backend/backend');
    const { loadNetworks } = await import('../../src/core/training/snapshot');
    const { renderSeeds } = await import('../../src/core/analysis/samples');
    const info = await initBackend('wasm');
    assert.equal(info.name, 'wasm');
    const nets = await loadNetworks(path.join(runDir, status.latestSnapshot), { withD: true });
    try {
      const m = nets.meta.options.model;
      assert.deepEqual([m.resolution, m.channels], [16, 1], 'tiny: 16 px grayscale');
      assert.equal(nets.meta.options.ggdr.enabled, true);
      assert.equal(nets.meta.nimg / 1000, status.curKimg, 'the newest snapshot holds the state training stopped at');
      assert.ok(nets.D, 'discriminator (with the GGDR decoder) loaded');
      const { images } = await renderSeeds(nets.G, [0]);
      assert.equal(images.length, 1);
      assert.equal(images[0].length, m.resolution * m.resolution * m.channels);
      assert.ok(new Set(images[0]).size > 1, 'the generated image is not constant');
    } finally {
      nets.dispose();
    }
    timings.snapshotLoadGenerateMs = Date.now() - t1;
  });

  test('an unavailable backend fails before any run folder: the notification names the job; Open Log shows the Output channel', async ({ wb, workspace, timings }, t) => {
    let tfjsNode = false;
    try {
      require.resolve('@tensorflow/tfjs-node');
      tfjsNode = true;
    } catch {
      // Not installed (the usual case here): the tensorflow backend is unavailable.
    }
    if (tfjsNode) return t.skip('@tensorflow/tfjs-node is installed: the tensorflow backend would not fail');
    const t0 = Date.now();
    const runs = path.join(workspace, 'runs');
    const before = fs.readdirSync(runs).sort();
    await trainTinyNoGgdr(wb, { kimg: 0.016, seed: 0, backend: 'tensorflow' });
    const note = await wb.waitForNotification(/^Training job \d+ \(tiny preset on mnist\) failed before its run folder was created: /, { timeoutMs: 60_000 });
    assert.equal(note.severity, 'error');
    assert.match(note.message, /tfjs-node/, 'the message says what is missing');
    assert.doesNotMatch(note.message, /Training training/);
    assert.deepEqual(fs.readdirSync(runs).sort(), before, 'no run folder was created');
    const toast = wb.page.locator('.notifications-toasts .notification-toast').filter({ hasText: /failed before its run folder was created/ });
    const buttons = (await toast.locator('.monaco-button').allTextContents()).map((b) => b.trim());
    assert.deepEqual(buttons.filter((b) => b === 'Open Log' || b === 'Open Settings'), ['Open Log', 'Open Settings']);
    await parkPointer(wb);
    await wb.screenshot('training-6-backend-unavailable');
    // Open Log: there is no run log.txt, so the Output channel with the worker's lines, not a run picker.
    await toast.locator('.monaco-button').filter({ hasText: /^Open Log$/ }).click();
    await wb.page.locator('.part.panel .view-lines').filter({ hasText: /failed.*tfjs-node|tfjs-node.*not installed/ }).first().waitFor({ timeout: 15_000 });
    assert.equal(await wb.page.locator('.quick-input-widget').isVisible(), false, 'no run picker opened');
    await wb.screenshot('training-7-open-log-output');
    timings.backendErrorMs = Date.now() - t0;
  });

  test('no CSP violations, console errors or error notifications', async ({ wb }) => {
    assert.deepEqual(wb.cspViolations(), []);
    // The workbench logs every error notification to the console: the unavailable backend's is expected.
    assert.deepEqual(wb.errors({ ignore: [/Training job \d+ \(tiny preset on mnist\) failed before its run folder was created: .*tfjs-node/] }), []);
    const bad = (await wb.notifications()).filter((n) => n.severity !== 'info');
    assert.deepEqual(bad, [], 'no warning or error notifications');
  });
});
