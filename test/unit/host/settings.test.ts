import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { PRESETS, resolveOptions } from '../../../src/core/config/options';
import { isUserError } from '../../../src/core/errors';
import {
  DEFAULT_SETTINGS, buildOverrides, choicesFromSettings, isTrainChoices, normalizeSettings, parseConfigurations, parseWorkspaceConfigFile,
  resolveRunsRoots, validateGgdrRes, validateNumber,
} from '../../../src/host/config/settings';

const userErr = (re: RegExp) => (e: unknown) => isUserError(e) && re.test(e.message);

test('normalizeSettings: defaults, typed values, and bad values reported', () => {
  const none = normalizeSettings(() => undefined);
  assert.deepEqual(none.settings, DEFAULT_SETTINGS);
  assert.deepEqual(none.problems, []);

  const raw: Record<string, unknown> = {
    runsRoots: ['a', '/abs'], defaultPreset: 'tiny', backend: 'cpu', dataset: 'data/x', kimg: 2, seed: 7,
    'ggdr.enabled': false, 'ggdr.weight': 5, 'ggdr.res': 8, outdir: 'out', configurations: { fast: { preset: 'tiny', kimg: 0.032 } },
  };
  const ok = normalizeSettings((k) => raw[k]);
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.settings.backend, 'cpu');
  assert.deepEqual(ok.settings.ggdr, { enabled: false, weight: 5, res: 8 });
  assert.deepEqual(ok.settings.configurations, { fast: { preset: 'tiny', kimg: 0.032 } });

  const badRaw: Record<string, unknown> = { backend: 'cuda', seed: -1, 'ggdr.res': 12, runsRoots: 'runs', configurations: { x: { presett: 'tiny' } } };
  const bad = normalizeSettings((k) => badRaw[k]);
  assert.equal(bad.settings.backend, 'auto');
  assert.equal(bad.settings.seed, 0);
  assert.equal(bad.settings.ggdr.res, 0);
  assert.deepEqual(bad.settings.runsRoots, ['runs', 'training-runs']);
  assert.equal(bad.problems.length, 5);
  assert.match(bad.problems.join('\n'), /ganInspector\.backend: "cuda" is not valid/);
  assert.match(bad.problems.join('\n'), /unknown option 'presett'/);
});

test('configurations: shape errors are actionable UserErrors', () => {
  assert.deepEqual(parseConfigurations({ a: { model: { batch: 8 }, ggdr: { weight: 2 }, metrics: ['fid2k_lenet'] } }, 'cfg'), {
    a: { model: { batch: 8 }, ggdr: { weight: 2 }, metrics: ['fid2k_lenet'] },
  });
  assert.throws(() => parseConfigurations([], 'cfg'), userErr(/must be an object/));
  assert.throws(() => parseConfigurations({ a: 3 }, 'cfg'), userErr(/cfg → "a" must be an object/));
  assert.throws(() => parseConfigurations({ a: { kimg: '4' } }, 'cfg'), userErr(/option 'kimg' must be a number/));
  assert.throws(() => parseConfigurations({ a: { preset: 'huge' } }, 'cfg'), userErr(/unknown preset 'huge'/));
  assert.throws(() => parseConfigurations({ a: { model: { depth: 3 } } }, 'cfg'), userErr(/unknown option 'model\.depth'/));
  assert.throws(() => parseConfigurations({ a: { ggdr: { enabled: 'yes' } } }, 'cfg'), userErr(/'ggdr\.enabled' must be a boolean/));
});

test('gan-inspector.json parsing', () => {
  assert.deepEqual(parseWorkspaceConfigFile('{"configurations": {"long": {"kimg": 20}}}', 'g.json'), { long: { kimg: 20 } });
  assert.deepEqual(parseWorkspaceConfigFile('{"$schema": "x"}', 'g.json'), {});
  assert.throws(() => parseWorkspaceConfigFile('{"configurations": ', 'g.json'), userErr(/g\.json is not valid JSON/));
  assert.throws(() => parseWorkspaceConfigFile('{"configs": {}}', 'g.json'), userErr(/unknown key 'configs'/));
  assert.throws(() => parseWorkspaceConfigFile('[1]', 'g.json'), userErr(/must hold a JSON object/));
});

test('buildOverrides: absolute paths, defaults omitted, configuration merged, result resolves', () => {
  const ws = path.resolve('/ws');
  const configurations = { wide: { model: { channelMax: 32 }, ggdr: { res: 16 }, outdir: 'exp' } };
  const choices = { ...choicesFromSettings(DEFAULT_SETTINGS), data: 'data/digits', kimg: 0 };
  const o = buildOverrides(choices, { outdir: 'runs', baseDir: ws });
  assert.equal(o.data, path.join(ws, 'data/digits'));
  assert.equal(o.outdir, path.join(ws, 'runs'));
  assert.equal('kimg' in o, false);
  assert.deepEqual(o.ggdr, { enabled: true, weight: 10 });
  assert.equal(resolveOptions(o).kimg, PRESETS.mnist32.kimg);

  const c2 = { ...choices, data: 'mnist', configuration: 'wide', kimg: 2, ggdr: { enabled: true, weight: 3, res: 0 } };
  const o2 = buildOverrides(c2, { outdir: 'runs', baseDir: ws, configurations });
  assert.deepEqual(o2.model, { channelMax: 32 });
  // res 0 / kimg 0 in the answers mean "default": the configuration's value when it has one.
  assert.deepEqual(o2.ggdr, { enabled: true, weight: 3, res: 16 });
  assert.equal(o2.outdir, path.join(ws, 'exp'));
  assert.equal(o2.kimg, 2);
  const o3 = buildOverrides({ ...c2, kimg: 0 }, { outdir: 'runs', baseDir: ws, configurations });
  assert.equal(o3.kimg, undefined, 'configuration "wide" has no kimg: preset default');
  const o4 = buildOverrides({ ...c2, configuration: 'long', kimg: 0 }, { outdir: 'runs', baseDir: ws, configurations: { long: { kimg: 20 } } });
  assert.equal(o4.kimg, 20);
  assert.equal(configurations.wide.ggdr.res, 16, 'the configuration object is not mutated');

  assert.throws(() => buildOverrides({ ...choices, data: 'rel' }, { outdir: 'runs' }), userErr(/relative, but no workspace folder is open/));
  assert.throws(() => buildOverrides({ ...choices, configuration: 'gone' }, { outdir: 'runs', baseDir: ws, configurations }), userErr(/Unknown configuration 'gone'/));
});

test('choices: from settings + configuration, and the remembered-choices guard', () => {
  const s = { ...DEFAULT_SETTINGS, configurations: { quick: { preset: 'tiny' as const, backend: 'cpu' as const, seed: 3 } } };
  const c = choicesFromSettings(s, 'quick');
  assert.equal(c.preset, 'tiny');
  assert.equal(c.backend, 'cpu');
  assert.equal(c.seed, 3);
  assert.equal(c.data, 'mnist');
  assert.ok(isTrainChoices(c));
  assert.ok(!isTrainChoices({ ...c, preset: 'huge' }));
  assert.ok(!isTrainChoices({ ...c, ggdr: undefined }));
  assert.ok(!isTrainChoices(null));
  assert.equal(c.workers, 0, 'workers: the setting (0 = auto)');
  const { workers: _w, ...older } = c;
  assert.ok(isTrainChoices(older), 'choices remembered before the workers step');
  assert.ok(!isTrainChoices({ ...c, workers: -1 }));
  assert.equal(buildOverrides({ ...c, configuration: undefined, workers: 0 }, { outdir: '/o' }).workers, undefined, '0 = auto: not written');
  assert.equal(buildOverrides({ ...c, configuration: undefined, workers: 2 }, { outdir: '/o' }).workers, 2);
  assert.equal(choicesFromSettings({ ...s, workers: 3 }).workers, 3);
  assert.throws(() => choicesFromSettings(s, 'nope'), userErr(/Unknown configuration 'nope'/));
});

test('runs roots: relative per workspace folder, absolute kept, outdir included, deduplicated', () => {
  const a = path.resolve('/a');
  const b = path.resolve('/b');
  const abs = path.resolve('/data/runs');
  assert.deepEqual(resolveRunsRoots([a, b], ['runs', 'training-runs', abs], 'runs'), [
    path.join(a, 'runs'), path.join(b, 'runs'), path.join(a, 'training-runs'), path.join(b, 'training-runs'), abs,
  ]);
  assert.deepEqual(resolveRunsRoots([], ['runs', abs], abs), [abs]);
});

test('input validation of the Train… flow', () => {
  assert.equal(validateNumber('10', { min: 0 }), undefined);
  assert.match(validateNumber('', { min: 0 })!, /Enter a number/);
  assert.match(validateNumber('abc', { min: 0 })!, /not a number/);
  assert.match(validateNumber('-1', { min: 0 })!, /≥ 0/);
  assert.match(validateNumber('1.5', { integer: true, min: 0 })!, /whole number/);
  assert.equal(validateNumber('0', { min: 0.001, allowZero: true }), undefined);
  assert.equal(validateGgdrRes('0', 32), undefined);
  assert.equal(validateGgdrRes('8', 32), undefined);
  assert.match(validateGgdrRes('12', 32)!, /power of two between 4 and 32/);
  assert.match(validateGgdrRes('64', 32)!, /between 4 and 32/);
  assert.match(validateGgdrRes('2', 32)!, /default 8/);
  assert.match(validateGgdrRes('2', 16, 8)!, /default 8\) or a power of two between 4 and 16/);
});
