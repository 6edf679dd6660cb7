/**
 * The inference child process for real (bundled from source, forked) on a tiny run trained in the test:
 * rendering, ψ changes without reloading, lanes and cancellation, release back to the tensor
 * baseline, interpolation end points, PNG export, and clear errors for bad snapshots.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCancelled, type InferenceClient } from '../../../src/host/inference/inferenceClient';
import { describeSnapshot } from '../../../src/host/inference/snapshotInfo';
import type { GenParams } from '../../../src/shared/protocol/inference';
import { decodeDataUrl, newClient, tmpDir, trainTinyRun } from './helpers';

let runDir = '';
let snap = '';
let client: InferenceClient;
let baseline = 0;
const log: string[] = [];
const gen = (over: Partial<GenParams> = {}): GenParams => ({ snapshot: snap, which: 'G_ema', psi: 1, noiseMode: 'const', noiseSeed: 0, ...over });
const seeds = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

before(async () => {
  const r = await trainTinyRun(tmpDir('gi-inf-'));
  runDir = r.runDir;
  snap = r.snapshots[r.snapshots.length - 1];
  client = await newClient(log);
  // After the backend started and before any checkpoint is loaded: the process's tensor baseline.
  baseline = (await client.stats()).numTensors;
});

after(() => client?.dispose());

test('render: one PNG per seed, deterministic, the checkpoint read once', async () => {
  const progress: number[] = [];
  const a = await client.call('render', { ...gen(), seeds: seeds(16) }, { onProgress: (p) => progress.push(p.done) });
  assert.equal(a.images.length, 16);
  assert.deepEqual(a.images.map((i) => i.seed), seeds(16));
  assert.equal(a.loaded, true);
  assert.equal(a.resolution, 16);
  const img = decodeDataUrl(a.images[3].src);
  assert.deepEqual([img.width, img.height, img.channels], [16, 16, 1]);
  assert.ok(new Set(a.images.map((i) => i.src)).size > 1, 'different seeds give different samples');
  assert.deepEqual(progress, [16], 'progress after each batch');
  const b = await client.call('render', { ...gen(), seeds: seeds(16) });
  assert.equal(b.loaded, false);
  assert.deepEqual(b.images, a.images, 'same seeds → same images');
  const st = await client.stats();
  assert.equal(st.models.length, 1);
  assert.equal(st.models[0].loads, 1);
  assert.deepEqual(st.models[0].parts, ['G_ema']);
});

test('changing ψ re-renders without reloading; ψ = 0 maps every seed to w_avg', async () => {
  const one = await client.call('render', { ...gen({ psi: 1 }), seeds: seeds(8) });
  const half = await client.call('render', { ...gen({ psi: 0.5 }), seeds: seeds(8) });
  const zero = await client.call('render', { ...gen({ psi: 0 }), seeds: seeds(8) });
  assert.equal(half.loaded, false);
  assert.equal(zero.loaded, false);
  assert.ok(half.images.some((im, i) => im.src !== one.images[i].src), 'ψ changes the samples');
  assert.equal(new Set(zero.images.map((i) => i.src)).size, 1, 'ψ = 0: one image for all seeds (const noise)');
  assert.ok(new Set(one.images.map((i) => i.src)).size > 1);
  const st = await client.stats();
  assert.equal(st.models[0].loads, 1, 'still loaded once');
  // G (not G_ema) is a second read of the same checkpoint, then cached too.
  const g = await client.call('render', { ...gen({ which: 'G' }), seeds: seeds(4) });
  assert.equal(g.loaded, true);
  assert.equal((await client.call('render', { ...gen({ which: 'G', psi: 0.7 }), seeds: seeds(4) })).loaded, false);
  assert.equal((await client.stats()).models[0].loads, 2);
});

test('random noise depends on the noise seed; const noise does not', async () => {
  const c0 = await client.call('render', { ...gen({ noiseMode: 'const', noiseSeed: 0 }), seeds: seeds(4) });
  const c1 = await client.call('render', { ...gen({ noiseMode: 'const', noiseSeed: 1 }), seeds: seeds(4) });
  const r0 = await client.call('render', { ...gen({ noiseMode: 'random', noiseSeed: 0 }), seeds: seeds(4) });
  const r0b = await client.call('render', { ...gen({ noiseMode: 'random', noiseSeed: 0 }), seeds: seeds(4) });
  const r1 = await client.call('render', { ...gen({ noiseMode: 'random', noiseSeed: 1 }), seeds: seeds(4) });
  assert.deepEqual(c1.images, c0.images, 'const noise ignores the noise seed');
  assert.deepEqual(r0b.images, r0.images, 'same noise seed → same images');
  assert.ok(r0.images.every((im, i) => im.src !== c0.images[i].src), 'random differs from const noise');
  assert.ok(r1.images.some((im, i) => im.src !== r0.images[i].src), 'another noise seed → other images');
});

test('a newer request on the same lane cancels the one in flight', async () => {
  const seen: number[] = [];
  let started!: () => void;
  const firstBatch = new Promise<void>((r) => (started = r));
  const first = client.call('render', { ...gen({ psi: 0.9 }), seeds: seeds(256) }, { lane: 'viewer#1:grid', onProgress: (p) => { seen.push(p.done); started(); } });
  // Supersede it once it is certainly running (after its first batch).
  await firstBatch;
  const second = client.call('render', { ...gen({ psi: 0.8 }), seeds: seeds(4) }, { lane: 'viewer#1:grid' });
  await assert.rejects(first, (e) => isCancelled(e));
  const r = await second;
  assert.equal(r.images.length, 4);
  assert.ok(Math.max(0, ...seen) < 256, `the superseded render stopped early (reached ${Math.max(0, ...seen)}/256)`);
  // A job cancelled while still queued is answered at once, and the one ahead of it completes.
  const ahead = client.call('render', { ...gen(), seeds: seeds(64) }, { lane: 'a' });
  const queued = client.call('render', { ...gen(), seeds: seeds(64) }, { lane: 'b' });
  client.cancelLane('b');
  await assert.rejects(queued, (e) => isCancelled(e));
  assert.equal((await ahead).images.length, 64);
  // Other lanes are independent.
  const [x, y] = await Promise.all([
    client.call('render', { ...gen(), seeds: [1] }, { lane: 'viewer#1:grid' }),
    client.call('interpolate', { ...gen(), seedA: 1, seedB: 2, steps: 3, mode: 'lerp' }, { lane: 'viewer#1:interp' }),
  ]);
  assert.equal(x.images.length, 1);
  assert.equal(y.frames.length, 3);
});

test('interpolation: the end frames are the two seeds; slerp and lerp differ in between', async () => {
  const ends = await client.call('render', { ...gen(), seeds: [3, 11] });
  const s = await client.call('interpolate', { ...gen(), seedA: 3, seedB: 11, steps: 5, mode: 'slerp' });
  const l = await client.call('interpolate', { ...gen(), seedA: 3, seedB: 11, steps: 5, mode: 'lerp' });
  assert.deepEqual(s.frames.map((f) => f.t), [0, 0.25, 0.5, 0.75, 1]);
  for (const r of [s, l]) {
    assert.equal(r.frames[0].src, ends.images[0].src);
    assert.equal(r.frames[4].src, ends.images[1].src);
  }
  assert.equal(s.mode, 'slerp');
  assert.ok(s.frames.slice(1, 4).some((f, i) => f.src !== l.frames[i + 1].src), 'slerp and lerp paths differ');
});

test('exportGrid writes the PNG atomically where asked', async () => {
  const file = path.join(runDir, 'viewer-test-grid.png');
  const r = await client.call('exportGrid', { ...gen({ psi: 0.7 }), seeds: seeds(6), cols: 3, file });
  assert.equal(r.file, file);
  const img = decodeDataUrl(`data:image/png;base64,${fs.readFileSync(file).toString('base64')}`);
  assert.deepEqual([img.width, img.height], [48, 32]);
  assert.deepEqual(fs.readdirSync(runDir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  await assert.rejects(client.call('exportGrid', { ...gen(), seeds: [0], cols: 1, file: 'relative.png' }), /absolute/);
});

test('releasing the last holder frees every tensor of the checkpoint', async () => {
  const loaded = await client.stats();
  assert.ok(loaded.numTensors > baseline, 'models hold tensors');
  client.retain('viewer#1', snap);
  client.retain('seg#1', snap);
  assert.deepEqual(await client.releaseOwner('viewer#1'), [], 'another panel still holds it');
  assert.equal((await client.stats()).models.length, 1);
  assert.deepEqual(await client.releaseOwner('seg#1'), [path.resolve(snap)]);
  const st = await client.stats();
  assert.equal(st.models.length, 0);
  assert.equal(st.numTensors, baseline, 'back to the baseline tensor count');
  // The next render reads it again.
  const r = await client.call('render', { ...gen(), seeds: [0] });
  assert.equal(r.loaded, true);
  client.retain('viewer#2', snap);
  await client.releaseOwner('viewer#2');
  assert.equal((await client.stats()).numTensors, baseline);
});

test('bad snapshots: clear errors from the process and from the host-side description', async () => {
  const bad = tmpDir('gi-inf-bad-');
  // Truncated weights.
  const trunc = path.join(bad, 'network-snapshot-000001');
  fs.cpSync(snap, trunc, { recursive: true });
  const w = path.join(trunc, 'weights.bin');
  fs.truncateSync(w, Math.floor(fs.statSync(w).size / 2));
  await assert.rejects(client.call('render', { ...gen({ snapshot: trunc }), seeds: [0] }), /truncated or corrupt/);
  assert.match((await describeSnapshot(path.join(trunc, 'snapshot.json'))).error ?? '', /cannot be loaded: incomplete snapshot/);
  // Missing folder.
  const missing = path.join(bad, 'network-snapshot-000099');
  await assert.rejects(client.call('render', { ...gen({ snapshot: missing }), seeds: [0] }), /Snapshot not found/);
  assert.match((await describeSnapshot(missing)).error ?? '', /not found or incomplete/);
  // A .pkl that is not a pickle (official pickles themselves load: test/unit/official).
  const pkl = path.join(bad, 'network-snapshot-000200.pkl');
  fs.writeFileSync(pkl, 'not really a pickle');
  await assert.rejects(client.call('render', { ...gen({ snapshot: pkl }), seeds: [0] }), /network-snapshot-000200\.pkl: not a pickle/);
  assert.match((await describeSnapshot(pkl)).error ?? '', /network-snapshot-000200\.pkl cannot be opened: .*not a pickle/);
  // Corrupt snapshot.json.
  const corrupt = path.join(bad, 'network-snapshot-000002');
  fs.cpSync(snap, corrupt, { recursive: true });
  fs.writeFileSync(path.join(corrupt, 'snapshot.json'), '{"format": "gan-insp');
  await assert.rejects(client.call('render', { ...gen({ snapshot: corrupt }), seeds: [0] }), /corrupt \(not valid JSON\)/);
  // None of that left anything in the cache, and the process still works.
  assert.deepEqual((await client.stats()).models.map((m) => m.snapshot), []);
  assert.equal((await client.call('render', { ...gen(), seeds: [0] })).images.length, 1);
  await client.releaseOwner('nobody');
  client.retain('t', snap);
  await client.releaseOwner('t');
});

test('the good snapshot is described from snapshot.json (no tfjs on the host side)', async () => {
  const i = await describeSnapshot(path.join(snap, 'snapshot.json'));
  assert.equal(i.error, undefined);
  assert.equal(i.dir, snap);
  assert.equal(i.runDir, runDir);
  assert.equal(i.resolution, 16);
  assert.equal(i.kimg, 0.016);
  assert.deepEqual(i.ggdr, { res: 8, weight: 10 });
  assert.deepEqual(i.blockResolutions, [4, 8, 16]);
});

test('invalid messages are rejected by the process, and a crash is reported then recovered from', async () => {
  // A request that fails the process's validators (ψ out of range) comes back as an error reply.
  await assert.rejects(client.call('render', { ...gen({ psi: 99 }), seeds: [0] }), /Invalid parameters for 'render'/);
  await assert.rejects(client.call('render', { ...gen(), seeds: [] }), /Invalid parameters/);
  const pid = client.pid!;
  const pending = client.call('render', { ...gen(), seeds: seeds(256) });
  process.kill(pid, 'SIGKILL');
  await assert.rejects(pending, /inference process was killed by SIGKILL/);
  const r = await client.call('render', { ...gen(), seeds: [0] });
  assert.equal(r.loaded, true, 'a fresh process reads the checkpoint again');
  assert.notEqual(client.pid, pid);
});
