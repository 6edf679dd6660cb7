/**
 * Mode coverage (#14) where people see it, on runs trained here: `train --metrics modes200_lenet`
 * writes its line, `gan-inspector metrics --metrics modes200_lenet` prints classes covered, the
 * largest share, KL and the class shares as one row (the same numbers it appends), the compare table's
 * key figures and the checkpoint viewer's section read that real metric file, and a run on a folder of
 * images is refused with the reason (CLI, training, viewer).
 * LeNet comes from $GAN_INSPECTOR_CACHE_DIR or ~/.cache/gan-inspector (trained there on first use).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { runCli } from '../../../src/cli/main';
import { METRICS_HELP } from '../../../src/cli/metricsCommand';
import { TRAIN_HELP } from '../../../src/cli/args';
import { readMetrics } from '../../../src/core/runs/jsonlRead';
import { readRun } from '../../../src/core/runs/readRun';
import { buildCompareTable, formatCell } from '../../../src/core/runs/compareTable';
import { describeSnapshot } from '../../../src/host/inference/snapshotInfo';
import { readViewerModes } from '../../../src/host/panels/viewerModes';
import type { MetricLine } from '../../../src/shared/runTypes';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runCli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; }, tty: false });
  return { code, out, err };
}

/** Trains a tiny run (1 tick) and returns its folder (MNIST unless `extra` has --data). */
async function train(outdir: string, ...extra: string[]): Promise<string> {
  const r = await cli('train', '--preset', 'tiny', '--kimg', '0.016', '--outdir', outdir, '--seed', '5', ...extra);
  assert.equal(r.code, 0, r.out + r.err);
  const m = /^Run folder: (.+)$/m.exec(r.out);
  assert.ok(m, r.out);
  // The closing hints suggest mode coverage for runs on the built-in MNIST only.
  const hint = /metrics {2}--snapshot .* --metrics (\S+)$/m.exec(r.out);
  assert.equal(hint?.[1], extra.includes('--data') ? 'fid2k_lenet,kid2k_lenet' : 'fid2k_lenet,kid2k_lenet,modes2k_lenet', r.out);
  return m[1];
}

const SNAP = 'network-snapshot-000000.016';
const METRIC = 'modes200_lenet';
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

describe('mode coverage on an MNIST run trained here', () => {
  let tmp = '';
  let runDir = '';
  let trained: MetricLine[] = [];

  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'gi-modes-cli-'));
    runDir = await train(tmp, '--metrics', METRIC);
    trained = (await readMetrics(runDir))[METRIC] ?? [];
  });
  after(async () => { if (tmp) await fsp.rm(tmp, { recursive: true, force: true }); });

  it('help pages name the metric', () => {
    assert.match(METRICS_HELP, /fid\|kid\|modes/);
    assert.match(METRICS_HELP, /modes2k_lenet\): the N samples classified by LeNet/);
    assert.match(TRAIN_HELP, /--metrics LIST .*modes2k_lenet/);
  });

  it('training with --metrics modes200_lenet appends one line with the histogram and the dataset\'s', () => {
    assert.equal(trained.length, 1);
    const r = trained[0].results;
    assert.equal(trained[0].snapshot_pkl, SNAP);
    const shares = Array.from({ length: 10 }, (_, i) => r[`${METRIC}_class${i}`]);
    const ref = Array.from({ length: 10 }, (_, i) => r[`${METRIC}_ref${i}`]);
    assert.ok(shares.every((v) => v >= 0 && v <= 1) && Math.abs(sum(shares) - 1) < 1e-9, String(shares));
    assert.ok(ref.every((v) => v > 0.03) && Math.abs(sum(ref) - 1) < 1e-9, `the first 200 digits hold every class: ${ref}`);
    assert.equal(r[METRIC], shares.filter((s) => s >= 0.01).length);
    assert.equal(r[`${METRIC}_maxshare`], Math.max(...shares));
  });

  it('metrics prints covered / largest share / KL and the class shares as one row: the numbers it appends', async () => {
    const r = await cli('metrics', '--snapshot', runDir, '--metrics', METRIC, '--backend', 'wasm');
    assert.equal(r.code, 0, r.err);
    const lines = (await readMetrics(runDir))[METRIC];
    assert.equal(lines.length, 2, 'appended after the training line');
    const l = lines[1].results;
    const m = new RegExp(`^  ${METRIC}  covered (\\d+)/10, max (\\d+)% \\(class (\\d)\\), KL (\\d+\\.\\d{3})  \\(\\d+s\\)$`, 'm').exec(r.out);
    assert.ok(m, r.out);
    assert.equal(Number(m[1]), l[METRIC]);
    assert.equal(Number(m[2]), Math.round(l[`${METRIC}_maxshare`] * 100));
    assert.equal(l[`${METRIC}_class${m[3]}`], l[`${METRIC}_maxshare`]);
    assert.equal(m[4], l[`${METRIC}_kl`].toFixed(3));
    const row = new RegExp(`^ {${METRIC.length + 4}}class shares  (.+)$`, 'm').exec(r.out);
    assert.ok(row, r.out);
    const cells = row[1].split('  ');
    assert.equal(cells.length, 10, row[1]);
    cells.forEach((c, i) => assert.equal(c, `${i} ${(l[`${METRIC}_class${i}`] * 100).toFixed(1)}%`));
    // Same samples (seeds 0…199), same classifier: the recomputed line equals the one training wrote.
    for (const k of Object.keys(trained[0].results)) assert.equal(l[k], trained[0].results[k], k);
  });

  it('the compare table shows classes covered (final/best) and the largest share, not KL or the histogram', async () => {
    const run = await readRun(runDir, { checkPid: false });
    const t = buildCompareTable([{ summary: run, metrics: await readMetrics(runDir), options: null }]);
    const ids = t.columns.map((c) => c.id).filter((id) => id.startsWith('modes'));
    assert.deepEqual(ids, [
      `${METRIC}.final`, `${METRIC}.final_kimg`, `${METRIC}.best`, `${METRIC}.best_kimg`,
      `${METRIC}/${METRIC}_maxshare.final`, `${METRIC}/${METRIC}_maxshare.best`,
    ]);
    const line = trained[0].results;
    const cells = t.rows[0].cells;
    assert.equal(cells[`${METRIC}.final`], line[METRIC]);
    assert.equal(cells[`${METRIC}.final_kimg`], 0.016);
    assert.equal(cells[`${METRIC}/${METRIC}_maxshare.best`], line[`${METRIC}_maxshare`]);
    const col = t.columns.find((c) => c.id === `${METRIC}.best`)!;
    assert.equal(col.metric, `${METRIC} classes covered`);
    assert.match(col.title!, /^highest classes covered/);
    assert.equal(formatCell(col, cells[col.id]), String(line[METRIC]));
    assert.match(t.columns.find((c) => c.id === `${METRIC}/${METRIC}_maxshare.best`)!.title!, /^lowest largest class share/);
  });

  it('the checkpoint viewer reads the newest line of its snapshot with the dataset histogram', async () => {
    const info = await describeSnapshot(path.join(runDir, SNAP));
    assert.equal(info.error, undefined);
    const v = await readViewerModes(info);
    assert.equal(v.unavailable, undefined);
    assert.equal(v.entries.length, 1);
    const e = v.entries[0];
    const last = (await readMetrics(runDir))[METRIC].at(-1)!;
    assert.equal(e.timestamp, last.timestamp);
    assert.equal(e.samples, 200);
    assert.equal(e.covered, last.results[METRIC]);
    assert.deepEqual(e.histogram, Array.from({ length: 10 }, (_, i) => last.results[`${METRIC}_class${i}`]));
    assert.deepEqual(e.reference, Array.from({ length: 10 }, (_, i) => last.results[`${METRIC}_ref${i}`]));
    // Another snapshot of the run has no line yet.
    const other = await readViewerModes({ ...info, name: 'network-snapshot-000000.032' });
    assert.deepEqual(other.entries, []);
  });
});

describe('mode coverage on a run of a folder of images is refused with the reason', () => {
  let tmp = '';
  let runDir = '';
  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'gi-modes-folder-'));
    const data = path.join(tmp, 'shapes');
    await fsp.mkdir(data);
    for (let i = 0; i < 8; i++) {
      const png = new PNG({ width: 16, height: 16 });
      for (let p = 0; p < 256; p++) png.data.set([(i * 30 + p) % 256, p % 256, 128, 255], p * 4);
      await fsp.writeFile(path.join(data, `s${i}.png`), PNG.sync.write(png));
    }
    const started = await cli('train', '--preset', 'tiny', '--kimg', '0.016', '--outdir', tmp, '--data', data, '--metrics', METRIC);
    assert.equal(started.code, 2, started.out + started.err);
    assert.match(started.out + started.err, /modes200_lenet: 'lenet' classifies the ten digits of the built-in MNIST, but this run's data is 'shapes'/);
    runDir = await train(tmp, '--data', data);
  });
  after(async () => { if (tmp) await fsp.rm(tmp, { recursive: true, force: true }); });

  it('metrics exits 2 with core\'s message and appends nothing', async () => {
    const r = await cli('metrics', '--snapshot', runDir, '--metrics', METRIC, '--backend', 'wasm');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^Error: modes200_lenet: 'lenet' classifies the ten digits of the built-in MNIST, but this run's data is 'shapes'/m);
    assert.match(r.err, /Use fid\/kid metrics for this run/);
    assert.deepEqual(Object.keys(await readMetrics(runDir)), []);
  });

  it('the viewer says why instead of offering Compute', async () => {
    const v = await readViewerModes(await describeSnapshot(path.join(runDir, SNAP)));
    assert.deepEqual(v.entries, []);
    assert.match(v.unavailable!, /^Mode coverage is not defined for this run: .*LeNet.* This run trained on 'shapes', whose classes LeNet does not know\./);
  });
});
