/**
 * The GGDR A/B experiment as data: which runs to launch (one GGDR and one baseline arm per seed, the
 * same in everything else), and the experiment record written to `<runs root>/experiments/`. Pure
 * planning plus the record's guard and atomic writer; no vscode.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { resolveOptions, type BackendName, type PresetName, type TrainingOptions, type TrainingOverrides } from '../../core/config/options';
import { UserError } from '../../core/errors';
import { flattenOptions } from '../../core/runs/optionDiff';
import { writeJsonAtomic } from '../../core/runs/fsAtomic';
import { parseSeedSpec } from '../../shared/protocol/inference';
import { isObj } from '../../shared/protocol/schema';

/** Metrics every arm computes at each snapshot (LeNet features: no download). */
export const DEFAULT_AB_METRICS: readonly string[] = ['fid2k_lenet', 'kid2k_lenet'];
/** Most seeds per arm (each seed is two training runs). */
export const MAX_AB_SEEDS = 8;
export const EXPERIMENTS_DIR = 'experiments';

export type AbArm = 'ggdr' | 'baseline';

/** What the Run GGDR Experiment flow asks. */
export interface AbChoices {
  /** 'mnist' or an absolute path. */
  data: string;
  preset: PresetName;
  /** 0 = the preset's default. */
  kimg: number;
  seeds: number[];
  backend: BackendName;
  /** Absolute parent folder of the run folders (the experiment record goes to <outdir>/experiments/). */
  outdir: string;
  /** Metrics computed at each snapshot; default DEFAULT_AB_METRICS. */
  metrics?: string[];
  /** GGDR settings of the GGDR arm (defaults: λ = 10, res = preset default). */
  ggdrWeight?: number;
  ggdrRes?: number;
  /** Runs trained at the same time (1 = one after another). */
  concurrency: 1 | 2;
}

export interface AbRunPlan {
  arm: AbArm;
  seed: number;
  overrides: TrainingOverrides;
}

export interface AbPlan {
  /** "<stamp>-ggdr-ab" (also the record's file name without .json). */
  id: string;
  /** Absolute path of the experiment record. */
  recordFile: string;
  /** Run-folder suffix shared by every run of the experiment. */
  desc: string;
  choices: AbChoices;
  /** In launch order: per seed the GGDR arm, then the baseline. */
  runs: AbRunPlan[];
}

/** "20250131-140509" (local time) for ids and file names. */
export function experimentStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Parses the seeds answer ("0,1", "0-3"); throws UserError on bad input or more than MAX_AB_SEEDS seeds. */
export function parseAbSeeds(text: string): number[] {
  const r = parseSeedSpec(text, MAX_AB_SEEDS);
  if ('error' in r) throw new UserError(`Seeds: ${r.error}`, `Enter up to ${MAX_AB_SEEDS} seeds, e.g. 0,1 or 0-3.`);
  return r.seeds;
}

/** Validation message for the seeds input box (undefined = fine). */
export function validateAbSeeds(text: string): string | undefined {
  const r = parseSeedSpec(text, MAX_AB_SEEDS);
  return 'error' in r ? r.error : undefined;
}

/**
 * The runs of a GGDR A/B experiment: for every seed a GGDR arm and a baseline arm whose resolved
 * options differ only in `ggdr.*` (checked). Throws UserError when the choices do not resolve.
 */
export function planGgdrAb(choices: AbChoices, now = new Date()): AbPlan {
  if (!choices.seeds.length) throw new UserError('The experiment needs at least one seed.', 'Enter seeds like 0,1.');
  if (choices.seeds.length > MAX_AB_SEEDS) throw new UserError(`Too many seeds (${choices.seeds.length}).`, `Use at most ${MAX_AB_SEEDS}.`);
  if (new Set(choices.seeds).size !== choices.seeds.length) throw new UserError('Each seed may appear only once.');
  if (!(choices.kimg >= 0) || !Number.isFinite(choices.kimg)) throw new UserError(`Invalid kimg ${choices.kimg}.`, 'Use a positive number of thousands of images, or 0 for the preset default.');
  if (!path.isAbsolute(choices.outdir)) throw new UserError(`The runs folder '${choices.outdir}' must be an absolute path.`);
  const stamp = experimentStamp(now);
  const id = `${stamp}-ggdr-ab`;
  const desc = `ab${stamp}`;
  const metrics = [...(choices.metrics ?? DEFAULT_AB_METRICS)];
  const runs: AbRunPlan[] = [];
  for (const seed of choices.seeds) {
    for (const arm of ['ggdr', 'baseline'] as const) {
      const o: TrainingOverrides = {
        preset: choices.preset,
        data: choices.data,
        seed,
        backend: choices.backend,
        outdir: choices.outdir,
        desc,
        metrics: [...metrics],
        ggdr: { enabled: arm === 'ggdr' },
      };
      if (choices.kimg > 0) o.kimg = choices.kimg;
      // Both arms carry the same GGDR numbers, so the only difference is `enabled`.
      if (choices.ggdrWeight !== undefined) o.ggdr!.weight = choices.ggdrWeight;
      if (choices.ggdrRes !== undefined && choices.ggdrRes > 0) o.ggdr!.res = choices.ggdrRes;
      runs.push({ arm, seed, overrides: o });
    }
  }
  // Resolve every arm now: a bad choice is an error before anything starts, and the arms must differ only in GGDR.
  const resolved = runs.map((r) => resolveOptions(r.overrides));
  for (let i = 0; i < resolved.length; i += 2) {
    const diff = armDifference(resolved[i], resolved[i + 1]);
    if (diff.length !== 1 || diff[0] !== 'ggdr.enabled') {
      throw new UserError(`Internal check failed: the arms of seed ${runs[i].seed} differ in ${diff.join(', ')}.`);
    }
  }
  return { id, recordFile: path.join(choices.outdir, EXPERIMENTS_DIR, `${id}.json`), desc, choices: { ...choices, metrics }, runs };
}

/** Dot paths whose values differ between two resolved option sets. */
export function armDifference(a: TrainingOptions, b: TrainingOptions): string[] {
  const fa = flattenOptions(a);
  const fb = flattenOptions(b);
  return [...new Set([...Object.keys(fa), ...Object.keys(fb)])].filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k])).sort();
}

//#region record

export type AbRunState = 'pending' | 'running' | 'finished' | 'stopped' | 'failed' | 'skipped';
export type AbState = 'running' | 'finished' | 'failed' | 'cancelled';

export interface AbRunRecord {
  arm: AbArm;
  seed: number;
  state: AbRunState;
  runDir: string | null;
  runName: string | null;
  overrides: TrainingOverrides;
  startedAt?: string;
  endedAt?: string;
  /** Wall seconds from process start to exit. */
  wallSec?: number;
  secPerKimg?: number;
  curKimg?: number;
  error?: string;
}

/** `<runs root>/experiments/<stamp>-ggdr-ab.json`. */
export interface AbExperimentRecord {
  format: 'gan-inspector-experiment';
  formatVersion: 1;
  kind: 'ggdr-ab';
  id: string;
  createdAt: string;
  updatedAt: string;
  state: AbState;
  settings: {
    data: string;
    preset: PresetName;
    kimg: number;
    seeds: number[];
    backend: BackendName;
    metrics: string[];
    concurrency: 1 | 2;
    ggdrWeight?: number;
    ggdrRes?: number;
  };
  runs: AbRunRecord[];
  /** Wall seconds of the whole experiment (set when it ends). */
  wallSec?: number;
}

/** A fresh record for a plan (every run pending). */
export function newRecord(plan: AbPlan, now = new Date()): AbExperimentRecord {
  const c = plan.choices;
  const t = now.toISOString();
  return {
    format: 'gan-inspector-experiment',
    formatVersion: 1,
    kind: 'ggdr-ab',
    id: plan.id,
    createdAt: t,
    updatedAt: t,
    state: 'running',
    settings: {
      data: c.data, preset: c.preset, kimg: c.kimg, seeds: [...c.seeds], backend: c.backend, metrics: [...(c.metrics ?? DEFAULT_AB_METRICS)],
      concurrency: c.concurrency, ...(c.ggdrWeight !== undefined ? { ggdrWeight: c.ggdrWeight } : {}), ...(c.ggdrRes !== undefined ? { ggdrRes: c.ggdrRes } : {}),
    },
    runs: plan.runs.map((r) => ({ arm: r.arm, seed: r.seed, state: 'pending', runDir: null, runName: null, overrides: r.overrides })),
  };
}

const RUN_STATES: readonly AbRunState[] = ['pending', 'running', 'finished', 'stopped', 'failed', 'skipped'];

/** Guard for a record read back from disk. */
export function isAbExperimentRecord(v: unknown): v is AbExperimentRecord {
  return (
    isObj(v) && v.format === 'gan-inspector-experiment' && v.formatVersion === 1 && v.kind === 'ggdr-ab' && typeof v.id === 'string' &&
    ['running', 'finished', 'failed', 'cancelled'].includes(v.state as string) && isObj(v.settings) && Array.isArray(v.runs) &&
    v.runs.every((r) => isObj(r) && (r.arm === 'ggdr' || r.arm === 'baseline') && typeof r.seed === 'number' && RUN_STATES.includes(r.state as AbRunState) &&
      (r.runDir === null || typeof r.runDir === 'string'))
  );
}

/** Writes the record atomically (temp file + rename), creating the experiments folder. */
export async function writeRecord(file: string, rec: AbExperimentRecord): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeJsonAtomic(file, { ...rec, updatedAt: new Date().toISOString() });
}

//#endregion
