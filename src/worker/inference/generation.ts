/**
 * A loaded generator as the inference handlers use it, wherever it computes: on this thread
 * (LocalGeneration, one worker) or split across the inference threads (PooledGeneration). Both render
 * the same samples to the same pixels; the handlers see only the generator's shape and `render`.
 */
import * as tf from '@tensorflow/tfjs';
import { renderLatents, renderSeeds, type RenderedSamples, type RenderOptions } from '../../core/analysis/samples';
import type { InspectGenerator } from '../../core/checkpoints/index';
import type { InferencePool } from './pool/inferencePool';
import type { GeneratorMeta } from './pool/protocol';

/** What the handlers need to know of a generator without holding its weights. */
export type GeneratorShape = Pick<InspectGenerator, 'zDim' | 'cDim' | 'resolution' | 'imgChannels' | 'resolutions' | 'channelsAt'>;

/** The samples to render: seeds (the generator draws z), or latents [n, zDim] row-major. */
export type RenderInput = { seeds: number[] } | { z: Float32Array };

export interface Generation {
  readonly G: GeneratorShape;
  /** Threads it renders on (1: this one). */
  readonly threads: number;
  /** z [n, zDim] of seeds, as this generator draws them. */
  latents(seeds: number[]): Promise<Float32Array>;
  render(input: RenderInput, o: RenderOptions): Promise<RenderedSamples>;
  dispose(): Promise<void>;
}

/** Samples per forward pass: per-pass overhead dominates small models, yet progress and cancellation still come every batch. */
const BATCH = 32;
/** Big models (a 256-px generator costs seconds per image on a CPU) go a few samples at a time, so progress and Cancel come often. */
export const batchFor = (G: Pick<GeneratorShape, 'resolution'>): number => (G.resolution >= 128 ? 2 : G.resolution >= 64 ? 8 : BATCH);

/** A generator on this thread's backend. */
export class LocalGeneration implements Generation {
  readonly threads = 1;
  constructor(readonly G: InspectGenerator) {}

  async latents(seeds: number[]): Promise<Float32Array> {
    const z = this.G.latents(seeds);
    try {
      return (await z.data()) as Float32Array; // no dataSync: WebGPU in Node cannot read back synchronously
    } finally {
      z.dispose();
    }
  }

  async render(input: RenderInput, o: RenderOptions): Promise<RenderedSamples> {
    if ('seeds' in input) return renderSeeds(this.G, input.seeds, o);
    const z = tf.tensor2d(input.z, [input.z.length / this.G.zDim, this.G.zDim]);
    try {
      return await renderLatents(this.G, z, o);
    } finally {
      z.dispose();
    }
  }

  dispose(): Promise<void> {
    this.G.dispose();
    return Promise.resolve();
  }
}

/** A generator every inference thread holds a copy of (under `key`); renders split across them. */
export class PooledGeneration implements Generation {
  readonly G: GeneratorShape;
  private readonly meta: GeneratorMeta;

  constructor(private readonly pool: InferencePool, readonly key: string, meta: GeneratorMeta) {
    const channels = new Map(meta.resolutions.map((r, i) => [r, meta.channels[i]]));
    this.G = {
      zDim: meta.zDim, cDim: meta.cDim, resolution: meta.resolution, imgChannels: meta.imgChannels, resolutions: meta.resolutions,
      channelsAt: (r: number) => {
        const c = channels.get(r);
        if (c === undefined) throw new Error(`no synthesis block at ${r} (blocks: ${meta.resolutions.join(', ')})`);
        return c;
      },
    };
    this.meta = meta;
  }

  get threads(): number {
    return this.pool.size;
  }

  latents(seeds: number[]): Promise<Float32Array> {
    return this.pool.latents(this.key, seeds);
  }

  render(input: RenderInput, o: RenderOptions): Promise<RenderedSamples> {
    return this.pool.render(this.key, this.meta, input, o);
  }

  async dispose(): Promise<void> {
    await this.pool.release(this.key);
  }
}
