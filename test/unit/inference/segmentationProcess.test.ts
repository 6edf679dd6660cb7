/**
 * K-means segmentation through the real inference process on tiny runs trained in the test: G's maps
 * at several resolutions over the whole batch, D's GGDR decoder on fakes and reals, the baseline's
 * "no decoder", sampling of large maps, determinism, the across-snapshots strip with progress,
 * failures and cancellation, and release of G and D back to the tensor baseline.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { isCancelled, type InferenceClient } from '../../../src/host/inference/inferenceClient';
import { decodeLabels, type ClusterMap, type SegmentParams } from '../../../src/shared/protocol/inference';
import { decodeDataUrl, newClient, tmpDir, trainTinyRun } from './helpers';

let ggdr: { runDir: string; snapshots: string[] };
let baselineRun: { runDir: string; snapshots: string[] };
let client: InferenceClient;
let baseTensors = 0;
const seg = (over: Partial<Omit<SegmentParams, 'jobId'>> = {}): Omit<SegmentParams, 'jobId'> => ({
  snapshot: ggdr.snapshots[ggdr.snapshots.length - 1], seeds: [0, 1, 2, 3, 4, 5, 6, 7], resolutions: [16], k: 4, metric: 'cosine',
  psi: 1, kmeansSeed: 0, maxPixels: 20000, withDecoder: true, reals: 0, ...over,
});

before(async () => {
  const out = tmpDir('gi-seg-');
  ggdr = await trainTinyRun(out);
  baselineRun = await trainTinyRun(out, { kimg: 0.008, ggdr: { enabled: false } });
  client = await newClient();
  baseTensors = (await client.stats()).numTensors;
});

after(() => client?.dispose());

/** Checks a map's shape, label range and that its shares are the label frequencies. */
function checkMap(m: ClusterMap, n: number, res: number, k: number): Uint8Array {
  const labels = decodeLabels(m.labels);
  assert.equal(m.res, res);
  assert.equal(labels.length, n * res * res);
  assert.equal(m.totalPixels, labels.length);
  const counts = new Array<number>(k).fill(0);
  for (const l of labels) {
    assert.ok(l < k, `label ${l} < k=${k}`);
    counts[l]++;
  }
  assert.equal(m.shares.length, k);
  m.shares.forEach((s, i) => assert.ok(Math.abs(s - counts[i] / labels.length) < 1e-12));
  assert.ok(Math.abs(m.shares.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  return labels;
}

test("G's maps at each resolution plus D's decoder on fakes and reals, deterministic", async () => {
  const messages: string[] = [];
  const r = await client.call('segment', seg({ reals: 8 }), { onProgress: (p) => messages.push(p.message) });
  assert.equal(r.images.length, 8);
  assert.deepEqual([decodeDataUrl(r.images[0]).width, r.resolution, r.channels], [16, 16, 1]);
  // The decoder's resolution (8) is clustered for G too, so D's maps can use G's centroids.
  assert.deepEqual(r.maps.map((m) => m.res), [8, 16]);
  for (const m of r.maps) {
    checkMap(m, 8, m.res, 4);
    assert.deepEqual([...m.shares].sort((a, b) => b - a), m.shares, 'cluster 0 is the largest');
    assert.equal(m.sampled, false);
  }
  assert.ok(r.decoder, 'GGDR run has a decoder');
  const d = r.decoder!;
  assert.equal(d.res, 8);
  checkMap(d.fakesWithG, 8, 8, 4);
  checkMap(d.fakesOwn, 8, 8, 4);
  assert.ok(Number.isFinite(d.meanCosine) && d.meanCosine >= -1 && d.meanCosine <= 1);
  assert.ok(d.reals, d.realsNote);
  assert.equal(d.reals!.images.length, 8);
  checkMap(d.reals!.map, 8, 8, 4);
  assert.match(d.reals!.source, /^mnist: images /);
  assert.ok(messages.includes('clustering 8×8') && messages.includes('running the discriminator decoder'), messages.join(', '));
  // Same inputs → same picture.
  const again = await client.call('segment', seg({ reals: 8 }));
  assert.deepEqual({ ...again, ms: 0 }, { ...r, ms: 0 });
  // Networks stay cached: G_ema and D read once each.
  const st = await client.stats();
  assert.deepEqual(st.models.map((m) => [m.loads, m.parts]), [[2, ['G_ema', 'D']]]);
});

test('euclidean metric and another K: different clusterings of the same batch', async () => {
  const cos = await client.call('segment', seg({ withDecoder: false, resolutions: [8] }));
  const euc = await client.call('segment', seg({ withDecoder: false, resolutions: [8], metric: 'euclidean' }));
  const k3 = await client.call('segment', seg({ withDecoder: false, resolutions: [8], k: 3 }));
  assert.equal(euc.metric, 'euclidean');
  assert.equal(cos.decoder, null);
  assert.equal(cos.decoderNote, undefined, 'no decoder asked, no note');
  checkMap(euc.maps[0], 8, 8, 4);
  checkMap(k3.maps[0], 8, 8, 3);
  assert.notDeepEqual(decodeLabels(euc.maps[0].labels), decodeLabels(cos.maps[0].labels));
});

test('large maps: fitted on a seeded sample of pixels, then every pixel assigned', async () => {
  const r = await client.call('segment', seg({ withDecoder: false, resolutions: [16], maxPixels: 500 }));
  const m = r.maps[0];
  assert.equal(m.sampled, true);
  assert.equal(m.fitPixels, 500);
  assert.equal(m.totalPixels, 8 * 16 * 16);
  checkMap(m, 8, 16, 4);
  const again = await client.call('segment', seg({ withDecoder: false, resolutions: [16], maxPixels: 500 }));
  assert.equal(again.maps[0].labels, m.labels, 'the sample is seeded');
});

test('a baseline run says it has no decoder', async () => {
  const snap = baselineRun.snapshots[baselineRun.snapshots.length - 1];
  const r = await client.call('segment', seg({ snapshot: snap, reals: 8 }));
  assert.equal(r.decoder, null);
  assert.match(r.decoderNote ?? '', /trained without GGDR, so its discriminator has no decoder/);
  assert.deepEqual(r.maps.map((m) => m.res), [16], 'no extra resolution for a decoder that does not exist');
  const entry = (await client.stats()).models.find((m) => m.snapshot === snap);
  assert.deepEqual(entry?.parts, ['G_ema'], 'D is not even read');
});

test('bad parameters: clear errors', async () => {
  await assert.rejects(client.call('segment', seg({ resolutions: [32] })), /Resolution 32 is not a generator block of this 16px model/);
  await assert.rejects(client.call('segment', seg({ seeds: [0], resolutions: [4], k: 20, withDecoder: false })), /k=20 clusters but the feature maps have only 16 pixels/);
});

test('across snapshots: one item per snapshot in order, failures reported, progress', async () => {
  const missing = path.join(ggdr.runDir, 'network-snapshot-000999');
  const items: Array<{ name: string; kimg: number; error?: string; n?: number }> = [];
  const progress: number[] = [];
  const r = await client.call('segmentAcross', {
    snapshots: [...ggdr.snapshots, missing], seeds: [0, 1, 2], res: 8, k: 3, metric: 'cosine', psi: 1, kmeansSeed: 0, maxPixels: 20000,
  }, {
    onAcrossItem: (i) => {
      items.push({ name: i.name, kimg: i.kimg, error: i.error, n: i.images?.length });
      if (i.map) checkMap(i.map, 3, 8, 3);
    },
    onProgress: (p) => progress.push(p.done),
  });
  assert.deepEqual(r, { done: 3, failed: 1 });
  assert.deepEqual(items.map((i) => i.kimg).slice(0, 3), [0, 0.008, 0.016]);
  assert.deepEqual(items.slice(0, 3).map((i) => i.n), [3, 3, 3]);
  assert.match(items[3].error ?? '', /Snapshot not found/);
  assert.deepEqual(progress, [0, 1, 2, 3, 4]);
});

test('across snapshots can be cancelled part-way', async () => {
  let seen = 0;
  const snaps = [...ggdr.snapshots, ...ggdr.snapshots, ...ggdr.snapshots];
  const p = client.call('segmentAcross', { snapshots: snaps, seeds: [0, 1], res: 8, k: 3, metric: 'cosine', psi: 1, kmeansSeed: 0, maxPixels: 20000 }, {
    lane: 'seg#1:across',
    onAcrossItem: () => {
      seen++;
      if (seen === 1) client.cancelLane('seg#1:across');
    },
  });
  await assert.rejects(p, (e) => isCancelled(e));
  // The process stops at the next snapshot boundary: one or two more items may be in flight.
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(seen < snaps.length, `stopped after ${seen} of ${snaps.length}`);
  // And it still answers.
  assert.equal((await client.call('segment', seg({ withDecoder: false, resolutions: [8], seeds: [0] }))).images.length, 1);
});

test('releasing frees G and D back to the baseline', async () => {
  for (const s of [...ggdr.snapshots, ...baselineRun.snapshots]) client.retain('seg#9', s);
  const before = await client.stats();
  assert.ok(before.numTensors > baseTensors);
  await client.releaseOwner('seg#9');
  const st = await client.stats();
  assert.deepEqual(st.models, []);
  assert.equal(st.numTensors, baseTensors);
});
