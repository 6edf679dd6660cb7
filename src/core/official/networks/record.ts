/**
 * Reading the pickled module records (`OfficialModule`) with errors that name what is wrong: the
 * module path (e.g. `G_ema.synthesis.b64.conv0`), its class and the attribute or tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../errors';
import type { OfficialModule, PyPlain, TorchTensor } from '../types';

const HINT = 'GAN Inspector reads the networks of the official StyleGAN2-ADA (PyTorch) and GGDR code; other variants are not supported.';

/** A module record together with its dotted path, for messages. */
export class Rec {
  constructor(readonly m: OfficialModule, readonly path: string) {}

  get className(): string {
    return this.m.className;
  }

  fail(what: string): never {
    throw new UserError(`Unsupported official network: ${this.path} (${this.className}) ${what}.`, HINT);
  }

  expectClass(...names: string[]): this {
    if (!names.includes(this.className)) this.fail(`is not a ${names.join(' or ')}`);
    return this;
  }

  has(name: string): boolean {
    return name in this.m.attrs;
  }

  attr(name: string): PyPlain | undefined {
    return this.m.attrs[name];
  }

  num(name: string, dflt?: number): number {
    const v = this.m.attrs[name];
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      this.fail(`has no numeric attribute '${name}'`);
    }
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    return this.fail(`has attribute '${name}' = ${JSON.stringify(String(v))}, expected a number`);
  }

  /** A number or null (e.g. conv_clamp). */
  numOrNull(name: string): number | null {
    const v = this.m.attrs[name];
    if (v === undefined || v === null) return null;
    return this.num(name);
  }

  str(name: string, dflt?: string): string {
    const v = this.m.attrs[name];
    if (typeof v === 'string') return v;
    if ((v === undefined || v === null) && dflt !== undefined) return dflt;
    return this.fail(`has no string attribute '${name}'`);
  }

  bool(name: string, dflt?: boolean): boolean {
    const v = this.m.attrs[name];
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    if ((v === undefined || v === null) && dflt !== undefined) return dflt;
    return this.fail(`has no boolean attribute '${name}'`);
  }

  numList(name: string): number[] {
    const v = this.m.attrs[name];
    if (!Array.isArray(v)) return this.fail(`has no list attribute '${name}'`);
    return v.map((x) => (typeof x === 'bigint' ? Number(x) : typeof x === 'number' ? x : this.fail(`has a non-numeric entry in '${name}'`)));
  }

  /** A parameter or buffer; undefined when absent or None. */
  tensorOpt(name: string): TorchTensor | undefined {
    return this.m.params[name] ?? this.m.buffers[name] ?? undefined;
  }

  tensor(name: string, shape?: Array<number | null>): TorchTensor {
    const t = this.tensorOpt(name);
    if (!t) return this.fail(`has no tensor '${name}'`);
    if (!(t.data instanceof Float32Array)) this.fail(`has tensor '${name}' of dtype ${t.dtype}, expected floating point`);
    if (shape) {
      const ok = shape.length === t.shape.length && shape.every((s, i) => s === null || s === t.shape[i]);
      if (!ok) this.fail(`has tensor '${name}' of shape [${t.shape}], expected [${shape.map((s) => (s === null ? '?' : s))}]`);
    }
    return t;
  }

  childOpt(name: string): Rec | undefined {
    const c = this.m.modules[name];
    return c ? new Rec(c, `${this.path}.${name}`) : undefined;
  }

  child(name: string, ...classNames: string[]): Rec {
    const c = this.childOpt(name);
    if (!c) return this.fail(`has no submodule '${name}'`);
    return classNames.length ? c.expectClass(...classNames) : c;
  }
}

/** A float tensor of the record as a tfjs tensor of the same shape (row-major data kept as is). */
export function toTf(t: TorchTensor): tf.Tensor {
  return tf.tensor(t.data as Float32Array, t.shape, 'float32');
}

/** Transposes row-major `data` of `shape` by `perm` into a new Float32Array (done once, at load). */
export function permute(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) { inStrides[i] = s; s *= shape[i]; }
  const strideOfOut = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += strideOfOut[d];
      if (idx[d] < outShape[d]) break;
      src -= strideOfOut[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}
