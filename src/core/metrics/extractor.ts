/**
 * Feature extractors: any network that maps images to feature vectors. FID/KID are only comparable
 * between runs that used the same extractor, so each has a short `name` that goes into the metric
 * name (fid2k_lenet) and an `id` that changes whenever its weights change (for caches).
 */
import * as tf from '@tensorflow/tfjs';

export interface FeatureExtractor {
  /** Short name used in metric names, e.g. 'lenet' or 'inception_v3' ([A-Za-z0-9_.-]). */
  readonly name: string;
  /** Identity of the exact weights (e.g. 'lenet-3fa1c2…'); caches of real features key on it. */
  readonly id: string;
  /** Feature vector length. */
  readonly dim: number;
  /** What it is, for logs and results, e.g. 'lenet (98.0% on 1,000 held-out digits)'. */
  readonly description?: string;
  /**
   * Features of `images` [N,H,W,C] in [-1,1] (any size, 1 or 3 channels: the extractor adapts them)
   * → [N,dim]. The caller disposes both.
   */
  features(images: tf.Tensor4D): Promise<tf.Tensor2D>;
  /** Set when the extractor is also a classifier of a known dataset (mode-coverage metrics need one). */
  readonly classifier?: ImageClassifier;
  dispose(): void;
}

/** A classifier of one dataset's images (LeNet: the ten digits of the built-in MNIST). */
export interface ImageClassifier {
  /** The dataset source whose images it classifies ('mnist'). */
  readonly dataset: string;
  /** What it classifies, for messages: 'the ten digits of the built-in MNIST'. */
  readonly description: string;
  readonly classes: number;
  /** Class per image of `images` [N,H,W,C] in [-1,1]; the caller disposes the tensor. */
  classify(images: tf.Tensor4D): Promise<Int32Array>;
}

export interface AdaptOptions {
  /** Target [height, width]. */
  size: [number, number];
  /** Target channels (1 or 3). */
  channels: number;
  /** Value range the network expects; inputs are in [-1,1]. */
  range: [number, number];
}

/** Resizes (bilinear), converts channels (gray→RGB by copy, RGB→gray by luma) and rescales [-1,1] → range. */
export function adaptImages(x: tf.Tensor4D, o: AdaptOptions): tf.Tensor4D {
  return tf.tidy(() => {
    let y: tf.Tensor4D = x;
    const [, h, w, c] = y.shape;
    if (c !== o.channels) {
      if (c === 1 && o.channels === 3) y = tf.tile(y, [1, 1, 1, 3]);
      else if (c === 3 && o.channels === 1) y = tf.sum(tf.mul(y, tf.tensor1d([0.299, 0.587, 0.114])), 3, true) as tf.Tensor4D;
      else throw new Error(`Cannot convert ${c}-channel images to the ${o.channels} channels the feature extractor expects.`);
    }
    if (h !== o.size[0] || w !== o.size[1]) y = tf.image.resizeBilinear(y, o.size, false, true);
    const [lo, hi] = o.range;
    if (lo !== -1 || hi !== 1) y = tf.add(tf.mul(tf.add(y, 1), (hi - lo) / 2), lo);
    return y === x ? tf.clone(x) : y;
  });
}

/** Flattens extractor outputs to [N,D]: spatial maps [N,H,W,C] are averaged over H and W. */
export function toFeatureMatrix(t: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    if (t.rank === 2) return tf.clone(t) as tf.Tensor2D;
    if (t.rank === 4) return tf.mean(t, [1, 2]) as tf.Tensor2D;
    if (t.rank > 2) return tf.reshape(t, [t.shape[0], -1]) as tf.Tensor2D;
    throw new Error(`Feature extractor output has rank ${t.rank}; expected [N,D] or [N,H,W,C].`);
  });
}

/** The extractor's description, or its name when it has none. */
export function describeExtractor(ex: FeatureExtractor): string {
  return ex.description ?? ex.name;
}
