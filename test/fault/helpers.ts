/**
 * Helpers of the fault suite: the real CLI in real processes (bin/gan-inspector.js → dist/cli.js),
 * real files, real signals; a base run made once and copied per case; folder hashes to prove that
 * no byte of earlier data changed; small tmpfs and read-only bind mounts when running as root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as assert from 'node:assert/strict';

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'gan-inspector.js');

/** Env of every CLI call: the portable backend, no inherited fault hooks. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!extra.GAN_INSPECTOR_FAULT_PAUSE) {
    delete env.GAN_INSPECTOR_FAULT_PAUSE;
    delete env.GAN_INSPECTOR_FAULT_SKIP;
  }
  return env;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout + stderr */
  all: string;
}

/** Runs `gan-inspector …args` to completion. */
export function cli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(opts.env), cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, all: stdout + stderr });
    });
  });
}

/** A CLI process left running: its output so far, a wait for a line, and its end. */
export interface Running {
  child: ChildProcess;
  out(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  const waiters: Array<() => void> = [];
  const poke = () => { for (const w of waiters.splice(0)) w(); };
  child.stdout!.on('data', (d) => { stdout += d; poke(); });
  child.stderr!.on('data', (d) => { stderr += d; poke(); });
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => { poke(); resolve({ code, signal, stdout, stderr, all: stdout + stderr }); }));
  let exited = false;
  void done.then(() => { exited = true; });
  return {
    child,
    out: () => stdout + stderr,
    done,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const check = () => {
          if (re.test(stdout + stderr)) return resolve();
          if (exited) return reject(new Error(`process ended before ${re}: ${stdout}${stderr}`));
          if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${re}: ${stdout}${stderr}`));
          waiters.push(check);
          setTimeout(check, 200);
        };
        check();
      });
    },
  };
}

/** Every path under `dir` (hidden ones too) → sha256 of its bytes, 'dir' for folders, '->target' for links. */
export function hashTree(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, ent.name);
      const rel = path.relative(dir, p);
      if (skip(rel)) continue;
      if (ent.isSymbolicLink()) out[rel] = '->' + fs.readlinkSync(p);
      else if (ent.isDirectory()) { out[rel] = 'dir'; walk(p); }
      else out[rel] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Asserts that every entry of `before` is still there with the same bytes (new entries are allowed unless `exact`). */
export function assertKept(before: Record<string, string>, after: Record<string, string>, exact = false): void {
  const changed = Object.keys(before).filter((k) => after[k] !== before[k]);
  assert.deepEqual(changed, [], `changed or missing: ${changed.join(', ')}`);
  if (exact) {
    const added = Object.keys(after).filter((k) => !(k in before));
    assert.deepEqual(added, [], `new entries: ${added.join(', ')}`);
  }
}

/** A message for people: no JavaScript stack frames. */
export function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /\n\s+at .+[:(].*\d+:\d+\)?/, `stack trace in output:\n${text}`);
  assert.doesNotMatch(text, /Internal error/, text);
}

export async function makeTmp(prefix = 'gi-fault-'): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** The single run folder inside `outdir`. */
export function onlyRun(outdir: string): string {
  const runs = fs.readdirSync(outdir).filter((n) => /^\d{5}-/.test(n));
  assert.equal(runs.length, 1, `runs in ${outdir}: ${runs.join(', ')}`);
  return path.join(outdir, runs[0]);
}

/** Copies run folder `src` into a fresh temp parent; returns the copy. */
export async function copyRun(src: string): Promise<string> {
  const parent = await makeTmp();
  const dest = path.join(parent, path.basename(src));
  await fsp.cp(src, dest, { recursive: true, preserveTimestamps: true });
  return dest;
}

/** Lines of a file as raw strings with their '\n'. */
export function rawLines(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Progress/kimg means of stats.jsonl's parseable lines. */
export function statsKimgs(file: string): number[] {
  const out: number[] = [];
  for (const l of rawLines(file)) {
    try {
      const v = JSON.parse(l.replace(/\bNaN\b|-?Infinity\b/g, '0'));
      out.push(v['Progress/kimg'].mean);
    } catch { /* not a stats line */ }
  }
  return out;
}

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Mounts a tmpfs of `size` (e.g. '600k') on a new folder; undefined when this machine cannot (not root, no CAP_SYS_ADMIN). */
export function mountTmpfs(size: string): { dir: string; unmount(): void } | undefined {
  if (!isRoot()) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (r.status !== 0) { fs.rmdirSync(dir); return undefined; }
  return { dir, unmount: () => { spawnSync('umount', ['-l', dir]); fs.rmSync(dir, { recursive: true, force: true }); } };
}

/**
 * Makes `dir` read-only: a read-only bind mount as root (root ignores permission bits), else
 * chmod a-w of the folder tree. Returns the undo, or undefined when neither works here.
 */
export function makeReadOnly(dir: string): (() => void) | undefined {
  if (isRoot()) {
    if (spawnSync('mount', ['--bind', dir, dir]).status !== 0) return undefined;
    if (spawnSync('mount', ['-o', 'remount,bind,ro', dir]).status !== 0) { spawnSync('umount', [dir]); return undefined; }
    return () => { spawnSync('umount', ['-l', dir]); };
  }
  const modes: Array<[string, number]> = [];
  const walk = (d: string) => {
    modes.push([d, fs.statSync(d).mode]);
    for (const ent of fs.readdirSync(d, { withFileTypes: true })) if (ent.isDirectory()) walk(path.join(d, ent.name));
  };
  walk(dir);
  for (const [d, m] of modes) fs.chmodSync(d, m & ~0o222);
  return () => { for (const [d, m] of modes.reverse()) fs.chmodSync(d, m); };
}

/** Fills the file system holding `dir` until a write fails with ENOSPC; returns the filler file. */
export function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler.bin');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    // Single bytes too, so that not even a small file fits.
    try { for (;;) fs.writeSync(fd, Buffer.alloc(1)); } catch { /* full */ }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** A process id that is certainly not alive (a child that has exited). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

/** A live process we own (for "held by a live writer" locks); kill it when done. */
export function liveProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
}

/** Writes a lock file as if `pid` on `host` held the run. */
export function writeLock(runDir: string, pid: number, host = os.hostname(), purpose = 'train'): string {
  const file = path.join(runDir, '.gan-inspector-writer.lock');
  fs.writeFileSync(file, JSON.stringify({ pid, host, startedAt: new Date(Date.now() - 60_000).toISOString(), purpose }) + '\n');
  return file;
}
