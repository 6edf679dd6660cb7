/**
 * The LeNet feature extractor: trains deterministically to ≥ 97% on the held-out digits, is cached
 * (a cache hit does not retrain; a corrupt cache is detected and retrained), and its features
 * separate real digits from noise under FID/KID.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../engine/testBackend';
import { loadDataset, getBatch, type Dataset } from '../../../src/core/data/dataset';
import { loadOrTrainLenet, lenetHeldOutAccuracy, LENET_DEFAULTS, type LenetExtractor } from '../../../src/core/metrics/lenet';
import { computeMetrics, datasetSource, type SampleSource } from '../../../src/core/metrics/index';
import { Rng } from '../../../src/core/util/rng';

let cacheDir: string;
let ds: Dataset;
let lenet: LenetExtractor;
let backend: string;

before(async () => {
  backend = await useTestBackend();
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-cache-'));
  ds = await loadDataset('mnist', { resolution: 32, channels: 1 });
});

after(() => {
  lenet?.dispose();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

async function featuresOf(ex: LenetExtractor, idx: number[]): Promise<Float32Array> {
  const x = tf.tensor4d(getBatch(ds, idx), [idx.length, 32, 32, 1]);
  const f = await ex.features(x);
  const out = (await f.data()) as Float32Array;
  tf.dispose([x, f]);
  return out;
}

test('the default LeNet trains to ≥ 97% held-out accuracy and is cached in weights-manifest format', async (t) => {
  const logs: string[] = [];
  let lastTrain: { step: number; steps: number } | undefined;
  const t0 = performance.now();
  lenet = await loadOrTrainLenet({ cacheDir, onLog: (l) => logs.push(l), onProgress: (p) => { if (p.phase === 'train') lastTrain = { step: p.step, steps: p.steps }; } });
  const wall = (performance.now() - t0) / 1000;
  assert.equal(lenet.fromCache, false);
  assert.deepEqual(lenet.info.config, { ...LENET_DEFAULTS });
  assert.equal(lenet.dim, 128);
  assert.ok(lenet.info.accuracy >= 0.97, `held-out accuracy ${lenet.info.accuracy}`);
  assert.equal(await lenetHeldOutAccuracy(lenet), lenet.info.accuracy, 'stored accuracy = recomputed accuracy');
  t.diagnostic(`backend ${backend}: accuracy ${(lenet.info.accuracy * 100).toFixed(1)}% on ${lenet.info.config.testCount} held-out digits; ` +
    `training ${lenet.info.trainTimeSec.toFixed(1)} s wall, ${lenet.info.trainCpuSec.toFixed(1)} s CPU (call ${wall.toFixed(1)} s)`);
  // The recipe's amount of work, exactly: epochs × ⌈trainCount / batch⌉ steps (its time is in the bench's FID section).
  const c = LENET_DEFAULTS;
  assert.deepEqual(lastTrain, { step: c.epochs * Math.ceil(c.trainCount / c.batch), steps: c.epochs * Math.ceil(c.trainCount / c.batch) });
  // Cache folder: model.json (tfjs weights manifest) + weights.bin, and nothing half-written.
  assert.equal(path.dirname(lenet.dir), path.resolve(cacheDir));
  assert.match(path.basename(lenet.dir), /^lenet-[0-9a-f]{16}$/);
  assert.deepEqual(fs.readdirSync(cacheDir), [path.basename(lenet.dir)]);
  assert.deepEqual(fs.readdirSync(lenet.dir).sort(), ['model.json', 'weights.bin']);
  const json = JSON.parse(fs.readFileSync(path.join(lenet.dir, 'model.json'), 'utf8'));
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
  assert.deepEqual(json.weightsManifest[0].weights.map((w: { name: string }) => w.name),
    ['conv1/weight', 'conv1/bias', 'conv2/weight', 'conv2/bias', 'fc1/weight', 'fc1/bias', 'fc2/weight', 'fc2/bias']);
  assert.equal(json.lenet.accuracy, lenet.info.accuracy);
  assert.ok(logs.some((l) => /held-out accuracy/.test(l)));
});

test('a cache hit loads the same weights without retraining', async () => {
  const weights = path.join(lenet.dir, 'weights.bin');
  const mtime = fs.statSync(weights).mtimeMs;
  let trained = false;
  const t0 = performance.now();
  const again = await loadOrTrainLenet({ cacheDir, onProgress: (p) => { if (p.phase === 'train') trained = true; } });
  const sec = (performance.now() - t0) / 1000;
  try {
    // From the cache, not trained (the load time is in the bench's FID section: "loaded from cache in … s").
    console.log(`# LeNet cache load: ${sec.toFixed(2)} s`);
    assert.equal(again.fromCache, true);
    assert.equal(trained, false, 'no training step ran');
    assert.equal(fs.statSync(weights).mtimeMs, mtime, 'weights.bin untouched');
    assert.equal(again.id, lenet.id);
    assert.deepEqual(again.info, lenet.info);
    const idx = [3, 14, 159, 2653];
    assert.deepEqual(await featuresOf(again, idx), await featuresOf(lenet, idx));
  } finally {
    again.dispose();
  }
});

test('LeNet FID: two disjoint halves of the real digits are far closer than real digits vs. noise', async (t) => {
  const n = 1000;
  const otherHalf = datasetSource(ds, Array.from({ length: n }, (_, i) => n + i)); // digits 1000…1999
  const rng = new Rng(42);
  const noise: SampleSource = {
    resolution: 32, channels: 1,
    async render(_start, count) {
      const out = new Float32Array(count * 32 * 32);
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform() * 2 - 1;
      return out;
    },
  };
  const halves = await computeMetrics({ samples: otherHalf, dataset: ds, extractor: lenet, numGen: n, numReal: n, metrics: ['fid', 'kid'] });
  const vsNoise = await computeMetrics({ samples: noise, dataset: ds, extractor: lenet, numGen: n, numReal: n, metrics: ['fid', 'kid'] });
  const fh = halves.results.fid1k_lenet, fn = vsNoise.results.fid1k_lenet;
  const kh = halves.results.kid1k_lenet, kn = vsNoise.results.kid1k_lenet;
  t.diagnostic(`fid1k_lenet: halves ${fh.toFixed(3)}, real vs noise ${fn.toFixed(1)}; kid1k_lenet: halves ${kh.toExponential(2)}, vs noise ${kn.toExponential(2)}`);
  assert.ok(fh > 0 && Number.isFinite(fn), `${fh} ${fn}`);
  assert.ok(fn > 50 * fh, `FID halves ${fh} vs noise ${fn}`);
  assert.ok(Math.abs(kh) < kn / 50, `KID halves ${kh} vs noise ${kn}`);
});

test('a corrupt cache entry is detected and retrained (deterministically)', async () => {
  const config = { trainCount: 500, epochs: 1 }; // small recipe: its own cache entry
  const first = await loadOrTrainLenet({ cacheDir, config });
  const dir = first.dir;
  const sha = first.info.weightsSha256;
  first.dispose();
  assert.notEqual(dir, lenet.dir);
  // Flip one byte of the weights: same size, wrong checksum.
  const wfile = path.join(dir, 'weights.bin');
  const bytes = fs.readFileSync(wfile);
  bytes[100] ^= 0xff;
  fs.writeFileSync(wfile, bytes);
  const logs: string[] = [];
  const second = await loadOrTrainLenet({ cacheDir, config, onLog: (l) => logs.push(l) });
  assert.equal(second.fromCache, false);
  assert.match(second.cacheProblem ?? '', /checksum/);
  assert.ok(logs.some((l) => /unusable/.test(l) && /retraining/.test(l)), logs.join('\n'));
  assert.equal(second.info.weightsSha256, sha, 'retraining reproduces the same weights');
  second.dispose();
  // Truncated model.json and a missing weights file are caught too.
  fs.writeFileSync(path.join(dir, 'model.json'), '{"format": "gan-inspector-le');
  const third = await loadOrTrainLenet({ cacheDir, config });
  assert.match(third.cacheProblem ?? '', /not valid JSON/);
  third.dispose();
  fs.rmSync(path.join(dir, 'weights.bin'));
  const fourth = await loadOrTrainLenet({ cacheDir, config });
  assert.match(fourth.cacheProblem ?? '', /weights\.bin cannot be read/);
  fourth.dispose();
  const fifth = await loadOrTrainLenet({ cacheDir, config });
  assert.equal(fifth.fromCache, true);
  fifth.dispose();
  // No temp folders left behind.
  assert.deepEqual(fs.readdirSync(cacheDir).filter((n) => n.startsWith('.')), []);
});
