/**
 * What a failed command says (the guard around every command): Open Settings only for errors about a
 * setting (not for "already training"), file-system errors as messages, bugs with their stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../../src/core/errors';
import { aboutSetting, errorNotice } from '../../../src/host/commands/errorNotice';

test('a UserError without a setting: its message, no Open Settings', () => {
  const n = errorNotice('ganInspector.resumeTraining', new UserError('00003-x is already training in this window.'));
  assert.deepEqual(n, { kind: 'user', text: '00003-x is already training in this window.', log: 'ganInspector.resumeTraining: 00003-x is already training in this window.' });
});

test('a UserError about a setting offers that setting; the hint joins the text on one line', () => {
  const n = errorNotice('ganInspector.compareRuns', new UserError('Compare Runs needs at least two runs.', 'Add a runs folder in ganInspector.runsRoots.', { setting: 'ganInspector.runsRoots' }));
  assert.deepEqual(n, {
    kind: 'user', setting: 'ganInspector.runsRoots',
    text: 'Compare Runs needs at least two runs.   → Add a runs folder in ganInspector.runsRoots.',
    log: 'ganInspector.compareRuns: Compare Runs needs at least two runs.\n  → Add a runs folder in ganInspector.runsRoots.',
  });
  // A core error (a bad option) marked as being about the settings by the command.
  const marked = errorNotice('ganInspector.train', aboutSetting(new UserError("Unknown preset 'huge'.", 'Use one of: tiny, mnist32.'), 'ganInspector'));
  assert.deepEqual(marked, { kind: 'user', setting: 'ganInspector', text: "Unknown preset 'huge'.   → Use one of: tiny, mnist32.", log: "ganInspector.train: Unknown preset 'huge'.\n  → Use one of: tiny, mnist32." });
  // Not a UserError: left as it is (a bug stays a bug).
  const bug = new Error('boom');
  assert.equal(aboutSetting(bug, 'ganInspector'), bug);
});

test('a real file-system error is a message without a stack; anything else is a bug with its stack', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gi-notice-')), 'f');
  fs.writeFileSync(file, 'x');
  let caught: unknown;
  try {
    fs.mkdirSync(path.join(file, 'sub'));
  } catch (e) {
    caught = e;
  }
  const fsn = errorNotice('ganInspector.train', caught);
  assert.equal(fsn.kind, 'user', JSON.stringify(fsn));
  assert.doesNotMatch(fsn.log, /\n\s+at /);

  const bug = errorNotice('ganInspector.openLog', new TypeError('x is undefined'));
  assert.equal(bug.kind, 'bug');
  assert.equal(bug.text, 'GAN Inspector: ganInspector.openLog failed: x is undefined');
  assert.match(bug.log, /^ganInspector\.openLog failed: TypeError: x is undefined\n\s+at /);
  assert.equal(errorNotice('x', 'a string').text, 'GAN Inspector: x failed: a string');
});
