/**
 * The A/B runner against the real training worker (dist/worker.js, tiny preset): the record, the
 * runs' options (only GGDR differs) and the comparison of the result; then cancel. Skipped when the
 * worker is not built (npm run build).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AbRunner, type AbProgress } from '../../../src/host/experiment/abRunner';
import { isAbExperimentRecord, planGgdrAb } from '../../../src/host/experiment/abPlan';
import { compareFigures, loadCompareRuns } from '../../../src/host/panels/compareData';
import { TrainingManager } from '../../../src/host/training/trainingManager';

const WORKER = path.resolve(__dirname, '..', '..', '..', 'dist', 'worker.js');
const skip = !fs.existsSync(WORKER) && 'dist/worker.js not built';

test('A/B experiment: both arms train, the record says so, and the comparison shows GGDR on/off only', { skip, timeout: 120_000 }, async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-ab-'));
  try {
    const m = new TrainingManager({ workerPath: WORKER });
    const logs: string[] = [];
    m.on('log', (_j, l) => logs.push(l));
    // metrics: [] keeps the test short; the default plan adds fid2k_lenet/kid2k_lenet.
    const plan = planGgdrAb({ data: 'mnist', preset: 'tiny', kimg: 0.016, seeds: [3], backend: 'cpu', outdir, concurrency: 1, metrics: [] });
    const progress: AbProgress[] = [];
    let maxActive = 0;
    const runner = new AbRunner(plan, {
      manager: m, cwd: outdir,
      onProgress: (p) => { progress.push(p); maxActive = Math.max(maxActive, m.active().length); },
    });
    const t0 = Date.now();
    const rec = await runner.run();
    const wall = (Date.now() - t0) / 1000;
    assert.equal(rec.state, 'finished', `${JSON.stringify(rec.runs.map((r) => r.error))}\n${logs.slice(-10).join('\n')}`);
    assert.equal(maxActive, 1, 'sequential: one training process at a time');
    assert.deepEqual(rec.runs.map((r) => [r.arm, r.seed, r.state]), [['ggdr', 3, 'finished'], ['baseline', 3, 'finished']]);
    for (const r of rec.runs) assert.ok(r.runDir && fs.existsSync(path.join(r.runDir, 'stats.jsonl')), String(r.runDir));
    assert.match(rec.runs[0].runName!, /^00000-mnist-tiny-ggdr-kimg0.016-batch4-seed3-ab\d{8}-\d{6}$/);
    assert.match(rec.runs[1].runName!, /^00001-mnist-tiny-noggdr-kimg0.016-batch4-seed3-ab\d{8}-\d{6}$/);
    const onDisk: unknown = JSON.parse(fs.readFileSync(plan.recordFile, 'utf8'));
    assert.ok(isAbExperimentRecord(onDisk));
    assert.equal(onDisk.state, 'finished');
    assert.deepEqual(onDisk.runs.map((r) => r.runDir), rec.runs.map((r) => r.runDir));
    assert.ok(progress.at(-1)!.fraction === 1 && progress.at(-1)!.done === 2);

    // The comparison of what was trained.
    const { runs } = await loadCompareRuns(rec.runs.map((r) => r.runDir!), () => false);
    const f = compareFigures(runs);
    assert.deepEqual(f.optionDiff.rows.map((r) => [r.key, r.values.map((v) => v.text)]), [['ggdr.enabled', ['true', 'false']]]);
    assert.deepEqual(f.table.rows.map((r) => [r.cells.ggdr, r.cells.seed, r.cells.state, r.cells.total_kimg]), [['on', 3, 'finished', 0.016], ['off', 3, 'finished', 0.016]]);
    assert.ok(f.scalars.some((s) => s.key === 'Loss/D/ggdr' && s.runs === 1));
    console.log(`# A/B tiny 2 × 0.016 kimg, sequential: ${wall.toFixed(1)} s wall; per run ${rec.runs.map((r) => r.wallSec!.toFixed(1)).join(' / ')} s`);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

test('A/B experiment: cancel stops the active run (snapshot saved) and skips the rest', { skip, timeout: 60_000 }, async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-ab-cancel-'));
  try {
    const m = new TrainingManager({ workerPath: WORKER, stopGraceMs: 30_000 });
    const plan = planGgdrAb({ data: 'mnist', preset: 'tiny', kimg: 50, seeds: [0], backend: 'cpu', outdir, concurrency: 1, metrics: [] });
    const runner = new AbRunner(plan, { manager: m, cwd: outdir });
    m.on('started', () => void runner.cancel());
    const rec = await runner.run();
    assert.equal(rec.state, 'cancelled');
    assert.deepEqual(rec.runs.map((r) => r.state), ['stopped', 'skipped']);
    assert.ok(rec.runs[0].runDir);
    const status = JSON.parse(fs.readFileSync(path.join(rec.runs[0].runDir!, 'status.json'), 'utf8'));
    assert.equal(status.state, 'stopped');
    const onDisk = JSON.parse(fs.readFileSync(plan.recordFile, 'utf8'));
    assert.equal(onDisk.state, 'cancelled');
    assert.equal(m.active().length, 0);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
