/**
 * Snapshot resolution and sample grids from a snapshot (CLI `generate`, checkpoint viewer export).
 */
import * as path from 'node:path';
import type { BackendName } from '../config/options';
import { initBackend } from '../backend/backend';
import { makeGrid, writePngAtomic } from '../image/grid';
import { loadCheckpoint, resolveSnapshotPath, type NoiseMode } from '../checkpoints/index';
import { renderSeeds } from './samples';

/** A snapshot folder or official .pkl, or a run folder → its newest loadable snapshot. */
export { resolveSnapshotPath } from '../checkpoints/index';

export interface GenerateGridOptions {
  snapshot: string;
  seeds: number[];
  psi?: number;
  noiseMode?: NoiseMode;
  which?: 'G' | 'G_ema';
  cols?: number;
  out?: string;
  backend?: BackendName;
  /** Class for conditional models (every sample), or one per seed in `labels`. */
  label?: number;
  labels?: number[];
}

/** Writes a PNG grid of the seeds' samples; returns its path. */
export async function generateGrid(o: GenerateGridOptions): Promise<string> {
  const snap = await resolveSnapshotPath(o.snapshot);
  await initBackend(o.backend ?? 'auto');
  const nets = await loadCheckpoint(snap, { which: o.which ?? 'G_ema' });
  try {
    const { images } = await renderSeeds(nets.G, o.seeds, { truncationPsi: o.psi ?? 1, noiseMode: o.noiseMode ?? 'const', label: o.labels ? (i: number) => o.labels![i] : o.label });
    const cols = o.cols ?? Math.ceil(Math.sqrt(o.seeds.length));
    const stem = path.basename(snap).replace('network-snapshot-', '').replace(/\.pkl$/, '');
    const file = path.resolve(o.out ?? path.join(path.dirname(snap), `generate-${stem}-seeds${o.seeds[0]}-${o.seeds[o.seeds.length - 1]}-psi${o.psi ?? 1}.png`));
    await writePngAtomic(file, makeGrid(images, nets.G.resolution, nets.G.imgChannels as 1 | 3, cols));
    return file;
  } finally {
    nets.dispose();
  }
}
