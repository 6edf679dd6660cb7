/**
 * The official StyleGAN2-ADA / GGDR generator (`Generator` with its `MappingNetwork` and
 * `SynthesisNetwork`), evaluated in tfjs from a pickled record. NHWC in and out.
 *
 *   mapping:   z → normalise → (⊕ normalised embed(c)) → FC stack → w, broadcast to num_ws rows,
 *              truncation w_avg + ψ(w − w_avg) on the first `cutoff` rows.
 *   synthesis: block b4 starts from a learned constant; each block r uses ws rows
 *              [idx, idx + num_conv + num_torgb) and advances idx by num_conv.
 *              'orig':   conv0 (up 2) → conv1; ToRGB only in the last block.
 *              'skip':   as orig, plus ToRGB in every block added to the 2×-upsampled running image.
 *              'resnet': (skip 1×1 up-conv · √½) + conv1(conv0(x)) · √½; ToRGB only in the last block.
 * Blocks the pickle marks fp16 are evaluated in float32.
 */
import * as tf from '@tensorflow/tfjs';
import { blockResolutions } from '../../config/options';
import type { OfficialModule } from '../types';
import { hashSeed } from '../../util/rng';
import { UserError } from '../../errors';
import { Rec, toTf } from './record';
import { chain, Fir, tidyPair, upsample2d } from './ops';
import { Conv2dLayer, MappingNetwork, type NoiseMode, SynthesisLayer, ToRGBLayer } from './layers';

export type Architecture = 'orig' | 'skip' | 'resnet';

export interface OfficialSynthesisOptions {
  /** 'const' (default, as generate.py): each layer's noise_const · noise_strength. */
  noiseMode?: NoiseMode;
  /** Seed of 'random' noise. */
  noiseSeed?: number;
  /** Block resolutions whose feature maps to return; undefined = all. */
  keepFeatures?: number[];
  /** Stop after this block (features only; the image is null unless it is the last block). */
  maxRes?: number;
  /** Also return the running image after each block that has one. */
  keepRgb?: boolean;
}

export interface OfficialSynthesisOutput {
  /** [N,R,R,C], about [-1,1]; null when stopped early by maxRes. */
  image: tf.Tensor4D | null;
  /** x after block b{r}: [N,r,r,C_r]. */
  features: Map<number, tf.Tensor4D>;
  /** Running image after block b{r}: [N,r,r,C] (blocks before any ToRGB have none). */
  rgb?: Map<number, tf.Tensor4D>;
}

class SynthesisBlock {
  readonly resolution: number;
  readonly architecture: Architecture;
  readonly numConv: number;
  readonly numToRgb: number;
  readonly outChannels: number;
  private readonly constInput: tf.Tensor4D | null; // [1,4,4,C]
  private readonly conv0: SynthesisLayer | null;
  private readonly conv1: SynthesisLayer;
  private readonly torgb: ToRGBLayer | null;
  private readonly skip: Conv2dLayer | null;
  private readonly fir: Fir;

  constructor(rec: Rec, readonly isLast: boolean) {
    rec.expectClass('SynthesisBlock');
    this.resolution = rec.num('resolution');
    const arch = rec.str('architecture', 'skip');
    if (arch !== 'orig' && arch !== 'skip' && arch !== 'resnet') rec.fail(`has architecture '${arch}' (supported: orig, skip, resnet)`);
    this.architecture = arch;
    const inChannels = rec.num('in_channels');
    this.fir = new Fir(rec.tensor('resample_filter'), rec);
    this.conv1 = new SynthesisLayer(rec.child('conv1'));
    this.outChannels = this.conv1.outChannels;
    if (inChannels === 0) {
      const c = rec.tensor('const', [this.outChannels, this.resolution, this.resolution]);
      this.constInput = tf.tidy(() => tf.transpose(tf.reshape(toTf(c), [1, this.outChannels, this.resolution, this.resolution]), [0, 2, 3, 1]) as tf.Tensor4D);
      this.conv0 = null;
    } else {
      this.constInput = null;
      this.conv0 = new SynthesisLayer(rec.child('conv0'));
    }
    const torgb = rec.childOpt('torgb');
    this.torgb = torgb ? new ToRGBLayer(torgb) : null;
    const skip = inChannels !== 0 && arch === 'resnet' ? rec.child('skip') : undefined;
    this.skip = skip ? new Conv2dLayer(skip) : null;
    this.numConv = rec.num('num_conv', this.conv0 ? 2 : 1);
    this.numToRgb = rec.num('num_torgb', this.torgb ? 1 : 0);
    if ((this.numToRgb > 0) !== (this.torgb !== null)) rec.fail('has num_torgb inconsistent with its torgb layer');
  }

  /** ws: [N, numConv + numToRgb, W] rows of this block. */
  apply(xIn: tf.Tensor4D | null, imgIn: tf.Tensor4D | null, ws: tf.Tensor2D[], noiseMode: NoiseMode, noiseSeed: number): [tf.Tensor4D, tf.Tensor4D | null] {
    const n = ws[0].shape[0];
    let wi = 0;
    const seed = (layer: number) => hashSeed(noiseSeed, this.resolution, layer);
    let x: tf.Tensor4D;
    if (this.constInput) {
      x = chain(this.constInput, (t) => tf.tile(t, [n, 1, 1, 1]), (t) => this.conv1.apply(t as tf.Tensor4D, ws[wi++], noiseMode, seed(1)));
    } else {
      if (!xIn) throw new Error(`Synthesis block b${this.resolution} got no input`);
      const y = this.skip ? this.skip.apply(xIn, Math.SQRT1_2) : null;
      const gain = this.skip ? Math.SQRT1_2 : 1;
      x = chain(
        xIn,
        (t) => this.conv0!.apply(t as tf.Tensor4D, ws[wi++], noiseMode, seed(0)),
        (t) => this.conv1.apply(t as tf.Tensor4D, ws[wi++], noiseMode, seed(1), gain),
        y && ((t) => tf.add(y, t)),
      );
      y?.dispose();
    }
    let img = imgIn ? upsample2d(imgIn, this.fir) : null;
    if (this.torgb) {
      const y = this.torgb.apply(x, ws[wi++]);
      if (img) {
        const sum = tf.add<tf.Tensor4D>(img, y);
        img.dispose();
        y.dispose();
        img = sum;
      } else {
        img = y;
      }
    }
    return [x, img];
  }

  dispose(): void {
    this.constInput?.dispose();
    this.conv0?.dispose();
    this.conv1.dispose();
    this.torgb?.dispose();
    this.skip?.dispose();
    this.fir.dispose();
  }
}

export class OfficialGenerator {
  readonly zDim: number;
  readonly cDim: number;
  readonly wDim: number;
  readonly numWs: number;
  readonly resolution: number;
  readonly imgChannels: number;
  /** Block resolutions 4..R. */
  readonly resolutions: number[];
  readonly architecture: Architecture;
  private readonly mappingNet: MappingNetwork;
  private readonly blocks: SynthesisBlock[] = [];

  /** `rec`: the pickle's `G` or `G_ema`. Throws UserError naming the module for anything unsupported. */
  constructor(module: OfficialModule, name = 'G') {
    const rec = new Rec(module, name).expectClass('Generator');
    this.zDim = rec.num('z_dim');
    this.cDim = rec.num('c_dim');
    this.wDim = rec.num('w_dim');
    this.resolution = rec.num('img_resolution');
    this.imgChannels = rec.num('img_channels');
    const syn = rec.child('synthesis', 'SynthesisNetwork');
    this.mappingNet = new MappingNetwork(rec.child('mapping', 'MappingNetwork'));
    const log2 = Math.log2(this.resolution);
    if (!Number.isInteger(log2) || log2 < 2) rec.fail(`has img_resolution ${this.resolution}, not a power of two ≥ 4`);
    this.resolutions = syn.has('block_resolutions') ? syn.numList('block_resolutions') : blockResolutions(this.resolution);
    if (this.resolutions[this.resolutions.length - 1] !== this.resolution) syn.fail(`has block_resolutions [${this.resolutions}] not ending at img_resolution ${this.resolution}`);
    try {
      for (const r of this.resolutions) this.blocks.push(new SynthesisBlock(syn.child(`b${r}`), r === this.resolution));
    } catch (e) {
      for (const b of this.blocks) b.dispose();
      this.mappingNet.dispose();
      throw e;
    }
    this.architecture = this.blocks[this.blocks.length - 1].architecture;
    let numWs = 0;
    for (const b of this.blocks) numWs += b.numConv + (b.isLast ? b.numToRgb : 0);
    this.numWs = rec.num('num_ws', numWs);
    if (this.numWs !== numWs) syn.fail(`has num_ws ${this.numWs}, but its blocks use ${numWs}`);
    if (this.mappingNet.wDim !== this.wDim || this.mappingNet.zDim !== this.zDim) rec.fail('has a mapping network whose z_dim/w_dim differ from its own');
  }

  /** Channels of the block-r feature map. */
  channelsAt(r: number): number {
    const b = this.blocks.find((x) => x.resolution === r);
    if (!b) throw new Error(`No synthesis block at resolution ${r} (blocks: ${this.resolutions.join(', ')})`);
    return b.outChannels;
  }

  /** ws [N, numWs, W] for latents z [N, zDim] (float32), truncated towards w_avg by ψ on the first `cutoff` rows (null = all). */
  mapping(z: tf.Tensor2D, psi = 1, opts: { c?: tf.Tensor2D; cutoff?: number | null } = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const n = z.shape[0];
      if (this.cDim > 0 && (!opts.c || opts.c.shape[1] !== this.cDim)) throw new UserError(`This generator is conditional (${this.cDim} classes): it needs labels c [N,${this.cDim}].`);
      const w = this.mappingNet.apply(z, opts.c ?? null);
      let ws = tf.tile(tf.reshape(w, [n, 1, this.wDim]), [1, this.numWs, 1]) as tf.Tensor3D;
      if (psi !== 1) {
        const avg = this.mappingNet.wAvg;
        if (!avg) throw new UserError('This mapping network has no w_avg, so truncation (ψ ≠ 1) is not possible.', 'Use ψ = 1.');
        // torch.lerp(start, end, t): start + t·(end − start) for t < ½, else end − (1 − t)·(end − start).
        const diff = tf.sub(ws, avg);
        const trunc: tf.Tensor3D = psi < 0.5 ? tf.add(avg, tf.mul(diff, psi)) : tf.sub(ws, tf.mul(diff, 1 - psi));
        const cutoff = opts.cutoff ?? null;
        if (cutoff === null || cutoff >= this.numWs) ws = trunc;
        else if (cutoff > 0) {
          ws = tf.concat<tf.Tensor3D>([tf.slice(trunc, [0, 0, 0], [n, cutoff, this.wDim]), tf.slice(ws, [0, cutoff, 0], [n, this.numWs - cutoff, this.wDim])], 1);
        }
      }
      return ws;
    });
  }

  /** The synthesis network on ws [N, numWs, W]. */
  synthesis(ws: tf.Tensor3D, opts: OfficialSynthesisOptions = {}): OfficialSynthesisOutput {
    const { noiseMode = 'const', noiseSeed = 0, keepFeatures, maxRes = this.resolution, keepRgb = false } = opts;
    if (ws.shape[1] !== this.numWs || ws.shape[2] !== this.wDim) throw new Error(`synthesis: ws must be [N,${this.numWs},${this.wDim}], got [${ws.shape}]`);
    const features = new Map<number, tf.Tensor4D>();
    const rgb = keepRgb ? new Map<number, tf.Tensor4D>() : undefined;
    let image: tf.Tensor4D | null = null;
    const rows = tf.unstack(ws, 1) as tf.Tensor2D[];
    let x: tf.Tensor4D | null = null;
    let img: tf.Tensor4D | null = null;
    const release = (t: tf.Tensor4D | null) => {
      if (t && ![...features.values(), ...(rgb?.values() ?? [])].includes(t)) t.dispose();
    };
    try {
      let wIdx = 0;
      for (const b of this.blocks) {
        if (b.resolution > maxRes) break;
        const blockWs = rows.slice(wIdx, wIdx + b.numConv + b.numToRgb);
        wIdx += b.numConv;
        // One tidy per block, and the previous block's outputs freed unless kept: peak memory is about one block's.
        const [nx, nimg] = tidyPair(() => b.apply(x, img, blockWs, noiseMode, noiseSeed));
        release(x);
        if (img !== nimg) release(img);
        x = nx;
        img = nimg;
        if (!keepFeatures || keepFeatures.includes(b.resolution)) features.set(b.resolution, x);
        if (rgb && img) rgb.set(b.resolution, img);
        if (b.isLast) image = img;
      }
      release(x);
      if (img !== image) release(img);
    } catch (e) {
      release(x);
      if (img !== x) release(img);
      tf.dispose([...features.values(), ...(rgb?.values() ?? [])]);
      throw e;
    } finally {
      tf.dispose(rows);
    }
    return { image, features, rgb };
  }

  dispose(): void {
    this.mappingNet.dispose();
    for (const b of this.blocks) b.dispose();
  }
}
