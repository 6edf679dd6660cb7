/**
 * Parallel inference: renders split across inference threads give exactly what one thread gives.
 * Through the real inference process (1 worker vs 3) on a tiny run trained in the test — sample grids
 * with random noise, interpolation, segmentation maps with D's decoder, release stopping the threads —
 * and in-process through InferencePool on the official-GGDR fixture pickle (its weights read once and
 * posted to the threads): images and every feature map bit-identical to renderSeeds on this thread.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/core/backend/backend';
import { renderSeeds } from '../../../src/core/analysis/samples';
import { loadCheckpoint, readOfficialGenerator } from '../../../src/core/checkpoints/index';
import { isCancelled } from '../../../src/core/errors';
import { InferenceClient } from '../../../src/host/inference/inferenceClient';
import type { SegmentParams } from '../../../src/shared/protocol/inference';
import { batchShards, InferencePool } from '../../../src/worker/inference/pool/inferencePool';
import { inferenceWorkers } from '../../../src/worker/inference/pool/workerCount';
import { tinyRunWithServedModel } from '../metrics/modelFixtures';
import { FIXTURE_PKL, requireFixture } from '../official/fixture';
import { processBundle, TEST_BACKEND, tmpDir, trainTinyRun } from './helpers';

let run: { runDir: string; snapshots: string[] };
let one: InferenceClient;
let par: InferenceClient;
const client = (workers: number) => processBundle().then((workerPath) => new InferenceClient({ workerPath, backend: TEST_BACKEND, workers }));
/** 40 seeds: two batches of the tiny model (32 per pass), so two threads each render one. */
const SEEDS = Array.from({ length: 40 }, (_, i) => i);

before(async () => {
  run = await trainTinyRun(tmpDir('gi-par-'));
  [one, par] = await Promise.all([client(1), client(3)]);
});

after(() => {
  one?.dispose();
  par?.dispose();
});

test('batchShards: whole batches, in order, as even as possible, threads without a batch left out', () => {
  assert.deepEqual(batchShards(8, 2, 2), [{ start: 0, count: 4 }, { start: 4, count: 4 }]);
  assert.deepEqual(batchShards(40, 32, 2), [{ start: 0, count: 32 }, { start: 32, count: 8 }]);
  assert.deepEqual(batchShards(5, 2, 3), [{ start: 0, count: 2 }, { start: 2, count: 2 }, { start: 4, count: 1 }]);
  assert.deepEqual(batchShards(7, 2, 2), [{ start: 0, count: 4 }, { start: 4, count: 3 }]);
  assert.deepEqual(batchShards(1, 32, 4), [{ start: 0, count: 1 }]);
  for (const [n, bs, w] of [[17, 3, 4], [256, 2, 16], [3, 8, 2]]) {
    const s = batchShards(n, bs, w);
    assert.equal(s.reduce((a, x) => a + x.count, 0), n);
    s.forEach((x, i) => assert.equal(x.start, i ? s[i - 1].start + s[i - 1].count : 0));
    s.slice(0, -1).forEach((x) => assert.equal(x.count % bs, 0, 'every shard but the last is whole batches'));
  }
});

test('worker count: auto = the cores on wasm/cpu, 1 on backends that use every core themselves', () => {
  assert.equal(inferenceWorkers(undefined, 'wasm', 8).workers, 8);
  assert.equal(inferenceWorkers(0, 'cpu', 2).workers, 2);
  assert.equal(inferenceWorkers(3, 'wasm', 2).workers, 3);
  assert.equal(inferenceWorkers(1, 'wasm', 16).workers, 1);
  assert.equal(inferenceWorkers(0, 'tensorflow', 16).workers, 1);
  assert.match(inferenceWorkers(4, 'webgpu', 16).note, /this thread .*4 workers asked/);
});

test('grids and interpolation strips: the same PNGs from 3 threads as from 1, random noise included', async () => {
  const snapshot = run.snapshots[run.snapshots.length - 1];
  const params = { snapshot, which: 'G_ema' as const, psi: 0.7, noiseMode: 'random' as const, noiseSeed: 11, seeds: SEEDS };
  const [a, b] = await Promise.all([one.call('render', params), par.call('render', params)]);
  assert.equal(b.images.length, 40);
  assert.deepEqual(b.images.map((i) => i.seed), SEEDS);
  assert.deepEqual(b.images.map((i) => i.src), a.images.map((i) => i.src));
  const other = await par.call('render', { ...params, noiseSeed: 12 });
  assert.notDeepEqual(other.images.map((i) => i.src), b.images.map((i) => i.src), 'the noise seed matters (so the check above could fail)');
  const ip = { snapshot, which: 'G' as const, psi: 1, noiseMode: 'const' as const, noiseSeed: 0, seedA: 3, seedB: 9, steps: 7, mode: 'slerp' as const };
  const [ia, ib] = await Promise.all([one.call('interpolate', ip), par.call('interpolate', ip)]);
  assert.deepEqual(ib.frames, ia.frames);

  const st = await par.stats();
  assert.equal(st.workers?.count, 3);
  assert.equal(st.workers?.threads.length, 3);
  for (const t of st.workers!.threads) {
    assert.deepEqual(t.models.map((m) => [path.basename(m.snapshot), m.which]).sort(), [[path.basename(snapshot), 'G'], [path.basename(snapshot), 'G_ema']]);
    assert.ok(t.numTensors > 0);
  }
  assert.equal(new Set(st.workers!.threads.map((t) => t.threadId)).size, 3, 'three distinct threads');
  assert.deepEqual(st.models.map((m) => m.parts), [['G_ema', 'G']]);
  assert.deepEqual((await one.stats()).workers, { count: 1, threads: [] });
});

test('segmentation: the same maps (G at two resolutions, D on fakes and reals) from 3 threads as from 1', async () => {
  const p: Omit<SegmentParams, 'jobId'> = {
    snapshot: run.snapshots[run.snapshots.length - 1], seeds: SEEDS, resolutions: [8, 16], k: 4, metric: 'cosine', psi: 1,
    kmeansSeed: 5, maxPixels: 20000, withDecoder: true, reals: 8,
  };
  const [a, b] = await Promise.all([one.call('segment', p), par.call('segment', p)]);
  assert.deepEqual(b.images, a.images);
  assert.deepEqual(b.maps, a.maps);
  assert.ok(a.decoder, 'the tiny run has a decoder');
  assert.deepEqual(b.decoder, a.decoder);
});

test('metrics: FID and KID of the samples rendered in 3 threads equal those of 1 thread', async () => {
  const fx = await tinyRunWithServedModel('gi-par-metrics-');
  try {
    const p = { snapshot: fx.snap, metrics: ['fid200_inception_v3', 'kid200_inception_v3'], append: false, modelCacheDir: path.join(fx.tmp, 'cache'),
      featureModel: { source: fx.url, name: 'inception_v3' } };
    const a = await one.call('computeMetrics', p);
    const b = await par.call('computeMetrics', p);
    assert.deepEqual(b.lines.map((l) => [l.metric, l.results]), a.lines.map((l) => [l.metric, l.results]));
    assert.ok(a.lines.every((l) => Number.isFinite(l.results[l.metric])));
    const st = await par.stats();
    assert.ok(!st.models.some((m) => m.snapshot === fx.snap), 'the metrics G was not kept');
  } finally {
    await fx.server.close();
  }
});

test('a cancelled parallel render stops every thread; release frees the threads back to the tensor baseline', async () => {
  const snapshot = run.snapshots[run.snapshots.length - 1];
  const ac = new AbortController();
  const seeds = Array.from({ length: 256 }, (_, i) => i);
  const call = par.call('render', { snapshot, which: 'G_ema', psi: 1, noiseMode: 'const', noiseSeed: 0, seeds }, {
    signal: ac.signal, onProgress: () => ac.abort(),
  });
  await assert.rejects(call, (e) => isCancelled(e));
  // The process is usable at once: the next render is complete and right.
  const r = await par.call('render', { snapshot, which: 'G_ema', psi: 1, noiseMode: 'const', noiseSeed: 0, seeds: [1, 2] });
  assert.equal(r.images.length, 2);
  par.retain('test', snapshot);
  await par.releaseOwner('test');
  const st = await par.stats();
  assert.deepEqual(st.models, []);
  assert.deepEqual(st.workers, { count: 3, threads: [] }, 'the threads stopped once they held nothing');
});

test('official pickle: read once, posted to the threads; images and feature maps bit-identical to one thread', async () => {
  requireFixture();
  await initBackend(TEST_BACKEND);
  const local = await loadCheckpoint(FIXTURE_PKL, { which: 'G_ema' });
  const { record, which } = await readOfficialGenerator(FIXTURE_PKL, { which: 'G_ema' });
  const pool = new InferencePool(2, TEST_BACKEND === 'cpu' ? 'cpu' : 'wasm');
  try {
    const { meta } = await pool.load('fixture', { kind: 'official', snapshot: FIXTURE_PKL, which, record });
    assert.deepEqual([meta.resolution, meta.zDim], [local.G.resolution, local.G.zDim]);
    const featureRes = [8, 16, 32];
    const o = { truncationPsi: 0.8, noiseMode: 'random' as const, noiseSeed: 3, batchSize: 32, featureRes };
    const want = await renderSeeds(local.G, SEEDS, o);
    const before = tf.memory().numTensors; // after the local render: the official G caches some tensors on first use
    const progress: number[] = [];
    const got = await pool.render('fixture', meta, { seeds: SEEDS }, { ...o, onProgress: (d) => progress.push(d) });
    assert.equal(tf.memory().numTensors, before, 'nothing rendered on this thread');
    assert.equal(progress[progress.length - 1], 40);
    assert.equal(got.images.length, 40);
    got.images.forEach((im, i) => assert.ok(Buffer.from(im).equals(Buffer.from(want.images[i])), `image ${i}`));
    for (const r of featureRes) {
      const [w, g] = [want.features.get(r)!, got.features.get(r)!];
      assert.deepEqual([g.n, g.h, g.w, g.c], [w.n, w.h, w.w, w.c]);
      assert.ok(Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength).equals(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)), `features at ${r}`);
    }
    const z = await pool.latents('fixture', [5, 6]);
    const zl = local.G.latents([5, 6]);
    assert.deepEqual([...z], [...(await zl.data())]);
    zl.dispose();
    assert.equal((await pool.stats()).length, 2);
    assert.equal(await pool.release('fixture'), true);
    assert.equal(pool.running, false, 'the threads stopped with nothing left to hold');
  } finally {
    local.dispose();
    await pool.dispose();
  }
});

test('a thread that dies fails the render with its name, stops the pool and forgets its models; the next load starts fresh threads', async () => {
  requireFixture();
  await initBackend(TEST_BACKEND);
  const broken: string[] = [];
  const pool = new InferencePool(2, TEST_BACKEND === 'cpu' ? 'cpu' : 'wasm', (why) => broken.push(why));
  const { record, which } = await readOfficialGenerator(FIXTURE_PKL, { which: 'G_ema' });
  const source = { kind: 'official' as const, snapshot: FIXTURE_PKL, which, record };
  process.env.GAN_INSPECTOR_FAULT_INFERENCE_THREAD = '1'; // read by each thread when it renders (threads copy the environment when they start)
  try {
    const { meta } = await pool.load('k', source);
    await assert.rejects(pool.render('k', meta, { seeds: SEEDS }, { batchSize: 8 }), (e: Error) => e.name === 'InferenceThreadError' && /Inference thread 2 of 2 failed: the thread exited \(code 3\)/.test(e.message));
    assert.equal(pool.running, false);
    assert.equal(broken.length, 1);
    assert.match(broken[0], /inference thread 2 of 2 failed/);
    await assert.rejects(pool.render('k', meta, { seeds: [1] }, {}), /do not hold k/);
    delete process.env.GAN_INSPECTOR_FAULT_INFERENCE_THREAD;
    const again = await pool.load('k', source);
    const r = await pool.render('k', again.meta, { seeds: SEEDS }, { batchSize: 8 });
    assert.equal(r.images.length, 40);
  } finally {
    delete process.env.GAN_INSPECTOR_FAULT_INFERENCE_THREAD;
    await pool.dispose();
  }
});
