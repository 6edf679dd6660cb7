import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import {
  appendLineDurable, isTempName, removeStaleTemps, tempSiblingPath, writeDirAtomic, writeFileAtomic, writeFileAtomicSync, writeJsonAtomic,
} from '../../../src/core/runs/fsAtomic';
import { readStats } from '../../../src/core/runs/jsonlRead';
import { readRun } from '../../../src/core/runs/readRun';
import { isUserError } from '../../../src/core/errors';
import { makeTmp, rmTmp } from './helpers';

test('writeFileAtomic / writeJsonAtomic replace content and leave no temp files', async () => {
  const dir = await makeTmp();
  try {
    const f = path.join(dir, 'status.json');
    await writeJsonAtomic(f, { a: 1 });
    await writeJsonAtomic(f, { a: 2, b: [1, 2] });
    assert.deepEqual(JSON.parse(await fsp.readFile(f, 'utf8')), { a: 2, b: [1, 2] });
    await writeFileAtomic(path.join(dir, 'bin'), new Uint8Array([1, 2, 3]));
    writeFileAtomicSync(path.join(dir, 'sync.txt'), 'hello');
    assert.equal(await fsp.readFile(path.join(dir, 'sync.txt'), 'utf8'), 'hello');
    assert.deepEqual((await fsp.readdir(dir)).sort(), ['bin', 'status.json', 'sync.txt']);
  } finally {
    await rmTmp(dir);
  }
});

test('a failed atomic write throws and leaves neither target nor temp file', async () => {
  const dir = await makeTmp();
  try {
    await assert.rejects(writeFileAtomic(path.join(dir, 'missing-sub', 'f.json'), 'x'), /ENOENT/);
    // Rename onto a folder fails after the temp file was written: the temp must be cleaned up.
    await fsp.mkdir(path.join(dir, 'taken'));
    await fsp.writeFile(path.join(dir, 'taken', 'keep'), 'k');
    await assert.rejects(writeFileAtomic(path.join(dir, 'taken'), 'x'));
    assert.deepEqual(await fsp.readdir(dir), ['taken']);
  } finally {
    await rmTmp(dir);
  }
});

test('appendLineDurable appends whole lines and isolates a torn last line', async () => {
  const dir = await makeTmp();
  try {
    const f = path.join(dir, 'stats.jsonl');
    await appendLineDurable(f, '{"a":1}');
    await appendLineDurable(f, '{"a":2}');
    assert.equal(await fsp.readFile(f, 'utf8'), '{"a":1}\n{"a":2}\n');
    await fsp.appendFile(f, '{"a":3, "torn'); // a crash mid-line
    await appendLineDurable(f, '{"a":4}');
    assert.deepEqual((await fsp.readFile(f, 'utf8')).split('\n'), ['{"a":1}', '{"a":2}', '{"a":3, "torn', '{"a":4}', '']);
    await assert.rejects(appendLineDurable(f, 'two\nlines'), /newline/);
  } finally {
    await rmTmp(dir);
  }
});

test('writeDirAtomic fills a hidden temp folder, renames it, and refuses to replace', async () => {
  const dir = await makeTmp();
  try {
    const final = path.join(dir, 'network-snapshot-000004');
    let seenTmp = '';
    await writeDirAtomic(final, async (tmp) => {
      seenTmp = tmp;
      assert.ok(isTempName(path.basename(tmp)));
      assert.equal(path.dirname(tmp), dir);
      await fsp.writeFile(path.join(tmp, 'weights.bin'), Buffer.alloc(8));
      await fsp.mkdir(path.join(tmp, 'sub'));
      await fsp.writeFile(path.join(tmp, 'sub', 'x'), 'x');
    });
    assert.deepEqual(await fsp.readdir(dir), ['network-snapshot-000004']);
    assert.deepEqual((await fsp.readdir(final)).sort(), ['sub', 'weights.bin']);
    await assert.rejects(fsp.stat(seenTmp));

    await assert.rejects(writeDirAtomic(final, async () => undefined), (e) => isUserError(e) && /Refusing to replace/.test((e as Error).message));
    // An existing *empty* folder must be refused too (POSIX rename would silently replace it).
    const empty = path.join(dir, 'empty');
    await fsp.mkdir(empty);
    await assert.rejects(writeDirAtomic(empty, async (t) => fsp.writeFile(path.join(t, 'f'), 'f')), /Refusing/);
    assert.deepEqual(await fsp.readdir(empty), []);

    // fill fails → no final folder, no temp folder.
    const other = path.join(dir, 'network-snapshot-000008');
    await assert.rejects(writeDirAtomic(other, async (t) => {
      await fsp.writeFile(path.join(t, 'half'), 'h');
      throw new Error('disk full');
    }), /disk full/);
    assert.deepEqual((await fsp.readdir(dir)).sort(), ['empty', 'network-snapshot-000004']);
  } finally {
    await rmTmp(dir);
  }
});

test('a writer killed mid-write never leaves a half file; leftovers are ignored and cleanable', async () => {
  const dir = await makeTmp();
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'crashWriter.child.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 200));
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;

    const status = JSON.parse(await fsp.readFile(path.join(dir, 'status.json'), 'utf8'));
    assert.equal(status.end, 'complete'); // old or new content, always whole
    const { lines, skipped } = await readStats(path.join(dir, 'stats.jsonl'));
    assert.ok(lines.length >= 1);
    assert.ok(skipped <= 1, `only a torn last line may be skipped, got ${skipped}`);
    lines.forEach((l, i) => assert.equal(l.timestamp, i));

    // Leave a leftover for certain (the kill may have landed between writes), then read the folder.
    const leftover = tempSiblingPath(path.join(dir, 'status.json'));
    await fsp.writeFile(leftover, '{"half');
    const summary = await readRun(dir);
    assert.equal(summary.state, 'unknown'); // the status.json here is not a RunStatus: listed with a note, no throw
    assert.match(summary.lastError ?? '', /status\.json/);
    assert.equal(summary.snapshots.length, 0);

    assert.deepEqual(await removeStaleTemps(dir, 60_000), []); // fresh leftovers are kept (their writer may be alive)
    const removed = await removeStaleTemps(dir, 0);
    assert.ok(removed.includes(path.basename(leftover)));
    assert.ok((await fsp.readdir(dir)).every((n) => !isTempName(n)));

    // Appending after the crash: the torn line stays one skipped line, the new one reads back.
    await appendLineDurable(path.join(dir, 'stats.jsonl'), JSON.stringify({ timestamp: 1e6 }));
    const after = await readStats(path.join(dir, 'stats.jsonl'));
    assert.equal(after.lines[after.lines.length - 1].timestamp, 1e6);
    assert.equal(after.skipped, skipped);
  } finally {
    await rmTmp(dir);
  }
});
