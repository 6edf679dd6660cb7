/**
 * The official StyleGAN2-ADA / GGDR networks in tfjs, built from the records our safe pickle
 * reader produces (../pickle), numerically equal to the official PyTorch code.
 */
import * as tf from '@tensorflow/tfjs';

export { OfficialGenerator } from './generator';
export type { Architecture, OfficialSynthesisOptions, OfficialSynthesisOutput } from './generator';
export { OfficialDiscriminator } from './discriminator';
export type { OfficialDiscriminatorOptions, OfficialDiscriminatorOutput } from './discriminator';
export type { NoiseMode } from './layers';

/**
 * generate.py's quantisation of an image in about [-1,1]: (x·127.5 + 128) clamped to [0,255] and
 * truncated to uint8 (in float32, as torch does). NHWC in, NHWC bytes out.
 */
export function quantizeOfficial(img: tf.Tensor4D): Uint8Array {
  const t = tf.tidy(() => tf.clipByValue(tf.add(tf.mul(img, 127.5), 128), 0, 255));
  const v = t.dataSync() as Float32Array;
  t.dispose();
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]; // Uint8Array assignment truncates like a float→uint8 cast
  return out;
}
