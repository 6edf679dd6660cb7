import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildCompareTable, buildOptionDiff, csvField, defaultScalar, formatCell, markdownCell, metricFigures, metricSeries, scalarCatalog,
  snapshotKimg, tableToCsv, tableToMarkdown, GGDR_STAT_KEY,
} from '../../../src/core/runs/compareTable';
import type { CompareTable } from '../../../src/shared/protocol/panels/compare';
import { loadCompareRuns, type LoadedRun } from '../../../src/host/panels/compareData';
import { BASE_NAME, GGDR_NAME, makeTmp, metricLine, officialRuns, ourRuns, rmTmp } from './helpers';

let root: string;
let official: LoadedRun[];
let ours: LoadedRun[];
const notOwned = () => false;

before(async () => {
  root = await makeTmp('gi-compare-');
  const o = await officialRuns(root);
  const u = await ourRuns(root);
  official = (await loadCompareRuns([o.ggdr, o.base], notOwned)).runs;
  ours = (await loadCompareRuns([u.ggdr, u.base], notOwned)).runs;
});
after(() => rmTmp(root));

const cell = (t: CompareTable, run: string, col: string) => {
  const row = t.rows.find((r) => r.run === run);
  assert.ok(row, `row ${run}`);
  assert.ok(col in row.cells, `column ${col} of ${run}`);
  return row.cells[col];
};

test('snapshot names → kimg: official .pkl, our folders, fractional tags', () => {
  assert.equal(snapshotKimg('network-snapshot-000012.pkl'), 12);
  assert.equal(snapshotKimg('network-snapshot-000004'), 4);
  assert.equal(snapshotKimg('network-snapshot-000000.048'), 0.048);
  assert.equal(snapshotKimg('network-snapshot-000002.500/'), 2.5);
  assert.equal(snapshotKimg('something-else.pkl'), null);
});

test('official fixtures: table rows with final/best FID and the kimg where reached', () => {
  const t = buildCompareTable(official);
  assert.deepEqual(t.rows.map((r) => r.run), [GGDR_NAME, BASE_NAME]);
  assert.equal(cell(t, GGDR_NAME, 'ggdr'), 'on');
  assert.equal(cell(t, BASE_NAME, 'ggdr'), 'off');
  for (const run of [GGDR_NAME, BASE_NAME]) {
    assert.equal(cell(t, run, 'origin'), 'stylegan2-ada');
    assert.equal(cell(t, run, 'state'), 'finished');
    assert.equal(cell(t, run, 'dataset'), 'shapes32.zip');
    assert.equal(cell(t, run, 'backend'), 'pytorch');
    assert.equal(cell(t, run, 'preset'), null);
    assert.equal(cell(t, run, 'seed'), 0);
    assert.equal(cell(t, run, 'total_kimg'), 12);
    assert.ok((cell(t, run, 'kimg') as number) >= 12);
    assert.ok((cell(t, run, 'sec_per_kimg') as number) > 10, 'sec/kimg from the last stats line');
  }
  // The hand-made lines: FID falls at every snapshot, so best = final at kimg 12.
  assert.equal(cell(t, GGDR_NAME, 'fid50k_full.final'), 243.0417);
  assert.equal(cell(t, GGDR_NAME, 'fid50k_full.final_kimg'), 12);
  assert.equal(cell(t, GGDR_NAME, 'fid50k_full.best'), 243.0417);
  assert.equal(cell(t, BASE_NAME, 'fid50k_full.best'), 262.8861);
  assert.equal(cell(t, BASE_NAME, 'fid50k_full.best_kimg'), 12);
  const cols = t.columns.map((c) => c.id);
  assert.deepEqual(cols.slice(-4), ['fid50k_full.final', 'fid50k_full.final_kimg', 'fid50k_full.best', 'fid50k_full.best_kimg']);
});

test('our runs: best FID is not the final one; KID columns; a run without a metric gets empty cells', () => {
  const t = buildCompareTable(ours);
  const [a, b] = t.rows.map((r) => r.run);
  assert.match(a, /^00000-shapes32-tiny-ggdr$/);
  assert.equal(cell(t, a, 'origin'), 'gan-inspector');
  assert.equal(cell(t, a, 'preset'), 'tiny');
  assert.equal(cell(t, a, 'backend'), 'wasm');
  assert.equal(cell(t, a, 'seed'), 7);
  assert.equal(cell(t, a, 'total_kimg'), 3);
  assert.equal(cell(t, a, 'kimg'), 3);
  assert.equal(cell(t, a, 'sec_per_kimg'), 20);
  assert.equal(cell(t, a, 'ggdr'), 'on');
  assert.equal(cell(t, b, 'ggdr'), 'off');
  assert.equal(cell(t, a, 'fid2k_lenet.final'), 65);
  assert.equal(cell(t, a, 'fid2k_lenet.final_kimg'), 3);
  assert.equal(cell(t, a, 'fid2k_lenet.best'), 60);
  assert.equal(cell(t, a, 'fid2k_lenet.best_kimg'), 2);
  assert.equal(cell(t, b, 'fid2k_lenet.best'), 70);
  assert.equal(cell(t, a, 'kid2k_lenet.best'), 0.05 / 3);
  assert.equal(cell(t, a, 'kid2k_lenet.best_kimg'), 3);
  // Fractional snapshot tag (tiny preset) parsed as kimg 0.048.
  assert.equal(cell(t, b, 'kid2k_lenet.final_kimg'), 0.048);
  // fid before kid, each with four columns.
  assert.deepEqual(t.columns.filter((c) => c.metric).map((c) => c.id), [
    'fid2k_lenet.final', 'fid2k_lenet.final_kimg', 'fid2k_lenet.best', 'fid2k_lenet.best_kimg',
    'kid2k_lenet.final', 'kid2k_lenet.final_kimg', 'kid2k_lenet.best', 'kid2k_lenet.best_kimg',
  ]);
  // Mixed: official and ours together; missing metrics are null, not 0.
  const mixed = buildCompareTable([...official, ...ours]);
  assert.equal(cell(mixed, GGDR_NAME, 'fid2k_lenet.best'), null);
  assert.equal(cell(mixed, a, 'fid50k_full.best'), null);
});

test('metric series: several results per line, NaN dropped, higher-is-better metrics', () => {
  const s = metricSeries({
    pr50k3_full: [
      { ...metricLine('pr50k3_full', 0, 'network-snapshot-000004.pkl', 2), results: { pr50k3_full_precision: 0.6, pr50k3_full_recall: 0.2 } },
      { ...metricLine('pr50k3_full', 0, 'network-snapshot-000008.pkl', 3), results: { pr50k3_full_precision: 0.5, pr50k3_full_recall: NaN } },
    ],
  });
  assert.deepEqual(s.map((x) => x.name), ['pr50k3_full/pr50k3_full_precision', 'pr50k3_full/pr50k3_full_recall']);
  assert.equal(s[1].points.length, 1);
  const f = metricFigures(s[0]);
  assert.deepEqual(f.best, { value: 0.6, kimg: 4 }, 'precision: higher is better');
  assert.deepEqual(f.final, { value: 0.5, kimg: 8 });
  assert.deepEqual(metricFigures(undefined), { final: null, best: null, count: 0 });
});

test('option diff: official pair differs in reg_type, the GGDR loss/decoder and paths; equal options are left out', () => {
  const d = buildOptionDiff(official.map((r) => ({ run: r.summary.name, options: r.options })));
  const keys = d.rows.map((r) => r.key);
  const row = (k: string) => d.rows.find((r) => r.key === k)!;
  assert.deepEqual(d.runs, [GGDR_NAME, BASE_NAME]);
  assert.deepEqual(row('reg_type').values.map((v) => v.text), ['ggdr', 'none']);
  assert.deepEqual(row('loss_kwargs.ggdr_res').values.map((v) => [v.present, v.text]), [[true, '8'], [false, '—']]);
  assert.deepEqual(row('D_kwargs.decoder_res').values.map((v) => v.present), [true, false]);
  assert.ok(keys.includes('loss_kwargs.class_name'));
  assert.ok(keys.includes('run_dir'));
  for (const same of ['total_kimg', 'batch_size', 'random_seed', 'G_opt_kwargs.betas', 'training_set_kwargs.path']) assert.ok(!keys.includes(same), same);
  assert.ok(d.totalKeys > d.rows.length);
  assert.deepEqual(keys, [...keys].sort());

  // Our GGDR/baseline pair differs only in ggdr.enabled.
  const o = buildOptionDiff(ours.map((r) => ({ run: r.summary.name, options: r.options })));
  assert.deepEqual(o.rows.map((r) => [r.key, r.values.map((v) => v.text)]), [['ggdr.enabled', ['true', 'false']]]);

  // A run without options is listed as missing, not diffed as "everything differs".
  const m = buildOptionDiff([...ours.map((r) => ({ run: r.summary.name, options: r.options })), { run: 'x', options: null, error: 'no training_options.json' }]);
  assert.equal(m.rows.length, 1);
  assert.deepEqual(m.missing, [{ run: 'x', reason: 'no training_options.json' }]);
  // Mixed trainers: each key is compared among the runs of the trainer(s) that use it.
  const mixed = buildOptionDiff([...official, ...ours].map((r) => ({ run: r.summary.name, options: r.options, group: r.summary.origin })));
  const mk = mixed.rows.map((r) => r.key);
  assert.ok(mk.includes('reg_type') && mk.includes('ggdr.enabled') && !mk.includes('total_kimg') && !mk.includes('kimg'));
  assert.ok(!mk.includes('metrics'), 'both trainers have metrics: [] → same');
  const reg = mixed.rows.find((r) => r.key === 'reg_type')!;
  assert.deepEqual(reg.values.map((v) => v.text), ['ggdr', 'none', 'n/a', 'n/a']);
  assert.equal(reg.values[2].na, true);
  assert.equal(mixed.rows.length, 8);
  // Arrays and nested values compare by content, key order ignored.
  const n = buildOptionDiff([{ run: 'a', options: { m: [1, { x: 1, y: 2 }], k: NaN } }, { run: 'b', options: { m: [1, { y: 2, x: 1 }], k: NaN } }]);
  assert.deepEqual(n.rows, []);
});

test('scalar catalogue: official Loss/D/loss_gen_reg is their GGDR term; metrics listed; default is FID', () => {
  const sc = scalarCatalog(official.map((r) => ({ origin: r.summary.origin, statKeys: r.statKeys, metricNames: r.series.map((s) => s.name) })));
  const keys = sc.map((s) => s.key);
  assert.ok(!keys.includes('Loss/D/loss_gen_reg'));
  const g = sc.find((s) => s.key === GGDR_STAT_KEY)!;
  assert.equal(g.runs, 1, 'only the GGDR run logs it');
  assert.match(g.label, /official runs: Loss\/D\/loss_gen_reg/);
  assert.equal(sc.find((s) => s.key === 'Loss/G/loss')!.runs, 2);
  assert.equal(keys[0], 'Metrics/fid50k_full');
  assert.equal(defaultScalar(sc), 'Metrics/fid50k_full');
  assert.ok(keys.indexOf('Loss/G/loss') < keys.indexOf('Progress/kimg'));
  assert.equal(defaultScalar(scalarCatalog([{ origin: 'gan-inspector', statKeys: ['Progress/kimg', 'Loss/G/loss'], metricNames: [] }])), 'Loss/G/loss');
});

test('CSV export: RFC 4180 quoting, formula guard, full precision, empty for missing', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(' padded'), '" padded"');
  assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvField('-1+2'), "'-1+2");
  assert.equal(csvField(-1.5), '-1.5', 'numbers are not guarded');
  assert.equal(csvField(0.016666666666666666), '0.016666666666666666');
  assert.equal(csvField(null), '');
  const t: CompareTable = {
    columns: [{ id: 'run', label: 'Run', kind: 'text' }, { id: 'fid.best', label: 'fid best', kind: 'number', format: 'metric', metric: 'fid' }],
    rows: [{ run: 'r,1', cells: { run: 'r,1', 'fid.best': 12.3456789 } }, { run: 'r2', cells: { run: 'r2', 'fid.best': null } }],
  };
  assert.equal(tableToCsv(t), 'run,fid.best\r\n"r,1",12.3456789\r\nr2,\r\n');
  const csv = tableToCsv(buildCompareTable(official));
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines.length, 3);
  assert.ok(lines[0].startsWith('run,origin,state,ggdr,dataset,preset,backend,seed,kimg,total_kimg,sec_per_kimg,fid50k_full.final'));
  assert.ok(lines[1].startsWith(`${GGDR_NAME},stylegan2-ada,finished,on,shapes32.zip,,pytorch,0,`));
  assert.ok(lines[1].endsWith(',243.0417,12,243.0417,12'));
});

test('Markdown export: escaped cells, right-aligned numbers, formatted values, option diff section', () => {
  assert.equal(markdownCell('a|b'), 'a\\|b');
  assert.equal(markdownCell('x\ny'), 'x<br>y');
  assert.equal(markdownCell('back\\slash'), 'back\\\\slash');
  assert.equal(markdownCell('fid2k_lenet'), 'fid2k_lenet', 'intraword underscore kept');
  assert.equal(markdownCell('_em_ *b* `c` [l](u) <i>'), '\\_em\\_ \\*b\\* \\`c\\` \\[l\\](u) \\<i\\>');
  assert.equal(formatCell({ id: 'x', label: 'x', kind: 'number', format: 'metric' }, 243.04171234), '243.04');
  assert.equal(formatCell({ id: 'x', label: 'x', kind: 'number', format: 'kimg' }, 0.0480000001), '0.048');
  assert.equal(formatCell({ id: 'x', label: 'x', kind: 'number', format: 'sec' }, 44.81), '44.8');
  const t = buildCompareTable(official);
  const md = tableToMarkdown(t, { title: 'A | B', optionDiff: buildOptionDiff(official.map((r) => ({ run: r.summary.name, options: r.options }))) });
  const lines = md.split('\n');
  assert.equal(lines[0], '# A \\| B');
  assert.match(lines[2], /^\| Run \| Trainer \| State \| GGDR \|/);
  assert.match(lines[3], /^\| --- \| --- \|.* ---: \|$/);
  assert.ok(lines[4].includes(`| ${GGDR_NAME} | stylegan2-ada | finished | on | shapes32.zip | — | pytorch | 0 |`));
  assert.ok(lines[4].endsWith('| 243.04 | 12 | 243.04 | 12 |'));
  // Every table line has the same number of unescaped pipes.
  const pipes = (l: string) => l.replace(/\\\|/g, '').split('|').length;
  assert.equal(new Set(lines.slice(2, 6).map(pipes)).size, 1);
  assert.ok(md.includes('## Options that differ ('));
  assert.ok(md.includes('| reg_type | ggdr | none |'), 'reg_type row');
});
