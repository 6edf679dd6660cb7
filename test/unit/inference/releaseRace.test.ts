/**
 * A panel closed while its first render or segmentation is still loading the checkpoint must not leave
 * that checkpoint loaded: the host sends cancel + release as the last holder lets go, and a load that
 * finishes after the release is dropped, not cached. Swept over delays so the release lands before,
 * during and after the load, against the real inference process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InferenceClient } from '../../../src/host/inference/inferenceClient';
import { isCancelled } from '../../../src/host/inference/inferenceClient';
import { newClient, tmpDir, trainTinyRun } from './helpers';

let client: InferenceClient;
let snap = '';
let baseline = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  const { snapshots } = await trainTinyRun(tmpDir('gan-release-race-'));
  snap = snapshots[snapshots.length - 1];
  client = await newClient();
  baseline = (await client.stats()).numTensors;
});

after(() => client?.dispose());

/** Resolves to 'done' or 'cancelled' (a job superseded by the panel's close); other errors reject. */
const outcome = (p: Promise<unknown>) => p.then(() => 'done', (e: unknown) => {
  if (isCancelled(e)) return 'cancelled';
  throw e;
});

/** Waits for every job queued before now (jobs run in arrival order): a segmentAcross walk caches nothing. */
async function drainQueue(): Promise<void> {
  await client.call('segmentAcross', { snapshots: [snap], seeds: [0], res: 8, k: 2, metric: 'cosine', psi: 1, kmeansSeed: 0, maxPixels: 1000 });
}

for (const [kind, start] of [
  ['render', (owner: string) => client.call('render', { snapshot: snap, seeds: [0, 1, 2, 3], which: 'G_ema', psi: 1, noiseMode: 'const', noiseSeed: 0 }, { lane: `${owner}:grid` })],
  ['segment', (owner: string) => client.call('segment', {
    snapshot: snap, seeds: [0, 1], resolutions: [8], k: 3, metric: 'cosine', psi: 1, kmeansSeed: 0, maxPixels: 1000, withDecoder: true, reals: 0,
  }, { lane: `${owner}:segment` })],
] as const) {
  test(`closing during the first ${kind} (release after 0…30 ms) never leaves the checkpoint loaded`, async () => {
    const seen = new Set<string>();
    for (let delay = 0; delay <= 30; delay += 3) {
      const owner = `${kind}-panel-${delay}`;
      client.retain(owner, snap);
      const result = outcome(start(owner));
      await sleep(delay);
      await client.releaseOwner(owner);
      seen.add(await result);
      await drainQueue();
      const st = await client.stats();
      assert.deepEqual(st.models.map((m) => m.snapshot), [], `release ${delay} ms after the request: nothing stays loaded`);
      assert.equal(st.numTensors, baseline, `release ${delay} ms after the request: back to the baseline tensor count`);
    }
    assert.ok(seen.has('cancelled'), `some closes landed while the job ran (outcomes: ${[...seen].join(', ')})`);
  });
}

test('a panel opened after another one closed still gets (and keeps) its model', async () => {
  client.retain('old', snap);
  const first = outcome(client.call('render', { snapshot: snap, seeds: [0], which: 'G_ema', psi: 1, noiseMode: 'const', noiseSeed: 0 }, { lane: 'old:grid' }));
  await client.releaseOwner('old');
  await first;
  client.retain('new', snap);
  const r = await client.call('render', { snapshot: snap, seeds: [0], which: 'G_ema', psi: 1, noiseMode: 'const', noiseSeed: 0 }, { lane: 'new:grid' });
  assert.equal(r.images.length, 1);
  assert.deepEqual((await client.stats()).models.map((m) => m.snapshot), [snap], 'the new panel\'s model is cached');
  await client.releaseOwner('new');
  assert.equal((await client.stats()).numTensors, baseline);
});
