/**
 * Metric names with a user-supplied feature extractor, end to end in core: computeSnapshotMetrics on
 * a tiny trained snapshot with `featureModel: {source: URL, name}` downloads the model once from a
 * loopback server into the cache (the second evaluation sends no request and gives the same values),
 * appends StyleGAN2-ADA lines, and fails early and clearly for unknown names, bad specs and when
 * offline. Also: extractor descriptions (LeNet's held-out accuracy on cache hits too) and the overall
 * progress fraction.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../engine/testBackend';
import { deadUrl, metricFileLines, tinyRunWithServedModel, type ModelServer } from './modelFixtures';
import {
  checkExtractorNames, computeMetricLines, computeSnapshotMetrics, metricLinesFraction, validateFeatureModel, type MetricLinesProgress,
} from '../../../src/core/metrics/index';
import { loadOrTrainLenet } from '../../../src/core/metrics/lenet';
import { modelCacheDir } from '../../../src/core/metrics/tfjsModel';
import { loadDataset } from '../../../src/core/data/dataset';
import { loadNetworks } from '../../../src/core/training/snapshot';
import { asMetricLine } from '../../../src/shared/jsonl';
import { isUserError } from '../../../src/core/errors';

let tmp: string;
let runDir: string;
let snap: string;
let server: ModelServer;
let url: string;

const fileLines = (name: string) => metricFileLines(runDir, name);

before(async () => {
  ({ tmp, runDir, snap, server, url } = await tinyRunWithServedModel('gi-fm-'));
  await useTestBackend();
});

after(async () => {
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('fid/kid with a custom extractor name: downloaded once into the cache, then read from there', async () => {
  const cacheDir = path.join(tmp, 'cache');
  const names = ['fid200_inception_v3', 'kid200_inception_v3'];
  const descriptions: string[] = [];
  const progress: MetricLinesProgress[] = [];
  const downloads: number[] = [];
  server.requests.length = 0;
  const lines = await computeSnapshotMetrics(snap, names, {
    featureModel: { source: url, name: 'inception_v3' }, cacheDir, append: true, kid: { numSubsets: 10 },
    onExtractor: (_e, d) => descriptions.push(d), onProgress: (p) => progress.push(p), onDownloadProgress: (p) => downloads.push(p.fileIndex),
  });
  assert.deepEqual(server.requests.map((r) => r.split('/').pop()).sort(), ['group1-shard1of1.bin', 'model.json']);
  assert.ok(downloads.includes(0) && downloads.includes(1), 'download progress for model.json and its shard');
  assert.ok(fs.existsSync(path.join(modelCacheDir(url, cacheDir), 'model.json')), 'cached under <cacheDir>/models/<hash>');
  assert.deepEqual(lines.map((l) => l.metric), names);
  for (const l of lines) {
    assert.ok(Number.isFinite(l.results[l.metric]), `${l.metric} = ${l.results[l.metric]}`);
    assert.equal(l.snapshot_pkl, path.basename(snap));
    assert.deepEqual(fileLines(l.metric).map((t) => asMetricLine(JSON.parse(t))), [l], 'one StyleGAN2-ADA line appended');
  }
  assert.ok(lines[0].results.fid200_inception_v3 > 0);
  assert.match(descriptions[0], /^inception_v3 \(TF\.js graph model, 4-d features at 8×8×3, downloaded now from http:\/\/127\.0\.0\.1:\d+\/inception_v3\/model\.json\)$/);
  assert.ok(progress.some((p) => p.phase === 'generated' && p.done === p.total) && progress.some((p) => p.phase === 'kid'));
  assert.ok(progress.every((p) => p.group === 0 && p.groups === 1 && p.metrics.join() === names.join()), 'fid and kid share one feature pass');

  // Second evaluation: no request at all, same weights → same numbers; not appended this time.
  server.requests.length = 0;
  const again: string[] = [];
  const lines2 = await computeSnapshotMetrics(snap, names, { featureModel: { source: url, name: 'inception_v3' }, cacheDir, kid: { numSubsets: 10 }, onExtractor: (_e, d) => again.push(d) });
  assert.deepEqual(server.requests, []);
  assert.deepEqual(lines2.map((l) => l.results), lines.map((l) => l.results));
  assert.match(again[0], /cached download of http:/);
  assert.equal(fileLines('fid200_inception_v3').length, 1, 'append: false writes nothing');
  // The loaded model is disposed after each evaluation: no tensors left behind.
  const before = tf.memory().numTensors;
  await computeSnapshotMetrics(snap, ['fid100_inception_v3'], { featureModel: { source: url, name: 'inception_v3' }, cacheDir });
  assert.equal(tf.memory().numTensors, before);
});

test('a local model folder works the same way under any name (mixed with another extractor group)', async () => {
  const local = path.join(tmp, 'served', 'inception_v3');
  const progress: MetricLinesProgress[] = [];
  const lines = await computeSnapshotMetrics(snap, ['fid100_mynet', 'fid200_mynet'], { featureModel: { source: local, name: 'mynet' }, onProgress: (p) => progress.push(p) });
  assert.deepEqual(lines.map((l) => l.metric), ['fid100_mynet', 'fid200_mynet']);
  assert.deepEqual([...new Set(progress.map((p) => `${p.group}/${p.groups}`))], ['0/2', '1/2'], 'two sample counts: two passes');
  const fractions = progress.map(metricLinesFraction);
  for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i] >= fractions[i - 1] - 1e-12, `progress never goes back (${fractions[i - 1]} → ${fractions[i]})`);
  assert.ok(fractions[fractions.length - 1] > 0.95 && fractions[fractions.length - 1] <= 1);
});

test('unknown extractor names and bad feature-model specs fail before anything is loaded', async () => {
  await assert.rejects(computeSnapshotMetrics(snap, ['fid200_inception_v3'], {}), (e: Error) => {
    assert.ok(isUserError(e));
    assert.match(e.message, /No feature extractor called 'inception_v3'\./);
    assert.match(e.message, /ganInspector\.metrics\.featureModel .*--feature-model PATH\|URL --feature-model-name inception_v3/);
    return true;
  });
  assert.throws(() => checkExtractorNames(['fid2k_other'], { featureModel: { source: url, name: 'inception_v3' } }), /No feature extractor called 'other' \(the configured feature model is called 'inception_v3'\)/);
  assert.throws(() => validateFeatureModel({ source: url, name: 'lenet' }), /cannot be called 'lenet'/);
  assert.throws(() => validateFeatureModel({ source: url, name: 'bad name' }), /needs a name of letters/);
  assert.throws(() => validateFeatureModel({ source: '  ', name: 'x' }), /has no source/);
  checkExtractorNames(['fid2k_lenet', 'kid1k_inception_v3'], { featureModel: { source: url, name: 'inception_v3' } });
});

test('offline: a clear UserError, nothing cached and nothing appended', async () => {
  const offline = await deadUrl('/inception_v3/model.json');
  const cacheDir = path.join(tmp, 'cache-offline');
  await assert.rejects(computeSnapshotMetrics(snap, ['fid100_offnet'], { featureModel: { source: offline, name: 'offnet' }, cacheDir, append: true }), (e: Error) => {
    assert.ok(isUserError(e), e.stack);
    assert.match(e.message, /Cannot download model\.json from http:\/\/127\.0\.0\.1:\d+\/inception_v3\/model\.json \(ECONNREFUSED/);
    assert.match(e.message, /Offline, download model\.json and its \.bin weight files once and pass the local folder instead/);
    return true;
  });
  assert.ok(!fs.existsSync(modelCacheDir(offline, cacheDir)));
  assert.deepEqual(fileLines('fid100_offnet'), []);
});

test('LeNet is described with its held-out accuracy whether trained now or read from the cache', async () => {
  const cacheDir = path.join(tmp, 'lenet-cache');
  const config = { trainCount: 600, testCount: 400, epochs: 1 };
  const trained = await loadOrTrainLenet({ cacheDir, config });
  const cached = await loadOrTrainLenet({ cacheDir, config });
  try {
    assert.equal(trained.fromCache, false);
    assert.equal(cached.fromCache, true);
    const pct = (trained.info.accuracy * 100).toFixed(1);
    assert.equal(trained.description, `lenet (${pct}% on 400 held-out digits)`);
    assert.equal(cached.description, trained.description, 'the recorded accuracy, also on a cache hit');
    // The metric log line (training's log.txt gets the same through onLog).
    const nets = await loadNetworks(snap, { which: 'G_ema' });
    const ds = await loadDataset('mnist', { resolution: 16, channels: 1, maxImages: 200 });
    const log: string[] = [];
    try {
      await computeMetricLines(nets.G, ds, ['fid100_lenet'], 'x', { extractors: [cached], onLog: (l) => log.push(l) });
    } finally {
      nets.dispose();
    }
    assert.deepEqual(log, [`Feature extractor lenet (${pct}% on 400 held-out digits)`]);
  } finally {
    trained.dispose();
    cached.dispose();
  }
});
