/**
 * README screenshot of Compare Runs over a folder of runs (default /tmp/ab/runs, the GGDR A/B):
 * code-server + headless Chromium from the e2e harness (test/e2e/lib), a workspace whose runs/ is a
 * copy of that folder, every run selected in the Runs view → context menu → Compare Runs, then
 * media/screenshots/compare-ggdr-ab.png (1400×900) once the table and the metric chart are drawn.
 *
 * Usage: node --import tsx scripts/readme-shots.ts [runsFolder]   (needs `bash test/e2e/setup.sh` and `npm run build`)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, startCodeServer, type CodeServer } from '../test/e2e/lib/codeServer';
import { Workbench } from '../test/e2e/lib/workbench';

const OUT_PNG = path.join(REPO_ROOT, 'media', 'screenshots', 'compare-ggdr-ab.png');
const WORK_DIR = path.join(REPO_ROOT, 'test-output', 'readme-shots');

/** Run folders directly under `root` (those with a training_options.json), sorted by name. */
function runFolders(root: string): string[] {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`runs folder not found: ${root}`);
  const runs = fs.readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'training_options.json')))
    .map((d) => d.name).sort();
  if (runs.length < 2) throw new Error(`${root} holds ${runs.length} run folder(s); Compare Runs needs at least 2`);
  return runs;
}

async function main(): Promise<void> {
  const src = path.resolve(process.argv[2] ?? '/tmp/ab/runs');
  const runs = runFolders(src);
  fs.rmSync(WORK_DIR, { recursive: true, force: true });
  const workspace = path.join(WORK_DIR, 'workspace');
  // A copy, so the extension's watchers and any writes never touch the original runs.
  fs.cpSync(src, path.join(workspace, 'runs'), { recursive: true });

  let cs: CodeServer | undefined;
  let wb: Workbench | undefined;
  try {
    cs = await startCodeServer({ workDir: path.join(WORK_DIR, 'server'), workspace, settings: { 'ganInspector.runsRoots': ['runs'] } });
    wb = await Workbench.open(cs.url, { workDir: path.join(WORK_DIR, 'browser'), extensionId: cs.extensionId || undefined, viewport: { width: 1400, height: 900 } });
    const items = [];
    for (const r of runs) items.push(await wb.treeItem('Runs', r, { timeoutMs: 60_000 }));
    await items[0].click();
    for (const it of items.slice(1)) await it.click({ modifiers: ['Control'] });
    await items[items.length - 1].click({ button: 'right' });
    const menuItem = wb.page.locator('.context-view .monaco-menu .action-item').filter({ hasText: /^Compare Runs/ }).first();
    // The menu ignores the mouse-up right after it opened (the right-click's own), so hover first.
    await menuItem.hover();
    await wb.page.waitForTimeout(300);
    await menuItem.click();
    const frame = await wb.webviewFrame(undefined, { timeoutMs: 30_000 });
    for (const r of runs) await frame.locator(`#runs-table tr[data-run="${r}"]`).waitFor({ timeout: 30_000 });
    const rows = await frame.locator('#runs-table tbody tr').count();
    if (rows !== runs.length) throw new Error(`table shows ${rows} rows, expected ${runs.length}`);
    // The chart draws every run's series (default scalar: the FID metric when all runs have it).
    for (const r of runs) await frame.locator(`#series-legend button[data-run="${r}"]`).waitFor({ timeout: 30_000 });
    await frame.locator('#chart canvas').waitFor({ timeout: 15_000 });
    const scalar = await frame.locator('#scalar').inputValue();
    // The side bar has done its part (the multi-select); hiding it gives the key-figures table full width.
    await wb.runCommand('View: Toggle Primary Side Bar Visibility');
    await wb.page.mouse.move(1200, 525); // blank webview text line: no hover tooltip in the picture
    await wb.page.waitForTimeout(1000); // let uPlot finish its layout pass
    fs.mkdirSync(path.dirname(OUT_PNG), { recursive: true });
    await wb.page.screenshot({ path: OUT_PNG });
    console.log(`${path.relative(REPO_ROOT, OUT_PNG)}: ${runs.length} runs, chart "${scalar}"`);
    const errs = wb.errors();
    if (errs.length) console.warn(`console errors:\n  ${errs.join('\n  ')}`);
  } finally {
    await wb?.close();
    await cs?.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
