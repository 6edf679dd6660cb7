/**
 * The packaged extension, end to end: `vsce package` (prepublish: `node esbuild.mjs --package`) builds a
 * .vsix (or $GAN_E2E_EXTENSION=path.vsix is used) that holds no sources, maps or node_modules; code-server
 * installs it with --install-extension into an extensions folder OUTSIDE the repository (so Node cannot
 * fall back to the repository's node_modules); Train with Current Settings (preset tiny from the
 * settings) runs to finished on the bundled tfjs + wasm binaries and the packed MNIST digits; loss curves,
 * the checkpoint viewer on the new snapshot and the segmentation panel (Cluster Generator Feature Maps)
 * render; the Get Started walkthrough lists its five steps. No CSP violations or console errors.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { unzipSync } from 'fflate';
import type { FrameLocator } from 'playwright-core';
import { E2E_OUTPUT, REPO_ROOT } from './lib/codeServer';
import { e2eSuite } from './lib/suite';
import type { Workbench } from './lib/workbench';

const KIMG = 0.048; // three ticks of the tiny preset: curves with lines, still seconds
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until `ok` accepts its value (a throwing probe counts as not yet). */
async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
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
    await sleep(250);
  }
}

const fromEnv = process.env.GAN_E2E_EXTENSION?.endsWith('.vsix') ? path.resolve(process.env.GAN_E2E_EXTENSION) : undefined;
const buildDir = path.join(E2E_OUTPUT, 'vsix-build');
let vsixPath = fromEnv ?? '';
let packageMs = 0;
// Outside the repository: an installed extension must not resolve anything from /…/repo/node_modules.
const extensionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-e2e-vsix-ext-'));

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
  fs.rmSync(extensionsDir, { recursive: true, force: true });
  // The package build left production bundles in dist/; put the development build (with maps) back.
  if (!fromEnv) execFileSync(process.execPath, [path.join(REPO_ROOT, 'esbuild.mjs')], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 120_000 });
});

async function activeWebview(wb: Workbench, panel: string, title?: RegExp): Promise<FrameLocator> {
  return (await waitFor(`the ${panel} webview`, async () => {
    const f = await wb.webviewFrame(undefined, { timeoutMs: 5000 });
    const page = await f.locator('body').evaluate((b) => ({ panel: b.getAttribute('data-panel'), title: b.querySelector('#snapshot-title')?.textContent ?? '' }), { timeout: 2000 });
    return page.panel === panel && (!title || title.test(page.title)) ? f : null;
  }, (f) => f !== null, 90_000))!;
}

let runName = '';
let snapName = '';

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
    for (const need of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/worker.js', 'extension/dist/inference.js',
      'extension/dist/mnist-digits.bin', 'extension/dist/tfjs-backend-wasm.wasm', 'extension/dist/tfjs-backend-wasm-simd.wasm',
      'extension/dist/tfjs-backend-wasm-threaded-simd.wasm', 'extension/dist/webview/viewer.js', 'extension/media/walkthrough/train.svg']) {
      assert.ok(entries.includes(need), `${need} is in the .vsix`);
    }
    const unwanted = entries.filter((e) => /^extension\/(node_modules|src|test|webview|bench|scripts)\/|\.map$|\.ts$/.test(e));
    assert.deepEqual(unwanted, [], 'no sources, tests, maps or node_modules');
    const installed = path.join(cs.extensionsDir, fs.readdirSync(cs.extensionsDir).find((n) => n.startsWith(cs.extensionId))!);
    assert.ok(!fs.existsSync(path.join(installed, 'node_modules')), 'no node_modules next to the installed extension');
    assert.ok(path.relative(REPO_ROOT, installed).startsWith('..'), `installed outside the repository (${installed})`);
  });

  test('Train with Current Settings (tiny) runs to finished on the bundled wasm backend', async ({ cs, wb, workspace, timings }) => {
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Train with Current Settings');
    assert.match(await cs.waitForActivation(60_000), /ganInspector/);
    const runs = path.join(workspace, 'runs');
    runName = await waitFor('a run folder', async () => (fs.existsSync(runs) ? fs.readdirSync(runs).find((n) => /^\d{5}-mnist-tiny/.test(n)) ?? '' : ''), (n) => n !== '', 60_000);
    const statusFile = path.join(runs, runName, 'status.json');
    const status = await waitFor('status finished', async () => JSON.parse(fs.readFileSync(statusFile, 'utf8')) as { state: string; latestSnapshot?: string; lastError?: string },
      (s) => s.state === 'finished' || s.state === 'failed', 120_000);
    timings.trainMs = Date.now() - t0;
    assert.equal(status.state, 'finished', `run ended ${status.state}: ${status.lastError ?? ''}`);
    const opts = JSON.parse(fs.readFileSync(path.join(runs, runName, 'training_options.json'), 'utf8')) as { backend: { name: string }; options: { kimg: number; preset: string } };
    assert.equal(opts.backend.name, 'wasm', 'the bundled wasm backend (tfjs-node and webgpu are not shipped)');
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
    assert.ok(r.canvases > 0, 'charts drawn');
    await wb.screenshot('vsix-1-loss');
  });

  test('checkpoint viewer on the new snapshot renders 16 samples', async ({ wb, timings }) => {
    // A focused webview takes the focus back from a quick pick it overlaps, which closes the pick.
    await wb.runCommand('View: Close All Editors');
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Open Checkpoint Viewer');
    await wb.pickQuickItem(runName);
    await wb.pickQuickItem(snapName);
    const viewer = await activeWebview(wb, 'viewer', new RegExp(`${snapName.replace(/\./g, '\\.')}$`));
    const g = await waitFor('the grid', () => viewer.locator('body').evaluate((b) => ({
      count: Number(b.querySelector('#grid')?.getAttribute('data-render-count') ?? '0'),
      imgs: b.querySelectorAll('#grid .sample img').length,
      error: b.querySelector('#error:not([hidden])')?.textContent ?? '',
    })), (v) => v.count >= 1 || v.error !== '', 90_000);
    timings.viewerFirstGridMs = Date.now() - t0;
    assert.equal(g.error, '');
    assert.equal(g.imgs, 16);
    await wb.screenshot('vsix-2-viewer');
  });

  test('Cluster Generator Feature Maps opens the segmentation panel with cluster shares', async ({ wb, timings }) => {
    await wb.runCommand('View: Close All Editors');
    const t0 = Date.now();
    await wb.runCommand('GAN Inspector: Cluster Generator Feature Maps');
    await wb.pickQuickItem(runName);
    await wb.pickQuickItem(snapName);
    const seg = await activeWebview(wb, 'segmentation', new RegExp(`${snapName.replace(/\./g, '\\.')}$`));
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
  });

  test('the Get Started walkthrough lists its five steps', async ({ wb }) => {
    await wb.runCommand('Welcome: Open Walkthrough...');
    await wb.pickQuickItem(/Get Started with GAN Inspector/);
    const steps = wb.page.locator('.getting-started-step .step-title');
    await waitFor('five walkthrough steps', () => steps.allTextContents(), (t) => t.filter((s) => s.trim()).length === 5, 30_000);
    assert.deepEqual((await steps.allTextContents()).map((s) => s.trim()),
      ['Train the MNIST demo', 'Open its loss curves', 'Open the checkpoint viewer', 'Cluster feature maps', 'Compare runs']);
    await wb.screenshot('vsix-4-walkthrough');
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
