import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PRESETS, resolveOptions } from '../../../src/core/config/options';
import { isUserError } from '../../../src/core/errors';
import {
  armDifference, experimentStamp, isAbExperimentRecord, newRecord, parseAbSeeds, planGgdrAb, validateAbSeeds, writeRecord,
  DEFAULT_AB_METRICS, type AbChoices,
} from '../../../src/host/experiment/abPlan';

const OUT = path.resolve('/tmp/gi-ab-runs');
const base: AbChoices = { data: 'mnist', preset: 'mnist32', kimg: 2, seeds: [0, 1], backend: 'wasm', outdir: OUT, concurrency: 1 };
const when = new Date(2025, 0, 31, 14, 5, 9);

test('plan: one GGDR and one baseline arm per seed, interleaved; only ggdr.enabled differs', () => {
  const p = planGgdrAb(base, when);
  assert.equal(p.id, '20250131-140509-ggdr-ab');
  assert.equal(p.recordFile, path.join(OUT, 'experiments', '20250131-140509-ggdr-ab.json'));
  assert.deepEqual(p.runs.map((r) => `${r.arm}:${r.seed}`), ['ggdr:0', 'baseline:0', 'ggdr:1', 'baseline:1']);
  assert.deepEqual(p.runs[0].overrides, {
    preset: 'mnist32', data: 'mnist', seed: 0, backend: 'wasm', outdir: OUT, desc: 'ab20250131-140509',
    metrics: ['fid2k_lenet', 'kid2k_lenet'], ggdr: { enabled: true }, kimg: 2,
  });
  assert.deepEqual(p.runs[1].overrides, { ...p.runs[0].overrides, ggdr: { enabled: false } });
  assert.deepEqual(p.runs[3].overrides, { ...p.runs[0].overrides, seed: 1, ggdr: { enabled: false } });
  const r = p.runs.map((x) => resolveOptions(x.overrides));
  assert.deepEqual(armDifference(r[0], r[1]), ['ggdr.enabled']);
  assert.deepEqual(armDifference(r[0], r[2]), ['seed']);
  assert.deepEqual(r[0].metrics, [...DEFAULT_AB_METRICS]);
  // Separate metric arrays: a caller mutating one run's overrides must not change another's.
  assert.notEqual(p.runs[0].overrides.metrics, p.runs[1].overrides.metrics);
});

test('plan: kimg 0 keeps the preset default; GGDR weight/res go to both arms; custom metrics', () => {
  const p = planGgdrAb({ ...base, kimg: 0, seeds: [5], ggdrWeight: 4, ggdrRes: 16, metrics: ['fid500_lenet'] }, when);
  assert.equal(p.runs.length, 2);
  assert.equal('kimg' in p.runs[0].overrides, false);
  assert.deepEqual(p.runs.map((r) => r.overrides.ggdr), [{ enabled: true, weight: 4, res: 16 }, { enabled: false, weight: 4, res: 16 }]);
  assert.equal(resolveOptions(p.runs[1].overrides).kimg, PRESETS.mnist32.kimg, 'mnist32 default');
  assert.deepEqual(p.runs[0].overrides.metrics, ['fid500_lenet']);
});

test('plan rejects bad choices with UserErrors, before anything starts', () => {
  const bad: Array<[Partial<AbChoices>, RegExp]> = [
    [{ seeds: [] }, /at least one seed/],
    [{ seeds: [1, 1] }, /only once/],
    [{ seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8] }, /Too many seeds/],
    [{ outdir: 'runs' }, /absolute/],
    [{ kimg: -1 }, /kimg/],
    [{ ggdrRes: 64 }, /ggdr res 64/],
  ];
  for (const [over, re] of bad) {
    assert.throws(() => planGgdrAb({ ...base, ...over }, when), (e: unknown) => isUserError(e) && re.test((e as Error).message), JSON.stringify(over));
  }
});

test('seeds input: lists and ranges, clear errors', () => {
  assert.deepEqual(parseAbSeeds('0,1'), [0, 1]);
  assert.deepEqual(parseAbSeeds(' 3, 0-1 '), [3, 0, 1]);
  assert.equal(validateAbSeeds('0,1'), undefined);
  assert.match(validateAbSeeds('a') ?? '', /not a seed/);
  assert.match(validateAbSeeds('0-9') ?? '', /Too many seeds: at most 8/);
  assert.match(validateAbSeeds('') ?? '', /at least one seed/);
  assert.throws(() => parseAbSeeds('x'), (e: unknown) => isUserError(e) && /Seeds:/.test((e as Error).message));
  assert.equal(experimentStamp(new Date(2024, 11, 1, 3, 4, 5)), '20241201-030405');
});

test('record: fresh record, guard, atomic write into <runs root>/experiments/', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-ab-rec-'));
  try {
    const p = planGgdrAb({ ...base, outdir: dir, seeds: [0] }, when);
    const rec = newRecord(p, when);
    assert.equal(rec.state, 'running');
    assert.deepEqual(rec.runs.map((r) => [r.arm, r.seed, r.state, r.runDir]), [['ggdr', 0, 'pending', null], ['baseline', 0, 'pending', null]]);
    assert.deepEqual(rec.settings, { data: 'mnist', preset: 'mnist32', kimg: 2, seeds: [0], backend: 'wasm', metrics: [...DEFAULT_AB_METRICS], concurrency: 1 });
    await writeRecord(p.recordFile, rec);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'experiments')), ['20250131-140509-ggdr-ab.json'], 'no temp files left');
    const back: unknown = JSON.parse(fs.readFileSync(p.recordFile, 'utf8'));
    assert.ok(isAbExperimentRecord(back));
    for (const broken of [{ ...rec, kind: 'other' }, { ...rec, runs: [{ ...rec.runs[0], state: 'done' }] }, { ...rec, runs: 'x' }, null]) {
      assert.equal(isAbExperimentRecord(broken), false);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
