/**
 * Building blocks shared by the generator and the discriminator, written with basic tfjs ops
 * only (slice/concat/reshape/conv2d/matMul) so every backend — including wasm, which lacks
 * several resize and pooling gradient kernels — can train them, and second-order gradients (R1)
 * work. Layout is NHWC throughout.
 */
import * as tf from '@tensorflow/tfjs';

export const SQRT2 = Math.SQRT2;

/**
 * Leaky ReLU (slope 0.2) with StyleGAN2's gain √2 to preserve signal magnitude, written as
 * 0.6·x + 0.4·|x|: tfjs's LeakyRelu gradient uses `Greater`, which has no gradient itself, so
 * the second-order gradient R1 needs would fail; Abs's gradient (Step) is differentiable. It is
 * also the faster form on wasm, whose LeakyRelu, Greater and Select kernels are ~4× slower per
 * element than Abs, Step and Multiply (measured: a native-LeakyRelu step was ~60 ms slower).
 */
export function lrelu(x: tf.Tensor, gain = SQRT2): tf.Tensor {
  return tf.add(tf.mul(x, 0.6 * gain), tf.mul(tf.abs(x), 0.4 * gain));
}

/** Equalized-learning-rate dense layer: x [N,I] · (w [I,O] · lrMul/√I) + b·lrMul. */
export function dense(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor | null, lrMul = 1): tf.Tensor2D {
  const gain = lrMul / Math.sqrt(w.shape[0]);
  let y: tf.Tensor2D = tf.matMul(x, tf.mul(w, gain) as tf.Tensor2D);
  if (b) y = tf.add(y, lrMul === 1 ? b : tf.mul(b, lrMul)) as tf.Tensor2D;
  return y;
}

/** Equalized-learning-rate stride-1 'same' conv: x [N,H,W,I], w [k,k,I,O] scaled by 1/√(k·k·I). */
export function conv(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor | null): tf.Tensor4D {
  const [kh, kw, ci] = w.shape;
  const gain = 1 / Math.sqrt(kh * kw * ci);
  let y = tf.conv2d(x, tf.mul(w, gain) as tf.Tensor4D, 1, 'same');
  if (b) y = tf.add(y, b);
  return y;
}

/**
 * Modulated convolution (StyleGAN2), non-fused form: scale the input channels by the style,
 * convolve with the shared weight, then scale output channels by the demodulation coefficient
 * 1/√(Σ_{k,i} (w·s)²) — equal to the per-sample grouped conv, but with one ordinary conv2d.
 *   x [N,H,W,I], w [k,k,I,O], s [N,I] → [N,H,W,O]
 */
export function modConv(x: tf.Tensor4D, w: tf.Tensor4D, s: tf.Tensor2D, demodulate: boolean): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape;
  const n = x.shape[0];
  const gain = 1 / Math.sqrt(kh * kw * ci);
  const wScaled = tf.mul(w, gain) as tf.Tensor4D;
  let y = tf.conv2d(tf.mul(x, tf.reshape(s, [n, 1, 1, ci])) as tf.Tensor4D, wScaled, 1, 'same');
  if (demodulate) {
    // Σ_k w² per (i, o): [I,O]; Σ_i s_i² · that → [N,O]
    const wsq = tf.sum(tf.square(wScaled), [0, 1]) as tf.Tensor2D;
    const d = tf.rsqrt(tf.add(tf.matMul(tf.square(s), wsq), 1e-8));
    y = tf.mul(y, tf.reshape(d, [n, 1, 1, co]));
  }
  return y;
}

/**
 * Bilinear 2× upsampling (half-pixel centres, edge clamp) — the [1,3,3,1] FIR filter of StyleGAN2 —
 * as two 1×1 convolutions with a fixed [L,2L] interpolation matrix as the filter, each applied to a
 * transposed view in which the axis being resized is the channel axis. Every backend's conv is its
 * fastest GEMM (XNNPACK on wasm): 3–5× faster forward+backward than broadcast batched matmuls, and
 * slice/concat/stack formulations have gradients (SplitV, Unpack) that are ~100× slower on wasm.
 */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  const byH = tf.conv2d(tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D, interpFilter(h), 1, 'valid'); // [N,W,C,2H]
  const byW = tf.conv2d(tf.transpose(byH, [0, 3, 2, 1]) as tf.Tensor4D, interpFilter(w), 1, 'valid'); // [N,2H,C,2W]
  return tf.transpose(byW, [0, 1, 3, 2]) as tf.Tensor4D; // [N,2H,2W,C]
}

/** [1,1,L,2L]: output 2i = ¾·x[i] + ¼·x[i−1], 2i+1 = ¾·x[i] + ¼·x[i+1], indices clamped at the edges. */
function interpFilter(len: number): tf.Tensor4D {
  const f = new Float32Array(len * 2 * len); // f[i, o]: weight of input i in output o
  const clamp = (i: number) => Math.min(len - 1, Math.max(0, i));
  for (let i = 0; i < len; i++) {
    f[i * 2 * len + 2 * i] += 0.75;
    f[clamp(i - 1) * 2 * len + 2 * i] += 0.25;
    f[i * 2 * len + 2 * i + 1] += 0.75;
    f[clamp(i + 1) * 2 * len + 2 * i + 1] += 0.25;
  }
  return tf.tensor4d(f, [1, 1, len, 2 * len]);
}

/** 2×2 box downsampling: [N,H,W,C] → [N,H/2,W/2,C]. */
export function downsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.mean(tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]), [2, 4]) as tf.Tensor4D;
}

/** Per-pixel L2 normalisation over channels. */
export function normalizeChannels(x: tf.Tensor4D, eps = 1e-8): tf.Tensor4D {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), eps))) as tf.Tensor4D;
}

/**
 * Minibatch standard deviation (StyleGAN2): the mean over features of the std across each group
 * of G samples, appended as one extra channel. G must divide N; callers clamp it.
 */
export function minibatchStd(x: tf.Tensor4D, groupSize: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const g = Math.min(groupSize, n);
  // Rank 3, not [G,M,H,W,C]: wasm's reductions transpose rank-5/6 tensors on a generic path ~100× slower.
  const y = tf.reshape(x, [g, n / g, h * w * c]);               // [G,M,H·W·C]
  const centered = tf.sub(y, tf.mean(y, 0, true));
  const std = tf.sqrt(tf.add(tf.mean(tf.square(centered), 0), 1e-8)); // [M,H·W·C]
  const s = tf.mean(std, 1);                                    // [M]
  const tiled = tf.tile(tf.reshape(s, [1, n / g, 1, 1]), [g, 1, h * w, 1]); // rank 4: tfjs's tile gradient stops there
  return tf.concat([x, tf.reshape(tiled, [n, h, w, 1])], 3) as tf.Tensor4D;
}

/** Largest divisor of n that is ≤ want (so the stddev group always divides the batch). */
export function groupSizeFor(n: number, want: number): number {
  for (let g = Math.min(want, n); g > 1; g--) if (n % g === 0) return g;
  return 1;
}
