/**
 * Raw network outputs as `.npy` (float32, NCHW like PyTorch), for cross-checks against the official
 * code: `gan-inspector generate --npy` writes the images before clamping, `gan-inspector features`
 * writes G_ema's synthesis feature map after block b{R}, or the GGDR decoder's output at R for D
 * applied to that batch of G_ema images (all seeds in one batch). Works for our snapshots and for
 * official pickles alike.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors';
import { writeFileAtomic } from '../runs/fsAtomic';
import { encodeNpy } from '../util/npy';
import { loadCheckpoint, type Checkpoint, type InspectGenerator, type NoiseMode } from '../checkpoints/index';
import { classLabels } from './samples';

export interface RawOptions {
  snapshot: string;
  seeds: number[];
  psi?: number;
  noiseMode?: NoiseMode;
  which?: 'G' | 'G_ema';
  /** Class of conditional models: one for every seed, or one per seed (default 0). */
  label?: number | number[];
  signal?: AbortSignal;
}

export type FeatureNet = 'G' | 'D-decoder';

/** One pass of G over all seeds; returns what `keep` reads from it (all tensors freed). */
async function runG<T>(G: InspectGenerator, o: RawOptions, maxRes: number | undefined, keep: (out: { image: tf.Tensor4D | null; features: Map<number, tf.Tensor4D> }, c: tf.Tensor2D | undefined) => Promise<T>): Promise<T> {
  const z = G.latents(o.seeds);
  const c = classLabels(G, o.seeds.length, o.label ?? 0);
  const w = G.mapping(z, o.psi ?? 1, c);
  const out = G.synthesis(w, { noiseMode: o.noiseMode ?? 'const', keepFeatures: maxRes !== undefined ? [maxRes] : [], maxRes });
  try {
    return await keep(out, c);
  } finally {
    tf.dispose([z, w, ...(c ? [c] : []), ...(out.image ? [out.image] : []), ...out.features.values()]);
  }
}

async function toNchw(t: tf.Tensor4D): Promise<{ data: Float32Array; shape: number[] }> {
  const nchw = tf.transpose(t, [0, 3, 1, 2]);
  try {
    return { data: (await nchw.data()) as Float32Array, shape: nchw.shape };
  } finally {
    nchw.dispose();
  }
}

/** Images [N,C,H,W] float32 before clamping. */
export async function rawImages(nets: Pick<Checkpoint, 'G'>, o: RawOptions): Promise<{ data: Float32Array; shape: number[] }> {
  return runG(nets.G, o, undefined, async (out) => toNchw(out.image!));
}

/** G's synthesis block output at `res`, or D's GGDR decoder output at `res` on G's images, [N,C,r,r]. */
export async function rawFeatures(nets: Pick<Checkpoint, 'G' | 'D'>, o: RawOptions, net: FeatureNet, res: number): Promise<{ data: Float32Array; shape: number[] }> {
  const G = nets.G;
  if (net === 'G') {
    if (!G.resolutions.includes(res)) throw new UserError(`--res ${res} is not a synthesis block of this ${G.resolution}px generator.`, `Use one of ${G.resolutions.join(', ')}.`);
    return runG(G, o, res, async (out) => toNchw(out.features.get(res)!));
  }
  const D = nets.D;
  if (!D || D.decoderRes === null) throw new UserError('This checkpoint\'s discriminator has no GGDR decoder (the run was trained without GGDR).');
  const levels = D.decoderResolutions ?? [D.decoderRes];
  if (!levels.includes(res)) throw new UserError(`--res ${res}: the GGDR decoder outputs at ${levels.join(', ')}.`);
  return runG(G, o, undefined, async (out, c) => {
    const dec = D.decodeAt ? D.decodeAt(out.image!, res, c) : D.decode(out.image!, c);
    try {
      return await toNchw(dec);
    } finally {
      dec.dispose();
    }
  });
}

/** Writes an .npy atomically. */
export async function writeNpyAtomic(file: string, a: { data: Float32Array; shape: number[] }): Promise<void> {
  await writeFileAtomic(file, encodeNpy(a.data, a.shape));
}

/** CLI: load, compute, write. */
export async function writeRawOutput(kind: { images: true } | { net: FeatureNet; res: number }, o: RawOptions, file: string): Promise<number[]> {
  const nets = await loadCheckpoint(o.snapshot, { which: o.which ?? 'G_ema', withD: 'net' in kind && kind.net === 'D-decoder', signal: o.signal });
  try {
    const a = 'images' in kind ? await rawImages(nets, o) : await rawFeatures(nets, o, kind.net, kind.res);
    await writeNpyAtomic(file, a);
    return a.shape;
  } finally {
    nets.dispose();
  }
}
