/**
 * StyleGAN2-style generator at small scale (Karras et al., "Analyzing and Improving the Image
 * Quality of StyleGAN", CVPR 2020), returning the image and every block's feature map — the
 * targets GGDR asks the discriminator's decoder to predict (Lee et al., ECCV 2022).
 *
 *   mapping:   z [N,Z] → normalise 2nd moment → FC×L (lrelu, lr multiplier 0.01) → w [N,W]
 *   synthesis: const [4,4,C4] → per resolution r: (2× up) → modconv 3×3 ×2 (noise, bias, lrelu)
 *              → toRGB (modconv 1×1, no demod) added to the 2×-upsampled running image (skip).
 */
import * as tf from '@tensorflow/tfjs';
import { blockResolutions, channelsAt, type ModelConfig } from '../config/options';
import { Rng, hashSeed } from '../util/rng';
import { ParamSet } from './params';
import { dense, lrelu, modConv, upsample2x } from './ops';

export type NoiseMode = 'random' | 'const' | 'none';

export interface GeneratorOutput {
  /** [N,R,R,C] in about [-1,1] */
  image: tf.Tensor4D;
  /** Feature map of every synthesis block, keyed by resolution: [N,r,r,C_r] */
  features: Map<number, tf.Tensor4D>;
}

export interface SynthesisOptions {
  noiseMode?: NoiseMode;
  /** Seed for 'random' noise (deterministic per call). */
  noiseSeed?: number;
  /** Resolutions whose feature maps to return; undefined = all. */
  keepFeatures?: number[];
  /**
   * 'random' noise for rows [offset, offset+N) of a batch of `total` (a data-parallel replica's share):
   * the whole batch's draws are made and this slice used, so the rows get the noise they get unsplit.
   */
  noiseRows?: { offset: number; total: number };
}

/** Names of the conv layers of a block, in order. */
function blockLayers(res: number): string[] {
  return res === 4 ? ['conv1'] : ['conv0', 'conv1'];
}

/** z [N,Z] for seeds: seed s ↦ N(0,1) draws of Rng(hash('seed', s)) (our own runs; official pickles use numpy's RandomState). */
export function latentsForSeeds(seeds: number[], zDim: number): tf.Tensor2D {
  const data = new Float32Array(seeds.length * zDim);
  seeds.forEach((s, i) => data.set(Rng.for('seed', s).normalArray(zDim), i * zDim));
  return tf.tensor2d(data, [seeds.length, zDim]);
}

/** Our generator; also what the inspectors see (an InspectGenerator of src/core/checkpoints). */
export class Generator {
  readonly params: ParamSet;
  readonly resolutions: number[];

  constructor(readonly cfg: ModelConfig, seed: number, prefix = 'G') {
    this.params = new ParamSet(prefix);
    this.resolutions = blockResolutions(cfg.resolution);
    const rng = Rng.for(seed, prefix, 'init');
    const p = this.params;
    const lrMul = cfg.mappingLrMul;
    // Mapping network. Weights ~ N(0, 1/lrMul) so that the runtime scale lrMul/√I gives unit-ish outputs.
    for (let i = 0; i < cfg.mappingLayers; i++) {
      const inDim = i === 0 ? cfg.zDim : cfg.wDim;
      p.normal(`mapping/fc${i}/weight`, [inDim, cfg.wDim], rng, 1 / lrMul);
      p.constant(`mapping/fc${i}/bias`, [cfg.wDim], 0);
    }
    p.constant('mapping/w_avg', [cfg.wDim], 0, false);
    // Synthesis network.
    const c4 = channelsAt(cfg, 4);
    p.normal('synthesis/const', [4, 4, c4], rng);
    let cin = c4;
    for (const r of this.resolutions) {
      const cout = channelsAt(cfg, r);
      for (const layer of blockLayers(r)) {
        const ci = layer === 'conv0' ? cin : cout;
        const base = `synthesis/b${r}/${layer}`;
        p.normal(`${base}/affine/weight`, [cfg.wDim, ci], rng);
        p.constant(`${base}/affine/bias`, [ci], 1); // styles start at 1: plain convs at init
        p.normal(`${base}/weight`, [3, 3, ci, cout], rng);
        p.constant(`${base}/bias`, [cout], 0);
        p.constant(`${base}/noise_strength`, [], 0);
        p.normal(`${base}/noise_const`, [r, r, 1], Rng.for(seed, prefix, base, 'noise'), 1, false); // buffer
      }
      const tb = `synthesis/b${r}/torgb`;
      p.normal(`${tb}/affine/weight`, [cfg.wDim, cout], rng);
      p.constant(`${tb}/affine/bias`, [cout], 1);
      p.normal(`${tb}/weight`, [1, 1, cout, cfg.channels], rng);
      p.constant(`${tb}/bias`, [cfg.channels], 0);
      cin = cout;
    }
  }

  get zDim(): number {
    return this.cfg.zDim;
  }
  /** Our models are unconditional. */
  get cDim(): number {
    return 0;
  }
  get resolution(): number {
    return this.cfg.resolution;
  }
  get imgChannels(): number {
    return this.cfg.channels;
  }
  latents(seeds: number[]): tf.Tensor2D {
    return latentsForSeeds(seeds, this.cfg.zDim);
  }

  /** Channels of the feature map at resolution r (what GGDR's decoder must output there). */
  channelsAt(r: number): number {
    return channelsAt(this.cfg, r);
  }

  /** z [N,Z] → w [N,W]. */
  mapping(z: tf.Tensor2D, truncationPsi = 1): tf.Tensor2D {
    return tf.tidy(() => {
      const cfg = this.cfg;
      let x = tf.mul(z, tf.rsqrt(tf.add(tf.mean(tf.square(z), 1, true), 1e-8))) as tf.Tensor2D;
      for (let i = 0; i < cfg.mappingLayers; i++) {
        x = lrelu(dense(x, this.params.get(`mapping/fc${i}/weight`), this.params.get(`mapping/fc${i}/bias`), cfg.mappingLrMul)) as tf.Tensor2D;
      }
      if (truncationPsi !== 1) {
        const avg = this.params.get('mapping/w_avg');
        x = tf.add(avg, tf.mul(tf.sub(x, avg), truncationPsi)) as tf.Tensor2D;
      }
      return x;
    });
  }

  /** Moves w_avg towards the batch mean of w (β = 0.995), as StyleGAN2 tracks it for truncation. */
  updateWAvg(w: tf.Tensor2D, beta = 0.995): void {
    const avg = this.params.get('mapping/w_avg');
    tf.tidy(() => avg.assign(tf.add(tf.mul(tf.sub(avg, tf.mean(w, 0)), beta), tf.mean(w, 0))));
  }

  /** w [N,W] → image + per-block features. Caller owns (and disposes) the outputs. */
  synthesis(w: tf.Tensor2D, opts: SynthesisOptions = {}): GeneratorOutput {
    const noiseMode = opts.noiseMode ?? 'random';
    const p = this.params;
    const n = w.shape[0];
    const keptRes: number[] = [];
    // Return every output from the tidy (not tf.keep: kept tensors would escape outer scopes such as variableGrads).
    const [image, ...featList] = tf.tidy(() => {
      const feats: tf.Tensor4D[] = [];
      let x = tf.tile(tf.expandDims(p.get('synthesis/const'), 0), [n, 1, 1, 1]) as tf.Tensor4D;
      let img: tf.Tensor4D | null = null;
      let noiseIdx = 0;
      for (const r of this.resolutions) {
        if (r > 4) x = upsample2x(x);
        for (const layer of blockLayers(r)) {
          const base = `synthesis/b${r}/${layer}`;
          const s = dense(w, p.get(`${base}/affine/weight`), p.get(`${base}/affine/bias`)) as tf.Tensor2D;
          x = modConv(x, p.get(`${base}/weight`) as tf.Tensor4D, s, true);
          if (noiseMode !== 'none') {
            const noise = noiseMode === 'const'
              ? p.get(`${base}/noise_const`)
              : tf.tensor4d(randomNoise(hashSeed(opts.noiseSeed ?? 0, noiseIdx), n, r * r, opts.noiseRows), [n, r, r, 1]);
            x = tf.add(x, tf.mul(noise, p.get(`${base}/noise_strength`)));
          }
          noiseIdx++;
          x = lrelu(tf.add(x, p.get(`${base}/bias`))) as tf.Tensor4D;
        }
        if (!opts.keepFeatures || opts.keepFeatures.includes(r)) { keptRes.push(r); feats.push(x); }
        const tb = `synthesis/b${r}/torgb`;
        const s = dense(w, p.get(`${tb}/affine/weight`), p.get(`${tb}/affine/bias`)) as tf.Tensor2D;
        const y = tf.add(modConv(x, p.get(`${tb}/weight`) as tf.Tensor4D, s, false), p.get(`${tb}/bias`)) as tf.Tensor4D;
        img = img ? (tf.add(upsample2x(img), y) as tf.Tensor4D) : y;
      }
      return [img!, ...feats];
    });
    const features = new Map<number, tf.Tensor4D>();
    keptRes.forEach((r, i) => features.set(r, featList[i]));
    return { image, features };
  }

  /** Convenience: z → (image, features). */
  generate(z: tf.Tensor2D, truncationPsi = 1, opts: SynthesisOptions = {}): GeneratorOutput {
    const w = this.mapping(z, truncationPsi);
    try {
      return this.synthesis(w, opts);
    } finally {
      w.dispose();
    }
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** N(0,1) noise of n rows × size from one seed; with `rows`, that share of the draws of `rows.total` rows. */
function randomNoise(seed: number, n: number, size: number, rows?: { offset: number; total: number }): Float32Array {
  if (!rows) return Rng.for(seed).normalArray(n * size);
  return Rng.for(seed).normalArray(rows.total * size).subarray(rows.offset * size, (rows.offset + n) * size);
}

/** Disposes every tensor of a generator output. */
export function disposeOutput(out: GeneratorOutput): void {
  out.image.dispose();
  for (const f of out.features.values()) f.dispose();
}
