/**
 * Which generators the GGDR experiment segments when it ends: on real tiny runs trained here (GGDR and
 * baseline, seeds 0 and 1), the newest loadable snapshot of one GGDR and one baseline run with the
 * same seed — lowest seed, finished runs first, unloadable snapshots and missing runs skipped — or a
 * reason when no seed has both.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { newRecord, planGgdrAb, type AbExperimentRecord, type AbRunState } from '../../../src/host/experiment/abPlan';
import { chooseSegmentationPair } from '../../../src/host/experiment/abSegmentation';
import { tmpDir, trainTinyRun } from '../inference/helpers';

let tmp: string;
const runs: Record<string, { runDir: string; snapshots: string[] }> = {};

before(async () => {
  tmp = tmpDir('gi-abseg-');
  for (const seed of [0, 1]) {
    for (const ggdr of [true, false]) runs[`${ggdr ? 'ggdr' : 'baseline'}:${seed}`] = await trainTinyRun(path.join(tmp, 'runs'), { seed, ggdr: { enabled: ggdr } });
  }
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A record of the 2-seed plan with each run's state and folder (missing from `states` = failed before it had a folder). */
function record(states: Record<string, AbRunState>): AbExperimentRecord {
  const rec = newRecord(planGgdrAb({ data: 'mnist', preset: 'tiny', kimg: 0.016, seeds: [0, 1], backend: 'wasm', outdir: path.join(tmp, 'runs'), concurrency: 1 }));
  for (const r of rec.runs) {
    const key = `${r.arm}:${r.seed}`;
    r.state = states[key] ?? 'failed';
    r.runDir = states[key] ? runs[key].runDir : null;
    r.runName = r.runDir ? path.basename(r.runDir) : null;
  }
  return rec;
}

const newest = (key: string) => runs[key].snapshots[runs[key].snapshots.length - 1];

test('both seeds finished: seed 0, the newest snapshot of each arm', async () => {
  const p = await chooseSegmentationPair(record({ 'ggdr:0': 'finished', 'baseline:0': 'finished', 'ggdr:1': 'finished', 'baseline:1': 'finished' }));
  assert.ok(!('reason' in p), JSON.stringify(p));
  assert.equal(p.seed, 0);
  assert.deepEqual([p.ggdr.arm, p.ggdr.seed, p.ggdr.runDir, p.ggdr.snapshot], ['ggdr', 0, runs['ggdr:0'].runDir, newest('ggdr:0')]);
  assert.deepEqual([p.baseline.arm, p.baseline.seed, p.baseline.runDir, p.baseline.snapshot], ['baseline', 0, runs['baseline:0'].runDir, newest('baseline:0')]);
  assert.equal(p.ggdr.kimg, 0.016);
  assert.match(p.ggdr.runName, /-ggdr-/);
  assert.match(p.baseline.runName, /-noggdr-/);
});

test('a seed whose baseline failed without a folder is skipped; a stopped arm ranks below finished ones', async () => {
  const p1 = await chooseSegmentationPair(record({ 'ggdr:0': 'finished', 'ggdr:1': 'finished', 'baseline:1': 'finished' }));
  assert.ok(!('reason' in p1));
  assert.equal(p1.seed, 1);
  const p2 = await chooseSegmentationPair(record({ 'ggdr:0': 'finished', 'baseline:0': 'stopped', 'ggdr:1': 'finished', 'baseline:1': 'finished' }));
  assert.ok(!('reason' in p2));
  assert.equal(p2.seed, 1, 'both finished beats one stopped');
  const p3 = await chooseSegmentationPair(record({ 'ggdr:0': 'finished', 'baseline:0': 'stopped', 'ggdr:1': 'finished' }));
  assert.ok(!('reason' in p3));
  assert.equal(p3.seed, 0, 'a stopped run with a snapshot is still shown when nothing better exists');
});

test('an unloadable newest snapshot falls back to the previous one; no pair at all gives the reasons', async () => {
  const key = 'baseline:1';
  const last = newest(key);
  const meta = path.join(last, 'snapshot.json');
  const saved = fs.readFileSync(meta);
  fs.rmSync(meta);
  try {
    const p = await chooseSegmentationPair(record({ 'ggdr:1': 'finished', 'baseline:1': 'finished' }));
    assert.ok(!('reason' in p));
    assert.equal(p.baseline.snapshot, runs[key].snapshots[runs[key].snapshots.length - 2]);
    assert.equal(p.ggdr.snapshot, newest('ggdr:1'));
  } finally {
    fs.writeFileSync(meta, saved);
  }
  const none = await chooseSegmentationPair(record({ 'ggdr:0': 'finished', 'baseline:1': 'finished' }));
  assert.ok('reason' in none);
  assert.match(none.reason, /^no seed with a loadable snapshot in both arms \(.*baseline seed 0 has no run folder \(failed\).*ggdr seed 1 has no run folder \(failed\)/);
});
