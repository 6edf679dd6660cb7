import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { compareFigures, compareInfo, fakesGrids, loadCompareRuns, officialPickles, pickleFor, readCompareSeries } from '../../../src/host/panels/compareData';
import { MessageHandler, type RpcEnvelope } from '../../../src/shared/protocol/rpc';
import { compareHostValidators, isComparePanelState, type CompareHostApi, type CompareWebviewApi } from '../../../src/shared/protocol/panels/compare';
import { BASE_NAME, GGDR_NAME, makeTmp, officialRuns, ourRuns, rmTmp } from './helpers';

let root: string;
let off: { ggdr: string; base: string };
let our: { ggdr: string; base: string };

before(async () => {
  root = await makeTmp('gi-compare-data-');
  off = await officialRuns(root);
  our = await ourRuns(root);
});
after(() => rmTmp(root));

test('scalar series: official GGDR term read from Loss/D/loss_gen_reg, aligned by Progress/kimg; absent → empty', async () => {
  const { runs, errors } = await loadCompareRuns([off.ggdr, off.base, our.ggdr], () => false);
  assert.deepEqual(errors, []);
  const [g, b, o] = await Promise.all(runs.map((r) => readCompareSeries(r, 'Loss/D/ggdr')));
  assert.equal(g.sourceKey, 'Loss/D/loss_gen_reg');
  assert.equal(g.kimg.length, 4);
  assert.equal(g.kimg[3], 12);
  assert.ok(Math.abs(g.value[0]! - 10.4039) < 1e-3, 'the official GGDR term starts near 10.4');
  assert.ok(g.value[1]! < 6);
  assert.deepEqual([b.sourceKey, b.kimg, b.value], [null, [], []], 'the baseline has no GGDR term');
  assert.equal(o.sourceKey, null, 'the synthetic run logs Loss/D/loss_ggdr, not Loss/D/ggdr');
  // Every run has Loss/G/loss; x is kimg, values are the means.
  const gl = await readCompareSeries(runs[2], 'Loss/G/loss');
  assert.deepEqual(gl.kimg, [1, 2, 3]);
  assert.deepEqual(gl.value, [1.6, 2.6, 3.6].map((v) => v + 0)); // mean of [0.5+t, 0.7+t]
  // Metric series: one point per evaluated snapshot.
  const fid = await readCompareSeries(runs[0], 'Metrics/fid50k_full');
  assert.deepEqual(fid.kimg, [0, 4, 8, 12]);
  assert.equal(fid.value[3], 243.0417);
  assert.equal(fid.sourceKey, 'metric-fid50k_full.jsonl');
  assert.deepEqual((await readCompareSeries(runs[2], 'Metrics/fid50k_full')).kimg, []);
});

test('grids, figures and unreadable folders', async () => {
  const missing = path.join(root, 'runs', '00099-gone');
  const { runs, errors } = await loadCompareRuns([off.ggdr, missing, our.base], () => false);
  assert.equal(runs.length, 2);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /^00099-gone: Run folder not found/);
  assert.deepEqual(fakesGrids(runs[0].view).map((g) => [g.file, g.kimg, g.snapshot]), [['fakes000012.png', 12, false]], 'official: this run folder kept no .pkl');
  assert.deepEqual(fakesGrids(runs[1].view).map((g) => [g.kimg, g.snapshot]), [[1, true], [2, true], [3, true]]);
  const f = compareFigures(runs);
  assert.deepEqual(f.table.rows.map((r) => r.run), [GGDR_NAME, path.basename(our.base)]);
  // One run per trainer: each option is compared only within its trainer, so nothing differs.
  assert.deepEqual(f.optionDiff.rows, []);
  assert.ok(f.optionDiff.totalKeys > 50);
});

test('official runs with .pkl snapshots: same-seed cells are rendered from the pickle at or before the kimg; the note says so', async () => {
  const dir = path.join(root, 'with-pkl', path.basename(off.ggdr));
  fs.cpSync(off.ggdr, dir, { recursive: true });
  // What the Runs view's reader checks of a pickle: its first bytes (the safe unpickler reads the rest when it is opened).
  const pickle = Buffer.from([0x80, 0x04, 0x95, 0x00, 0x2e]);
  fs.writeFileSync(path.join(dir, 'network-snapshot-000004.pkl'), pickle);
  fs.writeFileSync(path.join(dir, 'network-snapshot-000012.pkl'), pickle);
  fs.writeFileSync(path.join(dir, 'network-snapshot-000008.pkl'), ''); // an interrupted copy: listed, not loadable
  const { runs } = await loadCompareRuns([dir, off.base, our.base], () => false);
  assert.deepEqual(officialPickles(runs[0].view).map((p) => [p.name, p.kimg]), [['network-snapshot-000004.pkl', 4], ['network-snapshot-000012.pkl', 12]]);
  assert.deepEqual(fakesGrids(runs[0].view).map((g) => [g.file, g.snapshot]), [['fakes000012.png', true]]);
  const info = compareInfo(runs, [], (f) => `uri:${path.basename(f)}`);
  const [withPkl, noPkl, ours] = info.runs;
  assert.deepEqual(withPkl.pickles, [4, 12]);
  assert.equal(withPkl.seedCells, false, 'its saved grids still use the official latents');
  assert.match(withPkl.note ?? '', /renders the seeds from its \.pkl snapshot/);
  assert.match(withPkl.note ?? '', /numpy RandomState/);
  assert.doesNotMatch(withPkl.note ?? '', /cannot be loaded/);
  assert.deepEqual(noPkl.pickles, []);
  assert.match(noPkl.note ?? '', /no loadable \.pkl snapshot/);
  assert.equal(ours.pickles, undefined);
  assert.equal(ours.note, undefined);
  // Which pickle a kimg renders: the newest at or before it, else the oldest; 'latest' the newest.
  const pk = officialPickles(runs[0].view);
  assert.deepEqual(['latest', '12', '11.5', '4', '0', '100'].map((k) => pickleFor(pk, k)?.kimg), [12, 12, 4, 4, 4, 12]);
  assert.equal(pickleFor([], 'latest'), undefined);
});

test('the same folder name under two roots gets its parent folder prefixed', async () => {
  const other = path.join(root, 'elsewhere');
  await fsp.mkdir(other);
  const copy = path.join(other, BASE_NAME);
  fs.cpSync(off.base, copy, { recursive: true });
  const { runs } = await loadCompareRuns([off.base, copy], () => false);
  assert.deepEqual(runs.map((r) => r.summary.name), [`training-runs/${BASE_NAME}`, `elsewhere/${BASE_NAME}`]);
  assert.equal(new Set(compareFigures(runs).table.rows.map((r) => r.run)).size, 2);
});

test('the stats key cache notices an appended key', async () => {
  const dir = path.join(root, 'runs');
  const run = (await loadCompareRuns([our.ggdr], () => false)).runs[0];
  assert.ok(!run.statKeys.includes('Loss/D/ggdr'));
  fs.appendFileSync(path.join(our.ggdr, 'stats.jsonl'), JSON.stringify({ timestamp: 1_700_000_010, 'Loss/D/ggdr': { num: 1, mean: 4, std: 0 }, 'Progress/kimg': { num: 1, mean: 4, std: 0 } }) + '\n');
  const again = (await loadCompareRuns([our.ggdr], () => false)).runs[0];
  assert.ok(again.statKeys.includes('Loss/D/ggdr'));
  const s = await readCompareSeries(again, 'Loss/D/ggdr');
  assert.deepEqual([s.kimg, s.value], [[1, 2, 3, 4], [null, null, null, 4]]);
  assert.ok(fs.existsSync(dir));
});

const ev = (name: string, payload: unknown): RpcEnvelope => ({ rpc: 1, kind: 'event', name, payload });
const req = (id: number, name: string, params: unknown): RpcEnvelope => ({ rpc: 1, kind: 'request', id, name, params });

test('compare panel: the host accepts exactly the valid webview messages', async () => {
  const invalid: string[] = [];
  const sent: RpcEnvelope[] = [];
  const host = new MessageHandler<CompareHostApi, CompareWebviewApi>({ post: (m) => { sent.push(m); }, validators: compareHostValidators, onInvalid: (r) => invalid.push(r) });
  const opened: string[] = [];
  const keys: string[] = [];
  const formats: string[] = [];
  host.on('openLossCurves', (p) => opened.push(p.run));
  host.onRequest('series', (p) => { keys.push(p.key); return { key: p.key, runs: [] }; });
  host.onRequest('exportTable', (p) => { formats.push(p.format); return { cancelled: true as const }; });
  const cells: string[] = [];
  host.onRequest('renderCells', (p) => { cells.push(`${p.run}|${p.kimg}|${p.seeds}`); return { cancelled: true as const }; });
  host.handle(ev('openLossCurves', { run: '00000-x' }));
  host.handle(req(1, 'series', { key: 'Loss/G/loss' }));
  host.handle(req(2, 'exportTable', { format: 'csv' }));
  host.handle(req(3, 'exportTable', { format: 'markdown' }));
  // Invalid: paths smuggled as extra keys, wrong enums/types, oversize, empty.
  host.handle(ev('openLossCurves', { run: '00000-x', dir: '/etc' }));
  host.handle(ev('openLossCurves', { run: '' }));
  host.handle(ev('openLossCurves', { run: 'x'.repeat(513) }));
  host.handle(req(4, 'series', { key: '' }));
  host.handle(req(5, 'series', { key: 'Loss/G/loss', run: '/x' }));
  host.handle(req(6, 'exportTable', { format: 'xlsx' }));
  host.handle(req(7, 'exportTable', { format: 'csv', file: '/etc/passwd' }));
  host.handle(req(8, 'hello', { runDirs: ['/'] }));
  host.handle(req(9, 'renderCells', { run: '00000-x', kimg: 'latest', seeds: '0-7' }));
  host.handle(req(10, 'renderCells', { run: '00000-x', kimg: '12.5', seeds: '1,5' }));
  // Invalid: a path instead of a run name, a kimg that is not a number, no seeds, a snapshot path smuggled in.
  host.handle(req(11, 'renderCells', { run: '00000-x', kimg: 'first', seeds: '0-7' }));
  host.handle(req(12, 'renderCells', { run: '00000-x', kimg: '-1', seeds: '0-7' }));
  host.handle(req(13, 'renderCells', { run: '00000-x', kimg: 'latest', seeds: ' ' }));
  host.handle(req(14, 'renderCells', { run: '00000-x', kimg: 'latest', seeds: '0', snapshot: '/etc/x.pkl' }));
  host.handle(req(15, 'renderCells', { run: '', kimg: 'latest', seeds: '0' }));
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(opened, ['00000-x']);
  assert.deepEqual(keys, ['Loss/G/loss']);
  assert.deepEqual(formats, ['csv', 'markdown']);
  assert.deepEqual(cells, ['00000-x|latest|0-7', '00000-x|12.5|1,5']);
  assert.equal(invalid.length, 13);
  const replies = sent.filter((m): m is Extract<RpcEnvelope, { kind: 'reply' }> => m.kind === 'reply');
  assert.deepEqual(replies.map((r) => [r.id, r.ok]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [[1, true], [2, true], [3, true], [4, false], [5, false], [6, false], [7, false], [8, false], [9, true], [10, true], [11, false], [12, false], [13, false], [14, false], [15, false]]);
});

test('persisted compare panel state is validated before the serializer reopens runs', () => {
  const good = { v: 1, runDirs: ['/r/00000-a', '/r/00001-b'], scalar: 'Loss/G/loss', smoothing: 0.6, log: false, gridKimg: 'latest', gridMode: 'grids', seeds: '0-7', hidden: [] };
  assert.ok(isComparePanelState(good));
  for (const bad of [
    null, {}, { ...good, v: 2 }, { ...good, runDirs: [] }, { ...good, runDirs: [''] }, { ...good, runDirs: new Array(17).fill('/r') },
    { ...good, smoothing: 1 }, { ...good, log: 'no' }, { ...good, gridMode: 'tiles' }, { ...good, seeds: 's'.repeat(401) }, { ...good, hidden: [1] },
  ]) {
    assert.equal(isComparePanelState(bad), false, JSON.stringify(bad));
  }
});
