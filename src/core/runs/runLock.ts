/**
 * One writer per run folder: an O_EXCL lock file `.gan-inspector-writer.lock` holding the writer's
 * pid, host, start time and purpose. It is taken before the first write (trainer, --resume,
 * `metrics`, `generate`/`cluster` writing into the run) and removed on release or process exit.
 * A lock whose process is gone (same host, pid not alive) is stale and is taken over; a live holder
 * makes the second writer fail with a UserError naming it. The name starts with '.', so readers skip it.
 *
 * The same lock-file primitive (acquireLockFile) also guards the choice of the next run id in an
 * output folder (runDir.ts), held for milliseconds and waited for instead of refused.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { isPidAlive } from '../util/process';

export const RUN_LOCK_NAME = '.gan-inspector-writer.lock';

/** What a lock file holds. */
export interface RunLockInfo {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  startedAt: string;
  /** What the holder is doing: 'train', 'resume', 'metrics', 'generate', … */
  purpose: string;
}

export interface RunLock {
  readonly file: string;
  readonly info: RunLockInfo;
  /** Removes the lock file if it is still ours; idempotent. */
  release(): void;
}

const held = new Map<string, RunLock>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' also runs after process.exit(); a kill -9 leaves the file, which the next writer finds stale.
  process.on('exit', () => {
    for (const l of [...held.values()]) l.release();
  });
}

function isLockInfo(x: RunLockInfo | Record<string, never>): x is RunLockInfo {
  return typeof (x as RunLockInfo).pid === 'number';
}

/** Reads a lock file; undefined when missing, `{}` when unreadable or not our JSON (a torn write). */
export function readRunLock(file: string): RunLockInfo | undefined | Record<string, never> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return {};
  }
  try {
    const v = JSON.parse(text) as RunLockInfo | number;
    // Only a pid: a run-id lock of an older version (this host's, as it wrote no host).
    if (Number.isSafeInteger(v) && (v as number) > 0) return { pid: v as number, host: os.hostname(), startedAt: '', purpose: 'choosing a run id' };
    return typeof v === 'object' && typeof v?.pid === 'number' && typeof v.host === 'string' ? v : {};
  } catch {
    return {};
  }
}

/** A lock file held by another live process (or being written right now). */
export class LockHeldError extends UserError {
  constructor(message: string, hint: string, readonly holder: RunLockInfo | undefined) {
    super(message, hint);
  }
}

export interface LockFileOptions {
  /** A lock older than this is stale whoever holds it (for locks held for moments: a holder on another host cannot be probed). */
  staleAfterMs?: number;
  /** Hears about a stale lock that was taken over (a crashed holder). */
  onStale?: (why: string, info: RunLockInfo | Record<string, never>) => void;
}

/** Why an existing lock no longer protects anything, or null when its holder may still be writing. */
function staleReason(file: string, info: RunLockInfo | Record<string, never>, staleAfterMs?: number): string | null {
  if (staleAfterMs !== undefined) {
    try {
      if (Date.now() - fs.statSync(file).mtimeMs > staleAfterMs) return `it is older than ${Math.round(staleAfterMs / 1000)} s`;
    } catch {
      return 'vanished';
    }
  }
  if (!isLockInfo(info)) {
    // Written in one call right after the O_EXCL create: empty/garbage for more than 2 s means its writer died in between.
    try {
      const age = Date.now() - fs.statSync(file).mtimeMs;
      return age > 2000 ? 'an unreadable lock file left by a crash' : null;
    } catch {
      return 'vanished';
    }
  }
  if (info.host !== os.hostname()) return null; // cannot probe another machine's processes
  if (info.pid === process.pid) return null; // ours (held elsewhere in this process)
  return isPidAlive(info.pid) ? null : `its process ${info.pid} is gone`;
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

// Two writers may find the same stale lock; a short O_EXCL "takeover" file lets only one of them
// remove it, after checking again that it is still the stale one (not a fresh lock of the other).
function takeOverStale(file: string, seen: RunLockInfo | Record<string, never>): void {
  const tk = `${file}.takeover`;
  try {
    fs.closeSync(fs.openSync(tk, 'wx'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - fs.statSync(tk).mtimeMs > 5000) fs.rmSync(tk, { force: true }); // its taker died
    } catch { /* gone */ }
    sleepSync(20);
    return;
  }
  try {
    const now = readRunLock(file);
    const same = now !== undefined && (isLockInfo(seen) ? isLockInfo(now) && now.pid === seen.pid && now.startedAt === seen.startedAt : !isLockInfo(now));
    if (same) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(tk, { force: true });
  }
}

function describeHolder(info: RunLockInfo): string {
  return `${info.purpose} (pid ${info.pid} on ${info.host}, since ${info.startedAt})`;
}

/**
 * Takes the writer lock of `runDir` or throws a UserError (LockHeldError) naming the holder. `onStale`
 * hears about a stale lock that was taken over (a crashed writer).
 */
export function acquireRunLock(runDir: string, purpose: string, onStale?: (why: string, info: RunLockInfo | Record<string, never>) => void): RunLock {
  const dir = path.resolve(runDir);
  const file = path.join(dir, RUN_LOCK_NAME);
  if (held.has(file)) {
    const h = held.get(file)!;
    throw new UserError(`${path.basename(dir)} is already being written by this process (${h.info.purpose}).`);
  }
  return acquireLockFile(file, purpose, { onStale });
}

/**
 * Takes the lock file `file` (O_EXCL; the holder's pid, host, time and purpose as JSON), taking over a
 * stale one, or throws LockHeldError naming the live holder. Released by `release()` or at exit.
 */
export function acquireLockFile(file: string, purpose: string, opts: LockFileOptions = {}): RunLock {
  const dir = path.dirname(file);
  const info: RunLockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), purpose };
  for (let attempt = 0; attempt < 50; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw e; // ENOSPC/EROFS/EACCES/ENOENT: the caller maps it to a message
      const other = readRunLock(file);
      if (other === undefined) continue; // released meanwhile
      const why = staleReason(file, other, opts.staleAfterMs);
      if (why === null) {
        if (isLockInfo(other)) {
          throw new LockHeldError(`${path.basename(dir)} is being written by ${describeHolder(other)}.`,
            other.host === os.hostname()
              ? 'Wait for it to finish or stop it first; only one process may write a run folder.'
              : `Only one process may write a run folder; if nothing runs on ${other.host} any more, delete ${file}.`, other);
        }
        throw new LockHeldError(`${path.basename(dir)} is being locked by another process right now.`, 'Try again in a moment.', undefined);
      }
      opts.onStale?.(why, other);
      takeOverStale(file, other);
      continue;
    }
    try {
      fs.writeSync(fd, JSON.stringify(info) + '\n');
      fs.closeSync(fd);
    } catch (e) {
      try { fs.closeSync(fd); } catch { /* already closed */ }
      fs.rmSync(file, { force: true });
      throw e;
    }
    const lock: RunLock = {
      file,
      info,
      release() {
        if (held.get(file) !== lock) return;
        held.delete(file);
        const now = readRunLock(file);
        if (now && isLockInfo(now) && now.pid === info.pid && now.startedAt === info.startedAt) fs.rmSync(file, { force: true });
      },
    };
    held.set(file, lock);
    installExitHook();
    return lock;
  }
  throw new UserError(`Could not take the writer lock of ${path.basename(dir)}: it keeps changing hands.`, 'Another process is starting on this run; try again.');
}

/** True when this process holds the writer lock of `runDir`. */
export function isRunLockHeld(runDir: string): boolean {
  return held.has(path.join(path.resolve(runDir), RUN_LOCK_NAME));
}

/** Runs `fn` holding the writer lock of `runDir`. */
export async function withRunLock<T>(runDir: string, purpose: string, fn: () => Promise<T>): Promise<T> {
  const lock = acquireRunLock(runDir, purpose);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
