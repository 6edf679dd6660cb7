/**
 * Crash-safe file writes for the run folder: readers (the extension, the CLI, a second window) see
 * either the old or the new content, never half a file. Temp names start with '.' so that readers
 * skip leftovers of a crash.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors';
import { isPidAlive } from '../util/process';
import { faultPoint } from './faultPoint';

/** Temp sibling name for `target`: hidden, unique per process and call. */
export function tempSiblingPath(target: string, suffix = '.tmp'): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}${suffix}`);
}

/** True for names that writers use for temp files/folders (readers ignore them). */
export function isTempName(name: string): boolean {
  return name.startsWith('.');
}

const RETRYABLE_RENAME = new Set(['EPERM', 'EACCES', 'EBUSY']);

// Windows refuses to rename over a file another process has open (a viewer reading status.json);
// the lock is brief, so a few short retries succeed.
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rename(from, to);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (attempt >= 8 || !RETRYABLE_RENAME.has(code) || process.platform !== 'win32') throw e;
      await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
    }
  }
}

// fsync of the folder makes the rename itself durable on POSIX; Windows cannot open folders, so skip.
async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Some filesystems (network mounts) do not support it; the data itself is already synced.
  } finally {
    await fh?.close();
  }
}

/** File-handle writes fail without a path (a bare "ENOSPC"); name the file, so messages can say which and where. */
export function withPath(e: unknown, target: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && !err.path) err.path = target;
  return e;
}

/** Writes `data` to `target` atomically: temp file in the same folder, fsync, rename. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempSiblingPath(target);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx');
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    faultPoint(`atomic-write:${path.basename(target)}`);
    await renameWithRetry(tmp, target);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw withPath(e, target);
  }
  await fsyncDir(path.dirname(target));
}

/** Synchronous writeFileAtomic, for exit handlers where nothing async runs any more. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  const tmp = tempSiblingPath(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw withPath(e, target);
  }
}

/** Writes `obj` as pretty JSON (2-space indent, trailing newline) atomically. */
export async function writeJsonAtomic(target: string, obj: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(obj, null, 2) + '\n');
}

/**
 * Appends one line (no '\n' inside) plus '\n' and fsyncs. If the file does not end with '\n'
 * (a line torn by an earlier crash), a '\n' goes first so the torn line stays one skippable line.
 */
export async function appendLineDurable(target: string, line: string): Promise<void> {
  if (line.includes('\n')) throw new Error(`appendLineDurable: line contains a newline (${target})`);
  const fh = await fsp.open(target, 'a+');
  try {
    const { size } = await fh.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    // One write call: a concurrent reader sees the line whole or not at all (or a prefix it holds back).
    await fh.write(prefix + line + '\n');
    await fh.sync();
  } catch (e) {
    throw withPath(e, target);
  } finally {
    await fh.close();
  }
}

async function fsyncTree(dir: string): Promise<void> {
  for (const ent of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) await fsyncTree(p);
    else if (ent.isFile()) {
      const fh = await fsp.open(p, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates folder `finalDir` atomically: `fill` writes into a hidden temp sibling, whose files are
 * fsynced before it is renamed into place. Refuses (UserError) when `finalDir` already exists;
 * on any failure the temp folder is removed and `finalDir` does not appear.
 */
export async function writeDirAtomic(finalDir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const refuse = () =>
    new UserError(
      `Refusing to replace existing folder ${finalDir}.`,
      'Snapshot folders are never overwritten; delete it or write to a new name.',
    );
  if (await exists(finalDir)) throw refuse();
  const tmp = tempSiblingPath(finalDir, '.tmpdir');
  await fsp.mkdir(tmp);
  try {
    await fill(tmp);
    await fsyncTree(tmp);
    // Re-check right before the rename: POSIX rename() would silently replace an *empty* folder.
    if (await exists(finalDir)) throw refuse();
    try {
      await renameWithRetry(tmp, finalDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw refuse();
      throw e;
    }
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw withPath(e, finalDir);
  }
  await fsyncDir(path.dirname(finalDir));
}

/** Pid of the writer encoded in a temp name (tempSiblingPath), or undefined. */
function tempWriterPid(name: string): number | undefined {
  const m = /\.(\d+)\.[0-9a-f]{8}\.tmp(dir)?$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes temp leftovers of crashed writers (tempSiblingPath names) in `dir`: those older than
 * `maxAgeMs`, and with `deadWriters` also those whose writer process (the pid in the name) is gone —
 * safe only while holding the folder's writer lock (see runLock.ts). Returns their names.
 */
export async function removeStaleTemps(dir: string, opts: { maxAgeMs?: number; deadWriters?: boolean } | number = {}): Promise<string[]> {
  const o = typeof opts === 'number' ? { maxAgeMs: opts } : opts;
  const maxAgeMs = o.maxAgeMs ?? 60 * 60 * 1000;
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return removed;
  }
  const now = Date.now();
  for (const name of names) {
    const pid = isTempName(name) ? tempWriterPid(name) : undefined;
    if (pid === undefined) continue;
    const p = path.join(dir, name);
    try {
      const st = await fsp.lstat(p);
      const dead = o.deadWriters && pid !== process.pid && !isPidAlive(pid);
      if (!dead && now - st.mtimeMs < maxAgeMs) continue;
      await fsp.rm(p, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Vanished meanwhile (its writer finished): nothing to do.
    }
  }
  return removed;
}
