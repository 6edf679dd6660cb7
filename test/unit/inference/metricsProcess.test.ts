/**
 * Compute Metrics off the extension host: the real inference child process (bundled from source,
 * forked) computes FID/KID of a tiny trained snapshot through the typed `computeMetrics` request,
 * with a custom feature model downloaded once from a loopback server into the cache folder the host
 * passes (the extension's global storage), progress and log events, lines appended to the run's
 * metric-*.jsonl; cancellation through an AbortSignal appends nothing and leaves no tensors behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCancelled, type InferenceClient } from '../../../src/host/inference/inferenceClient';
import type { ProgressInfo } from '../../../src/shared/protocol/inference';
import { asMetricLine } from '../../../src/shared/jsonl';
import { modelCacheDir } from '../../../src/core/metrics/tfjsModel';
import { metricFileLines, tinyRunWithServedModel, type ModelServer } from '../metrics/modelFixtures';
import { newClient } from './helpers';

let tmp: string;
let runDir: string;
let snap: string;
let client: InferenceClient;
let server: ModelServer;
let url: string;
let cacheDir: string;
let baseline = 0;
const procLog: string[] = [];

const metricFile = (name: string) => path.join(runDir, `metric-${name}.jsonl`);
const fileLines = (name: string) => metricFileLines(runDir, name);

before(async () => {
  ({ tmp, runDir, snap, server, url } = await tinyRunWithServedModel('gi-mproc-'));
  cacheDir = path.join(tmp, 'global-storage');
  client = await newClient(procLog);
  baseline = (await client.stats()).numTensors;
});

after(async () => {
  client?.dispose();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('computeMetrics in the process: downloads the feature model once, reports progress, appends StyleGAN2-ADA lines', async () => {
  const progress: ProgressInfo[] = [];
  const logs: string[] = [];
  server.requests.length = 0;
  const featureModel = { source: url, name: 'inception_v3' };
  // The run folder is enough: its newest loadable snapshot is evaluated.
  const r = await client.call('computeMetrics', { snapshot: runDir, metrics: ['fid200_inception_v3', 'kid200_inception_v3'], append: true, modelCacheDir: cacheDir, featureModel },
    { onProgress: (p) => progress.push(p), onLog: (l) => logs.push(l) });
  assert.equal(r.snapshot, snap);
  assert.equal(r.runDir, runDir);
  assert.deepEqual(r.lines.map((l) => l.metric), ['fid200_inception_v3', 'kid200_inception_v3']);
  assert.ok(r.lines.every((l) => Number.isFinite(l.results[l.metric]) && l.snapshot_pkl === path.basename(snap)));
  assert.deepEqual(r.appended, [metricFile('fid200_inception_v3'), metricFile('kid200_inception_v3')]);
  for (const l of r.lines) assert.deepEqual(fileLines(l.metric).map((t) => asMetricLine(JSON.parse(t))), [l]);
  assert.match(r.backend, /^(wasm|cpu) /);
  // Downloaded into the cache folder the host passed, with the download in the progress messages.
  assert.deepEqual(server.requests.map((q) => q.split('/').pop()).sort(), ['group1-shard1of1.bin', 'model.json']);
  assert.ok(fs.existsSync(path.join(modelCacheDir(url, cacheDir), 'model.json')));
  assert.ok(progress.some((p) => /^downloading the feature model \(once\): /.test(p.message)), progress.map((p) => p.message).join('\n'));
  assert.ok(progress.some((p) => /fid200_inception_v3, kid200_inception_v3: generated images \d+\/200/.test(p.message)));
  const fr = progress.map((p) => p.done / p.total);
  for (let i = 1; i < fr.length; i++) assert.ok(fr[i] >= fr[i - 1], `progress is monotone (${fr[i - 1]} → ${fr[i]})`);
  assert.equal(fr[fr.length - 1], 1);
  assert.equal(progress[progress.length - 1].message, 'done');
  assert.match(r.extractors[0], /^inception_v3 \(TF\.js graph model, 4-d features at 8×8×3, downloaded now from http/);
  assert.ok(logs.some((l) => l.startsWith('Downloading the feature-extractor model')), logs.join('\n'));
  assert.ok(logs.includes(`Feature extractor ${r.extractors[0]}`));

  // Again: from the cache (no request), same values, and nothing appended with append: false.
  server.requests.length = 0;
  const again = await client.call('computeMetrics', { snapshot: snap, metrics: ['kid200_inception_v3', 'fid200_inception_v3'], append: false, modelCacheDir: cacheDir, featureModel });
  assert.deepEqual(server.requests, []);
  assert.match(again.extractors[0], /cached download of http/);
  assert.deepEqual(again.lines.map((l) => [l.metric, l.results[l.metric]]), [...r.lines].reverse().map((l) => [l.metric, l.results[l.metric]]));
  assert.deepEqual(again.appended, []);
  assert.equal(fileLines('fid200_inception_v3').length, 1);
  assert.equal((await client.stats()).numTensors, baseline, 'the model and the generator were freed');
});

test('cancelling through the AbortSignal stops at a batch boundary: nothing appended, no tensors left, the process stays usable', async () => {
  const ac = new AbortController();
  let aborted = -1;
  const t0 = Date.now();
  const job = client.call('computeMetrics', { snapshot: snap, metrics: ['fid5k_inception_v3'], append: true, modelCacheDir: cacheDir, featureModel: { source: url, name: 'inception_v3' } }, {
    signal: ac.signal,
    onProgress: (p) => {
      if (aborted < 0 && /generated images/.test(p.message)) {
        aborted = Date.now();
        ac.abort();
      }
    },
  });
  await assert.rejects(job, (e) => isCancelled(e));
  assert.ok(aborted > 0, 'aborted while generating');
  // An already-aborted signal never starts the job.
  await assert.rejects(client.call('computeMetrics', { snapshot: snap, metrics: ['fid100_inception_v3'], append: true }, { signal: AbortSignal.abort() }), (e) => isCancelled(e));
  // Jobs run one at a time: this one starts only once the cancelled one has stopped.
  const r = await client.call('computeMetrics', { snapshot: snap, metrics: ['fid100_inception_v3'], append: false, modelCacheDir: cacheDir, featureModel: { source: url, name: 'inception_v3' } });
  assert.ok(Number.isFinite(r.lines[0].results.fid100_inception_v3), 'the process is still usable');
  assert.ok(Date.now() - t0 < 30_000, 'a 5k-sample job stopped early');
  assert.equal((await client.stats()).numTensors, baseline, 'no tensors left by the cancelled job');
  assert.deepEqual(fileLines('fid5k_inception_v3'), [], 'nothing appended');
});

test('errors come back with their message: unknown extractor, offline model, bad snapshot', async () => {
  await assert.rejects(client.call('computeMetrics', { snapshot: snap, metrics: ['fid100_nosuch'], append: true }), /No feature extractor called 'nosuch'/);
  await assert.rejects(client.call('computeMetrics', { snapshot: path.join(runDir, 'network-snapshot-999999'), metrics: ['fid100_lenet'], append: true }), /no readable snapshot\.json|Snapshot not found/);
  const offline = `${server.base.replace(/:\d+$/, ':1')}/x/model.json`;
  await assert.rejects(client.call('computeMetrics', { snapshot: snap, metrics: ['fid100_off'], append: true, modelCacheDir: cacheDir, featureModel: { source: offline, name: 'off' } }),
    /Cannot download model\.json from .*Offline, download model\.json/s);
  assert.deepEqual(fileLines('fid100_off'), []);
});
