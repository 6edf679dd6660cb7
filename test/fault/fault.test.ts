/**
 * The fault suite: a hostile and careless user against the real CLI — real processes, real files,
 * real signals (kill -9 at exact moments through GAN_INSPECTOR_FAULT_PAUSE), a full disk (a small
 * tmpfs, as root), read-only folders, corrupt snapshots, concurrent writers. Every case asserts a
 * clear message (no stack), the exit code, and that no byte of earlier data changed.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { appendMetricLine } from '../../src/core/runs/runDir';
import * as guard from '../../src/host/panels/restoreGuard';
import {
  assertKept, assertNoStack, cli, copyRun, deadPid, fillDisk, hashTree, liveProcess, makeReadOnly, makeTmp, mountTmpfs,
  onlyRun, rawLines, startCli, statsKimgs, writeLock, type CliResult,
} from './helpers';

const TINY = ['--preset', 'tiny', '--metrics', 'none'];
const LOCK = '.gan-inspector-writer.lock';
const temps: string[] = [];
const cleanups: Array<() => void> = [];
after(() => {
  for (const c of cleanups.reverse()) try { c(); } catch { /* best effort */ }
  for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
});
const tmp = async () => { const d = await makeTmp(); temps.push(d); return d; };
const copy = async (src: string) => { const d = await copyRun(src); temps.push(path.dirname(d)); return d; };

/** Hash of a run folder minus what a writer legitimately changes (status, appended logs, temps, locks). */
const stable = (dir: string) => hashTree(dir, (rel) => rel === 'status.json' || rel === 'log.txt' || rel === 'stats.jsonl' || rel.startsWith('.'));
const expectExit = (r: CliResult, code: number, re: RegExp) => {
  assert.equal(r.code, code, `exit ${r.code} (want ${code}):\n${r.all}`);
  assert.match(r.all, re);
  assertNoStack(r.all);
};
const read = (f: string) => fs.readFileSync(f);
const startsWith = (file: string, prefix: Buffer) => assert.ok(read(file).subarray(0, prefix.length).equals(prefix), `${path.basename(file)} lost earlier bytes`);

/** A run killed with -9 in the middle of writing its fifth snapshot (000000.064): 4 good snapshots, 3 stats lines. */
let CRASHED: string;
/** A finished run (kimg 0.064): 5 snapshots. */
let FINISHED: string;

before(async () => {
  const out = await tmp();
  const p = startCli(['train', ...TINY, '--kimg', '0.128', '--outdir', out], { GAN_INSPECTOR_FAULT_PAUSE: 'snapshot-mid', GAN_INSPECTOR_FAULT_SKIP: '4' });
  await p.waitFor(/FAULT-POINT snapshot-mid/);
  p.child.kill('SIGKILL');
  await p.done;
  CRASHED = onlyRun(out);
  const out2 = await tmp();
  const r = await cli(['train', ...TINY, '--kimg', '0.064', '--outdir', out2]);
  assert.equal(r.code, 0, r.all);
  FINISHED = onlyRun(out2);
});

describe('kill -9 at five moments', () => {
  test('K1 mid snapshot: the half snapshot never appears under its name; the previous one is the latest; resume continues', async () => {
    const names = fs.readdirSync(CRASHED);
    assert.ok(!names.includes('network-snapshot-000000.064'), names.join(' '));
    assert.ok(names.some((n) => /^\.network-snapshot-000000\.064\.\d+\.[0-9a-f]{8}\.tmpdir$/.test(n)), 'the temp folder of the interrupted save');
    assert.deepEqual(statsKimgs(path.join(CRASHED, 'stats.jsonl')), [0.016, 0.032, 0.048]);
    const run = await copy(CRASHED);
    const before = stable(run), stats0 = read(path.join(run, 'stats.jsonl'));
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /Resuming .* from network-snapshot-000000\.048/);
    assert.match(r.all, /Removed 1 temp file\(s\) left by a crashed writer/);
    assertKept(before, hashTree(run));
    startsWith(path.join(run, 'stats.jsonl'), stats0);
    assert.deepEqual(statsKimgs(path.join(run, 'stats.jsonl')), [0.016, 0.032, 0.048, 0.064, 0.08, 0.096, 0.112, 0.128]);
    assert.ok(!fs.readdirSync(run).some((n) => n.endsWith('.tmpdir')), 'stale temp removed');
    assert.ok(!fs.existsSync(path.join(run, LOCK)), 'lock released');
  });

  test('K2 mid stats append (a torn line): earlier lines byte for byte, the torn bytes kept, resume continues', async () => {
    const out = await tmp();
    const p = startCli(['train', ...TINY, '--kimg', '0.128', '--outdir', out], { GAN_INSPECTOR_FAULT_PAUSE: 'stats-append', GAN_INSPECTOR_FAULT_SKIP: '2' });
    await p.waitFor(/FAULT-POINT stats-append/);
    p.child.kill('SIGKILL');
    await p.done;
    const run = onlyRun(out);
    const stats0 = read(path.join(run, 'stats.jsonl'));
    assert.notEqual(stats0[stats0.length - 1], 0x0a, 'the file ends in a torn line');
    const before = stable(run);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /Resuming/);
    assertKept(before, hashTree(run));
    const after = read(path.join(run, 'stats.jsonl'));
    const rejected = path.join(run, 'stats.jsonl.rejected');
    const all = Buffer.concat([after, fs.existsSync(rejected) ? read(rejected) : Buffer.alloc(0)]);
    for (const line of rawLines(path.join(run, 'stats.jsonl')).slice(0, 2)) assert.ok(stats0.includes(Buffer.from(line)));
    assert.ok(all.includes(stats0.subarray(stats0.lastIndexOf(0x0a) + 1)), 'the torn bytes are still somewhere');
    assert.equal(statsKimgs(path.join(run, 'stats.jsonl')).at(-1), 0.128);
  });

  test('K3 mid status.json write (before the rename): status.json stays whole, the temp is removed at the next start', async () => {
    const out = await tmp();
    const p = startCli(['train', ...TINY, '--kimg', '0.128', '--outdir', out], { GAN_INSPECTOR_FAULT_PAUSE: 'atomic-write:status.json', GAN_INSPECTOR_FAULT_SKIP: '4' });
    await p.waitFor(/FAULT-POINT/);
    p.child.kill('SIGKILL');
    await p.done;
    const run = onlyRun(out);
    const st = JSON.parse(fs.readFileSync(path.join(run, 'status.json'), 'utf8'));
    assert.equal(st.state, 'running');
    assert.ok(fs.readdirSync(run).some((n) => /^\.status\.json\.\d+\.[0-9a-f]{8}\.tmp$/.test(n)));
    const before = stable(run);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /Removed 1 temp file/);
    assertKept(before, hashTree(run));
    assert.ok(!fs.readdirSync(run).some((n) => n.endsWith('.tmp')));
  });

  test('K4 mid resume trim (lines copied to .rejected, stats.jsonl not yet cut): nothing lost, the next resume finishes', async () => {
    const run = await copy(FINISHED);
    // Pretend it stopped at .032: status says stopped, and the resume must cut the two later lines.
    fs.renameSync(path.join(run, 'network-snapshot-000000.048'), path.join(run, 'moved-048'));
    fs.renameSync(path.join(run, 'network-snapshot-000000.064'), path.join(run, 'moved-064'));
    const st = JSON.parse(fs.readFileSync(path.join(run, 'status.json'), 'utf8'));
    fs.writeFileSync(path.join(run, 'status.json'), JSON.stringify({ ...st, state: 'stopped' }));
    const stats0 = read(path.join(run, 'stats.jsonl'));
    const p = startCli(['train', '--resume', run], { GAN_INSPECTOR_FAULT_PAUSE: 'stats-trim' });
    await p.waitFor(/FAULT-POINT stats-trim/);
    p.child.kill('SIGKILL');
    await p.done;
    assert.ok(read(path.join(run, 'stats.jsonl')).equals(stats0), 'stats.jsonl untouched so far');
    const rej = read(path.join(run, 'stats.jsonl.rejected'));
    assert.ok(stats0.includes(rej), 'the moved lines are a copy of the tail');
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /Took over the writer lock|Resuming/);
    assert.deepEqual(statsKimgs(path.join(run, 'stats.jsonl')), [0.016, 0.032, 0.048, 0.064]);
    startsWith(path.join(run, 'stats.jsonl'), stats0.subarray(0, stats0.indexOf(rej)));
  });

  test('K5 right after the run folder appears: resume says there is nothing to resume; the next run takes the next id', async () => {
    const out = await tmp();
    const p = startCli(['train', ...TINY, '--kimg', '0.128', '--outdir', out], { GAN_INSPECTOR_FAULT_PAUSE: 'atomic-write:training_options.json' });
    await p.waitFor(/FAULT-POINT/);
    p.child.kill('SIGKILL');
    await p.done;
    const run = onlyRun(out);
    const before = hashTree(run);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 2, /not a run folder|no loadable snapshot/);
    assertKept(before, hashTree(run), true);
    const r2 = await cli(['train', ...TINY, '--kimg', '0.016', '--outdir', out]);
    expectExit(r2, 0, /00001-/);
  });
});

describe('one writer per run', () => {
  test('W1 two resumes at once: one wins, the other names it; no stats line lost', async () => {
    const run = await copy(CRASHED);
    const stats0 = read(path.join(run, 'stats.jsonl'));
    const [a, b] = await Promise.all([cli(['train', '--resume', run]), cli(['train', '--resume', run])]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 2], a.all + b.all);
    const loser = a.code === 2 ? a : b;
    expectExit(loser, 2, /is being written by resume \(pid \d+ on .*since|is still running/);
    startsWith(path.join(run, 'stats.jsonl'), stats0);
    assert.deepEqual(statsKimgs(path.join(run, 'stats.jsonl')), [0.016, 0.032, 0.048, 0.064, 0.08, 0.096, 0.112, 0.128]);
    assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'status.json'), 'utf8')).state, 'finished');
  });

  test('W2 resume while a live trainer writes (its status.json corrupted): refused naming the trainer, not one byte changed', async () => {
    const out = await tmp();
    const p = startCli(['train', ...TINY, '--kimg', '0.128', '--outdir', out], { GAN_INSPECTOR_FAULT_PAUSE: 'snapshot-mid', GAN_INSPECTOR_FAULT_SKIP: '2' });
    await p.waitFor(/FAULT-POINT/);
    const run = onlyRun(out);
    fs.writeFileSync(path.join(run, 'status.json'), '{"state": "runn');
    const before = hashTree(run);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 2, new RegExp(`is being written by train \\(pid ${p.child.pid} on ${os.hostname()}`));
    assertKept(before, hashTree(run), true);
    p.child.kill('SIGKILL');
    await p.done;
  });

  test('W3 a lock whose process is gone is taken over', async () => {
    const run = await copy(CRASHED);
    writeLock(run, deadPid());
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /Took over the writer lock .*process \d+ is gone/);
    assert.ok(!fs.existsSync(path.join(run, LOCK)));
  });

  test('W4 a lock held on another host is respected and named', async () => {
    const run = await copy(CRASHED);
    writeLock(run, 12345, 'other-host.example');
    const before = hashTree(run);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 2, /being written by train \(pid 12345 on other-host\.example.*delete .*\.gan-inspector-writer\.lock/s);
    assertKept(before, hashTree(run), true);
  });

  test('W5 an unreadable (torn) lock file older than 2 s is taken over', async () => {
    const run = await copy(CRASHED);
    const f = path.join(run, LOCK);
    fs.writeFileSync(f, '');
    const old = new Date(Date.now() - 10_000);
    fs.utimesSync(f, old, old);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /Took over the writer lock .*unreadable lock file/);
  });

  test('W6 generate into a run that a live process writes: refused, nothing written', async () => {
    const run = await copy(CRASHED);
    const holder = liveProcess();
    cleanups.push(() => holder.kill('SIGKILL'));
    writeLock(run, holder.pid!, os.hostname(), 'train');
    const before = hashTree(run);
    const r = await cli(['generate', '--snapshot', run, '--seeds', '0-3']);
    expectExit(r, 2, new RegExp(`being written by train \\(pid ${holder.pid}`));
    assertKept(before, hashTree(run), true);
    holder.kill('SIGKILL');
  });

  test('W7 cluster into a locked run: refused, nothing written', async () => {
    const run = await copy(CRASHED);
    const holder = liveProcess();
    cleanups.push(() => holder.kill('SIGKILL'));
    writeLock(run, holder.pid!, os.hostname(), 'resume');
    const before = hashTree(run);
    const r = await cli(['cluster', '--snapshot', run, '--seeds', '0-1']);
    expectExit(r, 2, /being written by resume/);
    assertKept(before, hashTree(run), true);
    holder.kill('SIGKILL');
  });

  test('W8 metrics (which appends to the run) on a locked run: refused before any computation', async () => {
    const run = await copy(CRASHED);
    const holder = liveProcess();
    cleanups.push(() => holder.kill('SIGKILL'));
    writeLock(run, holder.pid!, os.hostname(), 'train');
    const before = hashTree(run);
    const t0 = Date.now();
    const r = await cli(['metrics', '--snapshot', run, '--metrics', 'fid2k_lenet']);
    expectExit(r, 2, /being written by train/);
    assert.ok(Date.now() - t0 < 30_000);
    assertKept(before, hashTree(run), true);
    holder.kill('SIGKILL');
  });

  test('W9 generate with --out outside the run does not need the run lock', async () => {
    const run = await copy(CRASHED);
    const holder = liveProcess();
    cleanups.push(() => holder.kill('SIGKILL'));
    writeLock(run, holder.pid!);
    const out = path.join(await tmp(), 'grid.png');
    const r = await cli(['generate', '--snapshot', run, '--seeds', '0-3', '--out', out]);
    expectExit(r, 0, /Wrote/);
    assert.ok(fs.statSync(out).size > 0);
    holder.kill('SIGKILL');
  });

  test('W10 six writers race for one stale lock: exactly one gets it', async () => {
    const run = await copy(CRASHED);
    writeLock(run, deadPid());
    const child = path.join(__dirname, 'lockRace.child.ts');
    const rs = await Promise.all(Array.from({ length: 6 }, () => new Promise<string>((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', child, run], { stdio: ['ignore', 'pipe', 'pipe'] });
      let s = '';
      c.stdout.on('data', (d: Buffer) => (s += d));
      c.stderr.on('data', (d: Buffer) => (s += d));
      c.on('close', () => resolve(s.trim()));
    })));
    assert.equal(rs.filter((s) => s === 'got').length, 1, rs.join('\n'));
    assert.equal(rs.filter((s) => /^refused: .*being (written by race|locked by another process right now)/.test(s)).length, 5, rs.join('\n'));
  });

  test('W12 a metric append from a process without the lock (the extension\'s Compute Metrics): refused while a writer lives, no byte written; taken over once it is gone', async () => {
    const run = await copy(CRASHED);
    const holder = liveProcess();
    cleanups.push(() => holder.kill('SIGKILL'));
    writeLock(run, holder.pid!, os.hostname(), 'train');
    const before = hashTree(run);
    const line = { results: { fid50_lenet: 12.5 }, metric: 'fid50_lenet', total_time: 1, total_time_str: '1s', num_gpus: 1, snapshot_pkl: 'network-snapshot-000000.048', timestamp: 1 };
    await assert.rejects(appendMetricLine(run, line), /being written by train \(pid/);
    assertKept(before, hashTree(run), true);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    await appendMetricLine(run, line); // the holder is gone: its lock is stale and taken over
    assert.match(fs.readFileSync(path.join(run, 'metric-fid50_lenet.jsonl'), 'utf8'), /"fid50_lenet":12\.5/);
    assert.ok(!fs.existsSync(path.join(run, LOCK)));
  });

  test('W11 a failed resume leaves status.json (and every earlier byte) as it was', async () => {
    const run = await copy(CRASHED);
    for (const n of fs.readdirSync(run).filter((n) => /^network-snapshot-/.test(n))) {
      const w = path.join(run, n, 'weights.bin');
      const b = read(w);
      b[100] ^= 0xff;
      fs.writeFileSync(w, b);
    }
    const status0 = read(path.join(run, 'status.json'));
    const before = hashTree(run, (rel) => rel.startsWith('.') || rel === 'log.txt');
    const log0 = read(path.join(run, 'log.txt'));
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 2, /does not match its checksum/);
    assert.ok(read(path.join(run, 'status.json')).equals(status0));
    assertKept(before, hashTree(run, (rel) => rel.startsWith('.') || rel === 'log.txt'), true);
    startsWith(path.join(run, 'log.txt'), log0);
  });
});

describe('lossless resume (stats.jsonl)', () => {
  /** A stopped copy of FINISHED resuming from .032 (lines .048 and .064 are redone). */
  const stoppedAt032 = async () => {
    const run = await copy(FINISHED);
    for (const n of ['network-snapshot-000000.048', 'network-snapshot-000000.064']) fs.renameSync(path.join(run, n), path.join(run, `kept-${n}`));
    const st = JSON.parse(fs.readFileSync(path.join(run, 'status.json'), 'utf8'));
    fs.writeFileSync(path.join(run, 'status.json'), JSON.stringify({ ...st, state: 'stopped' }));
    return run;
  };
  const edit = (run: string, f: (lines: string[]) => string[]) => {
    const file = path.join(run, 'stats.jsonl');
    fs.writeFileSync(file, f(rawLines(file)).join(''));
    return read(file);
  };

  test('L1 lines with bare NaN/Infinity before the snapshot stay byte for byte', async () => {
    const run = await stoppedAt032();
    const s0 = edit(run, (l) => [l[0].replace(/("Loss\/G\/loss":\{"num":\d+,"mean":)[^,]+/, '$1NaN'), l[1].replace(/("Loss\/D\/loss":\{"num":\d+,"mean":)[^,]+/, '$1-Infinity'), ...l.slice(2)]);
    assert.match(s0.toString(), /NaN/);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /moved to stats\.jsonl\.rejected \(2 kept as they were\)/);
    startsWith(path.join(run, 'stats.jsonl'), s0.subarray(0, s0.indexOf(Buffer.from(rawLines(path.join(run, 'stats.jsonl.rejected'))[0]))));
    assert.deepEqual(statsKimgs(path.join(run, 'stats.jsonl')), [0.016, 0.032, 0.048, 0.064]);
  });

  test('L2 mid-file garbage stays where it was', async () => {
    const run = await stoppedAt032();
    const s0 = edit(run, (l) => [l[0], 'this is not json {\n', l[1], ...l.slice(2)]);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /Resuming/);
    const lines = rawLines(path.join(run, 'stats.jsonl'));
    assert.equal(lines[1], 'this is not json {\n');
    startsWith(path.join(run, 'stats.jsonl'), s0.subarray(0, Buffer.byteLength(lines.slice(0, 3).join(''))));
  });

  test('L3 CRLF line endings before the cut are kept', async () => {
    const run = await stoppedAt032();
    const s0 = edit(run, (l) => l.map((x) => x.replace(/\n$/, '\r\n')));
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /Resuming/);
    const kept = rawLines(path.join(run, 'stats.jsonl')).slice(0, 2).join('');
    assert.ok(kept.endsWith('\r\n') && s0.toString().startsWith(kept));
  });

  test('L4 the lines after the snapshot move to stats.jsonl.rejected, whole', async () => {
    const run = await stoppedAt032();
    const lines0 = rawLines(path.join(run, 'stats.jsonl'));
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /2 line\(s\) after network-snapshot-000000\.032 will be redone; moved to stats\.jsonl\.rejected/);
    assert.equal(fs.readFileSync(path.join(run, 'stats.jsonl.rejected'), 'utf8'), lines0.slice(2).join(''));
    assert.deepEqual(rawLines(path.join(run, 'stats.jsonl')).slice(0, 2), lines0.slice(0, 2));
  });

  test('L5 a torn last line after the snapshot is moved aside, not dropped', async () => {
    const run = await stoppedAt032();
    const s0 = edit(run, (l) => [...l, '{"Progress/kimg": {"num": 1, "mean": 0.07']);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /Resuming/);
    assert.ok(fs.readFileSync(path.join(run, 'stats.jsonl.rejected'), 'utf8').includes('{"Progress/kimg": {"num": 1, "mean": 0.07'));
    assert.ok(s0.length > 0);
  });

  test('L6 two resumes in a row: .rejected accumulates, every original line exists somewhere', async () => {
    const run = await stoppedAt032();
    const lines0 = rawLines(path.join(run, 'stats.jsonl'));
    expectExit(await cli(['train', '--resume', run]), 0, /Resuming/);
    // Stop it "again" at .032 and resume once more.
    fs.rmSync(path.join(run, 'network-snapshot-000000.048'), { recursive: true });
    fs.rmSync(path.join(run, 'network-snapshot-000000.064'), { recursive: true });
    const st = JSON.parse(fs.readFileSync(path.join(run, 'status.json'), 'utf8'));
    fs.writeFileSync(path.join(run, 'status.json'), JSON.stringify({ ...st, state: 'stopped' }));
    const lines1 = rawLines(path.join(run, 'stats.jsonl'));
    expectExit(await cli(['train', '--resume', run]), 0, /Resuming/);
    const rejected = rawLines(path.join(run, 'stats.jsonl.rejected'));
    const now = rawLines(path.join(run, 'stats.jsonl'));
    for (const l of [...lines0, ...lines1]) assert.ok(rejected.includes(l) || now.includes(l), `lost: ${l.slice(0, 80)}`);
    assert.equal(rejected.length, 4);
  });
});

describe('writes never clobber (--out)', () => {
  const snapOf = (run: string) => path.join(run, 'network-snapshot-000000.048');
  for (const [id, name] of [['O1', 'stats.jsonl'], ['O2', 'status.json'], ['O3', 'training_options.json'], ['O4', 'fakes000000.016.png'], ['O5', 'metric-fid2k_lenet.jsonl']] as const) {
    test(`${id} generate --out RUN/${name} is refused (also with --force); not a byte changes`, async () => {
      const run = await copy(CRASHED);
      const before = hashTree(run);
      const r = await cli(['generate', '--snapshot', snapOf(run), '--seeds', '0-3', '--out', path.join(run, name), '--force']);
      expectExit(r, 2, /one of the files of run .*never writes those/);
      assertKept(before, hashTree(run), true);
    });
  }

  test('O6 --out inside a snapshot folder is refused', async () => {
    const run = await copy(CRASHED);
    const before = hashTree(run);
    const r = await cli(['generate', '--snapshot', snapOf(run), '--seeds', '0-3', '--out', path.join(snapOf(run), 'x.png')]);
    expectExit(r, 2, /inside a snapshot of/);
    assertKept(before, hashTree(run), true);
  });

  test('O7 --out at a folder is a message, not a stack', async () => {
    const run = await copy(CRASHED);
    const r = await cli(['generate', '--snapshot', snapOf(run), '--seeds', '0-3', '--out', os.tmpdir()]);
    expectExit(r, 2, /is a folder.*Give a file name/s);
  });

  test('O8 an existing --out file is kept without --force and replaced with it', async () => {
    const run = await copy(CRASHED);
    const out = path.join(await tmp(), 'mine.png');
    fs.writeFileSync(out, 'precious');
    expectExit(await cli(['generate', '--snapshot', snapOf(run), '--seeds', '0-3', '--out', out]), 2, /already exists.*--force/s);
    assert.equal(fs.readFileSync(out, 'utf8'), 'precious');
    expectExit(await cli(['generate', '--snapshot', snapOf(run), '--seeds', '0-3', '--out', out, '--force']), 0, /Wrote/);
    assert.equal(read(out).subarray(1, 4).toString(), 'PNG');
  });

  test('O9 cluster --out RUN/log.txt is refused', async () => {
    const run = await copy(CRASHED);
    const before = hashTree(run);
    const r = await cli(['cluster', '--snapshot', run, '--seeds', '0-1', '--out', path.join(run, 'log.txt')]);
    expectExit(r, 2, /never writes those/);
    assertKept(before, hashTree(run), true);
  });

  test('O10 --out into a missing folder is a message', async () => {
    const r = await cli(['generate', '--snapshot', snapOf(CRASHED), '--seeds', '0-3', '--out', '/nonexistent-gi/x/y.png']);
    expectExit(r, 2, /does not exist/);
  });

  test('O11 --out with a name too long is a message', async () => {
    const r = await cli(['generate', '--snapshot', snapOf(CRASHED), '--seeds', '0-3', '--out', path.join(os.tmpdir(), 'x'.repeat(300) + '.png')]);
    expectExit(r, 2, /too long/);
  });
});

describe('file-system errors are messages', () => {
  test('F1 disk full mid-run: exit 2, "Disk full … free … resume with", earlier snapshots intact, no stack in status.json', async (t) => {
    const fsMount = mountTmpfs('1100k');
    if (!fsMount) return t.skip('needs root (mount -t tmpfs)');
    cleanups.push(fsMount.unmount);
    const r = await cli(['train', ...TINY, '--kimg', '0.128', '--outdir', path.join(fsMount.dir, 'runs')]);
    expectExit(r, 2, /Disk full \(\d+\.\d MB free\) while writing 00000-.*choose another --outdir.*resume with: gan-inspector train --resume /s);
    const run = onlyRun(path.join(fsMount.dir, 'runs'));
    const st = JSON.parse(fs.readFileSync(path.join(run, 'status.json'), 'utf8'));
    if (st.state === 'failed') assertNoStack(st.lastError);
    assert.ok(!fs.readdirSync(run).some((n) => n.endsWith('.tmpdir')), 'the failed snapshot temp is removed');
    assert.ok(!fs.existsSync(path.join(run, LOCK)));
    fsMount.unmount();
  });

  test('F2 disk full at start: a message, and no 0-byte id lock left to delay the next run', async (t) => {
    const m = mountTmpfs('256k');
    if (!m) return t.skip('needs root (mount -t tmpfs)');
    cleanups.push(m.unmount);
    fs.mkdirSync(path.join(m.dir, 'runs'));
    const filler = fillDisk(m.dir);
    const r = await cli(['train', ...TINY, '--kimg', '0.016', '--outdir', path.join(m.dir, 'runs')]);
    expectExit(r, 2, /Disk full/);
    assert.ok(!fs.existsSync(path.join(m.dir, 'runs', '.gan-inspector-runid.lock')));
    fs.rmSync(filler);
    const t0 = Date.now();
    const r2 = await cli(['train', ...TINY, '--kimg', '0.016', '--outdir', path.join(m.dir, 'runs'), '--grid', '1']);
    assert.ok(r2.code === 0 || /Disk full/.test(r2.all), r2.all);
    assert.ok(Date.now() - t0 < 20_000);
    m.unmount();
  });

  test('F3 resume on a full disk: a message, and no byte of the run changed', async (t) => {
    const m = mountTmpfs('2600k');
    if (!m) return t.skip('needs root (mount -t tmpfs)');
    cleanups.push(m.unmount);
    const run = path.join(m.dir, path.basename(CRASHED));
    fs.cpSync(CRASHED, run, { recursive: true });
    fillDisk(m.dir);
    const before = stable(run);
    const stats0 = read(path.join(run, 'stats.jsonl'));
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 2, /Disk full/);
    assertKept(before, hashTree(run));
    startsWith(path.join(run, 'stats.jsonl'), stats0);
    m.unmount();
  });

  test('F4 generate --out onto a full disk: a message, no partial PNG', async (t) => {
    const m = mountTmpfs('128k');
    if (!m) return t.skip('needs root (mount -t tmpfs)');
    cleanups.push(m.unmount);
    fillDisk(m.dir);
    const r = await cli(['generate', '--snapshot', path.join(CRASHED, 'network-snapshot-000000.048'), '--seeds', '0-3', '--out', path.join(m.dir, 'g.png')]);
    expectExit(r, 2, /Disk full.*g\.png/s);
    assert.deepEqual(fs.readdirSync(m.dir).filter((n) => n !== 'filler.bin'), []);
    m.unmount();
  });

  test('F5 --outdir on a read-only folder', async (t) => {
    const d = await tmp();
    const undo = makeReadOnly(d);
    if (!undo) return t.skip('cannot make a read-only folder here');
    cleanups.push(undo);
    const r = await cli(['train', ...TINY, '--kimg', '0.016', '--outdir', path.join(d, 'runs')]);
    expectExit(r, 2, /read-only|permission denied/i);
    undo();
  });

  test('F6 resume in a read-only run folder: a message, not a byte changed', async (t) => {
    const run = await copy(CRASHED);
    const undo = makeReadOnly(run);
    if (!undo) return t.skip('cannot make a read-only folder here');
    cleanups.push(undo);
    const before = hashTree(run);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 2, /Read-only file system|Permission denied/);
    assertKept(before, hashTree(run), true);
    undo();
  });

  test('F7 generate into a read-only folder', async (t) => {
    const d = await tmp();
    const undo = makeReadOnly(d);
    if (!undo) return t.skip('cannot make a read-only folder here');
    cleanups.push(undo);
    const r = await cli(['generate', '--snapshot', path.join(CRASHED, 'network-snapshot-000000.048'), '--seeds', '0-3', '--out', path.join(d, 'g.png')]);
    expectExit(r, 2, /Read-only file system|Permission denied/);
    undo();
  });

  test('F8 stats.jsonl is a folder: resume says so, nothing changes', async () => {
    const run = await copy(CRASHED);
    fs.rmSync(path.join(run, 'stats.jsonl'));
    fs.mkdirSync(path.join(run, 'stats.jsonl'));
    const before = stable(run);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 2, /stats\.jsonl is a folder where a file should be/);
    assertKept(before, hashTree(run));
  });

  test('F11 metrics when metric-*.jsonl is a folder: the value is printed before the append fails, exit 2', { timeout: 300_000 }, async () => {
    const run = await copy(CRASHED);
    fs.mkdirSync(path.join(run, 'metric-fid50_lenet.jsonl'));
    const skip = (rel: string) => rel === 'metric-fid50_lenet.jsonl' || rel === LOCK; // the crash's stale lock is taken over
    const before = hashTree(run, skip);
    const r = await cli(['metrics', '--snapshot', run, '--metrics', 'fid50_lenet'], { timeoutMs: 280_000 });
    expectExit(r, 2, /fid50_lenet\s+\d+\.\d{4}[\s\S]*metric-fid50_lenet\.jsonl is a folder where a file should be[\s\S]*computed values are printed above/);
    assertKept(before, hashTree(run, skip), true);
    assert.ok(!fs.existsSync(path.join(run, LOCK)));
  });

  test('F12 the training worker (the extension\'s) on a full disk: the ended message and status.json carry the message, not a stack', async (t) => {
    const m = mountTmpfs('1100k');
    if (!m) return t.skip('needs root (mount -t tmpfs)');
    cleanups.push(m.unmount);
    const child = fork(path.join(__dirname, '../../dist/worker.js'), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const msgs: Array<Record<string, unknown>> = [];
    child.on('message', (msg) => msgs.push(msg as Record<string, unknown>));
    child.send({ rpc: 1, kind: 'request', id: 1, name: 'start', params: { overrides: { preset: 'tiny', kimg: 0.128, metrics: [], outdir: path.join(m.dir, 'runs') } } });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    // The ended message is the reply to the start request (rpc.ts).
    const ended = msgs.find((x) => x.kind === 'reply' && x.id === 1)?.result as Record<string, unknown>;
    assert.ok(ended, JSON.stringify(msgs));
    assert.equal(ended.state, 'failed');
    assert.equal(ended.userError, true);
    assert.match(String(ended.error), /Disk full .*--outdir.*resume with/s);
    assertNoStack(String(ended.error));
    const st = JSON.parse(fs.readFileSync(path.join(onlyRun(path.join(m.dir, 'runs')), 'status.json'), 'utf8'));
    assert.equal(st.state, 'failed');
    assert.match(st.lastError, /Disk full/);
    assertNoStack(st.lastError);
    assert.equal(code, 1);
    m.unmount();
  });

  test('F13 generate and metrics on a read-only run: messages that point to --out and --no-append, nothing written', async (t) => {
    const run = await copy(CRASHED);
    fs.rmSync(path.join(run, LOCK)); // the crash's stale lock would otherwise be taken over first
    const undo = makeReadOnly(run);
    if (!undo) return t.skip('cannot make a read-only folder here');
    cleanups.push(undo);
    const before = hashTree(run);
    expectExit(await cli(['generate', '--snapshot', run, '--seeds', '0-3']), 2, /(Read-only file system|Permission denied).*--out FILE in a writable folder/s);
    expectExit(await cli(['metrics', '--snapshot', run, '--metrics', 'fid50_lenet']), 2, /(Read-only file system|Permission denied).*--no-append/s);
    assertKept(before, hashTree(run), true);
    undo();
  });

  test('F9 --outdir with a name too long', async () => {
    const r = await cli(['train', ...TINY, '--kimg', '0.016', '--outdir', path.join(os.tmpdir(), 'y'.repeat(300))]);
    expectExit(r, 2, /too long/i);
  });

  test('F10 --outdir is a file', async () => {
    const f = path.join(await tmp(), 'afile');
    fs.writeFileSync(f, 'x');
    const r = await cli(['train', ...TINY, '--kimg', '0.016', '--outdir', f]);
    expectExit(r, 2, /Cannot create|not a folder|exists/);
    assert.equal(fs.readFileSync(f, 'utf8'), 'x');
  });
});

describe('integrity of snapshots', () => {
  const snap = (run: string) => path.join(run, 'network-snapshot-000000.048');
  const gen = (s: string) => cli(['generate', '--snapshot', s, '--seeds', '0-3', '--out', path.join(os.tmpdir(), `gi-fault-${process.pid}-${Math.random()}.png`)]);

  test('I1 one flipped byte in weights.bin: checksum error', async () => {
    const run = await copy(CRASHED);
    const w = path.join(snap(run), 'weights.bin');
    const b = read(w); b[7] ^= 1; fs.writeFileSync(w, b);
    expectExit(await gen(snap(run)), 2, /does not match its checksum.*earlier snapshot/s);
  });

  test('I2 NaN weights with a matching checksum: refused (no blank PNG)', async () => {
    const run = await copy(CRASHED);
    const w = path.join(snap(run), 'weights.bin');
    const f = new Float32Array(read(w).buffer.slice(0));
    f.fill(NaN);
    fs.writeFileSync(w, Buffer.from(f.buffer));
    const metaFile = path.join(snap(run), 'snapshot.json');
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    meta.weightsSha256 = createHash('sha256').update(read(w)).digest('hex');
    fs.writeFileSync(metaFile, JSON.stringify(meta));
    expectExit(await gen(snap(run)), 2, /hold NaN\/Inf/);
  });

  test('I3 truncated weights.bin', async () => {
    const run = await copy(CRASHED);
    fs.truncateSync(path.join(snap(run), 'weights.bin'), 1000);
    expectExit(await gen(snap(run)), 2, /truncated|incomplete/);
  });

  test('I4 snapshot.json is garbage', async () => {
    const run = await copy(CRASHED);
    fs.writeFileSync(path.join(snap(run), 'snapshot.json'), '{"format": "gan-insp');
    expectExit(await gen(snap(run)), 2, /corrupt|not valid JSON/);
  });

  test('I5 resume with the newest snapshot broken: uses the older one and says which and why; the broken one is moved aside intact', async () => {
    const run = await copy(CRASHED);
    const w = path.join(snap(run), 'weights.bin');
    const b = read(w); b[50] ^= 0xff; fs.writeFileSync(w, b);
    const brokenHash = hashTree(snap(run));
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /newest snapshot network-snapshot-000000\.048 is broken \(.*checksum.*\); resumed from the older network-snapshot-000000\.032/);
    assert.match(r.stderr, /Note: The newest snapshot network-snapshot-000000\.048 is broken/);
    const st = JSON.parse(fs.readFileSync(path.join(run, 'status.json'), 'utf8'));
    assert.match(st.notice, /resumed from the older network-snapshot-000000\.032/);
    const aside = fs.readdirSync(run).find((n) => n.startsWith('.broken-network-snapshot-000000.048-'));
    assert.ok(aside);
    assert.deepEqual(hashTree(path.join(run, aside)), brokenHash);
    assert.equal(statsKimgs(path.join(run, 'stats.jsonl')).at(-1), 0.128);
  });

  test('I6 resume with a truncated newest snapshot: same, named with the reason', async () => {
    const run = await copy(CRASHED);
    fs.truncateSync(path.join(snap(run), 'weights.bin'), 10);
    const r = await cli(['train', '--resume', run]);
    expectExit(r, 0, /network-snapshot-000000\.048 is broken \(incomplete snapshot.*resumed from the older network-snapshot-000000\.032/s);
  });
});

describe('older snapshot used: said, not silent', () => {
  test('I7 generate --snapshot RUN with a truncated newest snapshot says which it used instead and why', async () => {
    const run = await copy(CRASHED);
    fs.truncateSync(path.join(run, 'network-snapshot-000000.048', 'weights.bin'), 10);
    const out = path.join(await tmp(), 'g.png');
    const r = await cli(['generate', '--snapshot', run, '--seeds', '0-3', '--out', out]);
    expectExit(r, 0, /Note: The newest snapshot network-snapshot-000000\.048 is broken \(incomplete snapshot.*\); used the older network-snapshot-000000\.032/);
  });
});

describe('bounds and notes', () => {
  test('B1 --kimg 1e308 is refused', async () => expectExit(await cli(['train', ...TINY, '--kimg', '1e308', '--dry-run']), 2, /at most 100000 kimg/));
  test('B2 --kimg 0.0001 (less than one batch) is refused', async () => expectExit(await cli(['train', ...TINY, '--kimg', '0.0001', '--dry-run']), 2, /less than one batch/));
  test('B3 --grid 1000 is refused', async () => expectExit(await cli(['train', ...TINY, '--grid', '1000', '--dry-run']), 2, /gridSize 1000/));
  test('B4 --seeds 1,,2 is refused', async () => expectExit(await cli(['generate', '--snapshot', CRASHED, '--seeds', '1,,2', '--out', '/tmp/gi-never.png']), 2, /empty entry/));
  test('B5 --seeds 0-100000000 is refused', async () => expectExit(await cli(['generate', '--snapshot', CRASHED, '--seeds', '0-100000000', '--out', '/tmp/gi-never.png']), 2, /too many seeds/));
  test('B6 --kimg -1 and --kimg NaN are refused', async () => {
    expectExit(await cli(['train', ...TINY, '--kimg', '-1', '--dry-run']), 2, /kimg/);
    expectExit(await cli(['train', ...TINY, '--kimg', 'NaN', '--dry-run']), 2, /kimg/);
  });
  test('B7 a dataset.json with labels is said to be ignored', async () => {
    const data = await tmp();
    const labels: Array<[string, number]> = [];
    for (let i = 0; i < 4; i++) {
      const png = new PNG({ width: 16, height: 16 });
      png.data.fill(40 * i);
      fs.writeFileSync(path.join(data, `img${i}.png`), PNG.sync.write(png));
      labels.push([`img${i}.png`, i % 2]);
    }
    fs.writeFileSync(path.join(data, 'dataset.json'), JSON.stringify({ labels }));
    const out = await tmp();
    const r = await cli(['train', ...TINY, '--kimg', '0.016', '--data', data, '--outdir', out]);
    expectExit(r, 0, /dataset\.json has class labels for 4 images; they are ignored/);
  });
  test('B9 FID on a 3-image dataset is flagged before training', { timeout: 300_000 }, async () => {
    const data = await tmp();
    for (let i = 0; i < 3; i++) {
      const png = new PNG({ width: 16, height: 16 });
      png.data.fill(60 * i + 20);
      fs.writeFileSync(path.join(data, `img${i}.png`), PNG.sync.write(png));
    }
    const r = await cli(['train', '--preset', 'tiny', '--metrics', 'fid50_lenet', '--kimg', '0.016', '--data', data, '--outdir', await tmp()], { timeoutMs: 280_000 });
    expectExit(r, 0, /Warning: fid50_lenet: the dataset has 3 images, fewer than the 128 feature dimensions FID needs/);
    assert.ok(r.all.indexOf('Warning: fid50_lenet') < r.all.indexOf('tick 1'), 'said before training');
  });

  test('B8 printed follow-up commands are shell-quoted', async () => {
    const out = path.join(await tmp(), "it's a dir");
    const r = await cli(['train', ...TINY, '--kimg', '0.016', '--outdir', out]);
    expectExit(r, 0, /generate --snapshot '.*it'\\''s a dir\/00000-[^']+' --seeds/);
  });
});

describe('hostile restore state (panels restored after a reload)', () => {
  // The guards the three panel serializers call (src/host/panels/restoreGuard.ts), on real folders and links.
  let ws: string, outside: string, run: string, snap: string;
  before(async () => {
    ws = await tmp();
    outside = await tmp();
    run = path.join(ws, 'runs', '00000-x');
    snap = path.join(run, 'network-snapshot-000000');
    fs.mkdirSync(snap, { recursive: true });
    fs.writeFileSync(path.join(run, 'training_options.json'), '{}');
    fs.mkdirSync(path.join(outside, '00000-evil', 'network-snapshot-000000'), { recursive: true });
    fs.writeFileSync(path.join(outside, '00000-evil', 'training_options.json'), '{}');
    fs.symlinkSync(path.join(outside, '00000-evil'), path.join(ws, 'runs', 'link-out'));
  });

  test('R1 a run folder under the workspace is restored (its real path)', () => {
    assert.deepEqual(guard.checkRestoredFolder(run, [ws]), { ok: true, path: fs.realpathSync(run) });
  });
  test('R2 a folder outside the workspace and runsRoots is dropped, with the reason', () => {
    const r = guard.checkRestoredFolder(path.join(outside, '00000-evil'), [ws]);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /outside the workspace and ganInspector\.runsRoots/);
  });
  test('R3 ../ traversal out of the workspace is dropped', () => {
    assert.equal(guard.checkRestoredFolder(path.join(ws, 'runs', '..', '..', path.basename(outside), '00000-evil'), [ws]).ok, false);
  });
  test('R4 a symbolic link inside the workspace that leads out is dropped', () => {
    const r = guard.checkRestoredFolder(path.join(ws, 'runs', 'link-out'), [ws]);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /really/);
  });
  test('R5 non-strings, relative paths, empty, NUL bytes and missing folders are dropped', () => {
    for (const bad of [42, null, {}, ['x'], '', 'runs/00000-x', `${run}\0`, path.join(ws, 'nope')]) assert.equal(guard.checkRestoredFolder(bad, [ws]).ok, false, String(bad));
  });
  test('R6 a snapshot must be a network-snapshot-* folder inside a run under a root', () => {
    assert.equal(guard.checkRestoredSnapshot(snap, [ws]).ok, true);
    assert.equal(guard.checkRestoredSnapshot(run, [ws]).ok, false);
    assert.equal(guard.checkRestoredSnapshot(path.join(outside, '00000-evil', 'network-snapshot-000000'), [ws]).ok, false);
    assert.equal(guard.checkRestoredSnapshot(path.join(ws, 'runs', 'link-out', 'network-snapshot-000000'), [ws]).ok, false);
  });
  test('R7 a comparison with one foreign folder is dropped whole; an all-local one is restored', () => {
    assert.equal(guard.checkRestoredFolders([run, path.join(outside, '00000-evil')], [ws]).ok, false);
    assert.equal(guard.checkRestoredFolders('not a list', [ws]).ok, false);
    assert.equal(guard.checkRestoredFolders(Array(65).fill(run), [ws]).ok, false);
    assert.deepEqual(guard.checkRestoredFolders([run], [ws]), { ok: true, paths: [fs.realpathSync(run)] });
  });
  test('R8 a runs root outside the workspace counts as allowed', () => {
    assert.equal(guard.checkRestoredFolder(path.join(outside, '00000-evil'), [ws, outside]).ok, true);
  });
});
