/**
 * One mnist32 GGDR training step on tfjs's pure-JS cpu backend, with tfjs's built-in
 * Conv2DBackpropFilter or with GAN Inspector's replacement kernels, in CPU seconds (robust to a busy
 * machine) and as seconds per kimg. The before/after figure of the kernel replacement:
 *   node --import tsx bench/cpuStep.ts        # built-in kernel (about 3 minutes here)
 *   node --import tsx bench/cpuStep.ts fast   # replacement kernels
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastKernels } from '../src/core/backend/kernels';
import { resolveOptions } from '../src/core/config/options';
import { GanTrainer } from '../src/core/training/trainer';
import { BENCH_TRAINING } from './common';
(async () => {
  const fast = process.argv[2] === 'fast';
  await tf.setBackend('cpu'); await tf.ready();
  if (fast) registerFastKernels('cpu');
  const o = resolveOptions({ ...BENCH_TRAINING });
  const t = new GanTrainer(o);
  t.step = 1; // a plain step (R1 runs on steps divisible by 16)
  const reals = tf.randomUniform([16, 32, 32, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
  const c0 = process.cpuUsage(); const w0 = Date.now();
  await t.trainStep(reals);
  const c = process.cpuUsage(c0); const cpu = (c.user + c.system) / 1e6;
  console.log(JSON.stringify({ kernels: fast ? 'replacement' : 'built-in', cpuSec: cpu, wallSec: (Date.now() - w0) / 1000, secPerKimgCpu: cpu / 16 * 1000 }));
})().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
