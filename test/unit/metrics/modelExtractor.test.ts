/**
 * TF.js image models as feature extractors: a layers model saved through our fs IOHandler and a
 * hand-written graph model, loaded from a local path and from a loopback HTTP server (downloaded
 * once into the cache), plus the errors for unreachable/bad URLs and damaged files.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../engine/testBackend';
import { adaptImages } from '../../../src/core/metrics/extractor';
import { fileSystemHandler, loadModelExtractor, loadTfjsModel, modelCacheDir, type DownloadProgress } from '../../../src/core/metrics/tfjsModel';
import { isUserError } from '../../../src/core/errors';
import { Rng } from '../../../src/core/util/rng';
import { deadUrl, serveDir, writeGraphModel, type ModelServer } from './modelFixtures';

let root: string;      // served over HTTP
let cacheDir: string;
let server: ModelServer;
let base: string;
let requests: string[] = [];
let layersRef: tf.LayersModel;

before(async () => {
  await useTestBackend();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-models-'));
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-cache-'));
  // A small classifier: conv → flatten → dense 'feat' (16) → dense softmax (5).
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), name: 'conv' }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), biasInitializer: 'ones', name: 'feat' }));
  m.add(tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), name: 'probs' }));
  await m.save(fileSystemHandler(path.join(root, 'small_classifier', 'model.json')));
  layersRef = m;
  FILTER = writeGraphModel(path.join(root, 'graphnet'));
  server = await serveDir(root);
  base = server.base;
  requests = server.requests;
});

after(async () => {
  layersRef?.dispose();
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

/** The hand-written graph model's conv filter (modelFixtures.writeGraphModel with its default seed). */
let FILTER: Float32Array;

/** 3 test images [3,16,16,1] in [-1,1]: the extractor must resize to 8×8, go to RGB and rescale to [0,1]. */
function images(): tf.Tensor4D {
  return tf.tensor4d(new Rng(9).normalArray(3 * 16 * 16).map((v) => Math.tanh(v)), [3, 16, 16, 1]);
}
const ADAPT = { size: [8, 8] as [number, number], channels: 3, range: [0, 1] as [number, number] };

async function expectedLayersFeatures(x: tf.Tensor4D): Promise<Float32Array> {
  const sub = tf.model({ inputs: layersRef.inputs, outputs: layersRef.getLayer('feat').output as tf.SymbolicTensor });
  const a = adaptImages(x, ADAPT);
  const y = sub.predict(a) as tf.Tensor;
  const out = (await y.data()) as Float32Array;
  tf.dispose([a, y]);
  return out;
}

async function expectedGraphFeatures(x: tf.Tensor4D): Promise<Float32Array> {
  const y = tf.tidy(() => tf.mean(tf.relu(tf.conv2d(adaptImages(x, ADAPT), tf.tensor4d(FILTER, [3, 3, 3, 4]), 1, 'same')), [1, 2]));
  const out = (await y.data()) as Float32Array;
  y.dispose();
  return out;
}

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5 * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

async function featuresOf(ex: { features(x: tf.Tensor4D): Promise<tf.Tensor2D> }, x: tf.Tensor4D): Promise<Float32Array> {
  const f = await ex.features(x);
  const out = (await f.data()) as Float32Array;
  f.dispose();
  return out;
}

test('the fs IOHandler round-trips a layers model (model.json + weights.bin)', async () => {
  const dir = path.join(root, 'small_classifier');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  const loaded = await loadTfjsModel(dir);
  assert.equal(loaded.kind, 'layers');
  const x = tf.randomUniform([2, 8, 8, 3]);
  const a = layersRef.predict(x) as tf.Tensor, b = (loaded.model as tf.LayersModel).predict(x) as tf.Tensor;
  assertClose((await b.data()) as Float32Array, (await a.data()) as Float32Array, 'predictions');
  tf.dispose([x, a, b]);
  loaded.model.dispose();
});

test('layers model from a local path: penultimate-layer features, resized and rescaled', async () => {
  const ex = await loadModelExtractor(path.join(root, 'small_classifier', 'model.json'));
  const x = images();
  try {
    assert.equal(ex.name, 'small_classifier');
    assert.match(ex.id, /^small_classifier-[0-9a-f]{16}$/);
    assert.equal(ex.dim, 16);
    assertClose(await featuresOf(ex, x), await expectedLayersFeatures(x), 'features');
    const flat = await loadModelExtractor(path.join(root, 'small_classifier'), { name: 'flat_feats', featureLayer: 'flat' });
    assert.equal(flat.name, 'flat_feats');
    assert.equal(flat.dim, 8 * 8 * 4);
    flat.dispose();
    await assert.rejects(loadModelExtractor(path.join(root, 'small_classifier'), { featureLayer: 'nope' }), /no layer 'nope'/);
  } finally {
    x.dispose();
    ex.dispose();
  }
});

test('graph model from a local path: output node by default, any node on request', async () => {
  const ex = await loadModelExtractor(path.join(root, 'graphnet'));
  const x = images();
  try {
    assert.equal(ex.name, 'graphnet');
    assert.equal(ex.dim, 4);
    const want = await expectedGraphFeatures(x);
    assertClose(await featuresOf(ex, x), want, 'graph features');
    // The Relu node's [N,8,8,4] map is averaged spatially: the same numbers.
    const relu = await loadModelExtractor(path.join(root, 'graphnet'), { featureLayer: 'relu' });
    assertClose(await featuresOf(relu, x), want, 'relu-node features');
    relu.dispose();
  } finally {
    x.dispose();
    ex.dispose();
  }
});

test('models from a loopback URL are downloaded once, with progress, then read from the cache', async () => {
  const x = images();
  for (const [name, expected] of [['small_classifier', expectedLayersFeatures], ['graphnet', expectedGraphFeatures]] as const) {
    const url = `${base}/${name}/model.json`;
    requests.length = 0;
    const progress: DownloadProgress[] = [];
    const ex = await loadModelExtractor(url, { cacheDir, onDownloadProgress: (p) => progress.push(p) });
    assert.equal(ex.name, name);
    assert.deepEqual(requests.map((r) => r.split('/').pop()).sort(), ['model.json', name === 'graphnet' ? 'group1-shard1of1.bin' : 'weights.bin'].sort());
    assert.ok(progress.some((p) => p.fileIndex === 1 && p.totalBytes !== undefined && p.bytes === p.totalBytes), 'shard progress reaches its size');
    assertClose(await featuresOf(ex, x), await expected(x), `${name} via URL`);
    ex.dispose();
    const dir = modelCacheDir(url, cacheDir);
    assert.ok(fs.existsSync(path.join(dir, 'model.json')));
    // Second load: no HTTP request at all, same weights (same id).
    requests.length = 0;
    const again = await loadModelExtractor(url, { cacheDir });
    assert.deepEqual(requests, []);
    assert.equal(again.id, ex.id);
    again.dispose();
  }
  x.dispose();
  assert.deepEqual(fs.readdirSync(path.join(cacheDir, 'models')).filter((n) => n.startsWith('.')), [], 'no temp folders left');
});

test('unreachable or wrong URLs give a clear UserError and leave no cache entry', async () => {
  // A port that was just closed: connection refused.
  const offline = await deadUrl('/inception_v3/model.json');
  await assert.rejects(loadModelExtractor(offline, { cacheDir }), (e: Error) => {
    assert.ok(isUserError(e), `not a UserError: ${e.stack}`);
    assert.match(e.message, /Cannot download model\.json from http:\/\/127\.0\.0\.1:\d+\/inception_v3\/model\.json \(ECONNREFUSED/);
    assert.match(e.message, /Offline, download model\.json/);
    return true;
  });
  assert.ok(!fs.existsSync(modelCacheDir(offline, cacheDir)));
  await assert.rejects(loadModelExtractor(`${base}/missing/model.json`, { cacheDir }), /HTTP 404/);
  // A manifest promising more weight bytes than the server has.
  const bad = path.join(root, 'truncated');
  fs.mkdirSync(bad);
  const json = JSON.parse(fs.readFileSync(path.join(root, 'graphnet', 'model.json'), 'utf8'));
  fs.writeFileSync(path.join(bad, 'model.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(bad, 'group1-shard1of1.bin'), fs.readFileSync(path.join(root, 'graphnet', 'group1-shard1of1.bin')).subarray(0, 50));
  await assert.rejects(loadModelExtractor(`${base}/truncated/model.json`, { cacheDir }), /hold 50 bytes but its manifest describes 440/);
  assert.ok(!fs.existsSync(modelCacheDir(`${base}/truncated/model.json`, cacheDir)));
  // The same damage on disk, and a missing path.
  await assert.rejects(loadModelExtractor(bad), /hold 50 bytes but its manifest describes 440/);
  await assert.rejects(loadModelExtractor(path.join(root, 'nowhere')), /Model not found/);
  fs.writeFileSync(path.join(bad, 'model.json'), '{"modelTopology": ');
  await assert.rejects(loadModelExtractor(bad), /not valid JSON/);
  fs.writeFileSync(path.join(bad, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ paths: ['../../etc/passwd'], weights: [] }] }));
  await assert.rejects(loadModelExtractor(bad), /not a plain relative path/);
});
