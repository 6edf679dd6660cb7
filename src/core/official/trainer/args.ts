/**
 * The command line of the official StyleGAN2-ADA / GGDR `train.py` (NVlabs/stylegan2-ada-pytorch,
 * naver-ai/GGDR): what the user chose → argv, passing only flags that the installed train.py
 * declares in its `--help` (checkouts differ: GGDR adds --reg_type/--ggdr_res, forks add their own).
 * No vscode, no child processes: pure functions, unit-tested.
 */
import { UserError } from '../../errors';
import { shellQuote } from '../../util/shellQuote';

/** One option of `train.py --help`. */
export interface TrainHelpOption {
  /** "--reg_type" (long form). */
  flag: string;
  /** "INT", "PATH", … ; undefined for switches such as --dry-run. */
  metavar?: string;
  /** "[none|ggdr]" → ['none', 'ggdr']. */
  choices?: string[];
  /** The first line of its help text. */
  help: string;
}

/** What `train.py --help` says, parsed. */
export interface TrainHelp {
  options: Map<string, TrainHelpOption>;
}

/** Parses click's `--help` output. Lines look like `  --cfg [auto|stylegan2|…]  Base config [default: auto]`. */
export function parseTrainHelp(text: string): TrainHelp {
  const options = new Map<string, TrainHelpOption>();
  const lines = text.split(/\r?\n/);
  let inOptions = false;
  for (const line of lines) {
    if (/^Options:\s*$/.test(line)) {
      inOptions = true;
      continue;
    }
    if (!inOptions) continue;
    const m = /^\s{1,6}(?:-[A-Za-z],\s*)?(--[A-Za-z0-9][\w-]*)(?:[ =](\[[^\]]*\]|[A-Z][A-Z0-9_]*))?\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, flag, meta, rest] = m;
    const opt: TrainHelpOption = { flag, help: rest.trim() };
    if (meta?.startsWith('[')) {
      opt.choices = meta.slice(1, -1).split('|').map((s) => s.trim()).filter(Boolean);
      opt.metavar = 'CHOICE';
    } else if (meta) opt.metavar = meta;
    options.set(flag, opt);
  }
  return { options };
}

/** Base configurations of stock StyleGAN2-ADA, used when the help gives no list. */
export const DEFAULT_CFGS = ['auto', 'stylegan2', 'paper256', 'paper512', 'paper1024', 'cifar'] as const;
export const AUG_MODES = ['ada', 'noaug', 'fixed'] as const;
export type AugMode = (typeof AUG_MODES)[number];

/** What a user chose for an official run (Train… answers, stored per workspace). */
export interface OfficialChoices {
  /** Dataset zip or image folder (absolute, or relative to the workspace folder). */
  data: string;
  /** --cfg: auto | stylegan2 | paper256 | … | cifar. */
  cfg: string;
  /** GGDR on (--reg_type ggdr) or off (--reg_type none where train.py has --reg_type). */
  ggdr: boolean;
  /** --ggdr_res: feature-map resolution GGDR regresses; 0 = train.py's default (64). */
  ggdrRes: number;
  /** --gpus: GPUs, one process each (torch.distributed). */
  gpus: number;
  /** --batch: total batch over all GPUs; 0 = the cfg's. */
  batch: number;
  /** --kimg: training length in thousands of images (integer); 0 = the cfg's (25000). */
  kimg: number;
  /** --snap: network-snapshot interval in ticks; 0 = train.py's default (50). */
  snap: number;
  /** --metrics: "none" or a comma list (fid50k_full, kid50k_full, …). */
  metrics: string;
  /** --mirror: dataset x-flips. */
  mirror: boolean;
  /** --aug: ada | noaug | fixed. */
  aug: AugMode;
  /** --resume: a network-snapshot .pkl (or a name train.py knows); '' = none. */
  resume: string;
  /** --seed. */
  seed: number;
  /** --fp32 true: no mixed precision (needed without a CUDA GPU). */
  fp32: boolean;
}

export const DEFAULT_OFFICIAL_CHOICES: OfficialChoices = {
  data: '', cfg: 'auto', ggdr: true, ggdrRes: 0, gpus: 1, batch: 0, kimg: 0, snap: 0, metrics: 'none',
  mirror: false, aug: 'ada', resume: '', seed: 0, fp32: false,
};

/** True for a value shaped like OfficialChoices (workspace state may hold anything). */
export function isOfficialChoices(v: unknown): v is OfficialChoices {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  const num = (k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]);
  return typeof o.data === 'string' && typeof o.cfg === 'string' && typeof o.ggdr === 'boolean' && num('ggdrRes') && num('gpus')
    && num('batch') && num('kimg') && num('snap') && typeof o.metrics === 'string' && typeof o.mirror === 'boolean'
    && typeof o.aug === 'string' && (AUG_MODES as readonly string[]).includes(o.aug) && typeof o.resume === 'string' && num('seed') && typeof o.fp32 === 'boolean';
}

/** The argv after `python train.py`, and what was left out. */
export interface BuiltArgs {
  /** e.g. ['--outdir=/w/runs', '--data=/w/mnist32.zip', '--cfg=cifar', …]. */
  args: string[];
  /** Choices this train.py cannot take and that were therefore not passed (said to the user). */
  omitted: string[];
}

export interface BuildArgsOptions {
  outdir: string;
  /** Parsed `train.py --help` of the checkout that will run. */
  help: TrainHelp;
  /** ganInspector.officialTrainer.extraArgs: passed after ours, each --flag checked against the help. */
  extraArgs?: string[];
  /** Where train.py is (for messages). */
  trainPy?: string;
}

const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Validation of each choice, in words; undefined when fine. */
export function validateOfficialChoice<K extends keyof OfficialChoices>(key: K, value: OfficialChoices[K]): string | undefined {
  const v = value as unknown;
  const int = (min: number, what: string) => (typeof v === 'number' && Number.isInteger(v) && v >= min ? undefined : `${what} must be an integer ≥ ${min}.`);
  switch (key) {
    case 'data': return typeof v === 'string' && v.trim() ? undefined : 'Choose a dataset zip or image folder.';
    case 'gpus': return int(1, '--gpus');
    case 'batch': return int(0, '--batch (0 = the cfg\'s)');
    case 'kimg': return int(0, '--kimg (the official train.py takes whole kimg)');
    case 'snap': return int(0, '--snap');
    case 'seed': return int(0, '--seed');
    case 'ggdrRes': return v === 0 || (typeof v === 'number' && isPow2(v) && v >= 8) ? undefined : '--ggdr_res must be 0 (default) or a power of two ≥ 8 (at most the dataset resolution).';
    case 'metrics': return typeof v === 'string' && /^(none|[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*)$/.test(v.replace(/\s+/g, '')) ? undefined : '--metrics: "none" or a comma-separated list such as fid50k_full,kid50k_full.';
    default: return undefined;
  }
}

/**
 * Builds train.py's argv. Throws UserError when a choice cannot be honoured by this train.py (GGDR asked
 * of a checkout without --reg_type, a required flag missing, an extra arg it does not declare, a batch
 * not divisible by the GPUs).
 */
export function buildTrainArgs(c: OfficialChoices, o: BuildArgsOptions): BuiltArgs {
  const has = (f: string) => o.help.options.has(f);
  const where = o.trainPy ?? 'train.py';
  for (const k of Object.keys(DEFAULT_OFFICIAL_CHOICES) as (keyof OfficialChoices)[]) {
    const problem = validateOfficialChoice(k, c[k]);
    if (problem) throw new UserError(`Official trainer: ${problem}`);
  }
  for (const req of ['--outdir', '--data']) {
    if (!has(req)) throw new UserError(`${where} has no ${req} option: it does not look like StyleGAN2-ADA's train.py.`, 'Point ganInspector.officialTrainer.repo at a clone of naver-ai/GGDR or NVlabs/stylegan2-ada-pytorch.');
  }
  if (c.ggdr && !has('--reg_type')) {
    throw new UserError(`GGDR was asked for, but ${where} has no --reg_type option (it is StyleGAN2-ADA without GGDR).`,
      'Turn GGDR off for this run, or point ganInspector.officialTrainer.repo at a clone of naver-ai/GGDR.');
  }
  if (c.batch > 0 && c.batch % c.gpus !== 0) throw new UserError(`--batch ${c.batch} is not divisible by --gpus ${c.gpus}.`, 'train.py splits the batch evenly over the GPUs.');
  const cfgChoices = o.help.options.get('--cfg')?.choices;
  if (cfgChoices && !cfgChoices.includes(c.cfg)) throw new UserError(`--cfg ${c.cfg} is not one of this train.py's configurations: ${cfgChoices.join(', ')}.`);

  const args: string[] = [];
  const omitted: string[] = [];
  /** Adds `--flag=value` when train.py declares the flag; otherwise notes it (required: throws). */
  const add = (flag: string, value: string | number | boolean, why?: string) => {
    const text = typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
    if (has(flag)) args.push(`${flag}=${text}`);
    else omitted.push(`${flag}=${text}${why ? ` (${why})` : ''}`);
  };
  add('--outdir', o.outdir);
  add('--data', c.data);
  add('--cfg', c.cfg);
  add('--gpus', c.gpus);
  if (c.batch > 0) add('--batch', c.batch);
  if (c.kimg > 0) add('--kimg', c.kimg);
  if (c.snap > 0) add('--snap', c.snap);
  add('--metrics', c.metrics.replace(/\s+/g, '') || 'none');
  add('--seed', c.seed);
  add('--mirror', c.mirror);
  // Left out when 'ada' (train.py's default): given explicitly, train.py adds "-ada" to the run folder's name.
  if (c.aug !== 'ada') add('--aug', c.aug);
  if (c.resume) add('--resume', c.resume);
  if (c.fp32) add('--fp32', true);
  // GGDR's train.py never sets G_kwargs without --reg_type, so it is always passed where it exists.
  if (has('--reg_type')) args.push(`--reg_type=${c.ggdr ? 'ggdr' : 'none'}`);
  if (c.ggdr && c.ggdrRes > 0) add('--ggdr_res', c.ggdrRes);
  args.push(...checkExtraArgs(o.extraArgs ?? [], o.help, where));
  return { args, omitted };
}

/** Checks ganInspector.officialTrainer.extraArgs: every `--flag` must be one train.py declares. */
export function checkExtraArgs(extra: string[], help: TrainHelp, where = 'train.py'): string[] {
  const unknown: string[] = [];
  for (const a of extra) {
    if (typeof a !== 'string') throw new UserError('ganInspector.officialTrainer.extraArgs must be a list of strings, e.g. ["--workers=1"].');
    const m = /^(--[A-Za-z0-9][\w-]*)/.exec(a);
    if (m && !help.options.has(m[1])) unknown.push(m[1]);
  }
  if (unknown.length) {
    throw new UserError(`ganInspector.officialTrainer.extraArgs has options ${where} does not declare: ${unknown.join(', ')}.`, `Its --help lists: ${[...help.options.keys()].join(' ')}.`);
  }
  return [...extra];
}

/** The command line as a user would paste it into a shell: `cd REPO && PYTHON train.py ARGS`. */
export function commandLine(python: string, repo: string, args: string[], env: Record<string, string> = {}): string {
  const envText = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
  return `cd ${shellQuote(repo)} && ${envText ? `${envText} ` : ''}${shellQuote(python)} train.py ${args.map(shellQuote).join(' ')}`;
}

/** The Python exception of a traceback and the lines that lead to it (the last `n` non-empty lines). */
export function tracebackTail(lines: string[], n = 6): { exception?: string; tail: string[] } {
  const clean = lines.map((l) => l.replace(/\s+$/, '')).filter((l) => l.trim());
  let start = -1;
  for (let i = clean.length - 1; i >= 0; i--) if (/^Traceback \(most recent call last\):/.test(clean[i].trim())) { start = i; break; }
  if (start < 0) return { tail: clean.slice(-n) };
  const tb = clean.slice(start);
  // The exception line: the last line that does not start with whitespace after the traceback header.
  let exception: string | undefined;
  for (let i = tb.length - 1; i > 0; i--) if (!/^\s/.test(tb[i])) { exception = tb[i]; break; }
  return { exception, tail: tb.slice(-n) };
}

/** "00012-mnist32-cifar-kimg1-batch16" from train.py's `Output directory:   …` line; undefined otherwise. */
export function outputDirFromLine(line: string): string | undefined {
  const m = /^Output directory:\s+(.+?)\s*$/.exec(line);
  return m ? m[1] : undefined;
}
