/**
 * What metrics evaluate: a generator's samples (seed i = sample i, the same latents at every evaluation)
 * or dataset images, produced batch by batch on demand.
 */
import { type Dataset, getBatch } from '../data/dataset';
import { renderSeeds, type SeedRenderer } from '../analysis/samples';
import type { InspectGenerator } from '../checkpoints/index';

/** Images to evaluate, produced on demand. */
export interface SampleSource {
  resolution: number;
  channels: number;
  /** Samples start … start+count−1 as [count,H,W,C] float32 in [-1,1]. */
  render(start: number, count: number, signal?: AbortSignal): Promise<Float32Array>;
}

/** Samples per generator forward pass in metrics (fixed: 'random' noise is seeded per pass). */
const GEN_CHUNK = 32;

/**
 * Generated samples of `G`: sample i is seed i (latentsForSeeds), rendered at ψ = 1 with per-pass
 * seeded random noise and quantised to 8 bits like a saved image, so the same samples come back on
 * every evaluation. `render` (the inference process's threads) renders them instead of G on this thread.
 */
export function generatorSource(G: InspectGenerator): SampleSource;
export function generatorSource(G: Pick<InspectGenerator, 'resolution' | 'imgChannels' | 'cDim'>, render: SeedRenderer): SampleSource;
export function generatorSource(G: Pick<InspectGenerator, 'resolution' | 'imgChannels' | 'cDim'>, render?: SeedRenderer): SampleSource {
  const R = G.resolution, C = G.imgChannels;
  const draw = render ?? ((seeds, o) => renderSeeds(G as InspectGenerator, seeds, o));
  return {
    resolution: R,
    channels: C,
    async render(start, count, signal) {
      const out = new Float32Array(count * R * R * C);
      const seeds = Array.from({ length: count }, (_, i) => start + i);
      // Passes of GEN_CHUNK samples, the one at sample s seeded start + s; conditional models: sample i has class i mod c_dim (an even class mix).
      const r = await draw(seeds, { batchSize: GEN_CHUNK, noiseMode: 'random', noiseSeed: start, signal, label: (j) => (start + j) % Math.max(1, G.cDim) });
      r.images.forEach((img, i) => {
        const o = i * R * R * C;
        for (let j = 0; j < img.length; j++) out[o + j] = img[j] / 127.5 - 1;
      });
      return out;
    },
  };
}

/** Dataset images `indices[start…]` (indices default to 0, 1, 2, … of [0, ds.length)). */
export function datasetSource(ds: Dataset, indices?: number[]): SampleSource {
  return {
    resolution: ds.resolution,
    channels: ds.channels,
    async render(start, count) {
      const idx = Array.from({ length: count }, (_, i) => (indices ? indices[start + i] : start + i));
      return getBatch(ds, idx);
    },
  };
}
