/**
 * Which generators the GGDR experiment shows segmented when it ends: the newest loadable snapshot of
 * one GGDR run and one baseline run trained with the same seed (the lowest seed where both arms have
 * one; finished runs preferred over stopped or failed ones). No vscode.
 */
import { readRun } from '../../core/runs/readRun';
import type { AbArm, AbExperimentRecord, AbRunRecord } from './abPlan';

export interface SegmentationSide {
  arm: AbArm;
  seed: number;
  runDir: string;
  runName: string;
  /** Absolute path of its newest loadable snapshot folder. */
  snapshot: string;
  kimg: number;
}

export type SegmentationPair = { seed: number; ggdr: SegmentationSide; baseline: SegmentationSide } | { reason: string };

/** The newest loadable snapshot of a run, or why there is none. */
async function newestSnapshot(r: AbRunRecord): Promise<SegmentationSide | string> {
  if (!r.runDir) return `${r.arm} seed ${r.seed} has no run folder (${r.state})`;
  let run;
  try {
    run = await readRun(r.runDir, { checkPid: false });
  } catch (e) {
    return `${r.arm} seed ${r.seed}: ${(e as Error).message.split('\n')[0]}`;
  }
  const snap = [...run.snapshots].reverse().find((s) => s.loadable);
  if (!snap) return `${r.arm} seed ${r.seed} (${run.name}) has no loadable snapshot`;
  return { arm: r.arm, seed: r.seed, runDir: r.runDir, runName: run.name, snapshot: snap.path, kimg: snap.kimg };
}

/** Picks the GGDR/baseline pair to segment from an experiment record (see the file comment). */
export async function chooseSegmentationPair(rec: AbExperimentRecord): Promise<SegmentationPair> {
  const reasons: string[] = [];
  const seeds = [...new Set(rec.runs.map((r) => r.seed))].sort((a, b) => a - b);
  const rank = (r: AbRunRecord) => (r.state === 'finished' ? 0 : r.state === 'stopped' ? 1 : 2);
  const candidates: Array<{ seed: number; ggdr: SegmentationSide; baseline: SegmentationSide; score: number }> = [];
  for (const seed of seeds) {
    // The arm's best-ranked run with a loadable snapshot, else why none (its snapshot problems go to `reasons` at once).
    const side = async (arm: AbArm): Promise<{ side: SegmentationSide; rank: number } | { why: string }> => {
      const runs = rec.runs.filter((r) => r.arm === arm && r.seed === seed).sort((a, b) => rank(a) - rank(b));
      if (!runs.length) return { why: `no ${arm} run with seed ${seed}` };
      for (const r of runs) {
        const s = await newestSnapshot(r);
        if (typeof s !== 'string') return { side: s, rank: rank(r) };
        reasons.push(s);
      }
      return { why: '' };
    };
    const g = await side('ggdr');
    const b = await side('baseline');
    if ('side' in g && 'side' in b) {
      const score = Math.max(g.rank, b.rank);
      candidates.push({ seed, ggdr: g.side, baseline: b.side, score });
      if (score === 0) break; // both finished at the lowest such seed: no later seed can beat it (no more snapshot reads)
    } else for (const x of [g, b]) if ('why' in x && x.why) reasons.push(x.why);
  }
  // Lowest seed among the best-ranked pairs: both finished if any seed has that.
  candidates.sort((a, b) => a.score - b.score || a.seed - b.seed);
  const best = candidates[0];
  if (best) return { seed: best.seed, ggdr: best.ggdr, baseline: best.baseline };
  return { reason: reasons.length ? `no seed with a loadable snapshot in both arms (${reasons.join('; ')})` : 'the experiment has no runs' };
}
