/**
 * The packaged extension, end to end, every command: `vsce package` (prepublish: `node esbuild.mjs --package`)
 * builds a .vsix (or $GAN_E2E_EXTENSION=path.vsix is used) that holds no sources, maps or node_modules;
 * code-server installs it with --install-extension into an extensions folder OUTSIDE the repository (so
 * Node cannot fall back to the repository's node_modules). From the command palette, in order:
 * - Train with Current Settings (preset tiny from the settings) runs to finished on the bundled tfjs +
 *   wasm binaries and the packed MNIST digits; Open Loss Curves plots it;
 * - Show Engine Status says the inference engine is not running (the baseline: no tensors); Open Checkpoint
 *   Viewer renders 16 samples and Cluster Generator Feature Maps (another snapshot) its cluster shares, and
 *   the status then lists both snapshots with more tensors; View: Close All Editors frees them: the
 *   status goes back to the baseline tensor count with no snapshot loaded (a leak would fail here);
 * - Train… (the 8-step quick pick: MNIST, tiny, GGDR off, 1 kimg, seed 1, wasm) starts a run that the
 *   engine status lists as training; Stop Training leaves it stopped part-way with a loadable newest
 *   snapshot; Resume Training continues the same folder from that snapshot to finished;
 * - Show Resolved Config (Dry Run) shows the last Train… answers; Refresh Runs turns the run of a CLI
 *   trainer killed with SIGKILL (no file event tells) from running into interrupted; Reveal Run Folder
 *   selects a run folder in the Explorer; Open Log opens its log.txt;
 * - Compare Runs (two runs selected in the Runs view) opens the panel with both; Run GGDR Experiment
 *   (MNIST, tiny, 0.016 kimg, seed 0, wasm, one after another) trains both arms under its progress
 *   notification, writes its record and opens their comparison with the metric columns (the server's
 *   LeNet cache is seeded from this machine's ~/.cache/gan-inspector when it has one: no 30 s retraining),
 *   with the segmentation view of the GGDR and the baseline generator beside it; Compute Metrics… (a run's
 *   snapshot, the preselected fid2k_lenet/kid2k_lenet) appends a metric line and reports it with LeNet's accuracy;
 * - the Get Started walkthrough lists its five steps. No CSP violations or console errors.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { unzipSync } from 'fflate';
import { readRun } from '../../src/core/runs/readRun';
import type { RunStatus } from '../../src/shared/runTypes';
import { E2E_OUTPUT, REPO_ROOT } from './lib/codeServer';
import { activeWebview, copyLenetEntries, ganCacheDir, runAria, runRow, sleep, trainTinyNoGgdr, waitFor, waitForRunState } from './lib/waits';
import { e2eSuite } from './lib/suite';
import type { Workbench } from './lib/workbench';

const KIMG = 0.048; // Train with Current Settings: three ticks of the tiny preset, curves with lines, still seconds
const STOP_KIMG = 1; // Train…: long enough (~15 s) to be stopped part-way, short enough to resume to the end
const AB_KIMG = 0.016; // GGDR experiment: one tick (and one metric evaluation) per arm
const AB_TITLE = (step: number, what: string) => `GAN Inspector: GGDR Experiment (${step}/6) — ${what}`;


const fromEnv = process.env.GAN_E2E_EXTENSION?.endsWith('.vsix') ? path.resolve(process.env.GAN_E2E_EXTENSION) : undefined;
const buildDir = path.join(E2E_OUTPUT, 'vsix-build');
let vsixPath = fromEnv ?? '';
let packageMs = 0;
// Outside the repository: an installed extension must not resolve anything from /…/repo/node_modules.
const extensionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-e2e-vsix-ext-'));
/** The CLI trainer of the Refresh Runs test (killed there; again here if that test failed half-way). */
let cliTrainer: ChildProcess | undefined;

/** Builds the .vsix the way `npm run package` does (vsce runs the vscode:prepublish production build). */
function buildVsix(): string {
  fs.rmSync(buildDir, { recursive: true, force: true });
  fs.mkdirSync(buildDir, { recursive: true });
  const out = path.join(buildDir, 'gan-inspector.vsix');
  const t0 = Date.now();
  execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'vsce'), ['package', '--no-rewrite-relative-links', '--out', out], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 180_000 });
  packageMs = Date.now() - t0;
  return out;
}

after(() => {
  if (cliTrainer?.exitCode === null && cliTrainer.signalCode === null) cliTrainer.kill('SIGKILL');
  fs.rmSync(extensionsDir, { recursive: true, force: true });
  // The package build left production bundles in dist/; put the development build (with maps) back.
  if (!fromEnv) execFileSync(process.execPath, [path.join(REPO_ROOT, 'esbuild.mjs')], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 120_000 });
});

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function readStatus(runDir: string): RunStatus {
  return JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')) as RunStatus;
}

/** Run folders under the runs root. */
function runFolders(runs: string): string[] {
  return fs.existsSync(runs) ? fs.readdirSync(runs).filter((n) => /^\d{5}-/.test(n)).sort() : [];
}

interface EngineStatus {
  running: boolean;
  backend: string;
  tensors: number;
  snapshots: string[];
  training: string;
  text: string;
}

/**
 * Runs GAN Inspector: Show Engine Status and parses its notification ("GAN Inspector engine: wasm 4.22.0 ·
 * 68 tensors · 100.7 KB · 1 snapshot loaded (run/network-snapshot-…) · training: none"). Older
 * notifications are cleared first, so the one read is this call's.
 */
async function engineStatus(wb: Workbench): Promise<EngineStatus> {
  await wb.runCommand('Notifications: Clear All Notifications');
  await waitFor('no engine-status toast', async () => (await wb.notifications()).filter((n) => n.message.startsWith('GAN Inspector engine:')).length, (n) => n === 0, 10_000);
  await wb.runCommand('GAN Inspector: Show Engine Status');
  const { message: text } = await wb.waitForNotification(/^GAN Inspector engine: /, { timeoutMs: 30_000 });
  const m = /^GAN Inspector engine: (.*?) · training: (.*)$/.exec(text);
  assert.ok(m, `engine status format: ${text}`);
  const [, engine, training] = m;
  if (/^not running\b/.test(engine)) return { running: false, backend: '', tensors: 0, snapshots: [], training, text };
  const e = /^(\S+ \S+) · (\d+) tensors? · \d[\d.]* [KMG]?B · (?:no snapshots loaded|(\d+) snapshots? loaded(?: \((.*)\))?)$/.exec(engine);
  assert.ok(e, `engine part of the status: ${engine}`);
  const snapshots = e[4] ? e[4].split(', ') : [];
  assert.equal(snapshots.length, Number(e[3] ?? 0), `snapshot count matches the names listed: ${engine}`);
  return { running: true, backend: e[1], tensors: Number(e[2]), snapshots, training, text };
}

/** The active editor's tab label and its rendered lines (top to bottom). */
async function activeEditor(wb: Workbench): Promise<{ tab: string; text: string }> {
  const group = wb.page.locator('.part.editor .editor-group-container.active');
  const tab = ((await group.locator('.tab.active .label-name').first().textContent({ timeout: 2000 })) ?? '').trim();
  const lines = await group.locator('.monaco-editor .view-lines').first().evaluate((el) =>
    [...el.querySelectorAll('.view-line')].map((l) => ({ top: parseFloat(l.getAttribute('style')?.match(/top:\s*([\d.]+)px/)?.[1] ?? '0'), text: l.textContent ?? '' })), undefined, { timeout: 2000 });
  return { tab, text: lines.sort((a, b) => a.top - b.top).map((l) => l.text.replace(/\u00a0/g, ' ')).join('\n') };
}

/** The dry-run document of Show Resolved Config: its header and the overrides the last Train… answers make. */
async function checkResolvedConfig(wb: Workbench, workspace: string): Promise<void> {
  const ed = await waitFor('the resolved config', () => activeEditor(wb), (e) => /resolved training options/.test(e.text) && e.text.includes('"resolved"'), 30_000);
  assert.match(ed.text, /^\/\/ GAN Inspector — resolved training options \(dry run: nothing was started\)\.$/m);
  assert.match(ed.text, /^\/\/ Source: last Train… answers\. "Train with Current Settings" would start exactly this\.$/m);
  const overrides = /"overrides": (\{[\s\S]*?\n {2}\})/.exec(ed.text);
  assert.ok(overrides, `the overrides block is shown:\n${ed.text}`);
  const o = JSON.parse(overrides[1]) as { preset: string; kimg: number; seed: number; backend: string; ggdr: { enabled: boolean }; data: string; outdir: string };
  assert.deepEqual([o.preset, o.kimg, o.seed, o.backend, o.ggdr.enabled, o.data], ['tiny', STOP_KIMG, 1, 'wasm', false, 'mnist']);
  assert.equal(path.resolve(workspace, o.outdir), path.join(workspace, 'runs'));
  await wb.screenshot('vsix-4-resolved-config');
}

interface SegView {
  title: string;
  meta: string;
  runs: number;
  shares: number;
  decoderMaps: number;
  error: string;
}

/** The segmentation webviews visible side by side (any editor group), with what each shows. */
async function visibleSegmentations(wb: Workbench): Promise<SegView[]> {
  const out: SegView[] = [];
  for (let i = 0; i < 4; i++) {
    const f = await wb.webviewFrame(i, { timeoutMs: 1000 }).catch(() => null);
    if (!f) break;
    const v = await f.locator('body').evaluate((b) => ({
      panel: b.getAttribute('data-panel'),
      title: b.querySelector('#snapshot-title')?.textContent ?? '',
      meta: b.querySelector('#snapshot-meta')?.textContent ?? '',
      runs: Number(b.querySelector('#results')?.getAttribute('data-run-count') ?? '0'),
      shares: b.querySelectorAll('#shares td.share[data-value]').length,
      decoderMaps: b.querySelectorAll('#decoder-shares tr[data-source]').length,
      error: b.querySelector('#error:not([hidden])')?.textContent ?? '',
    }), undefined, { timeout: 2000 }).catch(() => null);
    if (v?.panel === 'segmentation') out.push({ title: v.title, meta: v.meta, runs: v.runs, shares: v.shares, decoderMaps: v.decoderMaps, error: v.error });
  }
  return out;
}

/** Waits until `probe` returns the same value for `quietMs` in a row (e.g. a tree row no file event changes any more). */
async function waitForStable(what: string, probe: () => Promise<string>, quietMs: number, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  let since = Date.now();
  for (;;) {
    await sleep(250);
    const v = await probe();
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return v;
    if (Date.now() > deadline) throw new Error(`${what} kept changing for ${timeoutMs} ms; last: ${last}`);
  }
}

let runName = ''; // Train with Current Settings
let snapName = '';
let stopRun = ''; // Train…, stopped, resumed
let killedRun = ''; // the CLI trainer's, for Refresh Runs
let baselineTensors = -1;

e2eSuite('vsix', {
  settings: {
    'ganInspector.runsRoots': ['runs'],
    'ganInspector.outdir': 'runs',
    'ganInspector.defaultPreset': 'tiny',
    'ganInspector.kimg': KIMG,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
  },
  extensionsDir,
  testTimeoutMs: 150_000,
  extension: () => {
    if (!vsixPath) vsixPath = buildVsix();
    return { kind: 'vsix', path: vsixPath };
  },
}, (test) => {
  test('the .vsix is small and self-contained; it installed without node_modules', async ({ cs, timings }) => {
    if (packageMs) timings.packageMs = packageMs;
    const size = fs.statSync(vsixPath).size;
    console.log(`[e2e] vsix: ${vsixPath}: ${(size / 1e6).toFixed(2)} MB, ${listZip(vsixPath).length} entries`);
    assert.ok(size < 8 * 1024 * 1024, `.vsix is ${(size / 1e6).toFixed(2)} MB`);
    const entries = listZip(vsixPath);
    for (const need of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/worker.js', 'extension/dist/inference.js', 'extension/dist/inferenceWorkerThread.js',
      'extension/dist/mnist-digits.bin', 'extension/dist/tfjs-backend-wasm.wasm', 'extension/dist/tfjs-backend-wasm-simd.wasm',
      'extension/dist/tfjs-backend-wasm-threaded-simd.wasm', 'extension/dist/webview/viewer.js', 'extension/media/walkthrough/train.svg']) {
      assert.ok(entries.includes(need), `${need} is in the .vsix`);
    }
    const unwanted = entries.filter((e) => /^extension\/(node_modules|src|test|webview|bench|scripts)\/|\.map$|\.ts$/.test(e));
    assert.deepEqual(unwanted, [], 'no sources, tests, maps or node_modules');
    const installed = path.join(cs.extensionsDir, fs.readdirSync(cs.extensionsDir).find((n) => n.startsWith(cs.extensionId))!);
    assert.ok(!fs.existsSync(path.join(installed, 'node_modules')), 'no node_modules next to the installed extension');
    assert.ok(path.relative(REPO_ROOT, installed).startsWith('..'), `installed outside the repository (${installed})`);
    // The installed manifest contributes exactly the commands this spec drives.
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { contributes: { commands: Array<{ command: string }> } };
    assert.deepEqual(pkg.contributes.commands.map((c) => c.command).sort(), [
      'ganInspector.clusterFeatureMaps', 'ganInspector.compareRuns', 'ganInspector.computeMetrics', 'ganInspector.exportDataset', 'ganInspector.openCheckpointViewer', 'ganInspector.openLog',
      'ganInspector.openLossCurves', 'ganInspector.refreshRuns', 'ganInspector.resumeTraining', 'ganInspector.revealRunFolder',
      'ganInspector.runGgdrExperiment', 'ganInspector.showEngineStatus', 'ganInspector.showResolvedConfig', 'ganInspector.stopTraining',
      'ganInspector.train', 'ganInspector.trainCurrent',
    ]);
  });

  test('Train with Current Settings (tiny) runs to finished on the bundled wasm backend', async ({ cs, wb, workspace, timings }) => {
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Train with Current Settings');
    assert.match(await cs.waitForActivation(60_000), /ganInspector/);
    const runs = path.join(workspace, 'runs');
    runName = await waitFor('a run folder', async () => runFolders(runs).find((n) => /^\d{5}-mnist-tiny/.test(n)) ?? '', (n) => n !== '', 60_000);
    const status = await waitFor('status finished', async () => readStatus(path.join(runs, runName)),
      (s) => s.state === 'finished' || s.state === 'failed', 120_000);
    timings.trainMs = Date.now() - t0;
    assert.equal(status.state, 'finished', `run ended ${status.state}: ${status.lastError ?? ''}`);
    const opts = JSON.parse(fs.readFileSync(path.join(runs, runName, 'training_options.json'), 'utf8')) as { backend: { name: string }; options: { kimg: number; preset: string } };
    assert.equal(opts.backend.name, 'wasm', 'the bundled wasm backend (tfjs-node and webgpu are not shipped)');
    assert.deepEqual([opts.options.preset, opts.options.kimg], ['tiny', KIMG], 'the settings\' preset and kimg');
    snapName = status.latestSnapshot ?? '';
    assert.match(snapName, /^network-snapshot-/);
    await wb.treeItem('Runs', runName, { timeoutMs: 30_000 });
  });

  test('loss curves of the finished run', async ({ wb }) => {
    await wb.runCommand('GAN Inspector: Open Loss Curves');
    await wb.pickQuickItem(runName);
    const frame = await activeWebview(wb, 'loss');
    const r = await waitFor('loss rows', () => frame.locator('body').evaluate((b) => ({
      count: Number(b.querySelector('#row-count')?.getAttribute('data-count') ?? '0'),
      state: b.querySelector('#run-status')?.getAttribute('data-state') ?? '',
      canvases: b.querySelectorAll('canvas').length,
    })), (v) => v.count > 0 && v.state === 'finished');
    assert.equal(r.count, 3, 'one row per tick');
    assert.ok(r.canvases > 0, 'charts drawn');
    await wb.screenshot('vsix-1-loss');
  });

  test('Show Engine Status before any viewer: the inference engine is not running, nothing trains', async ({ wb }) => {
    const s = await engineStatus(wb);
    assert.equal(s.running, false, s.text);
    assert.equal(s.training, 'none');
    // A process that does not exist holds no tensors; a fresh one starts with none either (unit-tested).
    baselineTensors = s.tensors;
  });

  test('checkpoint viewer on the new snapshot renders 16 samples; the engine holds that snapshot', async ({ wb, timings }) => {
    // A focused webview takes the focus back from a quick pick it overlaps, which closes the pick.
    await wb.runCommand('View: Close All Editors');
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Open Checkpoint Viewer');
    await wb.pickQuickItem(runName);
    await wb.pickQuickItem(snapName);
    const viewer = await activeWebview(wb, 'viewer', new RegExp(`${escapeRe(snapName)}$`));
    const g = await waitFor('the grid', () => viewer.locator('body').evaluate((b) => ({
      count: Number(b.querySelector('#grid')?.getAttribute('data-render-count') ?? '0'),
      imgs: b.querySelectorAll('#grid .sample img').length,
      error: b.querySelector('#error:not([hidden])')?.textContent ?? '',
    })), (v) => v.count >= 1 || v.error !== '', 90_000);
    timings.viewerFirstGridMs = Date.now() - t0;
    assert.equal(g.error, '');
    assert.equal(g.imgs, 16);
    await wb.screenshot('vsix-2-viewer');
    const s = await engineStatus(wb);
    assert.equal(s.running, true, s.text);
    assert.match(s.backend, /^wasm /);
    assert.deepEqual(s.snapshots, [`${runName}/${snapName}`]);
    assert.ok(s.tensors > baselineTensors, `the loaded generator holds tensors (${s.tensors})`);
  });

  test('Cluster Generator Feature Maps on another snapshot: cluster shares; the engine holds both snapshots', async ({ wb, workspace, timings }) => {
    const run = await readRun(path.join(workspace, 'runs', runName), { checkPid: false });
    const seg2 = run.snapshots.filter((s) => s.loadable && s.name !== snapName).pop()?.name ?? '';
    assert.match(seg2, /^network-snapshot-/);
    // Focus the Runs view first (the viewer stays open behind): a focused webview would take the focus back from the quick pick.
    await (await runRow(wb, runName)).click();
    const before = await engineStatus(wb);
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Cluster Generator Feature Maps');
    await wb.pickQuickItem(runName);
    await wb.pickQuickItem(seg2);
    const seg = await activeWebview(wb, 'segmentation', new RegExp(`${escapeRe(seg2)}$`));
    const r = await waitFor('the segmentation', () => seg.locator('body').evaluate((b) => ({
      runs: Number(b.querySelector('#results')?.getAttribute('data-run-count') ?? '0'),
      shares: b.querySelectorAll('#shares td.share[data-value]').length,
      samples: b.querySelectorAll('.map-row[data-source="samples"] img').length,
      reals: b.querySelectorAll('.map-row[data-source="reals"] img').length,
      error: b.querySelector('#error:not([hidden])')?.textContent ?? '',
    })), (v) => v.runs >= 1 || v.error !== '', 90_000);
    timings.segmentationMs = Date.now() - t0;
    assert.equal(r.error, '');
    assert.ok(r.shares > 0, 'cluster shares listed');
    assert.ok(r.samples > 0, 'sample maps');
    assert.equal(r.reals, r.samples, 'as many real digits (from the packed MNIST file) as samples');
    await wb.screenshot('vsix-3-segmentation');
    const s = await engineStatus(wb);
    assert.deepEqual([...s.snapshots].sort(), [`${runName}/${snapName}`, `${runName}/${seg2}`].sort());
    assert.ok(s.tensors > before.tensors, `G_ema and D (with its decoder) of the second snapshot add tensors (${before.tensors} → ${s.tensors})`);
  });

  test('closing every editor frees the models: the tensor count returns to the baseline', async ({ wb, timings }) => {
    const t0 = Date.now();
    await wb.runCommand('View: Close All Editors');
    await wb.page.locator('.part.editor iframe.webview').first().waitFor({ state: 'detached', timeout: 15_000 }).catch(() => undefined);
    const s = await waitFor('the engine to free every snapshot', () => engineStatus(wb),
      (v) => v.running && v.snapshots.length === 0 && v.tensors === baselineTensors, 30_000);
    timings.releaseToBaselineMs = Date.now() - t0;
    assert.equal(s.tensors, baselineTensors);
  });

  test('Train… walks the quick pick (tiny, GGDR off, 1 kimg, seed 1, wasm); Engine Status lists the training', async ({ wb, workspace, timings }) => {
    const runs = path.join(workspace, 'runs');
    const existing = new Set(runFolders(runs));
    const t0 = Date.now();
    await trainTinyNoGgdr(wb, { kimg: STOP_KIMG, seed: 1, backend: 'wasm' });
    timings.trainFlowMs = Date.now() - t0;
    stopRun = await waitFor('the new run folder', async () => runFolders(runs).find((n) => !existing.has(n)) ?? '', (n) => n !== '', 60_000);
    assert.match(stopRun, /^\d{5}-mnist-tiny-noggdr-kimg1-batch4-seed1$/, 'folder name: dataset, preset, GGDR off, kimg, seed');
    // The trainer creates the folder, then writes training_options.json into it (atomically): wait for the file.
    const optsFile = path.join(runs, stopRun, 'training_options.json');
    await waitFor('training_options.json', async () => fs.existsSync(optsFile), (v) => v, 30_000);
    const opts = JSON.parse(fs.readFileSync(optsFile, 'utf8')) as { options: { kimg: number; seed: number; ggdr: { enabled: boolean }; backend: string } };
    assert.deepEqual([opts.options.kimg, opts.options.seed, opts.options.ggdr.enabled, opts.options.backend], [STOP_KIMG, 1, false, 'wasm']);
    await waitForRunState(wb, stopRun, 'running', 60_000);
    await waitFor('the first tick', async () => readStatus(path.join(runs, stopRun)), (s) => s.curKimg > 0, 60_000);
    const s = await engineStatus(wb);
    assert.match(s.training, new RegExp(`^${escapeRe(stopRun)} running [\\d.]+/${STOP_KIMG} kimg$`), s.text);
  });

  test('Stop Training leaves the run stopped part-way with a loadable newest snapshot', async ({ wb, workspace, timings }) => {
    const runDir = path.join(workspace, 'runs', stopRun);
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Stop Training');
    await waitForRunState(wb, stopRun, 'stopped', 60_000);
    timings.stopToStoppedMs = Date.now() - t0;
    const note = await wb.waitForNotification(new RegExp(`Training ${escapeRe(stopRun)} stopped at [\\d.]+ kimg`));
    assert.equal(note.severity, 'info');
    const status = readStatus(runDir);
    assert.equal(status.state, 'stopped');
    assert.equal(status.lastError, null);
    assert.ok(status.curKimg > 0 && status.curKimg < STOP_KIMG, `stopped part-way (${status.curKimg} kimg)`);
    const snap = (await readRun(runDir, { checkPid: false })).snapshots.find((s) => s.name === status.latestSnapshot);
    assert.ok(snap, `status.json names an existing snapshot (${status.latestSnapshot})`);
    assert.equal(snap.loadable, true, snap.reason);
    assert.equal(snap.kimg, status.curKimg, 'the newest snapshot holds the state training stopped at');
  });

  test('Resume Training continues the stopped run from that snapshot to finished', async ({ wb, workspace, timings }) => {
    const runs = path.join(workspace, 'runs');
    const runDir = path.join(runs, stopRun);
    const stopped = readStatus(runDir);
    const folders = runFolders(runs);
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Resume Training');
    // Only resumable runs are offered: the finished one is not.
    await wb.waitForQuickInput('GAN Inspector');
    // Each item is the run's name (label) and its folder (detail).
    assert.deepEqual((await wb.quickItems()).filter((l) => !l.includes(path.sep)), [stopRun]);
    await wb.pickQuickItem(stopRun);
    await waitForRunState(wb, stopRun, 'running', 60_000);
    const end = await waitFor('the resumed run to end', async () => readStatus(runDir), (s) => s.state === 'finished' || s.state === 'failed', 120_000);
    timings.resumeToFinishedMs = Date.now() - t0;
    assert.equal(end.state, 'finished', end.lastError ?? '');
    assert.equal(end.curKimg, STOP_KIMG);
    assert.deepEqual(runFolders(runs), folders, 'the same folder, no new run');
    const log = fs.readFileSync(path.join(runDir, 'log.txt'), 'utf8');
    assert.ok(log.includes(`Resuming ${runDir} from ${stopped.latestSnapshot}`), 'log.txt says where it resumed from');
    await waitForRunState(wb, stopRun, 'finished', 30_000);
    await wb.waitForNotification(new RegExp(`Training ${escapeRe(stopRun)} finished \\(${STOP_KIMG} kimg\\)`));
  });

  test('Show Resolved Config (Dry Run) shows the last Train… answers', async ({ wb, workspace }) => {
    await wb.runCommand('View: Close All Editors');
    await wb.runCommand('GAN Inspector: Show Resolved Config (Dry Run)');
    try {
      await checkResolvedConfig(wb, workspace);
    } finally {
      // An untitled document with content is dirty: revert it so that closing asks nothing.
      await wb.runCommand('View: Revert and Close Editor');
    }
  });

  test('Refresh Runs re-reads liveness: a CLI trainer killed with SIGKILL shows running until refreshed, then interrupted', async ({ wb, workspace, timings }) => {
    const runs = path.join(workspace, 'runs');
    const existing = new Set(runFolders(runs));
    // A trainer outside this window (a terminal's CLI), long enough to be killed mid-run.
    cliTrainer = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'gan-inspector.js'), 'train', '--data', 'mnist', '--preset', 'tiny', '--kimg', '50',
      '--no-ggdr', '--seed', '2', '--backend', 'wasm', '--outdir', runs], { cwd: workspace, stdio: 'ignore' });
    const child = cliTrainer;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    killedRun = await waitFor('the CLI run folder', async () => runFolders(runs).find((n) => !existing.has(n)) ?? '', (n) => n !== '', 60_000);
    const runDir = path.join(runs, killedRun);
    await waitFor('the CLI run to tick', async () => readStatus(runDir), (s) => s.state === 'running' && s.pid === child.pid && s.curKimg > 0, 60_000);
    await waitForRunState(wb, killedRun, 'running', 30_000);
    // Freeze it, let the Runs view take in its last writes, then kill it: nothing on disk changes any more.
    process.kill(child.pid!, 'SIGSTOP');
    await waitForStable('the Runs view row', () => runAria(wb, killedRun), 1500);
    child.kill('SIGKILL');
    await exited;
    assert.equal(readStatus(runDir).state, 'running', 'status.json still says running: the trainer could not write anything');
    assert.match(await runAria(wb, killedRun), new RegExp(`^Run ${escapeRe(killedRun)}, running,`), 'no file event: the view still shows it running');
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Refresh Runs');
    await waitForRunState(wb, killedRun, 'interrupted (trainer gone; resumable)', 15_000);
    timings.refreshToInterruptedMs = Date.now() - t0;
  });

  test('Reveal Run Folder selects the run folder in the Explorer', async ({ wb }) => {
    await wb.runCommand('GAN Inspector: Reveal Run Folder');
    await wb.pickQuickItem(stopRun);
    const row = wb.page.locator('.part.sidebar .explorer-folders-view .monaco-list-row[aria-selected="true"]')
      .filter({ has: wb.page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(stopRun)}$`) }) });
    await row.first().waitFor({ timeout: 15_000 });
    assert.equal(await row.count(), 1);
    await wb.screenshot('vsix-5-reveal');
  });

  test('Open Log opens the run\'s log.txt', async ({ wb, workspace }) => {
    const runDir = path.join(workspace, 'runs', stopRun);
    await wb.runCommand('GAN Inspector: Open Log');
    await wb.pickQuickItem(stopRun);
    const ed = await waitFor('log.txt in the editor', () => activeEditor(wb), (e) => e.tab === 'log.txt' && e.text.includes('Run folder:'), 30_000);
    const onDisk = fs.readFileSync(path.join(runDir, 'log.txt'), 'utf8').split('\n');
    assert.equal(onDisk[0], `Run folder: ${runDir}`);
    const shown = ed.text.split('\n');
    assert.ok(shown.length >= 5, `several lines shown (${shown.length})`);
    assert.deepEqual(shown, onDisk.slice(0, shown.length), 'the editor shows this run\'s log.txt from its first line');
    await wb.screenshot('vsix-6-log');
    await wb.runCommand('View: Close All Editors');
  });

  test('Compare Runs on two runs selected in the Runs view opens the panel with both', async ({ wb }) => {
    const a = await runRow(wb, runName);
    const b = await runRow(wb, stopRun);
    await a.click();
    await b.click({ modifiers: ['Control'] });
    await waitFor('two selected rows', async () => [await a.getAttribute('aria-selected'), await b.getAttribute('aria-selected')], (v) => v.every((x) => x === 'true'), 10_000);
    await wb.runCommand('GAN Inspector: Compare Runs');
    const frame = await activeWebview(wb, 'compare');
    const rows = await waitFor('both runs in the table', () => frame.locator('#runs-table tbody tr').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-run') ?? '')),
      (r) => r.length >= 2, 30_000);
    assert.deepEqual([...rows].sort(), [runName, stopRun].sort());
    const ggdr = (run: string) => frame.locator(`#runs-table tr[data-run="${run}"] td[data-col="ggdr"]`).getAttribute('data-value');
    assert.deepEqual([await ggdr(runName), await ggdr(stopRun)], ['on', 'off']);
    await wb.screenshot('vsix-7-compare');
    await wb.runCommand('View: Close All Editors');
  });

  test('Run GGDR Experiment: both arms train under a progress notification; record and comparison', async ({ cs, wb, workspace, timings }) => {
    const runs = path.join(workspace, 'runs');
    // The arms compute fid2k_lenet/kid2k_lenet, whose LeNet is trained on first use (~30 s of CPU) and cached. The
    // server's cache (its XDG_CACHE_HOME, fresh per run) gets this machine's entry when there is one; a LeNet
    // trained here goes back to this machine's cache for the next run.
    const userCache = ganCacheDir(process.env.XDG_CACHE_HOME);
    const serverCache = ganCacheDir(path.join(cs.workDir, 'xdg', 'cache'));
    const seeded = copyLenetEntries(userCache, serverCache);
    console.log(`[e2e] LeNet cache: ${seeded.length ? `seeded ${seeded.join(', ')} from ${userCache}` : `none in ${userCache}; the extension trains it`}`);
    // Fewer toasts on screen: the training notifications of both arms and the result come on top.
    await wb.runCommand('Notifications: Clear All Notifications');
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Run GGDR Experiment');
    await wb.waitForQuickInput(AB_TITLE(1, 'Dataset'));
    await wb.pickQuickItem('Embedded MNIST');
    await wb.waitForQuickInput(AB_TITLE(2, 'Preset'));
    await wb.pickQuickItem('tiny');
    await wb.waitForQuickInput(AB_TITLE(3, 'Training length per run'));
    await wb.typeInQuickInput(String(AB_KIMG));
    await wb.waitForQuickInput(AB_TITLE(4, 'Seeds'));
    await wb.typeInQuickInput('0');
    await wb.waitForQuickInput(AB_TITLE(5, 'Backend'));
    await wb.pickQuickItem('wasm');
    await wb.waitForQuickInput(AB_TITLE(6, 'Scheduling'));
    await wb.pickQuickItem('One after another');
    const progress = await wb.waitForNotification(/GGDR experiment \(2 runs\)/, { timeoutMs: 30_000 });
    assert.equal(progress.severity, 'info');
    const done = await wb.waitForNotification(/^GGDR experiment (finished|failed|cancelled)/, { timeoutMs: 120_000 });
    timings.experimentMs = Date.now() - t0;
    assert.match(done.message, /^GGDR experiment finished: 2 finished\.$/);
    const recFile = fs.readdirSync(path.join(runs, 'experiments')).filter((f) => /-ggdr-ab\.json$/.test(f));
    assert.equal(recFile.length, 1);
    const rec = JSON.parse(fs.readFileSync(path.join(runs, 'experiments', recFile[0]), 'utf8')) as {
      state: string; settings: { kimg: number; seeds: number[]; preset: string; backend: string }; runs: Array<{ arm: string; seed: number; state: string; runName: string; runDir: string }>;
    };
    assert.equal(rec.state, 'finished');
    assert.deepEqual([rec.settings.preset, rec.settings.kimg, rec.settings.seeds, rec.settings.backend], ['tiny', AB_KIMG, [0], 'wasm']);
    assert.deepEqual(rec.runs.map((r) => [r.arm, r.seed, r.state]), [['ggdr', 0, 'finished'], ['baseline', 0, 'finished']]);
    for (const r of rec.runs) {
      assert.equal(readStatus(r.runDir).state, 'finished');
      assert.ok(fs.existsSync(path.join(r.runDir, 'metric-fid2k_lenet.jsonl')), `${r.runName} evaluated fid2k_lenet`);
    }
    // The comparison of the two arms opens by itself, with their metric.
    const frame = await activeWebview(wb, 'compare');
    const names = rec.runs.map((r) => r.runName);
    const rows = await waitFor('both arms in the table', () => frame.locator('#runs-table tbody tr').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-run') ?? '')),
      (r) => r.length >= 2, 30_000);
    assert.deepEqual([...rows].sort(), [...names].sort());
    for (const n of names) {
      const fid = await frame.locator(`#runs-table tr[data-run="${n}"] td[data-col="fid2k_lenet.best"]`).getAttribute('data-value');
      assert.ok(fid && Number.isFinite(Number(fid)), `${n}: fid2k_lenet ${fid}`);
    }
    await wb.screenshot('vsix-8-experiment-compare');
    // Beside it: the segmentation view of the GGDR and the baseline generator (same seed, newest snapshots).
    const segs = await waitFor('both segmentation panels, segmented', () => visibleSegmentations(wb),
      (v) => v.length === 2 && v.every((x) => x.runs >= 1 || x.error !== ''), 90_000);
    const byRun = (r: { runName: string; runDir: string }) => segs.find((x) => x.meta.includes(r.runName));
    for (const r of rec.runs) {
      const seg = byRun(r);
      assert.ok(seg, `a segmentation panel of ${r.runName}: ${JSON.stringify(segs)}`);
      assert.equal(seg.error, '');
      assert.equal(seg.title, `Segmentation · ${readStatus(r.runDir).latestSnapshot}`);
      assert.ok(seg.shares > 0, `${r.runName}: cluster shares`);
    }
    assert.ok(byRun(rec.runs.find((r) => r.arm === 'ggdr')!)!.decoderMaps > 0, 'the GGDR generator also shows what its D decoder predicts');
    assert.equal(byRun(rec.runs.find((r) => r.arm === 'baseline')!)!.decoderMaps, 0, 'the baseline has no decoder');
    assert.equal(await frame.locator('#runs-table').isVisible(), true, 'the comparison is still shown next to them');
    await wb.screenshot('vsix-8b-experiment-segmentation');
    const learned = copyLenetEntries(serverCache, userCache);
    if (learned.length) console.log(`[e2e] LeNet cache: kept ${learned.join(', ')} in ${userCache}`);
    await wb.runCommand('View: Close All Editors');
  });

  test('Compute Metrics… appends fid2k_lenet/kid2k_lenet lines for a chosen snapshot, computed in the inference process', async ({ wb, workspace, timings }) => {
    const runDir = path.join(workspace, 'runs', runName);
    const lines = (m: string) => (fs.existsSync(path.join(runDir, `metric-${m}.jsonl`)) ? fs.readFileSync(path.join(runDir, `metric-${m}.jsonl`), 'utf8').trim().split('\n').filter(Boolean) : []);
    const before = lines('fid2k_lenet').length;
    await wb.runCommand('Notifications: Clear All Notifications');
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Compute Metrics…');
    await wb.pickQuickItem(runName);
    await wb.pickQuickItem(snapName);
    await wb.waitForQuickInput('GAN Inspector: Compute Metrics');
    // The first time, the training default is preselected: fid2k_lenet and kid2k_lenet.
    const rows = wb.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    for (const m of ['fid2k_lenet', 'kid2k_lenet']) assert.equal(await rows.filter({ hasText: m }).first().getAttribute('aria-checked'), 'true', `${m} preselected`);
    assert.equal(await rows.filter({ hasText: 'fid5k_lenet' }).first().getAttribute('aria-checked'), 'false');
    await wb.page.keyboard.press('Enter');
    const done = await wb.waitForNotification(/^Metrics .*fid2k_lenet/, { timeoutMs: 120_000 });
    timings.computeMetricsMs = Date.now() - t0;
    assert.match(done.message, new RegExp(`^Metrics ${escapeRe(runName)}/${escapeRe(snapName)}: fid2k_lenet \\d+\\.\\d{4} · kid2k_lenet -?[\\d.e-]+ · extractor lenet \\(\\d+\\.\\d% on 1,000 held-out digits\\)`));
    const fid = lines('fid2k_lenet');
    assert.equal(fid.length, before + 1, 'one line appended');
    const line = JSON.parse(fid[fid.length - 1]) as { metric: string; snapshot_pkl: string; results: Record<string, number>; num_gpus: number };
    assert.deepEqual([line.metric, line.snapshot_pkl, line.num_gpus], ['fid2k_lenet', snapName, 1]);
    assert.ok(done.message.includes(`fid2k_lenet ${line.results.fid2k_lenet.toFixed(4)}`), 'the notification shows the appended value');
    assert.ok(lines('kid2k_lenet').length >= 1);
    await wb.screenshot('vsix-9-compute-metrics');
  });

  test('the Get Started walkthrough lists its five steps', async ({ wb }) => {
    await wb.runCommand('Welcome: Open Walkthrough...');
    await wb.pickQuickItem(/Get Started with GAN Inspector/);
    const steps = wb.page.locator('.getting-started-step .step-title');
    await waitFor('five walkthrough steps', () => steps.allTextContents(), (t) => t.filter((s) => s.trim()).length === 5, 30_000);
    assert.deepEqual((await steps.allTextContents()).map((s) => s.trim()),
      ['Train the MNIST demo', 'Open its loss curves', 'Open the checkpoint viewer', 'Cluster feature maps', 'Compare runs']);
    await wb.screenshot('vsix-10-walkthrough');
  });

  test('no CSP violations or console errors', async ({ wb }) => {
    assert.deepEqual(wb.cspViolations(), []);
    assert.deepEqual(wb.errors(), []);
  });
});

/** Entry names of a zip (central directory only; nothing is inflated). */
function listZip(file: string): string[] {
  const names: string[] = [];
  unzipSync(fs.readFileSync(file), { filter: (f) => { names.push(f.name); return false; } });
  return names;
}
