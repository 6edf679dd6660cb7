import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readJsonlTail, readMetrics, readStats } from '../../../src/core/runs/jsonlRead';
import { diffOptions } from '../../../src/core/runs/optionDiff';
import { listRuns, readRun } from '../../../src/core/runs/readRun';
import { readRunOptions } from '../../../src/core/runs/readRunFiles';
import { checkSnapshotFolder, manifestWeightBytes } from '../../../src/core/runs/snapshotCheck';
import { asStatsLine } from '../../../src/shared/jsonl';
import { snapshotName } from '../../../src/core/runs/runDir';
import { isUserError } from '../../../src/core/errors';
import { buildOurRun, copyRun, FIXTURE_BASE, FIXTURE_GGDR, FIXTURE_METRICS, FIXTURE_RUNS, makeTmp, rmTmp, WEIGHT_BYTES, writeSnapshot } from './helpers';

test('official GGDR run: GGDR on, settings, finished, grids', async () => {
  const s = await readRun(FIXTURE_GGDR);
  assert.equal(s.origin, 'stylegan2-ada');
  assert.equal(s.id, 0);
  assert.equal(s.name, '00000-shapes32-cifartiny-kimg12-batch16-noaug');
  assert.equal(s.ggdr, true);
  assert.equal(s.ggdrRes, 8);
  assert.equal(s.ggdrWeight, 10);
  assert.deepEqual([s.resolution, s.batch, s.totalKimg, s.seed, s.dataset, s.backend], [32, 16, 12, 0, 'shapes32.zip', 'pytorch']);
  assert.equal(s.state, 'finished');
  assert.equal(s.curKimg, 12);
  assert.ok(s.secPerKimg !== undefined && Math.abs(s.secPerKimg - 33.76) < 0.05, String(s.secPerKimg));
  assert.deepEqual(s.grids, ['fakes_init.png', 'fakes000012.png']);
  assert.deepEqual(s.snapshots, []);
  assert.deepEqual(s.metrics, []);
  assert.equal(s.lastError, undefined);
  assert.ok(s.mtime > 0);
});

test('official baseline run: GGDR off, no GGDR resolution', async () => {
  const s = await readRun(FIXTURE_BASE);
  assert.equal(s.origin, 'stylegan2-ada');
  assert.equal(s.ggdr, false);
  assert.equal(s.ggdrRes, undefined);
  assert.equal(s.ggdrWeight, undefined);
  assert.equal(s.state, 'finished');
  assert.equal(s.id, 1);
});

test('listRuns on the official fixture root: both runs, newest first; missing root → []', async () => {
  const runs = await listRuns(FIXTURE_RUNS);
  assert.deepEqual(runs.map((r) => [r.id, r.ggdr]), [[1, false], [0, true]]);
  assert.deepEqual(await listRuns(path.join(FIXTURE_RUNS, 'does-not-exist')), []);
  await assert.rejects(listRuns(path.join(FIXTURE_GGDR, 'log.txt')), isUserError);
  await assert.rejects(readRun(path.join(FIXTURE_RUNS, 'nope')), isUserError);
});

test('official .pkl snapshots are listed, sorted, loadable when they look like pickles; empty or foreign files are not; temp leftovers ignored', async () => {
  const tmp = await makeTmp();
  try {
    const dir = await copyRun(FIXTURE_GGDR, tmp);
    const content: Record<number, Uint8Array> = { 0: new Uint8Array([0x80, 0x04, 0x95]), 4: new Uint8Array(0), 8: new Uint8Array(Buffer.from('hello')), 12: new Uint8Array([0x80, 0x02]) };
    for (const k of [12, 0, 8, 4]) await fsp.writeFile(path.join(dir, `network-snapshot-${String(k).padStart(6, '0')}.pkl`), content[k]);
    await fsp.writeFile(path.join(dir, '.network-snapshot-000016.pkl.123.abcd1234.tmp'), 'partial');
    await fsp.mkdir(path.join(dir, '.network-snapshot-000016.99.deadbeef.tmpdir'));
    const s = await readRun(dir);
    assert.deepEqual(s.snapshots.map((x) => [x.name, x.kimg, x.loadable]), [
      ['network-snapshot-000000.pkl', 0, true],
      ['network-snapshot-000004.pkl', 4, false],
      ['network-snapshot-000008.pkl', 8, false],
      ['network-snapshot-000012.pkl', 12, true],
    ]);
    assert.match(s.snapshots[1].reason!, /empty file \(0 bytes\)/);
    assert.match(s.snapshots[2].reason!, /not a pickle/);
    assert.ok(s.snapshots.every((x) => x.path === path.join(dir, x.name)));
    assert.equal(s.origin, 'stylegan2-ada');
  } finally {
    await rmTmp(tmp);
  }
});

test('official run state inference: unfinished → unknown, traceback → failed, metrics read', async () => {
  const tmp = await makeTmp();
  try {
    const dir = await copyRun(FIXTURE_GGDR, tmp);
    const stats = (await fsp.readFile(path.join(dir, 'stats.jsonl'), 'utf8')).split('\n');
    await fsp.writeFile(path.join(dir, 'stats.jsonl'), stats.slice(0, 2).join('\n') + '\n');
    const log = await fsp.readFile(path.join(dir, 'log.txt'), 'utf8');
    const cut = log.slice(0, log.indexOf('tick 2'));
    await fsp.writeFile(path.join(dir, 'log.txt'), cut);
    let s = await readRun(dir);
    assert.equal(s.state, 'unknown');
    assert.ok(Math.abs(s.curKimg - 4.016) < 1e-4);

    await fsp.writeFile(path.join(dir, 'log.txt'), cut + 'Traceback (most recent call last):\n  File "train.py", line 1\nRuntimeError: CUDA out of memory\n');
    s = await readRun(dir);
    assert.equal(s.state, 'failed');
    assert.equal(s.lastError, 'RuntimeError: CUDA out of memory');

    // Without log.txt, reaching total_kimg in the stats is enough to call it finished.
    await fsp.rm(path.join(dir, 'log.txt'));
    await fsp.writeFile(path.join(dir, 'stats.jsonl'), stats.join('\n'));
    s = await readRun(dir);
    assert.equal(s.state, 'finished');

    const sample = path.join(FIXTURE_METRICS, path.basename(FIXTURE_GGDR), 'metric-fid50k_full.HANDMADE.jsonl');
    await fsp.copyFile(sample, path.join(dir, 'metric-fid50k_full.jsonl'));
    await fsp.appendFile(path.join(dir, 'metric-fid50k_full.jsonl'), 'garbage\n{"results": {"fid50k_full": 1.0}');
    const metrics = await readMetrics(dir);
    assert.deepEqual(Object.keys(metrics), ['fid50k_full']);
    assert.deepEqual(metrics.fid50k_full.map((m) => m.snapshot_pkl), ['network-snapshot-000000.pkl', 'network-snapshot-000004.pkl', 'network-snapshot-000008.pkl', 'network-snapshot-000012.pkl']);
    assert.equal(metrics.fid50k_full[3].results.fid50k_full, 243.0417);
    assert.deepEqual((await readRun(dir)).metrics, ['fid50k_full']);
    assert.deepEqual(await readMetrics(path.join(tmp, 'missing')), {});
  } finally {
    await rmTmp(tmp);
  }
});

test('our synthetic run: options, status, snapshots, grids; listRuns mixes both origins', async () => {
  const tmp = await makeTmp();
  try {
    const runsRoot = path.join(tmp, 'runs');
    await copyRun(FIXTURE_GGDR, runsRoot);
    const ours = await buildOurRun(runsRoot); // gets id 1 (after the copied 00000)
    const base = await buildOurRun(runsRoot, { ggdr: false, desc: 'shapes32-tiny-base', finish: false });
    const s = await readRun(ours.dir);
    assert.equal(s.origin, 'gan-inspector');
    assert.equal(s.id, 1);
    assert.deepEqual([s.ggdr, s.ggdrRes, s.ggdrWeight], [true, 8, 10]);
    assert.deepEqual([s.resolution, s.batch, s.totalKimg, s.seed, s.preset, s.dataset, s.backend], [16, 4, 3, 7, 'tiny', 'shapes32.zip', 'wasm']);
    assert.deepEqual([s.state, s.curKimg, s.secPerKimg], ['finished', 3, 20]);
    assert.deepEqual(s.grids, ['reals.png', 'fakes_init.png', 'fakes000001.png', 'fakes000002.png', 'fakes000003.png']);
    assert.deepEqual(s.snapshots.map((x) => [x.name, x.kimg, x.loadable]), [1, 2, 3].map((k) => [snapshotName(k), k, true]));
    assert.equal(s.lastError, null);

    const b = await readRun(base.dir);
    assert.deepEqual([b.ggdr, b.ggdrRes, b.state], [false, undefined, 'running']); // our own pid: alive

    const all = await listRuns(runsRoot);
    assert.deepEqual(all.map((r) => [r.id, r.origin]), [[2, 'gan-inspector'], [1, 'gan-inspector'], [0, 'stylegan2-ada']]);

    const { lines, skipped } = await readStats(path.join(ours.dir, 'stats.jsonl'));
    assert.equal(skipped, 0);
    const g = lines.map((l) => l['Loss/G/loss'] as { num: number; mean: number; std: number });
    assert.deepEqual(g.map((v) => v.num), [2, 2, 2]);
    g.forEach((v, i) => {
      assert.ok(Math.abs(v.mean - (1.6 + i)) < 1e-12);
      assert.ok(Math.abs(v.std - 0.1) < 1e-12);
    });
    const only = await readStats(path.join(ours.dir, 'stats.jsonl'), { keep: (k) => k.startsWith('Progress/') });
    assert.deepEqual(Object.keys(only.lines[0]).sort(), ['Progress/kimg', 'timestamp']);
  } finally {
    await rmTmp(tmp);
  }
});

test('snapshot folders: incomplete or corrupt ones are listed as not loadable, with the reason', async () => {
  const tmp = await makeTmp();
  try {
    const r = await buildOurRun(tmp);
    const dir = r.dir;
    await writeSnapshot(dir, 10, WEIGHT_BYTES - 4); // short weights.bin
    const s11 = path.join(dir, snapshotName(11));
    await fsp.mkdir(s11);
    await fsp.writeFile(path.join(s11, 'weights.bin'), Buffer.alloc(WEIGHT_BYTES)); // no snapshot.json
    const s12 = path.join(dir, snapshotName(12));
    await fsp.mkdir(s12);
    await fsp.writeFile(path.join(s12, 'snapshot.json'), JSON.stringify({ weightsManifest: [{ paths: ['weights.bin'], weights: [] }] })); // no weights.bin
    const s13 = path.join(dir, snapshotName(13));
    await fsp.mkdir(s13);
    await fsp.writeFile(path.join(s13, 'snapshot.json'), '{"weightsManifest": [');
    const s = await readRun(dir);
    const byKimg = Object.fromEntries(s.snapshots.map((x) => [x.kimg, x]));
    assert.equal(byKimg[3].loadable, true);
    assert.match(byKimg[10].reason ?? '', /weights\.bin hold 72 bytes, snapshot\.json describes 76/);
    assert.match(byKimg[11].reason ?? '', /snapshot\.json is missing/);
    assert.match(byKimg[12].reason ?? '', /weights\.bin is missing/);
    assert.match(byKimg[13].reason ?? '', /not valid JSON/);
    assert.ok([10, 11, 12, 13].every((k) => byKimg[k].loadable === false));
    assert.deepEqual((await checkSnapshotFolder(path.join(dir, snapshotName(1)))).loadable, true);
  } finally {
    await rmTmp(tmp);
  }
});

test('manifestWeightBytes: tfjs manifest forms, quantization, errors', () => {
  assert.deepEqual(manifestWeightBytes([{ paths: ['a.bin', 'b.bin'], weights: [{ name: 'w', shape: [2, 3], dtype: 'float32' }] }]), { bytes: 24, paths: ['a.bin', 'b.bin'] });
  assert.deepEqual(manifestWeightBytes({ weightSpecs: [{ name: 'q', shape: [10], dtype: 'float32', quantization: { dtype: 'uint8' } }, { name: 'b', shape: [], dtype: 'bool' }] }), { bytes: 11, paths: ['weights.bin'] });
  assert.ok('error' in manifestWeightBytes({}));
  assert.ok('error' in manifestWeightBytes({ weightsManifest: [{ weights: [{ name: 's', shape: [1], dtype: 'string' }] }] }));
});

test('corrupt training_options.json / status.json: the run still lists, with a note', async () => {
  const tmp = await makeTmp();
  try {
    const r = await buildOurRun(tmp);
    await fsp.writeFile(path.join(r.dir, 'training_options.json'), '{"format": "gan-inspector", "options": {');
    await fsp.writeFile(path.join(r.dir, 'status.json'), '');
    const s = await readRun(r.dir);
    assert.equal(s.state, 'unknown');
    assert.equal(s.curKimg, 3); // from the last stats line
    assert.match(s.lastError ?? '', /training_options\.json is not valid JSON/);
    assert.match(s.lastError ?? '', /status\.json is not valid JSON \(empty file\)/);
    assert.equal(s.snapshots.length, 3);
    assert.equal((await readRunOptions(r.dir)).kind, 'corrupt');

    await fsp.writeFile(path.join(r.dir, 'training_options.json'), '[1, 2]');
    await fsp.writeFile(path.join(r.dir, 'status.json'), '{"state": "exploded", "curKimg": 1}');
    const s2 = await readRun(r.dir);
    assert.match(s2.lastError ?? '', /not a JSON object/);
    assert.match(s2.lastError ?? '', /not hold a valid RunStatus/);
    assert.equal((await listRuns(tmp)).length, 1);
  } finally {
    await rmTmp(tmp);
  }
});

test('status "running" with a dead trainer pid reads as stopped', async () => {
  const tmp = await makeTmp();
  try {
    const r = await buildOurRun(tmp, { finish: false });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await r.status.update({ pid: Number(dead) });
    const s = await readRun(r.dir);
    assert.equal(s.state, 'stopped');
    assert.match(s.lastError ?? '', new RegExp(`process ${dead} is gone`));
    assert.equal((await readRun(r.dir, { checkPid: false })).state, 'running');
  } finally {
    await rmTmp(tmp);
  }
});

test('readStats on 50,000 lines: every record, garbage and a torn last line counted', async () => {
  const tmp = await makeTmp();
  try {
    const f = path.join(tmp, 'stats.jsonl');
    const keys = ['Loss/G/loss', 'Loss/D/loss', 'Loss/D/loss_gen_reg', 'Loss/scores/fake', 'Loss/scores/real', 'Loss/r1_penalty', 'Progress/kimg', 'Timing/sec_per_kimg'];
    const parts: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const o: Record<string, unknown> = {};
      for (const k of keys) o[k] = { num: 16, mean: Math.sin(i + k.length), std: 0.1 };
      o.timestamp = 1.7e9 + i;
      parts.push(JSON.stringify(o));
      if (i === 1000) parts.push('{"oops": ');
    }
    await fsp.writeFile(f, parts.join('\n') + '\n{"timestamp": 1, "Loss/G');
    const mb = (await fsp.stat(f)).size / 1e6;
    const t0 = performance.now();
    const { lines, skipped } = await readStats(f);
    const ms = performance.now() - t0;
    console.log(`# readStats: 50,000 lines, ${mb.toFixed(1)} MB in ${ms.toFixed(0)} ms`); // timed by the bench (loss-panel section), not asserted here
    assert.equal(lines.length, 50_000);
    assert.equal(skipped, 2);
    assert.equal(lines[49_999].timestamp, 1.7e9 + 49_999);

    const t1 = performance.now();
    const last = await readJsonlTail(f, asStatsLine, 2);
    console.log(`# readJsonlTail (2 lines) in ${(performance.now() - t1).toFixed(1)} ms`);
    assert.deepEqual(last.map((l) => l.timestamp), [1.7e9 + 49_998, 1.7e9 + 49_999]);
    assert.deepEqual(await readStats(path.join(tmp, 'missing.jsonl')), { lines: [], skipped: 0 });
  } finally {
    await rmTmp(tmp);
  }
});

test('readJsonlTail finds lines across chunk boundaries and a final line without newline', async () => {
  const tmp = await makeTmp();
  try {
    const f = path.join(tmp, 's.jsonl');
    const big = 'x'.repeat(70_000); // longer than one 64 KiB read chunk
    await fsp.writeFile(f, `{"timestamp":1,"pad":"${big}"}\n{"timestamp":2,"pad":"${big}"}\n{"timestamp":3}`);
    assert.deepEqual((await readJsonlTail(f, asStatsLine, 3)).map((l) => l.timestamp), [1, 2, 3]);
    assert.deepEqual(await readJsonlTail(path.join(tmp, 'none'), asStatsLine, 1), []);
  } finally {
    await rmTmp(tmp);
  }
});

test('diffOptions flattens nested keys and lists only differences', async () => {
  const a = { preset: 'tiny', model: { batch: 4, glr: 0.002 }, ggdr: { enabled: true, res: 8 }, metrics: ['fid'] };
  const b = { preset: 'tiny', model: { batch: 8, glr: 0.002 }, ggdr: { enabled: false }, metrics: ['fid'], extra: NaN };
  assert.deepEqual(diffOptions(a, b), [
    { key: 'extra', a: undefined, b: NaN },
    { key: 'ggdr.enabled', a: true, b: false },
    { key: 'ggdr.res', a: 8, b: undefined },
    { key: 'model.batch', a: 4, b: 8 },
  ]);
  assert.deepEqual(diffOptions({ m: [1, 2] }, { m: [1, 3] }), [{ key: 'm', a: [1, 2], b: [1, 3] }]);
  // The two official fixture runs differ in exactly the GGDR-related keys and run_dir.
  const [ga, gb] = await Promise.all([readRunOptions(FIXTURE_GGDR), readRunOptions(FIXTURE_BASE)]);
  assert.ok(ga.kind === 'stylegan2-ada' && gb.kind === 'stylegan2-ada');
  assert.deepEqual(diffOptions(ga.raw, gb.raw).map((d) => d.key), [
    'D_kwargs.class_name', 'D_kwargs.decoder_res', 'G_kwargs.class_name', 'loss_kwargs.class_name', 'loss_kwargs.ggdr_res', 'reg_type', 'run_dir',
  ]);
});
