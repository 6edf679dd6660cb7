/**
 * Step-cost bench of GanTrainer.trainStep (not part of the test suite):
 * `node --import tsx bench/trainStepAB.ts [trainerModule...]` times interleaved
 * rounds of each trainer module on the tiny and mnist32 presets (R1 on every 16th step, as in
 * training); with OVERHEAD=1 it times the pieces the finiteness guard adds, alone.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { resolveOptions, type PresetName } from '../src/core/config/options';
import { TEST_BACKEND, useTestBackend } from '../test/unit/engine/testBackend';

type TrainerCtor = new (o: ReturnType<typeof resolveOptions>) => { trainStep(r: tf.Tensor4D): Promise<unknown>; dispose(): void };

async function main(): Promise<void> {
  await useTestBackend();
  const mods = process.argv.slice(2).length ? process.argv.slice(2) : ['src/core/training/trainer.ts'];
  const ctors: Array<[string, TrainerCtor]> = [];
  for (const m of mods) ctors.push([path.basename(m), (await import(path.resolve(m))).GanTrainer as TrainerCtor]);
  const rounds = Number(process.env.ROUNDS ?? 3), steps = Number(process.env.STEPS ?? 16);
  for (const preset of (process.env.PRESETS ?? 'tiny,mnist32').split(',') as PresetName[]) {
    const o = resolveOptions({ preset, backend: TEST_BACKEND, metrics: [] });
    const R = o.model.resolution, n = o.model.batch;
    const reals = tf.tensor4d(Float32Array.from({ length: n * R * R }, (_, i) => Math.sin(i * 0.37)), [n, R, R, 1]);
    // CPU time of this process (the wasm backend computes on this thread): far less noisy than wall time on a shared machine.
    const times = new Map<string, number[]>(ctors.map(([k]) => [k, []]));
    const cpu = new Map<string, number[]>(ctors.map(([k]) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [name, C] of ctors) {
        const t = new C(o);
        await t.trainStep(reals); // warm-up (kernel setup)
        const t0 = performance.now(), c0 = process.cpuUsage();
        for (let i = 0; i < steps; i++) await t.trainStep(reals);
        times.get(name)!.push((performance.now() - t0) / steps);
        const c = process.cpuUsage(c0);
        cpu.get(name)!.push((c.user + c.system) / 1000 / steps);
        t.dispose();
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const [name, ts] of times) {
      const cs = cpu.get(name)!;
      console.log(`${preset} ${name}: median wall ${med(ts).toFixed(1)} ms/step, CPU ${med(cs).toFixed(1)} ms/step over ${rounds}×${steps} steps (CPU per round: ${cs.map((x) => x.toFixed(1)).join(', ')})`);
    }
    reals.dispose();
  }
}
/**
 * CPU cost of the pieces the finiteness guard adds to a step, timed alone (less noisy than whole
 * steps on a shared machine): Σg² of a phase's gradients (flat concat, as trainer.ts does it) and the
 * undo copies of G's state (every step) and D's (R1 steps only).
 */
async function overhead(): Promise<void> {
  await useTestBackend();
  const { GanTrainer } = await import('../src/core/training/trainer');
  const reps = 50;
  const cpuMs = async (f: () => Promise<void> | void) => {
    await f();
    const c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) await f();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / reps;
  };
  const sumSq = (gs: tf.Tensor[]) => cpuMs(async () => {
    const s = tf.tidy(() => { const flat = tf.concat(gs.map((g) => tf.reshape(g, [-1]))); return tf.sum(tf.square(flat)); });
    await s.data();
    s.dispose();
  });
  for (const preset of (process.env.PRESETS ?? 'tiny,mnist32').split(',') as PresetName[]) {
    const o = resolveOptions({ preset, backend: TEST_BACKEND, metrics: [] });
    const t = new GanTrainer(o);
    const z = t.latents('G', 0);
    const gG = tf.variableGrads(() => tf.mean(t.D.apply(t.G.synthesis(t.G.mapping(z), { noiseSeed: 1, keepFeatures: [] }).image).logits) as tf.Scalar, t.G.params.trainable());
    const gD = t.D.params.trainable().map((v) => tf.onesLike(v)); // same count and sizes as Dmain's gradients
    const sG = await sumSq(Object.values(gG.grads)), sD = await sumSq(gD);
    const varsG = [...t.G.params.trainable(), t.G.params.get('mapping/w_avg'), ...t.optG.stateVars()];
    const varsD = [...t.D.params.trainable(), ...t.optD.stateVars()];
    const cG = await cpuMs(() => { tf.dispose(varsG.map((v) => tf.clone(v))); });
    const cD = await cpuMs(() => { tf.dispose(varsD.map((v) => tf.clone(v))); });
    const every = o.model.r1Interval;
    const perStep = sG + sD + cG + (sD + cD) / every;
    console.log(`${preset}: Σg² G ${sG.toFixed(2)} ms, D ${sD.toFixed(2)} ms; undo copies G ${cG.toFixed(2)} ms, D ${cD.toFixed(2)} ms → ≈ ${perStep.toFixed(2)} ms CPU per step (R1 every ${every})`);
    tf.dispose([gG.value, z, ...Object.values(gG.grads), ...gD]);
    t.dispose();
  }
}
void (process.env.OVERHEAD ? overhead() : main());
