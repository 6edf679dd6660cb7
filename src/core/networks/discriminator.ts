/**
 * StyleGAN2 ResNet discriminator plus the GGDR decoder (Lee et al., "Generator Knows What
 * Discriminator Should Learn in Unconditional GANs", ECCV 2022).
 *
 *   encoder: fromRGB (1×1) at R → ResNet blocks R→R/2 … 8→4 → epilogue at 4×4
 *            (minibatch-stddev, conv 3×3, FC, FC → logit)
 *   decoder: y = encoder output at 4×4; until y is at ggdr_res:
 *            y ← conv1×1(up2×(y ⊕ encoder feature at y's resolution))   (no ⊕ at the first step)
 *            with output channels = the generator's channels at the new resolution, linear.
 *            It predicts the generator's feature map at ggdr_res; the decoder exists only when GGDR is on.
 */
import * as tf from '@tensorflow/tfjs';
import { blockResolutions, channelsAt, decoderSteps, type ModelConfig } from '../config/options';
import { Rng } from '../util/rng';
import { ParamSet } from './params';
import { conv, dense, downsample2x, groupSizeFor, lrelu, minibatchStd, upsample2x } from './ops';

export interface DiscriminatorOutput {
  /** [N,1] real/fake logits */
  logits: tf.Tensor2D;
  /** GGDR decoder prediction at ggdr_res [N,g,g,C_G(g)], or null when the decoder is off / not requested */
  decoded: tf.Tensor4D | null;
}

export interface DecoderSpec {
  /** Output resolution of the decoder (ggdr_res). */
  res: number;
  /** Generator channels at each resolution (the decoder's output widths). */
  genChannels: (r: number) => number;
}

export class Discriminator {
  readonly params: ParamSet;
  /** Encoder resolutions from the top down to 8 (each block halves). */
  readonly blockRes: number[];

  constructor(readonly cfg: ModelConfig, seed: number, readonly decoder: DecoderSpec | null, prefix = 'D') {
    this.params = new ParamSet(prefix);
    const p = this.params;
    const rng = Rng.for(seed, prefix, 'init');
    const R = cfg.resolution;
    this.blockRes = blockResolutions(R).filter((r) => r > 4).reverse();
    p.normal('fromrgb/weight', [1, 1, cfg.channels, channelsAt(cfg, R)], rng);
    p.constant('fromrgb/bias', [channelsAt(cfg, R)], 0);
    for (const r of this.blockRes) {
      const ci = channelsAt(cfg, r), co = channelsAt(cfg, r / 2);
      p.normal(`b${r}/conv0/weight`, [3, 3, ci, ci], rng);
      p.constant(`b${r}/conv0/bias`, [ci], 0);
      p.normal(`b${r}/conv1/weight`, [3, 3, ci, co], rng);
      p.constant(`b${r}/conv1/bias`, [co], 0);
      p.normal(`b${r}/skip/weight`, [1, 1, ci, co], rng);
    }
    const c4 = channelsAt(cfg, 4);
    p.normal('b4/conv/weight', [3, 3, c4 + 1, c4], rng);
    p.constant('b4/conv/bias', [c4], 0);
    p.normal('b4/fc/weight', [c4 * 16, c4], rng);
    p.constant('b4/fc/bias', [c4], 0);
    p.normal('b4/out/weight', [c4, 1], rng);
    p.constant('b4/out/bias', [1], 0);
    if (decoder) {
      for (const step of decoderSteps(decoder.res)) {
        const ci = step.first ? c4 : decoder.genChannels(step.from) + channelsAt(cfg, step.from);
        p.normal(`decoder/${step.to}/weight`, [1, 1, ci, decoder.genChannels(step.to)], rng);
        p.constant(`decoder/${step.to}/bias`, [decoder.genChannels(step.to)], 0);
      }
    }
  }

  /**
   * x [N,R,R,C] → logits [N,1] and, when `withDecoder` and the decoder exists, the GGDR map.
   * Caller owns the outputs.
   */
  apply(x: tf.Tensor4D, withDecoder = false): DiscriminatorOutput {
    const p = this.params;
    const useDecoder = withDecoder && this.decoder !== null;
    // Return every output from the tidy (not tf.keep: kept tensors would escape outer scopes such as variableGrads).
    const [logits, decoded] = tf.tidy(() => {
      let decoded: tf.Tensor4D | null = null;
      const feats = new Map<number, tf.Tensor4D>();
      let h = lrelu(conv(x, p.get('fromrgb/weight') as tf.Tensor4D, p.get('fromrgb/bias'))) as tf.Tensor4D;
      for (const r of this.blockRes) {
        feats.set(r, h);
        const skip = conv(downsample2x(h), p.get(`b${r}/skip/weight`) as tf.Tensor4D, null);
        let y = lrelu(conv(h, p.get(`b${r}/conv0/weight`) as tf.Tensor4D, p.get(`b${r}/conv0/bias`))) as tf.Tensor4D;
        // Downsample before the second conv: the same receptive field as StyleGAN2's blur + stride-2 conv, at ¼ the cost.
        y = lrelu(conv(downsample2x(y), p.get(`b${r}/conv1/weight`) as tf.Tensor4D, p.get(`b${r}/conv1/bias`))) as tf.Tensor4D;
        h = tf.mul(tf.add(skip, y), Math.SQRT1_2) as tf.Tensor4D;
      }
      // h: encoder output at 4×4 [N,4,4,C4]
      if (useDecoder) {
        let y: tf.Tensor4D = h;
        for (const step of decoderSteps(this.decoder!.res)) {
          const inp = step.first ? y : (tf.concat([y, feats.get(step.from)!], 3) as tf.Tensor4D);
          const up = step.to > step.from ? upsample2x(inp) : inp;
          y = conv(up, p.get(`decoder/${step.to}/weight`) as tf.Tensor4D, p.get(`decoder/${step.to}/bias`));
        }
        decoded = y;
      }
      const n = x.shape[0];
      let e = minibatchStd(h, groupSizeFor(n, this.cfg.mbstdGroup));
      e = lrelu(conv(e, p.get('b4/conv/weight') as tf.Tensor4D, p.get('b4/conv/bias'))) as tf.Tensor4D;
      const flat = tf.reshape(e, [n, -1]) as tf.Tensor2D;
      const fc = lrelu(dense(flat, p.get('b4/fc/weight'), p.get('b4/fc/bias'))) as tf.Tensor2D;
      const logits = dense(fc, p.get('b4/out/weight'), p.get('b4/out/bias'));
      return (decoded ? [logits, decoded] : [logits]) as [tf.Tensor2D, tf.Tensor4D?];
    });
    return { logits, decoded: decoded ?? null };
  }

  /** ggdr_res when this D has the GGDR decoder (an InspectDiscriminator of src/core/checkpoints). */
  get decoderRes(): number | null {
    return this.decoder ? this.decoder.res : null;
  }

  /** The GGDR decoder's prediction for x (x is not disposed). */
  decode(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.decoder) throw new Error('this discriminator has no GGDR decoder');
    const out = this.apply(x, true);
    out.logits.dispose();
    return out.decoded!;
  }

  /** Parameters that the GAN loss trains (everything but the decoder). */
  encoderVars(): tf.Variable[] {
    return this.params.trainable().filter((v) => !this.params.canonicalOf(v).startsWith('decoder/'));
  }

  dispose(): void {
    this.params.dispose();
  }
}

// Lives in config/options (no tfjs) so snapshotCompat lists the decoder's shapes with it too.
export { decoderSteps };
