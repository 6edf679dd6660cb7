import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import {
  appendMetricLine, appendStatsLine, createRunDir, fakesName, metricFileName, nextRunId, sanitizeDesc, snapshotName, StatusWriter,
  writeTrainingOptions, type OurTrainingOptionsFile,
} from '../../../src/core/runs/runDir';
import { resolveOptions } from '../../../src/core/config/options';
import { readMetrics, readStats } from '../../../src/core/runs/jsonlRead';
import { readRunStatus } from '../../../src/core/runs/readRunFiles';
import { isUserError } from '../../../src/core/errors';
import { makeTmp, rmTmp } from './helpers';


test('snapshot and grid names follow StyleGAN2-ADA, with the remaining images when off a whole kimg', () => {
  assert.equal(snapshotName(4), 'network-snapshot-000004');
  assert.equal(snapshotName(3.6), 'network-snapshot-000003.600');
  assert.equal(snapshotName(0.016), 'network-snapshot-000000.016');
  assert.equal(snapshotName(12000), 'network-snapshot-012000');
  assert.equal(fakesName(0), 'fakes000000.png');
  assert.equal(fakesName(12.2), 'fakes000012.200.png');
  assert.notEqual(snapshotName(0.016), snapshotName(0.032)); // short ticks never collide
  assert.equal(metricFileName('fid2k_lenet'), 'metric-fid2k_lenet.jsonl');
  assert.throws(() => metricFileName('../x'), isUserError);
});

test('sanitizeDesc keeps names portable and rejects empty ones', () => {
  assert.equal(sanitizeDesc('mnist-mnist32-ggdr-kimg4'), 'mnist-mnist32-ggdr-kimg4');
  assert.equal(sanitizeDesc('my data/set: v2.'), 'my-data-set-v2');
  assert.throws(() => sanitizeDesc('  '), isUserError);
  assert.throws(() => sanitizeDesc('///'), isUserError);
});

test('createRunDir numbers runs as max id + 1 and makes the folder', async () => {
  const root = await makeTmp();
  try {
    const outdir = path.join(root, 'runs'); // created on demand
    const a = await createRunDir(outdir, 'mnist');
    assert.deepEqual({ id: a.id, name: a.name }, { id: 0, name: '00000-mnist' });
    assert.ok((await fsp.stat(a.dir)).isDirectory());
    assert.equal(a.dir, path.resolve(outdir, '00000-mnist'));
    await fsp.mkdir(path.join(outdir, '00041-from-elsewhere'));
    await fsp.writeFile(path.join(outdir, 'notes.txt'), '');
    await fsp.mkdir(path.join(outdir, '.00099-tmp')); // hidden temp: not a run id
    const b = await createRunDir(outdir, 'mnist');
    assert.equal(b.name, '00042-mnist');
    assert.equal(await nextRunId(outdir), 43);
    assert.equal(await nextRunId(path.join(root, 'nope')), 0);
    assert.ok(!(await fsp.readdir(outdir)).some((n) => n.endsWith('.lock')), 'lock file removed');
  } finally {
    await rmTmp(root);
  }
});

test('concurrent createRunDir calls (same and different descs) never share an id', async () => {
  const outdir = await makeTmp();
  try {
    const same = await Promise.all(Array.from({ length: 8 }, () => createRunDir(outdir, 'same')));
    const diff = await Promise.all(Array.from({ length: 8 }, (_, i) => createRunDir(outdir, `d${i}`)));
    const ids = [...same, ...diff].map((r) => r.id).sort((x, y) => x - y);
    assert.deepEqual(ids, Array.from({ length: 16 }, (_, i) => i));
    assert.equal(new Set([...same, ...diff].map((r) => r.dir)).size, 16);
  } finally {
    await rmTmp(outdir);
  }
});

test('createRunDir from several processes at once never shares an id', async () => {
  const outdir = await makeTmp();
  try {
    const child = path.join(__dirname, 'runDir.child.ts');
    const goFile = path.join(os.tmpdir(), `gi-go-${process.pid}-${Date.now()}`);
    const outs = ['a', 'b', 'c'].map((d) => {
      const p = spawn(process.execPath, ['--import', 'tsx', child, outdir, d, '6', goFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const ready = new Promise<void>((res) => p.stdout.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('ready')) res(); }));
      const done = new Promise<string>((res, rej) => p.on('exit', (c) => (c === 0 ? res(out) : rej(new Error(`child exit ${c}`)))));
      return { ready, done };
    });
    await Promise.all(outs.map((o) => o.ready));
    await fsp.writeFile(goFile, ''); // all children start creating at the same moment
    const texts = await Promise.all(outs.map((o) => o.done));
    await fsp.rm(goFile, { force: true });
    const ids = texts.flatMap((t) => JSON.parse(t.split('\n')[1]) as number[]).sort((x, y) => x - y);
    assert.deepEqual(ids, Array.from({ length: 18 }, (_, i) => i));
    const names = (await fsp.readdir(outdir)).filter((n) => /^\d{5}-/.test(n));
    assert.equal(new Set(names.map((n) => n.slice(0, 5))).size, 18);
  } finally {
    await rmTmp(outdir);
  }
});

test('a stale lock from a dead process does not block createRunDir', async () => {
  const outdir = await makeTmp();
  try {
    // pid 2^22+ is above Linux's default pid_max: no such process.
    await fsp.writeFile(path.join(outdir, '.gan-inspector-runid.lock'), String(4_194_999));
    const t0 = Date.now();
    const r = await createRunDir(outdir, 'x');
    assert.equal(r.id, 0);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await rmTmp(outdir);
  }
});

test('StatusWriter, training options, stats and metric lines round-trip through the readers', async () => {
  const outdir = await makeTmp();
  try {
    const r = await createRunDir(outdir, 'rt');
    const options = resolveOptions({ preset: 'tiny' });
    const file = await writeTrainingOptions(r.dir, options, { name: 'cpu', version: '4.22.0', threads: 1 }, { gitless: true, createdAt: new Date(0) });
    const onDisk = JSON.parse(await fsp.readFile(path.join(r.dir, 'training_options.json'), 'utf8')) as OurTrainingOptionsFile;
    assert.deepEqual(onDisk, file);
    assert.equal(onDisk.format, 'gan-inspector');
    assert.equal(onDisk.createdAt, '1970-01-01T00:00:00.000Z');
    assert.deepEqual(onDisk.options, options);

    const sw = new StatusWriter(r.dir, { totalKimg: 4 });
    assert.equal(await readRunStatus(r.dir), undefined, 'nothing written before the first update');
    // Many unawaited updates: the file must end with the last one.
    const writes = Array.from({ length: 20 }, (_, i) => sw.update({ curKimg: i / 10, tick: i }));
    await Promise.all(writes);
    let st = await readRunStatus(r.dir);
    assert.ok(st && !('error' in st));
    assert.equal(st.tick, 19);
    assert.equal(st.pid, process.pid);
    assert.equal(st.state, 'running');
    sw.updateSync({ state: 'failed', lastError: 'boom' });
    st = await readRunStatus(r.dir);
    assert.ok(st && !('error' in st));
    assert.deepEqual([st.state, st.lastError, st.tick], ['failed', 'boom', 19]);
    assert.ok(!(await fsp.readdir(r.dir)).some((n) => n.startsWith('.')), 'no temp files');

    await appendStatsLine(r.dir, { 'Loss/G/loss': { num: 2, mean: NaN, std: NaN }, timestamp: 5 });
    const raw = await fsp.readFile(path.join(r.dir, 'stats.jsonl'), 'utf8');
    assert.match(raw, /"mean":NaN/); // bare NaN as Python writes it, not null
    const { lines, skipped } = await readStats(path.join(r.dir, 'stats.jsonl'));
    assert.equal(skipped, 0);
    assert.ok(Number.isNaN((lines[0]['Loss/G/loss'] as { mean: number }).mean));

    const ml = { results: { fid2k_lenet: 12.5 }, metric: 'fid2k_lenet', total_time: 3, total_time_str: '3s', num_gpus: 1, snapshot_pkl: 'network-snapshot-000004', timestamp: 9 };
    await appendMetricLine(r.dir, ml);
    assert.deepEqual(await readMetrics(r.dir), { fid2k_lenet: [ml] });
  } finally {
    await rmTmp(outdir);
  }
});
