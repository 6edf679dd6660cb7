/**
 * Snapshot resolution and sample grids from a snapshot (CLI `generate`, checkpoint viewer export).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BackendName } from '../config/options';
import { UserError } from '../errors';
import { initBackend } from '../backend/backend';
import { makeGrid, writePngAtomic } from '../image/grid';
import { readRun } from '../runs/readers';
import { loadNetworks } from '../training/snapshot';
import { NoiseMode } from '../networks/generator';
import { renderSeeds } from './samples';

/** A snapshot folder, or a run folder → its newest loadable snapshot. Clear errors for .pkl and missing paths. */
export async function resolveSnapshotPath(p: string): Promise<string> {
  const abs = path.resolve(p);
  let st;
  try {
    st = await fsp.stat(abs);
  } catch {
    throw new UserError(`Snapshot not found: ${abs}`, 'Give a network-snapshot-* folder or a run folder.');
  }
  if (st.isFile()) {
    if (abs.endsWith('.pkl')) throw new UserError(`${path.basename(abs)} is an official PyTorch pickle; GAN Inspector cannot load it.`, "Official runs' saved fakes*.png grids can be viewed instead.");
    throw new UserError(`${abs} is a file, not a snapshot folder.`, 'Give a network-snapshot-* folder or a run folder.');
  }
  if (/^network-snapshot-/.test(path.basename(abs))) return abs;
  const run = await readRun(abs);
  const snap = [...run.snapshots].reverse().find((s) => s.loadable);
  if (!snap) {
    const why = run.snapshots.length ? ` (${run.snapshots[run.snapshots.length - 1].reason ?? 'not loadable'})` : '';
    throw new UserError(`No loadable snapshot in ${abs}${why}.`, 'Train longer, or pick a run written by GAN Inspector.');
  }
  return snap.path;
}

export interface GenerateGridOptions {
  snapshot: string;
  seeds: number[];
  psi?: number;
  noiseMode?: NoiseMode;
  which?: 'G' | 'G_ema';
  cols?: number;
  out?: string;
  backend?: BackendName;
}

/** Writes a PNG grid of the seeds' samples; returns its path. */
export async function generateGrid(o: GenerateGridOptions): Promise<string> {
  const snap = await resolveSnapshotPath(o.snapshot);
  await initBackend(o.backend ?? 'auto');
  const nets = await loadNetworks(snap, { which: o.which ?? 'G_ema' });
  try {
    const { images } = await renderSeeds(nets.G, o.seeds, { truncationPsi: o.psi ?? 1, noiseMode: o.noiseMode ?? 'const' });
    const m = nets.meta.options.model;
    const cols = o.cols ?? Math.ceil(Math.sqrt(o.seeds.length));
    const file = path.resolve(o.out ?? path.join(path.dirname(snap), `generate-${path.basename(snap).replace('network-snapshot-', '')}-seeds${o.seeds[0]}-${o.seeds[o.seeds.length - 1]}-psi${o.psi ?? 1}.png`));
    await writePngAtomic(file, makeGrid(images, m.resolution, m.channels as 1 | 3, cols));
    return file;
  } finally {
    nets.dispose();
  }
}
