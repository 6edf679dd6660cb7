/**
 * The host side of official StyleGAN2-ADA / GGDR pickles, on the real fixture run (../shared, read in place)
 * and on broken copies: what the viewer and segmentation panels are told (describeSnapshot,
 * describeForSegmentation), arguments naming a .pkl, class labels, export names, and the panel guards
 * for the class label and the viewer's Cancel.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeForSegmentation, describeSnapshot, exportFileName, labelFor } from '../../../src/host/inference/snapshotInfo';
import { checkRestoredSnapshot } from '../../../src/host/panels/restoreGuard';
import { snapshotPathFromArg } from '../../../src/host/snapshotPaths';
import { MessageHandler, type RpcEnvelope } from '../../../src/shared/protocol/rpc';
import { isViewerPanelState, viewerHostValidators, type ViewerHostApi, type ViewerWebviewApi } from '../../../src/shared/protocol/panels/viewer';
import { isSegmentationPanelState, segmentationHostValidators, type SegmentationHostApi, type SegmentationWebviewApi } from '../../../src/shared/protocol/panels/segmentation';
import { FIXTURE_DIR, requireFixture } from '../official/fixture';

const RUN = path.join(FIXTURE_DIR, 'training-runs', '00000-mnist32-cifar-kimg5-batch16');
const PKL = path.join(RUN, 'network-snapshot-000005.pkl');
let tmp: string;

before(() => {
  requireFixture();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-official-host-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('describeSnapshot of an official pickle: what its structure says, no error', async () => {
  const info = await describeSnapshot(PKL);
  assert.equal(info.error, undefined);
  assert.equal(info.origin, 'official');
  assert.deepEqual([info.name, info.dir, info.runDir, info.kimg], ['network-snapshot-000005.pkl', PKL, RUN, 5]);
  assert.deepEqual([info.resolution, info.channels, info.classes], [32, 1, 0]);
  assert.deepEqual(info.ggdr, { res: 16, weight: 10 });
  assert.deepEqual(info.blockResolutions, [4, 8, 16, 32]);
  assert.ok(info.createdAt && !Number.isNaN(Date.parse(info.createdAt)));
});

test('describeForSegmentation walks the run\'s three pickles, all loadable', async () => {
  const info = await describeForSegmentation(PKL);
  assert.equal(info.error, undefined);
  assert.deepEqual(info.snapshots.map((s) => [s.name, s.kimg, s.loadable]), [
    ['network-snapshot-000000.pkl', 0, true], ['network-snapshot-000003.pkl', 3, true], ['network-snapshot-000005.pkl', 5, true],
  ]);
});

test('broken pickles: the run lists them with the reason, opening one says what is wrong', async () => {
  const run = path.join(tmp, 'training-runs', '00000-broken');
  fs.mkdirSync(run, { recursive: true });
  fs.copyFileSync(path.join(RUN, 'training_options.json'), path.join(run, 'training_options.json'));
  fs.copyFileSync(PKL, path.join(run, 'network-snapshot-000005.pkl'));
  fs.writeFileSync(path.join(run, 'network-snapshot-000001.pkl'), '');
  fs.writeFileSync(path.join(run, 'network-snapshot-000002.pkl'), 'not a pickle at all');
  // A pickle cut short: starts like one, so listed as loadable; the safe reader refuses it when opened.
  const whole = fs.readFileSync(PKL);
  fs.writeFileSync(path.join(run, 'network-snapshot-000003.pkl'), whole.subarray(0, 4096));
  const seg = await describeForSegmentation(path.join(run, 'network-snapshot-000005.pkl'));
  assert.equal(seg.error, undefined);
  const byName = new Map(seg.snapshots.map((s) => [s.name, s]));
  assert.equal(byName.get('network-snapshot-000001.pkl')?.loadable, false);
  assert.match(byName.get('network-snapshot-000001.pkl')?.reason ?? '', /empty file/);
  assert.equal(byName.get('network-snapshot-000002.pkl')?.loadable, false);
  assert.match(byName.get('network-snapshot-000002.pkl')?.reason ?? '', /not a pickle/);
  assert.equal(byName.get('network-snapshot-000005.pkl')?.loadable, true);
  const cut = await describeSnapshot(path.join(run, 'network-snapshot-000003.pkl'));
  assert.match(cut.error ?? '', /^network-snapshot-000003\.pkl cannot be opened: .*(truncated|corrupt)/);
  assert.equal(cut.origin, undefined);
  const junk = await describeSnapshot(path.join(run, 'network-snapshot-000002.pkl'));
  assert.match(junk.error ?? '', /^network-snapshot-000002\.pkl cannot be opened: /);
});

test('a .pkl named by a Runs-view node, an Explorer Uri or a path is the snapshot itself', () => {
  const isUri = (a: unknown): a is { scheme: string; fsPath: string } => typeof a === 'object' && a !== null && 'scheme' in a && 'fsPath' in a;
  assert.equal(snapshotPathFromArg({ scheme: 'file', fsPath: PKL }, isUri), PKL);
  assert.equal(snapshotPathFromArg(PKL, isUri), PKL);
  assert.equal(snapshotPathFromArg({ kind: 'snapshot', dir: RUN, snapshot: { path: PKL } }, isUri), PKL);
  assert.equal(snapshotPathFromArg({ scheme: 'vscode-remote', fsPath: PKL }, isUri), undefined);
  assert.equal(snapshotPathFromArg(RUN, isUri), undefined, 'a run folder means "ask"');
});

test('a restored segmentation panel of a pickle: the .pkl file inside a run under the roots is accepted, nothing else', () => {
  const roots = [path.join(FIXTURE_DIR, 'training-runs')];
  const ok = checkRestoredSnapshot(PKL, roots);
  assert.deepEqual(ok, { ok: true, path: fs.realpathSync(PKL) });
  assert.equal(checkRestoredSnapshot(PKL, [tmp]).ok, false, 'outside the workspace and runs roots');
  // A folder named like a pickle is not one; a pickle outside a run folder is refused.
  const fake = path.join(tmp, 'runs', '00000-x', 'network-snapshot-000001.pkl');
  fs.mkdirSync(fake, { recursive: true });
  fs.writeFileSync(path.join(tmp, 'runs', '00000-x', 'stats.jsonl'), '');
  assert.match(String((checkRestoredSnapshot(fake, [tmp]) as { reason?: string }).reason), /is not a file/);
  const loose = path.join(tmp, 'network-snapshot-000002.pkl');
  fs.copyFileSync(PKL, loose);
  assert.match(String((checkRestoredSnapshot(loose, [tmp]) as { reason?: string }).reason), /not inside a run folder/);
});

test('class labels: conditional models get one (default 0, checked against their classes); unconditional ones refuse one', () => {
  const cond = { name: 'network-snapshot-000000.pkl', classes: 10 };
  const uncond = { name: 'network-snapshot-000005.pkl', classes: 0 };
  assert.deepEqual(labelFor(cond, undefined), { label: 0 });
  assert.deepEqual(labelFor(cond, 9), { label: 9 });
  assert.throws(() => labelFor(cond, 10), /Class 10 does not exist: network-snapshot-000000\.pkl has classes 0–9/);
  assert.deepEqual(labelFor(uncond, undefined), {});
  assert.deepEqual(labelFor({ name: 'network-snapshot-000004' }, undefined), {}, 'our snapshots have no classes');
  assert.throws(() => labelFor(uncond, 0), /not a conditional model/);
});

test('exported grid names of pickles drop .pkl and carry the class', () => {
  assert.equal(exportFileName({ name: 'network-snapshot-000005.pkl' }, [0, 1, 2, 3], 0.7, 'G_ema', 'const'), 'viewer-000005-seeds0-3-psi0.7-G_ema.png');
  assert.equal(exportFileName({ name: 'network-snapshot-000005.pkl' }, [3], 1, 'G', 'random', 7), 'viewer-000005-seeds3-psi1-G-class7-noise.png');
  assert.equal(exportFileName({ name: 'network-snapshot-000000.016' }, [0, 1], 1, 'G_ema', 'const'), 'viewer-000000.016-seeds0-1-psi1-G_ema.png');
});

const ev = (name: string, payload: unknown): RpcEnvelope => ({ rpc: 1, kind: 'event', name, payload });
const req = (id: number, name: string, params: unknown): RpcEnvelope => ({ rpc: 1, kind: 'request', id, name, params });
const settle = () => new Promise((r) => setTimeout(r, 5));

test('viewer guards: label (a class index) and Cancel are accepted, anything else about them is not', async () => {
  const invalid: string[] = [];
  const host = new MessageHandler<ViewerHostApi, ViewerWebviewApi>({ post: () => undefined, validators: viewerHostValidators, onInvalid: (r) => invalid.push(r) });
  const renders: Array<number | undefined> = [];
  const cancels: string[] = [];
  host.onRequest('render', (p) => { renders.push(p.label); return { cancelled: true as const }; });
  host.onRequest('exportGrid', (p) => { renders.push(p.label); return { cancelled: true as const }; });
  host.on('cancel', (p) => cancels.push(p.what));
  const gen = { which: 'G_ema', psi: 1, noiseMode: 'const', noiseSeed: 0 };
  host.handle(req(1, 'render', { ...gen, seeds: '0-7' }));
  host.handle(req(2, 'render', { ...gen, seeds: '0-7', label: 3 }));
  host.handle(req(3, 'exportGrid', { ...gen, seeds: '0-7', cols: 4, label: 0 }));
  host.handle(ev('cancel', { what: 'grid' }));
  host.handle(ev('cancel', { what: 'interp' }));
  for (const label of [-1, 1.5, '3', null, 100_000]) host.handle(req(10, 'render', { ...gen, seeds: '0', label }));
  host.handle(ev('cancel', { what: 'everything' }));
  host.handle(ev('cancel', { what: 'grid', lane: 'viewer#1:grid' }));
  await settle();
  assert.deepEqual(renders, [undefined, 3, 0]);
  assert.deepEqual(cancels, ['grid', 'interp']);
  assert.equal(invalid.length, 7);
  const state = { v: 1, snapshot: PKL, seeds: '0-15', cols: 4, which: 'G_ema', psi: 1, noiseMode: 'const', noiseSeed: 0, interp: { a: 0, b: 1, steps: 9, mode: 'slerp', open: false } };
  assert.ok(isViewerPanelState(state));
  assert.ok(isViewerPanelState({ ...state, label: 2 }));
  assert.equal(isViewerPanelState({ ...state, label: -2 }), false);
});

test('segmentation guards: the segment request takes an optional class index', async () => {
  const invalid: string[] = [];
  const host = new MessageHandler<SegmentationHostApi, SegmentationWebviewApi>({ post: () => undefined, validators: segmentationHostValidators, onInvalid: (r) => invalid.push(r) });
  const labels: Array<number | undefined> = [];
  host.onRequest('segment', (p) => { labels.push(p.label); return { cancelled: true as const }; });
  const seg = { seeds: '0-7', resolutions: [8, 16], k: 6, metric: 'cosine', psi: 1, reals: true };
  host.handle(req(1, 'segment', seg));
  host.handle(req(2, 'segment', { ...seg, label: 4 }));
  host.handle(req(3, 'segment', { ...seg, label: 'four' }));
  host.handle(req(4, 'segment', { ...seg, label: -1 }));
  await settle();
  assert.deepEqual(labels, [undefined, 4]);
  assert.equal(invalid.length, 2);
  const state = { v: 1, snapshot: PKL, seeds: '0-7', resolutions: [8], k: 6, metric: 'cosine', psi: 1, reals: true, view: 'maps', opacity: 0.5, selected: null, acrossRes: 8, acrossSeeds: '0-3' };
  assert.ok(isSegmentationPanelState({ ...state, label: 1 }));
  assert.equal(isSegmentationPanelState({ ...state, label: 0.5 }), false);
});
