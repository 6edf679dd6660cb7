/**
 * The K-means dot products on the tfjs backend: the fit points are uploaded once, and each
 * assignment step is one matMul [n,c]·[k,c]ᵀ (XNNPACK on wasm), 10–30× faster than JS loops on the
 * 256–512-channel feature maps of big official generators. Backends that cannot read back
 * synchronously (WebGPU in Node) fall back to the JS engine.
 */
import * as tf from '@tensorflow/tfjs';
import { jsDotEngine, type DotEngineFactory } from './dotEngine';

/** Below this much work (n·c) the upload and the kernel launch cost more than JS loops. */
const MIN_WORK = 1 << 16;

export const tfDotEngine: DotEngineFactory = (points, n, c) => {
  if (tf.getBackend() === 'webgpu' || n * c < MIN_WORK) return jsDotEngine(points, n, c);
  const P = tf.tensor2d(points.length === n * c ? points : points.subarray(0, n * c), [n, c]);
  return {
    scores(cents, k) {
      const s = tf.tidy(() => tf.matMul(P, tf.tensor2d(cents.subarray(0, k * c), [k, c]), false, true));
      try {
        return s.dataSync() as Float32Array;
      } finally {
        s.dispose();
      }
    },
    sums(labels, runs, k, out) {
      // Membership matrix built here as [runs·k, n] (tf.oneHot and a transposed matMul are slow paths on wasm), then ·[n,c].
      const m = runs * k;
      const oh = new Float32Array(m * n);
      for (let a = 0; a < runs; a++) for (let p = 0; p < n; p++) oh[(a * k + labels[a * n + p]) * n + p] = 1;
      const s = tf.tidy(() => tf.matMul(tf.tensor2d(oh, [m, n]), P));
      try {
        out.set(s.dataSync() as Float32Array);
      } finally {
        s.dispose();
      }
    },
    dispose() {
      P.dispose();
    },
  };
};
