/**
 * The launcher's process handling (src/host/official/officialTrainingManager.ts) against a real Python
 * child: ./standin/train.py, a STAND-IN for the official train.py that writes an official-format run
 * folder (training_options.json, log.txt, stats.jsonl, network-snapshot-*.pkl placeholders) and behaves
 * like Python on SIGINT and on exceptions. It tests our process handling, not the official code; the
 * official code itself is run end to end by the code-server spec officialTrain.e2e.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRun } from '../../../src/core/runs/readRun';
import { OfficialTrainingManager, applyStats } from '../../../src/host/official/officialTrainingManager';
import type { TrainingJob } from '../../../src/host/training/trainingManager';

const STANDIN = path.join(__dirname, 'standin');
const PY = 'python3';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gi-otm-'));
}

function start(m: OfficialTrainingManager, outdir: string, args: string[], env: Record<string, string> = {}) {
  return m.start({
    python: PY, repo: STANDIN, outdir, env: { ...process.env, ...env }, label: 'official GGDR on mnist32.zip (starting)', data: '/d/mnist32.zip', kimg: 0,
    args: [`--outdir=${outdir}`, '--data=/d/mnist32.zip', '--cfg=cifar', '--reg_type=ggdr', ...args],
  });
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('stand-in train.py to the end: run folder from its output, progress from stats.jsonl, total from training_options.json, env passed', async () => {
  const outdir = tmp();
  fs.mkdirSync(path.join(outdir, '00000-older-run'));
  const m = new OfficialTrainingManager({ pollMs: 50 });
  const events: string[] = [];
  const kimgs: number[] = [];
  const lines: string[] = [];
  m.on('started', (j) => events.push(`started:${j.runName}:${j.phase}`));
  m.on('progress', (j) => kimgs.push(j.curKimg));
  m.on('log', (_j, line, stream) => lines.push(`${stream}:${line}`));
  m.on('ended', (j) => events.push(`ended:${j.phase}`));
  const job = start(m, outdir, ['--kimg=3', '--snap=1'], { STANDIN_TICK_SEC: '0.15', STANDIN_DUMP_ENV: '1', GI_TEST_MARK: 'user-env' });
  assert.equal(job.phase, 'starting');
  assert.equal(job.runName, 'official GGDR on mnist32.zip (starting)');
  assert.equal(job.backend, 'PyTorch (official train.py)');
  const end = await m.whenEnded(job.id);
  assert.equal(end.phase, 'finished', end.error);
  assert.equal(end.exitCode, 0);
  const runDir = path.join(outdir, '00001-mnist32-cifar-kimg3');
  assert.equal(end.runDir, runDir);
  assert.deepEqual(events, ['started:00001-mnist32-cifar-kimg3:running', 'ended:finished']);
  assert.equal(end.totalKimg, 3);
  assert.equal(end.curKimg, 3);
  assert.equal(end.secPerKimg, 150);
  assert.equal(end.etaSec, 0);
  assert.equal(end.losses['Loss/D/loss_gen_reg'], 7);
  assert.deepEqual(kimgs, [...new Set(kimgs)].sort((a, b) => a - b), 'progress is monotonic and not repeated');
  assert.equal(kimgs[kimgs.length - 1], 3);
  assert.equal(end.latestSnapshot, path.join(runDir, 'network-snapshot-000003.pkl'));
  assert.ok(lines.includes('stdout:Exiting...'));
  // The child got the user's environment plus PYTHONUNBUFFERED.
  const env = JSON.parse(fs.readFileSync(path.join(runDir, 'env.json'), 'utf8')) as Record<string, string>;
  assert.equal(env.GI_TEST_MARK, 'user-env');
  assert.equal(env.HOME, process.env.HOME);
  assert.equal(env.PYTHONUNBUFFERED, '1');
  // train.py's own Logger wrote log.txt; our reader sees a finished official run.
  assert.match(fs.readFileSync(path.join(runDir, 'log.txt'), 'utf8'), /tick 3 .*\n[\s\S]*Exiting\.\.\./);
  const s = await readRun(runDir, { checkPid: false });
  assert.equal(s.origin, 'stylegan2-ada');
  assert.equal(s.state, 'finished');
  assert.equal(m.active().length, 0);
});

test('Stop sends SIGINT to the process group: stopped, click\'s "Aborted!" in the log, run no longer owned', async () => {
  const outdir = tmp();
  const m = new OfficialTrainingManager({ pollMs: 50 });
  const job = start(m, outdir, ['--kimg=1000', '--snap=1'], { STANDIN_TICK_SEC: '0.2' });
  await waitFor(() => job.curKimg >= 1);
  assert.ok(job.runDir && m.ownsRunDir(job.runDir));
  assert.equal(job.totalKimg, 1000);
  assert.ok(job.etaSec > 0);
  const t0 = Date.now();
  const end = await m.stop(job.id);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(end.phase, 'stopped');
  assert.equal(end.forced, undefined);
  assert.equal(end.error, undefined);
  assert.ok(!m.ownsRunDir(job.runDir!));
  assert.match(fs.readFileSync(path.join(job.runDir!, 'log.txt'), 'utf8'), /\nAborted!\n$/);
  assert.ok(!pidAlive(job.pid!));
  // The reader shows an official run that ended by SIGINT as stopped, not failed.
  const s = await readRun(job.runDir!, { checkPid: false });
  assert.equal(s.state, 'stopped');
  assert.equal(s.lastError, undefined);
});

test('Stop escalates: a train.py that ignores SIGINT and SIGTERM is killed, and the job says so', async () => {
  const outdir = tmp();
  const m = new OfficialTrainingManager({ pollMs: 50, sigintGraceMs: 600, killGraceMs: 400 });
  const logs: string[] = [];
  m.on('log', (_j, l, s) => s === 'worker' && logs.push(l));
  const job = start(m, outdir, ['--kimg=1000'], { STANDIN_TICK_SEC: '0.2', STANDIN_IGNORE_SIGNALS: '1' });
  await waitFor(() => job.runDir !== null && job.curKimg >= 1);
  const end = await m.stop(job.id);
  assert.equal(end.phase, 'stopped');
  assert.equal(end.forced, true);
  assert.equal(end.signal, 'SIGKILL');
  assert.match(end.error ?? '', /did not exit after SIGINT and was killed \(SIGKILL\)/);
  assert.deepEqual(logs.map((l) => l.split(':')[0].split(' ')[0]), ['Stop', 'train.py', 'train.py']);
  assert.ok(!pidAlive(job.pid!));
});

test('a crash: failed, the error starts with the exception and carries the traceback tail; the reader sees the failure in log.txt', async () => {
  const outdir = tmp();
  const m = new OfficialTrainingManager({ pollMs: 50 });
  const job = start(m, outdir, ['--kimg=10'], { STANDIN_TICK_SEC: '0.05', STANDIN_CRASH_AT_TICK: '2' });
  const end = await m.whenEnded(job.id);
  assert.equal(end.phase, 'failed');
  assert.equal(end.exitCode, 1);
  const [first, ...rest] = (end.error ?? '').split('\n');
  assert.equal(first, 'RuntimeError: stand-in crash at tick 2 (train.py exited with code 1)');
  assert.ok(rest.some((l) => /File ".*train\.py", line \d+, in main/.test(l)));
  assert.equal(rest[rest.length - 1], 'RuntimeError: stand-in crash at tick 2');
  assert.ok(end.stderrTail.some((l) => l.startsWith('Traceback')));
  const s = await readRun(end.runDir!, { checkPid: false });
  assert.equal(s.state, 'failed');
  assert.match(s.lastError ?? '', /stand-in crash/);
});

test('a failure before the run folder (train.py rejects an option) and a missing interpreter', async () => {
  const outdir = tmp();
  const m = new OfficialTrainingManager({ pollMs: 50 });
  const bad = await m.whenEnded(start(m, outdir, ['--nonsense=1']).id);
  assert.equal(bad.phase, 'failed');
  assert.equal(bad.runDir, null);
  assert.match(bad.error ?? '', /^train\.py exited with code 2\nError: No such option: --nonsense/);
  const gone = m.start({ python: '/nonexistent/python3', repo: STANDIN, outdir, env: process.env, label: 'x', data: 'd', kimg: 1, args: [] });
  const end = await m.whenEnded(gone.id);
  assert.equal(end.phase, 'failed');
  assert.match(end.error ?? '', /Could not start \/nonexistent\/python3 train\.py: .*ENOENT/);
});

test('the run folder is found in --outdir even without the "Output directory" line; applyStats ignores records without kimg', async () => {
  const outdir = tmp();
  const m = new OfficialTrainingManager({ pollMs: 30 });
  // A python that makes the folder silently (a fork of train.py printing nothing).
  const job = m.start({
    python: PY, repo: outdir, outdir, env: process.env, label: 'x', data: 'd', kimg: 2,
    args: [],
  });
  // (train.py does not exist in outdir → fails fast; then the silent variant below)
  await m.whenEnded(job.id);
  fs.writeFileSync(path.join(outdir, 'train.py'), [
    'import os, json, time',
    "d = os.path.join(os.path.dirname(os.path.abspath(__file__)), '00007-silent')",
    'os.makedirs(d)',
    "open(os.path.join(d, 'stats.jsonl'), 'w').write(json.dumps({'Progress/kimg': {'num': 1, 'mean': 2.0, 'std': 0}, 'Timing/sec_per_kimg': {'num': 1, 'mean': 4.0, 'std': 0}}) + '\\n')",
    'time.sleep(0.5)',
  ].join('\n'));
  const j2 = m.start({ python: PY, repo: outdir, outdir, env: process.env, label: 'x', data: 'd', kimg: 2, args: [] });
  const end = await m.whenEnded(j2.id);
  assert.equal(end.phase, 'finished');
  assert.equal(end.runName, '00007-silent');
  assert.equal(end.curKimg, 2);
  const j = { curKimg: 1, totalKimg: 4, tick: 0, secPerKimg: 0, etaSec: -1, losses: {} } as unknown as TrainingJob;
  assert.equal(applyStats(j, { 'Loss/G/loss': { mean: 1 } }), false);
  assert.equal(applyStats(j, { 'Progress/kimg': { mean: 2 }, 'Timing/sec_per_kimg': { mean: 10 }, 'Loss/G/loss': { mean: 0.5 }, 'Loss/D/bad': { mean: 'x' } }), true);
  assert.deepEqual([j.curKimg, j.etaSec, j.losses], [2, 20, { 'Loss/G/loss': 0.5 }]);
});

async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
