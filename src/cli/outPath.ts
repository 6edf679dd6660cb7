/**
 * Where `generate`/`cluster` may write: `--out` never replaces an existing file without `--force`,
 * never writes one of a run folder's own contract files (not even with --force), and a folder or a
 * missing parent is a clear error. Writing into a run folder takes its writer lock (runLock.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import { isRunContractName, RUN_FILES } from '../core/runs/runDir';
import { acquireRunLock } from '../core/runs/runLock';
import { fsUserError } from '../core/runs/fsErrors';

/** True when `dir` looks like a run folder (ours or official). */
export function isRunFolder(dir: string): boolean {
  return [RUN_FILES.options, RUN_FILES.status, RUN_FILES.stats].some((f) => fs.existsSync(path.join(dir, f)));
}

/** The run folder `p` (a file or folder path) lies in, directly or inside one of its snapshot folders. */
export function runFolderOf(p: string): string | undefined {
  const abs = path.resolve(p);
  for (let dir = abs, i = 0; i < 3; i++, dir = path.dirname(dir)) {
    if (isRunFolder(dir)) return dir;
    if (path.dirname(dir) === dir) break;
  }
  return undefined;
}

/** Checks an explicit `--out FILE`; returns its absolute path. */
export function checkOutPath(out: string, force: boolean): string {
  const abs = path.resolve(out);
  const dir = path.dirname(abs);
  const base = path.basename(abs);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENAMETOOLONG') throw new UserError(`--out ${out.slice(0, 80)}…: the file name is too long.`, 'Use a shorter name.');
    if (code === 'ENOTDIR') throw new UserError(`--out ${out}: a part of the path is a file, not a folder.`, 'Check the path.');
  }
  if (st?.isDirectory()) throw new UserError(`--out ${out} is a folder.`, `Give a file name, e.g. --out ${path.join(out, 'grid.png')}.`);
  const run = runFolderOf(dir);
  const inSnapshot = run !== undefined && path.relative(run, dir).split(path.sep).some((s) => /^network-snapshot-/.test(s));
  if (run !== undefined && (inSnapshot || (dir === run && isRunContractName(base)))) {
    throw new UserError(`--out ${out} is ${inSnapshot ? 'inside a snapshot of' : 'one of the files of'} run ${path.basename(run)}; GAN Inspector never writes those (not even with --force).`,
      'Choose another file name.');
  }
  if (st && !force) throw new UserError(`--out ${out} already exists.`, 'Add --force to replace it, or choose another name.');
  if (!st) {
    let pst: fs.Stats | undefined;
    try { pst = fs.statSync(dir); } catch { /* missing */ }
    if (!pst) throw new UserError(`--out ${out}: the folder ${dir} does not exist.`, 'Create it first, or choose another folder.');
    if (!pst.isDirectory()) throw new UserError(`--out ${out}: ${dir} is a file, not a folder.`, 'Check the path.');
  }
  return abs;
}

/**
 * Runs `fn` holding the writer lock of the run folder the output lands in (`out`, or the snapshot's
 * run when the output goes next to it), if it lands in one at all.
 */
export async function withOutputLock<T>(out: string | undefined, snapshot: string, purpose: string, fn: () => Promise<T>): Promise<T> {
  const run = out !== undefined ? runFolderOf(path.dirname(path.resolve(out))) : runFolderOf(snapshot);
  if (!run || !fs.existsSync(path.join(run, RUN_FILES.options))) return fn();
  let lock;
  try {
    lock = acquireRunLock(run, purpose);
  } catch (e) {
    throw fsUserError(e, { doing: `writing into run ${path.basename(run)}`, then: 'Give --out FILE in a writable folder outside the run.' }) ?? e;
  }
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Says on stderr when `--snapshot RUN` will use an older snapshot because newer ones are broken (which and why). */
export async function noteOlderSnapshot(snapshot: string, err: (s: string) => void): Promise<void> {
  const { resolveSnapshotPath } = await import('../core/analysis/generate');
  const { olderSnapshotNote } = await import('../core/runs/snapshotNote');
  const note = await olderSnapshotNote(snapshot, await resolveSnapshotPath(snapshot));
  if (note) err(`Note: ${note}\n`);
}
