/**
 * Helpers of the benchmark driver: child processes (Node children via bench/child.ts, the system
 * Python), machine description and load sampling.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TrainingOverrides } from '../src/core/config/options';

export const REPO = path.resolve(__dirname, '..');

/**
 * The training configuration every section measures: `mnist32` at the widths of the issue-#13 baseline
 * (channel base 512 / max 64, z = w = 64, batch 16). Pinned so the numbers stay comparable when the preset
 * changes: the demo's `mnist32` became a narrower model in the preset search (docs/presets.md).
 */
export const BENCH_TRAINING = { preset: 'mnist32', model: { zDim: 64, wDim: 64, channelBase: 512, channelMax: 64 } } as const satisfies TrainingOverrides;

/** Debian's python3-torch / python3-numpy live in the system Python, not the pyenv one first on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
  wallSec: number;
  timedOut: boolean;
}

/** Runs a command, capturing output; kills it (by its own pid) after timeoutSec. */
export function runProcess(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutSec: number; cwd?: string }): Promise<ProcResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutSec * 1000);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: -1, stdout, stderr: stderr + String(e), wallSec: (performance.now() - t0) / 1000, timedOut }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, wallSec: (performance.now() - t0) / 1000, timedOut }); });
  });
}

/** Result of a bench/child.ts run, or why there is none. */
export type ChildOutcome<T> = { ok: true; value: T; wallSec: number } | { ok: false; error: string; wallSec: number; progress?: Record<string, unknown> };

/** The last `PROGRESS {json}` line a child wrote to stderr. */
function lastProgress(stderr: string): Record<string, unknown> | undefined {
  const lines = stderr.split('\n').filter((l) => l.startsWith('PROGRESS '));
  if (!lines.length) return undefined;
  try { return JSON.parse(lines[lines.length - 1].slice(9)) as Record<string, unknown>; } catch { return undefined; }
}

/** Runs one bench/child.ts mode in a fresh Node process. */
export async function runChild<T>(mode: string, args: object, opts: { timeoutSec: number; nodeArgs?: string[]; tmpDir: string }): Promise<ChildOutcome<T>> {
  const out = path.join(opts.tmpDir, `child-${mode}-${process.hrtime.bigint()}.json`);
  const r = await runProcess(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', path.join(REPO, 'bench', 'child.ts'), mode, JSON.stringify(args), out], { timeoutSec: opts.timeoutSec });
  const progress = lastProgress(r.stderr);
  const stderr = r.stderr.split('\n').filter((l) => !l.startsWith('PROGRESS ')).join('\n');
  if (r.timedOut) return { ok: false, error: `timed out after ${opts.timeoutSec} s`, wallSec: r.wallSec, progress };
  if (r.code !== 0 || !fs.existsSync(out)) {
    const errLine = stderr.split('\n').find((l) => /^\w*Error\b|^Error:/.test(l.trim()));
    return { ok: false, error: `exit ${r.code}: ${errLine ? errLine.trim().slice(0, 400) : lastLines(stderr, 4) || lastLines(r.stdout, 4)}`, wallSec: r.wallSec, progress };
  }
  const value = JSON.parse(fs.readFileSync(out, 'utf8')) as T;
  fs.rmSync(out, { force: true });
  return { ok: true, value, wallSec: r.wallSec };
}

/** Runs a script with the system Python; stdout's last line must be a JSON object. */
export async function runPython<T>(script: string, args: string[], opts: { timeoutSec: number; env?: NodeJS.ProcessEnv }): Promise<ChildOutcome<T>> {
  if (!fs.existsSync(SYSTEM_PYTHON)) return { ok: false, error: `${SYSTEM_PYTHON} not found`, wallSec: 0 };
  const r = await runProcess(SYSTEM_PYTHON, [path.join(REPO, script), ...args], { timeoutSec: opts.timeoutSec, env: opts.env });
  if (r.timedOut) return { ok: false, error: `timed out after ${opts.timeoutSec} s`, wallSec: r.wallSec };
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) return { ok: false, error: `exit ${r.code}: ${lastLines(r.stderr, 3)}`, wallSec: r.wallSec };
  return { ok: true, value: JSON.parse(line) as T, wallSec: r.wallSec };
}

/** Whether the system Python can import a module (e.g. torch); the error line when not. */
export async function pythonHas(module: string): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  if (!fs.existsSync(SYSTEM_PYTHON)) return { ok: false, reason: `${SYSTEM_PYTHON} not found` };
  const r = await runProcess(SYSTEM_PYTHON, ['-c', `import ${module}; print(${module}.__version__)`], { timeoutSec: 60 });
  if (r.code === 0) return { ok: true, version: r.stdout.trim() };
  return { ok: false, reason: `${SYSTEM_PYTHON} cannot import ${module} (${lastLines(r.stderr, 1)}); install it with \`apt-get install -y python3-${module}\`` };
}

export function lastLines(s: string, n: number): string {
  return s.trim().split('\n').slice(-n).join(' | ').slice(0, 600);
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memGB: number;
  node: string;
  platform: string;
  tfjs: string;
  tfjsWasm: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch { /* not Linux: os.cpus() model stays */ }
  const pkgVersion = (p: string) => { try { return (JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version; } catch { return 'not installed'; } };
  return {
    cpuModel,
    cores: os.availableParallelism(),
    memGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    tfjs: pkgVersion('@tensorflow/tfjs'),
    tfjsWasm: pkgVersion('@tensorflow/tfjs-backend-wasm'),
    date: new Date().toISOString(),
  };
}

/** 1-minute load average (other processes competing for the 2 cores make timings noisy). */
export function load1(): number {
  return Math.round(os.loadavg()[0] * 100) / 100;
}

/** Median of xs (NaN when empty). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
}
