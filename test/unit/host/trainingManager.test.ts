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
  assert.deepEqual(bad, [{ rpc: 1, kind: 'event', name: 'progress', payload: { runDir: 3 } }, { hello: 'world' }, 'just a string']);
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

/** stats.jsonl lines of a run, parsed (only newline-terminated ones). */
function statsLines(runDir: string): Array<{ kimg: number; tick: number }> {
  const text = fs.readFileSync(path.join(runDir, 'stats.jsonl'), 'utf8');
  return text.split('\n').slice(0, -1).filter((l) => l.trim()).map((l) => {
    const o = JSON.parse(l) as Record<string, { mean: number }>;
    return { kimg: o['Progress/kimg'].mean, tick: o['Progress/tick'].mean };
  });
}

function readStatus(runDir: string): { state: string; curKimg: number; latestSnapshot: string; lastError: string | null } {
  return JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8'));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('real dist/worker.js: the host dies mid-training (window reload) → the worker stops itself; status.json says stopped; the newest snapshot loads', { skip: !fs.existsSync(REAL) && 'dist/worker.js not built', timeout: 120_000 }, async () => {
  const outdir = tmp();
  const { spawn } = await import('node:child_process');
  const host = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'reloadingHost.ts'), REAL, outdir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  host.stdout.setEncoding('utf8');
  host.stdout.on('data', (s: string) => (out += s));
  const [, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => host.on('exit', (c, s) => r([c, s])));
  assert.equal(signal, 'SIGKILL', `the host died abruptly (output: ${out})`);
  const info = JSON.parse(out.trim().split('\n')[0]) as { pid: number; runDir: string; kimg: number };
  assert.ok(info.pid > 0 && info.runDir, out);
  // Its worker lost the IPC channel (and the reader of its pipes): it must stop by itself, not train on or die half-way.
  const t0 = Date.now();
  while (alive(info.pid) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(info.pid), false, 'the orphaned worker exited');
  const status = readStatus(info.runDir);
  assert.equal(status.state, 'stopped', JSON.stringify(status));
  assert.equal(status.lastError, null);
  assert.ok(status.curKimg >= info.kimg, `stopped at ${status.curKimg} kimg, after the first tick (${info.kimg})`);
  const log = fs.readFileSync(path.join(info.runDir, 'log.txt'), 'utf8');
  assert.match(log, /Stopped at kimg [\d.]+; latest snapshot network-snapshot-/);
  // The newest snapshot folder is the one status.json names, and the engine loads it with the state training stopped at.
  const snaps = fs.readdirSync(info.runDir).filter((n) => /^network-snapshot-\d+/.test(n)).sort();
  assert.equal(snaps.at(-1), status.latestSnapshot);
  const { initBackend } = await import('../../../src/core/backend/backend');
  const { loadNetworks } = await import('../../../src/core/training/snapshot');
  await initBackend('cpu');
  const nets = await loadNetworks(path.join(info.runDir, status.latestSnapshot), { withD: true });
  try {
    assert.equal(nets.meta.nimg / 1000, status.curKimg);
    assert.deepEqual([nets.meta.options.model.resolution, nets.meta.options.seed], [16, 3]);
    assert.ok(nets.D);
  } finally {
    nets.dispose();
  }
  // Resumable: what Resume Training needs (not "running", a loadable snapshot) is there; resuming is tested below.
  const { readRun } = await import('../../../src/core/runs/readRun');
  const run = await readRun(info.runDir);
  assert.equal(run.state, 'stopped');
  assert.equal([...run.snapshots].reverse().find((x) => x.loadable)?.name, status.latestSnapshot);
});

test('real dist/worker.js: a run stopped after its first tick resumes in the same folder, continues stats.jsonl and finishes', { skip: !fs.existsSync(REAL) && 'dist/worker.js not built', timeout: 120_000 }, async () => {
  const outdir = tmp();
  const m = new TrainingManager({ workerPath: REAL });
  const logs: string[] = [];
  m.on('log', (j, line) => logs.push(`[${j.id}] ${line}`));
  const KIMG = 0.048;
  const a = m.start({ preset: 'tiny', kimg: KIMG, backend: 'cpu', outdir, seed: 4 });
  await new Promise<void>((r) => m.on('progress', (j) => j.id === a.id && j.tick >= 1 && r()));
  const stopped = await m.stop(a.id);
  assert.equal(stopped.phase, 'stopped', `${stopped.error}\n${logs.slice(-10).join('\n')}`);
  const runDir = stopped.runDir!;
  const before = statsLines(runDir);
  assert.ok(before.length >= 1 && stopped.curKimg < KIMG, `stopped part-way at ${stopped.curKimg} kimg after ${before.length} tick(s)`);
  assert.equal(readStatus(runDir).state, 'stopped');

  const b = m.start({}, { resumeDir: runDir });
  assert.equal(m.ownsRunDir(runDir), true, 'the resume owns the folder before it started');
  const end = await m.whenEnded(b.id);
  assert.equal(end.phase, 'finished', `${end.error}\n${logs.slice(-10).join('\n')}`);
  assert.equal(end.runDir, runDir, 'resumed in the same folder');
  assert.deepEqual(fs.readdirSync(outdir), [path.basename(runDir)], 'no new run folder');
  assert.equal(readStatus(runDir).state, 'finished');
  assert.equal(readStatus(runDir).curKimg, KIMG);
  const log = fs.readFileSync(path.join(runDir, 'log.txt'), 'utf8');
  assert.match(log, new RegExp(`Resuming ${runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} from network-snapshot-\\d+`));
  assert.ok(log.indexOf('Stopped at kimg') < log.indexOf('Resuming'), 'log.txt goes on after the stop');
  // stats.jsonl keeps the ticks before the stop and continues after them, one line per tick up to the end.
  const after = statsLines(runDir);
  assert.deepEqual(after.slice(0, before.length), before, 'the lines before the stop are kept');
  assert.ok(after.length > before.length);
  for (let i = 1; i < after.length; i++) {
    assert.ok(after[i].kimg > after[i - 1].kimg, `kimg increases: ${after.map((l) => l.kimg).join(', ')}`);
    assert.equal(after[i].tick, after[i - 1].tick + 1, `ticks continue: ${after.map((l) => l.tick).join(', ')}`);
  }
  assert.equal(after.at(-1)!.kimg, KIMG);
});

test('real dist/worker.js: two jobs train at the same time, tracked separately, and both finish', { skip: !fs.existsSync(REAL) && 'dist/worker.js not built', timeout: 120_000 }, async () => {
  const outdir = tmp();
  const m = new TrainingManager({ workerPath: REAL });
  const logs: string[] = [];
  m.on('log', (j, line) => logs.push(`[${j.id}] ${line}`));
  const progressDirs = new Map<number, Set<string>>();
  let bothActive = false;
  m.on('progress', (j, msg) => {
    if (!progressDirs.has(j.id)) progressDirs.set(j.id, new Set());
    progressDirs.get(j.id)!.add(msg.runDir);
    if (m.active().length === 2 && m.active().every((x) => x.phase === 'running')) bothActive = true;
  });
  const a = m.start({ preset: 'tiny', kimg: 0.032, backend: 'cpu', outdir, seed: 5 });
  const b = m.start({ preset: 'tiny', kimg: 0.048, backend: 'cpu', outdir, seed: 6, ggdr: { enabled: false } });
  assert.notEqual(a.pid, b.pid);
  assert.equal(m.active().length, 2);
  const [ea, eb] = await Promise.all([m.whenEnded(a.id), m.whenEnded(b.id)]);
  assert.deepEqual([ea.phase, eb.phase], ['finished', 'finished'], `${ea.error} / ${eb.error}\n${logs.slice(-10).join('\n')}`);
  assert.ok(bothActive, 'both were training at the same moment');
  assert.ok(ea.runDir && eb.runDir && ea.runDir !== eb.runDir, `separate folders: ${ea.runDir}, ${eb.runDir}`);
  assert.deepEqual([...progressDirs.get(a.id)!], [ea.runDir], 'each job only saw progress of its own run');
  assert.deepEqual([...progressDirs.get(b.id)!], [eb.runDir]);
  assert.deepEqual([ea.curKimg, eb.curKimg], [0.032, 0.048]);
  for (const [j, kimg, ggdr] of [[ea, 0.032, true], [eb, 0.048, false]] as const) {
    assert.equal(readStatus(j.runDir!).state, 'finished');
    assert.equal(statsLines(j.runDir!).at(-1)!.kimg, kimg);
    const opts = JSON.parse(fs.readFileSync(path.join(j.runDir!, 'training_options.json'), 'utf8'));
    assert.equal(opts.options.ggdr.enabled, ggdr);
  }
  assert.equal(m.active().length, 0);
  assert.deepEqual(m.jobs().map((j) => j.id), [a.id, b.id]);
});
