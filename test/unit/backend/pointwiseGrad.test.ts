/**
 * wasm Conv2DBackpropFilter of 1×1 stride-1 convs goes through one GEMM (filterGradViaMatMul): it equals
 * the conv route and tfjs's cpu reference, for both operand orders (ci ≤ co transposes x, else dy), with no leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/core/backend/backend';
import { filterGradGeometry, filterGradViaConv, filterGradViaMatMul, kernelRunner } from '../../../src/core/backend/kernels';

test('1×1 filter gradients by GEMM equal the conv route and the cpu reference (wasm)', async () => {
  const shapes: Array<[number[], number]> = [[[16, 32, 32, 1], 16], [[4, 16, 16, 32], 16], [[2, 5, 7, 3], 8], [[3, 4, 4, 8], 8]];
  const cases = shapes.map(([xs, co], i) => {
    const x = Float32Array.from({ length: xs.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(k * 0.71 + i));
    const dy = Float32Array.from({ length: xs[0] * xs[1] * xs[2] * co }, (_, k) => Math.cos(k * 0.37 - i));
    return { xs: xs as [number, number, number, number], co, x, dy };
  });
  await tf.setBackend('cpu');
  const refs = cases.map((c) => tf.tidy(() => tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(tf.tensor4d(c.x, c.xs), w as tf.Tensor4D, 1, 'same'), tf.tensor4d(c.dy, [c.xs[0], c.xs[1], c.xs[2], c.co]))))(tf.zeros([1, 1, c.xs[3], c.co])).dataSync()));
  await initBackend('wasm');
  const before = tf.memory().numTensors;
  cases.forEach((c, i) => {
    const x = tf.tensor4d(c.x, c.xs), dy = tf.tensor4d(c.dy, [c.xs[0], c.xs[1], c.xs[2], c.co]);
    const info = (t: tf.Tensor) => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }) as tf.TensorInfo;
    const r = kernelRunner();
    const g = filterGradGeometry(c.xs, [1, 1, c.xs[3], c.co], 1, 'same', undefined);
    const viaMm = r.backend.readSync(filterGradViaMatMul(r, info(x), info(dy)).dataId) as Float32Array;
    const viaConv = r.backend.readSync(filterGradViaConv(r, info(x), info(dy), g).dataId) as Float32Array;
    r.dispose();
    const kernel = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [1, 1, c.xs[3], c.co] } as never) as tf.Tensor;
    const viaKernel = kernel.dataSync();
    const scale = Math.max(...Array.from(refs[i], Math.abs));
    for (const [name, v] of [['GEMM', viaMm], ['conv', viaConv], ['kernel', viaKernel]] as const) {
      assert.equal(v.length, refs[i].length);
      const worst = Math.max(...Array.from(v, (a, k) => Math.abs(a - refs[i][k])));
      assert.ok(worst <= 1e-4 * scale, `case ${i} ${name}: max |Δ| ${worst} (scale ${scale})`);
    }
    tf.dispose([x, dy, kernel]);
  });
  assert.equal(tf.memory().numTensors, before, 'no leaks');
});

test('wasm Cast to the same dtype aliases the buffer (values and lifetimes right); other casts convert', async () => {
  await initBackend('wasm');
  const be = tf.backend() as unknown as { numDataIds(): number };
  const ids0 = be.numDataIds(), t0 = tf.memory().numTensors;
  const x = tf.tensor1d([1.5, -2.25, 3]);
  const y = tf.cast(x, 'float32');
  assert.notEqual(y, x);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1.5, -2.25, 3], 'the alias outlives its source');
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(a, tf.tensor1d([2, 3, 4]))))(y); // Mul's gradient casts float32 → float32
  assert.deepEqual(Array.from(g.dataSync()), [2, 3, 4]);
  const src = tf.tensor1d([1.7, -1.2]);
  const i = tf.cast(src, 'int32');
  assert.equal(i.dtype, 'int32');
  assert.deepEqual(Array.from(i.dataSync()), [1, -1]);
  const f = tf.cast(i, 'float32');
  assert.deepEqual(Array.from(f.dataSync()), [1, -1]);
  tf.dispose([y, g, src, i, f]);
  assert.equal(tf.memory().numTensors, t0);
  assert.equal(be.numDataIds(), ids0, 'every buffer released (aliases included)');
});
