/**
 * The official StyleGAN2-ADA discriminator, and GGDR's (the same plus a U-Net-like decoder),
 * evaluated in tfjs from a pickled record. NHWC in and out.
 *
 *   blocks b{R} … b8: 'orig'   fromrgb (first block only) → conv0 → conv1 (down 2);
 *                     'skip'   fromrgb of the FIR-downsampled image added in every block;
 *                     'resnet' (skip 1×1 down-conv · √½) + conv1(conv0(x)) · √½.
 *   epilogue b4:      (skip: + fromrgb(img)) → minibatch stddev → conv 3×3 → FC on the NCHW-flattened
 *                     map → FC out; conditional: ⟨out, cmap⟩ / √cmap_dim with cmap = mapping(c).
 *   GGDR decoder:     for each r in dec_resolutions (8, 16, …): y = b{r}_dec(y ⊕ x_{r/2}), where x_{r/2}
 *                     is the output of block b{r} (resolution r/2), the first level takes x_{r/2} alone, ⊕ is a
 *                     channel concatenation (decoder channels first), and b{r}_dec is a 1×1 conv with FIR 2× upsampling.
 */
import * as tf from '@tensorflow/tfjs';
import type { OfficialModule } from '../types';
import { UserError } from '../../errors';
import { Rec } from './record';
import { chain, downsample2d, Fir, tidyPair } from './ops';
import { Conv2dLayer, FullyConnected, MappingNetwork } from './layers';
import type { Architecture } from './generator';

export interface OfficialDiscriminatorOptions {
  /** Labels [N, cDim] (conditional discriminators). */
  c?: tf.Tensor2D;
  /** Run the GGDR decoder (default true when the network has one). */
  withDecoder?: boolean;
  /** Also return every block's output. */
  keepBlocks?: boolean;
}

export interface OfficialDiscriminatorOutput {
  /** [N,1] */
  logits: tf.Tensor2D;
  /** GGDR decoder output at ggdrRes, [N,r,r,C]; null without a decoder (or withDecoder false). */
  decoded: tf.Tensor4D | null;
  /** Every decoder level by resolution. */
  decodedAll?: Map<number, tf.Tensor4D>;
  /** x after block b{r} (so at resolution r/2), keyed by the block's resolution r. */
  blocks?: Map<number, tf.Tensor4D>;
}

function architectureOf(rec: Rec): Architecture {
  const a = rec.str('architecture', 'resnet');
  if (a !== 'orig' && a !== 'skip' && a !== 'resnet') rec.fail(`has architecture '${a}' (supported: orig, skip, resnet)`);
  return a;
}

class DiscriminatorBlock {
  readonly resolution: number;
  readonly architecture: Architecture;
  private readonly fromrgb: Conv2dLayer | null;
  private readonly conv0: Conv2dLayer;
  private readonly conv1: Conv2dLayer;
  private readonly skip: Conv2dLayer | null;
  private readonly fir: Fir;
  private readonly inChannels: number;

  constructor(rec: Rec) {
    rec.expectClass('DiscriminatorBlock');
    this.resolution = rec.num('resolution');
    this.architecture = architectureOf(rec);
    this.inChannels = rec.num('in_channels');
    this.fir = new Fir(rec.tensor('resample_filter'), rec);
    const fromrgb = rec.childOpt('fromrgb');
    if ((this.inChannels === 0 || this.architecture === 'skip') && !fromrgb) rec.fail('has no fromrgb layer');
    this.fromrgb = fromrgb ? new Conv2dLayer(fromrgb) : null;
    this.conv0 = new Conv2dLayer(rec.child('conv0'));
    this.conv1 = new Conv2dLayer(rec.child('conv1'));
    this.skip = this.architecture === 'resnet' ? new Conv2dLayer(rec.child('skip')) : null;
  }

  apply(xIn: tf.Tensor4D | null, img: tf.Tensor4D | null): [tf.Tensor4D, tf.Tensor4D | null] {
    let x = xIn;
    if (this.inChannels === 0 || this.architecture === 'skip') {
      const y = this.fromrgb!.apply(img!);
      x = x ? tf.add<tf.Tensor4D>(x, y) : y;
      img = this.architecture === 'skip' ? downsample2d(img!, this.fir) : null;
    }
    if (!x) throw new Error(`Discriminator block b${this.resolution} got no input`);
    const y = this.skip ? this.skip.apply(x, Math.SQRT1_2) : null;
    const out = chain<tf.Tensor4D>(
      x,
      (t) => this.conv0.apply(t as tf.Tensor4D),
      (t) => this.conv1.apply(t as tf.Tensor4D, y ? Math.SQRT1_2 : 1),
      y && ((t) => tf.add(y, t)),
    );
    y?.dispose();
    return [out, img];
  }

  dispose(): void {
    this.fromrgb?.dispose();
    this.conv0.dispose();
    this.conv1.dispose();
    this.skip?.dispose();
    this.fir.dispose();
  }
}

class Epilogue {
  readonly architecture: Architecture;
  readonly cmapDim: number;
  readonly resolution: number;
  readonly inChannels: number;
  private readonly fromrgb: Conv2dLayer | null;
  private readonly mbstdGroup: number | null;
  private readonly mbstdChannels: number;
  private readonly conv: Conv2dLayer;
  private readonly fc: FullyConnected;
  private readonly out: FullyConnected;
  /** Row permutation of fc's input from NCHW to NHWC flattening (indices into the NHWC-flattened map). */
  private readonly flattenPerm: tf.Tensor1D;

  constructor(rec: Rec) {
    rec.expectClass('DiscriminatorEpilogue');
    this.architecture = architectureOf(rec);
    this.cmapDim = rec.num('cmap_dim', 0);
    this.resolution = rec.num('resolution', 4);
    this.inChannels = rec.num('in_channels');
    this.fromrgb = this.architecture === 'skip' ? new Conv2dLayer(rec.child('fromrgb')) : null;
    const mbstd = rec.childOpt('mbstd');
    if (mbstd) {
      mbstd.expectClass('MinibatchStdLayer');
      this.mbstdGroup = mbstd.numOrNull('group_size');
      this.mbstdChannels = mbstd.num('num_channels', 1);
    } else {
      this.mbstdGroup = null;
      this.mbstdChannels = 0;
    }
    this.conv = new Conv2dLayer(rec.child('conv'));
    this.fc = new FullyConnected(rec.child('fc'));
    this.out = new FullyConnected(rec.child('out'));
    const r = this.resolution;
    const c = this.conv.outChannels;
    if (this.fc.inFeatures !== c * r * r) rec.fail(`has fc with ${this.fc.inFeatures} inputs, expected ${c}·${r}·${r}`);
    // NHWC flattening index (h, w, ch) must feed the weight row of NCHW index (ch, h, w): gather
    // the NHWC-flattened activations into NCHW order instead of moving 4·4·C·C weights around.
    const perm = new Int32Array(c * r * r);
    for (let ch = 0; ch < c; ch++) for (let h = 0; h < r; h++) for (let w = 0; w < r; w++) perm[(ch * r + h) * r + w] = (h * r + w) * c + ch;
    this.flattenPerm = tf.tensor1d(perm, 'int32');
  }

  /** Minibatch standard deviation: per group of G samples (sample n is in group n mod N/G), the mean
   *  over pixels and channels of each channel group's stddev, appended as num_channels extra channels. */
  private mbstd(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w, c] = x.shape;
    const g = this.mbstdGroup === null ? n : Math.min(this.mbstdGroup, n);
    if (n % g !== 0) throw new UserError(`The discriminator's minibatch-stddev layer needs a batch that is a multiple of its group size ${g} (or at most ${g}); got ${n}.`, 'The official code has the same constraint: evaluate in batches of that size.');
    const f = this.mbstdChannels;
    const m = n / g;
    const y = tf.reshape(x, [g, m * h * w * c]);
    const centred = tf.sub(y, tf.mean(y, 0, true));
    const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), 0), 1e-8)); // [m·h·w·c]
    const perF = tf.mean(tf.reshape(std, [m, h * w, f, c / f]), [1, 3]); // [m,f]
    const tiled = tf.tile(tf.reshape(perF, [1, m, 1, f]), [g, 1, h * w, 1]); // [g,m,h·w,f]
    return tf.concat([x, tf.reshape(tiled, [n, h, w, f])], 3);
  }

  apply(x: tf.Tensor4D, img: tf.Tensor4D | null, cmap: tf.Tensor2D | null): tf.Tensor2D {
    if (this.fromrgb) x = tf.add<tf.Tensor4D>(x, this.fromrgb.apply(img!));
    if (this.mbstdChannels > 0) x = this.mbstd(x);
    x = this.conv.apply(x);
    const n = x.shape[0];
    const flat = tf.gather(tf.reshape(x, [n, -1]), this.flattenPerm, 1) as tf.Tensor2D;
    let out = this.out.apply(this.fc.apply(flat));
    if (this.cmapDim > 0) {
      if (!cmap) throw new Error('This discriminator is conditional: pass c');
      out = tf.mul(tf.sum(tf.mul(out, cmap), 1, true), 1 / Math.sqrt(this.cmapDim));
    }
    return out;
  }

  dispose(): void {
    this.fromrgb?.dispose();
    this.conv.dispose();
    this.fc.dispose();
    this.out.dispose();
    this.flattenPerm.dispose();
  }
}

export class OfficialDiscriminator {
  readonly cDim: number;
  readonly resolution: number;
  readonly imgChannels: number;
  /** Resolution of the GGDR decoder's output (the largest of dec_resolutions); null without a decoder. */
  readonly ggdrRes: number | null;
  readonly decResolutions: number[];
  readonly blockResolutions: number[];
  readonly architecture: Architecture;
  private readonly blocks: DiscriminatorBlock[] = [];
  private readonly epilogue: Epilogue;
  private readonly mappingNet: MappingNetwork | null;
  private readonly decoders: Conv2dLayer[] = [];

  constructor(module: OfficialModule, name = 'D') {
    const rec = new Rec(module, name).expectClass('Discriminator');
    this.cDim = rec.num('c_dim');
    this.resolution = rec.num('img_resolution');
    this.imgChannels = rec.num('img_channels');
    const log2 = Math.log2(this.resolution);
    if (!Number.isInteger(log2) || log2 < 3) rec.fail(`has img_resolution ${this.resolution}, not a power of two ≥ 8`);
    this.blockResolutions = rec.has('block_resolutions') ? rec.numList('block_resolutions') : Array.from({ length: log2 - 2 }, (_, i) => this.resolution >> i);
    this.decResolutions = rec.has('dec_resolutions') ? rec.numList('dec_resolutions') : [];
    this.ggdrRes = this.decResolutions.length ? Math.max(...this.decResolutions) : null;
    const made: Array<{ dispose(): void }> = [];
    try {
      for (const r of this.blockResolutions) {
        const b = new DiscriminatorBlock(rec.child(`b${r}`));
        made.push(b);
        this.blocks.push(b);
      }
      this.epilogue = new Epilogue(rec.child('b4'));
      made.push(this.epilogue);
      this.mappingNet = this.cDim > 0 ? new MappingNetwork(rec.child('mapping', 'MappingNetwork')) : null;
      if (this.mappingNet) made.push(this.mappingNet);
      for (const r of this.decResolutions) {
        if (!this.blockResolutions.includes(r)) rec.fail(`has decoder resolution ${r} without a block b${r}`);
        const d = new Conv2dLayer(rec.child(`b${r}_dec`));
        made.push(d);
        this.decoders.push(d);
      }
    } catch (e) {
      for (const m of made) m.dispose();
      throw e;
    }
    this.architecture = this.epilogue.architecture;
  }

  /** logits [N,1] for images [N,R,R,C] in [-1,1]; plus the GGDR decoder maps and block outputs on request. */
  apply(img: tf.Tensor4D, opts: OfficialDiscriminatorOptions = {}): OfficialDiscriminatorOutput {
    const { c, withDecoder = true, keepBlocks = false } = opts;
    const [, h, w, ch] = img.shape;
    if (h !== this.resolution || w !== this.resolution || ch !== this.imgChannels) {
      throw new Error(`Discriminator input must be [N,${this.resolution},${this.resolution},${this.imgChannels}], got [${img.shape}]`);
    }
    if (this.cDim > 0 && (!c || c.shape[1] !== this.cDim)) throw new UserError(`This discriminator is conditional (${this.cDim} classes): it needs labels c [N,${this.cDim}].`);
    const runDecoder = withDecoder && this.decoders.length > 0;
    const blocks = keepBlocks ? new Map<number, tf.Tensor4D>() : undefined;
    const decodedAll = runDecoder ? new Map<number, tf.Tensor4D>() : undefined;
    let logits!: tf.Tensor2D;
    let decoded: tf.Tensor4D | null = null;
    // One tidy per block: only the block outputs (half the block's resolution, so small) outlive their block.
    const outs = new Map<number, tf.Tensor4D>();
    let im: tf.Tensor4D | null = img;
    try {
      let x: tf.Tensor4D | null = null;
      for (const b of this.blocks) {
        const xIn: tf.Tensor4D | null = x;
        const imIn: tf.Tensor4D | null = im;
        const [nx, nim]: [tf.Tensor4D, tf.Tensor4D | null] = tidyPair((): [tf.Tensor4D, tf.Tensor4D | null] => b.apply(xIn, imIn));
        if (imIn && imIn !== img) imIn.dispose();
        x = nx;
        im = nim;
        outs.set(b.resolution, nx);
      }
      const xLast = x!;
      const imLast = im;
      logits = tf.tidy(() => this.epilogue.apply(xLast, imLast, this.mappingNet ? this.mappingNet.apply(null, c!) : null));
      if (runDecoder) {
        let y: tf.Tensor4D | null = null;
        this.decResolutions.forEach((r, i) => {
          const feat = outs.get(r)!;
          const prev: tf.Tensor4D | null = y;
          y = tf.tidy(() => this.decoders[i].apply(prev ? tf.concat([prev, feat], 3) : feat));
          decodedAll!.set(r, y);
        });
        decoded = decodedAll!.get(this.ggdrRes!)!;
      }
    } catch (e) {
      tf.dispose([...(decodedAll?.values() ?? [])]);
      if (blocks) blocks.clear();
      tf.dispose([...outs.values()]);
      throw e;
    } finally {
      if (im && im !== img) im.dispose();
    }
    if (blocks) for (const [r, t] of outs) blocks.set(r, t);
    else tf.dispose([...outs.values()]);
    return { logits, decoded, decodedAll, blocks };
  }

  dispose(): void {
    for (const b of this.blocks) b.dispose();
    this.epilogue.dispose();
    this.mappingNet?.dispose();
    for (const d of this.decoders) d.dispose();
  }
}
