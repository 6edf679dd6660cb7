/**
 * The pure plumbing of mode coverage (#14) outside core: shared key names agree with core's line format,
 * which direction is better per result key, what Compute Metrics offers and prints, when the viewer
 * calls the metric undefined (our MNIST runs vs folders, zips and official runs), and the loss curves' series.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMetricLine, parseMetricName } from '../../../src/core/metrics/index';
import { MODES_CLASS, MODES_KL, MODES_MAXSHARE, MODES_REF, modeCoverage, modeResults } from '../../../src/core/metrics/modes';
import { describeMetricsResult, metricChoices, modesChoices } from '../../../src/host/metrics/metricChoices';
import { modesUnavailableReason, snapshotModes } from '../../../src/host/panels/viewerModes';
import { higherIsBetter, histogramRow, isModesMetricName, MODES_KEY_SUFFIX, modesResultKind, modesSampleCount } from '../../../src/shared/modeCoverage';
import { METRIC_NAME_RE } from '../../../src/shared/protocol/inference';
import { metricsToSeries } from '../../../src/host/loss/lossDataSource';
import { groupOf } from '../../../webview/loss/series';

/** A line as core writes it: 1,000 samples, 90% zeros and the rest spread over 1 and 2, vs an even dataset. */
function line(metric: string, snapshot: string, timestamp: number, withReference = true) {
  const m = modeCoverage([900, 60, 40, 0, 0, 0, 0, 0, 0, 0], Array(10).fill(100));
  if (!withReference) delete m.reference;
  return makeMetricLine(metric, modeResults(metric, m), 12, snapshot, timestamp);
}

test('shared key suffixes are core\'s; each result key has its kind; only classes covered is higher-is-better', () => {
  assert.deepEqual(MODES_KEY_SUFFIX, { maxShare: MODES_MAXSHARE, kl: MODES_KL, classPrefix: MODES_CLASS, refPrefix: MODES_REF });
  const keys = Object.keys(line('modes2k_lenet', 'network-snapshot-000004', 1).results);
  assert.equal(keys.length, 23);
  const kinds = keys.map(modesResultKind);
  assert.deepEqual(kinds.slice(0, 3), ['covered', 'maxShare', 'kl']);
  assert.deepEqual(new Set(kinds.slice(3, 13)), new Set(['class']));
  assert.deepEqual(new Set(kinds.slice(13)), new Set(['ref']));
  assert.equal(modesResultKind('fid2k_lenet'), undefined);
  assert.deepEqual(['modes2k_lenet', 'modes2k_lenet/modes2k_lenet_maxshare', 'modes2k_lenet/modes2k_lenet_kl', 'fid2k_lenet', 'kid2k_lenet', 'pr50k3_full/precision', 'is50k']
    .map(higherIsBetter), [true, false, false, false, false, true, true]);
  assert.equal(modesSampleCount('modes2k_lenet'), 2000);
  assert.equal(modesSampleCount('modes500_full_lenet'), 500);
  assert.equal(modesSampleCount('fid2k_lenet'), undefined);
  assert.ok(isModesMetricName('modes5k_lenet') && !isModesMetricName('fid5k_lenet'));
  assert.equal(histogramRow([0.5, 0.25, 0.125, 0.125]), '0 50.0%  1 25.0%  2 12.5%  3 12.5%');
});

test('Compute Metrics offers modes at 1k/2k/5k for LeNet; the inference protocol accepts the names', () => {
  const c = modesChoices();
  assert.deepEqual(c.map((x) => x.name), ['modes1k_lenet', 'modes2k_lenet', 'modes5k_lenet']);
  for (const x of c) {
    const s = parseMetricName(x.name);
    assert.deepEqual([s.kind, s.numGen, s.extractor], [x.kind, x.count, x.extractor]);
    assert.match(x.name, METRIC_NAME_RE);
  }
  assert.match(c[1].description, /^mode coverage: classes covered \(≥ 1% of 2,000 samples\), largest class share, KL .*MNIST runs/);
  assert.ok(metricChoices([]).every((x) => x.kind !== 'modes'), 'fid/kid choices unchanged');
});

test('Compute Metrics result text: key figures and the class shares of a modes line', () => {
  const l = line('modes1k_lenet', 'network-snapshot-000016', 5);
  const r = describeMetricsResult({
    snapshot: '/w/runs/00001-mnist/network-snapshot-000016', runDir: '/w/runs/00001-mnist', lines: [l], extractors: ['lenet (98.0% on 1,000 held-out digits)'],
    appended: ['/w/runs/00001-mnist/metric-modes1k_lenet.jsonl'], ms: 4000, backend: 'wasm',
  });
  const kl = 0.9 * Math.log(0.9 / 0.1) + 0.06 * Math.log(0.06 / 0.1) + 0.04 * Math.log(0.04 / 0.1);
  assert.equal(r.message, `00001-mnist/network-snapshot-000016: modes1k_lenet covered 3/10, max 90% (class 0), KL ${kl.toFixed(3)} · extractor lenet (98.0% on 1,000 held-out digits)`);
  assert.equal(r.lines[1], '  modes1k_lenet class shares: 0 90.0%  1 6.0%  2 4.0%  3 0.0%  4 0.0%  5 0.0%  6 0.0%  7 0.0%  8 0.0%  9 0.0%');
});

test('viewer: newest line per modes metric of the snapshot, the default first; older lines without the dataset histogram', () => {
  const metrics = {
    modes2k_lenet: [line('modes2k_lenet', 'network-snapshot-000004', 10), line('modes2k_lenet', 'network-snapshot-000004', 30), line('modes2k_lenet', 'network-snapshot-000008', 40)],
    modes1k_lenet: [line('modes1k_lenet', 'network-snapshot-000004', 20, false)],
    fid2k_lenet: [makeMetricLine('fid2k_lenet', 50, 1, 'network-snapshot-000004', 50)],
  };
  const e = snapshotModes(metrics, 'network-snapshot-000004');
  assert.deepEqual(e.map((x) => [x.metric, x.timestamp, x.samples]), [['modes2k_lenet', 30, 2000], ['modes1k_lenet', 20, 1000]]);
  assert.deepEqual(e[0].reference, Array(10).fill(0.1));
  assert.equal(e[1].reference, null);
  assert.deepEqual([e[0].covered, e[0].maxShare, e[0].maxClass], [3, 0.9, 0]);
  assert.deepEqual(snapshotModes(metrics, 'network-snapshot-000012'), []);
});

test('viewer: mode coverage is defined for our runs on the built-in MNIST only', () => {
  assert.equal(modesUnavailableReason({ dataset: 'mnist' }), undefined);
  assert.equal(modesUnavailableReason({ origin: 'gan-inspector', dataset: 'mnist' }), undefined);
  assert.match(modesUnavailableReason({ dataset: '/data/faces' })!, /This run trained on 'faces', whose classes LeNet does not know\. FID\/KID still apply\.$/);
  assert.match(modesUnavailableReason({ origin: 'official', dataset: '/x/mnist32.zip' })!, /This official run trained on 'mnist32\.zip'/);
  assert.match(modesUnavailableReason({})!, /trained on unknown data/);
});

test('loss curves: a modes line gives classes covered, largest share and KL (no histogram curves) in their own chart', () => {
  const s = metricsToSeries([line('modes2k_lenet', 'network-snapshot-000004', 1), makeMetricLine('fid2k_lenet', 50, 1, 'network-snapshot-000004', 1)]);
  assert.deepEqual(s.map((x) => [x.name, x.kimg[0], x.value[0]]), [
    ['modes2k_lenet', 4, 3], ['modes2k_lenet/modes2k_lenet_maxshare', 4, 0.9], ['modes2k_lenet/modes2k_lenet_kl', 4, s[2].value[0]], ['fid2k_lenet', 4, 50],
  ]);
  assert.ok(s[2].value[0]! > 1.9 && s[2].value[0]! < 1.92);
  assert.deepEqual(s.map((x) => groupOf(`Metrics/${x.name}`).label), ['Mode coverage', 'Mode coverage', 'Mode coverage', 'Metrics']);
});
