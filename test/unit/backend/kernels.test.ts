import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels, builtinKernel, fastKernelsRegistered } from '../../../src/core/backend/kernels';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;

// The built-in kernels, grabbed before anything is replaced: they are the references.
const CPU_FILTER_GRAD = tf.getKernel('Conv2DBackpropFilter', 'cpu');
const CPU_INPUT_GRAD = tf.getKernel('Conv2DBackpropInput', 'cpu');
const WASM_INPUT_GRAD_BUILTIN = tf.getKernel('Conv2DBackpropInput', 'wasm');

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => { // mulberry32 in [-1, 1)
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  };
}
const randArray = (n: number, r: () => number) => Float32Array.from({ length: n }, r);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** Kernel attrs as tfjs's loosely typed attribute map. */
const A = (o: object) => o as unknown as tf.NamedAttrMap;

/** max |a−b| / max |b|: one number per case, robust to where the large entries are. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let d = 0, m = 1e-12;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / m;
}

/** Calls a kernel config directly on the active backend and reads its output. */
function callKernel(k: tf.KernelConfig, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): Float32Array {
  const backend = tf.backend() as unknown as { readSync(id: object): Float32Array; disposeData(id: object): void };
  const out = k.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const vals = Float32Array.from(backend.readSync(out.dataId));
  backend.disposeData(out.dataId);
  return vals;
}

interface Case { n: number; h: number; w: number; ci: number; co: number; f: number; s: 1 | 2; pad: Pad }
const CASES: Case[] = [
  { n: 2, h: 8, w: 8, ci: 4, co: 6, f: 3, s: 1, pad: 'same' },
  { n: 3, h: 7, w: 9, ci: 5, co: 3, f: 3, s: 1, pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 4, co: 8, f: 3, s: 2, pad: 'same' },
  { n: 2, h: 9, w: 8, ci: 3, co: 5, f: 3, s: 2, pad: 'valid' },   // last row/col unused → crop path
  { n: 2, h: 8, w: 7, ci: 6, co: 4, f: 1, s: 1, pad: 'same' },
  { n: 3, h: 9, w: 9, ci: 4, co: 4, f: 1, s: 2, pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 3, co: 4, f: 4, s: 2, pad: 'same' },    // even filter: asymmetric 'same' pads
  { n: 2, h: 6, w: 7, ci: 4, co: 5, f: 3, s: 1, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { n: 2, h: 9, w: 8, ci: 2, co: 3, f: 3, s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
];
const label = (c: Case) => `x[${c.n},${c.h},${c.w},${c.ci}] f${c.f}×${c.f}×${c.co} s${c.s} ${JSON.stringify(c.pad)}`;

interface CaseData { c: Case; xShape: Shape4; wShape: Shape4; dyShape: Shape4; x: Float32Array; w: Float32Array; dy: Float32Array; dW: Float32Array; dX: Float32Array }

/**
 * Random inputs for case `c` (from `seed`) and the gradients of the built-in cpu kernels, called
 * directly: the references whatever is registered now. The cpu backend must be active.
 */
function caseData(c: Case, seed: number): CaseData {
  const r = rng(seed);
  const xShape: Shape4 = [c.n, c.h, c.w, c.ci], wShape: Shape4 = [c.f, c.f, c.ci, c.co];
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, c.s, 1, c.pad);
  const dyShape: Shape4 = [c.n, info.outHeight, info.outWidth, c.co];
  const x = randArray(size(xShape), r), w = randArray(size(wShape), r), dy = randArray(size(dyShape), r);
  const xt = tf.tensor4d(x, xShape), wt = tf.tensor4d(w, wShape), dyt = tf.tensor4d(dy, dyShape);
  const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  const dW = callKernel(CPU_FILTER_GRAD, { x: xt, dy: dyt }, { ...attrs, filterShape: wShape });
  const dX = callKernel(CPU_INPUT_GRAD, { dy: dyt, filter: wt }, { ...attrs, inputShape: xShape });
  tf.dispose([xt, wt, dyt]);
  return { c, xShape, wShape, dyShape, x, w, dy, dW, dX };
}

/** Runs the registered gradient kernels of the active backend `be` on case `d` and compares them with its references (1e-4 relative). */
function checkAgainstReference(be: string, { c, xShape, wShape, dyShape, x, w, dy, dW, dX }: CaseData): void {
  const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC' as const, dimRoundingMode: undefined };
  const xt = tf.tensor4d(x, xShape), wt = tf.tensor4d(w, wShape), dyt = tf.tensor4d(dy, dyShape);
  const gW = tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt }, A({ ...attrs, filterShape: wShape })) as tf.Tensor;
  assert.deepEqual(gW.shape, wShape, `${be} ${label(c)}`);
  const eW = relErr(gW.dataSync(), dW);
  assert.ok(eW < 1e-4, `${be} filter grad ${label(c)}: rel err ${eW}`);
  const gX = tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt, filter: wt }, A({ ...attrs, inputShape: xShape })) as tf.Tensor;
  const eX = relErr(gX.dataSync(), dX);
  assert.ok(eX < 1e-4, `${be} input grad ${label(c)}: rel err ${eX}`);
  tf.dispose([xt, wt, dyt, gW, gX]);
}

/** Random inputs and the built-in cpu kernels' gradients for every case. */
async function references(): Promise<CaseData[]> {
  await tf.setBackend('cpu');
  return CASES.map((c, i) => caseData(c, 1000 + i));
}

const numDataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

test('replacement kernels match the built-in cpu kernels on cpu and wasm, with no leaks', async () => {
  const refs = await references();
  registerFastKernels('cpu');
  registerFastKernels('wasm');
  assert.ok(fastKernelsRegistered('cpu') && fastKernelsRegistered('wasm'));
  assert.notEqual(tf.getKernel('Conv2DBackpropFilter', 'cpu').kernelFunc, CPU_FILTER_GRAD.kernelFunc, 'cpu kernel was not replaced');
  assert.equal(builtinKernel('Conv2DBackpropFilter', 'cpu'), CPU_FILTER_GRAD);
  assert.equal(builtinKernel('Conv2DBackpropFilter', 'wasm'), undefined, 'wasm had no filter-gradient kernel');
  assert.equal(builtinKernel('Conv2DBackpropInput', 'wasm'), WASM_INPUT_GRAD_BUILTIN);

  for (const be of ['cpu', 'wasm']) {
    assert.ok(await tf.setBackend(be));
    const before = { tensors: tf.memory().numTensors, ids: numDataIds() };
    for (const d of refs) checkAgainstReference(be, d);
    assert.deepEqual({ tensors: tf.memory().numTensors, ids: numDataIds() }, before, `${be}: kernels leaked tensors`);
  }
});

test('seeded random shapes: replacement gradients equal the built-in cpu kernels on cpu and wasm', async () => {
  // 12 draws: batch 1–4, H/W 3–12, Cin/Cout 1–8, 1×1 or 3×3, stride 1 or 2, 'same' or 'valid'.
  const r = rng(20240611);
  const int = (lo: number, hi: number) => lo + Math.min(hi - lo, Math.floor(((r() + 1) / 2) * (hi - lo + 1)));
  const draws: Case[] = Array.from({ length: 12 }, () => ({
    n: int(1, 4), h: int(3, 12), w: int(3, 12), ci: int(1, 8), co: int(1, 8),
    f: int(0, 1) ? 3 : 1, s: int(0, 1) ? 2 : 1, pad: int(0, 1) ? 'same' : 'valid',
  }));
  // The seed must cover every option at least once (else pick another seed).
  for (const [key, values] of [['f', [1, 3]], ['s', [1, 2]], ['pad', ['same', 'valid']]] as const) {
    for (const v of values) assert.ok(draws.some((d) => d[key] === v), `draws lack ${key}=${v}`);
  }
  await tf.setBackend('cpu');
  const refs = draws.map((c, i) => caseData(c, 5000 + i));
  registerFastKernels('cpu');
  registerFastKernels('wasm');
  for (const be of ['cpu', 'wasm']) {
    assert.ok(await tf.setBackend(be));
    const before = tf.memory().numTensors;
    for (const d of refs) checkAgainstReference(be, d);
    assert.equal(tf.memory().numTensors, before, `${be}: leaked tensors`);
  }
});

test('NCHW attrs are honoured (transposed through NHWC) on cpu and wasm', async () => {
  const [{ c, xShape, wShape, dyShape, x, w, dy, dW, dX }] = (await references()).filter((d) => d.c.s === 2 && d.c.pad === 'same');
  registerFastKernels('cpu');
  registerFastKernels('wasm');
  for (const be of ['cpu', 'wasm']) {
    await tf.setBackend(be);
    const toNCHW = (a: Float32Array, s: Shape4) => tf.tidy(() => tf.transpose(tf.tensor4d(a, s), [0, 3, 1, 2]));
    const xt = toNCHW(x, xShape), dyt = toNCHW(dy, dyShape), wt = tf.tensor4d(w, wShape);
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NCHW', dimRoundingMode: undefined };
    const gW = tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt }, A({ ...attrs, filterShape: wShape })) as tf.Tensor;
    assert.ok(relErr(gW.dataSync(), dW) < 1e-4, `${be} NCHW filter grad`);
    const gX = tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt, filter: wt }, A({ ...attrs, inputShape: [c.n, c.ci, c.h, c.w] })) as tf.Tensor;
    const gXnhwc = tf.transpose(gX, [0, 2, 3, 1]);
    assert.ok(relErr(gXnhwc.dataSync(), dX) < 1e-4, `${be} NCHW input grad`);
    tf.dispose([xt, dyt, wt, gW, gX, gXnhwc]);
  }
});

test('tf.grad through tf.conv2d gives the reference gradients on cpu and wasm', async () => {
  const refs = (await references()).filter((d) => typeof d.c.pad === 'string');
  registerFastKernels('cpu');
  registerFastKernels('wasm');
  for (const be of ['cpu', 'wasm']) {
    await tf.setBackend(be);
    for (const { c, xShape, wShape, dyShape, x, w, dy, dW, dX } of refs) {
      const pad = c.pad as 'same' | 'valid';
      const xt = tf.tensor4d(x, xShape), wt = tf.tensor4d(w, wShape), dyt = tf.tensor4d(dy, dyShape);
      // loss = Σ conv(x, w)·dy  ⇒  ∂loss/∂w = Conv2DBackpropFilter(x, dy), ∂loss/∂x = Conv2DBackpropInput(dy, w)
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, pad), dyt)))([xt, wt]);
      assert.ok(relErr(gw.dataSync(), dW) < 1e-4, `${be} tf.grad w ${label(c)}`);
      assert.ok(relErr(gx.dataSync(), dX) < 1e-4, `${be} tf.grad x ${label(c)}`);
      tf.dispose([xt, wt, dyt, gx, gw]);
    }
  }
});

test('registerFastKernels is idempotent and ignores other backends', () => {
  registerFastKernels('wasm');
  const k = tf.getKernel('Conv2DBackpropFilter', 'wasm').kernelFunc;
  registerFastKernels('wasm');
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm').kernelFunc, k);
  registerFastKernels('webgl');
  assert.equal(fastKernelsRegistered('webgl'), false);
});

test('wasm Identity (what tfjs runs for every tensor saved for backprop) aliases the buffer: values and lifetimes stay right', async () => {
  await tf.setBackend('wasm');
  registerFastKernels('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const idsBefore = backend.numDataIds();
  const y = tf.clone(x); // runs the Identity kernel
  assert.equal(backend.numDataIds(), idsBefore, 'no new buffer');
  x.dispose();
  assert.deepEqual([...y.dataSync()], [1, 2, 3, 4], 'the alias outlives the original');
  const v = tf.variable(y);
  v.assign(tf.tensor2d([[5, 6], [7, 8]]));
  assert.deepEqual([...y.dataSync()], [1, 2, 3, 4], 'assigning a variable made from it does not write into it');
  // Gradients through saved (aliased) tensors are unchanged: d/dx Σ x³ = 3x².
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mul(t, t), t)))(tf.tensor1d([1, 2, 3]));
  assert.deepEqual([...g.dataSync()], [3, 12, 27]);
  const s = tf.clone(tf.tensor1d(['a', 'b'], 'string'));
  assert.deepEqual(s.dataSync(), ['a', 'b']);
  tf.dispose([y, v, g, s]);
});

test('wasm BatchMatMul with transposed operands (matMul gradients) equals the built-in kernel, batched and broadcast', async () => {
  await tf.setBackend('wasm');
  registerFastKernels('wasm');
  const original = builtinKernel('BatchMatMul', 'wasm')!;
  const backend = tf.backend();
  for (const [aShape, bShape] of [[[5, 7], [7, 3]], [[2, 5, 7], [2, 7, 3]], [[1, 5, 7], [4, 7, 3]], [[3, 2, 5, 7], [3, 2, 7, 3]]] as const) {
    for (const transposeA of [false, true]) for (const transposeB of [false, true]) {
      const swap = (s: readonly number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : [...s]);
      const a = tf.randomNormal(swap(aShape, transposeA)), b = tf.randomNormal(swap(bShape, transposeB));
      const before = tf.memory().numTensors, ids = (backend as unknown as { numDataIds(): number }).numDataIds();
      const got = tf.matMul(a, b, transposeA, transposeB);
      assert.equal(tf.memory().numTensors, before + 1);
      assert.equal((backend as unknown as { numDataIds(): number }).numDataIds(), ids + 1, 'no leaked buffers');
      const refInfo = original.kernelFunc({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } }) as tf.TensorInfo;
      const ref = tf.engine().makeTensorFromTensorInfo(refInfo);
      assert.deepEqual(got.shape, ref.shape);
      assert.ok(relErr(got.dataSync(), ref.dataSync()) < 1e-6, `${aShape}×${bShape} tA=${transposeA} tB=${transposeB}`);
      tf.dispose([a, b, got, ref]);
    }
  }
});
