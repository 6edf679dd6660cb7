/**
 * Sample generation from fixed seeds — shared by the training loop's fakes grids, the CLI's
 * `generate`, the checkpoint viewer and the segmentation view, so a seed means the same image
 * everywhere. What a seed means is the generator's own `latents()`: our Rng(hash('seed', s)) for our
 * snapshots, numpy's RandomState(s) for official pickles.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectGenerator, NoiseMode } from '../checkpoints/types';
import { floatToUint8 } from '../image/grid';
import { UserError, throwIfAborted } from '../errors';

export { latentsForSeeds } from '../networks/generator';

/**
 * One-hot labels [N,cDim] for a conditional generator (undefined for unconditional ones): class
 * `label` for every sample, or `label[i]` for sample i.
 */
export function classLabels(G: Pick<InspectGenerator, 'cDim'>, n: number, label: number | number[] = 0): tf.Tensor2D | undefined {
  if (G.cDim <= 0) return undefined;
  const data = new Float32Array(n * G.cDim);
  for (let i = 0; i < n; i++) {
    const l = Array.isArray(label) ? label[i] : label;
    if (!Number.isInteger(l) || l < 0 || l >= G.cDim) throw new UserError(`Class ${l} does not exist: this conditional model has classes 0–${G.cDim - 1}.`);
    data[i * G.cDim + l] = 1;
  }
  return tf.tensor2d(data, [n, G.cDim]);
}

export interface RenderOptions {
  truncationPsi?: number;
  noiseMode?: NoiseMode;
  /** Seed for 'random' noise. */
  noiseSeed?: number;
  /** Samples per forward pass (bounds memory). */
  batchSize?: number;
  /** Feature-map resolutions to return too ([] = none). */
  featureRes?: number[];
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Class of every sample for conditional models (default 0), or a function of the sample's index. */
  label?: number | ((index: number) => number);
  /** Features only, up to this resolution: the image is not rendered (images stays empty). */
  maxRes?: number;
}

export interface RenderedSamples {
  /** uint8 HWC per sample */
  images: Uint8Array[];
  /** Per requested resolution: features of every sample, [N,r,r,C] float32 */
  features: Map<number, { data: Float32Array; n: number; h: number; w: number; c: number }>;
}

/** Renders the samples of seeds: renderSeeds on this thread, or (the inference process) split across its threads, to the same pixels. */
export type SeedRenderer = (seeds: number[], o: RenderOptions) => Promise<RenderedSamples>;

/** Generates samples for latents z [N,Z] in batches; downloads results to plain arrays. */
export async function renderLatents(G: InspectGenerator, z: tf.Tensor2D, opts: RenderOptions = {}): Promise<RenderedSamples> {
  const n = z.shape[0];
  const bs = Math.max(1, opts.batchSize ?? 16);
  const featureRes = opts.featureRes ?? [];
  const images: Uint8Array[] = [];
  const featParts = new Map<number, Float32Array[]>(featureRes.map((r) => [r, []]));
  for (let start = 0; start < n; start += bs) {
    throwIfAborted(opts.signal, 'rendering');
    const count = Math.min(bs, n - start);
    const zb = tf.slice(z, [start, 0], [count, z.shape[1]]);
    const lab = opts.label;
    const c = classLabels(G, count, typeof lab === 'function' ? Array.from({ length: count }, (_, i) => lab(start + i)) : lab);
    const w = G.mapping(zb, opts.truncationPsi ?? 1, c);
    const maxRes = opts.maxRes !== undefined && opts.maxRes < G.resolution ? opts.maxRes : undefined;
    const out = G.synthesis(w, { noiseMode: opts.noiseMode ?? 'const', noiseSeed: (opts.noiseSeed ?? 0) + start, keepFeatures: featureRes, maxRes });
    try {
      if (out.image && maxRes === undefined) {
        const pix = floatToUint8((await out.image.data()) as Float32Array);
        const per = pix.length / count;
        for (let i = 0; i < count; i++) images.push(pix.slice(i * per, (i + 1) * per));
      }
      for (const r of featureRes) featParts.get(r)!.push((await out.features.get(r)!.data()) as Float32Array);
    } finally {
      tf.dispose([zb, w, ...(c ? [c] : []), ...(out.image ? [out.image] : []), ...out.features.values()]);
    }
    opts.onProgress?.(start + count, n);
    await new Promise((r) => setImmediate(r)); // keep the event loop (IPC, cancellation) responsive
  }
  const features: RenderedSamples['features'] = new Map();
  for (const r of featureRes) {
    const parts = featParts.get(r)!;
    const total = parts.reduce((s, p) => s + p.length, 0);
    const data = new Float32Array(total);
    let off = 0;
    for (const p of parts) { data.set(p, off); off += p.length; }
    const c = G.channelsAt(r);
    features.set(r, { data, n, h: r, w: r, c });
  }
  return { images, features };
}

/** Generates samples for seeds. */
export async function renderSeeds(G: InspectGenerator, seeds: number[], opts: RenderOptions = {}): Promise<RenderedSamples> {
  const z = G.latents(seeds);
  try {
    return await renderLatents(G, z, opts);
  } finally {
    z.dispose();
  }
}

/** Parses "0-7,12,20-23" into seeds; throws on bad syntax or more than `max` seeds. */
export function parseSeeds(spec: string, max = 1024): number[] {
  const out: number[] = [];
  const parts = spec.split(',').map((s) => s.trim());
  // '1,,2' or a trailing comma is a typo (a seed left out), not something to skip silently.
  if (parts.some((x) => !x) && parts.some((x) => x)) throw new UserError(`bad seed list '${spec}': an empty entry between commas`, 'use numbers and ranges like 0-7,12');
  for (const part of parts.filter(Boolean)) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new UserError(`bad seed '${part}': use numbers and ranges like 0-7,12`);
    const a = Number(m[1]), b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) throw new UserError(`bad seed range '${part}'`);
    for (let s = a; s <= b; s++) {
      out.push(s);
      if (out.length > max) throw new UserError(`too many seeds (more than ${max})`);
    }
  }
  if (!out.length) throw new UserError('no seeds given');
  return out;
}
