/**
 * The official layers, with their weights converted once to tfjs layouts and their equalised
 * learning-rate gains (weight_gain, bias_gain, as stored in the pickle: lr_multiplier is already
 * folded into them) applied at load time.
 */
import * as tf from '@tensorflow/tfjs';
import { permute, type Rec, toTf } from './record';
import { type Activation, activationOf, biasAct, chain, DEFAULT_GAIN, Fir, normalize2ndMoment, ResampleConv } from './ops';

/** FullyConnectedLayer: act(x · (W·weight_gain)ᵀ + b·bias_gain) · default gain of act. */
export class FullyConnected {
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly w: tf.Tensor2D; // [in,out]
  private readonly b: tf.Tensor1D | null;
  private readonly act: Activation;

  constructor(rec: Rec) {
    rec.expectClass('FullyConnectedLayer');
    const weight = rec.tensor('weight', [null, null]);
    [this.outFeatures, this.inFeatures] = weight.shape;
    this.act = activationOf(rec, 'activation', 'linear');
    const wg = rec.num('weight_gain', 1 / Math.sqrt(this.inFeatures));
    const bg = rec.num('bias_gain', 1);
    const t = permute(weight.data as Float32Array, weight.shape, [1, 0]);
    for (let i = 0; i < t.data.length; i++) t.data[i] *= wg;
    this.w = tf.tensor2d(t.data, [this.inFeatures, this.outFeatures]);
    const bias = rec.tensorOpt('bias');
    if (bias) {
      const b = Float32Array.from(bias.data as Float32Array);
      if (bg !== 1) for (let i = 0; i < b.length; i++) b[i] *= bg;
      this.b = tf.tensor1d(b);
    } else {
      this.b = null;
    }
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return biasAct(tf.matMul(x, this.w), this.b, this.act, DEFAULT_GAIN[this.act], null);
  }

  dispose(): void {
    this.w.dispose();
    this.b?.dispose();
  }
}

/** Conv2dLayer: bias_act(conv(x, W·weight_gain), b, act, act_gain·gain, conv_clamp·gain). */
export class Conv2dLayer {
  readonly conv: ResampleConv;
  private readonly b: tf.Tensor1D | null;
  private readonly act: Activation;
  private readonly actGain: number;
  private readonly clamp: number | null;
  private readonly fir: Fir | null;

  constructor(rec: Rec) {
    rec.expectClass('Conv2dLayer');
    const weight = rec.tensor('weight', [null, null, null, null]);
    const [, i, k] = weight.shape;
    this.act = activationOf(rec, 'activation', 'linear');
    this.actGain = rec.num('act_gain', DEFAULT_GAIN[this.act]);
    this.clamp = rec.numOrNull('conv_clamp');
    const f = rec.tensorOpt('resample_filter');
    this.fir = f ? new Fir(f, rec) : null;
    const wg = rec.num('weight_gain', 1 / Math.sqrt(i * k * k));
    this.conv = new ResampleConv(rec, weight, wg, rec.num('up', 1), rec.num('down', 1), rec.num('padding', Math.floor(k / 2)), this.fir);
    const bias = rec.tensorOpt('bias');
    this.b = bias ? (toTf(bias) as tf.Tensor1D) : null;
  }

  get outChannels(): number {
    return this.conv.outChannels;
  }

  apply(x: tf.Tensor4D, gain = 1): tf.Tensor4D {
    return chain(
      x,
      (t) => this.conv.apply(t as tf.Tensor4D),
      (t) => biasAct(t, this.b, this.act, this.actGain * gain, this.clamp === null ? null : this.clamp * gain),
    );
  }

  dispose(): void {
    this.conv.dispose();
    this.b?.dispose();
    this.fir?.dispose();
  }
}

export type NoiseMode = 'const' | 'random' | 'none';

/**
 * SynthesisLayer: modulated conv with demodulation, evaluated in the non-fused form — scale the
 * input channels by the styles s = affine(w), one ordinary conv with the shared weight, scale the
 * output channels by d = 1/√(Σ_{i,k} (W·s)² + 1e-8) — then noise, bias, activation, clamp.
 */
export class SynthesisLayer {
  readonly resolution: number;
  readonly outChannels: number;
  readonly inChannels: number;
  private readonly affine: FullyConnected;
  private readonly conv: ResampleConv;
  /** Σ_k W² per (i, o): [I,O], for the demodulation coefficients. */
  private readonly wsq: tf.Tensor2D;
  private readonly b: tf.Tensor1D;
  private readonly noiseConst: tf.Tensor4D | null; // [1,R,R,1], noise_const · noise_strength
  private readonly noiseStrength: number;
  private readonly act: Activation;
  private readonly actGain: number;
  private readonly clamp: number | null;
  private readonly fir: Fir | null;

  constructor(rec: Rec) {
    rec.expectClass('SynthesisLayer');
    const weight = rec.tensor('weight', [null, null, null, null]);
    const [o, i, k] = weight.shape;
    this.outChannels = o;
    this.inChannels = i;
    this.resolution = rec.num('resolution');
    this.affine = new FullyConnected(rec.child('affine'));
    this.act = activationOf(rec, 'activation', 'lrelu');
    this.actGain = rec.num('act_gain', DEFAULT_GAIN[this.act]);
    this.clamp = rec.numOrNull('conv_clamp');
    const f = rec.tensorOpt('resample_filter');
    this.fir = f ? new Fir(f, rec) : null;
    this.conv = new ResampleConv(rec, weight, 1, rec.num('up', 1), 1, rec.num('padding', Math.floor(k / 2)), this.fir);
    const wd = weight.data as Float32Array;
    const sq = new Float32Array(i * o);
    for (let oo = 0; oo < o; oo++) for (let ii = 0; ii < i; ii++) {
      let s = 0;
      for (let t = 0; t < k * k; t++) { const v = wd[(oo * i + ii) * k * k + t]; s += v * v; }
      sq[ii * o + oo] = s;
    }
    this.wsq = tf.tensor2d(sq, [i, o]);
    this.b = toTf(rec.tensor('bias', [o])) as tf.Tensor1D;
    const useNoise = rec.bool('use_noise', true);
    const r = this.resolution;
    if (useNoise) {
      const strength = (rec.tensor('noise_strength').data as Float32Array)[0];
      this.noiseStrength = strength;
      const nc = rec.tensor('noise_const', [r, r]).data as Float32Array;
      const scaled = new Float32Array(nc.length);
      for (let j = 0; j < nc.length; j++) scaled[j] = Math.fround(nc[j] * strength);
      this.noiseConst = tf.tensor4d(scaled, [1, r, r, 1]);
    } else {
      this.noiseStrength = 0;
      this.noiseConst = null;
    }
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D, noiseMode: NoiseMode, noiseSeed: number, gain = 1): tf.Tensor4D {
    const n = x.shape[0];
    const r = this.resolution;
    const s = this.affine.apply(w); // [N,I]
    const d = tf.rsqrt(tf.add(tf.matMul(tf.square(s), this.wsq), 1e-8)); // [N,O]
    const noise = !this.noiseConst || noiseMode === 'none' ? null
      : noiseMode === 'const' ? this.noiseConst
      : tf.mul(tf.randomNormal([n, r, r, 1], 0, 1, 'float32', noiseSeed), this.noiseStrength);
    return chain(
      x,
      (t) => tf.mul(t, tf.reshape(s, [n, 1, 1, this.inChannels])),
      (t) => this.conv.apply(t as tf.Tensor4D),
      (t) => tf.mul(t, tf.reshape(d, [n, 1, 1, this.outChannels])),
      noise && ((t) => tf.add(t, noise)),
      (t) => biasAct(t, this.b, this.act, this.actGain * gain, this.clamp === null ? null : this.clamp * gain),
    );
  }

  dispose(): void {
    this.affine.dispose();
    this.conv.dispose();
    this.wsq.dispose();
    this.b.dispose();
    this.noiseConst?.dispose();
    this.fir?.dispose();
  }
}

/** ToRGBLayer: modulated 1×1 conv without demodulation (styles · weight_gain), bias, clamp. */
export class ToRGBLayer {
  readonly inChannels: number;
  readonly outChannels: number;
  private readonly affine: FullyConnected;
  private readonly conv: ResampleConv;
  private readonly b: tf.Tensor1D;
  private readonly clamp: number | null;
  private readonly styleGain: number;

  constructor(rec: Rec) {
    rec.expectClass('ToRGBLayer');
    const weight = rec.tensor('weight', [null, null, null, null]);
    const [o, i, k] = weight.shape;
    this.inChannels = i;
    this.outChannels = o;
    this.affine = new FullyConnected(rec.child('affine'));
    this.styleGain = rec.num('weight_gain', 1 / Math.sqrt(i * k * k));
    this.clamp = rec.numOrNull('conv_clamp');
    this.conv = new ResampleConv(rec, weight, 1, 1, 1, 0, null);
    this.b = toTf(rec.tensor('bias', [o])) as tf.Tensor1D;
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D {
    const n = x.shape[0];
    const s = tf.mul(this.affine.apply(w), this.styleGain);
    return chain(
      x,
      (t) => tf.mul(t, tf.reshape(s, [n, 1, 1, this.inChannels])),
      (t) => this.conv.apply(t as tf.Tensor4D),
      (t) => biasAct(t, this.b, 'linear', 1, this.clamp),
    );
  }

  dispose(): void {
    this.affine.dispose();
    this.conv.dispose();
    this.b.dispose();
  }
}

/** MappingNetwork: normalise z (and the embedded c), concatenate, the FC stack; no broadcast or truncation here. */
export class MappingNetwork {
  readonly zDim: number;
  readonly cDim: number;
  readonly wDim: number;
  readonly numLayers: number;
  private readonly embed: FullyConnected | null;
  private readonly fcs: FullyConnected[] = [];
  /** w_avg buffer (absent for the discriminator's label mapping). */
  readonly wAvg: tf.Tensor1D | null;

  constructor(rec: Rec) {
    rec.expectClass('MappingNetwork');
    this.zDim = rec.num('z_dim');
    this.cDim = rec.num('c_dim');
    this.wDim = rec.num('w_dim');
    this.numLayers = rec.num('num_layers');
    this.embed = this.cDim > 0 ? new FullyConnected(rec.child('embed')) : null;
    for (let i = 0; i < this.numLayers; i++) this.fcs.push(new FullyConnected(rec.child(`fc${i}`)));
    const wAvg = rec.tensorOpt('w_avg');
    this.wAvg = wAvg ? (toTf(wAvg) as tf.Tensor1D) : null;
  }

  apply(z: tf.Tensor2D | null, c: tf.Tensor2D | null): tf.Tensor2D {
    let x: tf.Tensor2D | null = null;
    if (this.zDim > 0) {
      if (!z || z.shape[1] !== this.zDim) throw new Error(`mapping: z must be [N,${this.zDim}]`);
      x = normalize2ndMoment(z);
    }
    if (this.cDim > 0) {
      if (!c || c.shape[1] !== this.cDim) throw new Error(`mapping: this network is conditional; c must be [N,${this.cDim}]`);
      const y = normalize2ndMoment(this.embed!.apply(c));
      x = x ? tf.concat([x, y], 1) : y;
    }
    if (!x) throw new Error('mapping: neither z nor c');
    for (const fc of this.fcs) x = fc.apply(x);
    return x;
  }

  dispose(): void {
    this.embed?.dispose();
    for (const fc of this.fcs) fc.dispose();
    this.wAvg?.dispose();
  }
}
