import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { resolveOptions } from '../../../src/core/config/options';
import { r1Penalty } from '../../../src/core/training/losses';
import { GanTrainer } from '../../../src/core/training/trainer';
import { loadTrainerState, readSnapshot, saveSnapshot } from '../../../src/core/training/snapshot';
import { train } from '../../../src/core/training/trainingLoop';
import { loadOrTrainLenet } from '../../../src/core/metrics/lenet';
import { readStats } from '../../../src/core/runs/jsonlRead';
import { readRun } from '../../../src/core/runs/readRun';
import type { StatsLine, StatValue } from '../../../src/shared/runTypes';
import { strToU8, zipSync } from 'fflate';
import { TEST_BACKEND, useTestBackend } from './testBackend';

/** Progress/kimg of each stats line. */
const kimgs = (lines: StatsLine[]) => lines.map((l) => (l['Progress/kimg'] as StatValue).mean);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-train-'));
before(async () => { await useTestBackend(); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A very small model so whole runs take seconds. */
const small = (extra: Parameters<typeof resolveOptions>[0] = {}) => resolveOptions({
  preset: 'tiny', outdir: tmp, backend: TEST_BACKEND,
  model: { channelMax: 8, batch: 4, kimgPerTick: 0.008, r1Interval: 2 }, kimg: 0.024, gridSize: 2, ...extra,
});

describe('R1 penalty', () => {
  it('equals a finite-difference estimate of ‖∇x D(x)‖²', () => {
    const o = small();
    const t = new GanTrainer(o);
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const f = (xx: tf.Tensor4D) => t.D.apply(xx).logits;
    const pen = r1Penalty(f, x).dataSync();
    // D(x) of one sample depends on the others (minibatch stddev), so differentiate the batch sum
    // along the full gradient direction u = g/|g|: (ΣD(x+εu) − ΣD(x−εu)) / 2ε ≈ |g|, and |g|² = Σ R1.
    const g = tf.grad((xx: tf.Tensor) => tf.sum(f(xx as tf.Tensor4D)))(x);
    const norm = Math.sqrt(tf.sum(tf.square(g)).dataSync()[0]);
    const u = tf.div(g, norm);
    const eps = 1e-3;
    const up = tf.sum(f(tf.add(x, tf.mul(u, eps)) as tf.Tensor4D)).dataSync()[0];
    const dn = tf.sum(f(tf.sub(x, tf.mul(u, eps)) as tf.Tensor4D)).dataSync()[0];
    const fd = (up - dn) / (2 * eps);
    const total = pen[0] + pen[1];
    const rel = Math.abs(fd * fd - total) / total;
    assert.ok(rel < 0.02, `R1 ${total} vs finite difference ${fd * fd} (rel ${rel})`);
    t.dispose();
  });

  it('is differentiable with respect to D (second-order gradient is non-zero)', () => {
    const t = new GanTrainer(small());
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(() => tf.mean(r1Penalty((xx) => t.D.apply(xx).logits, x)) as tf.Scalar, t.D.encoderVars());
    const total = Object.values(grads).reduce((s, g) => s + tf.sum(tf.abs(g)).dataSync()[0], 0);
    assert.ok(total > 0 && Number.isFinite(total));
    tf.dispose([value, x, ...Object.values(grads)]);
    t.dispose();
  });
});

describe('training step', () => {
  it('leaks no tensors: the count is constant across steps (GGDR on and off, with R1 steps)', async () => {
    for (const enabled of [true, false]) {
      const o = small({ ggdr: { enabled } });
      const t = new GanTrainer(o);
      const reals = tf.randomUniform([4, 16, 16, 1], -1, 1) as tf.Tensor4D;
      await t.trainStep(reals); await t.trainStep(reals);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) await t.trainStep(reals); // includes R1 (interval 2) steps
      assert.equal(tf.memory().numTensors, before, `GGDR ${enabled}`);
      reals.dispose();
      t.dispose();
    }
  });

  it('a disposed trainer leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const t = new GanTrainer(small());
    const reals = tf.randomUniform([4, 16, 16, 1], -1, 1) as tf.Tensor4D;
    await t.trainStep(reals);
    reals.dispose();
    t.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('is deterministic given the seed', async () => {
    const run = async () => {
      const t = new GanTrainer(small());
      const reals = tf.tensor4d(Float32Array.from({ length: 4 * 256 }, (_, i) => Math.sin(i)), [4, 16, 16, 1]);
      const s1 = await t.trainStep(reals), s2 = await t.trainStep(reals);
      const w = t.G.params.get('synthesis/b16/conv1/weight').dataSync().slice();
      reals.dispose(); t.dispose();
      return { g: Array.from(s2['Loss/G/loss'] as Float32Array), d: Array.from(s1['Loss/D/loss'] as Float32Array), w };
    };
    const a = await run(), b = await run();
    assert.deepEqual(a.g, b.g);
    assert.deepEqual(a.d, b.d);
    assert.deepEqual(a.w, b.w);
  });

  it('a snapshot round-trips bit-exactly (weights, G_ema, D, optimiser state)', async () => {
    const o = small();
    const t = new GanTrainer(o);
    const reals = tf.randomUniform([4, 16, 16, 1], -1, 1) as tf.Tensor4D;
    await t.trainStep(reals); await t.trainStep(reals);
    const dir = path.join(tmp, 'roundtrip');
    fs.mkdirSync(dir);
    await saveSnapshot(dir, 'network-snapshot-000000', t, { tick: 1, backend: { name: tf.getBackend() } });
    const t2 = new GanTrainer(o); // same options: the step RNG derives from the seed; weights differ (t has trained)
    await loadTrainerState(t2, path.join(dir, 'network-snapshot-000000'));
    for (const [a, b] of [[t.G, t2.G], [t.G_ema, t2.G_ema], [t.D, t2.D]] as const) {
      for (const [name, v] of a.params.vars) {
        assert.deepEqual(Buffer.from(v.dataSync().buffer), Buffer.from(b.params.get(name).dataSync().buffer), name);
      }
    }
    assert.equal(t2.step, 2);
    assert.equal(t2.optD.t, t.optD.t);
    // One more identical step on both gives identical weights: the optimiser state came back too.
    await t.trainStep(reals); await t2.trainStep(reals);
    assert.deepEqual(t.D.params.get('b4/out/weight').dataSync(), t2.D.params.get('b4/out/weight').dataSync());
    reals.dispose(); t.dispose(); t2.dispose();
  });

  it('a truncated weights file is reported, not crashed on', async () => {
    const t = new GanTrainer(small());
    const dir = path.join(tmp, 'trunc');
    fs.mkdirSync(dir);
    const snap = await saveSnapshot(dir, 'network-snapshot-000000', t, { tick: 0, backend: { name: 'x' } });
    t.dispose();
    const wb = path.join(snap, 'weights.bin');
    fs.truncateSync(wb, fs.statSync(wb).size - 100);
    await assert.rejects(readSnapshot(snap), /truncated or corrupt/);
    fs.writeFileSync(path.join(snap, 'snapshot.json'), '{"format": "gan-insp');
    await assert.rejects(readSnapshot(snap), /corrupt/);
  });
});

describe('training loop and run folder', () => {
  it('writes the run folder contract and resume reproduces the uninterrupted stats (stopped mid-tick or at a tick)', async () => {
    // Ticks of 0.016 kimg (4 steps of 4), 0.048 kimg in all.
    const o = small({ model: { channelMax: 8, batch: 4, kimgPerTick: 0.016, r1Interval: 2 }, kimg: 0.048 });
    const full = await train({ options: o });
    assert.equal(full.state, 'finished', full.error);
    const files = fs.readdirSync(full.runDir!);
    for (const f of ['training_options.json', 'log.txt', 'stats.jsonl', 'status.json', 'reals.png', 'fakes_init.png']) assert.ok(files.includes(f), f);
    // log.txt in the order the lines were logged (appends are serialised), complete when train() returns.
    const log = fs.readFileSync(path.join(full.runDir!, 'log.txt'), 'utf8').split('\n');
    assert.equal(log[0], `Run folder: ${full.runDir}`);
    assert.match(log[1], /^Backend: /);
    assert.match(log[2], /^Dataset: /);
    assert.match(log[3], /^G: \d+ parameters/);
    assert.equal(log[log.length - 1], '', 'ends with a newline');
    const run = await readRun(full.runDir!);
    assert.equal(run.state, 'finished');
    assert.equal(run.ggdr, true);
    assert.ok(run.snapshots.filter((s) => s.loadable).length >= 3, JSON.stringify(run.snapshots.map((s) => s.name)));
    const stats = (await readStats(path.join(full.runDir!, 'stats.jsonl'))).lines;
    assert.deepEqual(kimgs(stats), [0.016, 0.032, 0.048]);
    assert.ok('Loss/D/ggdr' in stats[0] && 'Loss/G/loss' in stats[0] && 'Loss/r1_penalty' in stats[0]);
    const compared = (l: (typeof stats)[number]) => Object.keys(l).filter((k) => k.startsWith('Loss/') || k.startsWith('Progress/')).sort();

    // Interrupted runs: stop mid-tick (0.024, half of tick 2) or at a tick boundary (0.016), then resume.
    for (const stopAt of [0.024, 0.016]) {
      const ac = new AbortController();
      const part = await train({ options: o }, { signal: ac.signal, onProgress: (p) => { if (p.curKimg >= stopAt - 1e-9) ac.abort(); }, progressIntervalMs: 0 });
      assert.equal(part.state, 'stopped');
      assert.equal(part.curKimg, stopAt);
      assert.equal((await readRun(part.runDir!)).state, 'stopped');
      const resumed = await train({ resumeDir: part.runDir! }, {});
      assert.equal(resumed.state, 'finished', resumed.error);
      const stats2 = (await readStats(path.join(part.runDir!, 'stats.jsonl'))).lines;
      assert.deepEqual(kimgs(stats2), [0.016, 0.032, 0.048], `stop at ${stopAt}`);
      for (let i = 0; i < stats.length; i++) {
        assert.deepEqual(compared(stats2[i]), compared(stats[i]), `stop at ${stopAt}, line ${i} keys`);
        for (const key of compared(stats[i])) assert.deepEqual(stats2[i][key], stats[i][key], `stop at ${stopAt}, line ${i} ${key}`);
      }
    }
  });

  it('resumes snapshots of older versions (no loop state in snapshot.json): a fresh tick from the snapshot', async () => {
    const o = small({ model: { channelMax: 8, batch: 4, kimgPerTick: 0.016, r1Interval: 2 }, kimg: 0.032 });
    const ac = new AbortController();
    const part = await train({ options: o }, { signal: ac.signal, onProgress: (p) => { if (p.curKimg >= 0.024 - 1e-9) ac.abort(); }, progressIntervalMs: 0 });
    assert.equal(part.state, 'stopped');
    const metaFile = path.join(part.runDir!, part.latestSnapshot!, 'snapshot.json');
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    assert.equal(meta.loop.tickStartNimg, 16);
    assert.equal(meta.loop.pendingStats['Loss/G/loss'].num, 8, 'the partial tick (2 steps × 4) is saved');
    delete meta.loop;
    delete meta.options.metricsKimg;
    fs.writeFileSync(metaFile, JSON.stringify(meta));
    const resumed = await train({ resumeDir: part.runDir! }, {});
    assert.equal(resumed.state, 'finished', resumed.error);
    assert.deepEqual(kimgs((await readStats(path.join(part.runDir!, 'stats.jsonl'))).lines), [0.016, 0.032]);
  });

  it('computes metrics at the metricsKimg cadence into metric-<name>.jsonl (StyleGAN2-ADA line format)', async () => {
    // Snapshots at 8, 16, 24, 32, 40 images; metrics every 12 images: at 16, 24 and the final 40.
    const o = small({ metrics: ['fid200_lenet', 'kid200_lenet'], metricsKimg: 0.012, kimg: 0.040 });
    // A LeNet trained briefly (as the metrics tests do): the real extractor, without a full training per test run.
    const lenet = await loadOrTrainLenet({ cacheDir: path.join(tmp, 'lenet-cache'), config: { trainCount: 1000, epochs: 1 } });
    const r = await train({ options: o }, { extractors: [lenet] });
    lenet.dispose();
    assert.equal(r.state, 'finished', r.error);
    for (const name of ['fid200_lenet', 'kid200_lenet']) {
      const lines = fs.readFileSync(path.join(r.runDir!, `metric-${name}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.snapshot_pkl), ['network-snapshot-000000.016', 'network-snapshot-000000.024', 'network-snapshot-000000.040'], name);
      for (const l of lines) {
        assert.deepEqual(Object.keys(l).sort(), ['metric', 'num_gpus', 'results', 'snapshot_pkl', 'timestamp', 'total_time', 'total_time_str']);
        assert.equal(l.metric, name);
        assert.ok(Number.isFinite(l.results[name]));
        assert.ok(fs.existsSync(path.join(r.runDir!, l.snapshot_pkl)), l.snapshot_pkl);
      }
    }
    const bad = await train({ options: small({ metrics: ['fid_bogus'] }) });
    assert.equal(bad.state, 'failed');
    assert.equal(bad.runDir, null, 'a bad metric name fails before a run folder is made');
    assert.match(bad.error!, /metric/i);
  });

  it('a bad dataset fails clearly and leaves no run folder behind', async () => {
    const out = path.join(tmp, 'bad-data-runs');
    const empty = path.join(tmp, 'empty-folder');
    fs.mkdirSync(empty);
    const notDataset = path.join(tmp, 'not-a-dataset.zip');
    fs.writeFileSync(notDataset, zipSync({ 'readme.txt': strToU8('no images here') }));
    for (const [data, re] of [
      [path.join(tmp, 'no-such-folder'), /no-such-folder/],
      [empty, /empty-folder/],
      [notDataset, /not a dataset zip/],
    ] as const) {
      const r = await train({ options: small({ data, outdir: out }) });
      assert.equal(r.state, 'failed', data);
      assert.equal(r.userError, true, data);
      assert.match(r.error!, re);
      assert.equal(r.runDir, null, `${data}: no run folder`);
      assert.deepEqual(fs.existsSync(out) ? fs.readdirSync(out).filter((n) => !n.startsWith('.')) : [], [], `${data}: nothing left in outdir`);
    }
  });
});
