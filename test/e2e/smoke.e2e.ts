/**
 * Smoke test of the real extension in a real VS Code (code-server): it activates, its Runs view lists
 * the two official GGDR run folders of the fixture, Refresh Runs works from the palette, and nothing
 * logs errors or violates a Content Security Policy on the way.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './lib/codeServer';
import { e2eSuite } from './lib/suite';

const FIXTURE_RUNS = path.join(REPO_ROOT, 'test', 'fixtures', 'official-ggdr-cpu', 'training-runs');
const GGDR_RUN = '00000-shapes32-cifartiny-kimg12-batch16-noaug';
const BASELINE_RUN = '00001-shapes32-cifartiny-kimg12-batch16-noaug';
const ADDED_RUN = '00002-shapes32-cifartiny-kimg12-batch16-noaug';

e2eSuite('smoke', {
  settings: { 'ganInspector.runsRoots': ['training-runs'] },
  workspace: (dir) => fs.cpSync(FIXTURE_RUNS, path.join(dir, 'training-runs'), { recursive: true }),
}, (test) => {
  test('the GAN Inspector container shows the Runs view with both official runs', async ({ wb, cs, timings }) => {
    const t0 = Date.now();
    const ggdr = await wb.treeItem('Runs', GGDR_RUN, { timeoutMs: 60_000 });
    const event = await cs.waitForActivation();
    assert.ok(event.length > 0, 'activation event logged');
    const baseline = await wb.treeItem('Runs', BASELINE_RUN);
    timings.runsListedMs = Date.now() - t0;
    // Only training_options.json tells the two apart (reg_type ggdr vs none): the description must say so.
    assert.match((await ggdr.locator('.label-description').textContent()) ?? '', /\bggdr\b/);
    assert.match((await baseline.locator('.label-description').textContent()) ?? '', /\bbaseline\b/);
    assert.deepEqual((await wb.treeItems('Runs')).sort(), [GGDR_RUN, BASELINE_RUN]);
    await wb.screenshot('smoke-runs-view');
  });

  test('Refresh Runs from the palette lists a run folder added on disk', async ({ wb, workspace }) => {
    fs.cpSync(path.join(workspace, 'training-runs', BASELINE_RUN), path.join(workspace, 'training-runs', ADDED_RUN), { recursive: true });
    await wb.runCommand('GAN Inspector: Refresh Runs');
    await wb.treeItem('Runs', ADDED_RUN, { timeoutMs: 20_000 });
    assert.deepEqual((await wb.treeItems('Runs')).sort(), [GGDR_RUN, BASELINE_RUN, ADDED_RUN]);
    const bad = (await wb.notifications()).filter((n) => n.severity !== 'info');
    assert.deepEqual(bad, [], 'no warning or error notifications');
  });

  test('no CSP violations or console errors', async ({ wb }) => {
    assert.deepEqual(wb.cspViolations(), []);
    assert.deepEqual(wb.errors(), []);
  });
});
