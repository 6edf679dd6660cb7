/**
 * When a command is given a run folder and takes "its latest snapshot", a broken newer snapshot must
 * not be skipped silently: this names the snapshots newer than the one used and why each is unusable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRun } from './readRun';

/** A note like "the newest snapshot X is broken (why); used the older Y", or undefined when the newest was used. */
export async function olderSnapshotNote(given: string, used: string): Promise<string | undefined> {
  const abs = path.resolve(given);
  if (/^network-snapshot-/.test(path.basename(abs))) return undefined; // a snapshot was named explicitly
  try {
    if (!fs.statSync(abs).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  const run = await readRun(abs).catch(() => undefined);
  if (!run) return undefined;
  const idx = run.snapshots.findIndex((s) => path.resolve(s.path) === path.resolve(used));
  if (idx < 0) return undefined;
  const newer = run.snapshots.slice(idx + 1).filter((s) => !s.loadable && !s.name.endsWith('.pkl'));
  if (!newer.length) return undefined;
  return `The newest snapshot ${newer.map((s) => `${s.name} is broken (${s.reason ?? 'not loadable'})`).join('; ')}; used the older ${path.basename(used)}.`;
}
