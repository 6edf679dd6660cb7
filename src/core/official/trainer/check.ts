/**
 * Checks the official-trainer settings on use: the interpreter runs, `import torch` works (and what
 * it sees: version, CUDA, GPUs), the checkout has train.py, and its `--help` (parsed: which flags this
 * train.py takes). Every failure is a UserError that says which setting to change and how. No vscode.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../errors';
import { parseTrainHelp, type TrainHelp } from './args';

export interface OfficialTrainerSettings {
  /** ganInspector.officialTrainer.python: the interpreter (a name on PATH or a path). */
  python: string;
  /** ganInspector.officialTrainer.repo: the checkout holding train.py. */
  repo: string;
  /** ganInspector.officialTrainer.env: extra environment variables for train.py. */
  env: Record<string, string>;
  /** ganInspector.officialTrainer.extraArgs: extra train.py arguments. */
  extraArgs: string[];
}

export interface PythonInfo {
  python: string;
  pythonVersion: string;
  torchVersion: string;
  cuda: boolean;
  gpuCount: number;
}

export interface OfficialTrainerCheck {
  python: PythonInfo;
  repo: string;
  trainPy: string;
  help: TrainHelp;
  /** Has --reg_type (a GGDR checkout). */
  ggdr: boolean;
  /** Things to tell the user that do not stop a run (no CUDA, …). */
  warnings: string[];
}

const SETUP_HINT = 'See the README, "Official engine (PyTorch)": clone naver-ai/GGDR (or NVlabs/stylegan2-ada-pytorch), install PyTorch in a Python environment, and set ganInspector.officialTrainer.python / .repo.';

/** Expands `~/` and resolves a relative repo against the workspace folder. */
export function resolveRepo(repo: string, baseDir?: string): string {
  const r = repo.trim().startsWith('~/') ? path.join(os.homedir(), repo.trim().slice(2)) : repo.trim();
  return path.resolve(baseDir ?? process.cwd(), r);
}

/** What is missing before the official engine can be offered, in words (empty: settings look usable; run checkOfficialTrainer to be sure). */
export function officialSetupProblems(s: Pick<OfficialTrainerSettings, 'python' | 'repo'>, baseDir?: string): string[] {
  const out: string[] = [];
  if (!s.repo.trim()) out.push('ganInspector.officialTrainer.repo is not set (a clone of naver-ai/GGDR or NVlabs/stylegan2-ada-pytorch).');
  else if (!fs.existsSync(path.join(resolveRepo(s.repo, baseDir), 'train.py'))) out.push(`No train.py in ${resolveRepo(s.repo, baseDir)} (ganInspector.officialTrainer.repo).`);
  if (!s.python.trim()) out.push('ganInspector.officialTrainer.python is empty.');
  return out;
}

interface ExecResult { code: number | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException }

function run(file: string, args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, maxBuffer: 8 * 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      const e = error as (Error & { code?: unknown; killed?: boolean }) | null;
      const code = e ? (typeof e.code === 'number' ? e.code : null) : 0;
      let err: NodeJS.ErrnoException | undefined;
      if (e && typeof e.code === 'string') err = e as NodeJS.ErrnoException;
      else if (e?.killed) err = Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
      resolve({ code, stdout: String(stdout), stderr: String(stderr), error: err });
    });
  });
}

const lastLines = (s: string, n: number) => s.trim().split(/\r?\n/).filter((l) => l.trim()).slice(-n).join('\n');

const PROBE = [
  'import sys, json',
  'info = {"python": sys.executable, "pythonVersion": sys.version.split()[0]}',
  'try:',
  '    import torch',
  '    info["torchVersion"] = str(torch.__version__)',
  '    info["cuda"] = bool(torch.cuda.is_available())',
  '    info["gpuCount"] = int(torch.cuda.device_count()) if info["cuda"] else 0',
  'except Exception as e:',
  '    info["torchError"] = type(e).__name__ + ": " + str(e)',
  'print("GANINSPECTOR-PROBE " + json.dumps(info))',
].join('\n');

/** Runs the interpreter and imports torch. Throws UserError naming the setting and what to do. */
export async function checkPython(python: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<PythonInfo> {
  if (!python.trim()) throw new UserError('ganInspector.officialTrainer.python is empty.', SETUP_HINT);
  const r = await run(python, ['-c', PROBE], { env, timeoutMs });
  if (r.error?.code === 'ENOENT') {
    throw new UserError(`The Python interpreter "${python}" was not found (ganInspector.officialTrainer.python).`,
      'Set it to the python of the environment where PyTorch is installed, e.g. /opt/conda/envs/ggdr/bin/python or /usr/bin/python3.');
  }
  if (r.error?.code === 'EACCES') throw new UserError(`"${python}" cannot be executed (permission denied; ganInspector.officialTrainer.python).`);
  if (r.error?.code === 'ETIMEDOUT') throw new UserError(`"${python}" did not answer within ${Math.round(timeoutMs / 1000)} s (importing torch).`, 'Check the interpreter in a terminal: python -c "import torch".');
  const line = r.stdout.split(/\r?\n/).find((l) => l.startsWith('GANINSPECTOR-PROBE '));
  if (!line) {
    throw new UserError(`"${python}" (ganInspector.officialTrainer.python) did not run as Python (exit ${r.code}): ${lastLines(r.stderr || r.stdout, 3) || 'no output'}`,
      'Set it to a Python 3 interpreter.');
  }
  const info = JSON.parse(line.slice('GANINSPECTOR-PROBE '.length)) as Partial<PythonInfo> & { torchError?: string; python: string; pythonVersion: string };
  if (info.torchError !== undefined || !info.torchVersion) {
    throw new UserError(`PyTorch cannot be imported by ${info.python} (Python ${info.pythonVersion}; ganInspector.officialTrainer.python): ${info.torchError ?? 'unknown error'}`,
      'Point the setting at the environment where PyTorch is installed, or install it there (pip install torch; the official code was written for PyTorch 1.7–1.13).');
  }
  return { python: info.python, pythonVersion: info.pythonVersion, torchVersion: info.torchVersion, cuda: !!info.cuda, gpuCount: info.gpuCount ?? 0 };
}

/** Finds train.py in the checkout and parses its --help. */
export async function readTrainHelp(python: string, repo: string, env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<{ trainPy: string; help: TrainHelp; text: string }> {
  if (!repo.trim()) throw new UserError('ganInspector.officialTrainer.repo is not set: the official engine needs a checkout of the official code.', SETUP_HINT);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(repo);
  } catch {
    st = undefined;
  }
  if (!st?.isDirectory()) throw new UserError(`The official checkout ${repo} does not exist (ganInspector.officialTrainer.repo).`, SETUP_HINT);
  const trainPy = path.join(repo, 'train.py');
  if (!fs.existsSync(trainPy)) throw new UserError(`${repo} has no train.py (ganInspector.officialTrainer.repo).`, 'Point it at the root of a clone of naver-ai/GGDR or NVlabs/stylegan2-ada-pytorch.');
  const r = await run(python, ['train.py', '--help'], { cwd: repo, env, timeoutMs });
  if (r.error?.code === 'ETIMEDOUT') throw new UserError(`python train.py --help did not finish within ${Math.round(timeoutMs / 1000)} s in ${repo}.`);
  if (r.code !== 0 || !/Options:/.test(r.stdout)) {
    throw new UserError(`python train.py --help failed in ${repo} (exit ${r.code}): ${lastLines(r.stderr || r.stdout, 4) || 'no output'}`,
      'Install what it imports in that environment (click, requests, tqdm, pyspng, ninja, imageio-ffmpeg for stylegan2-ada-pytorch).');
  }
  return { trainPy, help: parseTrainHelp(r.stdout), text: r.stdout };
}

/**
 * All checks, in order: interpreter + torch, train.py + --help, GGDR's --reg_type when GGDR is asked.
 * `env` is the environment train.py will get.
 */
export async function checkOfficialTrainer(s: OfficialTrainerSettings, opts: { env: NodeJS.ProcessEnv; wantGgdr?: boolean; baseDir?: string }): Promise<OfficialTrainerCheck> {
  const repo = resolveRepo(s.repo, opts.baseDir);
  if (!s.repo.trim()) throw new UserError('ganInspector.officialTrainer.repo is not set: the official engine needs a checkout of the official code.', SETUP_HINT);
  const python = await checkPython(s.python, opts.env);
  const { trainPy, help } = await readTrainHelp(s.python, repo, opts.env);
  const ggdr = help.options.has('--reg_type');
  const warnings: string[] = [];
  if (!python.cuda) warnings.push(`PyTorch ${python.torchVersion} sees no CUDA GPU: the unmodified official train.py needs one (it trains on torch.device('cuda')); use --fp32 true if your checkout was made CPU-runnable.`);
  const check = { python, repo, trainPy, help, ggdr, warnings };
  if (opts.wantGgdr) requireGgdr(check);
  return check;
}

/** Throws when GGDR is asked of a checkout whose train.py has no --reg_type (also for a cached check). */
export function requireGgdr(check: Pick<OfficialTrainerCheck, 'ggdr' | 'trainPy'>): void {
  if (check.ggdr) return;
  throw new UserError(`GGDR was asked for, but ${check.trainPy} has no --reg_type option (it is StyleGAN2-ADA without GGDR).`,
    'Turn GGDR off for this run, or point ganInspector.officialTrainer.repo at a clone of naver-ai/GGDR.', { setting: 'ganInspector.officialTrainer.repo' });
}
