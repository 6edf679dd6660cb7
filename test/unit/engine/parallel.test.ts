/**
 * Data-parallel training (src/core/training/parallel): worker threads with their own wasm backend,
 * each computing its rows of the batch; gradients summed in worker order; one optimiser step per
 * phase in every worker. Checks: the workers' states are bit-identical after every step and equal
 * the coordinator's after a sync; the same worker count gives bit-identical results run to run; with
 * the minibatch-stddev statistic out of the way (group 1) two workers compute what one does (to float
 * rounding); the worker count is resolved, recorded and resumed; a worker that dies fails the run
 * cleanly (status, message, last good snapshot kept and loadable).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { resolveOptions, type TrainingOptions } from '../../../src/core/config/options';
import { GanTrainer } from '../../../src/core/training/trainer';
import { loadTrainerState } from '../../../src/core/training/snapshot';
import { train } from '../../../src/core/training/trainingLoop';
import { ParallelTrainer, ReplicaFailedError } from '../../../src/core/training/parallel/parallelTrainer';
import { readTrainerState, sameState } from '../../../src/core/training/parallel/trainerState';
import { autoWorkers, resolveWorkers, shardRows, withWorkers } from '../../../src/core/config/workers';
import { TEST_BACKEND, useTestBackend } from './testBackend';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-parallel-'));
before(async () => { await useTestBackend(); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** tiny at batch 4: two workers compute 2 images each. */
const small = (extra: Parameters<typeof resolveOptions>[0] = {}) => resolveOptions({
  preset: 'tiny', outdir: tmp, backend: TEST_BACKEND, metrics: [],
  model: { channelMax: 8, batch: 4, kimgPerTick: 0.008, r1Interval: 2, ...(extra.model ?? {}) }, kimg: 0.024, gridSize: 2, ...extra,
});

function realsFor(o: TrainingOptions, step: number): tf.Tensor4D {
  const R = o.model.resolution, n = o.model.batch;
  return tf.tensor4d(Float32Array.from({ length: n * R * R }, (_, i) => Math.sin(i * 0.37 + step)), [n, R, R, 1]);
}

async function stepBoth(t: { trainStep(r: tf.Tensor4D): Promise<unknown> }, o: TrainingOptions, steps: number, after?: (i: number) => Promise<void>) {
  for (let i = 0; i < steps; i++) {
    const r = realsFor(o, i);
    try { await t.trainStep(r); } finally { r.dispose(); }
    await after?.(i);
  }
}

describe('worker count', () => {
  it('auto = the cores, capped so each worker holds a whole minibatch-stddev group', () => {
    assert.equal(autoWorkers({ batch: 16, mbstdGroup: 4 }, 2), 2);
    assert.equal(autoWorkers({ batch: 16, mbstdGroup: 4 }, 16), 4);
    assert.equal(autoWorkers({ batch: 4, mbstdGroup: 4 }, 8), 1, 'tiny stays on one thread');
    assert.equal(autoWorkers({ batch: 3, mbstdGroup: 8 }, 8), 1);
    assert.equal(autoWorkers({ batch: 16, mbstdGroup: 1 }, 1), 1);
  });

  it('splits a batch into contiguous, as-even-as-possible rows', () => {
    assert.deepEqual([0, 1].map((i) => shardRows(16, 2, i)), [{ start: 0, count: 8 }, { start: 8, count: 8 }]);
    assert.deepEqual([0, 1, 2].map((i) => shardRows(16, 3, i)), [{ start: 0, count: 6 }, { start: 6, count: 5 }, { start: 11, count: 5 }]);
  });

  it('is validated, resolved per backend, recorded only when > 1 (a stored run without it trained on one thread)', () => {
    assert.equal(resolveOptions({ preset: 'mnist32' }).workers, undefined, 'default: unset = auto for a new run');
    assert.equal(resolveOptions({ preset: 'mnist32', workers: 0 }).workers, 0);
    assert.throws(() => resolveOptions({ preset: 'tiny', workers: 5 }), /workers 5 > batch 4/);
    assert.throws(() => resolveOptions({ preset: 'tiny', workers: 1.5 }), /Invalid option: workers/);
    const mn = resolveOptions({ preset: 'mnist32' });
    assert.equal(resolveWorkers(mn, { name: 'wasm' }, 0, 2).workers, 2);
    assert.equal(resolveWorkers(mn, { name: 'wasm' }, 1, 2).workers, 1, 'a stored run without the field');
    assert.equal(resolveWorkers({ ...mn, workers: 0 }, { name: 'cpu' }, 1, 2).workers, 2);
    assert.equal(resolveWorkers(mn, { name: 'tensorflow' }, 0, 16).workers, 1, 'tfjs-node already uses every core');
    assert.throws(() => resolveWorkers({ ...mn, workers: 2 }, { name: 'webgpu' }), /needs the wasm or cpu backend/);
    assert.match(resolveWorkers({ ...mn, workers: 3 }, { name: 'wasm' }).note, /Workers: 3 threads, data-parallel \(6\/5\/5 images/);
    assert.equal(withWorkers(mn, 1).workers, undefined);
    assert.ok(!('workers' in withWorkers({ ...mn, workers: 0 }, 1)));
    assert.equal(withWorkers(mn, 2).workers, 2);
  });
});

describe('--workers on the command line', () => {
  it('is parsed, validated and shown by --dry-run (unset: not in the options)', async () => {
    const { main } = await import('../../../src/cli/main');
    const run = async (...argv: string[]) => {
      let out = '';
      const code = await main(['train', '--dry-run', '--preset', 'tiny', ...argv], { out: (s) => { out += s; }, err: () => undefined, tty: false });
      return { code, opts: JSON.parse(out) as TrainingOptions };
    };
    assert.equal((await run('--workers', '2')).opts.workers, 2);
    assert.equal((await run('--workers', '0')).opts.workers, 0);
    assert.ok(!('workers' in (await run()).opts));
    await assert.rejects(run('--workers', '9'), /workers 9 > batch 4/);
    await assert.rejects(run('--workers', '-1'), /--workers -1 is not a valid integer ≥ 0/);
  });
});

describe('ParallelTrainer (2 worker threads)', () => {
  it('keeps every worker bit-identical after each step, and the coordinator equal to them after sync', async () => {
    const o = small({ augment: { xflip: true, translate: 0 } });
    const t = new GanTrainer(o);
    const p = await ParallelTrainer.start(t, 2, TEST_BACKEND);
    try {
      assert.equal(p.threadIds.length, 2);
      await stepBoth(p, o, 5, async (i) => {
        const [a, b] = await p.states();
        assert.equal(a.step, i + 1);
        assert.ok(sameState(a, b), `workers differ after step ${i}`);
      });
      assert.equal(t.step, 5);
      assert.equal(t.nimg, 20);
      await p.sync();
      const [w0] = await p.states();
      assert.ok(sameState(await readTrainerState(t), w0), 'coordinator = worker 1 after sync');
    } finally {
      await p.dispose();
      t.dispose();
    }
  });

  it('is deterministic for a given worker count (two runs, bit-identical)', async () => {
    const o = small();
    const states = [];
    for (let run = 0; run < 2; run++) {
      const t = new GanTrainer(o);
      const p = await ParallelTrainer.start(t, 2, TEST_BACKEND);
      try {
        await stepBoth(p, o, 3);
        await p.sync();
        states.push(await readTrainerState(t));
      } finally {
        await p.dispose();
        t.dispose();
      }
    }
    assert.ok(sameState(states[0], states[1]));
  });

  for (const workers of [2, 3]) it(`computes what one thread computes when minibatch-stddev groups do not span the split (group 1; ${workers} workers${workers === 3 ? ': uneven rows 2/1/1' : ''})`, async () => {
    // Same latents, noise, reals and augmentations per row; only the summation order differs.
    const o = small({ model: { mbstdGroup: 1 }, augment: { xflip: true, translate: 0 } });
    const serial = new GanTrainer(o);
    const t = new GanTrainer(o);
    const p = await ParallelTrainer.start(t, workers, TEST_BACKEND);
    try {
      const statsS: unknown[] = [], statsP: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        const r = realsFor(o, i);
        statsS.push(await serial.trainStep(r));
        statsP.push(await p.trainStep(r));
        r.dispose();
      }
      await p.sync();
      const a = await readTrainerState(serial), b = await readTrainerState(t);
      let worst = 0;
      for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]) / (1e-3 + Math.abs(a.data[i])));
      assert.ok(worst < 1e-3, `relative difference ${worst}`);
      // Per-sample stats come back in batch order.
      const lossS = (statsS[3] as Record<string, Float32Array>)['Loss/G/loss'], lossP = (statsP[3] as Record<string, Float32Array>)['Loss/G/loss'];
      assert.equal(lossP.length, 4);
      lossS.forEach((v, i) => assert.ok(Math.abs(v - lossP[i]) < 1e-4 * (1 + Math.abs(v)), `loss[${i}] ${v} vs ${lossP[i]}`));
      const ggS = (statsS[3] as Record<string, number>)['Loss/D/ggdr'], ggP = (statsP[3] as Record<string, number>)['Loss/D/ggdr'];
      assert.ok(Math.abs(ggS - ggP) < 1e-4 * Math.abs(ggS), `ggdr ${ggS} vs ${ggP}`);
    } finally {
      await p.dispose();
      serial.dispose();
      t.dispose();
    }
  });
});

describe('a worker thread killed mid-step', () => {
  it('fails that step with ReplicaFailedError naming it; the other worker is released; the trainer refuses further steps', async () => {
    const o = small();
    const t = new GanTrainer(o);
    const p = await ParallelTrainer.start(t, 2, TEST_BACKEND);
    try {
      await stepBoth(p, o, 1);
      const r = realsFor(o, 1);
      const step = p.trainStep(r);
      // Terminate worker 2's thread as the step starts (worker 1 then waits for it at an all-reduce barrier until released).
      void (p as unknown as { replicas: Array<{ worker: { terminate(): Promise<number> } }> }).replicas[1].worker.terminate();
      await assert.rejects(step, (e: Error) => e instanceof ReplicaFailedError && /^Training worker 2 of 2 failed during step 1: the thread exited/.test(e.message));
      r.dispose();
      assert.equal(t.step, 1, 'the failed step is not counted');
      const r2 = realsFor(o, 2);
      await assert.rejects(p.trainStep(r2), ReplicaFailedError);
      r2.dispose();
    } finally {
      await p.dispose();
      t.dispose();
    }
  });
});

describe('train() with --workers 2', () => {
  it('records the count, trains, and resumes with the same count', async () => {
    const ac = new AbortController();
    const o = small({ workers: 2, desc: 'par' });
    let started: { workers?: number } = {};
    const logs: string[] = [];
    const r = await train({ options: o }, { signal: ac.signal, onStarted: (i) => { started = i; }, onLog: (l) => logs.push(l), onProgress: (p) => { if (p.curKimg >= 0.012) ac.abort(); }, progressIntervalMs: 0 });
    assert.equal(r.state, 'stopped', r.error);
    assert.equal(started.workers, 2);
    assert.ok(logs.some((l) => /^Workers: 2 threads, data-parallel \(2 images of each batch of 4 per worker/.test(l)), logs.join('\n'));
    const saved = JSON.parse(fs.readFileSync(path.join(r.runDir!, 'training_options.json'), 'utf8'));
    assert.equal(saved.options.workers, 2);
    const r2 = await train({ resumeDir: r.runDir! }, { onLog: (l) => logs.push(l) });
    assert.equal(r2.state, 'finished', r2.error);
    assert.ok(logs.filter((l) => /^Workers: 2 threads/.test(l)).length >= 2, 'the resumed run uses 2 workers too');
    const t = new GanTrainer(resolveOptions({ ...o }));
    const meta = await loadTrainerState(t, path.join(r2.runDir!, r2.latestSnapshot!));
    assert.equal(meta.nimg, 24);
    t.dispose();
  });

  for (const how of ['exit', 'throw'] as const) {
    it(`a worker that dies (${how}) fails the run cleanly: status, message, the last good snapshot kept`, async () => {
      // Replica 1 dies when asked for step 3; ticks are 2 steps (0.008 kimg at batch 4), so snapshot 000000.008 exists.
      process.env.GAN_INSPECTOR_FAULT_REPLICA = `1:3${how === 'throw' ? ':throw' : ''}`;
      try {
        const r = await train({ options: small({ workers: 2, desc: `die-${how}` }) });
        assert.equal(r.state, 'failed');
        assert.equal(r.userError, true);
        assert.match(r.error!, /^Training worker 2 of 2 failed during step 3: .*(exited \(code 3\)|injected fault)/);
        assert.match(r.error!, /latest good snapshot is network-snapshot-000000\.008; resume with: gan-inspector train --resume /);
        assert.equal(r.latestSnapshot, 'network-snapshot-000000.008');
        const status = JSON.parse(fs.readFileSync(path.join(r.runDir!, 'status.json'), 'utf8'));
        assert.equal(status.state, 'failed');
        assert.equal(status.latestSnapshot, 'network-snapshot-000000.008');
        assert.match(status.lastError, /Training worker 2 of 2 failed/);
        assert.ok(!fs.existsSync(path.join(r.runDir!, '.gan-inspector-writer.lock')), 'lock released');
        const t = new GanTrainer(small());
        const meta = await loadTrainerState(t, path.join(r.runDir!, r.latestSnapshot!));
        assert.equal(meta.step, 2);
        t.dispose();
      } finally {
        delete process.env.GAN_INSPECTOR_FAULT_REPLICA;
      }
    });
  }
});
