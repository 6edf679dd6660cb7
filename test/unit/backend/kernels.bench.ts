/**
 * Timing of the conv-gradient kernels (not part of `npm test`; takes ~2–3 min because of the built-in
 * cpu kernel). Run: node --import tsx test/unit/backend/kernels.bench.ts [--full-builtin]
 * Case: x [16,32,32,64], dy [16,32,32,64], 3×3 'same', stride 1 (plus stride-2 input-gradient cases).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  registerFastKernels, builtinKernel, kernelRunner, filterGradViaConv, filterGradJs, filterGradGeometry,
} from '../../../src/core/backend/kernels';

type Shape4 = [number, number, number, number];
const fullBuiltin = process.argv.includes('--full-builtin');
const skipBuiltin = process.argv.includes('--skip-builtin'); // the built-in cpu kernel alone takes 1–2 min

/** Median seconds of `reps` runs after one warm-up (warm-up skipped when reps = 1). */
function time(f: () => tf.TensorInfo | Float32Array, reps = 3): number {
  const backend = tf.backend() as unknown as { readSync(id: object): unknown; disposeData(id: object): void };
  const once = () => {
    const t0 = performance.now();
    const out = f();
    if (!(out instanceof Float32Array)) { backend.readSync(out.dataId); backend.disposeData(out.dataId); }
    return (performance.now() - t0) / 1000;
  };
  if (reps > 1) once();
  const ts = Array.from({ length: reps }, once).sort((a, b) => a - b);
  return ts[Math.floor(reps / 2)];
}

function filterGradCase(n: number) {
  const xShape: Shape4 = [n, 32, 32, 64], wShape: Shape4 = [3, 3, 64, 64];
  const x = tf.randomNormal(xShape), dy = tf.randomNormal(xShape);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: wShape };
  return { x, dy, attrs, g: filterGradGeometry(xShape, wShape, 1, 'same', undefined) };
}

const rows: Array<[string, string, number]> = [];
const row = (backend: string, what: string, s: number) => { rows.push([backend, what, s]); console.log(`${backend.padEnd(5)} ${what.padEnd(58)} ${s.toFixed(3)} s`); };

async function main() {
  // --- cpu --------------------------------------------------------------------------------------
  await tf.setBackend('cpu');
  const builtin = builtinKernel('Conv2DBackpropFilter', 'cpu')!;
  if (!skipBuiltin) {
    const n = fullBuiltin ? 16 : 4;
    const { x, dy, attrs } = filterGradCase(n);
    const s = time(() => builtin.kernelFunc({ inputs: { x, dy }, backend: tf.backend(), attrs: attrs as unknown as tf.NamedAttrMap }) as tf.TensorInfo, 1);
    row('cpu', `Conv2DBackpropFilter built-in, N=${n}${fullBuiltin ? '' : ' (quarter size)'}`, s);
    tf.dispose([x, dy]);
  }
  registerFastKernels('cpu');
  registerFastKernels('wasm');
  {
    const { x, dy, attrs, g } = filterGradCase(16);
    row('cpu', 'Conv2DBackpropFilter replacement (im2col + JS GEMM)', time(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor as unknown as tf.TensorInfo));
    row('cpu', 'alternative: forward Conv2D on transposed operands', time(() => { const r = kernelRunner(); try { return r.keep(filterGradViaConv(r, x, dy, g)); } finally { r.dispose(); } }, 1));
    const xv = x.dataSync() as Float32Array, dyv = dy.dataSync() as Float32Array;
    row('cpu', 'alternative: im2col (JS) + backend BatchMatMul', time(() => tf.tidy(() => {
      const cols = tf.tensor2d(im2col(xv), [16 * 32 * 32, 9 * 64]);
      return tf.matMul(cols, tf.reshape(dy, [16 * 32 * 32, 64]), true, false);
    }) as unknown as tf.TensorInfo, 1));
    void dyv;
    tf.dispose([x, dy]);
  }
  // --- wasm -------------------------------------------------------------------------------------
  await tf.setBackend('wasm');
  {
    const { x, dy, attrs, g } = filterGradCase(16);
    row('wasm', 'Conv2DBackpropFilter replacement (forward Conv2D, transposed)', time(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor as unknown as tf.TensorInfo));
    const xv = x.dataSync() as Float32Array, dyv = dy.dataSync() as Float32Array;
    row('wasm', 'alternative: im2col + JS GEMM (data read off the heap)', time(() => filterGradJs(xv, x.shape as Shape4, dyv, dy.shape as Shape4, g), 1));
    row('wasm', 'alternative: im2col (JS) + backend BatchMatMul', time(() => tf.tidy(() => {
      const cols = tf.tensor2d(im2col(xv), [16 * 32 * 32, 9 * 64]);
      return tf.matMul(cols, tf.reshape(dy, [16 * 32 * 32, 64]), true, false);
    }) as unknown as tf.TensorInfo, 1));
    tf.dispose([x, dy]);
  }
  const wasmBuiltinInput = builtinKernel('Conv2DBackpropInput', 'wasm')!;
  for (const s of [1, 2]) {
    const xShape: Shape4 = [16, 32, 32, 64];
    const w = tf.randomNormal([3, 3, 64, 64]);
    const dy = tf.randomNormal([16, 32 / s, 32 / s, 64]);
    const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: xShape };
    row('wasm', `Conv2DBackpropInput built-in, stride ${s}`, time(() => wasmBuiltinInput.kernelFunc({ inputs: { dy, filter: w }, backend: tf.backend(), attrs: attrs as unknown as tf.NamedAttrMap }) as tf.TensorInfo));
    row('wasm', `Conv2DBackpropInput replacement (forward Conv2D), stride ${s}`, time(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor as unknown as tf.TensorInfo));
    tf.dispose([w, dy]);
  }
  {
    const x = tf.randomNormal([16, 32, 32, 64]), w = tf.randomNormal([3, 3, 64, 64]);
    row('wasm', 'for scale: forward Conv2D, same shapes', time(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same') as unknown as tf.TensorInfo));
    await tf.setBackend('cpu');
    row('cpu', 'for scale: forward Conv2D, same shapes', time(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same') as unknown as tf.TensorInfo, 1));
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: x.shape };
    row('cpu', 'for scale: Conv2DBackpropInput built-in (not replaced)', time(() => tf.engine().runKernel('Conv2DBackpropInput', { dy: x, filter: w }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor as unknown as tf.TensorInfo, 1));
    tf.dispose([x, w]);
  }
}

/** im2col of x [16,32,32,64] for a 3×3 'same' stride-1 conv: [N·H·W, 9·C]. */
function im2col(x: Float32Array): Float32Array {
  const [N, H, W, C, F] = [16, 32, 32, 64, 3];
  const K = F * F * C, cols = new Float32Array(N * H * W * K);
  let r = 0;
  for (let n = 0; n < N; n++) for (let oh = 0; oh < H; oh++) for (let ow = 0; ow < W; ow++, r++) {
    for (let kh = 0; kh < F; kh++) {
      const ih = oh + kh - 1;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < F; kw++) {
        const iw = ow + kw - 1;
        if (iw < 0 || iw >= W) continue;
        const src = ((n * H + ih) * W + iw) * C;
        cols.set(x.subarray(src, src + C), r * K + (kh * F + kw) * C);
      }
    }
  }
  return cols;
}

main().catch((e) => { console.error(e); process.exit(1); });
