/**
 * Self-test of the e2e harness against a tiny probe extension (test/e2e/probe-ext): proves that the
 * helpers find the right webview among several, drive quick picks, read trees and toasts, and that
 * a CSP violation in a webview IS detected (so "no CSP violations" in other specs can fail).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { e2eSuite } from './lib/suite';

e2eSuite('harness', {
  extension: { kind: 'folder', path: path.join(__dirname, 'probe-ext') },
  workspace: (dir) => fs.writeFileSync(path.join(dir, 'readme.txt'), 'probe workspace\n'),
}, (test) => {
  test('tree view items and webview view in the side bar', async ({ wb, cs }) => {
    assert.equal(await cs.waitForActivation(), 'onStartupFinished');
    const row = await wb.treeItem('Items', 'beta-run', { container: 'E2E Probe' });
    assert.ok(await row.isVisible());
    assert.deepEqual(await wb.treeItems('Items', { container: 'E2E Probe' }), ['alpha-run', 'beta-run']);
    await wb.viewPane('Probe View', { container: 'E2E Probe' });
    const view = await wb.webviewFrame('Probe View');
    assert.equal(await view.locator('#msg').textContent(), 'VIEW-CONTENT');
    // A nonce'd script is allowed by the probe's CSP and must have run.
    await view.locator('#ran', { hasText: 'script ran' }).waitFor({ timeout: 10_000 });
  });

  test('webviewFrame picks panels by title, index and active group', async ({ wb }) => {
    await wb.runCommand('E2E Probe: Open Panels');
    const a = await wb.webviewFrame('Probe A');
    const b = await wb.webviewFrame('Probe B');
    assert.equal(await a.locator('#msg').textContent(), 'PANEL-A');
    assert.equal(await b.locator('#msg').textContent(), 'PANEL-B');
    // Probe B was opened last, in group 2, so group 2 is the active group.
    assert.equal(await (await wb.webviewFrame()).locator('#msg').textContent(), 'PANEL-B');
    await wb.page.locator('.part.editor .tab', { hasText: 'Probe A' }).click();
    assert.equal(await (await wb.webviewFrame()).locator('#msg').textContent(), 'PANEL-A');
    const first = await wb.webviewFrame(0);
    assert.match((await first.locator('#msg').textContent()) ?? '', /^(VIEW-CONTENT|PANEL-A|PANEL-B)$/);
    await wb.screenshot('harness-two-panels');
    assert.deepEqual(wb.cspViolations(), [], 'clean panels must not report CSP violations');
    assert.deepEqual(wb.errors(), [], 'no console errors besides the known code-server ones');
  });

  test('quick pick, input box validation and notifications', async ({ wb }) => {
    await wb.runCommand('E2E Probe: Ask');
    assert.deepEqual(await wb.quickItems(), ['gamma', 'delta', 'epsilon']);
    await wb.pickQuickItem('delta');
    await wb.typeInQuickInput('Bad Word!', { submit: false });
    await wb.page.locator('.quick-input-widget .quick-input-message', { hasText: 'letters only' }).waitFor({ timeout: 10_000 });
    await wb.typeInQuickInput('hello');
    const n = await wb.waitForNotification(/probe picked delta typed hello/);
    assert.equal(n.severity, 'info');
    assert.match(n.source, /E2E Probe/);
  });

  test('a CSP violation inside a webview is detected', async ({ wb }) => {
    assert.equal(wb.cspViolations().length, 0);
    await wb.runCommand('E2E Probe: Open CSP-Violating Panel');
    const f = await wb.webviewFrame('Probe CSP');
    assert.equal(await f.locator('#msg').textContent(), 'PANEL-CSP', 'the blocked inline script must not have run');
    const deadline = Date.now() + 10_000;
    while (wb.cspViolations({ frame: 'webview' }).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const v = wb.cspViolations({ frame: 'webview' });
    assert.ok(v.length > 0, `expected a webview CSP violation; console: ${JSON.stringify(wb.console.slice(-5))}`);
    assert.ok(v.some((x) => /script-src/.test(x.text)), JSON.stringify(v));
    assert.ok(wb.errors({ frame: 'webview' }).length > 0, 'the violation is also a webview console error');
  });
});
