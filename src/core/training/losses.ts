/**
 * Loss terms: non-saturating logistic GAN loss, R1 (Mescheder et al. 2018) and GGDR's
 * feature-map regression (Lee et al. 2022): λ · mean over pixels of (1 − cos(D_dec(x), G_feat)).
 */
import * as tf from '@tensorflow/tfjs';
import { normalizeChannels } from '../networks/ops';

/** 1 − cosine similarity per pixel over channels, averaged over N·H·W, times `weight`. Shapes must match. */
export function ggdrLoss(decoded: tf.Tensor4D, target: tf.Tensor4D, weight: number): tf.Scalar {
  if (!tf.util.arraysEqual(decoded.shape, target.shape)) {
    throw new Error(`GGDR: decoder output [${decoded.shape}] does not match generator features [${target.shape}]`);
  }
  return tf.tidy(() => {
    const cos = tf.sum(tf.mul(normalizeChannels(decoded), normalizeChannels(target)), -1); // [N,H,W]
    return tf.mul(tf.mean(tf.sub(1, cos)), weight) as tf.Scalar;
  });
}

/** softplus(-logits): G's non-saturating loss on fakes, and D's loss on reals. Per sample [N]. */
export function softplusNeg(logits: tf.Tensor): tf.Tensor1D {
  return tf.reshape(tf.softplus(tf.neg(logits)), [-1]) as tf.Tensor1D;
}

/** softplus(logits): D's loss on fakes. Per sample [N]. */
export function softplusPos(logits: tf.Tensor): tf.Tensor1D {
  return tf.reshape(tf.softplus(logits), [-1]) as tf.Tensor1D;
}

/**
 * R1 penalty per sample: ‖∇_x D(x)‖² for real images x [N,H,W,C] → [N]. Differentiable with
 * respect to D's parameters (a second-order gradient), as lazy R1 needs.
 */
export function r1Penalty(logitsOf: (x: tf.Tensor4D) => tf.Tensor, reals: tf.Tensor4D): tf.Tensor1D {
  const g = tf.grad((x: tf.Tensor) => tf.sum(logitsOf(x as tf.Tensor4D)))(reals);
  return tf.sum(tf.square(g), [1, 2, 3]) as tf.Tensor1D;
}
