/**
 * Compare Runs with mode-coverage lines (#14): metric-modes2k_lenet.jsonl files written by core's line
 * format into two of our runs over three snapshots, loaded by the panel's reader. Key figures: classes
 * covered final/best (best = most classes) and the largest share final/best (best = smallest); KL and
 * the class histograms are neither columns nor curves to pick; a run without the metric shows '—'.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMetricLine } from '../../../src/core/metrics/index';
import { modeCoverage, modeResults } from '../../../src/core/metrics/modes';
import { appendMetricLine } from '../../../src/core/runs/runDir';
import { formatCell, tableToCsv } from '../../../src/core/runs/compareTable';
import { compareFigures, loadCompareRuns, readCompareSeries } from '../../../src/host/panels/compareData';
import { makeTmp, ourRuns, rmTmp } from './helpers';

const M = 'modes2k_lenet';
const SHARE = `${M}/${M}_maxshare`;
let root: string;
let our: { ggdr: string; base: string };

/** Class counts of 2,000 samples over 10 classes against an even dataset. */
const EVEN = Array(10).fill(200);
// GGDR run: collapses onto class 3 at kimg 2, recovers at 3 (best covered 10 at kimg 1, best share at kimg 3).
const GGDR_COUNTS = [
  [200, 200, 200, 200, 200, 200, 200, 200, 250, 150], // 10 classes, max 12.5%
  [0, 0, 0, 1600, 400, 0, 0, 0, 0, 0], // 2 classes, max 80%
  [190, 210, 200, 220, 180, 200, 200, 200, 200, 200], // 10 classes, max 11%
];

before(async () => {
  root = await makeTmp('gi-compare-modes-');
  our = await ourRuns(root);
  for (let k = 1; k <= 3; k++) {
    const snap = `network-snapshot-${String(k).padStart(6, '0')}`;
    await appendMetricLine(our.ggdr, makeMetricLine(M, modeResults(M, modeCoverage(GGDR_COUNTS[k - 1], EVEN)), 30, snap, 1_700_000_300 + k));
  }
});
after(() => rmTmp(root));

test('key figures: classes covered final/best and the largest share final/best; not KL or the histograms', async () => {
  const { runs, errors } = await loadCompareRuns([our.ggdr, our.base], () => false);
  assert.deepEqual(errors, []);
  const { table, scalars } = compareFigures(runs);
  const modesCols = table.columns.filter((c) => c.id.startsWith('modes'));
  assert.deepEqual(modesCols.map((c) => [c.id, c.metric, c.short]), [
    [`${M}.final`, `${M} classes covered`, 'final'], [`${M}.final_kimg`, `${M} classes covered`, '@kimg'],
    [`${M}.best`, `${M} classes covered`, 'best'], [`${M}.best_kimg`, `${M} classes covered`, '@kimg'],
    [`${SHARE}.final`, `${M} max share`, 'final'], [`${SHARE}.best`, `${M} max share`, 'best'],
  ]);
  const [g, b] = table.rows.map((r) => r.cells);
  assert.deepEqual([g[`${M}.final`], g[`${M}.final_kimg`], g[`${M}.best`], g[`${M}.best_kimg`]], [10, 3, 10, 1], 'best covered: the most classes, earliest among equals');
  assert.deepEqual([g[`${SHARE}.final`], g[`${SHARE}.best`]], [0.11, 0.11]);
  assert.equal(g[`${SHARE}.best_kimg`], undefined, 'no @kimg columns for the share');
  assert.deepEqual([b[`${M}.final`], b[`${SHARE}.best`]], [null, null], 'the baseline has no modes line');
  const col = modesCols.find((c) => c.id === `${SHARE}.final`)!;
  assert.equal(formatCell(col, g[col.id]), '0.11');
  assert.equal(formatCell(col, b[col.id]), '—');
  // The FID/KID columns of the helper runs are as before.
  assert.ok(table.columns.some((c) => c.id === 'fid2k_lenet.best'));
  // CSV carries the same columns (ids), full precision.
  const header = tableToCsv(table).split('\r\n')[0].split(',');
  assert.ok(header.includes(`${SHARE}.best`) && !header.some((h) => h.includes('_kl') || h.includes('_class') || h.includes('_ref')));
  // Curves: covered, share and KL can be picked; the 20 histogram keys cannot.
  const metricKeys = scalars.map((s) => s.key).filter((k) => k.startsWith(`Metrics/${M}`));
  assert.deepEqual(metricKeys.sort(), [`Metrics/${M}`, `Metrics/${M}/${M}_kl`, `Metrics/${SHARE}`]);
  const covered = await readCompareSeries(runs[0], `Metrics/${M}`);
  assert.deepEqual([covered.kimg, covered.value, covered.sourceKey], [[1, 2, 3], [10, 2, 10], `metric-${M}.jsonl`]);
});
