/**
 * One GAN training step in StyleGAN2-ADA's phases — Gmain, Dmain (+ GGDR), Dreg (lazy R1) —
 * with G_ema. Holds the networks and optimiser state; knows nothing about files or processes.
 */
import * as tf from '@tensorflow/tfjs';
import { type TrainingOptions, translateUnit } from '../config/options';
import { Discriminator } from '../networks/discriminator';
import { Generator } from '../networks/generator';
import { Rng, hashSeed } from '../util/rng';
import { Adam, lazyRegAdam } from './adam';
import { ggdrLoss, r1Penalty, softplusNeg, softplusPos } from './losses';

/** Per-step values reported to the stats collector (name → per-sample values or a scalar). */
export type StepStats = Record<string, number | Float32Array>;

/** The phases of one step, in order. */
export type TrainPhase = 'Gmain' | 'Dmain' | 'Dreg';

/** What a data-parallel replica hands over after a phase, and gets back for the whole batch. */
export interface PhaseExchange {
  /** Gradients flattened in the order of the phase's variables (mean over this replica's rows; the batch's: weighted sum). */
  grads: Float32Array;
  /** Per-sample values (this replica's rows; the batch's: concatenated in replica order). */
  rows: Record<string, Float32Array>;
  /** Means over the rows (this replica's; the batch's: weighted by rows). */
  means: Record<string, number>;
}

/**
 * Makes a GanTrainer one replica of data-parallel training (src/core/training/parallel): it computes
 * rows [start, start+count) of every batch of `total` and, after each phase's backward pass, `exchange`
 * returns the whole batch's gradients and values, identical in every replica, so every replica applies
 * the same update (and makes the same finiteness decision) and their states stay bit-identical.
 */
export interface ReplicaLink {
  start: number;
  count: number;
  total: number;
  exchange(phase: TrainPhase, local: PhaseExchange): Promise<PhaseExchange>;
}

/**
 * Thrown when a loss, a phase's gradients (Σg² over the phase, so float32 overflow of g² counts
 * too) or G's tracked w_avg become NaN/Inf. The whole step is rolled back before it is thrown:
 * the trainer holds the state after step `step − 1`, with `step` and `nimg` unchanged.
 */
export class NonFiniteLossError extends Error {
  constructor(
    /** 'Loss/G/loss', 'Loss/D/loss', 'Loss/D/ggdr', 'Loss/r1_penalty', 'Gmain gradient', …, or 'G/mapping/w_avg'. */
    readonly term: string,
    readonly step: number,
    readonly value: number,
    readonly phase: TrainPhase,
    readonly kind: 'loss' | 'gradient' | 'state',
  ) {
    super(`${term} became ${value} at step ${step}; the step was rolled back`);
    this.name = 'NonFiniteLossError';
  }
}

/**
 * Copies of variables taken just before an update, so a step that fails in a later phase can be
 * undone (Gmain's update is applied before Dmain runs, Dmain's before Dreg).
 */
class StepUndo {
  private readonly saved: Array<{ v: tf.Variable; copy: tf.Tensor }> = [];
  private readonly counters: Array<{ opt: Adam; t: number }> = [];

  capture(vars: Iterable<tf.Variable>, opt: Adam): void {
    for (const v of vars) this.saved.push({ v, copy: tf.clone(v) });
    for (const v of opt.stateVars()) this.saved.push({ v, copy: tf.clone(v) });
    this.counters.push({ opt, t: opt.t });
  }

  /** Puts every captured variable and optimiser counter back. */
  restore(): void {
    for (const { v, copy } of this.saved) v.assign(copy);
    for (const { opt, t } of this.counters) opt.t = t;
  }

  dispose(): void {
    for (const { copy } of this.saved) copy.dispose();
    this.saved.length = 0;
    this.counters.length = 0;
  }
}

/** Σ g² over a phase's gradients as a [1] tensor (NaN/Inf when any g is, or when g² overflows float32). */
function gradSumSq(grads: tf.NamedTensorMap): tf.Tensor1D {
  return tf.tidy(() => {
    const gs = Object.values(grads);
    if (!gs.length) return tf.zeros([1]) as tf.Tensor1D;
    // One flat vector and 3 kernels instead of 2 per gradient: per-kernel dispatch dominates on wasm.
    const flat = tf.concat(gs.map((g) => tf.reshape(g, [-1])));
    return tf.reshape(tf.sum(tf.square(flat)), [1]) as tf.Tensor1D;
  });
}

/** Reads several tensors back in one transfer: the flattened values in order, split again. */
async function readPacked(parts: tf.Tensor[]): Promise<Float32Array[]> {
  const packed = tf.tidy(() => tf.concat(parts.map((p) => tf.reshape(tf.cast(p, 'float32'), [-1]))));
  let all: Float32Array;
  try {
    all = (await packed.data()) as Float32Array;
  } finally {
    packed.dispose();
  }
  const out: Float32Array[] = [];
  let o = 0;
  for (const p of parts) {
    out.push(all.subarray(o, o + p.size));
    o += p.size;
  }
  return out;
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
  /** Set when this trainer is one replica of data-parallel training (its reals are its rows of the batch). */
  replica: ReplicaLink | null = null;

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

  /** Whether step `step` runs the lazy R1 phase. */
  private isRegStep(step: number): boolean {
    const m = this.opts.model;
    return m.r1Gamma > 0 && m.r1Interval > 0 && step % m.r1Interval === 0;
  }

  /**
   * One training step on a batch of reals [N,R,R,C] in [-1,1]. Each phase reads its losses and
   * Σg² of its gradients back in one `await data()` (WebGPU in Node has no synchronous read-back)
   * and applies its update only when all are finite. Throws NonFiniteLossError otherwise, after
   * rolling the whole step back (earlier phases' updates included).
   */
  async trainStep(reals: tf.Tensor4D): Promise<StepStats> {
    const undo = new StepUndo();
    const batch = this.replica ? this.replica.total : reals.shape[0];
    try {
      const stats = await this.phases(reals, undo);
      this.step++;
      this.nimg += batch;
      this.updateEma(batch);
      return stats;
    } catch (e) {
      undo.restore();
      throw e;
    } finally {
      undo.dispose();
    }
  }

  private async phases(reals: tf.Tensor4D, undo: StepUndo): Promise<StepStats> {
    const o = this.opts, m = o.model;
    const n = reals.shape[0];
    const step = this.step;
    const stats: StepStats = {};
    const ggdrOn = o.ggdr.enabled;
    const regStep = this.isRegStep(step);
    const rep = this.replica;
    // A replica draws the whole batch's latents, noise and augmentations and uses its rows.
    const noiseRows = rep ? { offset: rep.start, total: rep.total } : undefined;

    // ---- Gmain: non-saturating loss through D on fresh fakes.
    {
      const zAll = this.latents('G', step, rep ? rep.total : n);
      const z = rep ? tf.slice(zAll, [rep.start, 0], [n, -1]) : zAll;
      const kept: Record<string, tf.Tensor> = {};
      let grads: tf.NamedTensorMap = {};
      try {
        const noiseSeed = hashSeed(o.seed, 'noiseG', step);
        const aug = this.augmentPlan(n, step, 'G');
        const vars = this.G.params.trainable();
        const res = tf.variableGrads(() => {
          const w = this.G.mapping(z);
          const out = this.G.synthesis(w, { noiseSeed, keepFeatures: [], noiseRows });
          const img = applyAugment(out.image, aug);
          const { logits } = this.D.apply(img);
          const perSample = softplusNeg(logits);
          kept.loss = tf.keep(perSample);
          kept.scores = tf.keep(tf.reshape(logits, [-1]));
          return tf.mean(perSample) as tf.Scalar;
        }, vars);
        res.value.dispose();
        grads = res.grads;
        if (rep) grads = await this.exchange('Gmain', vars, grads, kept, ['loss', 'scores'], []);
        kept.gsq = gradSumSq(grads);
        const [loss, scores, gsq] = await readPacked([kept.loss, kept.scores, kept.gsq]);
        stats['Loss/scores/fake'] = scores.slice();
        stats['Loss/G/loss'] = loss.slice();
        this.ensureFinite('Gmain', 'loss', 'Loss/G/loss', loss);
        this.ensureFinite('Gmain', 'gradient', 'Gmain gradient', gsq);
        undo.capture([...this.G.params.trainable(), this.G.params.get('mapping/w_avg')], this.optG); // w_avg too: it moves below
        this.optG.apply(grads);
        tf.tidy(() => this.G.updateWAvg(this.G.mapping(zAll))); // the whole batch's mean w
      } finally {
        tf.dispose([zAll, z, ...Object.values(kept), ...Object.values(grads)]);
      }
    }

    // ---- Dmain: logistic loss on fakes and reals, plus GGDR on the fakes.
    {
      const zAll = this.latents('D', step, rep ? rep.total : n);
      const z = rep ? tf.slice(zAll, [rep.start, 0], [n, -1]) as tf.Tensor2D : zAll;
      const kept: Record<string, tf.Tensor> = {};
      const temps: tf.Tensor[] = rep ? [zAll, z] : [z];
      let grads: tf.NamedTensorMap = {};
      try {
        const noiseSeed = hashSeed(o.seed, 'noiseD', step);
        // Fakes and the generator's features are fixed targets: computed outside the gradient tape.
        const [genImage, genFeat] = tf.tidy(() => {
          const out = this.G.synthesis(this.G.mapping(z), { noiseSeed, keepFeatures: ggdrOn ? [o.ggdr.res] : [], noiseRows });
          return ggdrOn ? [out.image, out.features.get(o.ggdr.res)!] : [out.image];
        }) as [tf.Tensor4D, tf.Tensor4D?];
        temps.push(genImage, ...(genFeat ? [genFeat] : []));
        const augF = this.augmentPlan(n, step, 'Dfake');
        const augR = this.augmentPlan(n, step, 'Dreal');
        const fake = applyAugment(genImage, augF);
        const feat = genFeat ? applyAugment(genFeat, augF) : null;
        const realAug = applyAugment(reals, augR);
        temps.push(fake, ...(feat ? [feat] : []));
        if (realAug !== reals) temps.push(realAug);
        const vars = ggdrOn ? this.D.params.trainable() : this.D.encoderVars();
        const res = tf.variableGrads(() => {
          const f = this.D.apply(fake, ggdrOn);
          const r = this.D.apply(realAug);
          const lossFake = softplusPos(f.logits);
          const lossReal = softplusNeg(r.logits);
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
        res.value.dispose();
        grads = res.grads;
        if (rep) grads = await this.exchange('Dmain', vars, grads, kept, ['dloss', 'scoresReal'], ggdrOn ? ['ggdr'] : []);
        kept.gsq = gradSumSq(grads);
        // w_avg was moved by Gmain's new mapping; it is no loss input, so check it here.
        kept.wavg = tf.tidy(() => tf.sum(tf.square(this.G.params.get('mapping/w_avg'))));
        const parts = [kept.dloss, kept.scoresReal, kept.gsq, kept.wavg, ...(kept.ggdr ? [kept.ggdr] : [])];
        const [dloss, scoresReal, gsq, wavg, ggdr] = await readPacked(parts);
        stats['Loss/D/loss'] = dloss.slice();
        stats['Loss/scores/real'] = scoresReal.slice();
        if (ggdr) stats['Loss/D/ggdr'] = ggdr[0];
        this.ensureFinite('Dmain', 'loss', 'Loss/D/loss', dloss);
        if (ggdr) this.ensureFinite('Dmain', 'loss', 'Loss/D/ggdr', ggdr);
        this.ensureFinite('Dmain', 'gradient', 'Dmain gradient', gsq);
        this.ensureFinite('Gmain', 'state', 'G/mapping/w_avg', wavg);
        if (regStep) undo.capture(this.D.params.trainable(), this.optD); // Dreg may still fail after this update
        this.optD.apply(grads);
      } finally {
        tf.dispose([...temps, ...Object.values(kept), ...Object.values(grads)]);
      }
    }

    // ---- Dreg: lazy R1 on reals every r1Interval steps, scaled by the interval.
    if (regStep) {
      const realAug = applyAugment(reals, this.augmentPlan(n, step, 'Dreg'));
      const kept: Record<string, tf.Tensor> = {};
      let grads: tf.NamedTensorMap = {};
      try {
        const vars = this.D.encoderVars();
        const res = tf.variableGrads(() => {
          const pen = r1Penalty((x) => this.D.apply(x).logits, realAug);
          kept.pen = tf.keep(pen);
          return tf.mul(tf.mean(pen), (m.r1Gamma / 2) * m.r1Interval) as tf.Scalar;
        }, vars);
        res.value.dispose();
        grads = res.grads;
        if (rep) grads = await this.exchange('Dreg', vars, grads, kept, ['pen'], []);
        kept.gsq = gradSumSq(grads);
        const [pen, gsq] = await readPacked([kept.pen, kept.gsq]);
        stats['Loss/r1_penalty'] = pen.slice();
        stats['Loss/D/reg'] = Float32Array.from(pen, (v) => v * (m.r1Gamma / 2));
        this.ensureFinite('Dreg', 'loss', 'Loss/r1_penalty', pen);
        this.ensureFinite('Dreg', 'gradient', 'Dreg gradient', gsq);
        this.optD.apply(grads);
      } finally {
        tf.dispose([...Object.values(kept), ...Object.values(grads)]);
        if (realAug !== reals) realAug.dispose();
      }
    }
    return stats;
  }

  /**
   * A replica's phase result → the batch's: reads its gradients (in `vars` order) and the kept values,
   * disposes them, and returns the batch's gradients as new tensors; `kept` gets the batch's values.
   */
  private async exchange(phase: TrainPhase, vars: tf.Variable[], grads: tf.NamedTensorMap, kept: Record<string, tf.Tensor>,
    rows: string[], means: string[]): Promise<tf.NamedTensorMap> {
    const rep = this.replica!;
    // Variables the loss does not reach have no gradient (R1 and D's output bias); the same ones in every replica.
    vars = vars.filter((v) => grads[v.name]);
    const gs = vars.map((v) => grads[v.name]);
    let local: PhaseExchange;
    try {
      const parts = await readPacked([...gs, ...rows.map((k) => kept[k]), ...means.map((k) => kept[k])]);
      let size = 0;
      for (const g of gs) size += g.size;
      const flat = new Float32Array(size);
      let o = 0;
      for (let i = 0; i < gs.length; i++) { flat.set(parts[i], o); o += gs[i].size; }
      local = {
        grads: flat,
        rows: Object.fromEntries(rows.map((k, i) => [k, parts[gs.length + i].slice()])),
        means: Object.fromEntries(means.map((k, i) => [k, parts[gs.length + rows.length + i][0]])),
      };
    } finally {
      tf.dispose(Object.values(grads));
      for (const k of [...rows, ...means]) { kept[k]?.dispose(); delete kept[k]; }
    }
    const all = await rep.exchange(phase, local);
    const out: tf.NamedTensorMap = {};
    let o = 0;
    for (const v of vars) {
      out[v.name] = tf.tensor(all.grads.subarray(o, o + v.size), v.shape, 'float32');
      o += v.size;
    }
    for (const k of rows) kept[k] = tf.tensor1d(all.rows[k], 'float32');
    for (const k of means) kept[k] = tf.scalar(all.means[k], 'float32');
    return out;
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

  private ensureFinite(phase: TrainPhase, kind: 'loss' | 'gradient' | 'state', term: string, values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new NonFiniteLossError(term, this.step, values[i], phase, kind);
    }
  }

  /** Per-sample augmentation decisions, reproducible from (seed, step, phase). */
  private augmentPlan(n: number, step: number, phase: string): AugmentPlan | null {
    const a = this.opts.augment;
    if (!a.xflip && a.translate === 0) return null;
    const rep = this.replica;
    if (rep) {
      // A replica's rows of the whole batch's plan (its draws depend on the batch size).
      const all = this.plan(rep.total, step, phase);
      const rows = (xs: Array<boolean | number>) => xs.slice(rep.start, rep.start + n);
      return { resolution: all.resolution, flip: rows(all.flip) as boolean[], dx: rows(all.dx) as number[], dy: rows(all.dy) as number[] };
    }
    return this.plan(n, step, phase);
  }

  private plan(n: number, step: number, phase: string): AugmentPlan {
    const a = this.opts.augment;
    const rng = Rng.for(this.opts.seed, 'augment', phase, step);
    const R = this.opts.model.resolution;
    // With GGDR, shifts are whole multiples of (R / ggdr_res) px so the feature targets move by whole pixels too.
    const unit = translateUnit(this.opts); // validateOptions makes translate a multiple of it
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
    // Per-sample choice: the [N] mask must be [N,1,1,1] to broadcast over H, W, C (a rank-1 mask broadcasts against C).
    if (plan.flip.some(Boolean)) y = tf.where(tf.tensor4d(plan.flip, [n, 1, 1, 1], 'bool'), tf.reverse(y, 2), y) as tf.Tensor4D;
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
