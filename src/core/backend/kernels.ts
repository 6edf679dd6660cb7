/**
 * Replacement conv-gradient kernels for the `cpu` and `wasm` tfjs backends.
 *
 * - cpu  Conv2DBackpropFilter: the built-in one walks TensorBuffer.get() per element (~200× slower
 *        than needed); replaced by chunked im2col + a 4×4 register-blocked GEMM in plain JS.
 * - wasm Conv2DBackpropFilter: missing (wasm cannot train convs at all); computed with the backend's
 *        own XNNPACK forward Conv2D on transposed operands (dilation = stride handles strided convs),
 *        or, for 1×1 stride-1 convs, as one GEMM (BatchMatMul), which is ~2× faster there.
 * - wasm Conv2DBackpropInput: the built-in one is a scalar C++ loop; replaced by a forward Conv2D of
 *        (zero-upsampled) dy with the flipped, in/out-swapped filter.
 * - wasm BatchMatMul with transposeA/transposeB (what every matMul gradient asks for): the built-in
 *        walks the transposed operand with a large stride, 3–10× slower than transposing it first
 *        with the Transpose kernel and multiplying untransposed; so that is what the replacement does.
 * - wasm Identity: the built-in one copies the whole buffer, and tfjs runs it for every tensor it saves
 *        for the backward pass (~1000 copies per GAN training step); replaced by a reference-counted
 *        alias of the same buffer, as the cpu backend's Identity and wasm's own Reshape already are
 *        (tfjs tensors are immutable; Variable.assign swaps buffers rather than writing into them).
 * - wasm Cast to the same dtype (~250 per training step, from tfjs's gradients): an alias too.
 * Kernels call other kernels of the same backend directly (kernelFunc + backend.disposeData), so
 * nothing is recorded on the gradient tape and no tfjs Tensor objects are created.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

/** The backend methods the kernels use (both MathBackendCPU and BackendWasm have them). */
interface BackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
  readSync(dataId: object): unknown;
}

const FAST_BACKENDS = ['cpu', 'wasm'] as const;
const registered = new Set<string>();
/** Kernels as they were before registerFastKernels replaced them (undefined = there was none). */
const originals = new Map<string, tf.KernelConfig | undefined>();
const key = (kernel: string, backend: string) => `${backend}/${kernel}`;

/** Runs kernels of one backend directly and disposes every intermediate it made. */
export class KernelRunner {
  private temps: TensorInfo[] = [];
  constructor(private readonly backendName: string, readonly backend: BackendLike) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo {
    const k = tf.getKernel(kernelName, this.backendName);
    if (!k) throw new Error(`Kernel '${kernelName}' is not registered for backend '${this.backendName}'.`);
    const out = k.kernelFunc({ inputs, backend: this.backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  /** Hands `t` to the caller: it is no longer disposed by dispose(). */
  keep(t: TensorInfo): TensorInfo {
    this.temps = this.temps.filter((u) => u !== t);
    return t;
  }

  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps = [];
  }
}

/** Crops (negative pad) or keeps rows/cols so a following conv can use non-negative explicit pads. */
function cropForPads(r: KernelRunner, t: TensorInfo, pads: [number, number, number, number]): { t: TensorInfo; pads: number[][] } {
  const [top, bottom, left, right] = pads;
  const [n, h, w, c] = t.shape as Shape4;
  const ct = Math.max(-top, 0), cb = Math.max(-bottom, 0), cl = Math.max(-left, 0), cr = Math.max(-right, 0);
  if (ct + cb + cl + cr > 0) {
    // [N,H,W,C] → [N,H-ct-cb,W-cl-cr,C]
    t = r.run('Slice', { x: t }, { begin: [0, ct, cl, 0], size: [n, h - ct - cb, w - cl - cr, c] });
  }
  return { t, pads: [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]] };
}

/** Stride, padding and sizes of the forward conv whose filter gradient is wanted. */
export interface FilterGradGeometry {
  strideH: number; strideW: number; padTop: number; padLeft: number;
  filterH: number; filterW: number; outH: number; outW: number;
}

/** FilterGradGeometry of a conv of x [N,H,W,C] with a filter of filterShape (NHWC, dilation 1). */
export function filterGradGeometry(xShape: Shape4, filterShape: Shape4, strides: number | [number, number], pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined): FilterGradGeometry {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  return {
    strideH: info.strideHeight, strideW: info.strideWidth, padTop: info.padInfo.top, padLeft: info.padInfo.left,
    filterH: info.filterHeight, filterW: info.filterWidth, outH: info.outHeight, outW: info.outWidth,
  };
}

/**
 * dW via the backend's forward Conv2D: batch↔channel-transposed x convolved with dy as the filter.
 * dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s+kh−pt, ow·s+kw−pl, ci]·dy[n,oh,ow,co], i.e. a stride-1,
 * dilation-s conv of x'[ci,h,w,n] with dy'[oh,ow,n,co] whose output is [ci,kh,kw,co].
 */
export function filterGradViaConv(r: KernelRunner, x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry): TensorInfo {
  const [, h, w] = x.shape as Shape4;
  // Bottom/right pads that make the conv output exactly filterH×filterW (negative: x rows never read).
  const padBottom = g.filterH + g.strideH * (g.outH - 1) - h - g.padTop;
  const padRight = g.filterW + g.strideW * (g.outW - 1) - w - g.padLeft;
  const c = cropForPads(r, x, [g.padTop, padBottom, g.padLeft, padRight]);
  const xT = r.run('Transpose', { x: c.t }, { perm: [3, 1, 2, 0] });      // [C,H,W,N]
  const dyT = r.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });      // [OH,OW,N,CO] used as filter
  const out = r.run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1], pad: c.pads, dataFormat: 'NHWC', dilations: [g.strideH, g.strideW], dimRoundingMode: undefined,
  });                                                                     // [C,FH,FW,CO]
  return r.run('Transpose', { x: out }, { perm: [1, 2, 0, 3] });          // [FH,FW,C,CO]
}

/**
 * dW of a 1×1, stride-1, unpadded conv as one GEMM, dW[ci,co] = Σ_m x[m,ci]·dy[m,co] over the M = N·H·W
 * pixels, transposing whichever operand is narrower. On wasm this is ~2× faster than the conv route for
 * these shapes (XNNPACK's conv with an H×W "filter" of dy runs at 0.2–4 GFLOPS here; measured on
 * mnist32's fromRGB and skip layers: 2.8 → 1.3 ms and 1.0 → 0.45 ms); for 3×3 filters the conv route
 * stays: an im2col (PadV2 + 9 Slices + Concat) + GEMM was 2–10× slower than it.
 */
export function filterGradViaMatMul(r: KernelRunner, x: TensorInfo, dy: TensorInfo): TensorInfo {
  const [n, h, w, ci] = x.shape as Shape4;
  const co = dy.shape[3];
  const M = n * h * w;
  const x2 = r.run('Reshape', { x }, { shape: [M, ci] });
  const dy2 = r.run('Reshape', { x: dy }, { shape: [M, co] });
  if (ci <= co) {
    const xT = r.run('Reshape', { x: r.run('Transpose', { x: x2 }, { perm: [1, 0] }) }, { shape: [1, ci, M] });
    const out = r.run('BatchMatMul', { a: xT, b: r.run('Reshape', { x: dy2 }, { shape: [1, M, co] }) }, { transposeA: false, transposeB: false }); // [1,CI,CO]
    return r.run('Reshape', { x: out }, { shape: [1, 1, ci, co] });
  }
  const dyT = r.run('Reshape', { x: r.run('Transpose', { x: dy2 }, { perm: [1, 0] }) }, { shape: [1, co, M] });
  const out = r.run('BatchMatMul', { a: dyT, b: r.run('Reshape', { x: x2 }, { shape: [1, M, ci] }) }, { transposeA: false, transposeB: false }); // [1,CO,CI]
  const t = r.run('Transpose', { x: r.run('Reshape', { x: out }, { shape: [co, ci] }) }, { perm: [1, 0] });
  return r.run('Reshape', { x: t }, { shape: [1, 1, ci, co] });
}

/** Whether a filter gradient is of a 1×1, stride-1, unpadded conv (filterGradViaMatMul's case). */
function isPointwise(g: FilterGradGeometry, xShape: Shape4): boolean {
  return g.filterH === 1 && g.filterW === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop === 0 && g.padLeft === 0 &&
    g.outH === xShape[1] && g.outW === xShape[2];
}

const GEMM_CHUNK = 256; // rows of the im2col matrix per chunk: keeps both panels in L2 (measured best 256–1024)

/**
 * dW in plain JS: im2col in chunks of GEMM_CHUNK output pixels, stored transposed ([K, chunk] and
 * [CO, chunk]) so the 4×4 register-blocked dot products read contiguous rows; sums in float64.
 * x: [N,H,W,C] NHWC values; dy: [N,OH,OW,CO]; returns dW [FH,FW,C,CO].
 */
export function filterGradJs(x: ArrayLike<number>, xShape: Shape4, dy: ArrayLike<number>, dyShape: Shape4, g: FilterGradGeometry): Float32Array {
  const [, h, w, ci] = xShape;
  const [n, oh, ow, co] = dyShape;
  const { filterH: fh, filterW: fw, strideH: sh, strideW: sw, padTop: pt, padLeft: pl } = g;
  const K = fh * fw * ci, Kp = (K + 3) & ~3, COp = (co + 3) & ~3;
  const M = n * oh * ow, MB = Math.min(GEMM_CHUNK, M);
  const at = new Float32Array(Kp * MB);   // im2col chunk, transposed: [Kp, MB]
  const bt = new Float32Array(COp * MB);  // dy chunk, transposed: [COp, MB]
  const acc = new Float64Array(Kp * COp); // dW accumulator: [Kp, COp]
  for (let m0 = 0; m0 < M; m0 += MB) {
    const mb = Math.min(MB, M - m0);
    at.fill(0);
    for (let j = 0; j < mb; j++) {
      const m = m0 + j;
      const b = Math.floor(m / (oh * ow)), rem = m - b * oh * ow, y = Math.floor(rem / ow), xo = rem - y * ow;
      for (let kh = 0; kh < fh; kh++) {
        const ih = y * sh + kh - pt;
        if (ih < 0 || ih >= h) continue;
        for (let kw = 0; kw < fw; kw++) {
          const iw = xo * sw + kw - pl;
          if (iw < 0 || iw >= w) continue;
          const src = ((b * h + ih) * w + iw) * ci;
          let dst = (kh * fw + kw) * ci * MB + j;
          for (let c = 0; c < ci; c++, dst += MB) at[dst] = x[src + c];
        }
      }
      const so = m * co;
      for (let c = 0; c < co; c++) bt[c * MB + j] = dy[so + c];
    }
    for (let k = 0; k < Kp; k += 4) {
      const a0 = k * MB, a1 = a0 + MB, a2 = a1 + MB, a3 = a2 + MB;
      for (let c = 0; c < COp; c += 4) {
        const b0 = c * MB, b1 = b0 + MB, b2 = b1 + MB, b3 = b2 + MB;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let j = 0; j < mb; j++) {
          const x0 = at[a0 + j], x1 = at[a1 + j], x2 = at[a2 + j], x3 = at[a3 + j];
          const y0 = bt[b0 + j], y1 = bt[b1 + j], y2 = bt[b2 + j], y3 = bt[b3 + j];
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
          s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
          s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        let o = k * COp + c;
        acc[o] += s00; acc[o + 1] += s01; acc[o + 2] += s02; acc[o + 3] += s03; o += COp;
        acc[o] += s10; acc[o + 1] += s11; acc[o + 2] += s12; acc[o + 3] += s13; o += COp;
        acc[o] += s20; acc[o + 1] += s21; acc[o + 2] += s22; acc[o + 3] += s23; o += COp;
        acc[o] += s30; acc[o + 1] += s31; acc[o + 2] += s32; acc[o + 3] += s33;
      }
    }
  }
  const out = new Float32Array(K * co);
  for (let k = 0; k < K; k++) for (let c = 0; c < co; c++) out[k * co + c] = acc[k * COp + c];
  return out;
}

/**
 * dx via a forward Conv2D: dy zero-upsampled by the stride, convolved (stride 1) with the filter
 * flipped in space and with in/out channels swapped, padded by (f−1−pad) so the output is [N,H,W,CI].
 */
export function inputGradViaConv(r: KernelRunner, dy: TensorInfo, filter: TensorInfo, inShape: Shape4, strides: number | [number, number],
  pad: Pad, dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined): TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(inShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight: h, inWidth: w } = info;
  const [n, oh, ow, co] = dy.shape as Shape4;
  const flipped = r.run('Reverse', { x: filter }, { dims: [0, 1] });
  const wT = r.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [FH,FW,CO,CI]
  let d = dy;
  if (sh > 1 || sw > 1) {
    // [N,OH,OW,CO] → [N,OH,1,OW,1,CO] → zero-pad → [N,OH·sh,OW·sw,CO] (trailing zeros cropped by the pads below)
    const d6 = r.run('Reshape', { x: dy }, { shape: [n, oh, 1, ow, 1, co] });
    const p6 = r.run('PadV2', { x: d6 }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
    d = r.run('Reshape', { x: p6 }, { shape: [n, oh * sh, ow * sw, co] });
  }
  const ptp = fh - 1 - info.padInfo.top, plp = fw - 1 - info.padInfo.left;
  const pbp = h - d.shape[1] - ptp + fh - 1, prp = w - d.shape[2] - plp + fw - 1;
  const c = cropForPads(r, d, [ptp, pbp, plp, prp]);
  return r.run('Conv2D', { x: c.t, filter: wT }, {
    strides: [1, 1], pad: c.pads, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined,
  });                                                                     // [N,H,W,CI]
}

const toNHWC = (r: KernelRunner, t: TensorInfo) => r.run('Transpose', { x: t }, { perm: [0, 2, 3, 1] });

function makeFilterGradKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: number | [number, number]; pad: Pad; dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: Shape4;
    };
    const r = new KernelRunner(backendName, backend as BackendLike);
    try {
      let { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      if (dataFormat === 'NCHW') { x = toNHWC(r, x); dy = toNHWC(r, dy); } // filter layout is the same for both
      const g = filterGradGeometry(x.shape as Shape4, filterShape, strides, pad, dimRoundingMode);
      if (backendName === 'cpu') {
        const vals = filterGradJs(r.backend.readSync(x.dataId) as ArrayLike<number>, x.shape as Shape4,
          r.backend.readSync(dy.dataId) as ArrayLike<number>, dy.shape as Shape4, g);
        return (backend as { makeTensorInfo(s: number[], d: 'float32', v: Float32Array): TensorInfo }).makeTensorInfo(filterShape, 'float32', vals);
      }
      return r.keep(isPointwise(g, x.shape as Shape4) ? filterGradViaMatMul(r, x, dy) : filterGradViaConv(r, x, dy, g));
    } finally {
      r.dispose();
    }
  };
}

function makeInputGradKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
      strides: number | [number, number]; pad: Pad; dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: Shape4;
    };
    const r = new KernelRunner(backendName, backend as BackendLike);
    try {
      let { dy } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const { filter } = inputs as { filter: TensorInfo };
      const nchw = dataFormat === 'NCHW';
      const inShape: Shape4 = nchw ? [inputShape[0], inputShape[2], inputShape[3], inputShape[1]] : inputShape;
      if (nchw) dy = toNHWC(r, dy);
      let dx = inputGradViaConv(r, dy, filter, inShape, strides, pad, dimRoundingMode);
      if (nchw) dx = r.run('Transpose', { x: dx }, { perm: [0, 3, 1, 2] });
      return r.keep(dx);
    } finally {
      r.dispose();
    }
  };
}

/** BatchMatMul that materialises transposed operands (Transpose kernel) and multiplies them untransposed. */
function untransposedMatMul(backendName: string, original: tf.KernelConfig | undefined): tf.KernelFunc {
  if (!original) throw new Error(`BatchMatMul is not registered for backend '${backendName}'.`);
  return (args) => {
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args);
    const r = new KernelRunner(backendName, args.backend as BackendLike);
    try {
      const swapLast = (t: TensorInfo) => {
        const perm = t.shape.map((_, i) => i);
        [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
        return r.run('Transpose', { x: t }, { perm });
      };
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      return original.kernelFunc({
        ...args,
        inputs: { a: attrs.transposeA ? swapLast(a) : a, b: attrs.transposeB ? swapLast(b) : b },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }) as TensorInfo;
    } finally {
      r.dispose();
    }
  };
}

/** Identity that shares the input's buffer (refcount + 1) instead of copying it; strings keep the original kernel. */
function aliasIdentity(original: tf.KernelConfig | undefined): tf.KernelFunc {
  return (args) => {
    const x = (args.inputs as { x: TensorInfo }).x;
    const backend = args.backend as { incRef?(dataId: object): void };
    if (x.dtype === 'string' || typeof backend.incRef !== 'function') {
      if (!original) throw new Error('Identity: no kernel for this input');
      return original.kernelFunc(args);
    }
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/**
 * Cast to the dtype a tensor already has aliases its buffer (as Identity above). tfjs's gradients cast
 * float32 to float32 ~250 times per GAN training step (Mul's and broadcasting ops' gradients), and the
 * wasm kernel copies the buffer each time (9 ms of a 500-ms mnist32 step, measured). Other casts run the
 * original kernel.
 */
function aliasSameDtypeCast(original: tf.KernelConfig | undefined): tf.KernelFunc {
  if (!original) throw new Error('Cast is not registered for this backend.');
  return (args) => {
    const x = (args.inputs as { x: TensorInfo }).x;
    const backend = args.backend as { incRef?(dataId: object): void };
    if (x.dtype !== (args.attrs as { dtype?: string }).dtype || x.dtype === 'string' || typeof backend.incRef !== 'function') return original.kernelFunc(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** Marks our kernel functions, so a second copy of this module (e.g. bundled + unbundled) does not wrap them. */
const FAST = Symbol.for('gan-inspector.fastKernel');
const isFast = (k: tf.KernelConfig | undefined) => !!k && FAST in k.kernelFunc;

function replaceKernel(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc): void {
  const old = tf.getKernel(kernelName, backendName);
  if (isFast(old)) return;
  Object.defineProperty(kernelFunc, FAST, { value: true });
  originals.set(key(kernelName, backendName), old);
  if (old) tf.unregisterKernel(kernelName, backendName);
  // Keep the original setupFunc: wasm kernels cwrap their C function in it when the backend starts.
  tf.registerKernel({ kernelName, backendName, kernelFunc, setupFunc: old?.setupFunc, disposeFunc: old?.disposeFunc });
}

/**
 * Replaces the slow/missing conv-gradient kernels of `backendName` ('cpu' or 'wasm'; others are left
 * alone). Idempotent; may be called before or after the backend is initialised.
 */
export function registerFastKernels(backendName: string): void {
  if (!(FAST_BACKENDS as readonly string[]).includes(backendName) || registered.has(backendName)) return;
  replaceKernel('Conv2DBackpropFilter', backendName, makeFilterGradKernel(backendName));
  if (backendName === 'wasm') {
    replaceKernel('Conv2DBackpropInput', backendName, makeInputGradKernel(backendName));
    replaceKernel('Identity', backendName, aliasIdentity(builtinKernel('Identity', backendName)));
    replaceKernel('Cast', backendName, aliasSameDtypeCast(builtinKernel('Cast', backendName)));
    replaceKernel('BatchMatMul', backendName, untransposedMatMul(backendName, builtinKernel('BatchMatMul', backendName)));
  }
  registered.add(backendName);
}

/** The kernel tfjs shipped for (kernelName, backendName), even after registerFastKernels replaced it. */
export function builtinKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  const k = key(kernelName, backendName);
  return originals.has(k) ? originals.get(k) : tf.getKernel(kernelName, backendName);
}

/** Whether registerFastKernels has run for `backendName`. */
export function fastKernelsRegistered(backendName: string): boolean {
  return registered.has(backendName);
}

/** A runner bound to the active backend, to call the building blocks above directly (benchmarks). */
export function kernelRunner(): KernelRunner {
  return new KernelRunner(tf.getBackend(), tf.backend() as unknown as BackendLike);
}
