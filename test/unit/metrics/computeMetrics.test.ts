/**
 * The metrics engine end to end: metric names, StyleGAN2-ADA metric lines, computeMetrics on a
 * generator (fixed seeds → reproducible), and computeSnapshotMetrics on a saved snapshot.
 * Uses a LeNet trained with a small recipe (seconds) so the file stays fast; the default LeNet is
 * covered by lenet.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../engine/testBackend';
import { resolveOptions } from '../../../src/core/config/options';
import { loadDataset, type Dataset } from '../../../src/core/data/dataset';
import { Generator } from '../../../src/core/networks/generator';
import { GanTrainer } from '../../../src/core/training/trainer';
import { saveSnapshot, loadNetworks } from '../../../src/core/training/snapshot';
import { loadOrTrainLenet, type LenetExtractor } from '../../../src/core/metrics/lenet';
import {
  computeMetrics, computeSnapshotMetrics, formatTime, makeMetricLine, metricLines, metricName, parseMetricName, resolveExtractor,
} from '../../../src/core/metrics/index';
import { asMetricLine } from '../../../src/shared/jsonl';
import { appendMetricLine } from '../../../src/core/runs/runDir';
import { isUserError } from '../../../src/core/errors';

let tmp: string;
let lenet: LenetExtractor;
let ds16: Dataset;
let G: Generator;

const tiny = () => resolveOptions({ preset: 'tiny', outdir: tmp, model: { channelMax: 8 } });

before(async () => {
  await useTestBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-metrics-'));
  lenet = await loadOrTrainLenet({ cacheDir: path.join(tmp, 'cache'), config: { trainCount: 1000, epochs: 1 } });
  ds16 = await loadDataset('mnist', { resolution: 16, channels: 1 });
  G = new Generator(tiny().model, 0, 'G_ema');
});

after(() => {
  lenet?.dispose();
  G?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('metric names carry kind, sample count and extractor', () => {
  assert.equal(metricName('fid', 2000, 'lenet'), 'fid2k_lenet');
  assert.equal(metricName('kid', 500, 'inception_v3', true), 'kid500_full_inception_v3');
  assert.deepEqual(parseMetricName('fid2k_lenet'), { name: 'fid2k_lenet', kind: 'fid', numGen: 2000, full: false, extractor: 'lenet' });
  assert.deepEqual(parseMetricName('kid50k_full_inception_v3'), { name: 'kid50k_full_inception_v3', kind: 'kid', numGen: 50000, full: true, extractor: 'inception_v3' });
  assert.equal(parseMetricName('fid2000_lenet').name, 'fid2k_lenet', 'canonical spelling');
  for (const bad of ['fid_lenet', 'is50k', 'fid2k', 'fid1_lenet', 'fid2k_', 'ppl2k_lenet']) {
    assert.throws(() => parseMetricName(bad), (e: Error) => isUserError(e) && /fid2k_lenet/.test(e.message), bad);
  }
});

test('metric lines follow StyleGAN2-ADA (format_time, key order, jsonl file)', async () => {
  assert.deepEqual([0, 59.4, 65, 3725, 90061].map(formatTime), ['0s', '59s', '1m 05s', '1h 02m 05s', '1d 01h 01m']);
  const line = makeMetricLine('fid2k_lenet', 12.5, 75.3, 'network-snapshot-000004', 1700000000.25);
  assert.equal(JSON.stringify(line),
    '{"results":{"fid2k_lenet":12.5},"metric":"fid2k_lenet","total_time":75.3,"total_time_str":"1m 15s","num_gpus":1,' +
    '"snapshot_pkl":"network-snapshot-000004","timestamp":1700000000.25}');
  const run = path.join(tmp, 'run-lines');
  fs.mkdirSync(run);
  await appendMetricLine(run, line);
  const text = fs.readFileSync(path.join(run, 'metric-fid2k_lenet.jsonl'), 'utf8');
  assert.deepEqual(asMetricLine(JSON.parse(text.trim())), line);
  // A line exactly as StyleGAN2-ADA writes it (Python json.dumps spacing) reads back the same way.
  const official = '{"results": {"fid50k_full": 7.31}, "metric": "fid50k_full", "total_time": 1234.5, "total_time_str": "20m 34s", "num_gpus": 8, "snapshot_pkl": "network-snapshot-000200.pkl", "timestamp": 1614000000.1}';
  assert.deepEqual(Object.keys(JSON.parse(official)), Object.keys(line));
});

test('computeMetrics on a generator: fixed seeds make FID/KID reproducible; real features are cached', async (t) => {
  const phases: string[] = [];
  const r1 = await computeMetrics({ G, dataset: ds16, extractor: lenet, numGen: 200, metrics: ['fid', 'kid'], kid: { numSubsets: 10 }, onProgress: (p) => phases.push(p.phase) });
  assert.deepEqual(Object.keys(r1.results).sort(), ['fid200_lenet', 'kid200_lenet']);
  assert.ok(r1.results.fid200_lenet > 0 && Number.isFinite(r1.results.fid200_lenet));
  assert.ok(Number.isFinite(r1.results.kid200_lenet));
  assert.equal(r1.numReal, 200);
  assert.ok(phases.includes('real') && phases.includes('generated') && phases.includes('kid'));
  assert.ok(r1.totalTime > 0 && r1.times.fid200_lenet <= r1.totalTime + 1e-9);
  const phases2: string[] = [];
  const r2 = await computeMetrics({ G, dataset: ds16, extractor: lenet, numGen: 200, metrics: ['kid', 'fid'], kid: { numSubsets: 10 }, onProgress: (p) => phases2.push(p.phase) });
  assert.deepEqual(r2.results, r1.results, 'same seeds, same noise → same values');
  assert.ok(!phases2.includes('real'), 'real features came from the cache');
  // Real images are at 16 px: LeNet upsamples them (and the fakes) to 32 px.
  t.diagnostic(`untrained tiny G: ${JSON.stringify(r1.results)} in ${r1.totalTime.toFixed(2)} s`);
  const lines = metricLines(r1, 'network-snapshot-000000', 1);
  assert.deepEqual(lines.map((l) => [l.metric, l.results[l.metric], l.snapshot_pkl]), [
    ['fid200_lenet', r1.results.fid200_lenet, 'network-snapshot-000000'],
    ['kid200_lenet', r1.results.kid200_lenet, 'network-snapshot-000000'],
  ]);
});

test('computeMetrics rejects mismatched resolutions, bad counts, and honours cancellation', async () => {
  const ds32 = await loadDataset('mnist', { resolution: 32, channels: 1, maxImages: 100 });
  await assert.rejects(computeMetrics({ G, dataset: ds32, extractor: lenet, numGen: 10, metrics: ['fid'] }), /Generated images are 16×16×1 but the dataset is 32×32×1/);
  await assert.rejects(computeMetrics({ G, dataset: ds16, extractor: lenet, numGen: 1, metrics: ['fid'] }), /use an integer ≥ 2/);
  await assert.rejects(computeMetrics({ G, dataset: ds16, extractor: lenet, numGen: 10, metrics: [] }), /No metrics requested/);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(computeMetrics({ G, dataset: ds16, extractor: lenet, numGen: 64, metrics: ['fid'], signal: ac.signal, cacheReal: false }), /cancelled/);
  await assert.rejects(resolveExtractor('inception_v3'), /No feature extractor called 'inception_v3'/);
  // numReal 'full' uses every dataset image and says so in the name.
  const small = await loadDataset('mnist', { resolution: 16, channels: 1, maxImages: 150 });
  const r = await computeMetrics({ G, dataset: small, extractor: lenet, numGen: 100, numReal: 'full', metrics: ['fid'] });
  assert.equal(r.numReal, 150);
  assert.deepEqual(Object.keys(r.results), ['fid100_full_lenet']);
});

test('computeSnapshotMetrics evaluates G_ema of a snapshot folder and appends StyleGAN2-ADA lines', async () => {
  const runDir = path.join(tmp, '00000-mnist-tiny');
  fs.mkdirSync(runDir);
  const trainer = new GanTrainer(tiny());
  await saveSnapshot(runDir, 'network-snapshot-000000', trainer, { tick: 0, backend: { name: tf.getBackend() } });
  trainer.G.dispose(); trainer.G_ema.dispose(); trainer.D.dispose(); trainer.optG.dispose(); trainer.optD.dispose();
  const snap = path.join(runDir, 'network-snapshot-000000');
  const lines = await computeSnapshotMetrics(snap, ['fid200_lenet', 'kid200_lenet'], { extractors: [lenet], kid: { numSubsets: 10 }, append: true });
  assert.deepEqual(lines.map((l) => l.metric), ['fid200_lenet', 'kid200_lenet']);
  for (const l of lines) {
    assert.equal(l.snapshot_pkl, 'network-snapshot-000000');
    assert.equal(l.num_gpus, 1);
    const file = fs.readFileSync(path.join(runDir, `metric-${l.metric}.jsonl`), 'utf8').trim().split('\n');
    assert.equal(file.length, 1);
    assert.deepEqual(asMetricLine(JSON.parse(file[0])), l);
  }
  // Same numbers as computeMetrics on the loaded G_ema against the run's dataset.
  const nets = await loadNetworks(snap);
  try {
    const r = await computeMetrics({ G: nets.G, dataset: ds16, extractor: lenet, numGen: 200, metrics: ['fid', 'kid'], kid: { numSubsets: 10 } });
    assert.equal(lines[0].results.fid200_lenet, r.results.fid200_lenet);
    assert.equal(lines[1].results.kid200_lenet, r.results.kid200_lenet);
  } finally {
    nets.dispose();
  }
  await assert.rejects(computeSnapshotMetrics(snap, ['fid200_inception'], {}), /No feature extractor called 'inception'/);
  await assert.rejects(computeSnapshotMetrics(path.join(runDir, 'network-snapshot-000099'), ['fid200_lenet'], { extractors: [lenet] }), /no readable snapshot\.json/);
});
