/**
 * Which snapshot a --resume continues from: the newest one that loads. A broken one (checksum,
 * NaN/Inf, truncated) is moved aside, never deleted, and the next older one is used — and the
 * notice says which and why, for every surface to show.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { isUserError, UserError } from '../errors';
import type { GanTrainer } from './trainer';
import { loadTrainerState } from './snapshot';

export interface ResumeSnapshot {
  meta: Awaited<ReturnType<typeof loadTrainerState>>;
  /** The snapshot folder whose state `tr` now holds. */
  snapshotDir: string;
  /** Set when newer snapshots were broken: which, why, and where they were moved. */
  notice?: string;
}

/**
 * Loads into `tr` the first of `candidates` (newest first) that loads; the ones that fail, and the
 * `skipped` ones that failed the folder check before, are renamed to `.broken-<name>-<time>`.
 */
export async function loadResumeSnapshot(
  tr: GanTrainer, runDir: string, candidates: string[], skipped: Array<{ name: string; reason: string }>,
): Promise<ResumeSnapshot> {
  const broken = [...skipped];
  let meta: ResumeSnapshot['meta'] | null = null;
  let snapshotDir = '';
  let lastErr: unknown;
  for (const cand of candidates) {
    try {
      meta = await loadTrainerState(tr, cand);
      snapshotDir = cand;
      break;
    } catch (e) {
      if (!isUserError(e)) throw e;
      lastErr = e;
      broken.push({ name: path.basename(cand), reason: e.message.split('\n')[0].replace(`Snapshot ${cand}: `, '') });
    }
  }
  if (!meta) throw lastErr instanceof Error ? lastErr : new UserError(`${path.basename(runDir)} has no loadable snapshot to resume from.`);
  if (!broken.length) return { meta, snapshotDir };
  const moved: string[] = [];
  for (const b of broken) {
    // Out of the way of the snapshot the resumed run will write under the same name.
    const aside = `.broken-${b.name}-${Date.now()}`;
    try {
      await fsp.rename(path.join(runDir, b.name), path.join(runDir, aside));
      moved.push(aside);
    } catch { /* already gone */ }
  }
  const notice = `The newest snapshot ${broken.map((b) => `${b.name} is broken (${b.reason})`).join('; ')}; resumed from the older ${path.basename(snapshotDir)}` +
    (moved.length ? ` (the broken one was moved aside to ${moved.join(', ')}, not deleted).` : '.');
  return { meta, snapshotDir, notice };
}
