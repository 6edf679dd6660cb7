/**
 * The one answer to "where are the images this run trained on?", for our runs and official ones,
 * used by metrics (FID/KID against the run's data) and by the segmentation of D's decoder on reals.
 *
 * The absolute path our training_options.json records (`dataPath`, runs created since it exists) is
 * tried first; then the recorded path as written (absolute, or 'mnist'), then relative to the folders
 * the run may have been started from; an official run's path is often of another machine
 * (`/data/…/mnist32.zip`), so its file name is also looked for in `datasets/` folders next to the run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { loadDataset, type Dataset } from '../data/dataset';
import { RUN_FILES } from '../runs/runDir';
import type { CheckpointInfo, DatasetRef } from './types';

/** Folders a run may have been started from: `outdir` deep above the run, the run's parents, the cwd. */
function startFolders(runDir: string, outdir: string | undefined): string[] {
  const out: string[] = [];
  if (outdir && !path.isAbsolute(outdir)) {
    const depth = path.normalize(outdir).split(/[\\/]+/).filter((s) => s && s !== '.').length;
    out.push(path.resolve(path.dirname(runDir), ...Array(depth).fill('..')));
  }
  out.push(path.resolve(runDir, '..', '..'), path.resolve(runDir, '..'), process.cwd());
  return [...new Set(out)];
}

/**
 * The absolute `dataPath` that `runDir`'s training_options.json recorded for `data`, or undefined
 * (an official or older run, another dataset, no such file).
 */
function recordedDataPath(runDir: string, data: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.options), 'utf8'));
  } catch {
    return undefined;
  }
  const f = v as { format?: unknown; dataPath?: unknown; options?: { data?: unknown } } | null;
  if (!f || f.format !== 'gan-inspector' || f.options?.data !== data) return undefined;
  return typeof f.dataPath === 'string' && path.isAbsolute(f.dataPath) ? f.dataPath : undefined;
}

/** Paths to try, in order, for a run's recorded dataset. */
export function datasetCandidates(ref: DatasetRef, runDir: string, outdir?: string): string[] {
  const p = ref.path;
  if (p === 'mnist') return ['mnist'];
  const home = p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
  const out: string[] = [];
  const recorded = recordedDataPath(runDir, p);
  if (recorded) out.push(recorded);
  if (path.isAbsolute(home)) out.push(home);
  else out.push(...startFolders(runDir, outdir).map((d) => path.resolve(d, home)));
  const base = path.basename(home.replace(/[\\/]+$/, ''));
  if (base) {
    for (const d of [path.resolve(runDir, '..', '..'), path.resolve(runDir, '..'), runDir, process.cwd()]) {
      out.push(path.join(d, 'datasets', base), path.join(d, base));
    }
  }
  return [...new Set(out)];
}

/** The first candidate that exists, or a clear error listing where it looked. */
export function locateDataset(ref: DatasetRef, runDir: string, outdir?: string): string {
  const c = datasetCandidates(ref, runDir, outdir);
  const found = c.find((p) => p === 'mnist' || fs.existsSync(p));
  if (found) return found;
  const shown = c.slice(0, 4).join(', ') + (c.length > 4 ? ', …' : '');
  throw new UserError(`The run's dataset '${ref.path}' was not found (looked at ${shown}).`,
    'Put the dataset (or a link to it) in a datasets/ folder next to the runs folder, or pass it explicitly.');
}

/** Loads the dataset of a checkpoint's run at the checkpoint's resolution and channels. */
export async function loadCheckpointDataset(info: Pick<CheckpointInfo, 'dataset' | 'runDir' | 'resolution' | 'channels' | 'options'>): Promise<Dataset> {
  if (!info.dataset) throw new UserError(`The run in ${info.runDir} does not record its dataset.`, 'Pass the dataset explicitly.');
  const where = locateDataset(info.dataset, info.runDir, info.options?.outdir);
  return loadDataset(where, {
    resolution: info.resolution,
    channels: info.channels as 1 | 3,
    maxImages: info.dataset.maxImages,
    xflip: info.dataset.xflip,
  });
}
