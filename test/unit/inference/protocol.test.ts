/**
 * Pure parts of the checkpoint viewer / segmentation stack: the guards the host runs on webview and
 * process messages, seed specs, label encoding, persisted-state guards, export names and the
 * webview's label-map colouring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageHandler, type RpcEnvelope } from '../../../src/shared/protocol/rpc';
import { isViewerPanelState, viewerHostValidators, type ViewerHostApi, type ViewerWebviewApi } from '../../../src/shared/protocol/panels/viewer';
import { isSegmentationPanelState, segmentationHostValidators, type SegmentationHostApi, type SegmentationWebviewApi } from '../../../src/shared/protocol/panels/segmentation';
import {
  decodeLabels, encodeLabels, formatSeeds, inferenceHostValidators, inferenceProcessValidators, parseSeedSpec,
} from '../../../src/shared/protocol/inference';
import { paletteColor } from '../../../src/shared/palette';
import { exportFileName } from '../../../src/host/inference/snapshotInfo';
import { labelAt, labelImageRgba } from '../../../webview/segmentation/labels';

const ev = (name: string, payload: unknown): RpcEnvelope => ({ rpc: 1, kind: 'event', name, payload });
const req = (id: number, name: string, params: unknown): RpcEnvelope => ({ rpc: 1, kind: 'request', id, name, params });
const tick = () => new Promise((r) => setTimeout(r, 5));

test('viewer: the host accepts exactly the valid webview messages', async () => {
  const invalid: string[] = [];
  const sent: RpcEnvelope[] = [];
  const host = new MessageHandler<ViewerHostApi, ViewerWebviewApi>({ post: (m) => { sent.push(m); }, validators: viewerHostValidators, onInvalid: (r) => invalid.push(r) });
  const calls: string[] = [];
  host.onRequest('hello', () => { calls.push('hello'); return { name: 's', dir: '/s', runDir: '/', runName: 'r', kimg: 0, resolution: 16, channels: 1, ggdr: null, blockResolutions: [4, 8, 16] }; });
  host.onRequest('render', (p) => { calls.push(`render ${p.seeds} ${p.psi}`); return { cancelled: true }; });
  host.onRequest('interpolate', () => { calls.push('interp'); return { cancelled: true }; });
  host.onRequest('exportGrid', () => { calls.push('export'); return { cancelled: true }; });
  host.on('openSegmentation', (p) => calls.push(`seg ${p.seeds}`));
  const g = { which: 'G_ema', psi: 0.7, noiseMode: 'const', noiseSeed: 0 };
  let id = 1;
  const good: RpcEnvelope[] = [
    req(id++, 'hello', {}),
    req(id++, 'render', { ...g, seeds: '0-15' }),
    req(id++, 'interpolate', { ...g, seedA: 1, seedB: 2, steps: 9, mode: 'slerp' }),
    req(id++, 'exportGrid', { ...g, seeds: '0-3', cols: 2 }),
    ev('openSegmentation', { seeds: '0-7' }),
  ];
  const bad: RpcEnvelope[] = [
    req(id++, 'render', { ...g, seeds: '0-15', snapshot: '/etc' }), // smuggled path
    req(id++, 'render', { ...g, seeds: '' }),
    req(id++, 'render', { ...g, seeds: 'x'.repeat(401) }),
    req(id++, 'render', { ...g, psi: 3, seeds: '0' }),
    req(id++, 'render', { ...g, psi: NaN, seeds: '0' }),
    req(id++, 'render', { ...g, which: 'D', seeds: '0' }),
    req(id++, 'render', { ...g, noiseMode: 'none', seeds: '0' }),
    req(id++, 'render', { ...g, noiseSeed: -1, seeds: '0' }),
    req(id++, 'interpolate', { ...g, seedA: 1, seedB: 2, steps: 1, mode: 'slerp' }),
    req(id++, 'interpolate', { ...g, seedA: 1.5, seedB: 2, steps: 3, mode: 'slerp' }),
    req(id++, 'interpolate', { ...g, seedA: 1, seedB: 2, steps: 3, mode: 'cubic' }),
    req(id++, 'exportGrid', { ...g, seeds: '0', cols: 0 }),
    req(id++, 'exportGrid', { ...g, seeds: '0', cols: 2, file: '/tmp/x.png' }),
    req(id++, 'hello', { snapshot: '/x' }),
    req(id++, 'segment', {}),
    ev('openSegmentation', { seeds: 5 }),
    ev('webviewError', {}),
  ];
  for (const m of [...good, ...bad]) host.handle(m);
  await tick();
  assert.deepEqual(calls, ['hello', 'render 0-15 0.7', 'interp', 'export', 'seg 0-7']);
  assert.equal(invalid.length, bad.length);
  const failed = sent.filter((m) => m.kind === 'reply' && !m.ok).length;
  assert.equal(failed, bad.filter((m) => m.kind === 'request').length);
});

test('segmentation: the host accepts exactly the valid webview messages', async () => {
  const invalid: string[] = [];
  const host = new MessageHandler<SegmentationHostApi, SegmentationWebviewApi>({ post: () => undefined, validators: segmentationHostValidators, onInvalid: (r) => invalid.push(r) });
  const calls: string[] = [];
  host.onRequest('segment', (p) => { calls.push(`segment ${p.resolutions.join(',')} k${p.k} ${p.metric}`); return { cancelled: true }; });
  host.onRequest('across', (p) => { calls.push(`across ${p.res}`); return { cancelled: true }; });
  host.on('cancel', (p) => calls.push(`cancel ${p.what}`));
  host.on('openViewer', () => calls.push('viewer'));
  const s = { seeds: '0-7', resolutions: [8, 16], k: 6, metric: 'cosine', psi: 1, reals: true };
  let id = 1;
  host.handle(req(id++, 'segment', s));
  host.handle(req(id++, 'across', { seeds: '0-3', res: 8, k: 6, metric: 'euclidean', psi: 0.5 }));
  host.handle(ev('cancel', { what: 'segment' }));
  host.handle(ev('openViewer', {}));
  const bad = [
    req(id++, 'segment', { ...s, resolutions: [12] }),
    req(id++, 'segment', { ...s, resolutions: [] }),
    req(id++, 'segment', { ...s, k: 1 }),
    req(id++, 'segment', { ...s, k: 21 }),
    req(id++, 'segment', { ...s, metric: 'manhattan' }),
    req(id++, 'segment', { ...s, reals: 'yes' }),
    req(id++, 'segment', { ...s, snapshot: '/elsewhere' }),
    req(id++, 'across', { seeds: '0-3', res: 8, k: 6, metric: 'cosine', psi: 1, snapshots: ['/x'] }),
    ev('cancel', { what: 'everything' }),
    ev('openViewer', { path: '/x' }),
  ];
  for (const m of bad) host.handle(m);
  await tick();
  assert.deepEqual(calls, ['segment 8,16 k6 cosine', 'across 8', 'cancel segment', 'viewer']);
  assert.equal(invalid.length, bad.length);
});

test('inference process guards: requests from the host and replies/events from the process', () => {
  const v = inferenceProcessValidators.requests;
  const g = { snapshot: '/r/network-snapshot-000000', which: 'G', psi: 1, noiseMode: 'random', noiseSeed: 3 };
  assert.ok(v.render({ ...g, jobId: 'j1', seeds: [0, 1] }));
  assert.equal(v.render({ ...g, seeds: [0, 1] }), false, 'jobId required');
  assert.equal(v.render({ ...g, jobId: 'j1', seeds: new Array(257).fill(0) }), false, 'at most 256 seeds');
  assert.equal(v.render({ ...g, jobId: 'j1', seeds: [-1] }), false);
  assert.equal(v.render({ ...g, snapshot: '', jobId: 'j1', seeds: [0] }), false);
  assert.ok(v.exportGrid({ ...g, jobId: 'j', seeds: [0], cols: 1, file: '/r/a.png' }));
  assert.equal(v.exportGrid({ ...g, jobId: 'j', seeds: [0], cols: 1, file: '/r/a.sh' }), false, 'only .png files');
  const s = { jobId: 'j', snapshot: '/s', seeds: [0], resolutions: [8], k: 6, metric: 'cosine', psi: 1, kmeansSeed: 0, maxPixels: 20000, withDecoder: true, reals: 0 };
  assert.ok(v.segment(s));
  assert.equal(v.segment({ ...s, resolutions: [6] }), false);
  assert.equal(v.segment({ ...s, maxPixels: 5 }), false);
  assert.ok(v.segmentAcross({ jobId: 'j', snapshots: ['/a', '/b'], res: 8, seeds: [0], k: 3, metric: 'euclidean', psi: 1, kmeansSeed: 0, maxPixels: 100 }));
  assert.equal(v.segmentAcross({ jobId: 'j', snapshots: [], res: 8, seeds: [0], k: 3, metric: 'euclidean', psi: 1, kmeansSeed: 0, maxPixels: 100 }), false);
  assert.ok(v.init({ backend: 'auto' }));
  assert.equal(v.init({ backend: 'cuda' }), false);
  assert.ok(inferenceProcessValidators.events.cancel({ jobId: 'j1' }));
  assert.equal(inferenceProcessValidators.events.cancel({ jobId: '' }), false);
  const h = inferenceHostValidators;
  assert.ok(h.events.progress({ jobId: 'j', done: 1, total: 2, message: 'x' }));
  assert.equal(h.events.progress({ jobId: 'j', done: 1, total: 2 }), false);
  assert.ok(h.results!.render!({ images: [{ seed: 1, src: 'data:image/png;base64,AAAA' }], ms: 1, resolution: 16, channels: 1, loaded: false, backend: 'wasm' }));
  assert.equal(h.results!.render!({ images: [{ seed: 1, src: 'javascript:alert(1)' }], ms: 1 }), false, 'images must be PNG data URLs');
  const map = { res: 8, k: 2, labels: 'AAE=', shares: [0.5, 0.5], sampled: false, fitPixels: 2, totalPixels: 2 };
  assert.ok(h.events.acrossItem({ jobId: 'j', index: 0, total: 1, snapshot: '/s', name: 's', kimg: 0, images: ['data:image/png;base64,AA'], map }));
  assert.equal(h.events.acrossItem({ jobId: 'j', index: 0, total: 1, snapshot: '/s', name: 's', kimg: 0, map: { ...map, res: 7 } }), false);
});

test('seed specs: ranges, lists, duplicates, and errors for people', () => {
  const ok = (s: string) => {
    const r = parseSeedSpec(s);
    assert.ok('seeds' in r, `${s}: ${'error' in r ? r.error : ''}`);
    return r.seeds;
  };
  assert.deepEqual(ok('0-15'), Array.from({ length: 16 }, (_, i) => i));
  assert.deepEqual(ok('3, 7, 10-12'), [3, 7, 10, 11, 12]);
  assert.deepEqual(ok('1 2  3'), [1, 2, 3]);
  assert.deepEqual(ok('5,5,4-6'), [5, 4, 6]);
  assert.deepEqual(ok('4294967295'), [4294967295]);
  const err = (s: string, re: RegExp, max?: number) => {
    const r = parseSeedSpec(s, max);
    assert.ok('error' in r, s);
    assert.match(r.error, re);
  };
  err('', /at least one seed/);
  err('a', /"a" is not a seed or range/);
  err('-1', /not a seed or range/);
  err('5-3', /runs backwards; write 3-5/);
  err('0-300', /at most 256/);
  err('0-7', /at most 4/, 4);
  err('4294967296', /out of range/);
  assert.equal(formatSeeds([0, 1, 2, 3, 7, 9, 10]), '0-3, 7, 9-10');
  assert.deepEqual(ok(formatSeeds([0, 1, 2, 3, 7, 9, 10])), [0, 1, 2, 3, 7, 9, 10]);
});

test('labels travel as base64 bytes', () => {
  const labels = Int32Array.from({ length: 100_003 }, (_, i) => (i * 7) % 20);
  const back = decodeLabels(encodeLabels(labels));
  assert.deepEqual([...back], [...labels]);
  assert.equal(encodeLabels([]), '');
  assert.throws(() => encodeLabels([256]), /not a byte/);
  assert.throws(() => encodeLabels([-1]), /not a byte/);
});

test('persisted panel states are validated before the serializers use them', () => {
  const v = { v: 1, snapshot: '/r/network-snapshot-000004', seeds: '0-15', cols: 4, which: 'G_ema', psi: 0.7, noiseMode: 'const', noiseSeed: 0, interp: { a: 0, b: 1, steps: 9, mode: 'slerp', open: false } };
  assert.ok(isViewerPanelState(v));
  for (const bad of [null, {}, { ...v, v: 2 }, { ...v, snapshot: '' }, { ...v, cols: 0 }, { ...v, psi: 5 }, { ...v, which: 'D' }, { ...v, interp: { ...v.interp, steps: 100 } }, { ...v, interp: null }]) {
    assert.equal(isViewerPanelState(bad), false, JSON.stringify(bad));
  }
  const s = { v: 1, snapshot: '/s', seeds: '0-7', resolutions: [8, 16], k: 6, metric: 'cosine', psi: 1, reals: true, view: 'overlay', opacity: 0.5, selected: { res: 8, cluster: 2 }, acrossRes: 8, acrossSeeds: '0-3' };
  assert.ok(isSegmentationPanelState(s));
  assert.ok(isSegmentationPanelState({ ...s, selected: null }));
  for (const bad of [{ ...s, view: 'x' }, { ...s, opacity: 2 }, { ...s, k: 50 }, { ...s, resolutions: [3] }, { ...s, selected: { res: 8, cluster: -1 } }, { ...s, metric: 'l1' }]) {
    assert.equal(isSegmentationPanelState(bad), false, JSON.stringify(bad));
  }
});

test('export file names stay inside the run folder and say what was rendered', () => {
  const name = exportFileName({ name: 'network-snapshot-000004' }, [0, 1, 2, 3], 0.7, 'G_ema', 'const');
  assert.equal(name, 'viewer-000004-seeds0-3-psi0.7-G_ema.png');
  assert.equal(exportFileName({ name: 'network-snapshot-000000.016' }, [5, 9], 1, 'G', 'random'), 'viewer-000000.016-seeds5-9-n2-psi1-G-noise.png');
  assert.ok(!name.includes('/') && !name.includes('\\'));
});

test('label maps: palette colours, highlighting, and the cluster under the pointer', () => {
  // Two 2×2 maps: image 1 is [0,1;2,1].
  const labels = Uint8Array.from([3, 3, 3, 3, 0, 1, 2, 1]);
  const all = labelImageRgba(labels, 1, 2, 'maps', null);
  assert.deepEqual([...all.slice(0, 4)], [...paletteColor(0), 255]);
  assert.deepEqual([...all.slice(4, 8)], [...paletteColor(1), 255]);
  const sel = labelImageRgba(labels, 1, 2, 'maps', 1);
  assert.deepEqual([...sel.slice(4, 8)], [...paletteColor(1), 255], 'the selected cluster keeps its colour');
  assert.notDeepEqual([...sel.slice(0, 3)], paletteColor(0), 'the others fade');
  assert.equal(sel[3], 255);
  const over = labelImageRgba(labels, 1, 2, 'overlay', 1);
  assert.equal(over[3], 0, 'overlay: unselected clusters are transparent');
  assert.equal(over[7], 255);
  assert.throws(() => labelImageRgba(labels, 2, 2, 'maps', null), /outside/);
  // 2×2 map drawn 64 px wide: (40, 10) is the top-right cell.
  assert.equal(labelAt(labels, 1, 2, 40, 10, 64), 1);
  assert.equal(labelAt(labels, 1, 2, 10, 40, 64), 2);
  assert.equal(labelAt(labels, 1, 2, 999, 999, 64), 1, 'clamped to the map');
});

test('computeMetrics guards: metric names, feature model and cache folder from the host; results and log lines from the process', () => {
  const ok = inferenceProcessValidators.requests.computeMetrics;
  const base = { jobId: 'j1', snapshot: '/runs/r/network-snapshot-000004', metrics: ['fid2k_lenet', 'kid5k_full_inception_v3'], append: true };
  assert.ok(ok(base));
  assert.ok(ok({ ...base, modelCacheDir: '/gs', featureModel: { source: 'https://x/inception_v3/model.json', name: 'inception_v3' } }));
  for (const bad of [
    { ...base, metrics: [] }, { ...base, metrics: ['ppl2k_lenet'] }, { ...base, metrics: ['fid2k_'] }, { ...base, metrics: Array(25).fill('fid2k_lenet') },
    { ...base, append: 'yes' }, { ...base, snapshot: '' }, { ...base, modelCacheDir: 3 }, { ...base, extra: 1 },
    { ...base, featureModel: { source: 'x' } }, { ...base, featureModel: { source: 'x', name: 'bad name' } }, { ...base, featureModel: { source: 'x', name: 'n', layer: 'y' } },
  ]) assert.equal(ok(bad), false, JSON.stringify(bad));
  const line = { results: { fid2k_lenet: 1.5 }, metric: 'fid2k_lenet', total_time: 3, total_time_str: '3s', num_gpus: 1, snapshot_pkl: 'network-snapshot-000004', timestamp: 1 };
  const res = { snapshot: '/r/s', runDir: '/r', lines: [line], extractors: ['lenet (98.0% on 1,000 held-out digits)'], appended: ['/r/metric-fid2k_lenet.jsonl'], ms: 5, backend: 'wasm' };
  assert.ok(inferenceHostValidators.results!.computeMetrics!(res));
  assert.equal(inferenceHostValidators.results!.computeMetrics!({ ...res, lines: [{ ...line, results: { fid2k_lenet: 'x' } }] }), false);
  assert.equal(inferenceHostValidators.results!.computeMetrics!({ ...res, appended: [''] }), false);
  assert.ok(inferenceHostValidators.events.log({ jobId: 'j1', line: 'Training the LeNet…' }));
  assert.equal(inferenceHostValidators.events.log({ jobId: 'j1', line: 5 }), false);
});
