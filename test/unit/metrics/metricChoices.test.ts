/**
 * The pure parts of Compute Metrics…: the metric names offered per extractor, the preselection, the
 * ganInspector.metrics.featureModel setting, and the result texts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMetricName } from '../../../src/core/metrics/index';
import { DEFAULT_METRICS, describeMetricsResult, formatMetricValue, metricChoices, parseFeatureModelSetting, preselected } from '../../../src/host/metrics/metricChoices';
import { makeMetricLine } from '../../../src/core/metrics/index';

test('fid/kid at 1k/2k/5k for LeNet and the configured feature model; every name parses', () => {
  assert.deepEqual(metricChoices([]).map((c) => c.name), ['fid1k_lenet', 'fid2k_lenet', 'fid5k_lenet', 'kid1k_lenet', 'kid2k_lenet', 'kid5k_lenet']);
  const withModel = metricChoices(['inception_v3', 'lenet']);
  assert.equal(withModel.length, 12);
  assert.deepEqual(withModel.slice(6).map((c) => c.name), ['fid1k_inception_v3', 'fid2k_inception_v3', 'fid5k_inception_v3', 'kid1k_inception_v3', 'kid2k_inception_v3', 'kid5k_inception_v3']);
  for (const c of withModel) {
    const s = parseMetricName(c.name);
    assert.deepEqual([s.kind, s.numGen, s.extractor, s.full], [c.kind, c.count, c.extractor, false]);
  }
  assert.match(withModel[0].description, /^Fréchet distance, 1,000 samples vs\. as many real images · LeNet features/);
  assert.match(withModel[9].description, /kernel distance \(KID\), 1,000 samples .*ganInspector\.metrics\.featureModel/);
});

test('preselection: the last choice still offered, else the training default', () => {
  const c = metricChoices(['inception_v3']);
  assert.deepEqual(preselected(c, undefined), [...DEFAULT_METRICS]);
  assert.deepEqual(preselected(c, ['fid5k_inception_v3', 'fid1k_gone', 3]), ['fid5k_inception_v3']);
  assert.deepEqual(preselected(metricChoices([]), ['fid5k_inception_v3']), [...DEFAULT_METRICS], 'a model no longer configured');
});

test('the featureModel setting: unset, valid, or a problem to report', () => {
  assert.deepEqual(parseFeatureModelSetting(undefined), {});
  assert.deepEqual(parseFeatureModelSetting(null), {});
  assert.deepEqual(parseFeatureModelSetting({}), {});
  assert.deepEqual(parseFeatureModelSetting({ source: ' https://h/inception_v3/model.json ', name: 'inception_v3' }), { featureModel: { source: 'https://h/inception_v3/model.json', name: 'inception_v3' } });
  assert.match(parseFeatureModelSetting('https://x').problem!, /must be an object \{"source"/);
  assert.match(parseFeatureModelSetting({ source: '/m' }).problem!, /ganInspector\.metrics\.featureModel needs a name/);
  assert.match(parseFeatureModelSetting({ source: '/m', name: 'lenet' }).problem!, /cannot be called 'lenet'/);
  assert.match(parseFeatureModelSetting({ name: 'x' }).problem!, /has no source/);
  assert.doesNotMatch(parseFeatureModelSetting({ name: 'x' }).problem!, /\n/, 'one line for a notification');
});

test('result texts: values, extractor, where the lines went', () => {
  const lines = [makeMetricLine('fid2k_lenet', 123.456789, 12, 'network-snapshot-000016', 1), makeMetricLine('kid2k_lenet', 0.0123456789, 12, 'network-snapshot-000016', 1)];
  const r = describeMetricsResult({
    snapshot: '/w/runs/00001-mnist/network-snapshot-000016', runDir: '/w/runs/00001-mnist', lines, extractors: ['lenet (98.0% on 1,000 held-out digits)'],
    appended: ['/w/runs/00001-mnist/metric-fid2k_lenet.jsonl', '/w/runs/00001-mnist/metric-kid2k_lenet.jsonl'], ms: 12345, backend: 'wasm 4.22.0',
  });
  assert.equal(r.message, '00001-mnist/network-snapshot-000016: fid2k_lenet 123.4568 · kid2k_lenet 0.0123457 · extractor lenet (98.0% on 1,000 held-out digits)');
  assert.deepEqual(r.lines, [
    '[metrics] 00001-mnist/network-snapshot-000016: fid2k_lenet 123.4568, kid2k_lenet 0.0123457 (12.3 s, wasm 4.22.0)',
    '  extractor lenet (98.0% on 1,000 held-out digits)',
    '  appended to /w/runs/00001-mnist/metric-fid2k_lenet.jsonl, /w/runs/00001-mnist/metric-kid2k_lenet.jsonl',
  ]);
  assert.deepEqual([formatMetricValue(1), formatMetricValue(-0.000123456), formatMetricValue(NaN)], ['1.0000', '-0.000123456', 'NaN']);
});
