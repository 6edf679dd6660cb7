import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jobEndNotice, jobLabel, jobLogTarget } from '../../../src/host/training/jobNotice';
import { TrainingManager, type TrainingJob } from '../../../src/host/training/trainingManager';

const REAL = path.resolve(__dirname, '..', '..', '..', 'dist', 'worker.js');

function job(over: Partial<TrainingJob>): TrainingJob {
  return {
    id: 3, overrides: { preset: 'tiny' }, startedAt: 0, pid: 1, phase: 'failed', runDir: null, runName: null, backend: null,
    curKimg: 0, totalKimg: 2, tick: 0, secPerKimg: 0, etaSec: -1, losses: {}, stderrTail: [], ...over,
  };
}

test('a job that failed before its run folder existed is named by what it trains, and Open Log shows the Output channel', () => {
  const j = job({ overrides: { preset: 'tiny', data: '/data/faces.zip', backend: 'tensorflow' }, error: "Backend 'tensorflow' is not available: @tensorflow/tfjs-node is not installed.\nInstall it with npm." });
  assert.equal(jobLabel(j), 'tiny preset on faces.zip');
  assert.deepEqual(jobEndNotice(j), {
    severity: 'error',
    message: "Training job 3 (tiny preset on faces.zip) failed before its run folder was created: Backend 'tensorflow' is not available: @tensorflow/tfjs-node is not installed. Install it with npm.",
    actions: ['Open Log', 'Open Settings'],
  });
  assert.deepEqual(jobLogTarget(j), { kind: 'output' });
  // Defaults as resolveOptions applies them; a folder path loses its trailing slash.
  assert.equal(jobLabel(job({ overrides: {} })), 'mnist32 preset on mnist');
  assert.equal(jobLabel(job({ overrides: { preset: 'small64', data: 'imgs/cats/' } })), 'small64 preset on cats');
});

test('a failed resume is named by its run; its log (without the error) is not where Open Log leads', () => {
  const j = job({ overrides: {}, resumeDir: '/runs/00004-mnist-tiny', error: '00004-mnist-tiny has no loadable snapshot to resume from.' });
  assert.equal(jobEndNotice(j)!.message, 'Training job 3 (00004-mnist-tiny) failed before resuming: 00004-mnist-tiny has no loadable snapshot to resume from.');
  assert.deepEqual(jobLogTarget(j), { kind: 'output' });
});

test('jobs with a run folder: its name, its log.txt, and the actions of each end state', () => {
  const runDir = '/runs/00002-mnist-tiny-ggdr';
  const failed = job({ runDir, runName: '00002-mnist-tiny-ggdr', error: 'Training diverged: Loss/G/loss became NaN at step 40.' });
  assert.deepEqual(jobEndNotice(failed), { severity: 'error', message: 'Training 00002-mnist-tiny-ggdr failed: Training diverged: Loss/G/loss became NaN at step 40.', actions: ['Open Log', 'Open Settings'] });
  assert.deepEqual(jobLogTarget(failed), { kind: 'runLog', runDir });
  // runName is not known yet but the folder is (ended message only): its base name.
  assert.equal(jobLabel(job({ runDir })), '00002-mnist-tiny-ggdr');
  assert.deepEqual(jobEndNotice(job({ runDir, runName: 'r', phase: 'finished', totalKimg: 2 })), { severity: 'info', message: 'Training r finished (2 kimg).', actions: ['Open Loss Curves'] });
  assert.deepEqual(jobEndNotice(job({ runDir, runName: 'r', phase: 'stopped', curKimg: 0.0321234 })), { severity: 'info', message: 'Training r stopped at 0.032 kimg.', actions: ['Resume Training', 'Open Loss Curves'] });
  assert.match(jobEndNotice(job({ runDir, runName: 'r', phase: 'stopped', forced: true }))!.message, /had to be killed/);
  assert.deepEqual(jobEndNotice(job({ phase: 'stopped' }))!.actions, [], 'stopped before a run folder: nothing to resume or plot');
  for (const phase of ['starting', 'running', 'stopping'] as const) assert.equal(jobEndNotice(job({ phase })), null);
});

test('real dist/worker.js: an unavailable backend fails before a run folder exists, and the notice says so', { skip: !fs.existsSync(REAL) && 'dist/worker.js not built', timeout: 60_000 }, async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-notice-'));
  const m = new TrainingManager({ workerPath: REAL });
  const end = await m.whenEnded(m.start({ preset: 'tiny', kimg: 0.016, backend: 'tensorflow', outdir }).id);
  assert.equal(end.phase, 'failed');
  assert.equal(end.runDir, null);
  assert.equal(end.userError, true);
  assert.deepEqual(fs.readdirSync(outdir), [], 'no run folder, so no status.json to tell');
  const n = jobEndNotice(end)!;
  assert.equal(n.severity, 'error');
  assert.match(n.message, new RegExp(`^Training job ${end.id} \\(tiny preset on mnist\\) failed before its run folder was created: .*tfjs-node`));
  assert.doesNotMatch(n.message, /Training training/);
  assert.deepEqual(n.actions, ['Open Log', 'Open Settings']);
  assert.deepEqual(jobLogTarget(end), { kind: 'output' });
});

test('a resume past a broken newest snapshot says so in its end notification', () => {
  const runDir = '/runs/00002-mnist-tiny-ggdr';
  const note = 'The newest snapshot network-snapshot-000012 is broken (checksum); resumed from the older network-snapshot-000008.';
  const n = jobEndNotice(job({ phase: 'finished', runDir, runName: '00002-mnist-tiny-ggdr', totalKimg: 16, notices: [note] }))!;
  assert.equal(n.message, `Training 00002-mnist-tiny-ggdr finished (16 kimg). Note: ${note}`);
  assert.equal(n.severity, 'info');
});
