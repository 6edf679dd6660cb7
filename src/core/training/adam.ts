/**
 * Adam with explicit, named state so snapshots can save and restore it bit-exactly
 * (tfjs's optimizers keep state under global variable names). StyleGAN2 uses β = (0, 0.99);
 * with lazy regularisation every `interval` steps, lr and betas are corrected by
 * c = interval / (interval + 1): lr·c, β^c.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamSet } from '../networks/params';

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export function lazyRegAdam(lr: number, regInterval: number): AdamConfig {
  const c = regInterval > 0 ? regInterval / (regInterval + 1) : 1;
  return { lr: lr * c, beta1: Math.pow(0, c), beta2: Math.pow(0.99, c), eps: 1e-8 };
}

export class Adam {
  /** canonical name → first / second moment */
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  /** Number of updates applied. */
  t = 0;

  constructor(readonly params: ParamSet, readonly cfg: AdamConfig) {
    for (const variable of params.trainable()) {
      const name = params.canonicalOf(variable);
      // tf.variable shares the initial tensor's data; dispose the initial tensors so nothing is left behind.
      const [m0, v0] = [tf.zerosLike(variable), tf.zerosLike(variable)];
      this.m.set(name, tf.variable(m0, false));
      this.v.set(name, tf.variable(v0, false));
      tf.dispose([m0, v0]);
    }
  }

  /** Applies gradients keyed by tfjs variable name (as tf.variableGrads returns them). Disposes them. */
  apply(grads: tf.NamedTensorMap): void {
    this.t++;
    const { lr, beta1, beta2, eps } = this.cfg;
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    const stepSize = lr * Math.sqrt(bc2) / (bc1 || 1);
    for (const variable of this.params.trainable()) {
      const g = grads[variable.name];
      if (!g) continue; // not part of this phase's loss (e.g. the decoder when GGDR is off)
      const name = this.params.canonicalOf(variable);
      const m = this.m.get(name)!, v = this.v.get(name)!;
      tf.tidy(() => {
        // β1 = 0 (StyleGAN2's setting): m·0 + g·1 is g, without its three kernels per variable.
        const mNew = beta1 === 0 ? g : tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(mNew);
        v.assign(vNew);
        variable.assign(tf.sub(variable, tf.mul(tf.div(mNew, tf.add(tf.sqrt(vNew), eps * Math.sqrt(bc2))), stepSize)));
      });
    }
    for (const g of Object.values(grads)) g.dispose();
  }

  /** The moment variables (m then v), e.g. to back them up before an update that may be rolled back. */
  stateVars(): tf.Variable[] {
    return [...this.m.values(), ...this.v.values()];
  }

  /** State for snapshots: moments by canonical name. */
  named(prefix: string): Array<{ name: string; tensor: tf.Tensor }> {
    const out: Array<{ name: string; tensor: tf.Tensor }> = [];
    for (const [n, t] of this.m) out.push({ name: `${prefix}/m/${n}`, tensor: t });
    for (const [n, t] of this.v) out.push({ name: `${prefix}/v/${n}`, tensor: t });
    return out;
  }

  load(tensors: Record<string, tf.Tensor>, prefix: string, t: number): void {
    for (const [kind, map] of [['m', this.m], ['v', this.v]] as const) {
      for (const [n, variable] of map) {
        const src = tensors[`${prefix}/${kind}/${n}`];
        if (!src) throw new Error(`optimizer state '${prefix}/${kind}/${n}' missing from snapshot`);
        variable.assign(src);
      }
    }
    this.t = t;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
