/**
 * A GanTrainer's whole state (G, G_ema, D with buffers, both optimisers' moments and counters, step,
 * nimg) as one flat Float32Array, to start data-parallel replicas from exactly the same state and to
 * bring the coordinator's trainer up to date with them.
 */
import * as tf from '@tensorflow/tfjs';
import type { GanTrainer } from '../trainer';

export interface TrainerState {
  names: string[];
  sizes: number[];
  data: Float32Array;
  optGt: number;
  optDt: number;
  step: number;
  nimg: number;
}

/** Every variable of the trainer's state, named as snapshots name them. */
export function stateVariables(t: GanTrainer): Array<{ name: string; v: tf.Variable }> {
  const pre = (p: string, xs: Array<{ name: string; tensor: tf.Tensor }>) => xs.map((x) => ({ name: `${p}/${x.name}`, v: x.tensor as tf.Variable }));
  return [
    ...pre('G', t.G.params.named()),
    ...pre('G_ema', t.G_ema.params.named()),
    ...pre('D', t.D.params.named()),
    ...[...t.optG.named('optG'), ...t.optD.named('optD')].map((x) => ({ name: x.name, v: x.tensor as tf.Variable })),
  ];
}

/** Reads the state back in one transfer. */
export async function readTrainerState(t: GanTrainer): Promise<TrainerState> {
  const vars = stateVariables(t);
  const packed = tf.tidy(() => tf.concat(vars.map((x) => tf.reshape(x.v, [-1]))));
  let data: Float32Array;
  try {
    data = (await packed.data()) as Float32Array;
  } finally {
    packed.dispose();
  }
  return { names: vars.map((x) => x.name), sizes: vars.map((x) => x.v.size), data, optGt: t.optG.t, optDt: t.optD.t, step: t.step, nimg: t.nimg };
}

/** Assigns a state read from a trainer of the same options. */
export function loadTrainerStateFrom(t: GanTrainer, s: TrainerState): void {
  const vars = stateVariables(t);
  if (vars.length !== s.names.length || vars.some((x, i) => x.name !== s.names[i] || x.v.size !== s.sizes[i])) {
    throw new Error('trainer state: the variables differ from this trainer\'s (different options?)');
  }
  let o = 0;
  tf.tidy(() => {
    for (const { v } of vars) {
      v.assign(tf.tensor(s.data.subarray(o, o + v.size), v.shape, 'float32'));
      o += v.size;
    }
  });
  t.optG.t = s.optGt;
  t.optD.t = s.optDt;
  t.step = s.step;
  t.nimg = s.nimg;
}

/** Whether two states are bit-identical (NaN payloads included). */
export function sameState(a: TrainerState, b: TrainerState): boolean {
  if (a.step !== b.step || a.nimg !== b.nimg || a.optGt !== b.optGt || a.optDt !== b.optDt || a.data.length !== b.data.length) return false;
  return Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
}
