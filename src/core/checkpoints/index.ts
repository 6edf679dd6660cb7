/**
 * Loading a checkpoint of either origin by path: a GAN Inspector snapshot folder, an official
 * `.pkl`, or a run folder (its newest loadable snapshot).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../errors';
import { readRun } from '../runs/readRun';
import { loadOfficialCheckpoint, loadOfficialDiscriminator } from './official';
import { loadOurCheckpoint, loadOurDiscriminator } from './ours';
import type { Checkpoint, CheckpointInfo, InspectDiscriminator, InspectGenerator, LoadCheckpointOptions } from './types';

export type * from './types';
export { officialGeneratorFrom, officialLatents, readOfficialGenerator } from './official';
export { describeOfficialPickle } from './officialInfo';
export { loadCheckpointDataset, locateDataset } from './dataset';

export const isPickle = (p: string): boolean => p.toLowerCase().endsWith('.pkl');

/** A snapshot folder or .pkl, or a run folder → its newest loadable snapshot (ours or official). */
export async function resolveSnapshotPath(p: string): Promise<string> {
  const abs = path.resolve(p);
  let st;
  try {
    st = await fsp.stat(abs);
  } catch {
    throw new UserError(`Snapshot not found: ${abs}`, 'Give a network-snapshot-* folder, an official network-snapshot-*.pkl, or a run folder.');
  }
  if (st.isFile()) {
    if (isPickle(abs)) return abs;
    const base = path.basename(abs);
    if ((base === 'snapshot.json' || base === 'weights.bin') && /^network-snapshot-/.test(path.basename(path.dirname(abs)))) return path.dirname(abs);
    throw new UserError(`${abs} is a file, not a snapshot.`, 'Give a network-snapshot-* folder, an official network-snapshot-*.pkl, or a run folder.');
  }
  if (/^network-snapshot-/.test(path.basename(abs))) return abs;
  const run = await readRun(abs);
  const snap = [...run.snapshots].reverse().find((s) => s.loadable);
  if (!snap) {
    const why = run.snapshots.length ? ` (${run.snapshots[run.snapshots.length - 1].reason ?? 'not loadable'})` : '';
    throw new UserError(`No loadable snapshot in ${abs}${why}.`, 'Train longer, or pick another run.');
  }
  return snap.path;
}

/** Loads the networks of a snapshot path (already resolved or not). */
export async function loadCheckpoint(p: string, opts: LoadCheckpointOptions = {}): Promise<Checkpoint> {
  // A snapshot named directly is loaded as it is (its own errors say what is wrong with it); a run folder is resolved.
  const named = isPickle(p) || /^network-snapshot-/.test(path.basename(path.resolve(p)));
  const target = named ? path.resolve(p) : await resolveSnapshotPath(p);
  return isPickle(target) ? loadOfficialCheckpoint(target, opts) : loadOurCheckpoint(target, opts);
}

/** D of a checkpoint already loaded (its G gives the decoder's output widths for ours). */
export function loadCheckpointD(info: CheckpointInfo, G: Pick<InspectGenerator, 'channelsAt'>, signal?: AbortSignal): Promise<InspectDiscriminator> {
  return info.origin === 'official' ? loadOfficialDiscriminator(info.path, signal) : loadOurDiscriminator(info.path, info, (r) => G.channelsAt(r));
}
