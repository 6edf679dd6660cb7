/**
 * admitRestore: the one restore path of the panel serializers (loss curves, comparison, segmentation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { admitRestore, checkRestoredFolder } from '../../../src/host/panels/restoreGuard';

const TEXTS = { what: 'a test panel', unreadable: 'Unreadable <state>.', refused: 'Refused: outside.' };
const isState = (v: unknown): v is { runDir: string } => typeof v === 'object' && v !== null && typeof (v as { runDir?: unknown }).runDir === 'string';

test('admitRestore: unreadable state, a refused folder, and an admitted one', () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gi-restore-')));
  const run = path.join(root, '00000-run');
  fs.mkdirSync(run);
  const outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gi-outside-')));
  const check = (s: { runDir: string }) => checkRestoredFolder(s.runDir, [root]);
  const logs: string[] = [];
  const panel = { webview: { html: '' } };

  assert.equal(admitRestore(panel, { runDir: 5 }, isState, check, TEXTS, (l) => logs.push(l)), undefined);
  assert.match(panel.webview.html, /Unreadable &lt;state&gt;\./);
  assert.doesNotMatch(panel.webview.html, /<script/);
  assert.equal(logs.length, 0);

  panel.webview.html = '';
  assert.equal(admitRestore(panel, { runDir: outside }, isState, check, TEXTS, (l) => logs.push(l)), undefined);
  assert.match(panel.webview.html, /Refused: outside\./);
  assert.equal(logs.length, 1);
  assert.match(logs[0], /^Restore: dropped a test panel: .*outside the workspace and ganInspector\.runsRoots\.$/);

  panel.webview.html = '';
  const ok = admitRestore(panel, { runDir: run }, isState, check, TEXTS, (l) => logs.push(l));
  assert.deepEqual(ok, { ok: true, path: run });
  assert.equal(panel.webview.html, '', 'an admitted panel is left to its session');
  assert.equal(logs.length, 1);
});
