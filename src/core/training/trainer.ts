/**
 * One GAN training step in StyleGAN2-ADA's phases — Gmain, Dmain (+ GGDR), Dreg (lazy R1) —
 * with G_ema. Holds the networks and optimiser state; knows nothing about files or processes.
 */
import * as tf from '@tensorflow/tfjs';
import { TrainingOptions } from '../config/options';
import { Discriminator } from '../networks/discriminator';
import { Generator } from '../networks/generator';
import { Rng, hashSeed } from '../util/rng';
import { Adam, lazyRegAdam } from './adam';
import { ggdrLoss, r1Penalty, softplusNeg, softplusPos } from './losses';

/** Per-step values reported to the stats collector (name → per-sample values or a scalar). */
export type StepStats = Record<string, number | Float32Array>;

/** Thrown when a loss term becomes NaN/Inf; the step's update was NOT applied. */
export class NonFiniteLossError extends Error {
  constructor(readonly term: string, readonly step: number, readonly value: number) {
    super(`${term} became ${value} at step ${step}; the update was not applied`);
    this.name = 'NonFiniteLossError';
  }
}

export class GanTrainer {
  readonly G: Generator;
  readonly G_ema: Generator;
  readonly D: Discriminator;
  readonly optG: Adam;
  readonly optD: Adam;
  /** Training steps done (one step = Gmain + Dmain [+ Dreg] on one batch). */
  step = 0;
  /** Real images shown to D so far. */
  nimg = 0;

  constructor(readonly opts: TrainingOptions) {
    const m = opts.model;
    this.G = new Generator(m, opts.seed, 'G');
    this.G_ema = new Generator(m, opts.seed, 'G_ema');
    this.G_ema.params.assignFrom(this.G.params);
    this.D = new Discriminator(m, opts.seed, opts.ggdr.enabled ? { res: opts.ggdr.res, genChannels: (r) => this.G.channelsAt(r) } : null, 'D');
    this.optG = new Adam(this.G.params, { lr: m.glr, beta1: 0, beta2: 0.99, eps: 1e-8 }); // no lazy G reg (path length off)
    this.optD = new Adam(this.D.params, m.r1Gamma > 0 && m.r1Interval > 0 ? lazyRegAdam(m.dlr, m.r1Interval) : { lr: m.dlr, beta1: 0, beta2: 0.99, eps: 1e-8 });
  }

  /** Standard-normal latents for a purpose at a step: reproducible from (seed, purpose, step). */
  latents(purpose: string, step: number, n = this.opts.model.batch): tf.Tensor2D {
    return tf.tensor2d(Rng.for(this.opts.seed, 'z', purpose, step).normalArray(n * this.opts.model.zDim), [n, this.opts.model.zDim]);
  }

  /**
   * One training step on a batch of reals [N,R,R,C] in [-1,1]. Values are read back with
   * `await data()` (WebGPU in Node has no synchronous read-back). Returns stats; throws
   * NonFiniteLossError (before applying that phase's update) when a loss is not finite.
   */
  async trainStep(reals: tf.Tensor4D): Promise<StepStats> {
    const o = this.opts, m = o.model;
    const n = reals.shape[0];
    const step = this.step;
    const stats: StepStats = {};
    const ggdrOn = o.ggdr.enabled;

    // ---- Gmain: non-saturating loss through D on fresh fakes.
    {
      const z = this.latents('G', step, n);
      const noiseSeed = hashSeed(o.seed, 'noiseG', step);
      const aug = this.augmentPlan(n, step, 'G');
      const kept: Record<string, tf.Tensor> = {};
      const { value: _v, grads } = tf.variableGrads(() => {
        const w = this.G.mapping(z);
        const out = this.G.synthesis(w, { noiseSeed, keepFeatures: [] });
        const img = applyAugment(out.image, aug);
        const { logits } = this.D.apply(img);
        const perSample = softplusNeg(logits);
        kept.loss = tf.keep(perSample);
        kept.scores = tf.keep(tf.reshape(logits, [-1]));
        return tf.mean(perSample) as tf.Scalar;
      }, this.G.params.trainable());
      _v.dispose();
      const loss = (await kept.loss.data()) as Float32Array;
      stats['Loss/scores/fake'] = (await kept.scores.data()) as Float32Array;
      stats['Loss/G/loss'] = loss;
      tf.dispose(Object.values(kept));
      this.checkFinite('Loss/G/loss', loss, grads);
      this.optG.apply(grads);
      tf.tidy(() => this.G.updateWAvg(this.G.mapping(z)));
      z.dispose();
    }

    // ---- Dmain: logistic loss on fakes and reals, plus GGDR on the fakes.
    {
      const z = this.latents('D', step, n);
      const noiseSeed = hashSeed(o.seed, 'noiseD', step);
      // Fakes and the generator's features are fixed targets: computed outside the gradient tape.
      const [genImage, genFeat] = tf.tidy(() => {
        const out = this.G.synthesis(this.G.mapping(z), { noiseSeed, keepFeatures: ggdrOn ? [o.ggdr.res] : [] });
        return ggdrOn ? [out.image, out.features.get(o.ggdr.res)!] : [out.image];
      }) as [tf.Tensor4D, tf.Tensor4D?];
      const gen = { image: genImage, feat: genFeat ?? null };
      const augF = this.augmentPlan(n, step, 'Dfake');
      const augR = this.augmentPlan(n, step, 'Dreal');
      const fake = applyAugment(gen.image, augF);
      const feat = gen.feat ? applyAugment(gen.feat, augF) : null;
      const realAug = applyAugment(reals, augR);
      const kept: Record<string, tf.Tensor> = {};
      const vars = ggdrOn ? this.D.params.trainable() : this.D.encoderVars();
      const { value: _v, grads } = tf.variableGrads(() => {
        const f = this.D.apply(fake, ggdrOn);
        const r = this.D.apply(realAug);
        const lossFake = softplusPos(f.logits);
        const lossReal = softplusNeg(r.logits);
        kept.scoresFake = tf.keep(tf.reshape(f.logits, [-1]));
        kept.scoresReal = tf.keep(tf.reshape(r.logits, [-1]));
        kept.dloss = tf.keep(tf.add(lossFake, lossReal));
        let total = tf.add(tf.mean(lossFake), tf.mean(lossReal)) as tf.Scalar;
        if (ggdrOn) {
          const g = ggdrLoss(f.decoded!, feat!, o.ggdr.weight);
          kept.ggdr = tf.keep(g);
          total = tf.add(total, g) as tf.Scalar;
        }
        return total;
      }, vars);
      _v.dispose();
      const dloss = (await kept.dloss.data()) as Float32Array;
      stats['Loss/D/loss'] = dloss;
      stats['Loss/scores/real'] = (await kept.scoresReal.data()) as Float32Array;
      if (kept.ggdr) stats['Loss/D/ggdr'] = (await kept.ggdr.data())[0];
      tf.dispose(Object.values(kept));
      for (const t of new Set([gen.image, gen.feat, fake, feat, realAug])) if (t && t !== reals) t.dispose();
      this.checkFinite('Loss/D/loss', dloss, grads);
      if (typeof stats['Loss/D/ggdr'] === 'number') this.checkFinite('Loss/D/ggdr', [stats['Loss/D/ggdr'] as number], grads);
      this.optD.apply(grads);
      z.dispose();
    }

    // ---- Dreg: lazy R1 on reals every r1Interval steps, scaled by the interval.
    if (m.r1Gamma > 0 && m.r1Interval > 0 && step % m.r1Interval === 0) {
      const realAug = applyAugment(reals, this.augmentPlan(n, step, 'Dreg'));
      const kept: Record<string, tf.Tensor> = {};
      const { value: _v, grads } = tf.variableGrads(() => {
        const pen = r1Penalty((x) => this.D.apply(x).logits, realAug);
        kept.pen = tf.keep(pen);
        return tf.mul(tf.mean(pen), (m.r1Gamma / 2) * m.r1Interval) as tf.Scalar;
      }, this.D.encoderVars());
      _v.dispose();
      const pen = (await kept.pen.data()) as Float32Array;
      stats['Loss/r1_penalty'] = pen;
      stats['Loss/D/reg'] = Float32Array.from(pen, (v) => v * (m.r1Gamma / 2));
      tf.dispose(Object.values(kept));
      if (realAug !== reals) realAug.dispose();
      this.checkFinite('Loss/r1_penalty', pen, grads);
      this.optD.apply(grads);
    }

    this.step++;
    this.nimg += n;
    this.updateEma(n);
    return stats;
  }

  /** G_ema ← lerp(G, G_ema, β) with β = 0.5^(batch / ema_nimg) and StyleGAN2-ADA's ramp-up. */
  private updateEma(batch: number): void {
    const m = this.opts.model;
    let emaNimg = m.emaKimg * 1000;
    if (m.emaRampup > 0) emaNimg = Math.min(emaNimg, this.nimg * m.emaRampup);
    const beta = Math.pow(0.5, batch / Math.max(emaNimg, 1e-8));
    tf.tidy(() => {
      for (const [name, v] of this.G_ema.params.vars) {
        const src = this.G.params.get(name);
        v.assign(v.trainable ? tf.add(src, tf.mul(tf.sub(v, src), beta)) : src);
      }
    });
  }

  private checkFinite(term: string, values: ArrayLike<number>, grads: tf.NamedTensorMap): void {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        tf.dispose(Object.values(grads));
        throw new NonFiniteLossError(term, this.step, values[i]);
      }
    }
  }

  /** Per-sample augmentation decisions, reproducible from (seed, step, phase). */
  private augmentPlan(n: number, step: number, phase: string): AugmentPlan | null {
    const a = this.opts.augment;
    if (!a.xflip && a.translate === 0) return null;
    const rng = Rng.for(this.opts.seed, 'augment', phase, step);
    const R = this.opts.model.resolution;
    // With GGDR, shifts are whole multiples of (R / ggdr_res) px so the feature targets move by whole pixels too.
    const unit = this.opts.ggdr.enabled ? R / this.opts.ggdr.res : 1;
    const maxK = Math.floor(a.translate / unit);
    const plan: AugmentPlan = { resolution: R, flip: [], dx: [], dy: [] };
    for (let i = 0; i < n; i++) {
      plan.flip.push(a.xflip && rng.uniform() < 0.5);
      plan.dx.push(maxK > 0 ? (rng.int(2 * maxK + 1) - maxK) * unit : 0);
      plan.dy.push(maxK > 0 ? (rng.int(2 * maxK + 1) - maxK) * unit : 0);
    }
    return plan;
  }

  dispose(): void {
    this.G.dispose();
    this.G_ema.dispose();
    this.D.dispose();
    this.optG.dispose();
    this.optD.dispose();
  }
}

/** Per-sample x-flip and integer translation (in image pixels), applied identically to images and feature maps. */
export interface AugmentPlan {
  resolution: number;
  flip: boolean[];
  dx: number[];
  dy: number[];
}

/** Applies a plan to [N,H,W,C] (images or feature maps of any resolution; shifts scale with H). Returns the input itself when the plan is null. */
export function applyAugment(x: tf.Tensor4D, plan: AugmentPlan | null): tf.Tensor4D {
  if (!plan) return x;
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    let y: tf.Tensor4D = x;
    if (plan.flip.some(Boolean)) y = tf.where(tf.tensor1d(plan.flip, 'bool'), tf.reverse(y, 2), y) as tf.Tensor4D;
    if (plan.dx.some((d) => d !== 0) || plan.dy.some((d) => d !== 0)) {
      const scale = h / plan.resolution;
      const parts: tf.Tensor4D[] = [];
      for (let i = 0; i < n; i++) {
        const dx = Math.round(plan.dx[i] * scale), dy = Math.round(plan.dy[i] * scale);
        const xi = tf.slice(y, [i, 0, 0, 0], [1, h, w, c]);
        const p = Math.max(Math.abs(dx), Math.abs(dy));
        if (p === 0) { parts.push(xi); continue; }
        const padded = tf.pad(xi, [[0, 0], [p, p], [p, p], [0, 0]]);
        parts.push(tf.slice(padded, [0, p - dy, p - dx, 0], [1, h, w, c]));
      }
      y = tf.concat(parts, 0) as tf.Tensor4D;
    }
    return y;
  });
}
