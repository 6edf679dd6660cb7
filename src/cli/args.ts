/**
 * Command-line flags → TrainingOverrides. Kept apart from main.ts so the extension can show the
 * equivalent command line of a run and tests can check the mapping.
 */
import type { BackendName, ModelConfig, PresetName, TrainingOverrides } from '../core/config/options';
import { UserError } from '../core/errors';
import { errorText } from '../core/runs/fsErrors';

export interface ParsedArgs {
  command: string;
  flags: Map<string, string | true>;
  positional: string[];
}

/** `cmd --a 1 --b=2 --flag pos` → flags {a:'1', b:'2', flag:true}. A value starting with '--' is a flag. */
export function parseArgv(argv: string[]): ParsedArgs {
  const [command = 'help', ...rest] = argv;
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (i + 1 < rest.length && !rest[i + 1].startsWith('--')) flags.set(a.slice(2), rest[++i]);
      else flags.set(a.slice(2), true);
    } else positional.push(a);
  }
  return { command, flags, positional };
}

/**
 * Prints a failed command's error the terminal way and returns its exit code: a person's message
 * (UserError, disk full, read-only, …) as "Error: …" and 2; anything else is a bug: its stack and 1.
 */
export function reportCliError(e: unknown, err: (s: string) => void): number {
  const t = errorText(e);
  err(t.userError ? `Error: ${t.message}\n` : `Internal error: ${t.message}\n`);
  return t.userError ? 2 : 1;
}

export class FlagReader {
  private readonly used = new Set<string>();
  constructor(private readonly flags: Map<string, string | true>) {}

  has(name: string): boolean {
    this.used.add(name);
    return this.flags.has(name);
  }

  str(name: string): string | undefined {
    this.used.add(name);
    const v = this.flags.get(name);
    if (v === true) throw new UserError(`--${name} needs a value.`);
    return v;
  }

  num(name: string, opts: { int?: boolean; min?: number } = {}): number | undefined {
    const s = this.str(name);
    if (s === undefined) return undefined;
    const v = Number(s);
    if (!Number.isFinite(v) || (opts.int && !Number.isInteger(v)) || (opts.min !== undefined && v < opts.min)) {
      throw new UserError(`--${name} ${s} is not a valid ${opts.int ? 'integer' : 'number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}.`);
    }
    return v;
  }

  bool(name: string): boolean | undefined {
    this.used.add(name);
    this.used.add(`no-${name}`);
    if (this.flags.has(`no-${name}`)) return false;
    const v = this.flags.get(name);
    if (v === undefined) return undefined;
    if (v === true || v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new UserError(`--${name} takes no value (or true/false), got '${v}'.`);
  }

  /** Throws on flags nobody asked about (typos must not be silently ignored). */
  rejectUnknown(command: string): void {
    const unknown = [...this.flags.keys()].filter((k) => !this.used.has(k));
    if (unknown.length) throw new UserError(`Unknown option${unknown.length > 1 ? 's' : ''} for '${command}': ${unknown.map((u) => '--' + u).join(', ')}.`, `See 'gan-inspector ${command} --help'.`);
  }
}

/** How each model field is set from the command line; every field of ModelConfig has one (tested). */
export const MODEL_FLAGS: Record<keyof ModelConfig, { flag: string; int?: boolean; min?: number; help: string }> = {
  resolution: { flag: 'resolution', int: true, help: 'image size in px (power of two, 8–1024)' },
  channels: { flag: 'channels', int: true, help: '1 (grayscale) or 3 (RGB)' },
  zDim: { flag: 'z-dim', int: true, min: 1, help: 'latent z size' },
  wDim: { flag: 'w-dim', int: true, min: 1, help: 'intermediate latent w size' },
  mappingLayers: { flag: 'map', int: true, min: 1, help: 'depth of the mapping MLP' },
  mappingLrMul: { flag: 'mapping-lr-mul', min: 0, help: 'learning-rate multiplier of the mapping MLP (0.01)' },
  channelBase: { flag: 'channel-base', int: true, min: 1, help: 'channels at resolution r = min(base / r, max)' },
  channelMax: { flag: 'channel-max', int: true, min: 1, help: 'cap on channels per layer' },
  mbstdGroup: { flag: 'mbstd-group', int: true, min: 1, help: 'minibatch-stddev group size (clamped to the batch)' },
  batch: { flag: 'batch', int: true, min: 1, help: 'images per step' },
  glr: { flag: 'glr', min: 0, help: 'generator learning rate' },
  dlr: { flag: 'dlr', min: 0, help: 'discriminator learning rate' },
  r1Gamma: { flag: 'gamma', min: 0, help: 'R1 weight γ (0 disables R1)' },
  r1Interval: { flag: 'r1-interval', int: true, min: 0, help: 'lazy R1 interval in D steps (16; 0 disables R1)' },
  emaKimg: { flag: 'ema-kimg', min: 0, help: 'half-life of G_ema in kimg' },
  emaRampup: { flag: 'ema-rampup', min: 0, help: 'G_ema half-life ramp-up as a fraction of progress (0 = none)' },
  kimgPerTick: { flag: 'kimg-per-tick', min: 0, help: 'kimg between ticks (stats line, status)' },
  snapshotTicks: { flag: 'snapshot-ticks', int: true, min: 1, help: 'ticks between snapshots and sample grids' },
};

/** Reads the train flags into overrides (unset flags stay undefined so presets apply). */
export function trainOverridesFromFlags(f: FlagReader): TrainingOverrides {
  const o: TrainingOverrides = { model: {}, ggdr: {}, augment: {} };
  o.preset = f.str('preset') as PresetName | undefined;
  o.data = f.str('data');
  o.kimg = f.num('kimg', { min: 0 });
  o.outdir = f.str('outdir');
  o.seed = f.num('seed', { int: true, min: 0 });
  o.backend = f.str('backend') as BackendName | undefined;
  o.desc = f.str('desc');
  o.maxImages = f.num('max-images', { int: true, min: 0 });
  o.datasetXflip = f.bool('mirror');
  o.gridSize = f.num('grid', { int: true, min: 1 });
  const metrics = f.str('metrics');
  if (metrics !== undefined) o.metrics = metrics === 'none' ? [] : metrics.split(',').map((s) => s.trim()).filter(Boolean);
  o.metricsKimg = f.num('metrics-kimg', { min: 0 });
  o.workers = f.num('workers', { int: true, min: 0 });
  o.ggdr!.enabled = f.bool('ggdr');
  o.ggdr!.weight = f.num('ggdr-weight', { min: 0 });
  o.ggdr!.res = f.num('ggdr-res', { int: true, min: 4 });
  o.augment!.xflip = f.bool('aug-xflip');
  o.augment!.translate = f.num('aug-translate', { int: true, min: 0 });
  const m = o.model as Record<keyof ModelConfig, number | undefined>;
  for (const [field, spec] of Object.entries(MODEL_FLAGS) as Array<[keyof ModelConfig, (typeof MODEL_FLAGS)[keyof ModelConfig]]>) {
    m[field] = f.num(spec.flag, { int: spec.int, min: spec.min });
  }
  return prune(o);
}

/** Removes undefined fields (so spreading overrides never erases preset values). */
export function prune<T extends object>(o: T): T {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) delete (o as Record<string, unknown>)[k];
    else if (v && typeof v === 'object' && !Array.isArray(v)) prune(v as object);
  }
  return o;
}

const modelHelp = (Object.values(MODEL_FLAGS))
  .map((spec) => `  ${`--${spec.flag} ${spec.int ? 'N' : 'X'}`.padEnd(24)}${spec.help}`)
  .join('\n');

export const TRAIN_HELP = `Usage: gan-inspector train [options]

Trains a StyleGAN2-style GAN (GGDR on by default) and writes a run folder <outdir>/<id>-<desc>/.

General
  --data mnist|PATH       embedded MNIST (default), an image folder, or a StyleGAN2-ADA dataset zip
  --preset NAME           tiny | mnist32 (default) | small64
  --kimg N                training length in thousands of real images (preset default)
  --outdir DIR            parent folder of runs (default: runs)
  --seed N                global seed (default 0)
  --backend NAME          auto | tensorflow | webgpu | wasm | cpu (default auto)
  --workers N             data-parallel worker threads, each with its own backend and share of the batch
                          (default 0 = one per core, capped by batch / mbstd group; 1 = no threads; wasm/cpu only)
  --resume RUN_DIR        continue a stopped/failed run from its latest good snapshot (with its own options)
  --dry-run               print the resolved options (with --resume: the run's) and exit
  --desc TEXT             extra text for the run folder name
  --grid N                samples per side of the fakes grid (preset default)
  --metrics LIST          metrics at snapshots, e.g. fid2k_lenet,kid2k_lenet,modes2k_lenet, or none (preset default);
                          modes2k_lenet = mode coverage (classes covered, largest share, KL), for --data mnist only
  --metrics-kimg N        compute metrics every N kimg (and at the end); 0 = at every snapshot
GGDR
  --ggdr / --no-ggdr      enable (default) or disable the GGDR decoder loss
  --ggdr-weight X         λ (default 10)
  --ggdr-res N            decoder/feature resolution (default resolution/4)
Dataset and augmentation
  --max-images N          use at most N images
  --mirror                dataset x-flip doubling
  --aug-xflip             random x-flip of D inputs (and GGDR targets)
  --aug-translate PX      random integer translation of D inputs (with GGDR: a multiple of resolution/ggdr-res)
Model (override any preset field)
${modelHelp}
`;
