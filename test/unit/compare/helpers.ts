/** Shared helpers of the compare tests: a runs root with the official fixtures (+ their hand-made metric lines) and our synthetic runs. */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { appendMetricLine } from '../../../src/core/runs/runDir';
import type { MetricLine } from '../../../src/shared/runTypes';
import { FIXTURE_BASE, FIXTURE_GGDR, FIXTURE_METRICS, buildOurRun, copyRun } from '../runs/helpers';

export { FIXTURE_BASE, FIXTURE_GGDR, FIXTURE_METRICS, makeTmp, rmTmp } from '../runs/helpers';

export const GGDR_NAME = path.basename(FIXTURE_GGDR);
export const BASE_NAME = path.basename(FIXTURE_BASE);

/** Copies both official runs into `<root>/training-runs/` with the hand-made metric lines as metric-fid50k_full.jsonl. */
export async function officialRuns(root: string): Promise<{ ggdr: string; base: string }> {
  const dest = path.join(root, 'training-runs');
  await fsp.mkdir(dest, { recursive: true });
  const out: string[] = [];
  for (const src of [FIXTURE_GGDR, FIXTURE_BASE]) {
    const d = await copyRun(src, dest);
    await fsp.copyFile(path.join(FIXTURE_METRICS, path.basename(src), 'metric-fid50k_full.HANDMADE.jsonl'), path.join(d, 'metric-fid50k_full.jsonl'));
    out.push(d);
  }
  return { ggdr: out[0], base: out[1] };
}

/** A metric line in the official format. */
export function metricLine(metric: string, value: number, snapshot: string, timestamp: number): MetricLine {
  return { results: { [metric]: value }, metric, total_time: 12.5, total_time_str: '13s', num_gpus: 1, snapshot_pkl: snapshot, timestamp };
}

/** Our two synthetic runs (GGDR + baseline, tiny preset, 3 ticks) with fid2k_lenet/kid2k_lenet lines whose best is not the final one. */
export async function ourRuns(root: string): Promise<{ ggdr: string; base: string }> {
  const outdir = path.join(root, 'runs');
  const a = await buildOurRun(outdir, { ggdr: true, desc: 'shapes32-tiny-ggdr' });
  const b = await buildOurRun(outdir, { ggdr: false, desc: 'shapes32-tiny-noggdr' });
  // GGDR run: FID 80 → 60 → 65 (best at kimg 2); KID falls monotonically.
  const fidA = [80, 60, 65];
  const fidB = [90, 85, 70];
  for (let k = 1; k <= 3; k++) {
    const snap = `network-snapshot-${String(k).padStart(6, '0')}`;
    await appendMetricLine(a.dir, metricLine('fid2k_lenet', fidA[k - 1], snap, 1_700_000_100 + k));
    await appendMetricLine(a.dir, metricLine('kid2k_lenet', 0.05 / k, snap, 1_700_000_100 + k));
    await appendMetricLine(b.dir, metricLine('fid2k_lenet', fidB[k - 1], snap, 1_700_000_200 + k));
  }
  // A fractional-kimg snapshot name as the tiny preset writes them.
  await appendMetricLine(b.dir, metricLine('kid2k_lenet', 0.08, 'network-snapshot-000000.048', 1_700_000_150));
  return { ggdr: a.dir, base: b.dir };
}
