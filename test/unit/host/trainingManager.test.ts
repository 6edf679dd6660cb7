import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainingManager, type TrainingJob } from '../../../src/host/training/trainingManager';
import { isUserError } from '../../../src/core/errors';

const FAKE = path.join(__dirname, 'fixtures', 'protocolWorker.cjs');
const REAL = path.resolve(__dirname, '..', '..', '..', 'dist', 'worker.js');

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gi-tm-'));
}

test('runs a job to the end: started, progress, finished', async () => {
  const outdir = tmp();
  const m = new TrainingManager({ workerPath: FAKE });
  const events: string[] = [];
  const progress: number[] = [];
  m.on('started', (j) => events.push(`started:${j.runName}`));
  m.on('progress', (j) => progress.push(j.curKimg));
  m.on('ended', (j) => events.push(`ended:${j.phase}`));
  const job = m.start({ kimg: 1, outdir });
  assert.equal(job.phase, 'starting');
  assert.ok(job.pid && job.pid > 0);
  const end = await m.whenEnded(job.id);
  assert.equal(end.phase, 'finished');
  assert.deepEqual(events, ['started:00000-fake-kimg1', 'ended:finished']);
  assert.deepEqual(progress, [0.25, 0.5, 0.75, 1]);
  assert.equal(end.runDir, path.join(outdir, '00000-fake-kimg1'));
  assert.equal(end.exitCode, 0);
  // Non-numeric losses from the worker are dropped.
  assert.deepEqual(Object.keys(end.losses), ['Loss/G/loss']);
  assert.equal(m.active().length, 0);
  assert.equal(m.ownsRunDir(end.runDir!), false);
});

test('stop: sends the stop message and the worker ends as stopped', async () => {
  const outdir = tmp();
  const m = new TrainingManager({ workerPath: FAKE, stopGraceMs: 10_000 });
  const job = m.start({ kimg: 1000, outdir });
  await new Promise<void>((r) => m.on('progress', (j) => j.tick >= 2 && r()));
  assert.equal(job.phase, 'running');
  assert.equal(m.ownsRunDir(job.runDir!), true);
  const t0 = Date.now();
  const end = await m.stop(job.id);
  assert.equal(end.phase, 'stopped');
  assert.equal(end.forced, undefined);
  assert.equal(end.latestSnapshot, 'network-snapshot-000000');
  assert.ok(Date.now() - t0 < 5000, 'stopped by message, not by a signal');
  const status = JSON.parse(fs.readFileSync(path.join(end.runDir!, 'status.json'), 'utf8'));
  assert.equal(status.state, 'stopped');
});

test('crash: exit code != 0 without ended → failed, with the stderr tail', async () => {
  const m = new TrainingManager({ workerPath: FAKE });
  const logs: string[] = [];
  m.on('log', (_j, line, stream) => logs.push(`${stream}:${line}`));
  const end = await m.whenEnded(m.start({ desc: 'crash', outdir: tmp() }).id);
  assert.equal(end.phase, 'failed');
  assert.equal(end.exitCode, 7);
  assert.match(end.error!, /exited with code 7 without reporting an end state/);
  assert.match(end.error!, /simulated crash in the training loop/);
  assert.deepEqual(end.stderrTail.slice(0, 1), ['Error: simulated crash in the training loop']);
  assert.ok(logs.includes('stderr:Error: simulated crash in the training loop'));
});

test('worker-reported failure keeps its message and userError flag', async () => {
  const m = new TrainingManager({ workerPath: FAKE });
  const end = await m.whenEnded(m.start({ desc: 'fail', outdir: tmp() }).id);
  assert.equal(end.phase, 'failed');
  assert.equal(end.error, 'Dataset folder does not exist.');
  assert.equal(end.userError, true);
});

test('invalid worker messages are reported and ignored', async () => {
  const m = new TrainingManager({ workerPath: FAKE });
  const bad: unknown[] = [];
  m.on('invalidMessage', (_j, msg) => bad.push(msg));
  const end = await m.whenEnded(m.start({ desc: 'garbage', kimg: 0.5, outdir: tmp() }).id);
  assert.equal(end.phase, 'finished');
  assert.deepEqual(bad, [{ type: 'progress', runDir: 3 }, { hello: 'world' }, 'just a string']);
});

test('stop escalates: SIGTERM when the stop message is ignored', async () => {
  const m = new TrainingManager({ workerPath: FAKE, stopGraceMs: 300, killGraceMs: 3000 });
  const job = m.start({ desc: 'deaf', kimg: 1000, outdir: tmp() });
  await new Promise<void>((r) => m.on('started', () => r()));
  const end = await m.stop(job.id);
  assert.equal(end.phase, 'stopped');
  assert.equal(end.forced, true);
  assert.equal(end.signal, 'SIGTERM');
  assert.match(end.error!, /killed/);
});

test('stop escalates: SIGKILL when SIGTERM is ignored too', async () => {
  const m = new TrainingManager({ workerPath: FAKE, stopGraceMs: 200, killGraceMs: 400 });
  const logs: string[] = [];
  m.on('log', (_j, line) => logs.push(line));
  const job = m.start({ desc: 'stubborn', kimg: 1000, outdir: tmp() });
  await new Promise<void>((r) => m.on('started', () => r()));
  const end = await m.stop(job.id);
  assert.equal(end.phase, 'stopped');
  assert.equal(end.signal, 'SIGKILL');
  assert.ok(logs.includes('ignoring SIGTERM'), 'the worker saw SIGTERM before SIGKILL');
});

test('several jobs at once are tracked separately; resumeDir owns the folder before started', async () => {
  const outdir = tmp();
  const resumeDir = path.join(outdir, '00007-old');
  const m = new TrainingManager({ workerPath: FAKE });
  const a = m.start({ kimg: 1000, outdir });
  const b = m.start({ kimg: 1000 }, { resumeDir });
  assert.equal(m.ownsRunDir(resumeDir), true);
  assert.equal(m.active().length, 2);
  await new Promise<void>((r) => m.on('progress', () => a.tick > 0 && b.tick > 0 && r()));
  assert.equal(b.runDir, resumeDir);
  await m.stopAll();
  assert.deepEqual([a.phase, b.phase], ['stopped', 'stopped']);
  assert.equal(m.active().length, 0);
});

test('a missing worker script is a UserError', () => {
  const m = new TrainingManager({ workerPath: path.join(tmp(), 'nope.js') });
  assert.throws(() => m.start({}), (e) => isUserError(e) && /does not exist/.test(e.message));
});

// The real engine (dist/worker.js): skipped until it is built.
test('real dist/worker.js: tiny preset trains, then a second run stops on request', { skip: !fs.existsSync(REAL) && 'dist/worker.js not built', timeout: 120_000 }, async () => {
  const outdir = tmp();
  const m = new TrainingManager({ workerPath: REAL, stopGraceMs: 60_000 });
  const logs: string[] = [];
  m.on('log', (_j, line, s) => logs.push(`${s}: ${line}`));
  const seen: TrainingJob[] = [];
  m.on('progress', (j) => seen.push({ ...j }));
  const a = await m.whenEnded(m.start({ preset: 'tiny', kimg: 0.032, backend: 'cpu', outdir, seed: 1 }).id);
  assert.equal(a.phase, 'finished', `${a.error}\n${logs.slice(-20).join('\n')}`);
  assert.ok(a.runDir && fs.existsSync(path.join(a.runDir, 'stats.jsonl')));
  assert.ok(seen.length > 0 && seen.at(-1)!.totalKimg > 0);

  const b = m.start({ preset: 'tiny', kimg: 100, backend: 'cpu', outdir, seed: 2 });
  await new Promise<void>((r) => m.on('started', (j) => j.id === b.id && r()));
  const end = await m.stop(b.id);
  assert.equal(end.phase, 'stopped', `${end.error}\n${logs.slice(-20).join('\n')}`);
  assert.equal(end.forced, undefined);
});
