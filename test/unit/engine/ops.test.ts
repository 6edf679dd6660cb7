import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { downsample2x, upsample2x } from '../../../src/core/networks/ops';
import { useTestBackend } from './testBackend';

before(async () => { await useTestBackend(); });

/** Reference bilinear 2× (half-pixel centres, clamped edges) along one axis of a plain array. */
function up1d(v: number[]): number[] {
  const n = v.length, at = (i: number) => v[Math.min(n - 1, Math.max(0, i))];
  return v.flatMap((x, i) => [0.75 * x + 0.25 * at(i - 1), 0.75 * x + 0.25 * at(i + 1)]);
}

describe('upsample2x', () => {
  it('is bilinear 2× with half-pixel centres and clamped edges, per sample and channel', () => {
    const [n, h, w, c] = [2, 3, 4, 5];
    const x = tf.randomNormal([n, h, w, c]) as tf.Tensor4D;
    const xs = x.arraySync();
    const got = tf.tidy(() => upsample2x(x).arraySync());
    for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) {
      const rows = xs[b].map((row) => up1d(row.map((px) => px[ch]))); // [h][2w]
      const want = Array.from({ length: 2 * w }, (_, j) => up1d(rows.map((r) => r[j]))); // [2w][2h]
      for (let i = 0; i < 2 * h; i++) for (let j = 0; j < 2 * w; j++) {
        assert.ok(Math.abs(got[b][i][j][ch] - want[j][i]) < 1e-5, `(${b},${i},${j},${ch}): ${got[b][i][j][ch]} vs ${want[j][i]}`);
      }
    }
    x.dispose();
  });

  it('has the adjoint as its gradient: <up(x), r> = <x, ∂/∂x <up(x), r>>', () => {
    const x = tf.randomNormal([3, 4, 4, 6]) as tf.Tensor4D;
    const r = tf.randomNormal([3, 8, 8, 6]);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(upsample2x(t as tf.Tensor4D), r));
    const lhs = tf.tidy(() => f(x).dataSync()[0]);
    const g = tf.grad(f)(x);
    const rhs = tf.tidy(() => tf.sum(tf.mul(x, g)).dataSync()[0]);
    assert.ok(Math.abs(lhs - rhs) < 1e-3 * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
    // Each input pixel's weights sum to 4 in 2-D (2 per axis): the gradient of sum(up(x)) is 4 everywhere.
    const ones = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(upsample2x(t as tf.Tensor4D)))(x).dataSync());
    for (const v of ones) assert.ok(Math.abs(v - 4) < 1e-5, String(v));
    tf.dispose([x, r, g]);
  });

  it('leaves no tensors behind', () => {
    const x = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.tidy(() => { upsample2x(x); });
    assert.equal(tf.memory().numTensors, before);
    const y = upsample2x(x);
    assert.deepEqual([...y.dataSync()], new Array(16).fill(1));
    tf.dispose([x, y]);
  });
});

describe('downsample2x', () => {
  it('averages 2×2 blocks', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    const y = downsample2x(x);
    assert.deepEqual([...y.dataSync()], [3.5, 5.5, 11.5, 13.5]);
    tf.dispose([x, y]);
  });
});
