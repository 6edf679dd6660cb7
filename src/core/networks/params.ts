/**
 * Named parameter sets. Networks are plain functions of a ParamSet rather than tf.LayersModels:
 * GGDR and R1 need custom losses and second-order gradients, and snapshots need stable names.
 *
 * tfjs variable names are global to the engine, so each set prefixes its variables with a unique
 * instance tag; `canonical` names (e.g. "synthesis/b8/conv0/weight") are what snapshots store.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';

let instanceCounter = 0;

export class ParamSet {
  /** canonical name → variable */
  readonly vars = new Map<string, tf.Variable>();
  private readonly tag: string;

  constructor(readonly prefix: string) {
    this.tag = `${prefix}#${++instanceCounter}`;
  }

  /** Adds a trainable (or buffer) variable initialised from `init`; takes ownership of `init`. */
  add(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate parameter ${this.prefix}/${name}`);
    const v = tf.variable(init, trainable, `${this.tag}/${name}`);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  /** Standard-normal initialised parameter (equalized learning rate: scaling happens at run time). */
  normal(name: string, shape: number[], rng: Rng, scale = 1, trainable = true): tf.Variable {
    return this.add(name, tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), scale), shape, 'float32'), trainable);
  }

  constant(name: string, shape: number[], value: number, trainable = true): tf.Variable {
    return this.add(name, tf.fill(shape, value, 'float32'), trainable);
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`missing parameter ${this.prefix}/${name}`);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  trainable(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable);
  }

  /** Canonical name of a variable of this set (from its tfjs name). */
  canonicalOf(v: tf.Variable): string {
    return v.name.slice(this.tag.length + 1);
  }

  numParams(trainableOnly = true): number {
    let n = 0;
    for (const v of this.vars.values()) if (!trainableOnly || v.trainable) n += v.size;
    return n;
  }

  /** Copies values from another set with the same names and shapes (used for G_ema and for loading). */
  assignFrom(other: ParamSet): void {
    for (const [name, v] of this.vars) v.assign(other.get(name));
  }

  /** name → tensor map for saving; tensors are the live variables (do not dispose). */
  named(): Array<{ name: string; tensor: tf.Tensor }> {
    return [...this.vars].map(([name, v]) => ({ name, tensor: v }));
  }

  /** Loads values by canonical name; every variable must be present with the same shape. */
  load(tensors: Record<string, tf.Tensor>, what: string): void {
    for (const [name, v] of this.vars) {
      const t = tensors[name];
      if (!t) throw new Error(`${what}: missing tensor '${name}'`);
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        throw new Error(`${what}: tensor '${name}' has shape [${t.shape}] but this network expects [${v.shape}]`);
      }
      v.assign(t);
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
