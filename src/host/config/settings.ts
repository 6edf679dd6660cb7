/**
 * The extension's settings and named configurations turned into TrainingOverrides. No vscode imports:
 * the host reads the raw values and passes them here, so this is unit-tested in plain Node.
 */
import * as path from 'node:path';
import { BACKEND_NAMES, PRESET_NAMES, PRESETS, defaultGgdrRes, type BackendName, type PresetName, type TrainingOverrides } from '../../core/config/options';
import { UserError } from '../../core/errors';
import { isObj } from '../../shared/protocol/schema';

/** The `ganInspector.*` settings, already typed (see readSettings in the host). */
export interface GanInspectorSettings {
  runsRoots: string[];
  defaultPreset: PresetName;
  backend: BackendName;
  dataset: string;
  /** 0 = preset default. */
  kimg: number;
  seed: number;
  ggdr: { enabled: boolean; weight: number; /** 0 = preset default */ res: number };
  outdir: string;
  /** Data-parallel worker threads; 0 = auto (one per core, capped by batch / mbstd group). */
  workers: number;
  /** Inference threads the checkpoint viewer, segmentation and metrics render on; 0 = one per core (wasm/cpu), 1 = none. */
  inferenceWorkers: number;
  configurations: Record<string, TrainingOverrides>;
}

/** The answers of the Train… flow (also what "Train with Current Settings" reuses). */
export interface TrainChoices {
  /** Named configuration the answers start from, if any. */
  configuration?: string;
  /** 'mnist' or a path (absolute, or relative to the workspace folder). */
  data: string;
  preset: PresetName;
  ggdr: { enabled: boolean; weight: number; /** 0 = preset default */ res: number };
  /** 0 = preset default. */
  kimg: number;
  seed: number;
  backend: BackendName;
  /** Data-parallel worker threads; 0 = auto. Absent in choices remembered by older versions. */
  workers?: number;
}

export const DEFAULT_SETTINGS: GanInspectorSettings = {
  runsRoots: ['runs', 'training-runs'],
  defaultPreset: 'mnist32',
  backend: 'auto',
  dataset: 'mnist',
  kimg: 0,
  seed: 0,
  ggdr: { enabled: true, weight: 10, res: 0 },
  outdir: 'runs',
  workers: 0,
  inferenceWorkers: 0,
  configurations: {},
};

/** Coerces raw setting values (user-edited JSON) to typed settings; bad values fall back to defaults and are listed. */
export function normalizeSettings(get: (key: string) => unknown): { settings: GanInspectorSettings; problems: string[] } {
  const problems: string[] = [];
  const d = DEFAULT_SETTINGS;
  const pick = <T>(key: string, ok: (v: unknown) => v is T, def: T, hint: string): T => {
    const v = get(key);
    if (v === undefined || v === null) return def;
    if (ok(v)) return v;
    problems.push(`ganInspector.${key}: ${JSON.stringify(v)} is not valid (${hint}); using ${JSON.stringify(def)}.`);
    return def;
  };
  const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const isNonNeg = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const settings: GanInspectorSettings = {
    runsRoots: pick('runsRoots', (v): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.trim() !== ''), d.runsRoots, 'a list of folder paths'),
    defaultPreset: pick('defaultPreset', (v): v is PresetName => PRESET_NAMES.includes(v as PresetName), d.defaultPreset, PRESET_NAMES.join('|')),
    backend: pick('backend', (v): v is BackendName => BACKEND_NAMES.includes(v as BackendName), d.backend, BACKEND_NAMES.join('|')),
    dataset: pick('dataset', (v): v is string => typeof v === 'string' && v.trim() !== '', d.dataset, "'mnist' or a path"),
    kimg: pick('kimg', isNonNeg, d.kimg, 'a number ≥ 0; 0 = preset default'),
    seed: pick('seed', isNonNegInt, d.seed, 'an integer ≥ 0'),
    ggdr: {
      enabled: pick('ggdr.enabled', (v): v is boolean => typeof v === 'boolean', d.ggdr.enabled, 'true or false'),
      weight: pick('ggdr.weight', isNonNeg, d.ggdr.weight, 'a number ≥ 0'),
      res: pick('ggdr.res', (v): v is number => v === 0 || isPow2(v), d.ggdr.res, '0 or a power of two'),
    },
    outdir: pick('outdir', (v): v is string => typeof v === 'string' && v.trim() !== '', d.outdir, 'a folder path'),
    workers: pick('workers', isNonNegInt, d.workers, 'an integer ≥ 0; 0 = one per core'),
    inferenceWorkers: pick('inferenceWorkers', isNonNegInt, d.inferenceWorkers, 'an integer ≥ 0; 0 = one per core'),
    configurations: {},
  };
  try {
    settings.configurations = parseConfigurations(get('configurations') ?? {}, 'setting ganInspector.configurations');
  } catch (e) {
    problems.push(e instanceof Error ? e.message : String(e));
  }
  return { settings, problems };
}

export function isPow2(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && (v & (v - 1)) === 0;
}

const TOP_KEYS: Record<keyof TrainingOverrides, 'string' | 'number' | 'boolean' | 'object' | 'string[]'> = {
  preset: 'string', data: 'string', datasetXflip: 'boolean', maxImages: 'number', kimg: 'number', seed: 'number',
  backend: 'string', outdir: 'string', desc: 'string', model: 'object', ggdr: 'object', augment: 'object',
  gridSize: 'number', metrics: 'string[]', metricsKimg: 'number', workers: 'number',
};
const NESTED_KEYS: Record<'model' | 'ggdr' | 'augment', Record<string, 'number' | 'boolean'>> = {
  model: Object.fromEntries(Object.keys(PRESETS.tiny.model).map((k) => [k, 'number'])),
  ggdr: { enabled: 'boolean', weight: 'number', res: 'number' },
  augment: { xflip: 'boolean', translate: 'number' },
};

function typeOk(v: unknown, t: string): boolean {
  if (t === 'string[]') return Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (t === 'object') return isObj(v);
  if (t === 'number') return typeof v === 'number' && Number.isFinite(v);
  return typeof v === t;
}

/** Checks the shape of one override set (names and types; values are checked by resolveOptions). */
export function parseOverrides(raw: unknown, where: string): TrainingOverrides {
  if (!isObj(raw)) throw new UserError(`${where} must be an object of training options.`, 'Example: {"preset": "mnist32", "kimg": 8, "ggdr": {"weight": 5}}');
  for (const [k, v] of Object.entries(raw)) {
    const t = (TOP_KEYS as Record<string, string | undefined>)[k];
    if (!t) throw new UserError(`${where}: unknown option '${k}'.`, `Known options: ${Object.keys(TOP_KEYS).join(', ')}.`);
    if (!typeOk(v, t)) throw new UserError(`${where}: option '${k}' must be ${t === 'string[]' ? 'a list of strings' : `a ${t}`}, not ${JSON.stringify(v)}.`);
    if (k === 'preset' && !PRESET_NAMES.includes(v as PresetName)) throw new UserError(`${where}: unknown preset '${String(v)}'.`, `Use one of: ${PRESET_NAMES.join(', ')}.`);
    if (k === 'backend' && !BACKEND_NAMES.includes(v as BackendName)) throw new UserError(`${where}: unknown backend '${String(v)}'.`, `Use one of: ${BACKEND_NAMES.join(', ')}.`);
    if (k === 'model' || k === 'ggdr' || k === 'augment') {
      for (const [nk, nv] of Object.entries(v as Record<string, unknown>)) {
        const nt = NESTED_KEYS[k][nk];
        if (!nt) throw new UserError(`${where}: unknown option '${k}.${nk}'.`, `Known ${k} options: ${Object.keys(NESTED_KEYS[k]).join(', ')}.`);
        if (!typeOk(nv, nt)) throw new UserError(`${where}: option '${k}.${nk}' must be a ${nt}, not ${JSON.stringify(nv)}.`);
      }
    }
  }
  return raw as TrainingOverrides;
}

/** `{name: overrides}` from the setting or from gan-inspector.json's "configurations". */
export function parseConfigurations(raw: unknown, where: string): Record<string, TrainingOverrides> {
  if (!isObj(raw)) throw new UserError(`${where} must be an object mapping configuration names to training options.`);
  const out: Record<string, TrainingOverrides> = {};
  for (const [name, v] of Object.entries(raw)) out[name] = parseOverrides(v, `${where} → "${name}"`);
  return out;
}

/** gan-inspector.json at the workspace root: `{"configurations": {name: overrides}}`. */
export function parseWorkspaceConfigFile(text: string, file: string): Record<string, TrainingOverrides> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, 'Fix the file or delete it.');
  }
  if (!isObj(v)) throw new UserError(`${file} must hold a JSON object like {"configurations": {"name": {…}}}.`);
  for (const k of Object.keys(v)) {
    if (k !== 'configurations' && k !== '$schema') throw new UserError(`${file}: unknown key '${k}'.`, 'Only "configurations" is read.');
  }
  return v.configurations === undefined ? {} : parseConfigurations(v.configurations, `${file} → configurations`);
}

/** Default answers: the settings, with a named configuration's values on top. */
export function choicesFromSettings(s: GanInspectorSettings, configuration?: string, configs: Record<string, TrainingOverrides> = s.configurations): TrainChoices {
  const c = configuration ? configs[configuration] : undefined;
  if (configuration && !c) throw new UserError(`Unknown configuration '${configuration}'.`, `Known: ${Object.keys(configs).join(', ') || '(none)'}.`);
  return {
    configuration,
    data: c?.data ?? s.dataset,
    preset: c?.preset ?? s.defaultPreset,
    ggdr: {
      enabled: c?.ggdr?.enabled ?? s.ggdr.enabled,
      weight: c?.ggdr?.weight ?? s.ggdr.weight,
      res: c?.ggdr?.res ?? s.ggdr.res,
    },
    kimg: c?.kimg ?? s.kimg,
    seed: c?.seed ?? s.seed,
    backend: c?.backend ?? s.backend,
    workers: c?.workers ?? s.workers,
  };
}

/** Guard for choices remembered in workspaceState (older versions or hand edits may not fit). */
export function isTrainChoices(v: unknown): v is TrainChoices {
  if (!isObj(v) || !isObj(v.ggdr)) return false;
  return (
    (v.configuration === undefined || typeof v.configuration === 'string') &&
    typeof v.data === 'string' && PRESET_NAMES.includes(v.preset as PresetName) &&
    typeof v.ggdr.enabled === 'boolean' && typeof v.ggdr.weight === 'number' && typeof v.ggdr.res === 'number' &&
    typeof v.kimg === 'number' && typeof v.seed === 'number' && BACKEND_NAMES.includes(v.backend as BackendName) &&
    (v.workers === undefined || (typeof v.workers === 'number' && Number.isInteger(v.workers) && v.workers >= 0))
  );
}

/**
 * Choices (+ the configuration they started from) → overrides for the worker. Paths become absolute
 * against `baseDir` (the workspace folder) so the worker's cwd does not matter.
 */
export function buildOverrides(choices: TrainChoices, opts: { outdir: string; baseDir?: string; configurations?: Record<string, TrainingOverrides> }): TrainingOverrides {
  const base = choices.configuration ? opts.configurations?.[choices.configuration] : undefined;
  if (choices.configuration && !base) throw new UserError(`Unknown configuration '${choices.configuration}'.`, 'It was removed from the settings or gan-inspector.json; run Train… again.');
  const abs = (p: string, what: string) => {
    if (path.isAbsolute(p)) return path.normalize(p);
    if (!opts.baseDir) throw new UserError(`The ${what} '${p}' is relative, but no workspace folder is open.`, 'Open a folder, or use an absolute path.');
    return path.resolve(opts.baseDir, p);
  };
  const o: TrainingOverrides = structuredClone(base ?? {});
  o.preset = choices.preset;
  o.data = choices.data === 'mnist' ? 'mnist' : abs(choices.data, 'dataset path');
  o.outdir = abs(base?.outdir ?? opts.outdir, 'output folder');
  o.seed = choices.seed;
  o.backend = choices.backend;
  // 0 means "default": the configuration's value when it has one, else the preset's (resolveOptions).
  if (choices.kimg > 0) o.kimg = choices.kimg;
  o.ggdr = { ...(o.ggdr ?? {}), enabled: choices.ggdr.enabled, weight: choices.ggdr.weight };
  if (choices.ggdr.res > 0) o.ggdr.res = choices.ggdr.res;
  if (choices.workers) o.workers = choices.workers; // 0 / absent: the configuration's value, else auto
  return o;
}

/** The folders the Runs view lists: every root (relative ones under each workspace folder) plus the output folder; deduplicated. */
export function resolveRunsRoots(workspaceDirs: string[], roots: string[], outdir: string): string[] {
  const out: string[] = [];
  const add = (p: string) => {
    const n = path.normalize(p);
    if (!out.includes(n)) out.push(n);
  };
  for (const r of [...roots, outdir]) {
    if (path.isAbsolute(r)) add(r);
    else for (const w of workspaceDirs) add(path.resolve(w, r));
  }
  return out;
}

/** Validates a typed number (min bound; 0 allowed as "default" when allowZero); returns an error message or undefined. */
export function validateNumber(s: string, opts: { integer?: boolean; min?: number; allowZero?: boolean }): string | undefined {
  if (s === '') return 'Enter a number.';
  const n = Number(s);
  if (!Number.isFinite(n)) return `'${s}' is not a number.`;
  if (opts.integer && !Number.isInteger(n)) return 'Enter a whole number.';
  if (n === 0 && opts.allowZero) return undefined;
  if (opts.min !== undefined && n < opts.min) return `Enter a number ≥ ${opts.min}${opts.allowZero ? ' (or 0 for the default)' : ''}.`;
  return undefined;
}

/** GGDR resolution: 0 (default) or a power of two between 4 and the image resolution. */
export function validateGgdrRes(s: string, resolution: number, defaultRes = defaultGgdrRes(resolution)): string | undefined {
  const base = validateNumber(s, { integer: true, min: 0 });
  if (base) return base;
  const n = Number(s);
  if (n === 0) return undefined;
  if (!isPow2(n) || n < 4 || n > resolution) return `Use 0 (default ${defaultRes}) or a power of two between 4 and ${resolution}.`;
  return undefined;
}
