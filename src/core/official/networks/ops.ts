/**
 * The operations of the official StyleGAN2-ADA networks, written from their definitions for NHWC
 * tfjs tensors:
 *
 *   upfirdn2d(x, f, up, down, pad, gain): insert up−1 zeros after every sample, pad (negative =
 *     crop), convolve with the 2-D FIR filter f·gain (true convolution, i.e. f flipped), keep every
 *     down-th sample starting at 0. Done as zero-insertion by padding, then one depthwise conv
 *     with stride `down` (XNNPACK on wasm).
 *   bias_act(x, b, act, gain, clamp) = clamp(act(x + b) · gain, ±clamp).
 *   Resampled convolution: up = 2 → transposed conv (stride 2, in polyphase form) then the FIR with gain 4;
 *     down = 2 → FIR then a stride-2 conv; 1×1 kernels resample on the cheaper side of the conv.
 */
import * as tf from '@tensorflow/tfjs';
import type { TorchTensor } from '../types';
import { permute, type Rec } from './record';

export type Activation = 'linear' | 'relu' | 'lrelu' | 'tanh' | 'sigmoid' | 'elu' | 'selu' | 'softplus' | 'swish';

/** Default gain of each activation (what bias_act applies when no gain is given). */
export const DEFAULT_GAIN: Record<Activation, number> = {
  linear: 1, relu: Math.SQRT2, lrelu: Math.SQRT2, tanh: 1, sigmoid: 1, elu: 1, selu: 1, softplus: 1, swish: Math.SQRT2,
};
const LRELU_ALPHA = 0.2;

export function activationOf(rec: Rec, name = 'activation', dflt?: Activation): Activation {
  const a = rec.str(name, dflt);
  if (!(a in DEFAULT_GAIN)) rec.fail(`uses activation '${a}', which is not supported`);
  return a as Activation;
}

/**
 * Applies `steps` in order, disposing each intermediate as soon as the next one exists (never `x`
 * itself). Inside tf.tidy everything would otherwise live until the tidy ends: at 1024 px one layer's
 * intermediates are ~130 MB each, and wasm's heap stops at 4 GB.
 */
export function chain<T extends tf.Tensor>(x: tf.Tensor, ...steps: Array<((t: tf.Tensor) => tf.Tensor) | null | false>): T {
  let cur = x;
  for (const f of steps) {
    if (!f) continue;
    const next = f(cur);
    if (cur !== x && next !== cur) cur.dispose();
    cur = next;
  }
  return cur as T;
}

/** tf.tidy for a function returning [tensor, tensor | null] (tidy's types do not admit null). */
export function tidyPair<A extends tf.Tensor, B extends tf.Tensor>(f: () => [A, B | null]): [A, B | null] {
  const [a, b] = tf.tidy(() => {
    const [p, q] = f();
    return q ? [p, q] : [p];
  }) as tf.Tensor[];
  return [a as A, (b as B | undefined) ?? null];
}

/** bias_act: act(x + b) · gain, then clamped to ±clamp (bias broadcast over the last axis). */
export function biasAct<T extends tf.Tensor>(x: T, b: tf.Tensor | null, act: Activation, gain: number, clamp: number | null): T {
  return chain<T>(
    x,
    b && ((t) => tf.add(t, b)),
    act !== 'linear' && ((t) => applyActivation(t, act)),
    gain !== 1 && ((t) => tf.mul(t, gain)),
    clamp !== null && clamp >= 0 && ((t) => tf.clipByValue(t, -clamp, clamp)),
  );
}

function applyActivation(y: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'linear': return y;
    case 'relu': return tf.relu(y);
    case 'lrelu': return tf.leakyRelu(y, LRELU_ALPHA);
    case 'tanh': return tf.tanh(y);
    case 'sigmoid': return tf.sigmoid(y);
    case 'elu': return tf.elu(y);
    case 'selu': return tf.selu(y);
    case 'softplus': return tf.softplus(y);
    case 'swish': return tf.tidy(() => tf.mul(y, tf.sigmoid(y)));
  }
}

/** A prepared low-pass FIR filter (the pickle's `resample_filter` buffer, already normalised). */
export class Fir {
  readonly fh: number;
  readonly fw: number;
  /** Flipped (so that correlation with it is convolution with the filter), row-major [fh,fw]. */
  private readonly flipped: Float32Array;
  /** When the filter is an outer product col ⊗ row (as [1,3,3,1] filters are): its flipped factors. */
  private readonly factors: { col: Float32Array; row: Float32Array } | null;
  private readonly cache = new Map<string, tf.Tensor4D>();

  constructor(t: TorchTensor, rec: Rec) {
    const f = t.data as Float32Array;
    let full: Float32Array;
    let fh: number;
    let fw: number;
    if (t.shape.length === 2) {
      [fh, fw] = t.shape;
      full = f;
    } else if (t.shape.length === 1) {
      // A separable filter: applied along both axes, i.e. the outer product.
      fh = fw = t.shape[0];
      full = new Float32Array(fh * fw);
      for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) full[i * fw + j] = f[i] * f[j];
    } else if (t.shape.length === 0) {
      fh = fw = 1;
      full = Float32Array.of(f[0]);
    } else {
      rec.fail(`has a resample_filter of shape [${t.shape}]`);
    }
    this.fh = fh;
    this.fw = fw;
    this.flipped = new Float32Array(fh * fw);
    for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) this.flipped[i * fw + j] = full[(fh - 1 - i) * fw + (fw - 1 - j)];
    this.factors = factorRankOne(this.flipped, fh, fw);
  }

  get separable(): boolean {
    return this.factors !== null;
  }

  /** Depthwise filters [fh,1,C,1] and [1,fw,C,1] of a separable filter, `gain` folded into the first. */
  separableDepthwise(channels: number, gain: number): [tf.Tensor4D, tf.Tensor4D] {
    const f = this.factors!;
    return [this.cached(`col/${channels}/${gain}`, f.col, [this.fh, 1], channels, gain), this.cached(`row/${channels}`, f.row, [1, this.fw], channels, 1)];
  }

  private cached(key: string, taps: Float32Array, hw: [number, number], channels: number, gain: number): tf.Tensor4D {
    let t = this.cache.get(key);
    if (!t) {
      const data = new Float32Array(taps.length * channels);
      for (let i = 0; i < taps.length; i++) data.fill(taps[i] * gain, i * channels, (i + 1) * channels);
      t = tf.keep(tf.tensor4d(data, [hw[0], hw[1], channels, 1]));
      this.cache.set(key, t);
    }
    return t;
  }

  /** Depthwise filter [fh,fw,C,1] with `gain` folded in. */
  depthwise(channels: number, gain: number): tf.Tensor4D {
    return this.cached(`full/${channels}/${gain}`, this.flipped, [this.fh, this.fw], channels, gain);
  }

  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
  }
}

/** col ⊗ row when `f` [h,w] is rank one (to float32 rounding), else null. */
function factorRankOne(f: Float32Array, h: number, w: number): { col: Float32Array; row: Float32Array } | null {
  let pi = 0;
  for (let i = 1; i < f.length; i++) if (Math.abs(f[i]) > Math.abs(f[pi])) pi = i;
  const pivot = f[pi];
  if (pivot === 0) return null;
  const r0 = Math.floor(pi / w);
  const c0 = pi % w;
  const col = new Float32Array(h);
  const row = new Float32Array(w);
  for (let i = 0; i < h; i++) col[i] = f[i * w + c0];
  for (let j = 0; j < w; j++) row[j] = f[r0 * w + j] / pivot;
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    if (Math.abs(col[i] * row[j] - f[i * w + j]) > 1e-6 * Math.abs(pivot)) return null;
  }
  return { col, row };
}

/** [x0, x1, y0, y1] padding (negative = crop), as the official code orders it. */
export type Pad4 = [number, number, number, number];

/** Pads (or, for negative amounts, crops) H and W of an NHWC tensor. */
export function padCrop(x: tf.Tensor4D, [x0, x1, y0, y1]: Pad4): tf.Tensor4D {
  if (x0 > 0 || x1 > 0 || y0 > 0 || y1 > 0) {
    x = tf.pad(x, [[0, 0], [Math.max(y0, 0), Math.max(y1, 0)], [Math.max(x0, 0), Math.max(x1, 0)], [0, 0]]);
  }
  if (x0 < 0 || x1 < 0 || y0 < 0 || y1 < 0) {
    const [n, h, w, c] = x.shape;
    const top = Math.max(-y0, 0);
    const left = Math.max(-x0, 0);
    x = tf.slice(x, [0, top, left, 0], [n, h - top - Math.max(-y1, 0), w - left - Math.max(-x1, 0), c]);
  }
  return x;
}

/** Inserts factor−1 zeros after every pixel along H and W: [N,H,W,C] → [N,H·u,W·u,C]. */
export function zeroInsert(x: tf.Tensor4D, u: number): tf.Tensor4D {
  if (u === 1) return x;
  const [n, h, w, c] = x.shape;
  return chain<tf.Tensor4D>(
    x,
    (t) => tf.pad(tf.reshape(t, [n * h, w, 1, c]), [[0, 0], [0, 0], [0, u - 1], [0, 0]]),
    (t) => tf.pad(tf.reshape(t, [n * h, 1, w * u * c]), [[0, 0], [0, u - 1], [0, 0]]),
    (t) => tf.reshape(t, [n, h * u, w * u, c]),
  );
}

export interface UpFirDnOptions {
  up?: number;
  down?: number;
  pad?: Pad4;
  gain?: number;
}

/**
 * upfirdn2d for NHWC tensors (see the file comment). A separable filter runs as two 1-D depthwise
 * passes: on wasm that is ~7× faster than one 4×4 depthwise conv (XNNPACK has no 16-tap kernel).
 */
export function upfirdn2d(x: tf.Tensor4D, fir: Fir, { up = 1, down = 1, pad = [0, 0, 0, 0], gain = 1 }: UpFirDnOptions): tf.Tensor4D {
  const c = x.shape[3];
  const [col, row] = fir.separable ? fir.separableDepthwise(c, gain) : [null, null];
  return chain<tf.Tensor4D>(
    x,
    up > 1 && ((t) => zeroInsert(t as tf.Tensor4D, up)),
    (t) => padCrop(t as tf.Tensor4D, pad),
    col ? (t) => tf.depthwiseConv2d(t as tf.Tensor4D, col, [down, 1], 'valid') : (t) => tf.depthwiseConv2d(t as tf.Tensor4D, fir.depthwise(c, gain), down, 'valid'),
    row && ((t) => tf.depthwiseConv2d(t as tf.Tensor4D, row, [1, down], 'valid')),
  );
}

/** 2× upsampling with the FIR (gain 4), output exactly twice the size. */
export function upsample2d(x: tf.Tensor4D, fir: Fir): tf.Tensor4D {
  const p0 = Math.floor((fir.fw + 1) / 2);
  const p1 = Math.floor((fir.fw - 2) / 2);
  const q0 = Math.floor((fir.fh + 1) / 2);
  const q1 = Math.floor((fir.fh - 2) / 2);
  return upfirdn2d(x, fir, { up: 2, pad: [p0, p1, q0, q1], gain: 4 });
}

/** 2× downsampling with the FIR, output exactly half the size. */
export function downsample2d(x: tf.Tensor4D, fir: Fir): tf.Tensor4D {
  const p0 = Math.floor((fir.fw - 1) / 2);
  const p1 = Math.floor((fir.fw - 2) / 2);
  const q0 = Math.floor((fir.fh - 1) / 2);
  const q1 = Math.floor((fir.fh - 2) / 2);
  return upfirdn2d(x, fir, { down: 2, pad: [p0, p1, q0, q1] });
}

/**
 * A convolution with optional 2× up- or downsampling, from a PyTorch weight [O,I,kh,kw] times
 * `scale`, with `padding` relative to the (upsampled) input as the official layers define it.
 * As in the official layers, the weight is correlated with the input when not upsampling
 * (flip_weight = up == 1) and convolved when upsampling.
 */
export class ResampleConv {
  readonly outChannels: number;
  readonly inChannels: number;
  readonly kernel: number;
  /** [kh,kw,I,O] for correlation; for the up path with k > 1, the four polyphase kernels instead. */
  readonly filter: tf.Tensor4D | null;
  private readonly phases: PhaseKernel[] | null;

  constructor(rec: Rec, weight: TorchTensor, scale: number, readonly up: number, readonly down: number, readonly padding: number, readonly fir: Fir | null) {
    const [o, i, kh, kw] = weight.shape;
    if (weight.shape.length !== 4 || kh !== kw) rec.fail(`has a weight of shape [${weight.shape}], expected a square [O,I,k,k] kernel`);
    if (![1, 2].includes(up) || ![1, 2].includes(down) || (up > 1 && down > 1)) rec.fail(`resamples with up=${up}, down=${down} (supported: up 1 or 2, down 1 or 2, not both)`);
    if ((up > 1 || down > 1) && !fir) rec.fail('resamples but has no resample_filter');
    this.outChannels = o;
    this.inChannels = i;
    this.kernel = kh;
    const p = permute(weight.data as Float32Array, weight.shape, [2, 3, 1, 0]); // [k,k,I,O]
    if (scale !== 1) for (let j = 0; j < p.data.length; j++) p.data[j] *= scale;
    const poly = up > 1 && kh > 1;
    this.phases = poly ? polyphaseKernels(p.data, kh, i, o) : null;
    this.filter = poly ? null : tf.tensor4d(p.data, p.shape as [number, number, number, number]);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const k = this.kernel;
    const p = this.padding;
    if (this.up === 1 && this.down === 1) {
      return tf.conv2d(x, this.filter!, 1, p === 0 ? 'valid' : [[0, 0], [p, p], [p, p], [0, 0]]);
    }
    const fir = this.fir!;
    if (this.down > 1) {
      const px: [number, number] = [p + Math.floor((fir.fw - 1) / 2), p + Math.floor((fir.fw - 2) / 2)];
      const py: [number, number] = [p + Math.floor((fir.fh - 1) / 2), p + Math.floor((fir.fh - 2) / 2)];
      // 1×1: downsample first, then the conv on 4× fewer pixels; else FIR, then a stride-2 conv.
      return chain(
        x,
        (t) => upfirdn2d(t as tf.Tensor4D, fir, { down: k === 1 ? 2 : 1, pad: [px[0], px[1], py[0], py[1]] }),
        (t) => tf.conv2d(t as tf.Tensor4D, this.filter!, k === 1 ? 1 : 2, 'valid'),
      );
    }
    // up = 2
    const px: [number, number] = [p + Math.floor((fir.fw + 1) / 2), p + Math.floor((fir.fw - 2) / 2)];
    const py: [number, number] = [p + Math.floor((fir.fh + 1) / 2), p + Math.floor((fir.fh - 2) / 2)];
    if (k === 1) {
      // The 1×1 conv on 4× fewer pixels, then upsample.
      return chain(
        x,
        (t) => tf.conv2d(t as tf.Tensor4D, this.filter!, 1, 'valid'),
        (t) => upfirdn2d(t as tf.Tensor4D, fir, { up: 2, pad: [px[0], px[1], py[0], py[1]], gain: 4 }),
      );
    }
    // The official code runs a stride-2 transposed conv (the k×k conv of the zero-inserted input, 2H + k − 2
    // wide) and then the FIR. We compute that transposed conv in polyphase form: each of the four output
    // phases is an ordinary conv of x with a sub-kernel (2×2, 2×1, 1×2, 1×1 for k = 3), concatenated as
    // 4·O channels and interleaved by a reshape/transpose (wasm's Conv2DBackpropInput and DepthToSpace are
    // both several times slower, and one conv with zero-padded 2×2 sub-kernels does 16/9 the work).
    // The result is 2·(H + ⌈k/2⌉ − 1) wide: the transposed conv's output plus 2⌈k/2⌉ − k trailing zeros.
    const [n, h, w] = x.shape;
    const k2 = Math.ceil(k / 2);
    const o = this.outChannels;
    const h2 = h + k2 - 1;
    const w2 = w + k2 - 1;
    const extra = 2 * k2 - k;
    return chain(
      x,
      (t) => tf.tidy(() => tf.concat(this.phases!.map((ph) => tf.conv2d(t as tf.Tensor4D, ph.filter, 1, [[0, 0], [ph.th - 1, k2 - 1], [ph.tw - 1, k2 - 1], [0, 0]])), 3)),
      (t) => tf.transpose(tf.reshape(t, [n, h2, w2, 2, 2, o]), [0, 1, 3, 2, 4, 5]),
      (t) => tf.reshape(t, [n, 2 * h2, 2 * w2, o]),
      (t) => upfirdn2d(t as tf.Tensor4D, fir, { pad: [px[0] - (k - 1), px[1] - (k - 2) - extra, py[0] - (k - 1), py[1] - (k - 2) - extra], gain: 4 }),
    );
  }

  dispose(): void {
    this.filter?.dispose();
    for (const ph of this.phases ?? []) ph.filter.dispose();
  }
}

interface PhaseKernel {
  /** Taps along H and W. */
  th: number;
  tw: number;
  /** [th,tw,I,O] */
  filter: tf.Tensor4D;
}

/**
 * The polyphase form of a stride-2 transposed conv with the (non-flipped) kernel w [k,k,I,O]: output
 * phase (a, b), at (2j + a, 2l + b), is Σ_{t,u} x[j − t, l − u] · w[a + 2t, b + 2u] — a correlation of x,
 * padded by (taps − 1) before and ⌈k/2⌉ − 1 after, with the sub-kernel s ↦ w[a + 2(taps − 1 − s)].
 * Returned in phase order (0,0), (0,1), (1,0), (1,1): the channel-block order of the interleave.
 */
function polyphaseKernels(w: Float32Array, k: number, ci: number, co: number): PhaseKernel[] {
  const out: PhaseKernel[] = [];
  for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
    const th = Math.ceil((k - a) / 2);
    const tw = Math.ceil((k - b) / 2);
    const data = new Float32Array(th * tw * ci * co);
    for (let sy = 0; sy < th; sy++) for (let sx = 0; sx < tw; sx++) {
      const ky = a + 2 * (th - 1 - sy);
      const kx = b + 2 * (tw - 1 - sx);
      const src = (ky * k + kx) * ci * co;
      data.set(w.subarray(src, src + ci * co), (sy * tw + sx) * ci * co);
    }
    out.push({ th, tw, filter: tf.tensor4d(data, [th, tw, ci, co]) });
  }
  return out;
}

/** x · rsqrt(mean(x², axis 1) + 1e-8) for [N,F]. */
export function normalize2ndMoment(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), 1, true), 1e-8)));
}
