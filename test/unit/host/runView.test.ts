import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveOptions } from '../../../src/core/config/options';
import { appendStatsLine, createRunDir, StatusWriter, writeTrainingOptions } from '../../../src/core/runs/runDir';
import { listRuns } from '../../../src/core/runs/readRun';
import { displayState, isPidAlive, isResumable } from '../../../src/host/runs/liveness';
import { compareRunsNewestFirst, describeRun, lossRunInfo, runDescription, runDetails, viewOf } from '../../../src/host/runs/runView';
import { classifyEventPath } from '../../../src/host/runs/eventPaths';
import { KeyedBatcher } from '../../../src/host/util/batcher';

const OFFICIAL = path.resolve(__dirname, '..', '..', 'fixtures', 'official-ggdr-cpu', 'training-runs');

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  assert.ok(r.pid && r.pid > 0);
  return r.pid!;
}

async function makeRun(outdir: string, status: 'running' | 'stopped' | 'finished', pid: number | undefined) {
  const opts = resolveOptions({ preset: 'tiny', outdir, ggdr: { enabled: true } });
  const { dir } = await createRunDir(outdir, 'mnist-tiny-ggdr');
  await writeTrainingOptions(dir, opts, { name: 'cpu' });
  await appendStatsLine(dir, { timestamp: 1, 'Progress/kimg': { num: 1, mean: 0.016, std: 0 }, 'Loss/G/loss': { num: 4, mean: 0.7, std: 0.1 } });
  const w = new StatusWriter(dir, { totalKimg: 0.048, curKimg: 0.016, state: status, pid });
  await w.update();
  return dir;
}

test('liveness: pids and display states', () => {
  assert.equal(isPidAlive(process.pid), true);
  assert.equal(isPidAlive(deadPid()), false);
  assert.equal(isPidAlive(-3), false);
  assert.equal(displayState('running', undefined, true), 'running');
  assert.equal(displayState('stopped', undefined, true), 'running', 'a job of ours resuming it');
  assert.equal(displayState('running', 123, false, () => true), 'running');
  assert.equal(displayState('running', 123, false, () => false), 'interrupted');
  assert.equal(displayState('running', undefined, false, () => true), 'interrupted');
  assert.equal(displayState('finished', 123, false, () => true), 'finished');
  assert.deepEqual((['running', 'finished', 'failed', 'stopped', 'unknown', 'interrupted'] as const).filter(isResumable), ['failed', 'stopped', 'interrupted']);
});

test('a "running" status.json whose trainer is gone shows as interrupted and resumable', async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-rv-'));
  const dead = await makeRun(outdir, 'running', deadPid());
  const live = await makeRun(outdir, 'running', process.pid);
  const fin = await makeRun(outdir, 'finished', undefined);

  const vDead = await describeRun(dead, () => false);
  assert.equal(vDead.state, 'interrupted');
  assert.equal(vDead.resumable, true);
  assert.match(runDescription(vDead), /^kimg 0\.016\/0\.048 · ggdr · cpu · interrupted$/);

  // Owned by one of our jobs: running even before its status is rewritten.
  assert.equal((await describeRun(dead, (d) => d === dead)).state, 'running');

  const vLive = await describeRun(live, () => false);
  assert.equal(vLive.state, 'running');
  assert.equal(vLive.pid, process.pid);
  assert.equal(vLive.resumable, false);

  const vFin = await describeRun(fin, () => false);
  assert.equal(vFin.state, 'finished');
  assert.equal(vFin.resumable, false);

  const views = await Promise.all((await listRuns(outdir, { checkPid: false })).map((s) => viewOf(s, () => false)));
  assert.deepEqual(views.sort(compareRunsNewestFirst).map((v) => path.basename(v.summary.dir)), [fin, live, dead].map((d) => path.basename(d)));
  const info = lossRunInfo(vDead);
  assert.equal(info.state, 'interrupted');
  assert.equal(info.ggdr, true);
});

test('official GGDR runs: GGDR vs baseline told apart, .pkl snapshots not resumable', async () => {
  const views = await Promise.all((await listRuns(OFFICIAL, { checkPid: false })).map((s) => viewOf(s, () => false)));
  assert.equal(views.length, 2);
  const [base, ggdr] = views.sort(compareRunsNewestFirst);
  assert.equal(ggdr.summary.origin, 'stylegan2-ada');
  assert.equal(ggdr.summary.ggdr, true);
  assert.equal(base.summary.ggdr, false);
  assert.match(runDescription(ggdr), /· ggdr · pytorch$/);
  assert.match(runDescription(base), /· baseline · pytorch$/);
  assert.equal(ggdr.resumable, false);
  assert.match(runDetails(ggdr).join('\n'), /official StyleGAN2-ADA\/GGDR run/);
});

test('file events map to run folders; temp files are ignored', () => {
  const root = path.resolve('/w/runs');
  const roots = [root, path.resolve('/abs/training-runs')];
  assert.deepEqual(classifyEventPath(roots, path.join(root, '00001-x', 'stats.jsonl')), { runDir: path.join(root, '00001-x'), file: 'stats.jsonl' });
  assert.deepEqual(classifyEventPath(roots, path.join(root, '00001-x', 'network-snapshot-000004', 'weights.bin')), {
    runDir: path.join(root, '00001-x'), file: 'network-snapshot-000004/weights.bin',
  });
  assert.deepEqual(classifyEventPath(roots, path.join(root, '00002-new')), { structural: true });
  assert.deepEqual(classifyEventPath(roots, root), { structural: true });
  assert.equal(classifyEventPath(roots, path.join(root, '00001-x', '.status.json.123.abcd.tmp')), undefined);
  assert.equal(classifyEventPath(roots, path.resolve('/w/src/a.ts')), undefined);
  assert.equal(classifyEventPath(roots, path.resolve('/w/runs-old/00001-x/log.txt')), undefined);
});

test('KeyedBatcher: one flush per window, a steady stream cannot starve it', async () => {
  const flushes: string[][] = [];
  const b = new KeyedBatcher<string>(40, (keys) => { flushes.push([...keys].sort()); });
  const t0 = Date.now();
  // Events every 5 ms for 150 ms: a trailing debounce would never fire; the batcher flushes ~every 40 ms.
  while (Date.now() - t0 < 150) {
    b.add(Date.now() % 2 ? 'a' : 'b');
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 60));
  assert.ok(flushes.length >= 2 && flushes.length <= 6, `flushes: ${flushes.length}`);
  assert.ok(flushes.every((f) => f.length >= 1 && f.length <= 2));
  b.add('c');
  b.dispose();
  await new Promise((r) => setTimeout(r, 60));
  assert.ok(!flushes.flat().includes('c'), 'nothing flushes after dispose');
});
