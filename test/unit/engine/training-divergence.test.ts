/**
 * Divergence guards: a NaN/Inf loss or gradient (g² overflow included) rolls the step back, and
 * train() names the term, the step and a last good snapshot whose every tensor is finite.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { resolveOptions, type TrainingOverrides } from '../../../src/core/config/options';
import { GanTrainer, NonFiniteLossError } from '../../../src/core/training/trainer';
import { loadTrainerState, readSnapshot, saveSnapshot, NonFiniteStateError } from '../../../src/core/training/snapshot';
import { train } from '../../../src/core/training/trainingLoop';
import { readRun } from '../../../src/core/runs/readRun';
import { TEST_BACKEND, useTestBackend } from './testBackend';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-diverge-'));
before(async () => { await useTestBackend(); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tiny = (over: TrainingOverrides = {}) => resolveOptions({ preset: 'tiny', outdir: tmp, backend: TEST_BACKEND, gridSize: 2, ...over });

/** Every tensor of the trainer (weights, G_ema, optimiser moments) as bytes, plus the counters. */
function stateOf(t: GanTrainer): { bytes: Map<string, Buffer>; step: number; nimg: number; tG: number; tD: number } {
  const bytes = new Map<string, Buffer>();
  for (const [p, set] of [['G', t.G.params], ['G_ema', t.G_ema.params], ['D', t.D.params]] as const) {
    for (const { name, tensor } of set.named()) bytes.set(`${p}/${name}`, Buffer.from(tensor.dataSync().slice().buffer));
  }
  for (const { name, tensor } of [...t.optG.named('optG'), ...t.optD.named('optD')]) bytes.set(name, Buffer.from(tensor.dataSync().slice().buffer));
  return { bytes, step: t.step, nimg: t.nimg, tG: t.optG.t, tD: t.optD.t };
}

function assertSameState(a: ReturnType<typeof stateOf>, b: ReturnType<typeof stateOf>): void {
  assert.deepEqual({ step: b.step, nimg: b.nimg, tG: b.tG, tD: b.tD }, { step: a.step, nimg: a.nimg, tG: a.tG, tD: a.tD });
  assert.equal(b.bytes.size, a.bytes.size);
  for (const [k, v] of a.bytes) assert.ok(v.equals(b.bytes.get(k)!), `${k} changed`);
}

describe('trainStep rolls a failing step back', () => {
  it('a NaN Dmain loss undoes the Gmain update already applied in that step (no half step, no leak)', async () => {
    const t = new GanTrainer(tiny({ model: { r1Interval: 4 } }));
    const good = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
    const nan = tf.fill([4, 16, 16, 1], NaN) as tf.Tensor4D; // Gmain never sees reals: only Dmain fails
    await t.trainStep(good); await t.trainStep(good);
    const before = stateOf(t);
    const count = tf.memory().numTensors;
    await assert.rejects(t.trainStep(nan), (e: unknown) => {
      assert.ok(e instanceof NonFiniteLossError);
      assert.deepEqual([e.term, e.phase, e.kind, e.step], ['Loss/D/loss', 'Dmain', 'loss', 2]);
      return true;
    });
    assert.equal(tf.memory().numTensors, count, 'nothing leaks on the failure path');
    assertSameState(before, stateOf(t));
    // The trainer goes on from the rolled-back state as if the failed call never happened.
    const t2 = new GanTrainer(tiny({ model: { r1Interval: 4 } }));
    await t2.trainStep(good); await t2.trainStep(good);
    await t.trainStep(good); await t2.trainStep(good);
    assertSameState(stateOf(t2), stateOf(t));
    tf.dispose([good, nan]); t.dispose(); t2.dispose();
  });

  it('an overflowing Dreg gradient (finite losses, g² > float32 max) is caught and undoes Gmain and Dmain', async () => {
    // γ = 1e38 scales only the R1 loss: the penalty itself stays finite, its gradient overflows.
    const t = new GanTrainer(tiny({ model: { r1Gamma: 1e38, r1Interval: 2 } }));
    const reals = tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
    const before = stateOf(t);
    await assert.rejects(t.trainStep(reals), (e: unknown) => {
      assert.ok(e instanceof NonFiniteLossError, String(e));
      assert.deepEqual([e.term, e.phase, e.kind, e.step], ['Dreg gradient', 'Dreg', 'gradient', 0]);
      assert.ok(!Number.isFinite(e.value));
      return true;
    });
    assertSameState(before, stateOf(t));
    for (const v of t.optD.stateVars()) assert.ok(v.dataSync().every(Number.isFinite), 'Adam moments stay finite');
    reals.dispose(); t.dispose();
  });

  it('saveSnapshot refuses a state holding NaN/Inf and writes nothing', async () => {
    const t = new GanTrainer(tiny());
    t.D.params.get('b4/out/weight').assign(tf.fill(t.D.params.get('b4/out/weight').shape, Infinity));
    const dir = path.join(tmp, 'refuse');
    fs.mkdirSync(dir);
    await assert.rejects(saveSnapshot(dir, 'network-snapshot-000000', t, { tick: 0, backend: { name: 'x' } }), (e: unknown) => {
      assert.ok(e instanceof NonFiniteStateError);
      assert.ok(e.names.includes('D/b4/out/weight'), e.names.join());
      return true;
    });
    assert.deepEqual(fs.readdirSync(dir), []);
    t.dispose();
  });
});

describe('train() on a diverging run', () => {
  /** Checks the failure contract; returns the failing step and the named snapshot's nimg. */
  async function checkFailure(over: TrainingOverrides, termRe: RegExp): Promise<{ step: number; nimg: number; snap: string }> {
    const o = tiny(over);
    const r = await train({ options: o });
    assert.equal(r.state, 'failed', 'the run must fail');
    assert.equal(r.userError, true);
    const m = /^Training diverged at step (\d+) \(kimg [\d.]+\): (.*)$/.exec(r.error!);
    assert.ok(m, r.error);
    const step = Number(m[1]);
    assert.match(m[2], termRe);
    const snap = r.latestSnapshot!;
    assert.ok(r.error!.includes(snap), `the message names the last good snapshot ${snap}: ${r.error}`);
    // status.json: failed with that message.
    const status = JSON.parse(fs.readFileSync(path.join(r.runDir!, 'status.json'), 'utf8'));
    assert.equal(status.state, 'failed');
    assert.equal(status.lastError, r.error);
    assert.equal(status.latestSnapshot, snap);
    assert.equal((await readRun(r.runDir!)).state, 'failed');
    // The named snapshot loads into a trainer, every tensor is finite, and it is not past the failing step.
    const { meta, tensors } = await readSnapshot(path.join(r.runDir!, snap));
    const bad = Object.entries(tensors).filter(([, t]) => !t.dataSync().every(Number.isFinite)).map(([k]) => k);
    tf.dispose(Object.values(tensors));
    assert.deepEqual(bad, [], 'non-finite tensors in the last good snapshot');
    assert.ok(meta.nimg <= step * o.model.batch, `snapshot nimg ${meta.nimg} > failing step ${step} × batch`);
    assert.equal(meta.backend.name, tf.getBackend());
    assert.ok(meta.backend.version, 'the real backend info is recorded');
    const t = new GanTrainer(meta.options);
    await loadTrainerState(t, path.join(r.runDir!, snap));
    t.dispose();
    return { step, nimg: meta.nimg, snap };
  }

  it('glr = dlr = 300: names the step and term; the named snapshot is finite and not past that step', async () => {
    await checkFailure({ model: { glr: 300, dlr: 300 } }, /^(Loss\/[A-Za-z/_0-9]+ became (NaN|-?Infinity)|the (Gmain|Dmain|Dreg) gradient became (NaN|-?Infinity))/);
  });

  it('glr = dlr = 10: a gradient overflow with finite losses fails the run and saves the finite state before it', async () => {
    const { step, nimg, snap } = await checkFailure({ model: { glr: 10, dlr: 10 } }, /^the (Gmain|Dmain|Dreg) gradient became (NaN|-?Infinity)/);
    if (step > 0) {
      assert.equal(nimg, step * 4, 'the in-memory state (after the previous step) was saved');
      assert.notEqual(snap, 'network-snapshot-000000');
    }
  });
});
