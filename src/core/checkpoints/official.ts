/**
 * Official StyleGAN2-ADA / GGDR `network-snapshot-*.pkl` checkpoints as inspectable networks: read
 * with the safe unpickler (nothing executed), built on the official layers (src/core/official/networks).
 * Seed s means what it means in the official tools: z = numpy.random.RandomState(s).randn(z_dim),
 * so the viewer's seed 42 is `generate.py --seeds=42`.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { officialLatent } from '../official/numpyRandom';
import { OfficialDiscriminator } from '../official/networks/discriminator';
import { OfficialGenerator } from '../official/networks/generator';
import { readOfficialCheckpoint, type NetworkKey } from '../official/pickle/index';
import { UserError } from '../errors';
import { officialInfo } from './officialInfo';
import type { OfficialModule } from '../official/types';
import type { Checkpoint, CheckpointInfo, InspectDiscriminator, InspectGenerator, InspectOutput, InspectSynthesisOptions, LoadCheckpointOptions } from './types';

/** z for seeds as generate.py draws them: RandomState(seed).randn(1, z_dim), float64 → float32. */
export function officialLatents(seeds: number[], zDim: number): tf.Tensor2D {
  const data = new Float32Array(seeds.length * zDim);
  seeds.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) throw new UserError(`Seed ${s} is not valid for numpy's RandomState (0 … 2^32−1).`);
    data.set(officialLatent(s, zDim), i * zDim);
  });
  return tf.tensor2d(data, [seeds.length, zDim]);
}

class OfficialInspectGenerator implements InspectGenerator {
  constructor(readonly net: OfficialGenerator) {}
  get zDim() { return this.net.zDim; }
  get cDim() { return this.net.cDim; }
  get resolution() { return this.net.resolution; }
  get imgChannels() { return this.net.imgChannels; }
  get resolutions() { return this.net.resolutions; }
  channelsAt(r: number): number {
    return this.net.channelsAt(r);
  }
  latents(seeds: number[]): tf.Tensor2D {
    return officialLatents(seeds, this.net.zDim);
  }
  mapping(z: tf.Tensor2D, psi = 1, c?: tf.Tensor2D): tf.Tensor {
    if (this.net.cDim > 0 && !c) throw new UserError(`This conditional model (${this.net.cDim} classes) needs a class label.`);
    return this.net.mapping(z, psi, { c });
  }
  synthesis(w: tf.Tensor, opts: InspectSynthesisOptions = {}): InspectOutput {
    const out = this.net.synthesis(w as tf.Tensor3D, opts);
    return { image: out.image, features: out.features };
  }
  dispose(): void {
    this.net.dispose();
  }
}

class OfficialInspectDiscriminator implements InspectDiscriminator {
  constructor(readonly net: OfficialDiscriminator) {}
  get decoderRes() { return this.net.ggdrRes; }
  get decoderResolutions() { return this.net.decResolutions; }
  decode(x: tf.Tensor4D, c?: tf.Tensor2D): tf.Tensor4D {
    if (this.net.ggdrRes === null) throw new Error('this discriminator has no GGDR decoder');
    return this.decodeAt(x, this.net.ggdrRes, c);
  }
  decodeAt(x: tf.Tensor4D, res: number, c?: tf.Tensor2D): tf.Tensor4D {
    let labels = c;
    if (this.net.cDim > 0 && !labels) labels = tf.zeros([x.shape[0], this.net.cDim]) as tf.Tensor2D;
    try {
      const out = this.net.apply(x, { c: labels, withDecoder: true });
      const keep = out.decodedAll?.get(res);
      if (!keep) throw new UserError(`The GGDR decoder has no output at ${res} (it outputs at ${this.net.decResolutions.join(', ')}).`);
      tf.dispose([out.logits, ...[...(out.decodedAll?.values() ?? [])].filter((t) => t !== keep)]);
      return keep;
    } finally {
      if (labels !== c) labels?.dispose();
    }
  }
  dispose(): void {
    this.net.dispose();
  }
}

/** The parsed pickle of loadOfficialCheckpoint: what the networks are built from. */
async function readForLoad(file: string, opts: LoadCheckpointOptions, withD: boolean) {
  const which = opts.which ?? 'G_ema';
  const nets: NetworkKey[] = [which, ...(withD ? (['D'] as const) : [])];
  const ck = await readOfficialCheckpoint(file, {
    networks: nets,
    structureOf: ['D'], // without D's weights, its structure still says whether it has a GGDR decoder (info.ggdrRes)
    signal: opts.signal,
    onProgress: (done, total) => opts.onProgress?.(0.8 * (done / Math.max(1, total)), `reading ${path.basename(file)}: ${(done / 2 ** 20).toFixed(0)} of ${(total / 2 ** 20).toFixed(0)} MB`),
  });
  const gRec = ck[which];
  if (!gRec) throw new UserError(`${path.basename(file)} has no ${which}.`, which === 'G' ? 'Use G_ema.' : 'Is this a network snapshot of a training run?');
  return { ck, which, gRec, info: officialInfo(file, ck) };
}

/**
 * G_ema (or G) of an official pickle as its parsed record (plain objects and typed arrays, so it can be
 * posted to worker threads, which build the network with officialGeneratorFrom) and the checkpoint's info:
 * the pickle is read once however many threads hold the network.
 */
export async function readOfficialGenerator(file: string, opts: LoadCheckpointOptions = {}): Promise<{ info: CheckpointInfo; which: 'G' | 'G_ema'; record: OfficialModule }> {
  const { which, gRec, info } = await readForLoad(file, opts, false);
  return { info, which, record: gRec };
}

/** An inspectable generator built (on this thread's backend) from a record of readOfficialGenerator. */
export function officialGeneratorFrom(record: OfficialModule, which: 'G' | 'G_ema'): InspectGenerator {
  return new OfficialInspectGenerator(new OfficialGenerator(record, which));
}

/** Loads G_ema (or G) and, when asked, D with its GGDR decoder from an official pickle. */
export async function loadOfficialCheckpoint(file: string, opts: LoadCheckpointOptions = {}): Promise<Checkpoint> {
  const { ck, which, gRec, info } = await readForLoad(file, opts, !!opts.withD);
  let G: OfficialInspectGenerator | undefined;
  let D: OfficialInspectDiscriminator | null = null;
  // Turning the weights into backend tensors takes a second or more for big models: say so (small ones are instant).
  const big = ck.bytes >= 32 * 2 ** 20;
  const building = async (what: string, f: number) => {
    if (!big) return;
    opts.onProgress?.(f, `building ${what} on the backend`);
    await new Promise((r) => setImmediate(r)); // let the progress message out before the synchronous work
  };
  try {
    await building(which, 0.85);
    G = new OfficialInspectGenerator(new OfficialGenerator(gRec, which));
    if (opts.withD) {
      await building('D', 0.95);
      if (!ck.D) throw new UserError(`${path.basename(file)} has no discriminator D.`);
      D = new OfficialInspectDiscriminator(new OfficialDiscriminator(ck.D, 'D'));
    }
  } catch (e) {
    G?.dispose();
    D?.dispose();
    throw e;
  }
  const g = G;
  return { info, G: g, D, dispose: () => { g.dispose(); D?.dispose(); } };
}

/** D with its GGDR decoder (when it has one) of an official pickle. */
export async function loadOfficialDiscriminator(file: string, signal?: AbortSignal): Promise<InspectDiscriminator> {
  const ck = await readOfficialCheckpoint(file, { networks: ['D'], signal });
  if (!ck.D) throw new UserError(`${path.basename(file)} has no discriminator D.`);
  return new OfficialInspectDiscriminator(new OfficialDiscriminator(ck.D, 'D'));
}
