/**
 * The resampling ops of the official networks against direct, loop-by-loop evaluations of their
 * definitions (zero insertion, padding, true convolution with the FIR, decimation; the up-conv as the
 * FIR-upsampled input convolved with the weight), on odd sizes and filters the pickles never use.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../engine/testBackend';
import { Fir, type Pad4, ResampleConv, upfirdn2d } from '../../../src/core/official/networks/ops';
import { Rec } from '../../../src/core/official/networks/record';
import type { TorchTensor } from '../../../src/core/official/types';

before(async () => {
  await useTestBackend();
});

const rec = new Rec({ className: 'Test', attrs: {}, params: {}, buffers: {}, modules: {} }, 'test');

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** An NHWC array with plain index helpers. */
class Img {
  constructor(readonly n: number, readonly h: number, readonly w: number, readonly c: number, readonly d = new Float64Array(n * h * w * c)) {}
  at(b: number, y: number, x: number, ch: number): number {
    return y < 0 || x < 0 || y >= this.h || x >= this.w ? 0 : this.d[((b * this.h + y) * this.w + x) * this.c + ch];
  }
  set(b: number, y: number, x: number, ch: number, v: number): void {
    this.d[((b * this.h + y) * this.w + x) * this.c + ch] = v;
  }
}

/** upfirdn2d by its definition. f: [fh][fw] row-major. */
function refUpfirdn(x: Img, f: Float32Array, fh: number, fw: number, up: number, down: number, [x0, x1, y0, y1]: Pad4, gain: number): Img {
  const uh = x.h * up + y0 + y1;
  const uw = x.w * up + x0 + x1;
  // Padded, zero-inserted input: u[y][x] = x[(y − y0)/up] when divisible and inside.
  const u = (b: number, yy: number, xx: number, ch: number) => {
    const sy = yy - y0;
    const sx = xx - x0;
    if (sy < 0 || sx < 0 || sy % up !== 0 || sx % up !== 0) return 0;
    return x.at(b, sy / up, sx / up, ch);
  };
  const fullH = uh - fh + 1;
  const fullW = uw - fw + 1;
  const out = new Img(x.n, Math.ceil(fullH / down), Math.ceil(fullW / down), x.c);
  for (let b = 0; b < x.n; b++) for (let oy = 0; oy < out.h; oy++) for (let ox = 0; ox < out.w; ox++) for (let ch = 0; ch < x.c; ch++) {
    let s = 0;
    // True convolution: output at (oy·down, ox·down) of the valid correlation with the flipped filter.
    for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) s += u(b, oy * down + i, ox * down + j, ch) * f[(fh - 1 - i) * fw + (fw - 1 - j)];
    out.set(b, oy, ox, ch, s * gain);
  }
  return out;
}

/** Valid correlation (flip = false) or true convolution (flip = true) with w [O][I][k][k], stride s. */
function refConv(x: Img, w: Float32Array, o: number, k: number, stride: number, flip: boolean): Img {
  const out = new Img(x.n, Math.floor((x.h - k) / stride) + 1, Math.floor((x.w - k) / stride) + 1, o);
  for (let b = 0; b < x.n; b++) for (let oy = 0; oy < out.h; oy++) for (let ox = 0; ox < out.w; ox++) for (let oc = 0; oc < o; oc++) {
    let s = 0;
    for (let ic = 0; ic < x.c; ic++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const wi = flip ? k - 1 - i : i;
      const wj = flip ? k - 1 - j : j;
      s += x.at(b, oy * stride + i, ox * stride + j, ic) * w[((oc * x.c + ic) * k + wi) * k + wj];
    }
    out.set(b, oy, ox, oc, s);
  }
  return out;
}

function toTensor(x: Img): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(x.d), [x.n, x.h, x.w, x.c]);
}

function assertClose(t: tf.Tensor4D, ref: Img, what: string): void {
  assert.deepEqual(t.shape, [ref.n, ref.h, ref.w, ref.c], `${what}: shape`);
  const a = t.dataSync();
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - ref.d[i]));
    scale = Math.max(scale, Math.abs(ref.d[i]));
  }
  assert.ok(err <= 1e-5 * Math.max(scale, 1), `${what}: max error ${err} (scale ${scale})`);
}

const SEPARABLE = Float32Array.from([1, 3, 3, 1].flatMap((a) => [1, 3, 3, 1].map((b) => (a * b) / 64)));
const filters: Array<[string, TorchTensor]> = [
  ['[1,3,3,1]⊗[1,3,3,1]', { dtype: 'float32', shape: [4, 4], data: SEPARABLE }],
  ['non-separable 4×4', { dtype: 'float32', shape: [4, 4], data: values(16, 7) }],
  ['non-separable 3×3', { dtype: 'float32', shape: [3, 3], data: values(9, 8) }],
  ['1-D [1,2,1]', { dtype: 'float32', shape: [3], data: Float32Array.from([0.25, 0.5, 0.25]) }],
];

function full2d(t: TorchTensor): { f: Float32Array; fh: number; fw: number } {
  if (t.shape.length === 2) return { f: t.data as Float32Array, fh: t.shape[0], fw: t.shape[1] };
  const v = t.data as Float32Array;
  const n = v.length;
  return { f: Float32Array.from({ length: n * n }, (_, i) => v[Math.floor(i / n)] * v[i % n]), fh: n, fw: n };
}

test('upfirdn2d: up, down, asymmetric padding and cropping, gain, on non-square maps', () => {
  const x = new Img(2, 5, 7, 3, Float64Array.from(values(2 * 5 * 7 * 3, 1)));
  const xt = toTensor(x);
  for (const [name, ft] of filters) {
    const fir = new Fir(ft, rec);
    const { f, fh, fw } = full2d(ft);
    const cases: Array<[number, number, Pad4, number]> = [
      [2, 1, [2, 1, 2, 1], 4], [1, 2, [1, 1, 1, 1], 1], [1, 1, [1, 2, 0, 3], 1], [2, 1, [-1, 0, 1, -2], 4], [1, 2, [2, 0, 1, 1], 2],
    ];
    for (const [up, down, pad, gain] of cases) {
      const y = tf.tidy(() => upfirdn2d(xt, fir, { up, down, pad, gain }));
      assertClose(y, refUpfirdn(x, f, fh, fw, up, down, pad, gain), `${name} up ${up} down ${down} pad [${pad}]`);
      y.dispose();
    }
    fir.dispose();
  }
  xt.dispose();
});

test('ResampleConv: up-2 (polyphase) and down-2 paths equal the official definitions for k = 1, 2, 3, 4 and padding 0–2', () => {
  const x = new Img(2, 5, 6, 3, Float64Array.from(values(2 * 5 * 6 * 3, 2)));
  const xt = toTensor(x);
  const o = 4;
  for (const [name, ft] of filters.slice(0, 2)) {
    const { f, fh, fw } = full2d(ft);
    const fir = new Fir(ft, rec);
    for (const k of [1, 2, 3, 4]) for (const p of [0, 1, 2]) {
      const w: TorchTensor = { dtype: 'float32', shape: [o, 3, k, k], data: values(o * 3 * k * k, 10 * k + p) };
      const wd = w.data as Float32Array;
      // up = 2: FIR-upsample (gain 4) with padding p + ⌊(fw+1)/2⌋, p + ⌊(fw−2)/2⌋, then convolve with w (not correlate).
      const up = new ResampleConv(rec, w, 0.5, 2, 1, p, fir);
      const refUp = refConv(refUpfirdn(x, f, fh, fw, 2, 1, [p + Math.floor((fw + 1) / 2), p + Math.floor((fw - 2) / 2), p + Math.floor((fh + 1) / 2), p + Math.floor((fh - 2) / 2)], 4), wd.map((v) => v * 0.5), o, k, 1, true);
      const yUp = tf.tidy(() => up.apply(xt));
      assertClose(yUp, refUp, `${name}: up-2 conv k ${k} pad ${p}`);
      // down = 2: FIR with padding p + ⌊(fw−1)/2⌋, p + ⌊(fw−2)/2⌋, then a stride-2 correlation.
      const down = new ResampleConv(rec, w, 0.5, 1, 2, p, fir);
      const padD: Pad4 = [p + Math.floor((fw - 1) / 2), p + Math.floor((fw - 2) / 2), p + Math.floor((fh - 1) / 2), p + Math.floor((fh - 2) / 2)];
      const refDown = k === 1
        ? refConv(refUpfirdn(x, f, fh, fw, 1, 2, padD, 1), wd.map((v) => v * 0.5), o, 1, 1, false)
        : refConv(refUpfirdn(x, f, fh, fw, 1, 1, padD, 1), wd.map((v) => v * 0.5), o, k, 2, false);
      const yDown = tf.tidy(() => down.apply(xt));
      assertClose(yDown, refDown, `${name}: down-2 conv k ${k} pad ${p}`);
      tf.dispose([yUp, yDown]);
      up.dispose();
      down.dispose();
    }
    fir.dispose();
  }
  xt.dispose();
});
