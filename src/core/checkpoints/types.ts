/**
 * A checkpoint of any origin — a GAN Inspector `network-snapshot-*` folder or an official
 * StyleGAN2-ADA / GGDR `network-snapshot-*.pkl` — seen through one interface by everything that
 * inspects networks: sample grids, interpolation, K-means segmentation of G's features, D's GGDR
 * decoder, metrics, the CLI's raw `.npy` outputs. Tensors are NHWC throughout.
 */
import type * as tf from '@tensorflow/tfjs';
import type { TrainingOptions } from '../config/options';

export type NoiseMode = 'random' | 'const' | 'none';

export interface InspectSynthesisOptions {
  noiseMode?: NoiseMode;
  /** Seed for 'random' noise (deterministic per call). */
  noiseSeed?: number;
  /** Resolutions whose feature maps to return; undefined = all. */
  keepFeatures?: number[];
  /** Stop after this block (features only; the image is then null). Expensive high-res blocks are skipped. */
  maxRes?: number;
}

export interface InspectOutput {
  /** [N,R,R,C] in about [-1,1]; null when synthesis stopped early (maxRes). */
  image: tf.Tensor4D | null;
  /** Synthesis block outputs by resolution, [N,r,r,C_r]. */
  features: Map<number, tf.Tensor4D>;
}

/** A generator as the inspectors use it. */
export interface InspectGenerator {
  readonly zDim: number;
  /** Class-label dimension (0 = unconditional). */
  readonly cDim: number;
  readonly resolution: number;
  readonly imgChannels: number;
  /** Synthesis block resolutions, 4 … resolution. */
  readonly resolutions: number[];
  channelsAt(r: number): number;
  /** z [N,Z] for seeds — what a seed means for this kind of checkpoint. */
  latents(seeds: number[]): tf.Tensor2D;
  /** z → w (ours [N,W]; official per-layer ws [N,num_ws,W]); c one-hot [N,cDim] for conditional models. */
  mapping(z: tf.Tensor2D, psi?: number, c?: tf.Tensor2D): tf.Tensor;
  synthesis(w: tf.Tensor, opts?: InspectSynthesisOptions): InspectOutput;
  dispose(): void;
}

/** A discriminator with (maybe) a GGDR decoder. */
export interface InspectDiscriminator {
  /** Resolution of the decoder's prediction (ggdr_res), or null without a decoder. */
  readonly decoderRes: number | null;
  /** The decoder's prediction [N,g,g,C_G(g)] for images x [N,R,R,C] in [-1,1]. */
  decode(x: tf.Tensor4D, c?: tf.Tensor2D): tf.Tensor4D;
  /** Every resolution the decoder outputs at (official GGDR decoders have several levels; ours: ggdr_res only). */
  readonly decoderResolutions?: number[];
  /** The decoder's output at one of decoderResolutions. */
  decodeAt?(x: tf.Tensor4D, res: number, c?: tf.Tensor2D): tf.Tensor4D;
  dispose(): void;
}

export type CheckpointOrigin = 'gan-inspector' | 'official';

/** Where the images a run trained on are, as recorded by the run. */
export interface DatasetRef {
  /** The recorded path ('mnist' for our embedded digits), maybe relative or of another machine. */
  path: string;
  maxImages?: number;
  xflip?: boolean;
  /** Whether the run trained with labels (conditional). */
  useLabels?: boolean;
}

export interface CheckpointInfo {
  origin: CheckpointOrigin;
  /** The snapshot folder or .pkl file. */
  path: string;
  name: string;
  runDir: string;
  kimg: number | null;
  resolution: number;
  channels: number;
  cDim: number;
  /** The GGDR decoder's resolution when the checkpoint's D has one. */
  ggdrRes: number | null;
  dataset: DatasetRef | null;
  /** Ours only: the run's resolved options. */
  options?: TrainingOptions;
}

/** Networks of one checkpoint, loaded for inspection. */
export interface Checkpoint {
  info: CheckpointInfo;
  /** G_ema (default) or G. */
  G: InspectGenerator;
  /** When asked for: D (its decoder may be absent: decoderRes null). */
  D: InspectDiscriminator | null;
  dispose(): void;
}

export interface LoadCheckpointOptions {
  which?: 'G' | 'G_ema';
  withD?: boolean;
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
}
